/*
 * The async driver of enrt-bench: many requests in flight from few
 * threads.  A few req0 sockets, each one connection, and one nng context
 * per request in flight, each with one aio and a two-state machine (the
 * request is being sent; the reply is awaited).  The aio's callback, on
 * one of nng's task threads, records the reply and sends the next
 * request, so the client needs no thread of its own per request: on a
 * small machine it leaves more of the CPU to the server than the
 * threads driver does.
 *
 * Every Request envelope is packed once, before the clock starts: per
 * request the client copies bytes into a message, and decodes and checks
 * the reply as libenrt would.  With --batch, BATCHES IntrospectBatch
 * requests are packed, each of tokens picked as the mix asks, and each
 * request sends one of them at random.  Malformed tokens go to the server as
 * they are (a raw client, unlike libenrt, does not check them first), so here
 * they load the server's own format check.
 *
 * This module owns the sockets, the contexts, their aios and the packed
 * requests (which carry the credential, and are wiped when freed).  The
 * main thread starts the contexts and waits on a condition variable
 * until the last one has stopped; nothing is freed before every aio is
 * stopped, and nothing from inside a callback.
 */
#include "bench.h"
#include "enrt.pb-c.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Enough to spread a run's batches over a pool of a few thousand. */
#define BATCHES 1024

typedef struct packed {
	uint8_t *buf;
	size_t len;
} packed;

/* An IntrospectBatch request and the kind of each token it asks about. */
typedef struct batch {
	packed p;
	bench_kind kinds[BENCH_BATCH_MAX];
} batch;

typedef enum ctx_state {
	CTX_SENDING,
	CTX_RECEIVING,
} ctx_state;

typedef struct async_run async_run;

typedef struct context {
	async_run *run;
	nng_ctx ctx;
	bool ctx_open;
	nng_aio *aio;
	ctx_state state; /* the aio's own: set before each operation */
	bench_request rq;
	size_t batch; /* with --batch: the index of the batch in flight */
	uint64_t rng;
	uint64_t sent_ns;
	bench_tally tally;
} context;

struct async_run {
	const bench_config *cfg;
	const bench_pool *pool;
	bench_limit limit;
	nng_socket socks[BENCH_CONNECTIONS_MAX];
	unsigned n_socks;
	packed *introspects[BENCH_KINDS]; /* parallel to pool->values */
	packed issue;
	batch *batches; /* BATCHES of them with --batch, else NULL */
	context *contexts;
	unsigned n_contexts;

	pthread_mutex_t mtx;
	pthread_cond_t idle; /* running fell to 0 */
	unsigned running;    /* mtx: contexts that have not stopped */
};

/* ------------------------------------------------------------------ */
/* Packing the requests                                                */

static bool
pack(packed *p, Enrt__V1__Request *req, const bench_pool *pool)
{
	req->has_version = true;
	req->version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	req->credential = (char *)pool->credential;
	p->len = enrt__v1__request__get_packed_size(req);
	if ((p->buf = malloc(p->len)) == NULL) {
		return false;
	}
	enrt__v1__request__pack(req, p->buf);
	return true;
}

static bool
pack_introspect(packed *p, const bench_value *v, const bench_pool *pool)
{
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__IntrospectRequest op = ENRT__V1__INTROSPECT_REQUEST__INIT;

	op.token = (char *)v->text;
	req.op_case = ENRT__V1__REQUEST__OP_INTROSPECT;
	req.introspect = &op;
	return pack(p, &req, pool);
}

static bool
pack_issue(packed *p, const bench_pool *pool)
{
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__IssueRequest op = ENRT__V1__ISSUE_REQUEST__INIT;
	char *scopes[] = {BENCH_SCOPE};

	op.app_id = (char *)pool->app_id;
	op.has_kind = true;
	op.kind = ENRT__V1__TOKEN_KIND__PAT;
	op.has_expires_at = true;
	op.expires_at = pool->expires_at;
	op.n_scopes = 1;
	op.scopes = scopes;
	op.owner = BENCH_OWNER;
	req.op_case = ENRT__V1__REQUEST__OP_ISSUE;
	req.issue = &op;
	return pack(p, &req, pool);
}

static bool
pack_batch(batch *b, const async_run *run, uint64_t *rng)
{
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__IntrospectBatchRequest op =
	    ENRT__V1__INTROSPECT_BATCH_REQUEST__INIT;
	char *tokens[BENCH_BATCH_MAX];
	bench_request rq;

	for (unsigned i = 0; i < run->cfg->batch; i++) {
		bench_pool_pick(run->pool, run->cfg, rng, &rq);
		b->kinds[i] = rq.kind;
		tokens[i] = (char *)rq.value->text;
	}
	op.n_tokens = run->cfg->batch;
	op.tokens = tokens;
	req.op_case = ENRT__V1__REQUEST__OP_INTROSPECT_BATCH;
	req.introspect_batch = &op;
	return pack(&b->p, &req, run->pool);
}

static bool
pack_batches(async_run *run)
{
	uint64_t rng = bench_rand_seed();

	if ((run->batches = calloc(BATCHES, sizeof(batch))) == NULL) {
		return false;
	}
	for (size_t i = 0; i < BATCHES; i++) {
		if (!pack_batch(&run->batches[i], run, &rng)) {
			return false;
		}
	}
	return true;
}

static bool
pack_all(async_run *run)
{
	const bench_pool *pool = run->pool;

	for (int k = 0; k < BENCH_KINDS; k++) {
		if (pool->n[k] == 0) {
			continue;
		}
		run->introspects[k] = calloc(pool->n[k], sizeof(packed));
		if (run->introspects[k] == NULL) {
			return false;
		}
		for (size_t i = 0; i < pool->n[k]; i++) {
			if (!pack_introspect(&run->introspects[k][i],
			        &pool->values[k][i], pool)) {
				return false;
			}
		}
	}
	if (run->cfg->batch > 0) {
		return pack_batches(run);
	}
	return run->cfg->op == BENCH_OP_INTROSPECT ||
	       run->cfg->op == BENCH_OP_ECHO || pack_issue(&run->issue, pool);
}

static void
free_packed(packed *p)
{
	if (p->buf != NULL) {
		sodium_memzero(p->buf, p->len);
	}
	free(p->buf);
}

static void
free_all_packed(async_run *run)
{
	for (int k = 0; k < BENCH_KINDS; k++) {
		for (size_t i = 0;
		     run->introspects[k] != NULL && i < run->pool->n[k]; i++) {
			free_packed(&run->introspects[k][i]);
		}
		free(run->introspects[k]);
	}
	for (size_t i = 0; run->batches != NULL && i < BATCHES; i++) {
		free_packed(&run->batches[i].p);
	}
	free(run->batches);
	free_packed(&run->issue);
}

/* ------------------------------------------------------------------ */
/* Judging a reply                                                     */

/* Why an Introspect reply is not the answer c's token must get. */
static const char *
wrong_introspect(const context *c, const Enrt__V1__Reply *r)
{
	if (r->result_case != ENRT__V1__REPLY__RESULT_INTROSPECT) {
		return "an Introspect reply without an Introspect result";
	}
	if (c->run->cfg->op == BENCH_OP_ECHO) {
		return NULL;
	}
	return bench_wrong_answer(c->rq.kind, r->introspect->active);
}

/* Every answer, in order, must be the one its token must get. */
static const char *
wrong_batch(const context *c, const Enrt__V1__Reply *r)
{
	const batch *b = &c->run->batches[c->batch];
	const Enrt__V1__IntrospectBatchReply *br = r->introspect_batch;
	const char *wrong = NULL;

	if (r->result_case != ENRT__V1__REPLY__RESULT_INTROSPECT_BATCH ||
	    br->n_answers != c->run->cfg->batch) {
		return "an IntrospectBatch reply without one answer per token";
	}
	for (size_t i = 0; wrong == NULL && i < br->n_answers; i++) {
		wrong =
		    bench_wrong_answer(b->kinds[i], br->answers[i]->active);
	}
	return wrong;
}

/* The new token's value is wiped before the reply is freed. */
static void
judge_issue(context *c, const Enrt__V1__Reply *r, uint64_t ns)
{
	if (r->result_case != ENRT__V1__REPLY__RESULT_ISSUE ||
	    r->issue->token == NULL) {
		bench_tally_fail(&c->tally, ns, BENCH_FAIL_ANSWER, ENRT_OK,
		    "an Issue reply without a token");
		return;
	}
	sodium_memzero(r->issue->token, strlen(r->issue->token));
	bench_tally_ok(&c->tally, ns);
}

static void
judge(context *c, nng_msg *msg, uint64_t ns)
{
	Enrt__V1__Reply *r;

	r = enrt__v1__reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
	if (r == NULL) {
		bench_tally_fail(&c->tally, ns, BENCH_FAIL_ANSWER,
		    ENRT_INTERNAL, "a reply that does not decode");
		return;
	}
	if (r->status != ENRT__V1__STATUS__OK) {
		bench_tally_fail(&c->tally, ns, BENCH_FAIL_STATUS,
		    (enrt_status)r->status,
		    r->message != NULL ? r->message : "");
	} else if (c->rq.issue) {
		judge_issue(c, r, ns);
	} else if (c->run->batches != NULL) {
		bench_tally_answer(&c->tally, ns, wrong_batch(c, r));
	} else {
		bench_tally_answer(&c->tally, ns, wrong_introspect(c, r));
	}
	enrt__v1__reply__free_unpacked(r, NULL);
}

/* ------------------------------------------------------------------ */
/* The state machine                                                   */

static void
stopped(context *c)
{
	async_run *run = c->run;

	pthread_mutex_lock(&run->mtx);
	if (--run->running == 0) {
		pthread_cond_signal(&run->idle);
	}
	pthread_mutex_unlock(&run->mtx);
}

/* The next request of c; with --batch, a batch picked at random. */
static const packed *
next_packed(context *c)
{
	async_run *run = c->run;

	if (run->batches != NULL) {
		c->rq.issue = false;
		c->batch = (size_t)(bench_rand(&c->rng) % BATCHES);
		return &run->batches[c->batch].p;
	}
	bench_pool_pick(run->pool, run->cfg, &c->rng, &c->rq);
	return c->rq.issue ? &run->issue
	                   : &run->introspects[c->rq.kind][c->rq.index];
}

/* Sends the next request, or stops when the run is over. */
static void
send_next(context *c)
{
	async_run *run = c->run;
	const packed *p;
	nng_msg *msg;

	if (!bench_limit_take(&run->limit)) {
		stopped(c);
		return;
	}
	p = next_packed(c);
	if (nng_msg_alloc(&msg, p->len) != 0) {
		bench_tally_fail(&c->tally, 0, BENCH_FAIL_TRANSPORT,
		    ENRT_RESOURCE_EXHAUSTED, "no memory for a message");
		stopped(c);
		return;
	}

	memcpy(nng_msg_body(msg), p->buf, p->len);
	c->state = CTX_SENDING;
	nng_aio_set_msg(c->aio, msg);
	c->sent_ns = bench_now_ns();
	nng_ctx_send(c->ctx, c->aio);
}

static void
transport_failed(context *c, int rv)
{
	bench_tally_fail(&c->tally, bench_now_ns() - c->sent_ns,
	    BENCH_FAIL_TRANSPORT, ENRT_UNAVAILABLE, nng_strerror(rv));
}

static void
on_sent(context *c, int rv)
{
	if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(c->aio)); /* a failed send's */
		nng_aio_set_msg(c->aio, NULL);
		transport_failed(c, rv);
		send_next(c);
		return;
	}
	c->state = CTX_RECEIVING;
	nng_ctx_recv(c->ctx, c->aio);
}

/* Replies may carry a new token: wiped before nng frees them. */
static void
on_received(context *c, int rv)
{
	uint64_t ns = bench_now_ns() - c->sent_ns;
	nng_msg *msg;

	if (rv != 0) {
		transport_failed(c, rv);
		send_next(c);
		return;
	}
	msg = nng_aio_get_msg(c->aio);
	nng_aio_set_msg(c->aio, NULL);
	judge(c, msg, ns);
	sodium_memzero(nng_msg_body(msg), nng_msg_len(msg));
	nng_msg_free(msg);
	send_next(c);
}

static void
context_cb(void *arg)
{
	context *c = arg;
	int rv = nng_aio_result(c->aio);

	switch (c->state) {
	case CTX_SENDING:
		on_sent(c, rv);
		break;
	case CTX_RECEIVING:
		on_received(c, rv);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Connecting, starting, stopping                                      */

static enrt_status
nng_failed(enrt_error *err, const char *what, const char *url, int rv)
{
	err->status = ENRT_UNAVAILABLE;
	snprintf(err->message, sizeof(err->message), "%s %s: %s", what, url,
	    nng_strerror(rv));
	return err->status;
}

/*
 * One exchange on a context of its own, before the clock starts, so that
 * the connection's greeting is not measured.  The reply is not judged.
 */
static int
warm_up(nng_socket sock, const packed *p)
{
	nng_aio *aio = NULL;
	nng_msg *msg = NULL;
	nng_ctx ctx;
	int rv;

	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		return rv;
	}
	if ((rv = nng_ctx_open(&ctx, sock)) != 0) {
		nng_aio_free(aio);
		return rv;
	}
	nng_aio_set_timeout(aio, BENCH_TIMEOUT_MS);
	if ((rv = nng_msg_alloc(&msg, p->len)) == 0) {
		memcpy(nng_msg_body(msg), p->buf, p->len);
		nng_aio_set_msg(aio, msg);
		nng_ctx_send(ctx, aio);
		nng_aio_wait(aio);
		rv = nng_aio_result(aio);
	}

	if (rv == 0) {
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		rv = nng_aio_result(aio);
	}
	/* The reply, or the request when the send failed; else NULL. */
	nng_msg_free(nng_aio_get_msg(aio));
	nng_ctx_close(ctx);
	nng_aio_free(aio);
	return rv;
}

/*
 * Requests are never resent: nng's req0 would otherwise send a request
 * again when its reply is late, which would count one request twice and
 * make an Issue twice.
 */
static enrt_status
open_socket(async_run *run, nng_socket *sock, enrt_error *err)
{
	const char *url = run->cfg->url;
	int rv;

	if ((rv = nng_req0_open(sock)) != 0) {
		return nng_failed(err, "cannot open a socket for", url, rv);
	}
	run->n_socks++;
	rv = nng_socket_set_ms(
	    *sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	if (rv == 0 && (rv = nng_dial(*sock, url, NULL, 0)) != 0) {
		return nng_failed(err, "cannot dial", url, rv);
	}
	if (rv == 0 &&
	    (rv = warm_up(*sock, &run->introspects[BENCH_UNKNOWN][0])) != 0) {
		return nng_failed(err, "no first reply from", url, rv);
	}
	return rv == 0 ? ENRT_OK : nng_failed(err, "socket for", url, rv);
}

static enrt_status
open_contexts(async_run *run, enrt_error *err)
{
	int rv = 0;

	run->contexts = calloc(run->cfg->concurrency, sizeof(context));
	if (run->contexts == NULL) {
		return nng_failed(
		    err, "contexts for", run->cfg->url, NNG_ENOMEM);
	}
	for (unsigned i = 0; i < run->cfg->concurrency && rv == 0; i++) {
		context *c = &run->contexts[i];

		c->run = run;
		c->rng = bench_rand_seed();
		run->n_contexts++;
		if ((rv = nng_aio_alloc(&c->aio, context_cb, c)) == 0 &&
		    (rv = nng_ctx_open(
		         &c->ctx, run->socks[i % run->n_socks])) == 0) {
			c->ctx_open = true;
			nng_aio_set_timeout(c->aio, BENCH_TIMEOUT_MS);
		}
	}
	return rv == 0 ? ENRT_OK
	               : nng_failed(err, "contexts for", run->cfg->url, rv);
}

static enrt_status
prepare(async_run *run, enrt_error *err)
{
	enrt_status status = ENRT_OK;

	if (!pack_all(run)) {
		return nng_failed(
		    err, "requests for", run->cfg->url, NNG_ENOMEM);
	}
	for (unsigned i = 0; i < run->cfg->connections && status == ENRT_OK;
	     i++) {
		status = open_socket(run, &run->socks[i], err);
	}
	if (status == ENRT_OK) {
		status = open_contexts(run, err);
	}
	return status;
}

/* Starts every context and waits until the last one has stopped. */
static void
run_load(async_run *run, bench_result *result)
{
	uint64_t start;

	run->running = run->n_contexts;
	bench_limit_init(&run->limit, run->cfg);
	start = bench_now_ns();
	for (unsigned i = 0; i < run->n_contexts; i++) {
		send_next(&run->contexts[i]);
	}

	pthread_mutex_lock(&run->mtx);
	while (run->running > 0) {
		pthread_cond_wait(&run->idle, &run->mtx);
	}
	pthread_mutex_unlock(&run->mtx);
	result->seconds = (double)(bench_now_ns() - start) / 1e9;

	for (unsigned i = 0; i < run->n_contexts; i++) {
		bench_tally_merge(&result->tally, &run->contexts[i].tally);
	}
}

/* Every aio is stopped, so no callback runs, before anything is freed. */
static void
teardown(async_run *run)
{
	for (unsigned i = 0; i < run->n_contexts; i++) {
		nng_aio_stop(run->contexts[i].aio);
	}
	for (unsigned i = 0; i < run->n_contexts; i++) {
		context *c = &run->contexts[i];

		if (c->ctx_open) {
			nng_ctx_close(c->ctx);
		}
		if (c->aio != NULL) {
			nng_msg_free(nng_aio_get_msg(c->aio));
			nng_aio_free(c->aio);
		}
	}
	for (unsigned i = 0; i < run->n_socks; i++) {
		nng_close(run->socks[i]);
	}
	free(run->contexts);
	free_all_packed(run);
	pthread_cond_destroy(&run->idle);
	pthread_mutex_destroy(&run->mtx);
}

enrt_status
bench_async_run(const bench_config *cfg, const bench_pool *pool,
    bench_result *result, enrt_error *err)
{
	async_run run = {.cfg = cfg, .pool = pool};
	enrt_status status;

	memset(result, 0, sizeof(*result));
	pthread_mutex_init(&run.mtx, NULL);
	pthread_cond_init(&run.idle, NULL);
	if ((status = prepare(&run, err)) == ENRT_OK) {
		run_load(&run, result);
	}
	teardown(&run);
	return status;
}
