/*
 * Records lent by read snapshots (store_app_lend, store_user_lend) at
 * their edges: a write by another process, commits that change nothing,
 * more records in one use than a transaction keeps, more transactions
 * at once than the pool keeps, and a failed lend.  Each test has a
 * store of its own in a fresh directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "store.h"

typedef struct fixture {
	char dir[FIXTURE_DIR_LEN];
	store *s;
} fixture;

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fixture_dir_make(f->dir, "lend");
	assert_int_equal(store_open(&f->s, f->dir, NULL), ENRT_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	store_close(f->s);
	fixture_dir_remove(f->dir);
	free(f);
	return 0;
}

static void
put(store *s, const char *id, bool enabled, bool admin)
{
	store_app app = ENRT__V1__APP__INIT;
	store_user user = ENRT__V1__USER_RECORD__INIT;
	char name[32];
	store_txn *t;

	snprintf(name, sizeof(name), "n-%s", id);
	app.id = user.id = (char *)id;
	app.name = name;
	app.has_policy = app.has_enabled = true;
	app.policy = ENRT__V1__POLICY__AUTHENTICATED_USERS;
	app.enabled = enabled;
	user.has_enabled = user.has_admin = true;
	user.enabled = enabled;
	user.admin = admin;
	assert_int_equal(store_begin_write(s, &t), ENRT_OK);
	store_app_put(t, &app);
	store_user_put(t, &user);
	assert_int_equal(store_commit(t), ENRT_OK);
}

/* What a renewed read transaction lends for app id and user id. */
static void
lent_flags(store *s, const char *id, bool *app_on, bool *user_on)
{
	const store_app *app;
	const store_user *user;
	store_txn *t;

	assert_int_equal(store_begin_read(s, &t), ENRT_OK);
	assert_int_equal(store_app_lend(t, id, &app), ENRT_OK);
	assert_int_equal(store_user_lend(t, id, &user), ENRT_OK);
	*app_on = app->enabled;
	*user_on = user->enabled;
	store_abort(t);
}

/* Another process opens the environment and disables app and user. */
static void
another_process_disable_is_seen_at_the_next_renewal(void **state)
{
	fixture *f = *state;
	bool app_on, user_on;
	pid_t pid;
	int status;

	put(f->s, "a1", true, true);
	for (int i = 0; i < 3; i++) { /* warm every pooled txn */
		lent_flags(f->s, "a1", &app_on, &user_on);
		assert_true(app_on && user_on);
	}
	if ((pid = fork()) == 0) {
		store *other;

		if (store_open(&other, f->dir, NULL) != ENRT_OK) {
			_exit(2);
		}
		put(other, "a1", false, false);
		store_close(other);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	lent_flags(f->s, "a1", &app_on, &user_on);
	assert_false(app_on);
	assert_false(user_on);
}

/*
 * A write committed with no change, and one aborted, leave the snapshot
 * as it was: the record kept before is lent again, unchanged.
 */
static void
empty_commit_and_aborted_write_keep_records_valid(void **state)
{
	fixture *f = *state;
	const store_app *first, *again;
	store_app copy = ENRT__V1__APP__INIT;
	store_txn *t, *w;

	put(f->s, "a1", true, true);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_app_lend(t, "a1", &first), ENRT_OK);
	store_abort(t);
	assert_int_equal(store_begin_write(f->s, &w), ENRT_OK);
	assert_int_equal(store_commit(w), ENRT_OK);
	assert_int_equal(store_begin_write(f->s, &w), ENRT_OK);
	copy.id = "a1";
	copy.name = "n-a1";
	copy.has_enabled = true; /* disabled, then aborted */
	store_app_put(w, &copy);
	store_abort(w);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_app_lend(t, "a1", &again), ENRT_OK);
	assert_ptr_equal(first, again);
	assert_true(again->enabled);
	store_abort(t);
}

/*
 * One use lends far more records than a transaction keeps, some many times
 * (each a spill), a commit lands in the middle, and every pointer stays
 * readable; then the next renewal sees the commit.
 */
static void
spilled_records_live_until_the_use_ends_and_then_go(void **state)
{
	fixture *f = *state;
	const store_app *apps[60];
	const store_user *users[60];
	char id[16];
	store_txn *t;

	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "x%d", i);
		put(f->s, id, true, i % 2);
	}
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	for (int i = 0; i < 60; i++) {
		snprintf(id, sizeof(id), "x%d", i % 20);
		assert_int_equal(store_app_lend(t, id, &apps[i]), ENRT_OK);
		assert_int_equal(store_user_lend(t, id, &users[i]), ENRT_OK);
		if (i == 30) {
			put(f->s, "x3", false, false);
		}
	}
	for (int i = 0; i < 60; i++) {
		snprintf(id, sizeof(id), "x%d", i % 20);
		assert_string_equal(apps[i]->id, id);
		assert_string_equal(users[i]->id, id);
		assert_true(apps[i]->enabled && users[i]->enabled);
	}
	assert_true(store_lent_kept(t) <= STORE_LEND_MAX);
	store_abort(t);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_app_lend(t, "x3", &apps[0]), ENRT_OK);
	assert_false(apps[0]->enabled);
	store_abort(t);
}

/*
 * More read transactions at once than the pool keeps (32), each with
 * spilled records: the ones the pool cannot keep are freed whole, and
 * store_close frees what the idle ones keep (leak check under ASan).
 */
static void
pool_overflow_and_close_free_every_lent_record(void **state)
{
	fixture *f = *state;
	store_txn *t[40];
	const store_app *app;
	char id[16];

	for (int i = 0; i < 12; i++) {
		snprintf(id, sizeof(id), "y%d", i);
		put(f->s, id, true, true);
	}
	for (int round = 0; round < 3; round++) {
		for (int k = 0; k < 40; k++) {
			assert_int_equal(
			    store_begin_read(f->s, &t[k]), ENRT_OK);
			for (int i = 0; i < 12; i++) {
				snprintf(id, sizeof(id), "y%d", (i + k) % 12);
				assert_int_equal(
				    store_app_lend(t[k], id, &app), ENRT_OK);
			}
		}
		for (int k = 0; k < 40; k++) {
			store_abort(t[k]);
		}
		put(f->s, "y0", round % 2, true);
	}
}

/* A lend that finds nothing leaves *out NULL and keeps nothing. */
static void
lend_of_an_unknown_id_keeps_nothing(void **state)
{
	fixture *f = *state;
	const store_app *app = (const store_app *)1;
	store_txn *t;

	put(f->s, "a1", true, true);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_app_lend(t, "nope", &app), ENRT_NOT_FOUND);
	assert_null(app);
	assert_int_equal(store_lent_kept(t), 0);
	store_abort(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        another_process_disable_is_seen_at_the_next_renewal, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        empty_commit_and_aborted_write_keep_records_valid, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        spilled_records_live_until_the_use_ends_and_then_go, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        pool_overflow_and_close_free_every_lent_record, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        lend_of_an_unknown_id_keeps_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
