/*
 * The data directory: where enrtd keeps the LMDB environment (store/),
 * the digest key (digest.key) and the bootstrap credential
 * (admin.credential).  The key lives apart from the environment so that
 * a copy of the database alone allows no offline guessing.
 */
#ifndef ENRT_DATADIR_H
#define ENRT_DATADIR_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define DATADIR_KEY_LEN  32
#define DATADIR_PATH_MAX 4096

/*
 * Creates dir (mode 0700) and dir/store if they are missing.  Refuses a
 * path that exists and is not a directory.
 */
enrt_status datadir_prepare(const char *dir, err *e);

/*
 * Reads dir/digest.key, creating it with 32 random bytes and mode 0600
 * when it does not exist.  Refuses a key of another size.
 */
enrt_status datadir_load_key(
    const char *dir, uint8_t key[DATADIR_KEY_LEN], err *e);

/*
 * Writes credential and a newline to dir/admin.credential, mode 0600,
 * replacing no existing file.  The full path goes to path
 * (DATADIR_PATH_MAX bytes).
 */
enrt_status datadir_write_credential(
    const char *dir, const char *credential, char *path, err *e);

/* Joins dir and name into out (DATADIR_PATH_MAX bytes). */
enrt_status datadir_path(const char *dir, const char *name, char *out, err *e);

#endif /* ENRT_DATADIR_H */
