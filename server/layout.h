/*
 * The paths of a backup, or of a store directory being built, and the
 * file steps that backup.c and restore.c both take: a new directory, a
 * private file written and synced, a name beside a path that nothing
 * else uses, and the removal of what was built when a step fails.
 */
#ifndef ENRT_LAYOUT_H
#define ENRT_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "datadir.h"

#define LAYOUT_STAMP_LEN sizeof("20261204T000000Z")

typedef struct layout {
	char root[DATADIR_PATH_MAX];
	char store[DATADIR_PATH_MAX]; /* root/store, or root for a store */
	char data[DATADIR_PATH_MAX];  /* the store's data file */
} layout;

/* The paths under root: a backup's, or (is_store) a store directory's. */
enrt_status layout_of(const char *root, bool is_store, layout *l, err *e);

/*
 * Removes the files a backup or a store directory may hold, then the
 * directories if they are empty; best effort, and never anything else.
 */
void layout_remove(const layout *l);

/* path with a suffix of its own, beside it: PATH.WHAT-RANDOM. */
enrt_status layout_temp_name(
    const char *path, const char *what, char *out, err *e);

/* A new directory, mode 0700: ENRT_ALREADY_EXISTS if path is taken. */
enrt_status layout_make_dir(const char *path, err *e);

/* A new file, mode 0600; -1 with e set when it cannot be made. */
int layout_create_private(const char *path, err *e);

/* Syncs (when rc is ENRT_OK) and closes fd; returns the first failure. */
enrt_status layout_finish_file(
    int fd, const char *path, enrt_status rc, err *e);

/* Copies the file src into dst, a new private file, synced. */
enrt_status layout_copy_file(const char *src, const char *dst, err *e);

bool layout_exists(const char *path);

/* The size of the file at path; 0 when there is none. */
uint64_t layout_file_size(const char *path);

/* when as UTC in the basic ISO 8601 form, 20261204T000000Z. */
void layout_stamp(int64_t when, char out[LAYOUT_STAMP_LEN]);

#endif /* ENRT_LAYOUT_H */
