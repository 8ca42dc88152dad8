/*
 * Backups of a data directory (restore.h puts one back).
 *
 * A backup is a directory:
 *
 *     OUT/store/data.mdb      a compacted copy of the store, one snapshot
 *     OUT/digest.key          the digest key, mode 0600
 *     OUT/admin.credential    the first admin's credential, when the
 *                             data directory still has it, mode 0600
 *
 * The key is part of it because the store's digests are useless without
 * it; a backup is therefore as secret as the data directory itself.
 */
#ifndef ENRT_BACKUP_H
#define ENRT_BACKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

typedef struct backup_info {
	uint64_t bytes; /* of the store's copy */
} backup_info;

/*
 * Writes a backup of the data directory data_dir into out, which must
 * not exist (ENRT_ALREADY_EXISTS) and whose parent directory must
 * (ENRT_FAILED_PRECONDITION).  The store is copied from s, the
 * running server's own, or, when s is NULL, from data_dir's store
 * opened read-only, which is safe beside a server that runs on it.  The
 * backup is made under a temporary name beside out and renamed into
 * place last, so that out is either a whole backup or absent.
 */
enrt_status backup_write(store *s, const char *data_dir, const char *out,
    backup_info *info, err *e);

/*
 * The Backup operation: a backup of the server's data directory into a
 * new directory in r->backup_dir, named by the server.
 */
enrt_status backup_rpc(rules *r, const actor *a,
    const Enrt__V1__BackupRequest *req, Enrt__V1__BackupReply **out, err *e);

#endif /* ENRT_BACKUP_H */
