/*
 * The threads driver of enrt-bench: the load as an application that
 * links libenrt makes it.  One thread per request in flight, each making
 * blocking calls through one of a few shared client handles, each
 * keeping its own tally.  The main thread opens the handles, sends one
 * request on each before the clock starts (so that connecting is not
 * measured), starts the workers, joins them and merges their tallies.
 *
 * libenrt answers a malformed token itself, without a round trip, as it
 * would for any application; so in this driver malformed tokens cost the
 * client a format check and the server nothing (in a batch they travel
 * as empty strings, which the server answers inactive at once).
 */
#include "bench.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define STACK_SIZE (256 * 1024)

typedef struct threads_run threads_run;

typedef struct worker {
	pthread_t thread;
	bool started;
	threads_run *run;
	enrt_client *client;
	uint64_t rng;
	bench_tally tally;
} worker;

struct threads_run {
	const bench_config *cfg;
	const bench_pool *pool;
	bench_limit limit;
	enrt_client *clients[BENCH_CONNECTIONS_MAX];
	worker *workers;
};

static bench_failure
failure_of(enrt_status status)
{
	return status == ENRT_UNAVAILABLE ? BENCH_FAIL_TRANSPORT
	                                  : BENCH_FAIL_STATUS;
}

static void
introspect_one(worker *w, const bench_request *rq)
{
	enrt_introspection *answer = NULL;
	enrt_error err;
	enrt_status status;
	uint64_t start = bench_now_ns();
	uint64_t ns;

	status = enrt_introspect(
	    w->client, rq->value->text, rq->value->len, &answer, &err);
	ns = bench_now_ns() - start;

	if (status != ENRT_OK) {
		bench_tally_fail(
		    &w->tally, ns, failure_of(status), status, err.message);
	} else {
		bench_tally_answer(&w->tally, ns,
		    w->run->cfg->op == BENCH_OP_ECHO
		        ? NULL
		        : bench_wrong_answer(rq->kind, answer->active));
	}
	enrt_introspection_free(answer);
}

/* The first wrong answer of a batch, or NULL when all are right. */
static const char *
judge_batch(
    const enrt_introspection_batch *batch, const bench_kind *kinds, size_t n)
{
	const char *wrong = NULL;

	if (batch->n_answers != n) {
		return "an IntrospectBatch reply without one answer per token";
	}
	for (size_t i = 0; wrong == NULL && i < n; i++) {
		wrong = bench_wrong_answer(kinds[i], batch->answers[i].active);
	}
	return wrong;
}

/* One IntrospectBatch of cfg->batch tokens picked as the mix asks. */
static void
introspect_batch(worker *w)
{
	const char *tokens[BENCH_BATCH_MAX];
	size_t lens[BENCH_BATCH_MAX];
	bench_kind kinds[BENCH_BATCH_MAX];
	size_t n = w->run->cfg->batch;
	enrt_introspection_batch *batch = NULL;
	bench_request rq;
	enrt_error err;
	enrt_status status;
	uint64_t start, ns;

	for (size_t i = 0; i < n; i++) {
		bench_pool_pick(w->run->pool, w->run->cfg, &w->rng, &rq);
		tokens[i] = rq.value->text;
		lens[i] = rq.value->len;
		kinds[i] = rq.kind;
	}

	start = bench_now_ns();
	status =
	    enrt_introspect_batch(w->client, tokens, lens, n, &batch, &err);
	ns = bench_now_ns() - start;

	if (status != ENRT_OK) {
		bench_tally_fail(
		    &w->tally, ns, failure_of(status), status, err.message);
	} else {
		bench_tally_answer(
		    &w->tally, ns, judge_batch(batch, kinds, n));
	}
	enrt_introspection_batch_free(batch);
}

static void
issue_one(worker *w)
{
	const char *scopes[] = {BENCH_SCOPE};
	enrt_issue_params params = {
	    .app_id = w->run->pool->app_id,
	    .kind = ENRT_KIND_PAT,
	    .has_expires_at = true,
	    .expires_at = w->run->pool->expires_at,
	    .scopes = scopes,
	    .n_scopes = 1,
	    .owner = BENCH_OWNER,
	};
	enrt_issued *issued = NULL;
	enrt_error err;
	enrt_status status;
	uint64_t start = bench_now_ns();
	uint64_t ns;

	status = enrt_issue(w->client, &params, &issued, &err);
	ns = bench_now_ns() - start;
	if (status == ENRT_OK) {
		bench_tally_ok(&w->tally, ns);
	} else {
		bench_tally_fail(
		    &w->tally, ns, failure_of(status), status, err.message);
	}
	enrt_issued_free(issued);
}

static void *
work(void *arg)
{
	worker *w = arg;
	threads_run *run = w->run;
	bench_request rq;

	while (bench_limit_take(&run->limit)) {
		if (run->cfg->batch > 0) {
			introspect_batch(w);
			continue;
		}
		bench_pool_pick(run->pool, run->cfg, &w->rng, &rq);
		if (rq.issue) {
			issue_one(w);
		} else {
			introspect_one(w, &rq);
		}
	}
	return NULL;
}

/*
 * One Introspect per handle before the clock starts: a handle connects
 * in the background, and the first call would otherwise wait for it.
 */
static enrt_status
warm_up(enrt_client *client, const bench_pool *pool, enrt_error *err)
{
	const bench_value *v = &pool->values[BENCH_UNKNOWN][0];
	enrt_introspection *answer = NULL;
	enrt_status status;

	status = enrt_introspect(client, v->text, v->len, &answer, err);
	enrt_introspection_free(answer);
	return status;
}

static enrt_status
open_clients(threads_run *run, enrt_error *err)
{
	enrt_options options = {.url = run->cfg->url,
	    .credential = run->pool->credential,
	    .timeout_ms = BENCH_TIMEOUT_MS};
	enrt_status status = ENRT_OK;

	for (unsigned i = 0; i < run->cfg->connections && status == ENRT_OK;
	     i++) {
		status = enrt_client_open(&run->clients[i], &options, err);
		if (status == ENRT_OK) {
			status = warm_up(run->clients[i], run->pool, err);
		}
	}
	return status;
}

/* Starts as many workers as it can; false if not even one started. */
static bool
start_workers(threads_run *run)
{
	pthread_attr_t attr;
	unsigned started = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	bench_limit_init(&run->limit, run->cfg);
	for (unsigned i = 0; i < run->cfg->concurrency; i++) {
		worker *w = &run->workers[i];

		w->run = run;
		w->client = run->clients[i % run->cfg->connections];
		w->rng = bench_rand_seed();
		w->started = pthread_create(&w->thread, &attr, work, w) == 0;
		started += w->started;
	}
	pthread_attr_destroy(&attr);
	return started > 0;
}

static void
join_workers(threads_run *run, bench_result *result)
{
	for (unsigned i = 0; i < run->cfg->concurrency; i++) {
		worker *w = &run->workers[i];

		if (w->started) {
			pthread_join(w->thread, NULL);
			bench_tally_merge(&result->tally, &w->tally);
		}
	}
}

static void
close_clients(threads_run *run)
{
	for (unsigned i = 0; i < run->cfg->connections; i++) {
		enrt_client_close(run->clients[i]);
	}
}

enrt_status
bench_threads_run(const bench_config *cfg, const bench_pool *pool,
    bench_result *result, enrt_error *err)
{
	threads_run run = {.cfg = cfg, .pool = pool};
	enrt_status status;
	uint64_t start;

	memset(result, 0, sizeof(*result));
	run.workers = calloc(cfg->concurrency, sizeof(worker));
	if (run.workers == NULL) {
		err->status = ENRT_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message),
		    "no memory for %u workers", cfg->concurrency);
		return err->status;
	}

	if ((status = open_clients(&run, err)) == ENRT_OK) {
		start = bench_now_ns();
		if (start_workers(&run)) {
			join_workers(&run, result);
		} else {
			status = err->status = ENRT_RESOURCE_EXHAUSTED;
			snprintf(err->message, sizeof(err->message),
			    "cannot start a worker thread");
		}
		result->seconds = (double)(bench_now_ns() - start) / 1e9;
	}
	close_clients(&run);
	free(run.workers);
	return status;
}
