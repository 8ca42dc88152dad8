/*
 * The last-used writer against a real store in a temporary directory.
 * To see how many write transactions a flush took, the tests read LMDB's
 * last transaction id from the environment's meta pages, with a second,
 * read-only handle that takes no locks.
 */
#define _XOPEN_SOURCE 700 /* nftw */

#include <ftw.h>
#include <lmdb.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "fixture.h"
#include "lastused.h"

#define NEVER_MS   (3600 * 1000) /* an interval no test outlives */
#define THREADS    4
#define PER_THREAD 500

typedef struct fixture {
	char dir[64];
	store *s;
	lastused *lu;
} fixture;

static int
remove_entry(
    const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
id_of(char *out, size_t size, int n)
{
	snprintf(out, size, "tok_%018d", n);
}

/* A token with this id, as a flush writes only for tokens that exist. */
static void
add_token(store_txn *t, uint32_t n, const char *id)
{
	uint8_t digest[STORE_DIGEST_LEN] = {0};
	store_token tok = ENRT__V1__TOKEN_RECORD__INIT;

	memcpy(digest, &n, sizeof(n));
	tok.id = (char *)id;
	tok.app_id = "app_1";
	tok.owner = "alice";
	tok.has_created_at = true;
	tok.created_at = 1;
	store_token_add(t, digest, &tok);
}

/* Tokens id_of(from) to id_of(to - 1), and (from 0) tok_a to tok_f. */
static int
add_tokens(store *s, int from, int to)
{
	static const char *const named[] = {
	    "tok_a", "tok_b", "tok_c", "tok_d", "tok_e", "tok_f"};
	char id[32];
	store_txn *t;

	if (store_begin_write(s, &t) != ENRT_OK) {
		return -1;
	}
	for (int i = 0; i < 6 && from == 0; i++) {
		add_token(t, (uint32_t)(UINT32_MAX - i), named[i]);
	}
	for (int i = from; i < to; i++) {
		id_of(id, sizeof(id), i);
		add_token(t, (uint32_t)i, id);
	}
	return store_commit(t) == ENRT_OK ? 0 : -1;
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	strcpy(f->dir, "/tmp/test_lastused.XXXXXX");
	if (mkdtemp(f->dir) == NULL || store_open(&f->s, f->dir, NULL) ||
	    add_tokens(f->s, 0, THREADS * PER_THREAD) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	lastused_stop(f->lu);
	store_close(f->s);
	nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void
start(fixture *f, int interval_ms)
{
	assert_int_equal(lastused_start(&f->lu, f->s, interval_ms), ENRT_OK);
}

static void
stop(fixture *f)
{
	lastused_stop(f->lu);
	f->lu = NULL;
}

/* The stored time of id, or -1 when there is none. */
static int64_t
stored(fixture *f, const char *id)
{
	store_txn *txn;
	int64_t when = -1;
	enrt_status st;

	assert_int_equal(store_begin_read(f->s, &txn), ENRT_OK);
	st = store_last_used_get(txn, id, &when);
	store_abort(txn);
	if (st == ENRT_NOT_FOUND) {
		return -1;
	}
	assert_int_equal(st, ENRT_OK);
	return when;
}

static void
flush_writes_every_use_in_one_transaction(void **state)
{
	fixture *f = *state;
	char id[32];
	size_t before;
	int i;

	start(f, NEVER_MS);
	for (i = 0; i < 300; i++) {
		id_of(id, sizeof(id), i);
		lastused_touch(f->lu, id, 1000 + i);
	}
	before = fixture_last_txnid(f->dir);

	assert_int_equal(lastused_flush(f->lu), ENRT_OK);
	assert_int_equal(fixture_last_txnid(f->dir), before + 1);
	for (i = 0; i < 300; i++) {
		id_of(id, sizeof(id), i);
		assert_int_equal(stored(f, id), 1000 + i);
	}
}

/*
 * The interval after a busy one starts with a table sized for it; its
 * uses, and a later time for one already written, land all the same.
 */
static void
interval_after_a_busy_one_is_written_whole(void **state)
{
	fixture *f = *state;
	char id[32];
	int i;

	start(f, NEVER_MS);
	for (i = 0; i < 300; i++) {
		id_of(id, sizeof(id), i);
		lastused_touch(f->lu, id, 1000 + i);
	}
	assert_int_equal(lastused_flush(f->lu), ENRT_OK);

	for (i = 200; i < 600; i++) {
		id_of(id, sizeof(id), i);
		lastused_touch(f->lu, id, 5000 + i);
	}
	assert_int_equal(lastused_flush(f->lu), ENRT_OK);
	for (i = 0; i < 600; i++) {
		id_of(id, sizeof(id), i);
		assert_int_equal(stored(f, id), i < 200 ? 1000 + i : 5000 + i);
	}

	assert_int_equal(lastused_flush(f->lu), ENRT_OK); /* an idle one */
	id_of(id, sizeof(id), 7);
	lastused_touch(f->lu, id, 9000);
	assert_int_equal(lastused_flush(f->lu), ENRT_OK);
	assert_int_equal(stored(f, id), 9000);
}

static void
flush_with_nothing_pending_writes_nothing(void **state)
{
	fixture *f = *state;
	size_t before = fixture_last_txnid(f->dir);

	start(f, NEVER_MS);
	assert_int_equal(lastused_flush(f->lu), ENRT_OK);
	assert_int_equal(fixture_last_txnid(f->dir), before);
}

static void
later_touch_wins_and_earlier_is_ignored(void **state)
{
	fixture *f = *state;
	int64_t when = 0;

	start(f, NEVER_MS);
	lastused_touch(f->lu, "tok_a", 200);
	lastused_touch(f->lu, "tok_a", 100);
	lastused_touch(f->lu, "tok_a", 150);

	assert_true(lastused_pending(f->lu, "tok_a", &when));
	assert_int_equal(when, 200);
	assert_int_equal(lastused_flush(f->lu), ENRT_OK);
	assert_int_equal(stored(f, "tok_a"), 200);
}

static void
stored_time_never_goes_backwards(void **state)
{
	fixture *f = *state;

	start(f, NEVER_MS);
	lastused_touch(f->lu, "tok_b", 500);
	assert_int_equal(lastused_flush(f->lu), ENRT_OK);

	lastused_touch(f->lu, "tok_b", 400);
	assert_int_equal(lastused_flush(f->lu), ENRT_OK);
	assert_int_equal(stored(f, "tok_b"), 500);

	lastused_touch(f->lu, "tok_b", 600);
	assert_int_equal(lastused_flush(f->lu), ENRT_OK);
	assert_int_equal(stored(f, "tok_b"), 600);
}

static void
pending_shows_unflushed_use_until_flushed(void **state)
{
	fixture *f = *state;
	int64_t when = 0;

	start(f, NEVER_MS);
	assert_false(lastused_pending(f->lu, "tok_c", &when));
	lastused_touch(f->lu, "tok_c", 42);

	assert_true(lastused_pending(f->lu, "tok_c", &when));
	assert_int_equal(when, 42);
	assert_int_equal(stored(f, "tok_c"), -1);

	assert_int_equal(lastused_flush(f->lu), ENRT_OK);
	assert_false(lastused_pending(f->lu, "tok_c", &when));
	assert_int_equal(stored(f, "tok_c"), 42);
}

static void
stop_flushes_pending_uses(void **state)
{
	fixture *f = *state;

	start(f, NEVER_MS);
	lastused_touch(f->lu, "tok_d", 7);
	lastused_touch(f->lu, "tok_e", 8);
	assert_int_equal(stored(f, "tok_d"), -1);

	stop(f);
	assert_int_equal(stored(f, "tok_d"), 7);
	assert_int_equal(stored(f, "tok_e"), 8);
}

static void
flusher_writes_on_its_own(void **state)
{
	fixture *f = *state;
	int64_t when = 0;
	int tries;

	start(f, 10);
	lastused_touch(f->lu, "tok_f", 99);

	/* Polls with a generous failsafe; no timing is asserted. */
	for (tries = 0; tries < 1000 && stored(f, "tok_f") != 99; tries++) {
		nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
	}
	assert_int_equal(stored(f, "tok_f"), 99);
	assert_false(lastused_pending(f->lu, "tok_f", &when));
}

typedef struct toucher {
	lastused *lu;
	int thread;
} toucher;

static void *
toucher_main(void *arg)
{
	toucher *t = arg;
	char id[32];
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		id_of(id, sizeof(id), t->thread * PER_THREAD + i);
		lastused_touch(t->lu, id, i);
		lastused_touch(t->lu, id, i + 1);
	}
	return NULL;
}

static void
touches_from_many_threads_all_land(void **state)
{
	fixture *f = *state;
	pthread_t threads[THREADS];
	toucher args[THREADS];
	char id[32];
	int i;

	start(f, 10);
	for (i = 0; i < THREADS; i++) {
		args[i] = (toucher){.lu = f->lu, .thread = i};
		assert_int_equal(
		    pthread_create(&threads[i], NULL, toucher_main, &args[i]),
		    0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(threads[i], NULL);
	}
	stop(f);

	for (i = 0; i < THREADS * PER_THREAD; i++) {
		id_of(id, sizeof(id), i);
		assert_int_equal(stored(f, id), i % PER_THREAD + 1);
	}
}

static void
failed_flush_keeps_uses_pending(void **state)
{
	fixture *f = *state;
	store_options tiny = {.map_size = 256 * 1024};
	char id[32];
	int64_t when = 0;
	int i;

	/* LMDB raises a map below the data's size to that size: full. */
	assert_int_equal(add_tokens(f->s, THREADS * PER_THREAD, 20000), 0);
	store_close(f->s);
	assert_int_equal(store_open(&f->s, f->dir, &tiny), ENRT_OK);
	start(f, NEVER_MS);
	for (i = 0; i < 20000; i++) {
		id_of(id, sizeof(id), i);
		lastused_touch(f->lu, id, 100);
	}

	assert_int_equal(lastused_flush(f->lu), ENRT_RESOURCE_EXHAUSTED);
	id_of(id, sizeof(id), 0);
	assert_int_equal(stored(f, id), -1);
	lastused_touch(f->lu, id, 50);
	assert_true(lastused_pending(f->lu, id, &when));
	assert_int_equal(when, 100);

	id_of(id, sizeof(id), 19999);
	lastused_touch(f->lu, id, 300);
	assert_true(lastused_pending(f->lu, id, &when));
	assert_int_equal(when, 300);
}

static void
touch_turns_away_ids_the_store_would_refuse(void **state)
{
	fixture *f = *state;
	char long_id[64];
	int64_t when = 0;

	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	start(f, NEVER_MS);
	lastused_touch(f->lu, "tok with space", 1);
	lastused_touch(f->lu, "", 1);
	lastused_touch(f->lu, long_id, 1);
	lastused_touch(f->lu, "tok_f", 2);

	assert_false(lastused_pending(f->lu, "tok with space", &when));
	assert_false(lastused_pending(f->lu, long_id, &when));
	assert_int_equal(lastused_flush(f->lu), ENRT_OK);
	assert_int_equal(stored(f, "tok_f"), 2);
}

static void
start_rejects_interval_below_10_ms(void **state)
{
	fixture *f = *state;

	assert_int_equal(
	    lastused_start(&f->lu, f->s, 9), ENRT_INVALID_ARGUMENT);
	assert_null(f->lu);
}

static void
stop_accepts_null(void **state)
{
	lastused_stop(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        flush_writes_every_use_in_one_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        interval_after_a_busy_one_is_written_whole, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        flush_with_nothing_pending_writes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        later_touch_wins_and_earlier_is_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        stored_time_never_goes_backwards, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        pending_shows_unflushed_use_until_flushed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        stop_flushes_pending_uses, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        flusher_writes_on_its_own, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        touches_from_many_threads_all_land, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        failed_flush_keeps_uses_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        touch_turns_away_ids_the_store_would_refuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        start_rejects_interval_below_10_ms, setup, teardown),
	    cmocka_unit_test(stop_accepts_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
