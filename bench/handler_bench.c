/*
 * enrt-bench-handler: what one Introspect costs enrtd's own code, with
 * no transport.  It makes a store in a fresh temporary directory, issues
 * tokens into an app, packs one Introspect request per token as a
 * client would, all from one caller, whose credential the rules
 * remember as enrtd's do, and hands the requests, round after round, to
 * rpc_handle on one thread, the way the transport hands each request to
 * its handler.  It prints the nanoseconds per request, of the thread's
 * CPU time and of the wall clock.
 *
 * enrt-bench measures the server whole, through nng, where the time a
 * request spends in nng's threads and the kernel dwarfs and hides the
 * handler's; this figure is the handler's alone, to say which of them a
 * change moved.  Every reply is decoded and must say active, so a
 * handler that got faster by answering wrongly fails here.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "apps.h"
#include "enrt.pb-c.h"
#include "log.h"
#include "memo.h"
#include "reply.h"
#include "rpc.h"
#include "rules.h"
#include "store.h"

#define DEFAULT_TOKENS   1000
#define DEFAULT_REQUESTS 1000000
#define TOKENS_MAX       100000
#define REQUESTS_MAX     100000000

typedef struct packed {
	uint8_t *bytes;
	size_t len;
} packed;

typedef struct bench {
	char dir[PATH_MAX];
	store *store;
	rules rules;
	store_caller *admin;
	actor actor;
	char credential[64];
	char *app_id;
	unsigned long n_tokens;
	unsigned long n_requests;
	packed *requests;
} bench;

static int
fail(const char *what, const char *why)
{
	fprintf(stderr, "enrt-bench-handler: %s: %s\n", what, why);
	return 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: enrt-bench-handler [--tokens N] [--requests N]\n"
	           "Times enrtd's Introspect handler in-process, without a "
	           "transport.\n\n"
	           "  --tokens N     tokens issued first, 1 to 100000 "
	           "(default 1000)\n"
	           "  --requests N   Introspects timed, 1 to 100000000 "
	           "(default 1000000)\n"
	           "  --help         show this help\n");
}

static int
parse_count(
    const char *flag, const char *text, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (text[0] < '0' || text[0] > '9') {
		fprintf(stderr,
		    "enrt-bench-handler: %s: must be a whole "
		    "number from 1 to %lu\n",
		    flag, max);
		return 2;
	}
	v = strtoul(text, &end, 10);
	if (*end != '\0' || v < 1 || v > max) {
		fprintf(stderr,
		    "enrt-bench-handler: %s: must be a whole "
		    "number from 1 to %lu\n",
		    flag, max);
		return 2;
	}
	*out = v;
	return 0;
}

/* 0 to go on, or the exit status. */
static int
parse_args(bench *b, int argc, char **argv)
{
	static const struct option options[] = {
	    {"tokens", required_argument, NULL, 't'},
	    {"requests", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt, rc = 0;

	b->n_tokens = DEFAULT_TOKENS;
	b->n_requests = DEFAULT_REQUESTS;
	while (rc == 0 &&
	       (opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		switch (opt) {
		case 't':
			rc = parse_count(
			    "--tokens", optarg, TOKENS_MAX, &b->n_tokens);
			break;
		case 'r':
			rc = parse_count("--requests", optarg, REQUESTS_MAX,
			    &b->n_requests);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "enrt-bench-handler: %s: %s\n",
			    argv[optind - 1],
			    opt == ':' ? "needs a value" : "unknown flag");
			rc = 2;
		}
	}
	if (rc == 0 && optind < argc) {
		fprintf(stderr, "enrt-bench-handler: %s: unexpected\n",
		    argv[optind]);
		rc = 2;
	}
	return rc;
}

static int
open_store(bench *b)
{
	uint8_t key[RULES_KEY_LEN];
	const char *tmp = getenv("TMPDIR");
	err e;

	snprintf(b->dir, sizeof(b->dir), "%s/enrt-bench-handler-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(b->dir) == NULL) {
		return fail(b->dir, "could not make the directory");
	}
	if (store_open(&b->store, b->dir, NULL) != ENRT_OK) {
		return fail(b->dir, "could not open a store");
	}
	randombytes_buf(key, sizeof(key));
	rules_init(&b->rules, b->store, NULL, key);
	sodium_memzero(key, sizeof(key));
	if (memo_new(&b->rules.credentials) != ENRT_OK) {
		return fail("memo", "out of memory");
	}

	if (rules_bootstrap(&b->rules, time(NULL), b->credential, &e) !=
	        ENRT_OK ||
	    rules_authenticate(&b->rules, b->credential, &b->admin, &e) !=
	        ENRT_OK) {
		return fail("bootstrap", e.message);
	}
	b->actor = (actor){.caller = b->admin, .now = time(NULL)};
	return 0;
}

static int
make_app(bench *b)
{
	Enrt__V1__CreateAppRequest req = ENRT__V1__CREATE_APP_REQUEST__INIT;
	Enrt__V1__App *app = NULL;
	err e;

	req.name = "bench";
	req.has_policy = true;
	req.policy = ENRT__V1__POLICY__AUTHENTICATED_USERS;
	req.system_user = "bench-service";
	if (apps_create(&b->rules, &b->actor, &req, &app, &e) != ENRT_OK) {
		return fail("CreateApp", e.message);
	}
	b->app_id = strdup(app->id);
	reply_free(app);
	return b->app_id == NULL ? fail("CreateApp", "out of memory") : 0;
}

/* An Introspect request for value, packed as enrt-bench sends it. */
static int
pack_introspect(bench *b, const char *value, packed *out)
{
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__IntrospectRequest op = ENRT__V1__INTROSPECT_REQUEST__INIT;

	req.has_version = true;
	req.version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	req.credential = b->credential;
	req.op_case = ENRT__V1__REQUEST__OP_INTROSPECT;
	req.introspect = &op;
	op.token = (char *)value;

	out->len = enrt__v1__request__get_packed_size(&req);
	if ((out->bytes = malloc(out->len)) == NULL) {
		return fail("requests", "out of memory");
	}
	enrt__v1__request__pack(&req, out->bytes);
	return 0;
}

/* Issues one SAT and packs an Introspect request for it. */
static int
issue_one(bench *b, packed *out)
{
	Enrt__V1__IssueRequest req = ENRT__V1__ISSUE_REQUEST__INIT;
	Enrt__V1__IssueReply *reply = NULL;
	char *scopes[] = {"read", "write"};
	err e;
	int rc;

	req.app_id = b->app_id;
	req.has_kind = true;
	req.kind = ENRT__V1__TOKEN_KIND__SAT;
	req.scopes = scopes;
	req.n_scopes = 2;
	req.has_expires_at = true;
	req.expires_at = b->actor.now + 30 * 86400;
	req.description = "enrt-bench-handler";
	if (rules_issue(&b->rules, &b->actor, &req, &reply, &e) != ENRT_OK) {
		return fail("Issue", e.message);
	}
	rc = pack_introspect(b, reply->token, out);
	reply_free(reply);
	return rc;
}

static int
issue_tokens(bench *b)
{
	int rc = 0;

	b->requests = calloc(b->n_tokens, sizeof(*b->requests));
	if (b->requests == NULL) {
		return fail("requests", "out of memory");
	}
	for (unsigned long i = 0; rc == 0 && i < b->n_tokens; i++) {
		rc = issue_one(b, &b->requests[i]);
	}
	return rc;
}

/* Whether the reply in out says the token is active. */
static bool
says_active(const uint8_t *out, size_t len)
{
	Enrt__V1__Reply *reply = enrt__v1__reply__unpack(NULL, len, out);
	bool active =
	    reply != NULL && reply->status == ENRT__V1__STATUS__OK &&
	    reply->result_case == ENRT__V1__REPLY__RESULT_INTROSPECT &&
	    reply->introspect->active;

	enrt__v1__reply__free_unpacked(reply, NULL);
	return active;
}

static double
seconds_on(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * rpc_handle wipes the request in place, as it does the transport's
 * buffer, so each request is handed over from a copy.
 */
static int
time_requests(bench *b)
{
	uint8_t buf[512];
	uint8_t *out;
	size_t out_len;
	double began, took, cpu_began, cpu;
	unsigned long bad = 0;

	began = seconds_on(CLOCK_MONOTONIC);
	cpu_began = seconds_on(CLOCK_THREAD_CPUTIME_ID);
	for (unsigned long i = 0; i < b->n_requests; i++) {
		const packed *p = &b->requests[i % b->n_tokens];

		memcpy(buf, p->bytes, p->len);
		if (!rpc_handle(&b->rules, buf, p->len, &out, &out_len)) {
			return fail("Introspect", "no reply");
		}
		if (i < b->n_tokens && !says_active(out, out_len)) {
			bad++;
		}
		free(out);
	}
	took = seconds_on(CLOCK_MONOTONIC) - began;
	cpu = seconds_on(CLOCK_THREAD_CPUTIME_ID) - cpu_began;

	if (bad != 0) {
		return fail("Introspect", "an issued token was not active");
	}
	printf("introspect handler: %lu requests over %lu tokens, "
	       "%.0f ns of CPU per request (%.0f ns of wall time)\n",
	    b->n_requests, b->n_tokens, cpu * 1e9 / (double)b->n_requests,
	    took * 1e9 / (double)b->n_requests);
	return 0;
}

static void
clean_up(bench *b)
{
	char cmd[PATH_MAX + 16];

	for (unsigned long i = 0; b->requests && i < b->n_tokens; i++) {
		free(b->requests[i].bytes);
	}
	free(b->requests);
	free(b->app_id);
	store_free(b->admin);
	memo_free(b->rules.credentials);
	if (b->store != NULL) {
		store_close(b->store);
	}
	sodium_memzero(b->credential, sizeof(b->credential));
	if (b->dir[0] != '\0' && strchr(b->dir, '\'') == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b->dir);
		if (system(cmd) != 0) {
			fail(b->dir, "could not remove the directory");
		}
	}
}

int
main(int argc, char **argv)
{
	bench b = {0};
	int rc;

	if ((rc = parse_args(&b, argc, argv)) != 0) {
		return rc;
	}
	if (sodium_init() < 0) {
		return fail("libsodium", "could not initialise");
	}
	log_set_level(LOG_WARN);
	rc = open_store(&b);
	if (rc == 0) {
		rc = make_app(&b);
	}
	if (rc == 0) {
		rc = issue_tokens(&b);
	}
	if (rc == 0) {
		rc = time_requests(&b);
	}
	clean_up(&b);
	return rc;
}
