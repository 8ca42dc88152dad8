/*
 * resource_server: a tiny HTTP API that enrt protects, as an example of
 * what a backend does with libenrt on every request.  It takes the token
 * from "Authorization: Bearer enrt_..." or "X-Api-Key: enrt_..." (one of
 * the two), asks enrtd whether it is active, and answers
 *
 *   401  no token, a malformed one, or one that is not active, with a
 *        WWW-Authenticate: Bearer challenge (RFC 6750);
 *   403  an active token without the scope given by --scope;
 *   400  both headers at once;
 *   503  enrtd could not answer;
 *   200  otherwise, with the token's subject in a text/plain body.
 *
 * It listens on 127.0.0.1 only.  nng's HTTP server reads the requests on
 * its own threads; since an introspection blocks for a round trip and
 * libenrt needs those same threads to complete it, the handler only
 * queues the request, and a fixed pool of worker threads asks enrtd and
 * answers.  The main thread parses the flags, starts everything, waits
 * for SIGINT or SIGTERM and stops the parts in reverse order.  The token
 * is never printed or logged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include <enrt.h>

#define WORKERS       4
#define QUEUE_MAX     64
#define REALM         "enrt-example"
#define SCOPE_MAX     64
#define CHALLENGE_MAX 256
#define BODY_MAX      (ENRT_ERROR_MESSAGE_MAX + 256)

struct config {
	const char *url;
	const char *credential_file;
	const char *tls_ca_file;
	const char *scope; /* NULL: any active token will do */
	int port;
	int timeout_ms;
};

/* What to answer one request: status, challenge (may be empty), body. */
struct verdict {
	uint16_t status;
	char challenge[CHALLENGE_MAX];
	char body[BODY_MAX];
};

struct server {
	struct config config;
	enrt_client *client;
	nng_http_server *http;
	pthread_mutex_t lock;
	pthread_cond_t ready;
	nng_aio *queue[QUEUE_MAX]; /* guarded by lock */
	size_t head;               /* guarded by lock */
	size_t count;              /* guarded by lock */
	bool stopping;             /* guarded by lock */
	pthread_t workers[WORKERS];
	size_t n_workers;
};

static void
usage(FILE *out)
{
	fputs("usage: enrt-resource-server [options]\n"
	      "  --port N                port on 127.0.0.1, 0 for any free "
	      "one (default 8080)\n"
	      "  --scope SCOPE           scope a token must carry "
	      "(default: none)\n"
	      "  --url URL               enrtd's address (default $ENRT_URL, "
	      "else\n"
	      "                          ipc://enrt-data/enrt.sock)\n"
	      "  --credential-file FILE  file whose first line is the "
	      "caller's credential\n"
	      "                          (default $ENRT_CREDENTIAL_FILE, "
	      "else\n"
	      "                          enrt-data/admin.credential)\n"
	      "  --tls-ca FILE           PEM CA certificates, for tls+tcp://\n"
	      "  --timeout MS            time allowed for each introspection "
	      "(default 2000)\n"
	      "  --help                  show this help\n",
	    out);
}

/* ------------------------------------------------------------------ */
/* Flags                                                               */

static bool
parse_int(const char *text, long min, long max, int *value)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || n < min || n > max) {
		return false;
	}
	*value = (int)n;
	return true;
}

/* The rule enrt has for a scope, so that it can be quoted in a header. */
static bool
scope_ok(const char *scope)
{
	size_t len = strlen(scope);

	if (len == 0 || len > SCOPE_MAX) {
		return false;
	}
	return strspn(scope,
	           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	           "0123456789:._-") == len;
}

static const char *
env_or(const char *name, const char *fallback)
{
	const char *value = getenv(name);

	return value != NULL && value[0] != '\0' ? value : fallback;
}

/* One flag with its value; false with a message on a bad value. */
static bool
apply_flag(struct config *config, int flag, const char *value)
{
	switch (flag) {
	case 'p':
		if (!parse_int(value, 0, 65535, &config->port)) {
			fprintf(stderr, "--port: must be 0 to 65535\n");
			return false;
		}
		return true;
	case 's':
		if (!scope_ok(value)) {
			fprintf(stderr, "--scope: must be 1 to 64 of "
			                "A-Z a-z 0-9 : . _ -\n");
			return false;
		}
		config->scope = value;
		return true;
	case 'u':
		config->url = value;
		return true;
	case 'c':
		config->credential_file = value;
		return true;
	case 'a':
		config->tls_ca_file = value;
		return true;
	case 't':
		if (!parse_int(value, 1, INT_MAX, &config->timeout_ms)) {
			fprintf(stderr, "--timeout: must be a whole number of "
			                "milliseconds, at least 1\n");
			return false;
		}
		return true;
	}
	return false;
}

/* Exit status: -1 to go on, 0 after --help, 2 for bad arguments. */
static int
parse_flags(int argc, char **argv, struct config *config)
{
	static const struct option options[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"scope", required_argument, NULL, 's'},
	    {"url", required_argument, NULL, 'u'},
	    {"credential-file", required_argument, NULL, 'c'},
	    {"tls-ca", required_argument, NULL, 'a'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int flag;

	*config = (struct config){
	    .url = env_or("ENRT_URL", "ipc://enrt-data/enrt.sock"),
	    .credential_file =
	        env_or("ENRT_CREDENTIAL_FILE", "enrt-data/admin.credential"),
	    .port = 8080,
	    .timeout_ms = 2000,
	};
	while ((flag = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (flag == 'h') {
			usage(stdout);
			return 0;
		}
		if (flag == '?' || !apply_flag(config, flag, optarg)) {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: takes no arguments\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* The client of enrtd                                                 */

/* Reads the first line of path into buf, without its newline. */
static bool
read_credential(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (f == NULL) {
		fprintf(stderr, "--credential-file %s: %s\n", path,
		    strerror(errno));
		return false;
	}
	ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);

	if (ok) {
		buf[strcspn(buf, "\r\n")] = '\0';
	}
	if (!ok || !enrt_credential_check(buf, strlen(buf))) {
		fprintf(stderr,
		    "--credential-file %s: the first line must be an "
		    "enrc_ credential\n",
		    path);
		return false;
	}
	return true;
}

static bool
open_client(struct server *s)
{
	char credential[128] = {0};
	enrt_error err;
	enrt_status status = ENRT_INVALID_ARGUMENT;
	enrt_options options = {
	    .url = s->config.url,
	    .credential = credential,
	    .timeout_ms = s->config.timeout_ms,
	    .tls_ca_file = s->config.tls_ca_file,
	};

	if (read_credential(
	        s->config.credential_file, credential, sizeof(credential))) {
		status = enrt_client_open(&s->client, &options, &err);
		if (status != ENRT_OK) {
			fprintf(stderr, "%s: %s\n", enrt_status_name(status),
			    err.message);
		}
	}

	/* The library keeps its own copy. */
	explicit_bzero(credential, sizeof(credential));
	return status == ENRT_OK;
}

/* ------------------------------------------------------------------ */
/* Deciding                                                            */

static void
refuse(struct verdict *v, uint16_t status, const char *error, const char *body)
{
	v->status = status;
	if (error == NULL) {
		snprintf(v->challenge, sizeof(v->challenge),
		    "Bearer realm=\"" REALM "\"");
	} else {
		snprintf(v->challenge, sizeof(v->challenge),
		    "Bearer realm=\"" REALM "\", error=\"%s\"", error);
	}
	snprintf(v->body, sizeof(v->body), "%s\n", body);
}

static bool
has_scope(const enrt_introspection *answer, const char *scope)
{
	for (size_t i = 0; i < answer->n_scopes; i++) {
		if (strcmp(answer->scopes[i], scope) == 0) {
			return true;
		}
	}
	return false;
}

/* The answer for a token enrtd has judged. */
static void
judge_answer(const struct server *s, const enrt_introspection *answer,
    struct verdict *v)
{
	const char *scope = s->config.scope;

	if (!answer->active) {
		refuse(v, 401, "invalid_token", "the token is not active");
		return;
	}
	if (scope != NULL && !has_scope(answer, scope)) {
		refuse(v, 403, "insufficient_scope",
		    "the token lacks the scope this API requires");
		snprintf(v->challenge, sizeof(v->challenge),
		    "Bearer realm=\"" REALM
		    "\", error=\"insufficient_scope\", "
		    "scope=\"%s\"",
		    scope);
		return;
	}
	v->status = 200;
	snprintf(v->body, sizeof(v->body), "subject: %s\n", answer->subject);
}

/* Introspects a token whose form the header helper has checked. */
static void
judge_token(struct server *s, const char *token, size_t len, struct verdict *v)
{
	enrt_introspection *answer = NULL;
	enrt_status status;
	enrt_error err;

	status = enrt_introspect(s->client, token, len, &answer, &err);
	if (status != ENRT_OK) {
		/* Not the client's fault: say so, and log why. */
		fprintf(stderr, "introspect failed: %s: %s\n",
		    enrt_status_name(status), err.message);
		v->status = 503;
		snprintf(v->body, sizeof(v->body),
		    "the token cannot be checked now\n");
		return;
	}
	judge_answer(s, answer, v);
	enrt_introspection_free(answer);
}

static void
judge(struct server *s, nng_http_req *req, struct verdict *v)
{
	const char *authorization =
	    nng_http_req_get_header(req, "Authorization");
	const char *api_key = nng_http_req_get_header(req, "X-Api-Key");
	const char *token;
	size_t len;
	enrt_error err;

	if (authorization == NULL && api_key == NULL) {
		refuse(v, 401, NULL,
		    "a token is required: Authorization: Bearer enrt_... "
		    "or X-Api-Key: enrt_...");
		return;
	}
	if (authorization != NULL && api_key != NULL) {
		refuse(v, 400, "invalid_request",
		    "give the token in one header, not in both");
		return;
	}
	if (enrt_token_from_header(
	        authorization, api_key, &token, &len, &err) != ENRT_OK) {
		refuse(v, 401, "invalid_token", err.message);
		return;
	}
	judge_token(s, token, len, v);
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */

/* Completes the request's aio with the verdict as its response. */
static void
respond(nng_aio *aio, const struct verdict *v)
{
	nng_http_res *res;
	int rv;

	if ((rv = nng_http_res_alloc(&res)) != 0) {
		nng_aio_finish(aio, rv);
		return;
	}

	rv = nng_http_res_set_status(res, v->status);
	if (rv == 0 && v->challenge[0] != '\0') {
		rv = nng_http_res_set_header(
		    res, "WWW-Authenticate", v->challenge);
	}
	if (rv == 0) {
		rv = nng_http_res_set_header(
		    res, "Content-Type", "text/plain; charset=utf-8");
	}
	if (rv == 0) {
		rv = nng_http_res_copy_data(res, v->body, strlen(v->body));
	}

	if (rv != 0) {
		nng_http_res_free(res);
		nng_aio_finish(aio, rv);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

/* Takes the next queued request; NULL once stopping with none left. */
static nng_aio *
dequeue(struct server *s)
{
	nng_aio *aio = NULL;

	pthread_mutex_lock(&s->lock);
	while (s->count == 0 && !s->stopping) {
		pthread_cond_wait(&s->ready, &s->lock);
	}
	if (s->count > 0) {
		aio = s->queue[s->head];
		s->head = (s->head + 1) % QUEUE_MAX;
		s->count--;
	}
	pthread_mutex_unlock(&s->lock);
	return aio;
}

static void *
worker(void *arg)
{
	struct server *s = arg;
	nng_aio *aio;
	struct verdict v;

	while ((aio = dequeue(s)) != NULL) {
		memset(&v, 0, sizeof(v));
		judge(s, nng_aio_get_input(aio, 0), &v);
		respond(aio, &v);
	}
	return NULL;
}

/* nng's handler: queue the request for a worker, or refuse it at once. */
static void
handle(nng_aio *aio)
{
	struct server *s =
	    nng_http_handler_get_data(nng_aio_get_input(aio, 1));
	struct verdict busy = {.status = 503};
	bool queued = false;

	pthread_mutex_lock(&s->lock);
	if (s->count < QUEUE_MAX && !s->stopping) {
		s->queue[(s->head + s->count) % QUEUE_MAX] = aio;
		s->count++;
		queued = true;
		pthread_cond_signal(&s->ready);
	}
	pthread_mutex_unlock(&s->lock);

	if (!queued) {
		snprintf(busy.body, sizeof(busy.body), "too many requests\n");
		respond(aio, &busy);
	}
}

static bool
start_workers(struct server *s)
{
	for (size_t i = 0; i < WORKERS; i++) {
		if (pthread_create(&s->workers[i], NULL, worker, s) != 0) {
			fprintf(stderr, "cannot start a worker thread\n");
			return false;
		}
		s->n_workers++;
	}
	return true;
}

static void
stop_workers(struct server *s)
{
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->ready);
	pthread_mutex_unlock(&s->lock);

	for (size_t i = 0; i < s->n_workers; i++) {
		pthread_join(s->workers[i], NULL);
	}
	s->n_workers = 0;
}

/* Every path under / is the protected resource. */
static int
add_handler(struct server *s)
{
	nng_http_handler *h;
	int rv;

	if ((rv = nng_http_handler_alloc(&h, "/", handle)) != 0) {
		return rv;
	}
	if ((rv = nng_http_handler_set_tree(h)) != 0 ||
	    (rv = nng_http_handler_set_data(h, s, NULL)) != 0 ||
	    (rv = nng_http_server_add_handler(s->http, h)) != 0) {
		nng_http_handler_free(h);
	}
	return rv;
}

/* The port really bound, which --port 0 leaves to the system. */
static int
bound_port(struct server *s)
{
	nng_sockaddr sa;

	if (nng_http_server_get_addr(s->http, &sa) != 0 ||
	    sa.s_family != NNG_AF_INET) {
		return s->config.port;
	}
	return ntohs(sa.s_in.sa_port);
}

static bool
start_http(struct server *s)
{
	char address[64];
	nng_url *url;
	int rv;

	snprintf(
	    address, sizeof(address), "http://127.0.0.1:%d", s->config.port);
	if ((rv = nng_url_parse(&url, address)) != 0) {
		fprintf(stderr, "%s: %s\n", address, nng_strerror(rv));
		return false;
	}
	rv = nng_http_server_hold(&s->http, url);
	nng_url_free(url);

	if (rv == 0 && (rv = add_handler(s)) == 0) {
		rv = nng_http_server_start(s->http);
	}
	if (rv != 0) {
		fprintf(stderr, "%s: %s\n", address, nng_strerror(rv));
		return false;
	}
	printf("listening on http://127.0.0.1:%d\n", bound_port(s));
	fflush(stdout);
	return true;
}

/* ------------------------------------------------------------------ */
/* Main                                                                */

/*
 * SIGINT and SIGTERM are blocked before any thread exists, so that every
 * thread inherits the mask and only sigwait in main sees them.
 */
static void
block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* Stops what started, in reverse order; each part may be absent. */
static void
shut_down(struct server *s)
{
	/* Stopping the server waits for the requests the workers hold. */
	if (s->http != NULL) {
		nng_http_server_stop(s->http);
	}
	stop_workers(s);
	if (s->http != NULL) {
		nng_http_server_release(s->http);
	}
	enrt_client_close(s->client);
	pthread_cond_destroy(&s->ready);
	pthread_mutex_destroy(&s->lock);
}

int
main(int argc, char **argv)
{
	struct server s = {0};
	sigset_t signals;
	int rc, sig;

	if ((rc = parse_flags(argc, argv, &s.config)) >= 0) {
		return rc;
	}
	block_signals(&signals);
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.ready, NULL);

	rc = 1;
	if (open_client(&s) && start_workers(&s) && start_http(&s)) {
		sigwait(&signals, &sig);
		rc = 0;
	}
	shut_down(&s);
	return rc;
}
