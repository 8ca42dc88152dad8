/*
 * enrtd's settings: one struct, filled from four sources, each over the
 * one before it:
 *
 *     built-in default < INI file (--config) < ENRTD_* variable < flag
 *
 * Every setting has one name, used as its flag (--NAME), its key in the
 * file's [enrtd] section, and, upper-cased with '-' as '_', its
 * variable (ENRTD_NAME).  server/enrtd.conf.example documents each.
 * Anything unknown or out of its rule is refused with a message that
 * names where it came from (FILE:LINE and key, variable, or flag) and
 * the rule; nothing falls back to a default in silence.
 *
 * listen is a list.  In the file it is one URL per line: the key's own
 * line and indented lines after it, or the key given again; in
 * ENRTD_LISTEN the URLs are separated by commas; as a flag it is
 * repeated.  A source that gives it replaces what the sources below it
 * gave.
 *
 * Runs on the main thread, before any other thread exists.
 */
#ifndef ENRT_CONFIG_H
#define ENRT_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"
#include "log.h"

#define CONFIG_URLS_MAX      16
#define CONFIG_DEFAULT_DATA  "enrt-data"
#define CONFIG_DEFAULT_TCP   "tcp://127.0.0.1:7600"
#define CONFIG_SOCKET_NAME   "enrt.sock"
#define CONFIG_DEFAULT_BATCH 256

/* Where a setting's value came from. */
typedef enum config_source {
	CONFIG_FROM_DEFAULT,
	CONFIG_FROM_FILE,
	CONFIG_FROM_ENV,
	CONFIG_FROM_FLAG,
} config_source;

/* The settings, in the order of the table in config.c. */
typedef enum config_setting {
	CONFIG_DATA,
	CONFIG_LISTEN,
	CONFIG_LOG_LEVEL,
	CONFIG_LOG_FILE,
	CONFIG_FLUSH_INTERVAL,
	CONFIG_MAP_SIZE,
	CONFIG_CONTEXTS,
	CONFIG_COMMIT_BATCH,
	CONFIG_TLS_CERT,
	CONFIG_TLS_KEY,
	CONFIG_INSECURE_TCP,
	CONFIG_HTTP,
	CONFIG_RETENTION_DAYS,
	CONFIG_BACKUP_DIR,
	CONFIG_SETTINGS, /* how many */
} config_setting;

/* What the command line asks for besides serving. */
typedef enum config_action {
	CONFIG_SERVE,
	CONFIG_HELP,
	CONFIG_VERSION,
	CONFIG_PRINT,
} config_action;

/* Every string is malloc'd and owned by the config; NULL when not set. */
typedef struct config {
	char *data;
	char *urls[CONFIG_URLS_MAX]; /* none: the defaults for data */
	size_t n_urls;
	log_level log_level;
	char *log_file; /* NULL: standard error */
	unsigned long flush_s;
	unsigned long map_mib;
	unsigned long contexts;
	unsigned long commit_batch; /* Issues and Revokes per commit, most */
	char *tls_cert;
	char *tls_key;
	bool insecure_tcp;
	char *http; /* HOST:PORT of /healthz and /metrics; NULL: none */
	unsigned long retention_days; /* before expired, revoked tokens go */
	char *backup_dir; /* where Backup writes; NULL: Backup is refused */
	char *file;       /* the INI file read, or NULL */
	config_action action;
	config_source source[CONFIG_SETTINGS];
} config;

/*
 * Fills cfg from the defaults, the file named by --config or
 * ENRTD_CONFIG, the environment and argv (argv[0] is the program).
 * Returns ENRT_OK, or ENRT_INVALID_ARGUMENT with e naming the source, the
 * setting and the rule (for the file "FILE:LINE: KEY: rule"), or
 * ENRT_FAILED_PRECONDITION when the file cannot be read.  cfg must be
 * freed with config_free either way.  Uses getopt_long, so not
 * reentrant.
 */
enrt_status config_load(config *cfg, int argc, char *const argv[], err *e);

/*
 * Writes the effective settings as an INI file that config_load reads
 * back, each with a comment saying where it came from.  No setting
 * holds a secret: files are named, never read.
 */
void config_print(const config *cfg, FILE *f);

/* Writes the flags and what they take. */
void config_usage(FILE *f);

/* Frees what cfg owns and zeroes it.  Accepts NULL. */
void config_free(config *cfg);

#endif /* ENRT_CONFIG_H */
