/*
 * Waiting with a time limit: condition variables and deadlines on the
 * monotonic clock, so that a step of the wall clock neither cuts a wait
 * short nor stretches it.
 */
#ifndef ENRT_CLOCK_H
#define ENRT_CLOCK_H

#include <pthread.h>
#include <time.h>

/* pthread_cond_init on CLOCK_MONOTONIC; returns its error number. */
int clock_cond_init(pthread_cond_t *cond);

/* The monotonic instant ms milliseconds from now, for timedwait. */
void clock_deadline(struct timespec *ts, long ms);

#endif /* ENRT_CLOCK_H */
