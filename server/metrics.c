/*
 * The counters behind /metrics and their Prometheus text.  Owns a fixed
 * set of process-wide atomics: request threads add to them with relaxed
 * atomic operations (no lock, no allocation), the HTTP thread reads them
 * when scraped.  A histogram keeps one counter per bucket, not
 * cumulative; the cumulative counts are summed at scrape time, so that a
 * request touches three counters, not one per bucket.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

#define BUCKETS  15
#define TEXT_MIN 4096

/* Upper bounds of the latency buckets, in microseconds; +Inf follows. */
static const uint64_t bounds_us[BUCKETS] = {50, 100, 250, 500, 1000, 2500,
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000};

typedef struct op_counters {
	atomic_uint_fast64_t by_status[METRICS_STATUSES];
	atomic_uint_fast64_t buckets[BUCKETS + 1];
	atomic_uint_fast64_t micros;
} op_counters;

static op_counters ops[METRICS_OPS];
static atomic_uint_fast64_t answers[METRICS_CAUSES];
static atomic_uint_fast64_t flushes_ok, flushes_failed;
static atomic_int_fast64_t last_flush_us; /* 0: none yet */
static atomic_uint_fast64_t commits_ok, commits_failed, commit_jobs;

static void
add(atomic_uint_fast64_t *counter, uint64_t n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static uint64_t
get(atomic_uint_fast64_t *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

static unsigned
bucket_of(uint64_t micros)
{
	unsigned i = 0;

	while (i < BUCKETS && micros > bounds_us[i]) {
		i++;
	}
	return i;
}

void
metrics_request(unsigned op, enrt_status status, uint64_t micros)
{
	op_counters *c = &ops[op < METRICS_OPS ? op : 0];
	unsigned st = (unsigned)status;

	add(&c->by_status[st < METRICS_STATUSES ? st : METRICS_STATUSES - 1],
	    1);
	add(&c->buckets[bucket_of(micros)], 1);
	add(&c->micros, micros);
}

void
metrics_answer(unsigned cause)
{
	if (cause < METRICS_CAUSES) {
		add(&answers[cause], 1);
	}
}

static int64_t
monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
metrics_flush(bool ok)
{
	int64_t now_us = monotonic_us();

	add(ok ? &flushes_ok : &flushes_failed, 1);
	if (ok) {
		atomic_store_explicit(
		    &last_flush_us, now_us, memory_order_relaxed);
	}
}

void
metrics_commit(bool ok, size_t jobs)
{
	add(ok ? &commits_ok : &commits_failed, 1);
	add(&commit_jobs, jobs);
}

/* ------------------------------------------------------------------ */
/* Text                                                                */

static bool
reserve(metrics_text *t, size_t more)
{
	size_t cap = t->cap ? t->cap : TEXT_MIN;
	char *buf;

	if (t->len + more < t->cap) {
		return true;
	}
	while (cap <= t->len + more) {
		cap *= 2;
	}
	if ((buf = realloc(t->buf, cap)) == NULL) {
		t->failed = true;
		return false;
	}
	t->buf = buf;
	t->cap = cap;
	return true;
}

void
metrics_printf(metrics_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (t->failed || n < 0 || !reserve(t, (size_t)n + 1)) {
		t->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

void
metrics_text_free(metrics_text *t)
{
	if (t == NULL) {
		return;
	}
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------------ */
/* Prometheus text                                                     */

static void
write_requests(metrics_text *t, metrics_namer op_name)
{
	metrics_printf(t,
	    "# HELP enrtd_requests_total Requests answered, by operation "
	    "and status.\n# TYPE enrtd_requests_total counter\n");
	for (unsigned op = 0; op < METRICS_OPS; op++) {
		const char *name = op_name(op);

		for (unsigned st = 0; name != NULL && st < METRICS_STATUSES;
		     st++) {
			uint64_t n = get(&ops[op].by_status[st]);

			if (n > 0 || st == ENRT_OK) {
				metrics_printf(t,
				    "enrtd_requests_total{op=\"%s\","
				    "status=\"%s\"} %llu\n",
				    name, enrt_status_name((enrt_status)st),
				    (unsigned long long)n);
			}
		}
	}
}

static void
write_histogram(metrics_text *t, const char *name, op_counters *c)
{
	uint64_t total = 0;

	for (unsigned i = 0; i <= BUCKETS; i++) {
		total += get(&c->buckets[i]);
		if (i < BUCKETS) {
			metrics_printf(t,
			    "enrtd_request_duration_seconds_bucket{op=\"%s\","
			    "le=\"%g\"} %llu\n",
			    name, (double)bounds_us[i] / 1e6,
			    (unsigned long long)total);
		} else {
			metrics_printf(t,
			    "enrtd_request_duration_seconds_bucket{op=\"%s\","
			    "le=\"+Inf\"} %llu\n",
			    name, (unsigned long long)total);
		}
	}
	metrics_printf(t,
	    "enrtd_request_duration_seconds_sum{op=\"%s\"} %.6f\n"
	    "enrtd_request_duration_seconds_count{op=\"%s\"} %llu\n",
	    name, (double)get(&c->micros) / 1e6, name,
	    (unsigned long long)total);
}

static void
write_latency(metrics_text *t, metrics_namer op_name)
{
	metrics_printf(t,
	    "# HELP enrtd_request_duration_seconds Time from a request's "
	    "arrival to its reply, by operation.\n"
	    "# TYPE enrtd_request_duration_seconds histogram\n");
	for (unsigned op = 0; op < METRICS_OPS; op++) {
		if (op_name(op) != NULL) {
			write_histogram(t, op_name(op), &ops[op]);
		}
	}
}

static void
write_answers(metrics_text *t, metrics_namer cause_name)
{
	metrics_printf(t,
	    "# HELP enrtd_introspect_answers_total Introspect answers: "
	    "active, or the cause of inactive.\n"
	    "# TYPE enrtd_introspect_answers_total counter\n");
	for (unsigned c = 0; c < METRICS_CAUSES; c++) {
		if (cause_name(c) != NULL) {
			metrics_printf(t,
			    "enrtd_introspect_answers_total{active=\"%s\","
			    "cause=\"%s\"} %llu\n",
			    c == 0 ? "true" : "false", cause_name(c),
			    (unsigned long long)get(&answers[c]));
		}
	}
}

/* Seconds since the last flush that worked; 0 before the first. */
static double
flush_lag(int64_t now_us)
{
	int64_t last = atomic_load(&last_flush_us);

	return last == 0 || now_us < last ? 0.0
	                                  : (double)(now_us - last) / 1e6;
}

static void
write_flushes(metrics_text *t, int64_t now_us)
{
	metrics_printf(t,
	    "# HELP enrtd_last_used_flushes_total Last-used flushes, by "
	    "result.\n# TYPE enrtd_last_used_flushes_total counter\n"
	    "enrtd_last_used_flushes_total{result=\"ok\"} %llu\n"
	    "enrtd_last_used_flushes_total{result=\"failed\"} %llu\n"
	    "# HELP enrtd_last_used_flush_lag_seconds Seconds since the last "
	    "last-used flush that succeeded (0 before the first).\n"
	    "# TYPE enrtd_last_used_flush_lag_seconds gauge\n"
	    "enrtd_last_used_flush_lag_seconds %.3f\n",
	    (unsigned long long)get(&flushes_ok),
	    (unsigned long long)get(&flushes_failed), flush_lag(now_us));
}

static void
write_commits(metrics_text *t)
{
	metrics_printf(t,
	    "# HELP enrtd_write_commits_total Write transactions of the "
	    "batching writer, by result.\n"
	    "# TYPE enrtd_write_commits_total counter\n"
	    "enrtd_write_commits_total{result=\"ok\"} %llu\n"
	    "enrtd_write_commits_total{result=\"failed\"} %llu\n"
	    "# HELP enrtd_write_jobs_total Changes (Issue, Revoke, refusal "
	    "records) that the writer's commits carried.\n"
	    "# TYPE enrtd_write_jobs_total counter\n"
	    "enrtd_write_jobs_total %llu\n",
	    (unsigned long long)get(&commits_ok),
	    (unsigned long long)get(&commits_failed),
	    (unsigned long long)get(&commit_jobs));
}

void
metrics_write(metrics_text *t, metrics_namer op_name, metrics_namer cause_name)
{
	int64_t now_us = monotonic_us();

	write_requests(t, op_name);
	write_latency(t, op_name);
	write_answers(t, cause_name);
	write_flushes(t, now_us);
	write_commits(t);
}
