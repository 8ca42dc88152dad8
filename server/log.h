/*
 * The server's one logging facade.  Each line is
 *
 *     2026-12-03T18:58:30Z info event=server_started key=value ...
 *
 * with a stable event name per call site and key=value fields.  The level
 * is checked before anything is formatted.  Lines go to standard error,
 * or to a file opened with log_open_file.  No caller ever passes a token
 * value, credential or digest: tokens are named by their id.
 * Thread-safe: each line is written with one call.
 */
#ifndef ENRT_LOG_H
#define ENRT_LOG_H

#include <stdbool.h>

#include "error.h"

typedef enum log_level {
	LOG_ERROR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
} log_level;

/* Sets the most detailed level that is written; LOG_INFO by default. */
void log_set_level(log_level level);

/* Parses "error", "warn", "info" or "debug"; false for anything else. */
bool log_parse_level(const char *name, log_level *level);

bool log_enabled(log_level level);

/* "error", "warn", "info" or "debug"; "unknown" for anything else. */
const char *log_level_name(log_level level);

/*
 * Appends every later line to the file at path (created with mode 0600
 * if missing) instead of standard error.  Returns
 * ENRT_FAILED_PRECONDITION with e naming the file when it cannot be
 * opened; the log then stays where it was.
 */
enrt_status log_open_file(const char *path, err *e);

/* Goes back to standard error and closes the file, if one was open. */
void log_close_file(void);

/*
 * Writes one line: the time, the level, event=<event>, then fields, a
 * printf format that the caller writes as "key=%s key=%d ..." (may be
 * NULL).  Values with spaces are the caller's to quote.
 */
void log_write(log_level level, const char *event, const char *fields, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)

/* Skips the formatting when the level is off. */
#define log_at(level, ...)                             \
	do {                                           \
		if (log_enabled(level)) {              \
			log_write(level, __VA_ARGS__); \
		}                                      \
	} while (0)

#endif /* ENRT_LOG_H */
