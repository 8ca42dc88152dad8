/*
 * The values an enrt-bench run sends, and the choice of the next one.
 *
 * Setting up runs on the main thread before the load, with a few helper
 * threads that share one libenrt handle to issue and revoke tokens in
 * parallel: a new app (policy AuthenticatedUsers, so that an admin may
 * issue PATs in it), --tokens PATs for one synthetic owner, the share
 * that the mix asks for revoked, unknown values made here with a correct
 * checksum (well-formed, never issued) and malformed ones, each with one
 * flaw that the format check catches.  The pool owns every value and
 * wipes them when it is freed; during the run it is only read, by any
 * number of threads.
 */
#include "bench.h"
#include "format.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SETUP_THREADS 8
#define MALFORMED_N   64
#define FLAWS         5

typedef enum setup_step {
	STEP_ISSUE,
	STEP_REVOKE,
} setup_step;

/* One helper thread's share of a setup step: values [from, to). */
typedef struct setup_job {
	pthread_t thread;
	enrt_client *client;
	const bench_pool *pool;
	setup_step step;
	bench_value *values;
	size_t from, to;
	enrt_status status;
	enrt_error err;
} setup_job;

/* ------------------------------------------------------------------ */
/* Random numbers                                                      */

/* xorshift64*: quick, and good enough to spread picks over a pool. */
uint64_t
bench_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(2685821657736338717);
}

uint64_t
bench_rand_seed(void)
{
	uint64_t seed = 0;

	while (seed == 0) {
		randombytes_buf(&seed, sizeof(seed));
	}
	return seed;
}

/* ------------------------------------------------------------------ */
/* Values made here                                                    */

static void
random_secret(bench_value *v, const char *prefix)
{
	uint8_t raw[FORMAT_RAW_LEN];

	randombytes_buf(raw, sizeof(raw));
	format_secret(v->text, prefix, raw);
	sodium_memzero(raw, sizeof(raw));
	v->len = FORMAT_SECRET_LEN;
}

/* The next base62 digit, wrapping: a different digit, never the same. */
static char
other_digit(char c)
{
	switch (c) {
	case '9':
		return 'A';
	case 'Z':
		return 'a';
	case 'z':
		return '0';
	default:
		return (char)(c + 1);
	}
}

/*
 * A token with one flaw: a checksum that does not match, one character
 * short, one too many, a character outside base62, or a credential's
 * prefix.  Each fails enrt_token_check.
 */
static void
malformed(bench_value *v, unsigned flaw)
{
	random_secret(
	    v, flaw == 4 ? ENRT_CREDENTIAL_PREFIX : ENRT_TOKEN_PREFIX);
	switch (flaw) {
	case 0:
		v->text[FORMAT_SECRET_LEN - 1] =
		    other_digit(v->text[FORMAT_SECRET_LEN - 1]);
		break;
	case 1:
		v->text[--v->len] = '\0';
		break;
	case 2:
		v->text[v->len++] = '0';
		v->text[v->len] = '\0';
		break;
	case 3:
		v->text[FORMAT_PREFIX_LEN + 20] = '-';
		break;
	}
}

/* Echo needs a credential only of the right form: no server checks it. */
static void
random_credential(bench_pool *pool)
{
	bench_value cred;

	random_secret(&cred, ENRT_CREDENTIAL_PREFIX);
	memcpy(pool->credential, cred.text, sizeof(pool->credential));
	sodium_memzero(&cred, sizeof(cred));
}

static enrt_status
alloc_kind(bench_pool *pool, bench_kind kind, size_t n, enrt_error *err)
{
	pool->n[kind] = 0;
	if (n == 0) {
		return ENRT_OK;
	}
	if ((pool->values[kind] = calloc(n, sizeof(bench_value))) == NULL) {
		err->status = ENRT_RESOURCE_EXHAUSTED;
		snprintf(err->message, sizeof(err->message),
		    "no memory for %zu values", n);
		return err->status;
	}
	pool->n[kind] = n;
	return ENRT_OK;
}

/* Unknown values, malformed ones, and, for echo, stand-ins for the rest. */
static enrt_status
make_local(bench_pool *pool, bench_kind kind, size_t n, enrt_error *err)
{
	enrt_status status = alloc_kind(pool, kind, n, err);

	for (size_t i = 0; status == ENRT_OK && i < n; i++) {
		if (kind == BENCH_MALFORMED) {
			malformed(
			    &pool->values[kind][i], (unsigned)(i % FLAWS));
		} else {
			random_secret(
			    &pool->values[kind][i], ENRT_TOKEN_PREFIX);
		}
	}
	return status;
}

/* ------------------------------------------------------------------ */
/* How many of each                                                    */

/*
 * Splits the issued tokens between active and revoked as the mix
 * weighs them, keeping at least one of each kind the mix names
 * (bench_args made sure there are enough tokens for that).
 */
static void
split_tokens(const bench_config *cfg, size_t *active, size_t *revoked)
{
	unsigned a = cfg->mix[BENCH_ACTIVE];
	unsigned r = cfg->mix[BENCH_REVOKED];
	size_t n = cfg->tokens;

	*active = *revoked = 0;
	if (cfg->op == BENCH_OP_ISSUE || a + r == 0) {
		return;
	}
	*revoked = (n * r + (a + r) / 2) / (a + r);
	if (r > 0 && *revoked == 0) {
		*revoked = 1;
	}
	if (a > 0 && *revoked == n) {
		*revoked = n - 1;
	}
	*active = n - *revoked;
}

static void
fill_table(bench_pool *pool, const bench_config *cfg)
{
	size_t at = 0;

	for (int k = 0; k < BENCH_KINDS; k++) {
		for (unsigned i = 0; i < cfg->mix[k]; i++) {
			pool->table[at++] = (bench_kind)k;
		}
	}
}

/* Unknown and malformed values, for every op, so that each kind exists. */
static enrt_status
make_unissued(bench_pool *pool, const bench_config *cfg, enrt_error *err)
{
	enrt_status status;

	fill_table(pool, cfg);
	status = make_local(pool, BENCH_UNKNOWN, cfg->tokens, err);
	if (status == ENRT_OK) {
		status = make_local(pool, BENCH_MALFORMED, MALFORMED_N, err);
	}
	return status;
}

enrt_status
bench_pool_local(bench_pool *pool, const bench_config *cfg, enrt_error *err)
{
	size_t active, revoked;
	enrt_status status;

	split_tokens(cfg, &active, &revoked);
	pool->expires_at = (int64_t)time(NULL) + BENCH_LIFETIME_S;
	random_credential(pool);

	status = make_unissued(pool, cfg, err);
	if (status == ENRT_OK) {
		status = make_local(pool, BENCH_ACTIVE, active, err);
	}
	if (status == ENRT_OK) {
		status = make_local(pool, BENCH_REVOKED, revoked, err);
	}
	return status;
}

void
bench_pool_free(bench_pool *pool)
{
	if (pool == NULL) {
		return;
	}
	for (int k = 0; k < BENCH_KINDS; k++) {
		if (pool->values[k] != NULL) {
			sodium_memzero(
			    pool->values[k], pool->n[k] * sizeof(bench_value));
		}
		free(pool->values[k]);
		pool->values[k] = NULL;
		pool->n[k] = 0;
	}
	sodium_memzero(pool->credential, sizeof(pool->credential));
}

/* ------------------------------------------------------------------ */
/* Set-up on the server                                                */

/*
 * Puts the step in front of the library's message, which loses its end
 * when both do not fit.
 */
static enrt_status
step_failed(enrt_error *err, const char *step)
{
	char message[ENRT_ERROR_MESSAGE_MAX];
	int room = (int)(sizeof(err->message) - strlen(step) - 3);

	snprintf(message, sizeof(message), "%s", err->message);
	snprintf(err->message, sizeof(err->message), "%s: %.*s", step, room,
	    message);
	return err->status;
}

static enrt_status
create_app(enrt_client *client, bench_pool *pool, enrt_error *err)
{
	char run[FORMAT_ID_MAX];
	char name[64];
	enrt_app_params params = {0};
	enrt_app *app = NULL;
	enrt_status status;

	format_random_id(run, "run_");
	snprintf(name, sizeof(name), "enrt-bench %s", run);
	params.name = name;
	params.set_policy = true;
	params.policy = ENRT_POLICY_AUTHENTICATED_USERS;
	params.system_user = BENCH_SYSTEM_USER;

	status = enrt_app_create(client, &params, &app, err);
	if (status != ENRT_OK) {
		return step_failed(err, "creating the app");
	}
	snprintf(pool->app_id, sizeof(pool->app_id), "%s", app->id);
	enrt_app_free(app);
	return ENRT_OK;
}

static enrt_status
issue_one(setup_job *job, bench_value *v)
{
	const char *scopes[] = {BENCH_SCOPE};
	enrt_issue_params params = {
	    .app_id = job->pool->app_id,
	    .kind = ENRT_KIND_PAT,
	    .has_expires_at = true,
	    .expires_at = job->pool->expires_at,
	    .scopes = scopes,
	    .n_scopes = 1,
	    .owner = BENCH_OWNER,
	};
	enrt_issued *issued = NULL;
	enrt_status status;

	status = enrt_issue(job->client, &params, &issued, &job->err);
	if (status == ENRT_OK) {
		v->len = strlen(issued->value);
		memcpy(v->text, issued->value, v->len + 1);
	}
	enrt_issued_free(issued);
	return status;
}

static void *
run_job(void *arg)
{
	setup_job *job = arg;
	bench_value *v;

	job->status = ENRT_OK;
	for (size_t i = job->from; i < job->to && job->status == ENRT_OK;
	     i++) {
		v = &job->values[i];
		job->status = job->step == STEP_ISSUE
		                  ? issue_one(job, v)
		                  : enrt_revoke_value(job->client, v->text,
		                        v->len, &job->err);
	}
	return NULL;
}

/*
 * Runs one step over n values on up to SETUP_THREADS threads; a thread
 * that cannot be started has its share done here instead.
 */
static enrt_status
run_step(enrt_client *client, const bench_pool *pool, setup_step step,
    bench_value *values, size_t n, enrt_error *err)
{
	setup_job jobs[SETUP_THREADS];
	size_t n_jobs = n < SETUP_THREADS ? n : SETUP_THREADS;
	bool started[SETUP_THREADS] = {false};

	for (size_t i = 0; i < n_jobs; i++) {
		jobs[i] = (setup_job){.client = client,
		    .pool = pool,
		    .step = step,
		    .values = values,
		    .from = n * i / n_jobs,
		    .to = n * (i + 1) / n_jobs};
		started[i] = pthread_create(&jobs[i].thread, NULL, run_job,
		                 &jobs[i]) == 0;
		if (!started[i]) {
			run_job(&jobs[i]);
		}
	}

	for (size_t i = 0; i < n_jobs; i++) {
		if (started[i]) {
			pthread_join(jobs[i].thread, NULL);
		}
	}
	for (size_t i = 0; i < n_jobs; i++) {
		if (jobs[i].status != ENRT_OK) {
			*err = jobs[i].err;
			return step_failed(err, step == STEP_ISSUE
			                            ? "issuing tokens"
			                            : "revoking tokens");
		}
	}
	return ENRT_OK;
}

/* The last `revoked` of the issued tokens move to their own kind. */
static enrt_status
move_revoked(bench_pool *pool, size_t revoked, enrt_error *err)
{
	size_t active = pool->n[BENCH_ACTIVE] - revoked;
	bench_value *tail = pool->values[BENCH_ACTIVE] + active;
	enrt_status status;

	if ((status = alloc_kind(pool, BENCH_REVOKED, revoked, err)) !=
	    ENRT_OK) {
		return status;
	}
	memcpy(
	    pool->values[BENCH_REVOKED], tail, revoked * sizeof(bench_value));
	sodium_memzero(tail, revoked * sizeof(bench_value));
	pool->n[BENCH_ACTIVE] = active;
	return ENRT_OK;
}

static enrt_status
issue_tokens(enrt_client *client, bench_pool *pool, size_t active,
    size_t revoked, enrt_error *err)
{
	uint64_t start = bench_now_ns();
	enrt_status status;

	status = alloc_kind(pool, BENCH_ACTIVE, active + revoked, err);
	if (status == ENRT_OK) {
		status = run_step(client, pool, STEP_ISSUE,
		    pool->values[BENCH_ACTIVE], active + revoked, err);
	}
	if (status == ENRT_OK && revoked > 0) {
		status = move_revoked(pool, revoked, err);
	}
	if (status == ENRT_OK && revoked > 0) {
		status = run_step(client, pool, STEP_REVOKE,
		    pool->values[BENCH_REVOKED], revoked, err);
	}

	if (status == ENRT_OK && active + revoked > 0) {
		fprintf(stderr,
		    "enrt-bench: app %s: %zu active and %zu revoked tokens "
		    "in %.1f s\n",
		    pool->app_id, active, revoked,
		    (double)(bench_now_ns() - start) / 1e9);
	} else if (status == ENRT_OK) {
		fprintf(stderr, "enrt-bench: app %s: no tokens issued first\n",
		    pool->app_id);
	}
	return status;
}

enrt_status
bench_pool_setup(bench_pool *pool, const bench_config *cfg, enrt_error *err)
{
	enrt_options options = {.url = cfg->url,
	    .credential = pool->credential,
	    .timeout_ms = BENCH_TIMEOUT_MS};
	enrt_client *client = NULL;
	size_t active, revoked;
	enrt_status status;

	split_tokens(cfg, &active, &revoked);
	pool->expires_at = (int64_t)time(NULL) + BENCH_LIFETIME_S;
	if ((status = make_unissued(pool, cfg, err)) != ENRT_OK) {
		return status;
	}

	if ((status = enrt_client_open(&client, &options, err)) != ENRT_OK) {
		return status;
	}
	status = create_app(client, pool, err);
	if (status == ENRT_OK) {
		status = issue_tokens(client, pool, active, revoked, err);
	}
	enrt_client_close(client);
	return status;
}

/* ------------------------------------------------------------------ */
/* Picking                                                             */

void
bench_pool_pick(const bench_pool *pool, const bench_config *cfg, uint64_t *rng,
    bench_request *out)
{
	uint64_t r = bench_rand(rng);

	out->issue =
	    cfg->op == BENCH_OP_ISSUE ||
	    (cfg->op == BENCH_OP_MIXED && r % 100 < cfg->issue_percent);
	if (out->issue) {
		out->value = NULL;
		return;
	}

	r = bench_rand(rng);
	out->kind = pool->table[r % 100];
	out->index = (size_t)((r >> 8) % pool->n[out->kind]);
	out->value = &pool->values[out->kind][out->index];
}

unsigned
bench_tokens_per_request(const bench_config *cfg)
{
	return cfg->batch > 0 ? cfg->batch : 1;
}

const char *
bench_wrong_answer(bench_kind kind, bool active)
{
	bool expected = kind == BENCH_ACTIVE;

	if (active == expected) {
		return NULL;
	}
	return expected ? "an active token was answered inactive"
	                : "an inactive token was answered active";
}
