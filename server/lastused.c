/*
 * Last-used times: an in-memory table of token id -> newest use, filled
 * by lastused_touch on request threads and written to the store in one
 * transaction per interval, so that Introspect never writes.
 *
 * The module owns two tables under one mutex: the pending uses, and the
 * batch that a flush is writing at that moment, kept visible to
 * lastused_pending until it is committed.  A flush swaps the pending
 * table out, writes it without holding the mutex, and on failure merges
 * it back, keeping the later time of each token.  Flushes run one at a
 * time (flush_mtx): on the module's own flusher thread every interval, on
 * any thread that calls lastused_flush, and once more in lastused_stop.
 *
 * The table is open addressing with linear probing; entries are never
 * removed, only whole tables swapped, which keeps probing simple.
 */
#include "lastused.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "format.h"
#include "log.h"
#include "metrics.h"

#define TABLE_MIN       64
#define INTERVAL_MIN_MS 10

/*
 * How many entries ahead a flush asks for the next entry's memory: in
 * order of id they lie all over the table, and each cost a cache miss
 * when it was read only as it was written.
 */
#define PREFETCH_AHEAD 8

typedef struct entry {
	char id[FORMAT_ID_MAX]; /* "" marks a free slot */
	int64_t when;
} entry;

typedef struct table {
	entry *slots;
	size_t cap; /* 0 or a power of two */
	size_t count;
} table;

struct lastused {
	store *store;
	long interval_ms;
	pthread_t flusher;

	pthread_mutex_t mtx;
	pthread_cond_t wake; /* stopping was set */
	bool stopping;       /* mtx */
	table pending;       /* mtx */
	table flushing;      /* mtx: being written by the flush in progress */

	pthread_mutex_t flush_mtx; /* held for a whole flush */
	size_t last_count;         /* flush_mtx: entries the last one took */
};

/* FNV-1a: short keys, no adversary (ids are random), cheap. */
static size_t
hash(const char *id)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *id != '\0'; id++) {
		h ^= (unsigned char)*id;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* The slot of id, or the free slot where it belongs; cap is not 0. */
static entry *
table_slot(const table *tb, const char *id)
{
	size_t i = hash(id) & (tb->cap - 1);

	while (
	    tb->slots[i].id[0] != '\0' && strcmp(tb->slots[i].id, id) != 0) {
		i = (i + 1) & (tb->cap - 1);
	}
	return &tb->slots[i];
}

static const entry *
table_find(const table *tb, const char *id)
{
	const entry *e;

	if (tb->cap == 0) {
		return NULL;
	}
	e = table_slot(tb, id);
	return e->id[0] != '\0' ? e : NULL;
}

/* Stores id with when, or raises its time to when; never lowers it. */
static void
table_put_slot(table *tb, const char *id, int64_t when)
{
	entry *e = table_slot(tb, id);

	if (e->id[0] == '\0') {
		strcpy(e->id, id);
		e->when = when;
		tb->count++;
	} else if (when > e->when) {
		e->when = when;
	}
}

/* Doubles the table (or makes the first one), rehashing every entry. */
static bool
table_grow(table *tb)
{
	table bigger = {0};
	size_t i;

	bigger.cap = tb->cap ? tb->cap * 2 : TABLE_MIN;
	if ((bigger.slots = calloc(bigger.cap, sizeof(entry))) == NULL) {
		return false;
	}
	for (i = 0; i < tb->cap; i++) {
		if (tb->slots[i].id[0] != '\0') {
			table_put_slot(
			    &bigger, tb->slots[i].id, tb->slots[i].when);
		}
	}
	free(tb->slots);
	*tb = bigger;
	return true;
}

/* Keeps the load at most 3/4, so that probing always ends. */
static bool
table_put(table *tb, const char *id, int64_t when)
{
	if ((tb->count + 1) * 4 > tb->cap * 3 && !table_grow(tb)) {
		return false;
	}
	table_put_slot(tb, id, when);
	return true;
}

/*
 * An empty table large enough for count entries, or none when count is
 * 0 or memory is short.  Growing a table rehashes every entry with the
 * mutex held, while every Introspect that answers active waits for it;
 * a table made for as many uses as the interval before takes the next
 * interval's without growing, and an idle interval gives it back.
 */
static table
table_for(size_t count)
{
	table tb = {0};
	size_t cap = TABLE_MIN;

	if (count == 0) {
		return tb;
	}
	while (count * 4 > cap * 3) {
		cap *= 2;
	}
	if ((tb.slots = calloc(cap, sizeof(entry))) != NULL) {
		tb.cap = cap;
	}
	return tb;
}

static void
table_free(table *tb)
{
	free(tb->slots);
	*tb = (table){0};
}

/*
 * Puts every entry of from into into, keeping the later times.  Returns
 * how many could not be kept for want of memory.
 */
static size_t
table_merge(table *into, const table *from)
{
	size_t i;
	size_t lost = 0;

	for (i = 0; i < from->cap; i++) {
		const entry *e = &from->slots[i];

		if (e->id[0] != '\0' && !table_put(into, e->id, e->when)) {
			lost++;
		}
	}
	return lost;
}

/*
 * An id the store would refuse would fail, and so block, every flush
 * that carried it: such ids are turned away at the door.
 */
static bool
valid_id(const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0'; i++) {
		if (i == FORMAT_ID_MAX - 1 || id[i] <= ' ' || id[i] > '~') {
			return false;
		}
	}
	return i > 0;
}

void
lastused_touch(lastused *lu, const char *token_id, int64_t when)
{
	bool kept;

	if (!valid_id(token_id)) {
		log_error("last_used_bad_id", "length=%zu", strlen(token_id));
		return;
	}

	pthread_mutex_lock(&lu->mtx);
	kept = table_put(&lu->pending, token_id, when);
	pthread_mutex_unlock(&lu->mtx);

	if (!kept) {
		log_error("last_used_dropped", "token_id=%s reason=no_memory",
		    token_id);
	}
}

bool
lastused_pending(lastused *lu, const char *token_id, int64_t *when)
{
	const entry *p;
	const entry *f;

	pthread_mutex_lock(&lu->mtx);
	p = table_find(&lu->pending, token_id);
	f = table_find(&lu->flushing, token_id);
	if (p != NULL && (f == NULL || p->when >= f->when)) {
		*when = p->when;
	} else if (f != NULL) {
		*when = f->when;
	}
	pthread_mutex_unlock(&lu->mtx);
	return p != NULL || f != NULL;
}

/*
 * An entry of a batch with the first 16 bytes of its id read as two
 * numbers that compare as the bytes do, so that sorting compares ids
 * without reading the entries, scattered over the table, but for ties.
 */
typedef struct sort_key {
	uint64_t hi;
	uint64_t lo;
	const entry *e;
} sort_key;

static uint64_t
big_endian(const unsigned char *bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v = v << 8 | bytes[i];
	}
	return v;
}

static sort_key
key_of(const entry *e)
{
	unsigned char head[16] = {0};

	for (size_t i = 0; i < sizeof(head) && e->id[i] != '\0'; i++) {
		head[i] = (unsigned char)e->id[i];
	}
	return (sort_key){big_endian(head), big_endian(head + 8), e};
}

static int
compare_keys(const void *a, const void *b)
{
	const sort_key *x = a;
	const sort_key *y = b;

	if (x->hi != y->hi) {
		return x->hi < y->hi ? -1 : 1;
	}
	if (x->lo != y->lo) {
		return x->lo < y->lo ? -1 : 1;
	}
	return strcmp(x->e->id, y->e->id);
}

/*
 * The entries of batch in order of id; NULL when out of memory.  The
 * batch stays a hash table, since lastused_pending looks it up while
 * the flush runs.  Written in this order, the store's tables keyed by
 * token id are walked from one leaf to the next, where the hash
 * table's order jumps between leaves all over the store: with a
 * million tokens in use, that made the flush a large share of the
 * server's CPU.
 */
static sort_key *
in_id_order(const table *batch)
{
	sort_key *order = malloc(batch->count * sizeof(*order));
	size_t n = 0;

	if (order == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < batch->cap; i++) {
		if (batch->slots[i].id[0] != '\0') {
			order[n++] = key_of(&batch->slots[i]);
		}
	}
	assert(n == batch->count);
	qsort(order, n, sizeof(*order), compare_keys);
	return order;
}

/* An entry may straddle two cache lines: its id's and its time's. */
static void
prefetch_entry(const entry *e)
{
	__builtin_prefetch(e->id);
	__builtin_prefetch(&e->when);
}

/*
 * Writes every entry of batch, which is not empty, in one transaction.
 * Out of memory, it writes nothing and the batch waits for the next.
 */
static enrt_status
write_batch(store *s, const table *batch)
{
	sort_key *order = in_id_order(batch);
	store_txn *txn;
	enrt_status st;

	if (order == NULL) {
		return ENRT_RESOURCE_EXHAUSTED;
	}
	if ((st = store_begin_write(s, &txn)) == ENRT_OK) {
		for (size_t i = 0; i < batch->count; i++) {
			if (i + PREFETCH_AHEAD < batch->count) {
				prefetch_entry(order[i + PREFETCH_AHEAD].e);
			}
			store_last_used_put(
			    txn, order[i].e->id, order[i].e->when);
		}
		st = store_commit(txn);
	}
	free(order);
	return st;
}

static int64_t
monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Ends a flush: on failure the batch goes back to pending. */
static void
settle(lastused *lu, enrt_status st)
{
	size_t lost = 0;

	pthread_mutex_lock(&lu->mtx);
	if (st != ENRT_OK) {
		lost = table_merge(&lu->pending, &lu->flushing);
	}
	table_free(&lu->flushing);
	pthread_mutex_unlock(&lu->mtx);

	if (lost > 0) {
		log_error(
		    "last_used_dropped", "count=%zu reason=no_memory", lost);
	}
}

enrt_status
lastused_flush(lastused *lu)
{
	enrt_status st = ENRT_OK;
	table fresh;
	size_t count;
	int64_t start = monotonic_us();

	pthread_mutex_lock(&lu->flush_mtx);
	fresh = table_for(lu->last_count);
	pthread_mutex_lock(&lu->mtx);
	lu->flushing = lu->pending;
	lu->pending = fresh;
	count = lu->flushing.count;
	pthread_mutex_unlock(&lu->mtx);
	lu->last_count = count;

	if (count > 0) {
		st = write_batch(lu->store, &lu->flushing);
	}
	settle(lu, st);
	pthread_mutex_unlock(&lu->flush_mtx);
	metrics_flush(st == ENRT_OK);

	if (st != ENRT_OK) {
		log_error("last_used_flush_failed", "count=%zu status=%s",
		    count, enrt_status_name(st));
	} else if (count > 0) {
		log_debug("last_used_flushed", "count=%zu duration_us=%lld",
		    count, (long long)(monotonic_us() - start));
	}
	return st;
}

/*
 * Sleeps one interval, waking early only to stop.  Returns with the
 * mutex held, as it was taken, and true when stopping.
 */
static bool
wait_interval(lastused *lu)
{
	struct timespec deadline;
	int rv = 0;

	clock_deadline(&deadline, lu->interval_ms);
	while (!lu->stopping && rv != ETIMEDOUT) {
		rv = pthread_cond_timedwait(&lu->wake, &lu->mtx, &deadline);
	}
	return lu->stopping;
}

static void *
flusher_main(void *arg)
{
	lastused *lu = arg;

	pthread_mutex_lock(&lu->mtx);
	while (!wait_interval(lu)) {
		pthread_mutex_unlock(&lu->mtx);
		(void)lastused_flush(lu); /* a failure is logged and kept */
		pthread_mutex_lock(&lu->mtx);
	}
	pthread_mutex_unlock(&lu->mtx);
	return NULL;
}

static bool
init_sync(lastused *lu)
{
	int rv;

	rv = clock_cond_init(&lu->wake);
	if (rv != 0) {
		return false;
	}
	pthread_mutex_init(&lu->mtx, NULL);
	pthread_mutex_init(&lu->flush_mtx, NULL);
	return true;
}

static void
fini_sync(lastused *lu)
{
	pthread_mutex_destroy(&lu->flush_mtx);
	pthread_mutex_destroy(&lu->mtx);
	pthread_cond_destroy(&lu->wake);
}

enrt_status
lastused_start(lastused **out, store *s, int interval_ms)
{
	lastused *lu;
	int rv;

	*out = NULL;
	if (s == NULL || interval_ms < INTERVAL_MIN_MS) {
		return ENRT_INVALID_ARGUMENT;
	}
	if ((lu = calloc(1, sizeof(*lu))) == NULL) {
		return ENRT_RESOURCE_EXHAUSTED;
	}
	lu->store = s;
	lu->interval_ms = interval_ms;
	if (!init_sync(lu)) {
		free(lu);
		return ENRT_INTERNAL;
	}

	if ((rv = pthread_create(&lu->flusher, NULL, flusher_main, lu)) != 0) {
		log_error(
		    "last_used_thread_failed", "error=\"%s\"", strerror(rv));
		fini_sync(lu);
		free(lu);
		return ENRT_INTERNAL;
	}
	*out = lu;
	return ENRT_OK;
}

void
lastused_stop(lastused *lu)
{
	if (lu == NULL) {
		return;
	}
	pthread_mutex_lock(&lu->mtx);
	lu->stopping = true;
	pthread_cond_signal(&lu->wake);
	pthread_mutex_unlock(&lu->mtx);
	pthread_join(lu->flusher, NULL);

	if (lastused_flush(lu) != ENRT_OK) {
		log_error("last_used_lost", "count=%zu", lu->pending.count);
	}
	table_free(&lu->pending);
	fini_sync(lu);
	free(lu);
}
