/*
 * A bounded nng_close (sockclose.h).  The waiting thread and the closing
 * one share a small record under its mutex; when the wait gives up, the
 * closing thread is detached and keeps the record, which it never
 * frees: nng may yet return, but nothing is left to tell.
 */
#include "sockclose.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

typedef struct closer {
	nng_socket sock;
	pthread_mutex_t mtx;
	pthread_cond_t done_cv; /* on the monotonic clock */
	bool done;              /* mtx */
} closer;

static void *
run_close(void *arg)
{
	closer *c = arg;

	nng_close(c->sock);
	pthread_mutex_lock(&c->mtx);
	c->done = true;
	pthread_cond_signal(&c->done_cv);
	pthread_mutex_unlock(&c->mtx);
	return NULL;
}

/* A condition variable whose waits a step of the wall clock leaves be. */
static void
monotonic_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

static void
deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Whether c's close ended before ms milliseconds passed. */
static bool
wait_done(closer *c, int ms)
{
	struct timespec deadline;
	bool done;
	int rv = 0;

	deadline_in(&deadline, ms);
	pthread_mutex_lock(&c->mtx);
	while (!c->done && rv != ETIMEDOUT) {
		rv = pthread_cond_timedwait(&c->done_cv, &c->mtx, &deadline);
	}
	done = c->done;
	pthread_mutex_unlock(&c->mtx);
	return done;
}

static void
closer_free(closer *c)
{
	pthread_cond_destroy(&c->done_cv);
	pthread_mutex_destroy(&c->mtx);
	free(c);
}

bool
sockclose_within(nng_socket sock, int ms)
{
	closer *c = calloc(1, sizeof(*c));
	pthread_t thread;

	if (c == NULL) {
		nng_close(
		    sock); /* no memory for a thread's record: unbounded */
		return true;
	}
	c->sock = sock;
	pthread_mutex_init(&c->mtx, NULL);
	monotonic_cond_init(&c->done_cv);

	if (pthread_create(&thread, NULL, run_close, c) != 0) {
		run_close(c);
	} else if (!wait_done(c, ms)) {
		pthread_detach(thread);
		return false;
	} else {
		pthread_join(thread, NULL);
	}
	closer_free(c);
	return true;
}
