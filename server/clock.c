/*
 * Monotonic deadlines for pthread waits.  Pure functions; any thread.
 */
#include "clock.h"

int
clock_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int rv;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	rv = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return rv;
}

void
clock_deadline(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}
