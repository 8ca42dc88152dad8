/*
 * Last-used times, gathered in memory and written in one transaction per
 * interval, so that Introspect never writes.
 *
 * lastused_touch is called from any request thread; a background thread
 * of this module flushes every interval, and lastused_stop flushes a last
 * time.  A time never goes backwards: the store keeps the later of the
 * stored and the flushed time.
 */
#ifndef ENRT_LASTUSED_H
#define ENRT_LASTUSED_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

typedef struct lastused lastused;

/* Starts the flusher for store s; interval_ms of at least 10. */
enrt_status lastused_start(lastused **out, store *s, int interval_ms);

/* Notes that the token with this id answered active at time when. */
void lastused_touch(lastused *lu, const char *token_id, int64_t when);

/* The newest use not yet flushed, if any. */
bool lastused_pending(lastused *lu, const char *token_id, int64_t *when);

/*
 * Writes every pending use in one transaction now.  On failure the uses
 * stay pending for the next try.
 */
enrt_status lastused_flush(lastused *lu);

/* Stops the flusher, flushes what is pending, and frees.  Accepts NULL. */
void lastused_stop(lastused *lu);

#endif /* ENRT_LASTUSED_H */
