/*
 * enrt-bench's bookkeeping: a latency histogram, the tally of outcomes
 * that each worker keeps, and the limit that says when a run stops.
 *
 * A histogram of fixed size, rather than a sorted array of every
 * latency, so that a run bounded by time needs no memory that grows with
 * it and a worker records a request in a few instructions.  Each worker
 * owns its tally and touches no other; only the limit is shared, through
 * one atomic counter.  Merging happens on the main thread after every
 * worker has stopped.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Bits below the leading one that pick the bucket within an octave. */
#define SUB_BITS 6

static size_t
bucket_of(uint64_t ns)
{
	unsigned top;

	if (ns < BENCH_HIST_LINEAR) {
		return (size_t)ns;
	}
	top = 63u - (unsigned)__builtin_clzll(ns);
	if (top >= BENCH_HIST_TOP_BIT) {
		return BENCH_HIST_BUCKETS - 1;
	}
	return BENCH_HIST_LINEAR + (size_t)(top - 7) * BENCH_HIST_SUB +
	       (size_t)((ns >> (top - SUB_BITS)) & (BENCH_HIST_SUB - 1));
}

/* The middle of a bucket: its lowest value plus half its width. */
static uint64_t
bucket_middle(size_t i)
{
	size_t octave;
	uint64_t low;
	unsigned shift;

	if (i < BENCH_HIST_LINEAR) {
		return (uint64_t)i;
	}
	octave = (i - BENCH_HIST_LINEAR) / BENCH_HIST_SUB;
	shift = (unsigned)octave + 1;
	low = (uint64_t)(BENCH_HIST_SUB +
	                 (i - BENCH_HIST_LINEAR) % BENCH_HIST_SUB)
	      << shift;
	return low + ((UINT64_C(1) << shift) >> 1);
}

void
bench_hist_record(bench_hist *h, uint64_t ns)
{
	h->counts[bucket_of(ns)]++;
	h->total++;
	if (ns > h->max_ns) {
		h->max_ns = ns;
	}
}

void
bench_hist_merge(bench_hist *into, const bench_hist *from)
{
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
		into->counts[i] += from->counts[i];
	}
	into->total += from->total;
	if (from->max_ns > into->max_ns) {
		into->max_ns = from->max_ns;
	}
}

/*
 * The rank of the p-th percentile, 1-based: ceil(p% of total), in whole
 * numbers of thousandths of a percent so that 99.9% of 1000 is 999 and
 * not, by a rounding error, 1000.
 */
static uint64_t
rank_of(const bench_hist *h, double p)
{
	uint64_t milli = (uint64_t)(p * 1000.0 + 0.5);
	uint64_t rank = (h->total * milli + 99999) / 100000;

	return rank < 1 ? 1 : rank;
}

uint64_t
bench_hist_percentile(const bench_hist *h, double p)
{
	uint64_t rank;
	uint64_t seen = 0;
	uint64_t value;

	if (h->total == 0) {
		return 0;
	}
	rank = rank_of(h, p);
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			value = bucket_middle(i);
			return value < h->max_ns ? value : h->max_ns;
		}
	}
	return h->max_ns;
}

void
bench_tally_ok(bench_tally *t, uint64_t ns)
{
	bench_hist_record(&t->hist, ns);
	t->ok++;
}

void
bench_tally_answer(bench_tally *t, uint64_t ns, const char *wrong)
{
	if (wrong != NULL) {
		bench_tally_fail(t, ns, BENCH_FAIL_ANSWER, ENRT_OK, wrong);
	} else {
		bench_tally_ok(t, ns);
	}
}

void
bench_tally_fail(bench_tally *t, uint64_t ns, bench_failure why,
    enrt_status status, const char *message)
{
	bench_hist_record(&t->hist, ns);
	t->failed[why]++;
	if (t->has_error) {
		return;
	}

	t->has_error = true;
	t->first_error.status = status;
	snprintf(t->first_error.message, sizeof(t->first_error.message), "%s",
	    message != NULL ? message : "");
}

void
bench_tally_merge(bench_tally *into, const bench_tally *from)
{
	bench_hist_merge(&into->hist, &from->hist);
	into->ok += from->ok;
	for (int i = 0; i < BENCH_FAILURES; i++) {
		into->failed[i] += from->failed[i];
	}
	if (!into->has_error && from->has_error) {
		into->has_error = true;
		into->first_error = from->first_error;
	}
}

uint64_t
bench_tally_errors(const bench_tally *t)
{
	uint64_t n = 0;

	for (int i = 0; i < BENCH_FAILURES; i++) {
		n += t->failed[i];
	}
	return n;
}

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) +
	       (uint64_t)ts.tv_nsec;
}

void
bench_limit_init(bench_limit *l, const bench_config *cfg)
{
	l->requests = cfg->requests;
	l->deadline_ns =
	    bench_now_ns() + (uint64_t)cfg->duration_s * UINT64_C(1000000000);
	atomic_init(&l->started, 0);
}

bool
bench_limit_take(bench_limit *l)
{
	if (l->requests > 0) {
		return atomic_fetch_add_explicit(
		           &l->started, 1, memory_order_relaxed) < l->requests;
	}
	if (bench_now_ns() >= l->deadline_ns) {
		return false;
	}
	atomic_fetch_add_explicit(&l->started, 1, memory_order_relaxed);
	return true;
}
