/*
 * enrt-bench, the load tool: what its modules share.
 *
 * bench_args reads the flags into a bench_config; bench_pool makes the
 * tokens a run sends (issued, revoked, unknown and malformed) and picks
 * the next request; bench_stats keeps latencies and outcomes; two
 * drivers put the load on the server, bench_async (raw nng contexts,
 * callbacks on nng's threads) and bench_threads (one thread per request
 * in flight, blocking libenrt calls); bench_report prints the result.
 */
#ifndef ENRT_BENCH_H
#define ENRT_BENCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "enrt.h"

#define BENCH_CONCURRENCY_MAX 1024
#define BENCH_CONNECTIONS_MAX 64
#define BENCH_TOKENS_MAX      1000000
#define BENCH_DURATION_MAX    86400
#define BENCH_TIMEOUT_MS      10000
#define BENCH_BATCH_MAX       ENRT_BATCH_MAX

/* The room a pool value takes, NUL included: tokens and malformed ones. */
#define BENCH_VALUE_MAX 64

/* What the issued tokens are and whom they belong to. */
#define BENCH_OWNER       "enrt-bench"
#define BENCH_SCOPE       "bench:read"
#define BENCH_SYSTEM_USER "svc-enrt-bench"
#define BENCH_LIFETIME_S  (30 * 86400)

/*
 * BENCH_OP_ECHO is Introspect sent to enrt-bench-echo, with no set-up.
 * It goes through the same driver, the same packed requests (or the
 * same libenrt calls) and the same reply decoding as BENCH_OP_INTROSPECT,
 * and the echo server's canned reply is a real Introspect reply of the
 * size enrtd sends: only the server's work differs between the two, so
 * their ratio measures that work and nothing of the client's.  A client
 * of its own for echo (raw bytes, no decoding) would make the ceiling
 * depend on how much cheaper that client is.
 */
typedef enum bench_op {
	BENCH_OP_INTROSPECT,
	BENCH_OP_ISSUE,
	BENCH_OP_MIXED,
	BENCH_OP_ECHO,
} bench_op;

typedef enum bench_client {
	BENCH_CLIENT_ASYNC,
	BENCH_CLIENT_THREADS,
} bench_client;

/* The kinds of token an Introspect sends. */
typedef enum bench_kind {
	BENCH_ACTIVE,
	BENCH_UNKNOWN,
	BENCH_MALFORMED,
	BENCH_REVOKED,
	BENCH_KINDS,
} bench_kind;

typedef struct bench_config {
	const char *url;
	const char *credential_file; /* not read for BENCH_OP_ECHO */
	bench_op op;
	bench_client client;
	unsigned concurrency; /* requests in flight */
	unsigned connections; /* sockets or client handles, <= concurrency */
	unsigned duration_s;  /* 0: bounded by requests */
	uint64_t requests;    /* 0: bounded by duration_s */
	unsigned tokens;      /* issued before the run */
	unsigned batch; /* tokens per IntrospectBatch; 0: single Introspects */
	unsigned mix[BENCH_KINDS]; /* percent of Introspects, sum 100 */
	unsigned issue_percent;    /* BENCH_OP_MIXED: Issues among all */
	const char *json_path;     /* NULL: no JSON; "-": standard output */
} bench_config;

/* ------------------------------------------------------------------ */
/* bench_args.c                                                        */

#define BENCH_ARGS_OK   0
#define BENCH_ARGS_HELP 1
#define BENCH_ARGS_BAD  2

/*
 * Fills cfg from the command line, starting from the defaults
 * ($ENRT_URL and $ENRT_CREDENTIAL_FILE, then the enrt CLI's own).
 * Returns BENCH_ARGS_OK; BENCH_ARGS_HELP after printing the usage on
 * standard output; or BENCH_ARGS_BAD after printing, on standard error,
 * a line that names the flag and its rule, then the usage line.
 */
int bench_args_parse(bench_config *cfg, int argc, char **argv);

/* "introspect", "issue", "mixed", "echo"; "async", "threads". */
const char *bench_op_name(bench_op op);
const char *bench_client_name(bench_client client);

/* ------------------------------------------------------------------ */
/* bench_stats.c                                                       */

/*
 * A latency histogram in nanoseconds: exact below 128 ns, then 64
 * buckets per power of two, so a percentile is off by at most 1/64 of
 * its value.  Values of 2^40 ns (18 minutes) and more count in the last
 * bucket; the maximum is kept exactly.
 */
#define BENCH_HIST_LINEAR  128
#define BENCH_HIST_SUB     64
#define BENCH_HIST_TOP_BIT 40
#define BENCH_HIST_BUCKETS \
	(BENCH_HIST_LINEAR + (BENCH_HIST_TOP_BIT - 7) * BENCH_HIST_SUB)

typedef struct bench_hist {
	uint64_t counts[BENCH_HIST_BUCKETS];
	uint64_t total;
	uint64_t max_ns;
} bench_hist;

/* Counts one value of ns nanoseconds. */
void bench_hist_record(bench_hist *h, uint64_t ns);

/* Adds from's counts to into's; into's maximum becomes the larger. */
void bench_hist_merge(bench_hist *into, const bench_hist *from);

/*
 * The value at or below which p percent (0 < p <= 100) of the recorded
 * values lie, as the middle of its bucket, never above the maximum;
 * 0 when nothing was recorded.
 */
uint64_t bench_hist_percentile(const bench_hist *h, double p);

/* Why a request counts as an error. */
typedef enum bench_failure {
	BENCH_FAIL_TRANSPORT, /* no reply: timeout, dropped connection */
	BENCH_FAIL_STATUS,    /* a reply with a status other than OK */
	BENCH_FAIL_ANSWER,    /* OK, but not the answer the token must get */
	BENCH_FAILURES,
} bench_failure;

/*
 * One worker's outcomes.  Workers keep one each and never share it; the
 * run merges them at the end.  first_error never holds a token value.
 */
typedef struct bench_tally {
	bench_hist hist; /* every completed request, failed ones too */
	uint64_t ok;
	uint64_t failed[BENCH_FAILURES];
	bool has_error;
	enrt_error first_error;
} bench_tally;

/* Counts a request that got the answer it must get, in ns. */
void bench_tally_ok(bench_tally *t, uint64_t ns);

/* Counts a failure; message (may be NULL) is kept when it is the first. */
void bench_tally_fail(bench_tally *t, uint64_t ns, bench_failure why,
    enrt_status status, const char *message);

/*
 * Counts a request whose reply came with status OK: as right when wrong
 * is NULL, else as BENCH_FAIL_ANSWER with wrong as its message.
 */
void bench_tally_answer(bench_tally *t, uint64_t ns, const char *wrong);

/* Adds from to into; into keeps its first error if it has one. */
void bench_tally_merge(bench_tally *into, const bench_tally *from);

/* The failed requests, whatever the cause. */
uint64_t bench_tally_errors(const bench_tally *t);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/*
 * When a run stops: after `requests` requests were started, or, when
 * that is 0, at deadline_ns.  Workers on any thread ask before each
 * request.
 */
typedef struct bench_limit {
	uint64_t requests;
	uint64_t deadline_ns;
	atomic_uint_fast64_t started;
} bench_limit;

void bench_limit_init(bench_limit *l, const bench_config *cfg);

/* True when one more request may start; counts it as started. */
bool bench_limit_take(bench_limit *l);

/* What a run measured. */
typedef struct bench_result {
	bench_tally tally;
	double seconds; /* from the first request to the last reply */
} bench_result;

/* ------------------------------------------------------------------ */
/* bench_pool.c                                                        */

typedef struct bench_value {
	char text[BENCH_VALUE_MAX];
	size_t len;
} bench_value;

/*
 * The values a run introspects, by kind, and what it needs to Issue.
 * Token values and the credential are wiped when the pool is freed.
 */
typedef struct bench_pool {
	bench_value *values[BENCH_KINDS];
	size_t n[BENCH_KINDS];
	bench_kind table[100]; /* one entry per percent of the mix */
	char app_id[64];       /* "" for BENCH_OP_ECHO */
	char credential[ENRT_TOKEN_LEN + 1];
	int64_t expires_at; /* of the tokens an Issue asks for */
} bench_pool;

/*
 * Makes a pool on the server at cfg->url as the admin whose credential
 * is in pool->credential: creates an app, issues cfg->tokens PATs (a
 * share of them revoked, as the mix asks) and makes unknown and
 * malformed values.  For BENCH_OP_ISSUE only the app is made.  On
 * failure err says which step failed; the pool is left for
 * bench_pool_free either way.  Prints progress to standard error.
 */
enrt_status bench_pool_setup(
    bench_pool *pool, const bench_config *cfg, enrt_error *err);

/*
 * The pool for BENCH_OP_ECHO, without a server: every kind made of
 * values of the same shapes and sizes, and a random credential.
 */
enrt_status bench_pool_local(
    bench_pool *pool, const bench_config *cfg, enrt_error *err);

/* Wipes and frees what the pool holds; the struct itself is the caller's. */
void bench_pool_free(bench_pool *pool);

/* One request to send. */
typedef struct bench_request {
	bool issue;               /* else Introspect */
	bench_kind kind;          /* Introspect: which kind of value */
	const bench_value *value; /* Introspect: the value */
	size_t index;             /* Introspect: its place in its kind */
} bench_request;

/* A fast non-cryptographic generator; seed it with bench_rand_seed. */
uint64_t bench_rand(uint64_t *state);
uint64_t bench_rand_seed(void);

/* Picks the next request as cfg's op and mix ask. */
void bench_pool_pick(const bench_pool *pool, const bench_config *cfg,
    uint64_t *rng, bench_request *out);

/* The tokens one request asks about: cfg->batch, or 1 without --batch. */
unsigned bench_tokens_per_request(const bench_config *cfg);

/*
 * What an Introspect answer must say of a token of this kind: NULL when
 * active says it, else why the answer is wrong.
 */
const char *bench_wrong_answer(bench_kind kind, bool active);

/* ------------------------------------------------------------------ */
/* The drivers and the report                                          */

/*
 * Run the load that cfg describes with pool's values until the limit,
 * and fill result.  A failed request is counted, not returned; the
 * return is an error only when the run could not start (err says why).
 *
 * bench_async_run: cfg->connections req0 sockets and cfg->concurrency
 * nng contexts, each with an aio whose callback records the reply and
 * sends the next request; the Request envelopes are packed once, before
 * the run.  bench_threads_run: cfg->concurrency threads making blocking
 * libenrt calls on cfg->connections shared client handles.
 *
 * With cfg->batch, each request is one IntrospectBatch of that many
 * tokens picked as the mix asks, and it counts as an error unless every
 * one of its answers is right.
 */
enrt_status bench_async_run(const bench_config *cfg, const bench_pool *pool,
    bench_result *result, enrt_error *err);
enrt_status bench_threads_run(const bench_config *cfg, const bench_pool *pool,
    bench_result *result, enrt_error *err);

/* Prints the result for people. */
void bench_report_print(
    FILE *out, const bench_config *cfg, const bench_result *result);

/*
 * Writes the result as one JSON object to cfg->json_path ("-" for
 * standard output).  False, with err set, when it cannot.
 */
bool bench_report_json(
    const bench_config *cfg, const bench_result *result, enrt_error *err);

#endif /* ENRT_BENCH_H */
