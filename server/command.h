/*
 * enrtd's commands besides serving, for operators on the server's
 * machine:
 *
 *     enrtd backup [--data DIR] [--config FILE] OUT
 *     enrtd restore [--data DIR] [--config FILE] [--replace] BACKUP
 *
 * Each runs once on the main thread, writes one line of result to
 * standard output or one of error to standard error, and exits.  DIR is
 * found as the server finds it: --data, else ENRTD_DATA, else the data
 * setting of FILE (--config, else ENRTD_CONFIG), else the default.
 */
#ifndef ENRT_COMMAND_H
#define ENRT_COMMAND_H

#include <stdbool.h>

/* Whether arg (enrtd's first argument) names a command. */
bool command_is(const char *arg);

/*
 * Runs the command argv[0] with its arguments; returns the exit status:
 * 0 done, 1 refused or failed, 2 bad arguments.
 */
int command_run(int argc, char *argv[]);

#endif /* ENRT_COMMAND_H */
