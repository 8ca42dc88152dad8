/*
 * Runs a fuzz harness over the files of its corpus without libFuzzer, so
 * that every build, with any compiler, replays the seeds and every input
 * that once broke a rule.  Each argument is a file or a directory of
 * files; directories are read in name order.  Fails when a harness rule
 * breaks (the harness aborts) or when no input was found at all.
 * Runs on the main thread only.
 */
#define _GNU_SOURCE /* scandir, alphasort */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PATH_MAX_LEN 4096

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;
	int rc = -1;

	if (f == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)size + 1)) != NULL &&
	    fread(buf, 1, (size_t)size, f) == (size_t)size) {
		LLVMFuzzerTestOneInput(buf, (size_t)size);
		rc = 0;
	}
	free(buf);
	fclose(f);
	if (rc != 0) {
		fprintf(stderr, "replay: cannot read %s\n", path);
	}
	return rc;
}

static int
is_entry(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Runs every file of dir; returns how many, or -1 on a failure. */
static long
run_dir(const char *dir)
{
	char path[PATH_MAX_LEN];
	struct dirent **names;
	long count = 0;
	int n = scandir(dir, &names, is_entry, alphasort);

	if (n < 0) {
		fprintf(stderr, "replay: cannot read directory %s\n", dir);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (count >= 0 && run_file(path) == 0) {
			count++;
		} else {
			count = -1;
		}
		free(names[i]);
	}
	free(names);
	return count;
}

static long
run_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: no such file %s\n", path);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		return run_dir(path);
	}
	return run_file(path) == 0 ? 1 : -1;
}

int
main(int argc, char **argv)
{
	long total = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		long n = run_path(argv[i]);

		if (n < 0) {
			return 1;
		}
		total += n;
	}
	if (total == 0) {
		fprintf(stderr, "replay: no input to run\n");
		return 1;
	}
	printf("replay: %ld inputs passed every rule\n", total);
	return 0;
}
