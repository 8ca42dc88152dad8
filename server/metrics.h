/*
 * The server's counters, for /metrics: requests by operation and status,
 * their latency as histograms with fixed buckets, Introspect answers by
 * cause, the last-used flushes, and the writer's batched commits.  Counting is
 * a relaxed atomic add, with no lock, so that the Introspect path stays cheap;
 * a scrape reads each counter on its own, so one scrape is not a snapshot of
 * one instant (a request may show in its counter before its histogram).
 *
 * Operations and causes are counted by number (the request's op case,
 * the rules' cause); their names come from the caller of metrics_write,
 * so that no table of them is kept twice.  No label ever carries a
 * value from a request: only operation, status and cause names.
 */
#ifndef ENRT_METRICS_H
#define ENRT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enrt.h"

#define METRICS_OPS      32 /* op 0: a request that could not be decoded */
#define METRICS_STATUSES 32
#define METRICS_CAUSES   16 /* cause 0: active */

/* Counts one request of operation op, its status and its duration. */
void metrics_request(unsigned op, enrt_status status, uint64_t micros);

/* Counts one Introspect answer for this cause (0: active). */
void metrics_answer(unsigned cause);

/* Notes a last-used flush that ended now (ok: committed, or nothing). */
void metrics_flush(bool ok);

/*
 * Counts one commit of the writer's (ok: durable) and the jobs it
 * carried, so that jobs per commit shows how well writes batch.
 */
void metrics_commit(bool ok, size_t jobs);

/* A growing text buffer; a failed allocation makes it failed, sticky. */
typedef struct metrics_text {
	char *buf;
	size_t len, cap;
	bool failed;
} metrics_text;

/* Appends printf-style text. */
void metrics_printf(metrics_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Frees the buffer.  Accepts NULL. */
void metrics_text_free(metrics_text *t);

/* The name of an op or a cause, or NULL for a number not in use. */
typedef const char *(*metrics_namer)(unsigned index);

/*
 * Appends every counter in Prometheus text format: requests and
 * latency for each op that op_name names, answers for each cause that
 * cause_name names, the last-used flushes and their lag, and the
 * writer's commits and jobs.
 */
void metrics_write(
    metrics_text *t, metrics_namer op_name, metrics_namer cause_name);

#endif /* ENRT_METRICS_H */
