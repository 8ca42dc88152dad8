/*
 * The purge: tokens expired or revoked for longer than the retention
 * period leave the store for good (record, id, owner and app index
 * entries, last-used time); their audit events stay.
 *
 * A sweep walks the tokens a page at a time in read transactions and
 * removes what it found in small write transactions of its own, checking
 * each token again inside them, so that Issue and Revoke never wait
 * behind more than one small batch.  A thread of this module sweeps once
 * when started and then every interval; purge_sweep runs one sweep on
 * the calling thread, at a time the caller chooses.
 */
#ifndef ENRT_PURGE_H
#define ENRT_PURGE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define PURGE_BATCH 64 /* tokens removed per write transaction */

typedef struct purge purge;

typedef struct purge_options {
	int64_t retention_s; /* how long an expired or revoked token stays */
	long interval_ms;    /* between sweeps, at least 10 */
} purge_options;

/*
 * Removes every token that was revoked, or expired, at least
 * retention_s seconds before now; *removed (may be NULL) counts them.
 * On failure the tokens removed by earlier batches stay removed.
 */
enrt_status purge_sweep(
    store *s, int64_t now, int64_t retention_s, size_t *removed);

/* Starts the sweeping thread over s, with the wall clock as now. */
enrt_status purge_start(purge **out, store *s, const purge_options *o);

/* Stops the thread, ending a sweep between batches.  Accepts NULL. */
void purge_stop(purge *p);

#endif /* ENRT_PURGE_H */
