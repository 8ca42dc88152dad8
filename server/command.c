/*
 * enrtd backup and enrtd restore: their arguments, and the lines they
 * print.  The work is backup.c's.  Main thread only (getopt).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backup.h"
#include "command.h"
#include "config.h"

typedef struct args {
	const char *data;
	const char *path; /* OUT or BACKUP */
	bool replace;
	bool help;
} args;

static const struct option backup_options[] = {
    {"data", required_argument, NULL, 'd'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const struct option restore_options[] = {
    {"data", required_argument, NULL, 'd'},
    {"replace", no_argument, NULL, 'r'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *f, bool restore)
{
	if (restore) {
		fprintf(f,
		    "usage: enrtd restore [--data DIR] [--replace] BACKUP\n"
		    "  --data DIR   the data directory (default: "
		    "$ENRTD_DATA, else %s)\n"
		    "  --replace    put BACKUP in place of a store DIR "
		    "already holds; that\n"
		    "               store is kept beside it, and its later "
		    "revocations hold\n",
		    CONFIG_DEFAULT_DATA);
		return;
	}
	fprintf(f,
	    "usage: enrtd backup [--data DIR] OUT\n"
	    "  --data DIR   the data directory, served or not (default: "
	    "$ENRTD_DATA,\n"
	    "               else %s)\n"
	    "  OUT          the backup's directory, which must not exist\n",
	    CONFIG_DEFAULT_DATA);
}

static int
bad(const char *what, bool restore)
{
	fprintf(stderr, "enrtd: %s\n", what);
	usage(stderr, restore);
	return 2;
}

static int
parse(int argc, char *argv[], bool restore, args *a)
{
	int opt;

	a->data = getenv("ENRTD_DATA");
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h",
	            restore ? restore_options : backup_options, NULL)) != -1) {
		if (opt == 'd') {
			a->data = optarg;
		} else if (opt == 'r') {
			a->replace = true;
		} else if (opt == 'h') {
			a->help = true;
		} else {
			return bad(opt == ':' ? "a flag needs a value"
			                      : "unknown flag",
			    restore);
		}
	}
	if (a->data == NULL || a->data[0] == '\0') {
		a->data = CONFIG_DEFAULT_DATA;
	}
	if (!a->help && optind != argc - 1) {
		return bad(restore ? "restore takes one BACKUP directory"
		                   : "backup takes one OUT directory",
		    restore);
	}
	a->path = a->help ? NULL : argv[optind];
	return 0;
}

static int
run_backup(const args *a)
{
	backup_info info = {0};
	err e;

	if (backup_write(NULL, a->data, a->path, &info, &e) != ENRT_OK) {
		fprintf(stderr, "enrtd: %s: %s\n", enrt_status_name(e.code),
		    e.message);
		return 1;
	}
	printf("backup of %s written to %s (%llu bytes of store)\n", a->data,
	    a->path, (unsigned long long)info.bytes);
	return 0;
}

static int
run_restore(const args *a)
{
	restore_report r;
	err e;

	if (backup_restore(a->data, a->path, a->replace, &r, &e) != ENRT_OK) {
		fprintf(stderr, "enrtd: %s: %s\n", enrt_status_name(e.code),
		    e.message);
		return 1;
	}
	printf("restored %s into %s: %llu later audit events carried over, "
	       "%llu revocations and %llu user deletions made again",
	    a->path, a->data, (unsigned long long)r.events,
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
	return restore ? run_restore(&a) : run_backup(&a);
}
