/*
 * enrt-bench-echo: the ceiling that enrtd's Introspect is measured
 * against.  An nng rep0 server shaped like enrtd's transport (one
 * socket on any number of URLs, a fixed pool of contexts, each one aio
 * and a receive-then-send state machine) that answers every request with
 * the same reply and does no other work: no decoding, no credential
 * check, no lookup.
 *
 * The reply is one enrt Reply envelope holding an active Introspect
 * answer with fields of the sizes enrt-bench's own tokens get from
 * enrtd (a token id, an app id, the bench's owner and scope, two
 * times), packed once at start-up.  A client therefore does exactly the
 * work it does against enrtd, decoding included, and sends and receives
 * messages of the same sizes; the difference in throughput is the
 * server's work.
 *
 * The main thread owns the socket, the contexts and the reply; it
 * starts them, waits for SIGINT or SIGTERM (blocked before nng starts
 * its threads, so only sigwait sees them), then stops every aio before
 * it frees anything.  Everything else runs in aio callbacks.
 */
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <sodium.h>

#include "bench.h"
#include "enrt.pb-c.h"
#include "format.h"

#define URLS_MAX         16
#define DEFAULT_CONTEXTS 64
#define CONTEXTS_MAX     4096
#define MAX_REQUEST      (64 * 1024) /* as enrtd's default */

typedef enum worker_state {
	WORKER_RECV,
	WORKER_SEND,
} worker_state;

typedef struct echo echo;

typedef struct worker {
	echo *e;
	nng_ctx ctx;
	bool ctx_open;
	nng_aio *aio;
	worker_state state; /* the aio's own: set before each operation */
} worker;

struct echo {
	const char *urls[URLS_MAX];
	unsigned n_urls;
	unsigned n_workers;
	nng_socket sock;
	bool sock_open;
	worker *workers;
	uint8_t *reply; /* read by every callback, written before they run */
	size_t reply_len;
};

/* ------------------------------------------------------------------ */
/* Flags                                                               */

static const struct option options[] = {
    {"listen", required_argument, NULL, 'l'},
    {"contexts", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: enrt-bench-echo --listen URL... [--contexts N]\n"
	           "Answers every request with a canned active Introspect "
	           "reply, the ceiling\nthat enrt-bench compares enrtd "
	           "with.\n\n"
	           "  --listen URL    ipc:// or tcp:// URL; repeat for more "
	           "(at least one)\n"
	           "  --contexts N    requests served at once, 1 to 4096 "
	           "(default 64, as enrtd)\n"
	           "  --help          show this help\n");
}

static int
bad_flag(const char *flag, const char *rule)
{
	fprintf(stderr, "enrt-bench-echo: %s: %s\n", flag, rule);
	fputs(
	    "usage: enrt-bench-echo --listen URL... [--contexts N]\n", stderr);
	return 2;
}

static int
parse_contexts(echo *e, const char *text)
{
	char *end;
	unsigned long v;

	if (text[0] < '0' || text[0] > '9') {
		return bad_flag("--contexts", "must be a whole number from 1 "
		                              "to 4096");
	}
	v = strtoul(text, &end, 10);
	if (*end != '\0' || v < 1 || v > CONTEXTS_MAX) {
		return bad_flag("--contexts", "must be a whole number from 1 "
		                              "to 4096");
	}
	e->n_workers = (unsigned)v;
	return 0;
}

static int
parse_flag(echo *e, int opt, char **argv)
{
	switch (opt) {
	case 'l':
		if (optarg[0] == '\0') {
			return bad_flag("--listen", "must not be empty");
		}
		if (e->n_urls == URLS_MAX) {
			return bad_flag("--listen", "at most 16 times");
		}
		e->urls[e->n_urls++] = optarg;
		return 0;
	case 'c':
		return parse_contexts(e, optarg);
	case 'h':
		usage(stdout);
		exit(0);
	case ':':
		return bad_flag(argv[optind - 1], "needs a value");
	default:
		return bad_flag(argv[optind - 1], "unknown flag");
	}
}

/* 0 to go on, or the exit status. */
static int
parse_args(echo *e, int argc, char **argv)
{
	int opt, rc;

	e->n_workers = DEFAULT_CONTEXTS;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if ((rc = parse_flag(e, opt, argv)) != 0) {
			return rc;
		}
	}
	if (optind < argc) {
		return bad_flag(argv[optind], "unexpected argument");
	}
	if (e->n_urls == 0) {
		return bad_flag("--listen", "at least one URL is required");
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The reply                                                           */

/* An answer the size of enrtd's for one of enrt-bench's tokens. */
static bool
make_reply(echo *e)
{
	Enrt__V1__Reply reply = ENRT__V1__REPLY__INIT;
	Enrt__V1__IntrospectReply answer = ENRT__V1__INTROSPECT_REPLY__INIT;
	char token_id[FORMAT_ID_MAX], app_id[FORMAT_ID_MAX];
	char *scopes[] = {BENCH_SCOPE};
	int64_t now = (int64_t)time(NULL);

	format_random_id(token_id, "tok_");
	format_random_id(app_id, "app_");
	answer.has_active = true;
	answer.active = true;
	answer.token_id = token_id;
	answer.has_kind = true;
	answer.kind = ENRT__V1__TOKEN_KIND__PAT;
	answer.app_id = app_id;
	answer.subject = BENCH_OWNER;
	answer.n_scopes = 1;
	answer.scopes = scopes;
	answer.has_issued_at = true;
	answer.issued_at = now;
	answer.has_expires_at = true;
	answer.expires_at = now + BENCH_LIFETIME_S;

	reply.has_status = true;
	reply.status = ENRT__V1__STATUS__OK;
	reply.result_case = ENRT__V1__REPLY__RESULT_INTROSPECT;
	reply.introspect = &answer;
	e->reply_len = enrt__v1__reply__get_packed_size(&reply);
	if ((e->reply = malloc(e->reply_len)) == NULL) {
		return false;
	}
	enrt__v1__reply__pack(&reply, e->reply);
	return true;
}

/* ------------------------------------------------------------------ */
/* Serving                                                             */

static void
arm_recv(worker *w)
{
	w->state = WORKER_RECV;
	nng_ctx_recv(w->ctx, w->aio);
}

/*
 * The body becomes the reply; the header, which routes it, stays.  The
 * request is not wiped, unlike in enrtd: enrt-bench sends this server a
 * random credential that no server knows, and tokens that open nothing.
 */
static void
on_received(worker *w, int rv)
{
	nng_msg *msg;

	if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
		return;
	}
	if (rv != 0) {
		arm_recv(w);
		return;
	}
	msg = nng_aio_get_msg(w->aio);
	nng_msg_clear(msg);
	if (nng_msg_append(msg, w->e->reply, w->e->reply_len) != 0) {
		nng_msg_free(msg);
		arm_recv(w);
		return;
	}
	w->state = WORKER_SEND;
	nng_ctx_send(w->ctx, w->aio);
}

static void
on_sent(worker *w, int rv)
{
	if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(w->aio)); /* a failed send's */
		nng_aio_set_msg(w->aio, NULL);
	}
	if (rv != NNG_ECLOSED && rv != NNG_ECANCELED) {
		arm_recv(w);
	}
}

static void
worker_cb(void *arg)
{
	worker *w = arg;
	int rv = nng_aio_result(w->aio);

	switch (w->state) {
	case WORKER_RECV:
		on_received(w, rv);
		break;
	case WORKER_SEND:
		on_sent(w, rv);
		break;
	}
}

static int
nng_failed(const char *what, const char *url, int rv)
{
	fprintf(stderr, "enrt-bench-echo: %s%s%s: %s\n", what,
	    url[0] != '\0' ? " " : "", url, nng_strerror(rv));
	return 1;
}

static int
open_workers(echo *e)
{
	int rv = 0;

	if ((e->workers = calloc(e->n_workers, sizeof(worker))) == NULL) {
		return nng_failed("contexts", "", NNG_ENOMEM);
	}
	for (unsigned i = 0; i < e->n_workers && rv == 0; i++) {
		worker *w = &e->workers[i];

		w->e = e;
		if ((rv = nng_aio_alloc(&w->aio, worker_cb, w)) == 0 &&
		    (rv = nng_ctx_open(&w->ctx, e->sock)) == 0) {
			w->ctx_open = true;
		}
	}
	return rv == 0 ? 0 : nng_failed("contexts", "", rv);
}

static int
start(echo *e)
{
	int rv;

	if (!make_reply(e)) {
		return nng_failed("reply", "", NNG_ENOMEM);
	}
	if ((rv = nng_rep0_open(&e->sock)) != 0) {
		return nng_failed("rep0 socket", "", rv);
	}
	e->sock_open = true;
	rv = nng_socket_set_size(e->sock, NNG_OPT_RECVMAXSZ, MAX_REQUEST);
	if (rv != 0 || (rv = open_workers(e)) != 0) {
		return rv;
	}

	for (unsigned i = 0; i < e->n_urls; i++) {
		if ((rv = nng_listen(e->sock, e->urls[i], NULL, 0)) != 0) {
			return nng_failed("listen", e->urls[i], rv);
		}
	}
	for (unsigned i = 0; i < e->n_workers; i++) {
		arm_recv(&e->workers[i]);
	}
	return 0;
}

/* Every aio is stopped, so no callback runs, before anything is freed. */
static void
stop(echo *e)
{
	for (unsigned i = 0; e->workers != NULL && i < e->n_workers; i++) {
		nng_aio_stop(e->workers[i].aio);
	}
	for (unsigned i = 0; e->workers != NULL && i < e->n_workers; i++) {
		worker *w = &e->workers[i];

		if (w->ctx_open) {
			nng_ctx_close(w->ctx);
		}
		if (w->aio != NULL) {
			nng_msg_free(nng_aio_get_msg(w->aio));
			nng_aio_free(w->aio);
		}
	}
	if (e->sock_open) {
		nng_close(e->sock);
	}
	free(e->workers);
	free(e->reply);
}

int
main(int argc, char **argv)
{
	static echo e;
	sigset_t signals;
	int rc, sig;

	if ((rc = parse_args(&e, argc, argv)) != 0) {
		return rc;
	}
	if (sodium_init() < 0) {
		fputs("enrt-bench-echo: libsodium cannot start\n", stderr);
		return 1;
	}
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);

	if ((rc = start(&e)) == 0) {
		fprintf(stderr, "enrt-bench-echo: serving, reply %zu bytes\n",
		    e.reply_len);
		sigwait(&signals, &sig);
	}
	stop(&e);
	return rc;
}
