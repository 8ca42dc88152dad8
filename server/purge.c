/*
 * The purge of tokens past their retention.  Owns one thread, which
 * sweeps when started and then every interval until purge_stop; the
 * sweep itself touches nothing but the store.  A token that is removed
 * can never be active again (revocation is final, and a token past its
 * expiry stays past it), so removing one changes no Introspect answer:
 * an unknown token is inactive as a revoked one is.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "purge.h"

#define PAGE_MAX        1024 /* tokens read per read transaction */
#define INTERVAL_MIN_MS 10

struct purge {
	store *store;
	purge_options options;
	pthread_t thread;

	pthread_mutex_t mtx;
	pthread_cond_t wake;
	atomic_bool stopping; /* set under mtx, read without it */
};

/* One page of a sweep: where it stands and what it found. */
typedef struct page {
	int64_t limit; /* a token revoked or expired at or before this goes */
	uint8_t found[PURGE_BATCH][STORE_DIGEST_LEN];
	size_t n_found;
	size_t n_read;
	uint8_t last[STORE_DIGEST_LEN]; /* the page resumes after it */
	bool has_last;
	bool more; /* the walk stopped before the end of the tokens */
} page;

static bool
purgeable(const store_token *t, int64_t limit)
{
	if (t->has_revoked_at && t->revoked_at <= limit) {
		return true;
	}
	return t->has_expires_at && t->expires_at <= limit;
}

static store_visit
consider(void *arg, const uint8_t digest[STORE_DIGEST_LEN],
    const store_token *token)
{
	page *p = arg;

	memcpy(p->last, digest, STORE_DIGEST_LEN);
	p->has_last = true;
	p->n_read++;
	if (purgeable(token, p->limit)) {
		memcpy(p->found[p->n_found++], digest, STORE_DIGEST_LEN);
	}
	p->more = p->n_found == PURGE_BATCH || p->n_read == PAGE_MAX;
	return p->more ? STORE_STOP : STORE_CONTINUE;
}

static enrt_status
read_page(store *s, page *p)
{
	uint8_t after[STORE_DIGEST_LEN];
	bool resume = p->has_last;
	store_txn *t;
	enrt_status st;

	memcpy(after, p->last, STORE_DIGEST_LEN);
	p->n_found = p->n_read = 0;
	p->more = false;
	if ((st = store_begin_read(s, &t)) != ENRT_OK) {
		return st;
	}
	st = store_token_walk(t, resume ? after : NULL, consider, p);
	store_abort(t);
	return st;
}

/* Removes one token if it still may go; true when it went. */
static bool
remove_one(store_txn *t, const uint8_t digest[STORE_DIGEST_LEN], int64_t limit,
    char *id, size_t id_max)
{
	store_token *token;
	bool gone = false;

	if (store_token_get(t, digest, &token) != ENRT_OK) {
		return false; /* gone already, or the failure is sticky */
	}
	if (purgeable(token, limit)) {
		snprintf(id, id_max, "%s", token->id);
		store_token_remove(t, digest);
		gone = true;
	}
	store_free(token);
	return gone;
}

static enrt_status
remove_found(store *s, const page *p, size_t *removed)
{
	char ids[PURGE_BATCH][STORE_TOKEN_ID_MAX + 1];
	size_t n = 0;
	store_txn *t;
	enrt_status st;

	if ((st = store_begin_write(s, &t)) != ENRT_OK) {
		return st;
	}
	for (size_t i = 0; i < p->n_found; i++) {
		n += remove_one(
		    t, p->found[i], p->limit, ids[n], sizeof(ids[n]));
	}
	if ((st = store_commit(t)) != ENRT_OK) {
		return st;
	}

	for (size_t i = 0; i < n; i++) {
		log_debug("token_purged", "token_id=%s", ids[i]);
	}
	*removed += n;
	return ENRT_OK;
}

static bool
stopped(atomic_bool *stopping)
{
	return stopping != NULL && atomic_load(stopping);
}

static enrt_status
sweep(store *s, int64_t now, int64_t retention_s, size_t *removed,
    atomic_bool *stopping)
{
	page *p = calloc(1, sizeof(*p));
	enrt_status st = ENRT_OK;

	*removed = 0;
	if (p == NULL) {
		return ENRT_RESOURCE_EXHAUSTED;
	}
	p->limit = now - retention_s;
	do {
		st = read_page(s, p);
		if (st == ENRT_OK && p->n_found > 0) {
			st = remove_found(s, p, removed);
		}
	} while (st == ENRT_OK && p->more && !stopped(stopping));
	free(p);
	return st;
}

enrt_status
purge_sweep(store *s, int64_t now, int64_t retention_s, size_t *removed)
{
	size_t n;

	if (removed == NULL) {
		removed = &n;
	}
	return sweep(s, now, retention_s, removed, NULL);
}

static void
sweep_now(purge *p)
{
	size_t removed = 0;
	enrt_status st;

	st = sweep(p->store, (int64_t)time(NULL), p->options.retention_s,
	    &removed, &p->stopping);
	if (st != ENRT_OK) {
		log_error("purge_failed", "removed=%zu status=%s", removed,
		    enrt_status_name(st));
	} else if (removed > 0) {
		log_info("purge_swept", "removed=%zu retention_s=%lld",
		    removed, (long long)p->options.retention_s);
	}
}

/* Sleeps one interval, waking early only to stop; true when stopping. */
static bool
wait_interval(purge *p)
{
	struct timespec deadline;
	int rv = 0;

	clock_deadline(&deadline, p->options.interval_ms);
	pthread_mutex_lock(&p->mtx);
	while (!atomic_load(&p->stopping) && rv != ETIMEDOUT) {
		rv = pthread_cond_timedwait(&p->wake, &p->mtx, &deadline);
	}
	pthread_mutex_unlock(&p->mtx);
	return atomic_load(&p->stopping);
}

static void *
sweeper_main(void *arg)
{
	purge *p = arg;

	do {
		sweep_now(p);
	} while (!wait_interval(p));
	return NULL;
}

enrt_status
purge_start(purge **out, store *s, const purge_options *o)
{
	purge *p;
	int rv;

	*out = NULL;
	if (s == NULL || o->interval_ms < INTERVAL_MIN_MS ||
	    o->retention_s < 0) {
		return ENRT_INVALID_ARGUMENT;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		return ENRT_RESOURCE_EXHAUSTED;
	}
	p->store = s;
	p->options = *o;
	atomic_init(&p->stopping, false);
	if ((rv = clock_cond_init(&p->wake)) == 0) {
		pthread_mutex_init(&p->mtx, NULL);
		rv = pthread_create(&p->thread, NULL, sweeper_main, p);
		if (rv != 0) {
			pthread_mutex_destroy(&p->mtx);
			pthread_cond_destroy(&p->wake);
		}
	}
	if (rv != 0) {
		log_error("purge_thread_failed", "error=\"%s\"", strerror(rv));
		free(p);
		return ENRT_INTERNAL;
	}
	*out = p;
	return ENRT_OK;
}

void
purge_stop(purge *p)
{
	if (p == NULL) {
		return;
	}
	pthread_mutex_lock(&p->mtx);
	atomic_store(&p->stopping, true);
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->mtx);
	pthread_join(p->thread, NULL);

	pthread_mutex_destroy(&p->mtx);
	pthread_cond_destroy(&p->wake);
	free(p);
}
