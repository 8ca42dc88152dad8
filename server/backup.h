/*
 * Backups of a data directory and their restore.
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
 *
 * Restore puts a backup in place of a data directory's store.  Tokens
 * issued after the backup are gone then, but what the current store
 * revoked after it stays revoked: its audit events newer than the
 * backup are copied into the restored store, and the revocations among
 * them (tokens, callers, deleted users) are carried out again.
 */
#ifndef ENRT_BACKUP_H
#define ENRT_BACKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "datadir.h"
#include "rules.h"

typedef struct backup_info {
	uint64_t bytes; /* of the store's copy */
} backup_info;

/*
 * Writes a backup of the data directory data_dir into out, which must
 * not exist (ENRT_ALREADY_EXISTS).  The store is copied from s, the
 * running server's own, or, when s is NULL, from data_dir's store
 * opened read-only, which is safe beside a server that runs on it.  The
 * backup is made under a temporary name beside out and renamed into
 * place last, so that out is either a whole backup or absent.
 */
enrt_status backup_write(store *s, const char *data_dir, const char *out,
    backup_info *info, err *e);

typedef struct restore_report {
	bool replaced; /* a store was there, and is kept under kept */
	char kept[DATADIR_PATH_MAX];
	uint64_t events;  /* audit events newer than the backup, copied */
	uint64_t revoked; /* tokens and callers revoked again */
	uint64_t deleted; /* users deleted again */
} restore_report;

/*
 * Puts the backup in from into the data directory data_dir, made when
 * missing.  Takes the directory's lock (refused while an enrtd serves
 * it).  A directory that already holds a store is refused unless
 * replace; then the revocations the current store made after the
 * backup are carried into the restored one, and the current store is
 * kept beside it as store.before-restore-TIME.  A backup whose digest
 * key differs from the directory's is refused: it belongs to another
 * data directory.  Nothing in data_dir changes until the restored store
 * is complete; it then takes the place of the old one in one rename.
 */
enrt_status backup_restore(const char *data_dir, const char *from,
    bool replace, restore_report *report, err *e);

/*
 * The Backup operation: a backup of the server's data directory into a
 * new directory in r->backup_dir, named by the server.
 */
enrt_status backup_rpc(rules *r, const actor *a,
    const Enrt__V1__BackupRequest *req, Enrt__V1__BackupReply **out, err *e);

#endif /* ENRT_BACKUP_H */
