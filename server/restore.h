/*
 * The restore of a backup (backup.h) into a data directory.
 *
 * Tokens issued after the backup are gone then, but what the current
 * store revoked stays revoked: every audit event of the current store
 * that the backup does not hold is copied into the restored store, and
 * the revocations among them (tokens, callers, deleted users) are
 * carried out again.  Whether the backup holds an event is decided by
 * the event itself (its time, sequence and contents), not by comparing
 * sequence numbers, since the current store may itself be a restore of
 * an older backup and count its events from there.
 *
 * What the audit log does not spell out stays as the backup has it: a
 * user disabled or enabled, an app switched off, its policy.
 */
#ifndef ENRT_RESTORE_H
#define ENRT_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datadir.h"

typedef struct restore_request {
	const char *data_dir; /* made when missing */
	const char *from;     /* the backup */
	bool replace;         /* a store data_dir holds may be replaced */
	size_t map_size;      /* the server's; the restored map is no less */
} restore_request;

typedef struct restore_report {
	bool replaced; /* a store was there, and is kept under kept */
	char kept[DATADIR_PATH_MAX];
	uint64_t events;  /* audit events the backup lacked, copied */
	uint64_t revoked; /* tokens and callers revoked again */
	uint64_t deleted; /* users deleted again */
} restore_report;

/*
 * Puts the backup req->from into req->data_dir.  Takes the directory's
 * lock (refused while an enrtd serves it).  A directory that already
 * holds a store is refused unless req->replace; then the current
 * store's revocations are carried into the restored one, and the
 * current store is kept beside it as store.before-restore-TIME-RANDOM.
 * A backup whose digest key differs from the directory's is refused: it
 * belongs to another data directory.  A backup that is none is refused
 * with ENRT_FAILED_PRECONDITION naming it.
 *
 * Nothing in data_dir changes until the restored store is complete
 * (under store.restoring-RANDOM, which only ever holds that copy); then
 * it is renamed store.before-restore-TIME-RANDOM and exchanged with the
 * current store in one rename.  A failure leaves nothing that was not
 * there before.
 */
enrt_status restore_run(
    const restore_request *req, restore_report *report, err *e);

#endif /* ENRT_RESTORE_H */
