/*
 * The writer: a queue of jobs under one mutex and two threads.  The
 * committer takes whatever is queued (at most batch_max jobs), applies
 * each in a nested transaction of one write transaction, commits that
 * once, and hands the batch to the teller, which tells every job its
 * outcome, in the order they were queued.
 *
 * Batching comes from the disk itself: while one commit waits for its
 * flush, the jobs submitted meanwhile queue up and go into the next
 * commit together.  Nothing waits on purpose for a batch to fill, so a
 * lone change is committed as soon as the committer is free.  Waiting
 * was tried: lingering up to 1 ms after a busy commit doubled the jobs
 * per commit at 16 requests in flight, but not the rate of Issues, which
 * the work each request needs outside the writer bounded then.  With
 * batch_max 1 every job has a commit of its own, which is what a
 * server without batching would do.
 *
 * What a batch shares is the fixed cost of a commit: the flush, the
 * meta page, the pages every change touches (the audit log's last
 * leaf, the free list, the upper branches).  Each Issue still writes
 * its own leaves of the two indexes keyed at random (tokens by digest,
 * ids), so a batch's commit grows with its size and the gain has a
 * bound: on a 2-core VM with a virtio disk, a commit of one Issue took
 * about 0.6 ms and one of twelve about 2.7 ms, which caps batched
 * Issues at three to four times the rate of one commit each while the
 * disk is idle, more when it is busy and flushes cost more.
 *
 * Telling is the teller's so that the committer can begin the next
 * batch at once: a job's done builds and sends a reply, and on a small
 * machine sending a batch's replies (each a system call and a thread
 * woken) took about half as long as its commit.  The handover costs
 * one wake-up per batch, not per job.
 *
 * The module owns the queues and the threads.  Jobs are the callers'
 * memory: the writer links them through their next field until they are
 * told and never frees one.  The store's write transactions stay on the
 * committer, as LMDB wants; other threads may still begin write
 * transactions of their own (rare admin changes, last-used flushes),
 * which LMDB serialises with the committer's.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "writer.h"

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

/* A queue of jobs linked through their next fields. */
typedef struct job_list {
	writer_job *head;
	writer_job *tail;
} job_list;

struct writer {
	store *store;
	unsigned batch_max;
	pthread_t committer;
	pthread_t teller;

	pthread_mutex_t mtx;
	pthread_cond_t wake; /* committer: a job, stopping, or all told */
	pthread_cond_t told; /* teller: a batch committed, or ending */
	job_list queued;     /* mtx: to apply */
	job_list committed;  /* mtx: to tell */
	size_t untold;       /* mtx: jobs taken and not yet told */
	bool stopping;       /* mtx: refuse jobs; the committer ends */
	bool ending; /* mtx: the committer is gone; so goes the teller */
};

/* A job of writer_run's, wrapping the caller's to tell it returned. */
typedef struct waiter {
	writer_job job; /* first: the writer sees this one */
	writer_job *inner;
	enrt_status status;
	bool finished; /* mtx */
	pthread_mutex_t mtx;
	pthread_cond_t cond;
} waiter;

static void
list_append(job_list *l, writer_job *first, writer_job *last)
{
	if (l->tail == NULL) {
		l->head = first;
	} else {
		l->tail->next = first;
	}
	l->tail = last;
}

/*
 * Applies one job in a child of t.  A refusal undoes the child; the
 * job may then record the refusal in a child of its own, whose failure
 * changes nothing but that record.
 */
static enrt_status
apply_one(store_txn *t, writer_job *job)
{
	store_txn *child, *record;
	enrt_status st;

	if ((st = store_begin_nested(t, &child)) != ENRT_OK) {
		return st;
	}
	if ((st = job->apply(job, child)) == ENRT_OK) {
		st = store_commit(child);
	} else {
		store_abort(child);
	}

	if (st != ENRT_OK && job->refused != NULL &&
	    store_begin_nested(t, &record) == ENRT_OK) {
		job->refused(job, record, st);
		if (store_commit(record) != ENRT_OK) {
			log_warn("write_refusal_not_recorded", "status=%s",
			    enrt_status_name(st));
		}
	}
	return st;
}

/* Applies every job of the list in t, each keeping its own status. */
static void
apply_all(store_txn *t, writer_job *jobs)
{
	for (writer_job *j = jobs; j != NULL; j = j->next) {
		j->status = apply_one(t, j);
	}
}

/* Gives each job whose step went through the commit's status. */
static size_t
settle_all(writer_job *jobs, enrt_status committed)
{
	size_t n = 0;

	for (writer_job *j = jobs; j != NULL; j = j->next, n++) {
		if (j->status == ENRT_OK) {
			j->status = committed;
		}
	}
	return n;
}

/*
 * One write transaction for the whole list; each job is left with its
 * outcome in status.  Returns how many jobs there were.
 */
static size_t
commit_batch(store *s, writer_job *jobs)
{
	store_txn *t;
	enrt_status st;
	size_t n;

	if ((st = store_begin_write(s, &t)) == ENRT_OK) {
		apply_all(t, jobs);
		st = store_commit(t);
	} else {
		settle_all(jobs, ENRT_OK); /* none was applied */
	}
	n = settle_all(jobs, st);

	metrics_commit(st == ENRT_OK, n);
	if (st != ENRT_OK) {
		log_error("write_batch_failed", "jobs=%zu status=%s", n,
		    enrt_status_name(st));
	}
	return n;
}

/*
 * Tells each job its outcome, in order.  A job may be freed by its
 * done, so its successor is read first.
 */
static void
tell_all(writer_job *jobs)
{
	writer_job *j, *next;

	for (j = jobs; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		j->done(j, j->status);
	}
}

/*
 * Waits for jobs and takes up to batch_max of them off the queue, in
 * order.  NULL once stopping, with nothing queued and nothing left to
 * tell (a job told may still queue a follow-up).
 */
static writer_job *
take_batch(writer *w)
{
	writer_job *first, *last;
	unsigned n = 1;

	pthread_mutex_lock(&w->mtx);
	while (w->queued.head == NULL && !(w->stopping && w->untold == 0)) {
		pthread_cond_wait(&w->wake, &w->mtx);
	}
	first = last = w->queued.head;
	if (first != NULL) {
		while (n < w->batch_max && last->next != NULL) {
			last = last->next;
			n++;
		}
		w->queued.head = last->next;
		w->queued.tail = w->queued.head ? w->queued.tail : NULL;
		last->next = NULL;
		w->untold += n;
	}
	pthread_mutex_unlock(&w->mtx);
	return first;
}

static void
hand_to_teller(writer *w, writer_job *batch)
{
	writer_job *last = batch;

	while (last->next != NULL) {
		last = last->next;
	}
	pthread_mutex_lock(&w->mtx);
	list_append(&w->committed, batch, last);
	pthread_cond_signal(&w->told);
	pthread_mutex_unlock(&w->mtx);
}

static void *
committer_main(void *arg)
{
	writer *w = arg;
	writer_job *batch;

	pthread_setname_np(pthread_self(), "enrtd:writer"); /* for top -H */
	while ((batch = take_batch(w)) != NULL) {
		commit_batch(w->store, batch);
		hand_to_teller(w, batch);
	}
	return NULL;
}

/* Everything committed so far, in order; NULL once ending and idle. */
static writer_job *
take_committed(writer *w)
{
	writer_job *jobs;

	pthread_mutex_lock(&w->mtx);
	while (w->committed.head == NULL && !w->ending) {
		pthread_cond_wait(&w->told, &w->mtx);
	}
	jobs = w->committed.head;
	w->committed = (job_list){NULL, NULL};
	pthread_mutex_unlock(&w->mtx);
	return jobs;
}

static void
count_told(writer *w, size_t n)
{
	pthread_mutex_lock(&w->mtx);
	w->untold -= n;
	if (w->untold == 0 && w->stopping) {
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&w->mtx);
}

static size_t
count_jobs(const writer_job *jobs)
{
	size_t n = 0;

	for (; jobs != NULL; jobs = jobs->next) {
		n++;
	}
	return n;
}

static void *
teller_main(void *arg)
{
	writer *w = arg;
	writer_job *jobs;
	size_t n;

	pthread_setname_np(pthread_self(), "enrtd:teller");
	while ((jobs = take_committed(w)) != NULL) {
		n = count_jobs(jobs);
		tell_all(jobs);
		count_told(w, n);
	}
	return NULL;
}

static void
fini_sync(writer *w)
{
	pthread_cond_destroy(&w->told);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->mtx);
}

/* The teller first: the committer hands it every batch. */
static int
start_threads(writer *w)
{
	int rv;

	if ((rv = pthread_create(&w->teller, NULL, teller_main, w)) != 0) {
		return rv;
	}
	if ((rv = pthread_create(&w->committer, NULL, committer_main, w)) !=
	    0) {
		pthread_mutex_lock(&w->mtx);
		w->ending = true;
		pthread_cond_signal(&w->told);
		pthread_mutex_unlock(&w->mtx);
		pthread_join(w->teller, NULL);
	}
	return rv;
}

enrt_status
writer_start(writer **out, store *s, unsigned batch_max)
{
	writer *w;
	int rv;

	*out = NULL;
	if (s == NULL || batch_max < 1 || batch_max > WRITER_BATCH_MAX) {
		return ENRT_INVALID_ARGUMENT;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		return ENRT_RESOURCE_EXHAUSTED;
	}
	w->store = s;
	w->batch_max = batch_max;
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->told, NULL);

	if ((rv = start_threads(w)) != 0) {
		log_error(
		    "writer_thread_failed", "error=\"%s\"", strerror(rv));
		fini_sync(w);
		free(w);
		return ENRT_INTERNAL;
	}
	*out = w;
	return ENRT_OK;
}

/* Queues job unless stopping refuses it; true when queued. */
static bool
enqueue(writer *w, writer_job *job)
{
	bool own_thread = pthread_equal(pthread_self(), w->teller);
	bool queued;

	job->next = NULL;
	pthread_mutex_lock(&w->mtx);
	queued = !w->stopping || own_thread;
	if (queued) {
		list_append(&w->queued, job, job);
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&w->mtx);
	return queued;
}

void
writer_submit(writer *w, writer_job *job)
{
	if (!enqueue(w, job)) {
		job->done(job, ENRT_UNAVAILABLE);
	}
}

static enrt_status
waiter_apply(writer_job *job, store_txn *t)
{
	waiter *wt = (waiter *)job;

	return wt->inner->apply(wt->inner, t);
}

static void
waiter_refused(writer_job *job, store_txn *t, enrt_status st)
{
	waiter *wt = (waiter *)job;

	wt->inner->refused(wt->inner, t, st);
}

static void
waiter_done(writer_job *job, enrt_status st)
{
	waiter *wt = (waiter *)job;

	wt->inner->done(wt->inner, st);
	pthread_mutex_lock(&wt->mtx);
	wt->status = st;
	wt->finished = true;
	pthread_cond_signal(&wt->cond);
	pthread_mutex_unlock(&wt->mtx);
}

static void
waiter_init(waiter *wt, writer_job *job)
{
	memset(wt, 0, sizeof(*wt));
	wt->job.apply = waiter_apply;
	wt->job.refused = job->refused != NULL ? waiter_refused : NULL;
	wt->job.done = waiter_done;
	wt->inner = job;
	pthread_mutex_init(&wt->mtx, NULL);
	pthread_cond_init(&wt->cond, NULL);
}

static enrt_status
waiter_fini(waiter *wt)
{
	pthread_cond_destroy(&wt->cond);
	pthread_mutex_destroy(&wt->mtx);
	return wt->status;
}

enrt_status
writer_run(writer *w, writer_job *job)
{
	waiter wt;

	assert(!pthread_equal(pthread_self(), w->committer) &&
	       !pthread_equal(pthread_self(), w->teller));
	waiter_init(&wt, job);
	writer_submit(w, &wt.job);

	pthread_mutex_lock(&wt.mtx);
	while (!wt.finished) {
		pthread_cond_wait(&wt.cond, &wt.mtx);
	}
	pthread_mutex_unlock(&wt.mtx);
	return waiter_fini(&wt);
}

/* The waiter only keeps the outcome here: done may free the job. */
enrt_status
writer_apply_alone(store *s, writer_job *job)
{
	waiter wt;

	waiter_init(&wt, job);
	commit_batch(s, &wt.job);
	tell_all(&wt.job);
	return waiter_fini(&wt);
}

void
writer_stop(writer *w)
{
	if (w == NULL) {
		return;
	}
	pthread_mutex_lock(&w->mtx);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mtx);
	pthread_join(w->committer, NULL);

	pthread_mutex_lock(&w->mtx);
	w->ending = true;
	pthread_cond_signal(&w->told);
	pthread_mutex_unlock(&w->mtx);
	pthread_join(w->teller, NULL);

	fini_sync(w);
	free(w);
}
