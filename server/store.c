/*
 * The store: enrtd's state in one LMDB environment, one named database
 * per kind of record or index.  This module owns the environment and
 * every LMDB handle; an LMDB return code becomes an enrt_status in
 * map_rc and nowhere else.  Any thread may call it: a read transaction
 * may move between threads, a write transaction stays on the thread that
 * began it.
 *
 *   meta          "schema_version" -> decimal text
 *                 "audit_sequence" -> the last event's, 8 bytes big-endian
 *   tokens        digest -> TokenRecord
 *   token_ids     token id -> digest
 *   owner_tokens  owner, 0, order(created_at), token id -> empty
 *   app_tokens    app id, 0, order(created_at), token id -> empty
 *   apps          app id -> App
 *   app_names     app name -> app id
 *   users         user id -> UserRecord
 *   callers       digest -> CallerRecord
 *   caller_ids    caller id -> digest
 *   last_used     token id -> time, 8 bytes big-endian
 *   audit         order(time), sequence (8 bytes big-endian) -> AuditEvent
 *
 * order() flips the sign bit of a time and writes it big-endian, so that
 * byte order is time order, negative times included.  A token cursor is
 * that order in 16 hex digits, a dot and the token id: the index key of
 * the record it resumes at, spelled in text.  An event cursor spells
 * an audit key the same way: the order, a dot, the sequence in 16 hex
 * digits.
 *
 * The audit sequence is counted in meta, not read from the last audit
 * key: after the clock steps back, the last key is not the event
 * appended last, and its sequence would be handed out twice.
 *
 * Keys may be digests, so no log line or message ever carries one.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "store.h"

#define DEFAULT_MAP_SIZE ((size_t)1 << 30)
#define SCHEMA_KEY       "schema_version"
#define SEQUENCE_KEY     "audit_sequence"
#define ORDER_LEN        8
#define ORDER_HEX        16
#define INDEX_KEY_MAX    (STORE_KEY_MAX + 1 + ORDER_LEN + STORE_TOKEN_ID_MAX)
#define EVENT_KEY_LEN    (2 * ORDER_LEN)
#define EVENT_CURSOR_LEN (2 * ORDER_HEX + 1)
#define READ_POOL_MAX    32 /* well below LMDB's 126 reader slots */

enum db {
	DB_META,
	DB_TOKENS,
	DB_TOKEN_IDS,
	DB_OWNER_TOKENS,
	DB_APP_TOKENS,
	DB_APPS,
	DB_APP_NAMES,
	DB_USERS,
	DB_CALLERS,
	DB_CALLER_IDS,
	DB_LAST_USED,
	DB_AUDIT,
	DB_COUNT
};

static const char *const db_names[DB_COUNT] = {
    [DB_META] = "meta",
    [DB_TOKENS] = "tokens",
    [DB_TOKEN_IDS] = "token_ids",
    [DB_OWNER_TOKENS] = "owner_tokens",
    [DB_APP_TOKENS] = "app_tokens",
    [DB_APPS] = "apps",
    [DB_APP_NAMES] = "app_names",
    [DB_USERS] = "users",
    [DB_CALLERS] = "callers",
    [DB_CALLER_IDS] = "caller_ids",
    [DB_LAST_USED] = "last_used",
    [DB_AUDIT] = "audit",
};

/*
 * Read transactions that ended, kept reset for the next to begin.  With
 * MDB_NOTLS a reset transaction keeps its reader slot, so renewing one
 * takes neither LMDB's reader-table mutex (a process-shared lock that
 * every fresh read transaction takes to find a slot) nor a malloc.  A
 * pool rather than one per thread, because a read transaction may end
 * on another thread than the one that began it, and because the store
 * can then abort every one of them before the environment closes.  The
 * pool holds at most as many as were ever open at once, so it takes no
 * slot that the server's peak load did not already take; a reset
 * transaction pins no snapshot.
 */
typedef struct read_pool {
	pthread_mutex_t mtx;
	store_txn *idle[READ_POOL_MAX]; /* mtx */
	size_t n_idle;                  /* mtx */
} read_pool;

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT]; /* set once by store_open, then read-only */
	read_pool reads;
};

/* A record decoded from a read snapshot and kept to be lent again. */
typedef struct kept_record {
	enum db d;
	size_t key_len;
	char key[STORE_KEY_MAX];
	ProtobufCMessage *m;
	uint64_t use; /* the use of its transaction that lent it last */
} kept_record;

/* A record lent while every kept one was lent in the same use. */
typedef struct spill spill;

struct spill {
	spill *next;
	ProtobufCMessage *m;
};

/*
 * The records a read transaction lent, kept decoded for its later uses.
 * One LMDB transaction id names one committed state, so while the
 * snapshot's id equals the tag, a kept record is exactly what decoding
 * it again would give; a renewal onto another id drops them all.  The
 * cache is bounded, so that made-up ids cannot grow it: a miss replaces
 * a record not lent in the current use, and when every one was, the new
 * record spills to a list freed when the use ends, because a record
 * stays valid until then.  No lock: a transaction is used by one thread
 * at a time, and an idle one in the pool by none.
 */
typedef struct lend_cache {
	uint64_t snapshot; /* the mdb_txn_id the records were decoded at */
	uint64_t use;      /* counts the transaction's uses, from 0 */
	kept_record kept[STORE_LEND_MAX];
	size_t n_kept;
	size_t turn; /* where the search for a record to replace starts */
	spill *spilled;
} lend_cache;

struct store_txn {
	MDB_txn *txn;
	store *s;
	bool read_only;
	err e; /* the sticky error: the first failure, ENRT_OK while none */
	lend_cache cache;           /* read transactions only */
	MDB_cursor *kept[DB_COUNT]; /* write transactions: see kept_cursor */
};

/* A key of owner_tokens or app_tokens, or the start of a scan. */
typedef struct index_key {
	uint8_t bytes[INDEX_KEY_MAX];
	size_t len;
	size_t prefix_len; /* the owner or app id and its 0 byte */
} index_key;

/* One step of a cursor walk; sets *stop to end the walk early. */
typedef enrt_status (*walk_step)(
    void *ctx, const MDB_val *key, const MDB_val *val, bool *stop);

typedef struct token_walk {
	store_txn *t;
	enum db d;
	index_key at;
	store_token_visitor visit;
	void *arg;
	char *next;
} token_walk;

/* A walk over records of one kind, with the visitor of that kind. */
typedef struct record_walk record_walk;

struct record_walk {
	store_txn *t;
	enum db d;      /* the database walked: records, or an index of them */
	size_t key_max; /* of an id key */
	bool printable; /* whether ids are printable_id, or any key_string */
	const ProtobufCMessageDescriptor *desc;
	store_visit (*call)(const record_walk *w, const ProtobufCMessage *m);
	union {
		store_app_visitor app;
		store_user_visitor user;
		store_caller_visitor caller;
		store_event_visitor event;
	} visit;
	void *arg;
	char *next;
};

/* Records kept by digest and found by id through an index. */
typedef struct id_index {
	enum db ids;     /* id -> digest */
	enum db records; /* digest -> record */
	size_t id_max;
	const ProtobufCMessageDescriptor *desc;
} id_index;

static const id_index token_index = {DB_TOKEN_IDS, DB_TOKENS,
    STORE_TOKEN_ID_MAX, &enrt__v1__token_record__descriptor};

static const id_index caller_index = {DB_CALLER_IDS, DB_CALLERS,
    STORE_CALLER_ID_MAX, &enrt__v1__caller_record__descriptor};

static enrt_status fail(store_txn *t, enrt_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void drain_reads(store *s);

/* ------------------------------------------------------------------ */
/* Errors                                                              */

/* The one place where an LMDB return code becomes a status. */
static enrt_status
map_rc(int rc, const char *call, const char *what)
{
	switch (rc) {
	case MDB_SUCCESS:
		return ENRT_OK;
	case MDB_NOTFOUND:
		return ENRT_NOT_FOUND;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case MDB_READERS_FULL:
		log_warn("store_full", "call=%s db=%s error=\"%s\"", call,
		    what, mdb_strerror(rc));
		return ENRT_RESOURCE_EXHAUSTED;
	default:
		log_error("store_lmdb_failed", "call=%s db=%s error=\"%s\"",
		    call, what, mdb_strerror(rc));
		return ENRT_INTERNAL;
	}
}

/* Keeps the first failure of t: later ones are its consequences. */
static enrt_status
fail(store_txn *t, enrt_status code, const char *fmt, ...)
{
	char message[ERR_MESSAGE_MAX];
	va_list ap;

	if (t->e.code != ENRT_OK) {
		return t->e.code;
	}

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return err_set(&t->e, code, "%s", message);
}

/*
 * A full map is the one refusal an operator must act on, so its message
 * names the limit and the way out.  The map is never grown while the
 * server runs: LMDB allows that only with no transaction open anywhere
 * in the process, which a server with readers on many threads cannot
 * promise without stopping them all.
 */
static enrt_status
map_full(store_txn *t)
{
	MDB_envinfo info;
	unsigned long long mib = 0;

	if (mdb_env_info(t->s->env, &info) == MDB_SUCCESS) {
		mib = ((unsigned long long)info.me_mapsize + (1u << 20) - 1) >>
		      20;
	}
	return fail(t, ENRT_RESOURCE_EXHAUSTED,
	    "store: the database is full (map-size %llu MiB); nothing was "
	    "written; restart enrtd with a larger map-size",
	    mib);
}

/*
 * Maps rc and makes a failure sticky.  A missing key is an answer, not a
 * failure: the caller decides whether it is one.
 */
static enrt_status
check(store_txn *t, int rc, const char *call, enum db d)
{
	enrt_status status = map_rc(rc, call, db_names[d]);

	switch (status) {
	case ENRT_OK:
	case ENRT_NOT_FOUND:
		return status;
	case ENRT_RESOURCE_EXHAUSTED:
		if (rc == MDB_MAP_FULL) {
			return map_full(t);
		}
		return fail(t, status, "store: the database is full");
	default:
		return fail(t, status,
		    "store: internal error; the server log has the cause");
	}
}

static enrt_status
corrupt(store_txn *t, enum db d)
{
	log_error("store_record_corrupt", "db=%s", db_names[d]);
	return fail(t, ENRT_INTERNAL,
	    "store: a stored record in %s is corrupt", db_names[d]);
}

static bool
ok(const store_txn *t)
{
	return t->e.code == ENRT_OK;
}

/* The answer for a key that no write would have accepted. */
static enrt_status
absent(const store_txn *t)
{
	return ok(t) ? ENRT_NOT_FOUND : t->e.code;
}

/* ------------------------------------------------------------------ */
/* Keys and values                                                     */

static MDB_val
bytes_val(const void *bytes, size_t len)
{
	MDB_val v = {.mv_size = len, .mv_data = (void *)bytes};

	return v;
}

static MDB_val
str_val(const char *s)
{
	return bytes_val(s, strlen(s));
}

static bool
val_is(const MDB_val *v, const char *s)
{
	return v->mv_size == strlen(s) &&
	       memcmp(v->mv_data, s, v->mv_size) == 0;
}

/* 1 to max characters from '!' to '~': safe in a cursor and a log. */
static bool
printable_id(const char *s, size_t max)
{
	size_t n;

	if (s == NULL) {
		return false;
	}
	for (n = 0; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n == max || c <= ' ' || c > '~') {
			return false;
		}
	}
	return n > 0;
}

static bool
key_string(const char *s)
{
	return s != NULL && s[0] != '\0' &&
	       strnlen(s, STORE_KEY_MAX + 1) <= STORE_KEY_MAX;
}

static void
be64_put(uint8_t *out, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		out[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t
be64_get(const uint8_t *in)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		v = v << 8 | in[i];
	}
	return v;
}

static uint64_t
order_of(int64_t when)
{
	return (uint64_t)when ^ (UINT64_C(1) << 63);
}

/* Reads ORDER_HEX lowercase hex digits, as "%016" PRIx64 writes them. */
static bool
hex64(const char *text, uint64_t *v)
{
	const char *hex = "0123456789abcdef";
	const char *digit;
	int i;

	*v = 0;
	for (i = 0; i < ORDER_HEX; i++) {
		digit = text[i] == '\0' ? NULL : strchr(hex, text[i]);
		if (digit == NULL) {
			return false;
		}
		*v = *v << 4 | (uint64_t)(digit - hex);
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Database access; each step is a no-op once t has failed             */

static enrt_status
db_get(store_txn *t, enum db d, MDB_val *key, MDB_val *val)
{
	if (!ok(t)) {
		return t->e.code;
	}
	return check(t, mdb_get(t->txn, t->s->dbi[d], key, val), "mdb_get", d);
}

static bool
db_put(store_txn *t, enum db d, MDB_val *key, MDB_val *val, unsigned flags)
{
	int rc;

	if (!ok(t)) {
		return false;
	}
	rc = mdb_put(t->txn, t->s->dbi[d], key, val, flags);
	return check(t, rc, "mdb_put", d) == ENRT_OK;
}

/*
 * A cursor on d for the rest of t, a write transaction, which closes it
 * when it ends.  A lookup or a write through it that falls in the leaf
 * where the last one left it does not walk down from the root, so that
 * keys taken in order cost a search of one page each.  LMDB lends a
 * parent's cursors to its open child, so a parent's is refused then,
 * as mdb_get refuses the parent itself.
 */
static MDB_cursor *
kept_cursor(store_txn *t, enum db d)
{
	int rc;

	if (t->read_only) {
		check(t, EACCES, "mdb_cursor_open", d); /* as mdb_put would */
		return NULL;
	}
	if (t->kept[d] == NULL) {
		rc = mdb_cursor_open(t->txn, t->s->dbi[d], &t->kept[d]);
		check(t, rc, "mdb_cursor_open", d);
	} else if (mdb_cursor_txn(t->kept[d]) != t->txn) {
		check(t, MDB_BAD_TXN, "mdb_cursor_txn", d);
		return NULL;
	}
	return t->kept[d];
}

/* db_get through d's kept cursor. */
static enrt_status
db_seek(store_txn *t, enum db d, MDB_val *key, MDB_val *val)
{
	MDB_cursor *c;
	int rc;

	if (!ok(t) || (c = kept_cursor(t, d)) == NULL) {
		return t->e.code;
	}
	rc = mdb_cursor_get(c, key, val, MDB_SET);
	return check(t, rc, "mdb_cursor_get", d);
}

/* db_put through d's kept cursor. */
static bool
db_put_at(store_txn *t, enum db d, MDB_val *key, MDB_val *val)
{
	MDB_cursor *c;
	int rc;

	if (!ok(t) || (c = kept_cursor(t, d)) == NULL) {
		return false;
	}
	rc = mdb_cursor_put(c, key, val, 0);
	return check(t, rc, "mdb_cursor_put", d) == ENRT_OK;
}

static enrt_status
db_del(store_txn *t, enum db d, MDB_val *key)
{
	if (!ok(t)) {
		return t->e.code;
	}
	return check(
	    t, mdb_del(t->txn, t->s->dbi[d], key, NULL), "mdb_del", d);
}

/* Whether key is in d; a failure counts as taken, so nothing is added. */
static bool
key_taken(store_txn *t, enum db d, MDB_val *key)
{
	MDB_val val;

	return db_get(t, d, key, &val) != ENRT_NOT_FOUND;
}

/* Packs m straight into the space LMDB reserves for it. */
static void
put_record(store_txn *t, enum db d, MDB_val *key, const ProtobufCMessage *m)
{
	MDB_val val = {.mv_size = protobuf_c_message_get_packed_size(m)};

	if (db_put(t, d, key, &val, MDB_RESERVE)) {
		protobuf_c_message_pack(m, val.mv_data);
	}
}

static enrt_status
unpack(store_txn *t, enum db d, const MDB_val *val,
    const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	*out =
	    protobuf_c_message_unpack(desc, NULL, val->mv_size, val->mv_data);
	if (*out == NULL) {
		return corrupt(t, d);
	}
	return ENRT_OK;
}

static enrt_status
get_record(store_txn *t, enum db d, MDB_val *key,
    const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
	MDB_val val;
	enrt_status status;

	*out = NULL;
	status = db_get(t, d, key, &val);
	if (status != ENRT_OK) {
		return status;
	}
	return unpack(t, d, &val, desc, out);
}

/* The digest that index x holds for id. */
static enrt_status
digest_of(store_txn *t, const id_index *x, const char *id,
    uint8_t digest[STORE_DIGEST_LEN])
{
	MDB_val key = str_val(id), val;
	enrt_status status;

	status = db_get(t, x->ids, &key, &val);
	if (status != ENRT_OK) {
		return status;
	}
	if (val.mv_size != STORE_DIGEST_LEN) {
		return corrupt(t, x->ids);
	}
	memcpy(digest, val.mv_data, STORE_DIGEST_LEN);
	return ENRT_OK;
}

/* An id or index entry whose record is gone: the store is inconsistent. */
static enrt_status
dangling(store_txn *t, enum db d, const char *id)
{
	log_error("store_index_dangling", "db=%s id=%s", db_names[d], id);
	return fail(t, ENRT_INTERNAL,
	    "store: an index in %s names a record that is gone", db_names[d]);
}

/* Finds a record by its id; digest, when not NULL, receives its key. */
static enrt_status
record_by_id(store_txn *t, const id_index *x, const char *id,
    ProtobufCMessage **out, uint8_t digest[STORE_DIGEST_LEN])
{
	uint8_t found[STORE_DIGEST_LEN];
	MDB_val key;
	enrt_status status;

	*out = NULL;
	if (!printable_id(id, x->id_max)) {
		return absent(t);
	}
	status = digest_of(t, x, id, found);
	if (status != ENRT_OK) {
		return status;
	}

	key = bytes_val(found, STORE_DIGEST_LEN);
	status = get_record(t, x->records, &key, x->desc, out);
	if (status == ENRT_NOT_FOUND) {
		return dangling(t, x->ids, id);
	}
	if (status == ENRT_OK && digest != NULL) {
		memcpy(digest, found, STORE_DIGEST_LEN);
	}
	return status;
}

/*
 * Walks d from start (MDB_SET_RANGE), or from the first key when start
 * is empty, until step stops it or d ends.
 */
static enrt_status
walk(store_txn *t, enum db d, MDB_val start, walk_step step, void *ctx)
{
	MDB_cursor *c;
	MDB_val key = start, val;
	enrt_status status;
	bool stop = false;
	int rc;

	rc = mdb_cursor_open(t->txn, t->s->dbi[d], &c);
	if (check(t, rc, "mdb_cursor_open", d) != ENRT_OK) {
		return t->e.code;
	}

	rc = mdb_cursor_get(
	    c, &key, &val, start.mv_size > 0 ? MDB_SET_RANGE : MDB_FIRST);
	status = ENRT_OK;
	while (rc == 0 && status == ENRT_OK && !stop) {
		status = step(ctx, &key, &val, &stop);
		if (status == ENRT_OK && !stop) {
			rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
		}
	}
	mdb_cursor_close(c);

	if (status != ENRT_OK) {
		return status;
	}
	status = check(t, rc, "mdb_cursor_get", d);
	return status == ENRT_NOT_FOUND ? ENRT_OK : status;
}

static void
clear_next(char *next)
{
	if (next != NULL) {
		next[0] = '\0';
	}
}

static enrt_status
bad_cursor(store_txn *t)
{
	return fail(
	    t, ENRT_INVALID_ARGUMENT, "cursor: not a cursor this server made");
}

/* Unpacks one record of d and hands it to the visitor for the call. */
static enrt_status
visit_record(record_walk *w, enum db d, const MDB_val *val, bool *stop)
{
	ProtobufCMessage *m;
	enrt_status status;

	status = unpack(w->t, d, val, w->desc, &m);
	if (status != ENRT_OK) {
		return status;
	}
	*stop = w->call(w, m) == STORE_STOP;
	store_free(m);
	return ENRT_OK;
}

/* An id key that a cursor can carry: no 0 byte, at most key_max. */
static bool
id_key(const record_walk *w, const MDB_val *key)
{
	return key->mv_size > 0 && key->mv_size <= w->key_max &&
	       memchr(key->mv_data, '\0', key->mv_size) == NULL;
}

static void
id_cursor(char *next, const MDB_val *key)
{
	if (next != NULL) {
		memcpy(next, key->mv_data, key->mv_size);
		next[key->mv_size] = '\0';
	}
}

/* One step through a database of id -> record. */
static enrt_status
id_step(void *ctx, const MDB_val *key, const MDB_val *val, bool *stop)
{
	record_walk *w = ctx;
	enrt_status status;

	if (!id_key(w, key)) {
		return corrupt(w->t, w->d);
	}
	status = visit_record(w, w->d, val, stop);
	if (status == ENRT_OK && *stop) {
		id_cursor(w->next, key);
	}
	return status;
}

/* Whether a cursor names an id that w->d could hold. */
static bool
id_valid(const record_walk *w, const char *id)
{
	if (w->printable) {
		return printable_id(id, w->key_max);
	}
	return id[0] != '\0' && strnlen(id, w->key_max + 1) <= w->key_max;
}

/* Walks w->d in order of id from cursor (NULL: the first). */
static enrt_status
id_scan(record_walk *w, const char *cursor, walk_step step)
{
	MDB_val start = bytes_val(NULL, 0);

	clear_next(w->next);
	if (!ok(w->t)) {
		return w->t->e.code;
	}
	if (cursor != NULL && !id_valid(w, cursor)) {
		return bad_cursor(w->t);
	}
	if (cursor != NULL) {
		start = str_val(cursor);
	}
	return walk(w->t, w->d, start, step, w);
}

/* ------------------------------------------------------------------ */
/* Environment and schema                                              */

static size_t
map_size_of(const store_options *options)
{
	if (options == NULL || options->map_size == 0) {
		return DEFAULT_MAP_SIZE;
	}
	return options->map_size;
}

static enrt_status
env_configure(store *s, size_t map_size)
{
	int rc;

	rc = mdb_env_create(&s->env);
	if (rc != 0) {
		return map_rc(rc, "mdb_env_create", "env");
	}
	rc = mdb_env_set_maxdbs(s->env, DB_COUNT);
	if (rc != 0) {
		return map_rc(rc, "mdb_env_set_maxdbs", "env");
	}
	rc = mdb_env_set_mapsize(s->env, map_size);
	return map_rc(rc, "mdb_env_set_mapsize", "env");
}

/*
 * Full durability: no MDB_NOSYNC or MDB_NOMETASYNC, so a commit is on
 * disk when it returns.  Slots of readers that died are freed first.
 */
static enrt_status
env_open(store *s, const char *dir, size_t map_size)
{
	enrt_status status;
	int dead;
	int rc;

	status = env_configure(s, map_size);
	if (status != ENRT_OK) {
		return status;
	}
	rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600);
	if (rc != 0) {
		return map_rc(rc, "mdb_env_open", "env");
	}
	return map_rc(
	    mdb_reader_check(s->env, &dead), "mdb_reader_check", "env");
}

static void
open_databases(store_txn *t)
{
	int d;
	int rc;

	for (d = 0; d < DB_COUNT && ok(t); d++) {
		rc = mdb_dbi_open(
		    t->txn, db_names[d], MDB_CREATE, &t->s->dbi[d]);
		check(t, rc, "mdb_dbi_open", d);
	}
}

/* A positive decimal number of at most 9 digits, as schema_write puts. */
static bool
parse_version(const MDB_val *val, long *version)
{
	const char *text = val->mv_data;
	size_t i;

	*version = 0;
	if (val->mv_size == 0 || val->mv_size > 9) {
		return false;
	}
	for (i = 0; i < val->mv_size; i++) {
		if (text[i] < '0' || text[i] > '9') {
			return false;
		}
		*version = *version * 10 + (text[i] - '0');
	}
	return *version > 0;
}

static void
schema_write(store_txn *t)
{
	char text[16];
	MDB_val key = str_val(SCHEMA_KEY);
	MDB_val val;

	snprintf(text, sizeof(text), "%d", STORE_SCHEMA_VERSION);
	val = str_val(text);
	db_put(t, DB_META, &key, &val, 0);
}

/*
 * Writes the version into a new store and refuses one that a newer
 * server wrote: its records may mean things this one cannot know.
 */
static void
schema_check(store_txn *t)
{
	MDB_val key = str_val(SCHEMA_KEY), val;
	long version;
	enrt_status status;

	status = db_get(t, DB_META, &key, &val);
	if (status == ENRT_NOT_FOUND) {
		schema_write(t);
		return;
	}
	if (status != ENRT_OK) {
		return;
	}
	if (!parse_version(&val, &version)) {
		corrupt(t, DB_META);
		return;
	}
	if (version > STORE_SCHEMA_VERSION) {
		log_error("store_schema_newer", "found=%ld supported=%d",
		    version, STORE_SCHEMA_VERSION);
		fail(t, ENRT_FAILED_PRECONDITION,
		    "store: schema version %ld is newer than this server's %d",
		    version, STORE_SCHEMA_VERSION);
	}
}

static enrt_status
schema_init(store *s)
{
	store_txn *t;
	enrt_status status;

	status = store_begin_write(s, &t);
	if (status != ENRT_OK) {
		return status;
	}
	open_databases(t);
	schema_check(t);
	return store_commit(t);
}

enrt_status
store_open(store **out, const char *dir, const store_options *options)
{
	store *s;
	enrt_status status;

	assert(dir != NULL);
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return ENRT_RESOURCE_EXHAUSTED;
	}
	pthread_mutex_init(&s->reads.mtx, NULL);

	status = env_open(s, dir, map_size_of(options));
	if (status == ENRT_OK) {
		status = schema_init(s);
	}
	if (status != ENRT_OK) {
		store_close(s);
		return status;
	}
	*out = s;
	return ENRT_OK;
}

void
store_close(store *s)
{
	if (s == NULL) {
		return;
	}
	drain_reads(s);
	if (s->env != NULL) {
		mdb_env_close(s->env);
	}
	pthread_mutex_destroy(&s->reads.mtx);
	free(s);
}

static enrt_status
copy_env(MDB_env *env, int fd)
{
	int rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);

	return map_rc(rc, "mdb_env_copyfd2", "env");
}

enrt_status
store_copy(store *s, int fd)
{
	return copy_env(s->env, fd);
}

/*
 * Read-only, and with no map size of its own: the size the server wrote
 * stays, and this process never takes the writer's lock.
 */
enrt_status
store_copy_dir(const char *dir, int fd)
{
	MDB_env *env;
	enrt_status status;
	int rc;

	if ((rc = mdb_env_create(&env)) != 0) {
		return map_rc(rc, "mdb_env_create", "env");
	}
	rc = mdb_env_set_maxdbs(env, DB_COUNT);
	if (rc == 0) {
		rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600);
	}
	status =
	    rc == 0 ? copy_env(env, fd) : map_rc(rc, "mdb_env_open", "env");
	mdb_env_close(env);
	return status;
}

enrt_status
store_usage(store *s, uint64_t *used, uint64_t *map_size)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc;

	if ((rc = mdb_env_info(s->env, &info)) != MDB_SUCCESS ||
	    (rc = mdb_env_stat(s->env, &st)) != MDB_SUCCESS) {
		return map_rc(rc, "mdb_env_info", "usage");
	}
	*used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	*map_size = info.me_mapsize;
	return ENRT_OK;
}

/* ------------------------------------------------------------------ */
/* Records lent from a read snapshot                                   */

static void
free_spilled(lend_cache *c)
{
	while (c->spilled != NULL) {
		spill *sp = c->spilled;

		c->spilled = sp->next;
		protobuf_c_message_free_unpacked(sp->m, NULL);
		free(sp);
	}
}

static void
drop_kept(lend_cache *c)
{
	for (size_t i = 0; i < c->n_kept; i++) {
		protobuf_c_message_free_unpacked(c->kept[i].m, NULL);
	}
	c->n_kept = 0;
	c->turn = 0;
}

/* Keeps what was decoded only while t still reads the same snapshot. */
static void
lend_sync(store_txn *t)
{
	uint64_t id = mdb_txn_id(t->txn);

	if (t->cache.snapshot != id) {
		drop_kept(&t->cache);
		t->cache.snapshot = id;
	}
}

static kept_record *
kept_find(lend_cache *c, enum db d, const char *key, size_t len)
{
	for (size_t i = 0; i < c->n_kept; i++) {
		kept_record *l = &c->kept[i];

		if (l->d == d && l->key_len == len &&
		    memcmp(l->key, key, len) == 0) {
			return l;
		}
	}
	return NULL;
}

/*
 * A slot for a new record: an empty one, else the next, in turn, that
 * was not lent in this use (its record is freed).  NULL when all were.
 */
static kept_record *
kept_slot(lend_cache *c)
{
	if (c->n_kept < STORE_LEND_MAX) {
		return &c->kept[c->n_kept++];
	}
	for (size_t i = 0; i < STORE_LEND_MAX; i++) {
		kept_record *l = &c->kept[(c->turn + i) % STORE_LEND_MAX];

		if (l->use != c->use) {
			c->turn = (c->turn + i + 1) % STORE_LEND_MAX;
			protobuf_c_message_free_unpacked(l->m, NULL);
			return l;
		}
	}
	return NULL;
}

/*
 * Keeps m, decoded from key in d, until the use ends or longer; false
 * when out of memory, and then m is still the caller's.
 */
static bool
keep(
    lend_cache *c, enum db d, const char *key, size_t len, ProtobufCMessage *m)
{
	kept_record *l = kept_slot(c);
	spill *sp;

	if (l != NULL) {
		l->d = d;
		l->key_len = len;
		memcpy(l->key, key, len);
		l->m = m;
		l->use = c->use;
		return true;
	}
	if ((sp = malloc(sizeof(*sp))) == NULL) {
		return false;
	}
	sp->m = m;
	sp->next = c->spilled;
	c->spilled = sp;
	return true;
}

/*
 * Lends the record under id in d: a kept one, or one decoded now and
 * kept.  The caller has checked that id is a key of d.
 */
static enrt_status
lend(store_txn *t, enum db d, const char *id,
    const ProtobufCMessageDescriptor *desc, const ProtobufCMessage **out)
{
	size_t len = strlen(id);
	MDB_val key = bytes_val(id, len);
	ProtobufCMessage *m;
	kept_record *l;
	enrt_status status;

	assert(t->read_only && len <= STORE_KEY_MAX);
	if (!ok(t)) {
		return t->e.code;
	}
	if ((l = kept_find(&t->cache, d, id, len)) != NULL) {
		l->use = t->cache.use;
		*out = l->m;
		return ENRT_OK;
	}

	status = get_record(t, d, &key, desc, &m);
	if (status == ENRT_OK && !keep(&t->cache, d, id, len, m)) {
		protobuf_c_message_free_unpacked(m, NULL);
		return fail(
		    t, ENRT_RESOURCE_EXHAUSTED, "store: out of memory");
	}
	*out = m;
	return status;
}

/* ------------------------------------------------------------------ */
/* Transactions                                                        */

static enrt_status
begin(store *s, MDB_txn *parent, unsigned int flags, store_txn **out)
{
	store_txn *t;
	int rc;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		return ENRT_RESOURCE_EXHAUSTED;
	}

	rc = mdb_txn_begin(s->env, parent, flags, &t->txn);
	if (rc != 0) {
		free(t);
		return map_rc(rc, "mdb_txn_begin", "env");
	}
	t->s = s;
	t->read_only = (flags & MDB_RDONLY) != 0;
	*out = t;
	return ENRT_OK;
}

static store_txn *
take_idle_read(store *s)
{
	store_txn *t = NULL;

	pthread_mutex_lock(&s->reads.mtx);
	if (s->reads.n_idle > 0) {
		t = s->reads.idle[--s->reads.n_idle];
	}
	pthread_mutex_unlock(&s->reads.mtx);
	return t;
}

/* Frees a read transaction that the pool does not keep. */
static void
free_read(store_txn *t)
{
	free_spilled(&t->cache);
	drop_kept(&t->cache);
	mdb_txn_abort(t->txn);
	free(t);
}

/*
 * Keeps an ended read transaction for reuse, or frees it.  What it lent
 * in this use is no longer lent; what it keeps waits for a renewal that
 * tells whether it is still of the snapshot.
 */
static void
end_read(store_txn *t)
{
	read_pool *pool = &t->s->reads;
	bool kept = false;

	free_spilled(&t->cache);
	mdb_txn_reset(t->txn);
	pthread_mutex_lock(&pool->mtx);
	if (pool->n_idle < READ_POOL_MAX) {
		pool->idle[pool->n_idle++] = t;
		kept = true;
	}
	pthread_mutex_unlock(&pool->mtx);

	if (!kept) {
		free_read(t);
	}
}

/* No transaction is open: store_close's precondition. */
static void
drain_reads(store *s)
{
	while (s->reads.n_idle > 0) {
		free_read(s->reads.idle[--s->reads.n_idle]);
	}
}

/*
 * A renewal that fails (it should not: the slot is still this
 * process's) drops that transaction and begins a fresh one, which
 * then reports whatever is wrong.
 */
enrt_status
store_begin_read(store *s, store_txn **out)
{
	store_txn *t = take_idle_read(s);
	enrt_status status;

	if (t != NULL && mdb_txn_renew(t->txn) == MDB_SUCCESS) {
		t->e.code = ENRT_OK;
		t->e.message[0] = '\0';
		t->cache.use++;
		lend_sync(t);
		*out = t;
		return ENRT_OK;
	}
	if (t != NULL) {
		free_read(t);
	}
	if ((status = begin(s, NULL, MDB_RDONLY, out)) == ENRT_OK) {
		lend_sync(*out);
	}
	return status;
}

enrt_status
store_begin_write(store *s, store_txn **out)
{
	return begin(s, NULL, 0, out);
}

/*
 * LMDB keeps a child's pages apart until it commits into its parent, so
 * aborting a child undoes its steps alone and leaves the parent as it
 * was, its sticky error included.
 */
enrt_status
store_begin_nested(store_txn *parent, store_txn **out)
{
	assert(parent->e.code == ENRT_OK);
	return begin(parent->s, parent->txn, 0, out);
}

enrt_status
store_status(const store_txn *t)
{
	return t->e.code;
}

const char *
store_message(const store_txn *t)
{
	return t->e.message;
}

enrt_status
store_commit(store_txn *t)
{
	enrt_status status = t->e.code;
	int rc;

	if (status != ENRT_OK || t->read_only) {
		store_abort(t);
		return status;
	}
	rc = mdb_txn_commit(t->txn);
	free(t);
	return map_rc(rc, "mdb_txn_commit", "env");
}

void
store_abort(store_txn *t)
{
	if (t == NULL) {
		return;
	}
	if (t->read_only) {
		end_read(t);
		return;
	}
	mdb_txn_abort(t->txn);
	free(t);
}

void
store_free(void *record)
{
	if (record != NULL) {
		protobuf_c_message_free_unpacked(record, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */

static void
index_key_init(index_key *k, const char *key)
{
	size_t n = strlen(key);

	assert(n <= STORE_KEY_MAX);
	memcpy(k->bytes, key, n + 1);
	k->prefix_len = n + 1;
	k->len = n + 1;
}

static void
index_key_at(index_key *k, uint64_t order, const char *id)
{
	size_t n = strlen(id);

	assert(n <= STORE_TOKEN_ID_MAX);
	be64_put(k->bytes + k->prefix_len, order);
	memcpy(k->bytes + k->prefix_len + ORDER_LEN, id, n);
	k->len = k->prefix_len + ORDER_LEN + n;
}

static void
index_put(store_txn *t, enum db d, const char *key, const store_token *token)
{
	index_key k;
	MDB_val kv, empty = bytes_val("", 0);

	index_key_init(&k, key);
	index_key_at(&k, order_of(token->created_at), token->id);
	kv = bytes_val(k.bytes, k.len);
	db_put(t, d, &kv, &empty, 0);
}

static bool
token_valid(store_txn *t, const store_token *token)
{
	assert(token != NULL);
	if (!printable_id(token->id, STORE_TOKEN_ID_MAX)) {
		fail(t, ENRT_INVALID_ARGUMENT,
		    "id: 1 to %d printable ASCII characters, no spaces",
		    STORE_TOKEN_ID_MAX);
	} else if (!printable_id(token->app_id, STORE_APP_ID_MAX)) {
		fail(t, ENRT_INVALID_ARGUMENT,
		    "app_id: 1 to %d printable ASCII characters, no spaces",
		    STORE_APP_ID_MAX);
	} else if (token->owner != NULL && !key_string(token->owner)) {
		fail(t, ENRT_INVALID_ARGUMENT, "owner: 1 to %d bytes",
		    STORE_KEY_MAX);
	} else if (!token->has_created_at) {
		fail(t, ENRT_INVALID_ARGUMENT, "created_at: required");
	}
	return ok(t);
}

/* Checks both keys before anything is written: nothing half-added. */
static bool
token_free(store_txn *t, const uint8_t digest[STORE_DIGEST_LEN],
    const store_token *token)
{
	MDB_val dkey = bytes_val(digest, STORE_DIGEST_LEN);
	MDB_val ikey = str_val(token->id);

	if (key_taken(t, DB_TOKENS, &dkey)) {
		fail(t, ENRT_ALREADY_EXISTS,
		    "token: a token with this value already exists");
	} else if (key_taken(t, DB_TOKEN_IDS, &ikey)) {
		fail(t, ENRT_ALREADY_EXISTS,
		    "id: a token with id \"%s\" already exists", token->id);
	}
	return ok(t);
}

enrt_status
store_token_get(
    store_txn *t, const uint8_t digest[STORE_DIGEST_LEN], store_token **out)
{
	MDB_val key = bytes_val(digest, STORE_DIGEST_LEN);
	ProtobufCMessage *m;
	enrt_status status;

	status = get_record(
	    t, DB_TOKENS, &key, &enrt__v1__token_record__descriptor, &m);
	*out = (store_token *)m;
	return status;
}

enrt_status
store_token_by_id(store_txn *t, const char *id, store_token **out,
    uint8_t digest[STORE_DIGEST_LEN])
{
	ProtobufCMessage *m;
	enrt_status status;

	status = record_by_id(t, &token_index, id, &m, digest);
	*out = (store_token *)m;
	return status;
}

void
store_token_add(store_txn *t, const uint8_t digest[STORE_DIGEST_LEN],
    const store_token *token)
{
	MDB_val dkey = bytes_val(digest, STORE_DIGEST_LEN);
	MDB_val ikey;

	if (!ok(t) || !token_valid(t, token) ||
	    !token_free(t, digest, token)) {
		return;
	}

	ikey = str_val(token->id);
	put_record(t, DB_TOKENS, &dkey, &token->base);
	db_put(t, DB_TOKEN_IDS, &ikey, &dkey, 0);
	if (token->owner != NULL) {
		index_put(t, DB_OWNER_TOKENS, token->owner, token);
	}
	index_put(t, DB_APP_TOKENS, token->app_id, token);
}

static bool
same_string(const char *a, const char *b)
{
	if (a == NULL || b == NULL) {
		return a == b;
	}
	return strcmp(a, b) == 0;
}

/* The fields that the indexes are made of. */
static bool
same_keys(const store_token *a, const store_token *b)
{
	return same_string(a->id, b->id) &&
	       same_string(a->app_id, b->app_id) &&
	       same_string(a->owner, b->owner) &&
	       a->created_at == b->created_at;
}

void
store_token_update(store_txn *t, const uint8_t digest[STORE_DIGEST_LEN],
    const store_token *token)
{
	MDB_val key = bytes_val(digest, STORE_DIGEST_LEN);
	store_token *old;
	enrt_status status;

	if (!ok(t) || !token_valid(t, token)) {
		return;
	}

	status = store_token_get(t, digest, &old);
	if (status == ENRT_NOT_FOUND) {
		fail(t, ENRT_NOT_FOUND, "token: no such token");
	} else if (status == ENRT_OK && !same_keys(old, token)) {
		fail(t, ENRT_INVALID_ARGUMENT,
		    "token: id, app_id, owner and created_at never change");
	}
	put_record(t, DB_TOKENS, &key, &token->base);
	store_free(old);
}

/* Index entries are removed whether or not they are all there. */
static void
index_del(store_txn *t, enum db d, const char *key, const store_token *token)
{
	index_key k;
	MDB_val kv;

	index_key_init(&k, key);
	index_key_at(&k, order_of(token->created_at), token->id);
	kv = bytes_val(k.bytes, k.len);
	db_del(t, d, &kv);
}

static void
token_unlink(store_txn *t, const MDB_val *dkey, const store_token *token)
{
	MDB_val ikey = str_val(token->id);

	db_del(t, DB_TOKENS, (MDB_val *)dkey);
	db_del(t, DB_TOKEN_IDS, &ikey);
	if (token->owner != NULL) {
		index_del(t, DB_OWNER_TOKENS, token->owner, token);
	}
	index_del(t, DB_APP_TOKENS, token->app_id, token);
	db_del(t, DB_LAST_USED, &ikey);
}

void
store_token_remove(store_txn *t, const uint8_t digest[STORE_DIGEST_LEN])
{
	MDB_val dkey = bytes_val(digest, STORE_DIGEST_LEN);
	store_token *token;
	enrt_status status;

	if (!ok(t)) {
		return;
	}
	status = store_token_get(t, digest, &token);
	if (status == ENRT_NOT_FOUND) {
		fail(t, ENRT_NOT_FOUND, "token: no such token");
		return;
	}
	if (status == ENRT_OK && token_valid(t, token)) {
		token_unlink(t, &dkey, token);
	}
	store_free(token);
}

typedef struct entry_walk {
	store_txn *t;
	const uint8_t *after;
	store_token_entry_visitor visit;
	void *arg;
} entry_walk;

static enrt_status
entry_step(void *ctx, const MDB_val *key, const MDB_val *val, bool *stop)
{
	entry_walk *w = ctx;
	ProtobufCMessage *m;
	enrt_status status;

	if (key->mv_size != STORE_DIGEST_LEN) {
		return corrupt(w->t, DB_TOKENS);
	}
	if (w->after != NULL &&
	    memcmp(key->mv_data, w->after, STORE_DIGEST_LEN) == 0) {
		return ENRT_OK; /* where the last page ended */
	}
	status = unpack(
	    w->t, DB_TOKENS, val, &enrt__v1__token_record__descriptor, &m);
	if (status != ENRT_OK) {
		return status;
	}
	*stop = w->visit(w->arg, key->mv_data, (store_token *)m) == STORE_STOP;
	store_free(m);
	return ENRT_OK;
}

enrt_status
store_token_walk(store_txn *t, const uint8_t after[STORE_DIGEST_LEN],
    store_token_entry_visitor visit, void *arg)
{
	entry_walk w = {.t = t, .after = after, .visit = visit, .arg = arg};
	MDB_val start = bytes_val(after, after == NULL ? 0 : STORE_DIGEST_LEN);

	if (!ok(t)) {
		return t->e.code;
	}
	return walk(t, DB_TOKENS, start, entry_step, &w);
}

/* Sets k to resume at the record that cursor names. */
static bool
index_key_cursor(index_key *k, const char *cursor)
{
	uint64_t order;

	if (strnlen(cursor, STORE_CURSOR_MAX) == STORE_CURSOR_MAX ||
	    !hex64(cursor, &order)) {
		return false;
	}
	if (cursor[ORDER_HEX] != '.' ||
	    !printable_id(cursor + ORDER_HEX + 1, STORE_TOKEN_ID_MAX)) {
		return false;
	}
	index_key_at(k, order, cursor + ORDER_HEX + 1);
	return true;
}

/* The token id at the end of an index entry under prefix. */
static enrt_status
entry_id(store_txn *t, enum db d, const MDB_val *key, size_t prefix_len,
    char id[STORE_TOKEN_ID_MAX + 1])
{
	size_t n = key->mv_size - prefix_len - ORDER_LEN;

	if (key->mv_size <= prefix_len + ORDER_LEN || n > STORE_TOKEN_ID_MAX) {
		return corrupt(t, d);
	}
	memcpy(id, (const uint8_t *)key->mv_data + prefix_len + ORDER_LEN, n);
	id[n] = '\0';
	return ENRT_OK;
}

static enrt_status
entry_token(store_txn *t, enum db d, const char *id, store_token **out)
{
	enrt_status status = store_token_by_id(t, id, out, NULL);

	return status == ENRT_NOT_FOUND ? dangling(t, d, id) : status;
}

static bool
in_prefix(const index_key *k, const MDB_val *key)
{
	return key->mv_size >= k->prefix_len &&
	       memcmp(key->mv_data, k->bytes, k->prefix_len) == 0;
}

static enrt_status
token_step(void *ctx, const MDB_val *key, const MDB_val *val, bool *stop)
{
	token_walk *w = ctx;
	char id[STORE_TOKEN_ID_MAX + 1];
	uint64_t order;
	store_token *token;
	enrt_status status;

	*stop = !in_prefix(&w->at, key);
	if (*stop) {
		return ENRT_OK;
	}
	status = entry_id(w->t, w->d, key, w->at.prefix_len, id);
	if (status != ENRT_OK) {
		return status;
	}
	order = be64_get((const uint8_t *)key->mv_data + w->at.prefix_len);
	status = entry_token(w->t, w->d, id, &token);
	if (status != ENRT_OK) {
		return status;
	}

	*stop = w->visit(w->arg, token) == STORE_STOP;
	if (*stop && w->next != NULL) {
		snprintf(
		    w->next, STORE_CURSOR_MAX, "%016" PRIx64 ".%s", order, id);
	}
	store_free(token);
	return ENRT_OK;
}

enrt_status
store_token_scan(store_txn *t, bool by_app, const char *key,
    const char *cursor, store_token_visitor visit, void *arg, char *next)
{
	token_walk w = {.t = t,
	    .d = by_app ? DB_APP_TOKENS : DB_OWNER_TOKENS,
	    .visit = visit,
	    .arg = arg,
	    .next = next};

	clear_next(next);
	if (!ok(t)) {
		return t->e.code;
	}
	if (!key_string(key)) {
		return ENRT_OK; /* no write accepts such an owner or app */
	}

	index_key_init(&w.at, key);
	if (cursor != NULL && !index_key_cursor(&w.at, cursor)) {
		return bad_cursor(t);
	}
	return walk(t, w.d, bytes_val(w.at.bytes, w.at.len), token_step, &w);
}

/* ------------------------------------------------------------------ */
/* Apps                                                                */

enrt_status
store_app_get(store_txn *t, const char *id, store_app **out)
{
	MDB_val key;
	ProtobufCMessage *m;
	enrt_status status;

	*out = NULL;
	if (!printable_id(id, STORE_APP_ID_MAX)) {
		return absent(t);
	}
	key = str_val(id);
	status = get_record(t, DB_APPS, &key, &enrt__v1__app__descriptor, &m);
	*out = (store_app *)m;
	return status;
}

size_t
store_lent_kept(const store_txn *t)
{
	return t->cache.n_kept;
}

enrt_status
store_app_lend(store_txn *t, const char *id, const store_app **out)
{
	const ProtobufCMessage *m = NULL;
	enrt_status status = absent(t);

	if (printable_id(id, STORE_APP_ID_MAX)) {
		status = lend(t, DB_APPS, id, &enrt__v1__app__descriptor, &m);
	}
	*out = (const store_app *)m;
	return status;
}

static bool
app_valid(store_txn *t, const store_app *app)
{
	assert(app != NULL);
	if (!printable_id(app->id, STORE_APP_ID_MAX)) {
		fail(t, ENRT_INVALID_ARGUMENT,
		    "id: 1 to %d printable ASCII characters, no spaces",
		    STORE_APP_ID_MAX);
	} else if (!key_string(app->name)) {
		fail(t, ENRT_INVALID_ARGUMENT, "name: 1 to %d bytes",
		    STORE_KEY_MAX);
	}
	return ok(t);
}

/* Whether app's name is free or already its own. */
static bool
name_free(store_txn *t, const store_app *app)
{
	MDB_val key = str_val(app->name), val;
	enrt_status status;

	status = db_get(t, DB_APP_NAMES, &key, &val);
	if (status == ENRT_OK && !val_is(&val, app->id)) {
		fail(t, ENRT_ALREADY_EXISTS,
		    "name: an app named \"%s\" already exists", app->name);
	}
	return ok(t);
}

/* On a rename, frees the name the app had. */
static void
release_old_name(store_txn *t, const store_app *app)
{
	store_app *old;
	MDB_val key;

	if (store_app_get(t, app->id, &old) != ENRT_OK) {
		return;
	}
	if (key_string(old->name) && strcmp(old->name, app->name) != 0) {
		key = str_val(old->name);
		db_del(t, DB_APP_NAMES, &key);
	}
	store_free(old);
}

void
store_app_put(store_txn *t, const store_app *app)
{
	MDB_val id, name;

	if (!ok(t) || !app_valid(t, app) || !name_free(t, app)) {
		return;
	}

	release_old_name(t, app);
	id = str_val(app->id);
	name = str_val(app->name);
	db_put(t, DB_APP_NAMES, &name, &id, 0);
	put_record(t, DB_APPS, &id, &app->base);
}

static store_visit
call_app(const record_walk *w, const ProtobufCMessage *m)
{
	return w->visit.app(w->arg, (const store_app *)m);
}

enrt_status
store_app_scan(store_txn *t, const char *cursor, store_app_visitor visit,
    void *arg, char *next)
{
	record_walk w = {.t = t,
	    .d = DB_APPS,
	    .key_max = STORE_APP_ID_MAX,
	    .printable = true,
	    .desc = &enrt__v1__app__descriptor,
	    .call = call_app,
	    .visit.app = visit,
	    .arg = arg,
	    .next = next};

	return id_scan(&w, cursor, id_step);
}

/* ------------------------------------------------------------------ */
/* Users                                                               */

enrt_status
store_user_get(store_txn *t, const char *id, store_user **out)
{
	MDB_val key;
	ProtobufCMessage *m;
	enrt_status status;

	*out = NULL;
	if (!key_string(id)) {
		return absent(t);
	}
	key = str_val(id);
	status = get_record(
	    t, DB_USERS, &key, &enrt__v1__user_record__descriptor, &m);
	*out = (store_user *)m;
	return status;
}

enrt_status
store_user_lend(store_txn *t, const char *id, const store_user **out)
{
	const ProtobufCMessage *m = NULL;
	enrt_status status = absent(t);

	if (key_string(id)) {
		status = lend(
		    t, DB_USERS, id, &enrt__v1__user_record__descriptor, &m);
	}
	*out = (const store_user *)m;
	return status;
}

void
store_user_put(store_txn *t, const store_user *user)
{
	MDB_val key;

	if (!ok(t)) {
		return;
	}
	if (!key_string(user->id)) {
		fail(t, ENRT_INVALID_ARGUMENT, "id: 1 to %d bytes",
		    STORE_KEY_MAX);
		return;
	}
	key = str_val(user->id);
	put_record(t, DB_USERS, &key, &user->base);
}

void
store_user_delete(store_txn *t, const char *id)
{
	MDB_val key;

	if (!ok(t)) {
		return;
	}
	if (!key_string(id)) {
		fail(t, ENRT_NOT_FOUND, "id: no such user");
		return;
	}
	key = str_val(id);
	if (db_del(t, DB_USERS, &key) == ENRT_NOT_FOUND) {
		fail(t, ENRT_NOT_FOUND, "id: no such user");
	}
}

static store_visit
call_user(const record_walk *w, const ProtobufCMessage *m)
{
	return w->visit.user(w->arg, (const store_user *)m);
}

enrt_status
store_user_scan(store_txn *t, const char *cursor, store_user_visitor visit,
    void *arg, char *next)
{
	record_walk w = {.t = t,
	    .d = DB_USERS,
	    .key_max = STORE_KEY_MAX,
	    .desc = &enrt__v1__user_record__descriptor,
	    .call = call_user,
	    .visit.user = visit,
	    .arg = arg,
	    .next = next};

	return id_scan(&w, cursor, id_step);
}

/* ------------------------------------------------------------------ */
/* Callers                                                             */

enrt_status
store_caller_get(
    store_txn *t, const uint8_t digest[STORE_DIGEST_LEN], store_caller **out)
{
	MDB_val key = bytes_val(digest, STORE_DIGEST_LEN);
	ProtobufCMessage *m;
	enrt_status status;

	status = get_record(
	    t, DB_CALLERS, &key, &enrt__v1__caller_record__descriptor, &m);
	*out = (store_caller *)m;
	return status;
}

static bool
caller_valid(store_txn *t, const store_caller *caller)
{
	assert(caller != NULL);
	if (!printable_id(caller->id, STORE_CALLER_ID_MAX)) {
		fail(t, ENRT_INVALID_ARGUMENT,
		    "id: 1 to %d printable ASCII characters, no spaces",
		    STORE_CALLER_ID_MAX);
	}
	return ok(t);
}

/* Checks both keys before anything is written: nothing half-added. */
static bool
caller_free(store_txn *t, const uint8_t digest[STORE_DIGEST_LEN],
    const store_caller *caller)
{
	MDB_val dkey = bytes_val(digest, STORE_DIGEST_LEN);
	MDB_val ikey = str_val(caller->id);

	if (key_taken(t, DB_CALLERS, &dkey)) {
		fail(t, ENRT_ALREADY_EXISTS,
		    "credential: a caller with this credential already "
		    "exists");
	} else if (key_taken(t, DB_CALLER_IDS, &ikey)) {
		fail(t, ENRT_ALREADY_EXISTS,
		    "id: a caller with id \"%s\" already exists", caller->id);
	}
	return ok(t);
}

void
store_caller_add(store_txn *t, const uint8_t digest[STORE_DIGEST_LEN],
    const store_caller *caller)
{
	MDB_val dkey = bytes_val(digest, STORE_DIGEST_LEN);
	MDB_val ikey;

	if (!ok(t) || !caller_valid(t, caller) ||
	    !caller_free(t, digest, caller)) {
		return;
	}

	ikey = str_val(caller->id);
	put_record(t, DB_CALLERS, &dkey, &caller->base);
	db_put(t, DB_CALLER_IDS, &ikey, &dkey, 0);
}

enrt_status
store_caller_by_id(store_txn *t, const char *id, store_caller **out,
    uint8_t digest[STORE_DIGEST_LEN])
{
	ProtobufCMessage *m;
	enrt_status status;

	status = record_by_id(t, &caller_index, id, &m, digest);
	*out = (store_caller *)m;
	return status;
}

void
store_caller_update(store_txn *t, const uint8_t digest[STORE_DIGEST_LEN],
    const store_caller *caller)
{
	MDB_val key = bytes_val(digest, STORE_DIGEST_LEN);
	store_caller *old;
	enrt_status status;

	if (!ok(t) || !caller_valid(t, caller)) {
		return;
	}

	status = store_caller_get(t, digest, &old);
	if (status == ENRT_NOT_FOUND) {
		fail(t, ENRT_NOT_FOUND, "caller: no such caller");
	} else if (status == ENRT_OK && !same_string(old->id, caller->id)) {
		fail(t, ENRT_INVALID_ARGUMENT,
		    "id: a caller's id never changes");
	}
	put_record(t, DB_CALLERS, &key, &caller->base);
	store_free(old);
}

static store_visit
call_caller(const record_walk *w, const ProtobufCMessage *m)
{
	return w->visit.caller(w->arg, (const store_caller *)m);
}

/* One step through caller_ids, to the record each id names. */
static enrt_status
caller_step(void *ctx, const MDB_val *key, const MDB_val *val, bool *stop)
{
	record_walk *w = ctx;
	char id[STORE_CALLER_ID_MAX + 1];
	ProtobufCMessage *m;
	enrt_status status;

	if (!id_key(w, key)) {
		return corrupt(w->t, w->d);
	}
	id_cursor(id, key);
	status = record_by_id(w->t, &caller_index, id, &m, NULL);
	if (status != ENRT_OK) {
		return status == ENRT_NOT_FOUND ? corrupt(w->t, w->d) : status;
	}

	*stop = w->call(w, m) == STORE_STOP;
	if (*stop) {
		id_cursor(w->next, key);
	}
	store_free(m);
	return ENRT_OK;
}

enrt_status
store_caller_scan(store_txn *t, const char *cursor, store_caller_visitor visit,
    void *arg, char *next)
{
	record_walk w = {.t = t,
	    .d = DB_CALLER_IDS,
	    .key_max = STORE_CALLER_ID_MAX,
	    .printable = true,
	    .desc = &enrt__v1__caller_record__descriptor,
	    .call = call_caller,
	    .visit.caller = visit,
	    .arg = arg,
	    .next = next};

	return id_scan(&w, cursor, caller_step);
}

enrt_status
store_caller_count(store_txn *t, size_t *count)
{
	MDB_stat st;
	int rc;

	*count = 0;
	if (!ok(t)) {
		return t->e.code;
	}
	rc = mdb_stat(t->txn, t->s->dbi[DB_CALLERS], &st);
	if (check(t, rc, "mdb_stat", DB_CALLERS) != ENRT_OK) {
		return t->e.code;
	}
	*count = st.ms_entries;
	return ENRT_OK;
}

/* ------------------------------------------------------------------ */
/* Audit events                                                        */

static void
event_key(uint8_t key[EVENT_KEY_LEN], uint64_t order, uint64_t sequence)
{
	be64_put(key, order);
	be64_put(key + ORDER_LEN, sequence);
}

/* The sequence of the event appended last; 0 before the first. */
static enrt_status
last_sequence(store_txn *t, uint64_t *sequence)
{
	MDB_val key = str_val(SEQUENCE_KEY), val;
	enrt_status status;

	*sequence = 0;
	status = db_get(t, DB_META, &key, &val);
	if (status != ENRT_OK) {
		return status == ENRT_NOT_FOUND ? ENRT_OK : status;
	}
	if (val.mv_size != 8) {
		return corrupt(t, DB_META);
	}
	*sequence = be64_get(val.mv_data);
	return ENRT_OK;
}

enrt_status
store_event_last(store_txn *t, uint64_t *sequence)
{
	*sequence = 0;
	if (!ok(t)) {
		return t->e.code;
	}
	return last_sequence(t, sequence);
}

static void
sequence_put(store_txn *t, uint64_t sequence)
{
	uint8_t bytes[8];
	MDB_val key = str_val(SEQUENCE_KEY);
	MDB_val val = bytes_val(bytes, sizeof(bytes));

	be64_put(bytes, sequence);
	db_put(t, DB_META, &key, &val, 0);
}

/* The time is the key: an event without one has no place in the log. */
static bool
event_valid(store_txn *t, const store_event *event)
{
	assert(event != NULL);
	if (!event->has_time) {
		fail(t, ENRT_INVALID_ARGUMENT, "time: required");
	}
	return ok(t);
}

void
store_event_append(store_txn *t, const store_event *event)
{
	uint8_t bytes[EVENT_KEY_LEN];
	store_event copy;
	MDB_val key;
	uint64_t last;

	if (!ok(t) || !event_valid(t, event) ||
	    last_sequence(t, &last) != ENRT_OK) {
		return;
	}

	copy = *event;
	copy.has_sequence = true;
	copy.sequence = last + 1;
	event_key(bytes, order_of(copy.time), copy.sequence);
	key = bytes_val(bytes, sizeof(bytes));
	sequence_put(t, copy.sequence);
	put_record(t, DB_AUDIT, &key, &copy.base);
}

/* Packed by one encoder, so that equal events give equal bytes. */
static bool
same_event(const store_event *a, const store_event *b)
{
	const ProtobufCMessage *ma = &a->base, *mb = &b->base;
	size_t n = protobuf_c_message_get_packed_size(ma);
	uint8_t *pa, *pb;
	bool same;

	if (n != protobuf_c_message_get_packed_size(mb)) {
		return false;
	}
	pa = malloc(n + 1);
	pb = malloc(n + 1);
	same = pa != NULL && pb != NULL &&
	       protobuf_c_message_pack(ma, pa) == n &&
	       protobuf_c_message_pack(mb, pb) == n && memcmp(pa, pb, n) == 0;
	free(pa);
	free(pb);
	return same;
}

enrt_status
store_event_held(store_txn *t, const store_event *event)
{
	uint8_t bytes[EVENT_KEY_LEN];
	ProtobufCMessage *m;
	MDB_val key;
	enrt_status status;

	if (!event->has_time || !event->has_sequence) {
		return absent(t);
	}
	event_key(bytes, order_of(event->time), event->sequence);
	key = bytes_val(bytes, sizeof(bytes));
	status = get_record(
	    t, DB_AUDIT, &key, &enrt__v1__audit_event__descriptor, &m);
	if (status != ENRT_OK) {
		return status;
	}
	status = same_event((const store_event *)m, event) ? ENRT_OK
	                                                   : ENRT_NOT_FOUND;
	protobuf_c_message_free_unpacked(m, NULL);
	return status;
}

/* Sets key to resume at the event that cursor names. */
static bool
event_cursor(uint8_t key[EVENT_KEY_LEN], const char *cursor)
{
	uint64_t order, sequence;

	if (strnlen(cursor, EVENT_CURSOR_LEN + 1) != EVENT_CURSOR_LEN ||
	    !hex64(cursor, &order) || cursor[ORDER_HEX] != '.' ||
	    !hex64(cursor + ORDER_HEX + 1, &sequence) || sequence == 0) {
		return false;
	}
	event_key(key, order, sequence);
	return true;
}

static store_visit
call_event(const record_walk *w, const ProtobufCMessage *m)
{
	return w->visit.event(w->arg, (const store_event *)m);
}

static enrt_status
event_step(void *ctx, const MDB_val *key, const MDB_val *val, bool *stop)
{
	record_walk *w = ctx;
	const uint8_t *k = key->mv_data;
	enrt_status status;

	if (key->mv_size != EVENT_KEY_LEN) {
		return corrupt(w->t, DB_AUDIT);
	}
	status = visit_record(w, DB_AUDIT, val, stop);
	if (status == ENRT_OK && *stop && w->next != NULL) {
		snprintf(w->next, STORE_CURSOR_MAX,
		    "%016" PRIx64 ".%016" PRIx64, be64_get(k),
		    be64_get(k + ORDER_LEN));
	}
	return status;
}

enrt_status
store_event_scan(store_txn *t, int64_t since, const char *cursor,
    store_event_visitor visit, void *arg, char *next)
{
	record_walk w = {.t = t,
	    .d = DB_AUDIT,
	    .desc = &enrt__v1__audit_event__descriptor,
	    .call = call_event,
	    .visit.event = visit,
	    .arg = arg,
	    .next = next};
	uint8_t start[EVENT_KEY_LEN];

	clear_next(next);
	if (!ok(t)) {
		return t->e.code;
	}
	if (cursor == NULL) {
		/* Sequences start at 1: this is before any event at since. */
		event_key(start, order_of(since), 0);
	} else if (!event_cursor(start, cursor)) {
		return bad_cursor(t);
	}
	return walk(
	    t, DB_AUDIT, bytes_val(start, sizeof(start)), event_step, &w);
}

/* ------------------------------------------------------------------ */
/* Last-used times                                                     */

/* The time of a row of last_used, read from its value. */
static enrt_status
use_time(store_txn *t, const MDB_val *val, int64_t *when)
{
	if (val->mv_size != 8) {
		return corrupt(t, DB_LAST_USED);
	}
	*when = (int64_t)be64_get(val->mv_data);
	return ENRT_OK;
}

enrt_status
store_last_used_get(store_txn *t, const char *token_id, int64_t *when)
{
	MDB_val key, val;
	enrt_status status;

	*when = 0;
	if (!printable_id(token_id, STORE_TOKEN_ID_MAX)) {
		return absent(t);
	}
	key = str_val(token_id);
	status = db_get(t, DB_LAST_USED, &key, &val);
	return status == ENRT_OK ? use_time(t, &val, when) : status;
}

/*
 * Through the kept cursors: a flush writes its uses in order of id, so
 * each finds its rows in the leaves the one before it left off at.
 */
void
store_last_used_put(store_txn *t, const char *token_id, int64_t when)
{
	uint8_t bytes[8];
	MDB_val key, found, val;
	int64_t stored = 0;

	if (!ok(t)) {
		return;
	}
	if (!printable_id(token_id, STORE_TOKEN_ID_MAX)) {
		fail(t, ENRT_INVALID_ARGUMENT,
		    "token_id: 1 to %d printable ASCII characters, no spaces",
		    STORE_TOKEN_ID_MAX);
		return;
	}
	key = str_val(token_id);
	if (db_seek(t, DB_TOKEN_IDS, &key, &found) != ENRT_OK) {
		return; /* purged: its row went with it */
	}
	if (db_seek(t, DB_LAST_USED, &key, &found) == ENRT_OK &&
	    (use_time(t, &found, &stored) != ENRT_OK || stored >= when)) {
		return;
	}

	be64_put(bytes, (uint64_t)when);
	val = bytes_val(bytes, sizeof(bytes));
	db_put_at(t, DB_LAST_USED, &key, &val);
}
