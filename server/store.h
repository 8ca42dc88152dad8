/*
 * The store: all of enrtd's state, in one LMDB environment.
 *
 * Records are the protobuf messages of proto/enrt.proto, packed.  The
 * store owns the environment and its named databases and maps every
 * LMDB error to an enrt_status once, here; nothing above it sees LMDB.
 *
 * Work happens in transactions.  A write transaction's error is sticky:
 * after the first failure every later step does nothing, and the caller
 * checks once, at store_commit, which then aborts instead.  A read
 * transaction sees one consistent snapshot and never waits for writers.
 * A read transaction may move between threads (the environment is opened
 * with MDB_NOTLS); a write transaction stays on the thread that began it,
 * because LMDB's writer lock belongs to that thread.  Either is used by
 * one thread at a time.
 *
 * Records handed out are unpacked copies that the caller frees with
 * store_free.  Statuses: ENRT_NOT_FOUND for a missing key,
 * ENRT_RESOURCE_EXHAUSTED when the map is full, ENRT_INVALID_ARGUMENT for
 * a cursor this store did not make or a record it cannot key (see the
 * limits below), ENRT_INTERNAL for anything else (and then the cause is
 * logged).  A visitor's record is lent for the call only; a record of
 * store_app_lend or store_user_lend, for the transaction.
 */
#ifndef ENRT_STORE_H
#define ENRT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enrt.h"
#include "enrt.pb-c.h"

#define STORE_DIGEST_LEN     32
#define STORE_CURSOR_MAX     (STORE_KEY_MAX + 1) /* a user id and its 0 */
#define STORE_SCHEMA_VERSION 1
#define STORE_LEND_MAX       8 /* records a read transaction keeps decoded */

/* The files LMDB keeps in a store's directory. */
#define STORE_DATA_FILE "data.mdb"
#define STORE_LOCK_FILE "lock.mdb"

/*
 * Keys: token, app and caller ids are printable ASCII without spaces (so
 * that a cursor can carry one); other keys (owner, user id, app name) are
 * 1 to STORE_KEY_MAX bytes.
 */
#define STORE_TOKEN_ID_MAX  62
#define STORE_APP_ID_MAX    64
#define STORE_CALLER_ID_MAX 64
#define STORE_KEY_MAX       256

typedef struct store store;
typedef struct store_txn store_txn;

typedef Enrt__V1__TokenRecord store_token;
typedef Enrt__V1__App store_app;
typedef Enrt__V1__UserRecord store_user;
typedef Enrt__V1__CallerRecord store_caller;
typedef Enrt__V1__AuditEvent store_event;

typedef struct store_options {
	size_t map_size; /* bytes; 0: 1 GiB */
} store_options;

/*
 * Opens (creating if needed) the environment in the directory dir, which
 * must exist.  Refuses, with ENRT_FAILED_PRECONDITION, a store written by
 * a newer schema version.
 */
enrt_status store_open(
    store **out, const char *dir, const store_options *options);

/* Closes the environment.  No transaction may be open.  Accepts NULL. */
void store_close(store *s);

/*
 * Writes a compacted copy of the environment's data file to fd, from one
 * read snapshot, while other threads and processes go on writing.  The
 * caller fsyncs and closes fd.  store_copy_dir does the same for the
 * environment in dir, opened read-only and closed again, so that a copy
 * can be made beside a server that runs on it.
 */
enrt_status store_copy(store *s, int fd);
enrt_status store_copy_dir(const char *dir, int fd);

/*
 * The bytes of the map in use (pages up to the last one written) and the
 * map's size, for metrics.  Any thread, at any time.
 */
enrt_status store_usage(store *s, uint64_t *used, uint64_t *map_size);

/*
 * Begins a read transaction on the latest commit.  An ended one is kept
 * reset for reuse (at most 32, each holding an LMDB reader slot that
 * pins no snapshot) and renewed here; store_close frees those.
 */
enrt_status store_begin_read(store *s, store_txn **out);
enrt_status store_begin_write(store *s, store_txn **out);

/*
 * Begins a write transaction nested in parent, a write transaction with
 * no error so far, on parent's thread.  Until the child is committed or
 * aborted, parent may not be used.  Committing the child folds its
 * steps into parent, durable only when parent commits; aborting it, or
 * a step of it that fails, undoes the child's steps alone and leaves
 * parent's status as it was.
 */
enrt_status store_begin_nested(store_txn *parent, store_txn **out);

/* The sticky error of a transaction so far: ENRT_OK while none. */
enrt_status store_status(const store_txn *t);

/*
 * Commits and frees t.  When a step had failed, aborts instead and
 * returns that step's status.  A write transaction is durable on disk
 * when this returns ENRT_OK; a nested one, once its outermost parent
 * is.  Read transactions may be committed or
 * aborted alike.
 */
enrt_status store_commit(store_txn *t);

/* Abandons and frees t.  Accepts NULL. */
void store_abort(store_txn *t);

/* Frees any record the store handed out.  Accepts NULL. */
void store_free(void *record);

/* ------------------------------------------------------------------ */
/* Tokens, keyed by the digest of their value                          */

enrt_status store_token_get(
    store_txn *t, const uint8_t digest[STORE_DIGEST_LEN], store_token **out);

/* Finds a token by its public id; digest may be NULL. */
enrt_status store_token_by_id(store_txn *t, const char *id, store_token **out,
    uint8_t digest[STORE_DIGEST_LEN]);

/*
 * Adds a new token and its index entries (by id, by owner when it has
 * one, by app).  ENRT_ALREADY_EXISTS if the digest or id is taken.
 */
void store_token_add(store_txn *t, const uint8_t digest[STORE_DIGEST_LEN],
    const store_token *token);

/* Rewrites an existing token's record; ids, owner, app never change. */
void store_token_update(store_txn *t, const uint8_t digest[STORE_DIGEST_LEN],
    const store_token *token);

/*
 * Removes a token for good: its record, its id, owner and app index
 * entries and its last-used time.  ENRT_NOT_FOUND (sticky) if there is
 * no token with this digest.  Its audit events stay.
 */
void store_token_remove(store_txn *t, const uint8_t digest[STORE_DIGEST_LEN]);

typedef enum store_visit {
	STORE_CONTINUE,
	STORE_STOP, /* stop before this record; it starts the next page */
} store_visit;

typedef store_visit (*store_token_visitor)(
    void *arg, const store_token *token);

/*
 * Visits the tokens of one owner (by_app false) or of one app (by_app
 * true), oldest first, starting at cursor (NULL: the first).  When the
 * visitor answers STORE_STOP, writes into next (STORE_CURSOR_MAX bytes)
 * a cursor that resumes at that record; otherwise next is "".  A cursor
 * stays valid while tokens are added and revoked: tokens that existed
 * when the first page was read are visited once each.
 */
enrt_status store_token_scan(store_txn *t, bool by_app, const char *key,
    const char *cursor, store_token_visitor visit, void *arg, char *next);

typedef store_visit (*store_token_entry_visitor)(void *arg,
    const uint8_t digest[STORE_DIGEST_LEN], const store_token *token);

/*
 * Visits every token in order of digest, starting after the digest
 * after (NULL: from the first), until the visitor answers STORE_STOP
 * (that record counts as visited) or the tokens end.  For sweeps that
 * resume where a page ended; the order means nothing else.
 */
enrt_status store_token_walk(store_txn *t,
    const uint8_t after[STORE_DIGEST_LEN], store_token_entry_visitor visit,
    void *arg);

/* ------------------------------------------------------------------ */
/* Apps, by id, with names unique                                      */

enrt_status store_app_get(store_txn *t, const char *id, store_app **out);

/* ENRT_ALREADY_EXISTS (message names it) if another app has its name. */
void store_app_put(store_txn *t, const store_app *app);

typedef store_visit (*store_app_visitor)(void *arg, const store_app *app);

/* Visits apps in order of id, from cursor (NULL: the first). */
enrt_status store_app_scan(store_txn *t, const char *cursor,
    store_app_visitor visit, void *arg, char *next);

/*
 * Lends the app with this id, or the user, as read transaction t sees
 * it.  The record belongs to t: it stays valid, and the same, until t
 * is committed or aborted, and is never passed to store_free nor
 * changed.  A read transaction keeps what it decodes for its later
 * renewals while no write has committed since (up to STORE_LEND_MAX; one
 * more replaces one not lent since t began, and while every one was,
 * the new record is decoded for this use alone), so repeated lookups
 * skip the decoding.  Only for read transactions: a write
 * transaction's records change under it, so lending from one is a bug,
 * and asserted.
 *
 * Returns ENRT_OK and sets *out; otherwise *out is NULL and the status
 * is t's sticky error if it has one, ENRT_NOT_FOUND for an id that
 * names none, ENRT_RESOURCE_EXHAUSTED when out of memory, ENRT_INTERNAL
 * for a record that does not decode or a failed read.
 */
enrt_status store_app_lend(
    store_txn *t, const char *id, const store_app **out);
enrt_status store_user_lend(
    store_txn *t, const char *id, const store_user **out);

/*
 * How many decoded records read transaction t keeps for its later
 * renewals: at most STORE_LEND_MAX, however many ids were asked for.
 * For tests.
 */
size_t store_lent_kept(const store_txn *t);

/* ------------------------------------------------------------------ */
/* Users, callers, last-used times                                     */

enrt_status store_user_get(store_txn *t, const char *id, store_user **out);
void store_user_put(store_txn *t, const store_user *user);

/* Removes a user record; ENRT_NOT_FOUND (sticky) if there is none. */
void store_user_delete(store_txn *t, const char *id);

typedef store_visit (*store_user_visitor)(void *arg, const store_user *user);

/* Visits users in order of id, from cursor (NULL: the first). */
enrt_status store_user_scan(store_txn *t, const char *cursor,
    store_user_visitor visit, void *arg, char *next);

enrt_status store_caller_get(
    store_txn *t, const uint8_t digest[STORE_DIGEST_LEN], store_caller **out);

/* Adds a caller; ENRT_ALREADY_EXISTS if the digest or id is taken. */
void store_caller_add(store_txn *t, const uint8_t digest[STORE_DIGEST_LEN],
    const store_caller *caller);

/* How many callers exist, revoked ones included. */
enrt_status store_caller_count(store_txn *t, size_t *count);

/*
 * Finds a caller by its public id (an index kept by store_caller_add);
 * digest may be NULL.
 */
enrt_status store_caller_by_id(store_txn *t, const char *id,
    store_caller **out, uint8_t digest[STORE_DIGEST_LEN]);

/* Rewrites an existing caller's record; its id never changes. */
void store_caller_update(store_txn *t, const uint8_t digest[STORE_DIGEST_LEN],
    const store_caller *caller);

typedef store_visit (*store_caller_visitor)(
    void *arg, const store_caller *caller);

/* Visits callers in order of id, from cursor (NULL: the first). */
enrt_status store_caller_scan(store_txn *t, const char *cursor,
    store_caller_visitor visit, void *arg, char *next);

/*
 * Appends an audit event; the store sets its sequence number, one more
 * than the last event's, so that events of one second keep their order.
 */
void store_event_append(store_txn *t, const store_event *event);

/*
 * Whether t holds event itself: ENRT_OK when an event with its time and
 * sequence is there with the same contents, ENRT_NOT_FOUND when not.
 * Sequences are counted per store, so two stores that parted (one of
 * them restored from a backup) can give one number to different events;
 * only the contents tell them apart.
 */
enrt_status store_event_held(store_txn *t, const store_event *event);

typedef store_visit (*store_event_visitor)(
    void *arg, const store_event *event);

/*
 * Visits events in order of (time, sequence), from the first at or after
 * since, or from cursor when it is given.
 */
enrt_status store_event_scan(store_txn *t, int64_t since, const char *cursor,
    store_event_visitor visit, void *arg, char *next);

/* The last-used time of a token; ENRT_NOT_FOUND before its first use. */
enrt_status store_last_used_get(
    store_txn *t, const char *token_id, int64_t *when);

/*
 * Records a use in t, a write transaction with no child open.  A time
 * older than the one stored is ignored, and so is a token that no
 * longer exists (purged since its use was seen), so that a late flush
 * never brings back a row the purge removed.  Many uses written in one
 * transaction cost least in order of token id.
 */
void store_last_used_put(store_txn *t, const char *token_id, int64_t when);

/* The sequence of the audit event appended last; 0 before the first. */
enrt_status store_event_last(store_txn *t, uint64_t *sequence);

/* The message of the sticky error, for a refusal such as a name clash. */
const char *store_message(const store_txn *t);

#endif /* ENRT_STORE_H */
