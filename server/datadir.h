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

#define DATADIR_KEY_LEN    32
#define DATADIR_PATH_MAX   4096
#define DATADIR_KEY_NAME   "digest.key"
#define DATADIR_CREDENTIAL "admin.credential"
#define DATADIR_STORE      "store"
#define DATADIR_LOCK       "enrtd.lock"

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

/*
 * Reads dir/digest.key without ever creating it: ENRT_NOT_FOUND when
 * there is none, ENRT_FAILED_PRECONDITION for one of another size or
 * one that other users may read.
 */
enrt_status datadir_read_key(
    const char *dir, uint8_t key[DATADIR_KEY_LEN], err *e);

/*
 * Takes the lock of the data directory dir (dir/enrtd.lock, made with
 * mode 0600), which one process holds at a time: enrtd while it serves,
 * enrtd restore while it works.  ENRT_FAILED_PRECONDITION when another
 * process holds it.  *fd is the lock; datadir_unlock or the end of the
 * process releases it.
 */
enrt_status datadir_lock(const char *dir, int *fd, err *e);

/* Releases a lock from datadir_lock.  Accepts -1. */
void datadir_unlock(int fd);

/* Creates the directory path with mode 0700 unless it exists as one. */
enrt_status datadir_make_dir(const char *path, err *e);

/*
 * Copies from/name to to/name, a new file of mode 0600 that replaces
 * nothing, written as every file here is (see datadir.c).  Only regular
 * files of at most 4096 bytes are copied: the key and the credential.
 * ENRT_NOT_FOUND when from has no such file.
 */
enrt_status datadir_copy_file(
    const char *from, const char *to, const char *name, err *e);

/* Writes all len bytes to fd, retrying short writes; path names it. */
enrt_status datadir_write_all(
    int fd, const void *data, size_t len, const char *path, err *e);

/* Makes the entries of the directory path durable (fsync). */
enrt_status datadir_sync(const char *path, err *e);

/* The same for the directory that holds path. */
enrt_status datadir_sync_parent(const char *path, err *e);

/* Joins dir and name into out (DATADIR_PATH_MAX bytes). */
enrt_status datadir_path(const char *dir, const char *name, char *out, err *e);

#endif /* ENRT_DATADIR_H */
