/*
 * The writer against a real store in a temporary directory.  A gate job
 * holds the writer's thread inside its batch while the test queues more
 * jobs, so that those go into the next batch together; LMDB's last
 * transaction id, read from the meta pages with a second handle that
 * takes no locks, counts the commits.  The gate writes nothing, and
 * LMDB counts no commit that wrote nothing.
 *
 * To make a commit fail, this program defines fdatasync, the call with
 * which LMDB makes a commit durable: the dynamic linker binds LMDB's
 * call to the executable's definition, which fails while fail_sync is
 * set and is the real one otherwise.
 */
#define _GNU_SOURCE       /* RTLD_NEXT */
#define _XOPEN_SOURCE 700 /* nftw */

#include <dlfcn.h>
#include <errno.h>
#include <ftw.h>
#include <lmdb.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "writer.h"

#define JOBS_MAX 32

static atomic_bool fail_sync;

int
fdatasync(int fd)
{
	static int (*real)(int);

	if (atomic_load(&fail_sync)) {
		errno = EIO;
		return -1;
	}
	if (real == NULL) {
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	}
	return real(fd);
}

typedef struct fixture fixture;

/* A job that stores an app; its outcome and when it was told. */
typedef struct app_job {
	writer_job job; /* first */
	fixture *f;
	char id[16];
	char name[16];
	bool refuse_after_write; /* writes, then refuses */
	bool record_refusal;     /* stores "refused-ID" when refused */
	bool told;
	enrt_status outcome;
	int told_as; /* the order in which jobs were told */
	char message[128];
} app_job;

struct fixture {
	char dir[64];
	store *s;
	writer *w;
	app_job jobs[JOBS_MAX];

	pthread_mutex_t mtx;
	pthread_cond_t cond;
	bool gate_entered; /* mtx */
	bool gate_open;    /* mtx */
	int told;          /* mtx */
	writer_job gate;
};

static int
remove_entry(
    const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	strcpy(f->dir, "/tmp/test_writer.XXXXXX");
	if (mkdtemp(f->dir) == NULL || store_open(&f->s, f->dir, NULL)) {
		free(f);
		return -1;
	}
	pthread_mutex_init(&f->mtx, NULL);
	pthread_cond_init(&f->cond, NULL);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	atomic_store(&fail_sync, false);
	writer_stop(f->w);
	store_close(f->s);
	nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->mtx);
	free(f);
	return 0;
}

static void
put_app(store_txn *t, const char *id, const char *name)
{
	store_app app = ENRT__V1__APP__INIT;

	app.id = (char *)id;
	app.name = (char *)name;
	store_app_put(t, &app);
}

static enrt_status
app_apply(writer_job *job, store_txn *t)
{
	app_job *j = (app_job *)job;

	put_app(t, j->id, j->name);
	if (store_status(t) != ENRT_OK) {
		snprintf(
		    j->message, sizeof(j->message), "%s", store_message(t));
		return store_status(t);
	}
	return j->refuse_after_write ? ENRT_FAILED_PRECONDITION : ENRT_OK;
}

static void
app_refused(writer_job *job, store_txn *t, enrt_status st)
{
	app_job *j = (app_job *)job;
	char id[32];

	snprintf(id, sizeof(id), "refused-%s", j->id);
	put_app(t, id, id);
}

static void
app_done(writer_job *job, enrt_status st)
{
	app_job *j = (app_job *)job;
	fixture *f = j->f;

	pthread_mutex_lock(&f->mtx);
	j->told = true;
	j->outcome = st;
	j->told_as = f->told++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->mtx);
}

static app_job *
job(fixture *f, int i, const char *name)
{
	app_job *j = &f->jobs[i];

	j->f = f;
	j->job.apply = app_apply;
	j->job.refused = j->record_refusal ? app_refused : NULL;
	j->job.done = app_done;
	snprintf(j->id, sizeof(j->id), "app-%d", i);
	snprintf(j->name, sizeof(j->name), "%s", name);
	return j;
}

static void
submit(fixture *f, app_job *j)
{
	writer_submit(f->w, &j->job);
}

/* Blocks the writer's thread until the test opens the gate. */
static enrt_status
gate_apply(writer_job *job, store_txn *t)
{
	fixture *f = (fixture *)((char *)job - offsetof(fixture, gate));

	pthread_mutex_lock(&f->mtx);
	f->gate_entered = true;
	pthread_cond_broadcast(&f->cond);
	while (!f->gate_open) {
		pthread_cond_wait(&f->cond, &f->mtx);
	}
	pthread_mutex_unlock(&f->mtx);
	return ENRT_OK;
}

static void
gate_done(writer_job *job, enrt_status st)
{
}

/* Holds the writer inside a batch of its own; returns once it is. */
static void
close_gate(fixture *f)
{
	f->gate = (writer_job){.apply = gate_apply, .done = gate_done};
	writer_submit(f->w, &f->gate);
	pthread_mutex_lock(&f->mtx);
	while (!f->gate_entered) {
		pthread_cond_wait(&f->cond, &f->mtx);
	}
	pthread_mutex_unlock(&f->mtx);
}

static void
open_gate(fixture *f)
{
	pthread_mutex_lock(&f->mtx);
	f->gate_open = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->mtx);
}

static void
wait_told(fixture *f, int n)
{
	pthread_mutex_lock(&f->mtx);
	while (f->told < n) {
		pthread_cond_wait(&f->cond, &f->mtx);
	}
	pthread_mutex_unlock(&f->mtx);
}

static bool
app_exists(fixture *f, const char *id)
{
	store_app *app = NULL;
	store_txn *t;
	enrt_status st;

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	st = store_app_get(t, id, &app);
	store_abort(t);
	store_free(app);
	assert_true(st == ENRT_OK || st == ENRT_NOT_FOUND);
	return st == ENRT_OK;
}

static void
start(fixture *f, unsigned batch_max)
{
	assert_int_equal(writer_start(&f->w, f->s, batch_max), ENRT_OK);
}

static void
refused_job_leaves_the_rest_of_its_batch_committed(void **state)
{
	fixture *f = *state;
	size_t before;

	start(f, 256);
	close_gate(f);
	before = fixture_last_txnid(f->dir);
	submit(f, job(f, 0, "alpha"));
	submit(f, job(f, 1, "alpha")); /* the name is taken by then */
	f->jobs[2].refuse_after_write = true;
	submit(f, job(f, 2, "gamma"));
	submit(f, job(f, 3, "delta"));
	open_gate(f);
	wait_told(f, 4);

	assert_int_equal(f->jobs[0].outcome, ENRT_OK);
	assert_int_equal(f->jobs[1].outcome, ENRT_ALREADY_EXISTS);
	assert_non_null(strstr(f->jobs[1].message, "\"alpha\""));
	assert_int_equal(f->jobs[2].outcome, ENRT_FAILED_PRECONDITION);
	assert_int_equal(f->jobs[3].outcome, ENRT_OK);
	assert_true(app_exists(f, "app-0"));
	assert_false(app_exists(f, "app-1"));
	assert_false(app_exists(f, "app-2"));
	assert_true(app_exists(f, "app-3"));
	assert_int_equal(fixture_last_txnid(f->dir), before + 1);
}

static void
every_job_of_a_failed_commit_fails_and_nothing_is_written(void **state)
{
	fixture *f = *state;

	start(f, 256);
	close_gate(f);
	submit(f, job(f, 0, "one"));
	submit(f, job(f, 1, "two"));
	submit(f, job(f, 2, "one")); /* refused on its own account */
	atomic_store(&fail_sync, true);
	open_gate(f);
	wait_told(f, 3);
	atomic_store(&fail_sync, false);

	assert_int_equal(f->jobs[0].outcome, ENRT_INTERNAL);
	assert_int_equal(f->jobs[1].outcome, ENRT_INTERNAL);
	assert_int_equal(f->jobs[2].outcome, ENRT_ALREADY_EXISTS);
	assert_false(app_exists(f, "app-0"));
	assert_false(app_exists(f, "app-1"));

	submit(f, job(f, 3, "three")); /* the writer goes on */
	wait_told(f, 4);
	assert_int_equal(f->jobs[3].outcome, ENRT_OK);
	assert_true(app_exists(f, "app-3"));
}

static void
jobs_are_applied_and_told_in_the_order_queued(void **state)
{
	fixture *f = *state;
	char name[16];
	int i;

	start(f, 4); /* several batches */
	close_gate(f);
	for (i = 0; i < JOBS_MAX; i++) {
		snprintf(name, sizeof(name), "n%d", i % 3);
		submit(f, job(f, i, name));
	}
	open_gate(f);
	wait_told(f, JOBS_MAX);

	for (i = 0; i < JOBS_MAX; i++) {
		assert_int_equal(f->jobs[i].told_as, i);
		/* the first of each name wins, wherever the batches split */
		assert_int_equal(
		    f->jobs[i].outcome, i < 3 ? ENRT_OK : ENRT_ALREADY_EXISTS);
	}
}

static void
batch_of_one_commits_every_job_alone(void **state)
{
	fixture *f = *state;
	size_t before;

	start(f, 1);
	close_gate(f);
	before = fixture_last_txnid(f->dir);
	submit(f, job(f, 0, "a"));
	submit(f, job(f, 1, "b"));
	submit(f, job(f, 2, "c"));
	open_gate(f);
	wait_told(f, 3);

	assert_int_equal(fixture_last_txnid(f->dir), before + 3);
	assert_true(app_exists(f, "app-2"));
}

static void
refusal_is_recorded_in_the_same_commit(void **state)
{
	fixture *f = *state;
	size_t before;

	start(f, 256);
	close_gate(f);
	before = fixture_last_txnid(f->dir);
	f->jobs[0].refuse_after_write = true;
	f->jobs[0].record_refusal = true;
	submit(f, job(f, 0, "x"));
	submit(f, job(f, 1, "y"));
	open_gate(f);
	wait_told(f, 2);

	assert_int_equal(f->jobs[0].outcome, ENRT_FAILED_PRECONDITION);
	assert_false(app_exists(f, "app-0"));
	assert_true(app_exists(f, "refused-app-0"));
	assert_true(app_exists(f, "app-1"));
	assert_int_equal(fixture_last_txnid(f->dir), before + 1);
}

static void *
stop_main(void *arg)
{
	fixture *f = arg;

	writer_stop(f->w);
	return NULL;
}

static void
stop_applies_every_job_queued_before_it(void **state)
{
	fixture *f = *state;
	pthread_t stopper;
	int i;

	start(f, 3);
	close_gate(f);
	for (i = 0; i < 8; i++) {
		char name[8];

		snprintf(name, sizeof(name), "s%d", i);
		submit(f, job(f, i, name));
	}
	assert_int_equal(pthread_create(&stopper, NULL, stop_main, f), 0);
	open_gate(f);
	pthread_join(stopper, NULL);
	f->w = NULL;

	assert_int_equal(f->told, 8);
	for (i = 0; i < 8; i++) {
		char id[16];

		assert_int_equal(f->jobs[i].outcome, ENRT_OK);
		snprintf(id, sizeof(id), "app-%d", i);
		assert_true(app_exists(f, id));
	}
}

static void
run_returns_once_the_job_is_durable(void **state)
{
	fixture *f = *state;

	start(f, 256);
	assert_int_equal(writer_run(f->w, &job(f, 0, "r")->job), ENRT_OK);
	assert_true(f->jobs[0].told);
	assert_true(app_exists(f, "app-0"));
	assert_int_equal(
	    writer_run(f->w, &job(f, 1, "r")->job), ENRT_ALREADY_EXISTS);
	assert_false(app_exists(f, "app-1"));
}

static void
apply_alone_commits_without_a_thread(void **state)
{
	fixture *f = *state;
	size_t before = fixture_last_txnid(f->dir);

	assert_int_equal(
	    writer_apply_alone(f->s, &job(f, 0, "solo")->job), ENRT_OK);
	assert_int_equal(fixture_last_txnid(f->dir), before + 1);
	assert_true(app_exists(f, "app-0"));

	f->jobs[1].refuse_after_write = true;
	assert_int_equal(writer_apply_alone(f->s, &job(f, 1, "duo")->job),
	    ENRT_FAILED_PRECONDITION);
	assert_false(app_exists(f, "app-1"));
}

static void
start_refuses_a_batch_size_out_of_range(void **state)
{
	fixture *f = *state;

	assert_int_equal(writer_start(&f->w, f->s, 0), ENRT_INVALID_ARGUMENT);
	assert_null(f->w);
	assert_int_equal(writer_start(&f->w, f->s, WRITER_BATCH_MAX + 1),
	    ENRT_INVALID_ARGUMENT);
	assert_null(f->w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        refused_job_leaves_the_rest_of_its_batch_committed, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        every_job_of_a_failed_commit_fails_and_nothing_is_written,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        jobs_are_applied_and_told_in_the_order_queued, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        batch_of_one_commits_every_job_alone, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        refusal_is_recorded_in_the_same_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        stop_applies_every_job_queued_before_it, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        run_returns_once_the_job_is_durable, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        apply_alone_commits_without_a_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        start_refuses_a_batch_size_out_of_range, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
