/*
 * enrtd backup and enrtd restore: their arguments, and the lines they
 * print.  The work is backup.c's and restore.c's.  Main thread only
 * (getopt).
 *
 * The data directory is found as the server finds it, by config.c
 * itself: --data, else ENRTD_DATA, else the file of --config or
 * ENRTD_CONFIG, else the default.  A restore also takes the map-size
 * from there, so that the restored store opens as the server opens it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backup.h"
#include "command.h"
#include "config.h"
#include "restore.h"

typedef struct args {
	const char *data;
	const char *config;
	const char *path; /* OUT or BACKUP */
	bool replace;
	bool help;
} args;

static const struct option backup_options[] = {
    {"data", required_argument, NULL, 'd'},
    {"config", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const struct option restore_options[] = {
    {"data", required_argument, NULL, 'd'},
    {"config", required_argument, NULL, 'c'},
    {"replace", no_argument, NULL, 'r'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *f, bool restore)
{
	if (restore) {
		fprintf(f, "usage: enrtd restore [--data DIR] [--config FILE] "
		           "[--replace] BACKUP\n");
	} else {
		fprintf(f, "usage: enrtd backup [--data DIR] [--config FILE] "
		           "OUT\n");
	}
	fprintf(f,
	    "  --data DIR     the data directory (default: $ENRTD_DATA, "
	    "else the\n"
	    "                 data setting of FILE, else %s)\n"
	    "  --config FILE  the server's configuration (default: "
	    "$ENRTD_CONFIG)\n",
	    CONFIG_DEFAULT_DATA);
	if (restore) {
		fprintf(f,
		    "  --replace      put BACKUP in place of a store DIR "
		    "already holds; that\n"
		    "                 store is kept beside it, and its "
		    "revocations hold\n");
	} else {
		fprintf(f, "  OUT            the backup's directory, which "
		           "must not exist\n");
	}
}

static int
bad(bool restore, const char *fmt, const char *what)
{
	fprintf(stderr, "enrtd: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\n");
	usage(stderr, restore);
	return 2;
}

/* A flag given twice is a mistake, not a choice of the last. */
static int
once(const char **field, const char *flag, bool restore)
{
	if (*field != NULL) {
		return bad(restore, "%s: given twice", flag);
	}
	*field = optarg;
	return 0;
}

static int
take_flag(int opt, char *argv[], bool restore, args *a)
{
	switch (opt) {
	case 'd':
		return once(&a->data, "--data", restore);
	case 'c':
		return once(&a->config, "--config", restore);
	case 'r':
		a->replace = true;
		return 0;
	case 'h':
		a->help = true;
		return 0;
	case ':':
		return bad(restore, "%s: needs a value", argv[optind - 1]);
	default:
		return bad(restore, "%s: unknown flag", argv[optind - 1]);
	}
}

static int
parse(int argc, char *argv[], bool restore, args *a)
{
	int opt, rc;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h",
	            restore ? restore_options : backup_options, NULL)) != -1) {
		if ((rc = take_flag(opt, argv, restore, a)) != 0) {
			return rc;
		}
	}
	if (!a->help && optind != argc - 1) {
		return bad(restore, "%s",
		    restore ? "restore takes one BACKUP directory"
		            : "backup takes one OUT directory");
	}
	a->path = a->help ? NULL : argv[optind];
	return 0;
}

/* The server's own settings for what a and the environment give. */
static int
load_settings(const args *a, config *cfg)
{
	char *argv[5] = {"enrtd"};
	int argc = 1;
	err e;

	if (a->config != NULL) {
		argv[argc++] = "--config";
		argv[argc++] = (char *)a->config;
	}
	if (a->data != NULL) {
		argv[argc++] = "--data";
		argv[argc++] = (char *)a->data;
	}
	if (config_load(cfg, argc, argv, &e) != ENRT_OK) {
		fprintf(stderr, "enrtd: %s: %s\n", enrt_status_name(e.code),
		    e.message);
		return 1;
	}
	return 0;
}

static int
failed(const err *e)
{
	fprintf(
	    stderr, "enrtd: %s: %s\n", enrt_status_name(e->code), e->message);
	return 1;
}

static int
run_backup(const args *a, const config *cfg)
{
	backup_info info = {0};
	err e;

	if (backup_write(NULL, cfg->data, a->path, &info, &e) != ENRT_OK) {
		return failed(&e);
	}
	printf("backup of %s written to %s (%llu bytes of store)\n", cfg->data,
	    a->path, (unsigned long long)info.bytes);
	return 0;
}

static int
run_restore(const args *a, const config *cfg)
{
	restore_request req = {.data_dir = cfg->data,
	    .from = a->path,
	    .replace = a->replace,
	    .map_size = (size_t)cfg->map_mib << 20};
	restore_report r;
	err e;

	if (restore_run(&req, &r, &e) != ENRT_OK) {
		return failed(&e);
	}
	printf("restored %s into %s: %llu audit events the backup lacked "
	       "carried over, %llu revocations and %llu user deletions "
	       "made again",
	    a->path, cfg->data, (unsigned long long)r.events,
	    (unsigned long long)r.revoked, (unsigned long long)r.deleted);
	if (r.replaced) {
		printf("; the store it replaced is %s", r.kept);
	}
	printf("\n");
	return 0;
}

bool
command_is(const char *arg)
{
	return strcmp(arg, "backup") == 0 || strcmp(arg, "restore") == 0;
}

int
command_run(int argc, char *argv[])
{
	bool restore = strcmp(argv[0], "restore") == 0;
	config cfg = {0};
	args a = {0};
	int rc;

	if ((rc = parse(argc, argv, restore, &a)) != 0) {
		return rc;
	}
	if (a.help) {
		usage(stdout, restore);
		return 0;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "enrtd: libsodium failed to initialise\n");
		return 1;
	}
	if ((rc = load_settings(&a, &cfg)) == 0) {
		rc = restore ? run_restore(&a, &cfg) : run_backup(&a, &cfg);
	}
	config_free(&cfg);
	return rc;
}
