/*
 * libenrt: the client side of the enrt wire contract.
 *
 * A handle owns one nng req0 socket, dialed in the background so that it
 * is re-made whenever it drops, and copies of its URL and credential (the
 * credential is wiped when the handle closes).  Every call packs one
 * Request envelope, sends it on a context of its own, waits for the
 * Reply up to the handle's timeout, checks its status and result arm, and
 * copies the result into the plain structs of enrt.h.  The handle is not
 * changed after it is opened, so any number of threads may call through
 * it at once; each call runs entirely on the calling thread.
 *
 * Over tls+tcp:// the dialer gets a TLS configuration of its own that
 * requires the server's certificate to verify against the caller's CA
 * file and to carry the expected name; nng's default would take the
 * name from the URL only when no configuration is given, so it is set
 * here either way.
 *
 * Transport, nng and protobuf-c errors are translated here and nowhere
 * else: a request that cannot be delivered or answered is
 * ENRT_UNAVAILABLE, a reply that does not make sense is ENRT_INTERNAL,
 * and the server's own statuses pass through with its message.
 */
#include "enrt.h"
#include "enrt.pb-c.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <sodium.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TIMEOUT_MS 10000
#define TLS_SCHEME         "tls+tcp://"

/* How long closing waits for a connection still in its greeting. */
#define CLOSE_GRACE_MS 1000

typedef Enrt__V1__Request pb_request;
typedef Enrt__V1__Reply pb_reply;
typedef Enrt__V1__Reply__ResultCase pb_result;
typedef Enrt__V1__TokenInfo pb_token;
typedef Enrt__V1__App pb_app;

struct enrt_client {
	nng_socket sock;
	char *url;
	char *credential; /* wiped on close */
	int timeout_ms;
	bool tls;

	pthread_mutex_t mtx;
	pthread_cond_t change;
	unsigned pipes; /* mtx: connections that finished their greeting */
};

/* ------------------------------------------------------------------ */
/* Errors                                                              */

static enrt_status fail(enrt_error *err, enrt_status status, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static enrt_status
fail(enrt_error *err, enrt_status status, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL) {
		return status;
	}
	err->status = status;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return status;
}

static enrt_status
succeed(enrt_error *err)
{
	if (err != NULL) {
		err->status = ENRT_OK;
		err->message[0] = '\0';
	}
	return ENRT_OK;
}

static enrt_status
no_memory(enrt_error *err)
{
	return fail(err, ENRT_INTERNAL, "out of memory");
}

static enrt_status
null_argument(enrt_error *err, const char *function, const char *names)
{
	return fail(err, ENRT_INVALID_ARGUMENT, "%s: %s must not be NULL",
	    function, names);
}

/*
 * A TLS handshake that fails verification leaves the dialer retrying, and
 * nng does not say why: to the caller it looks like a server that is down.
 */
static const char *
unsent_note(const enrt_client *c)
{
	if (!c->tls) {
		return " (not connected)";
	}
	return " (not connected: the server is down, or its certificate did "
	       "not verify against tls_ca_file and tls_server_name)";
}

/*
 * The request may have been delivered: a timeout or a dropped connection
 * after the send says nothing about whether the server carried it out,
 * and the message says so where it matters.
 */
static enrt_status
transport_error(const enrt_client *c, int rv, bool sent, enrt_error *err)
{
	if (rv == NNG_ETIMEDOUT) {
		return fail(err, ENRT_UNAVAILABLE,
		    "no reply from %s within %d ms%s", c->url, c->timeout_ms,
		    sent ? "" : unsent_note(c));
	}
	if (rv == NNG_ECONNRESET) {
		return fail(err, ENRT_UNAVAILABLE,
		    "%s: %s before the reply; the request may or may not "
		    "have been carried out",
		    c->url, nng_strerror(rv));
	}
	return fail(err, ENRT_UNAVAILABLE, "%s: %s", c->url, nng_strerror(rv));
}

static bool
known_status(int status)
{
	switch (status) {
	case ENRT_OK:
	case ENRT_INVALID_ARGUMENT:
	case ENRT_NOT_FOUND:
	case ENRT_ALREADY_EXISTS:
	case ENRT_PERMISSION_DENIED:
	case ENRT_RESOURCE_EXHAUSTED:
	case ENRT_FAILED_PRECONDITION:
	case ENRT_INTERNAL:
	case ENRT_UNAVAILABLE:
	case ENRT_UNAUTHENTICATED:
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------------ */
/* Opening and closing                                                 */

static bool
has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool
known_scheme(const char *url)
{
	return has_prefix(url, "ipc://") || has_prefix(url, "tcp://") ||
	       has_prefix(url, TLS_SCHEME);
}

static enrt_status
check_tls_options(const enrt_options *options, enrt_error *err)
{
	const char *ca = options->tls_ca_file;
	const char *name = options->tls_server_name;

	if (!has_prefix(options->url, TLS_SCHEME)) {
		if (ca != NULL || name != NULL) {
			return fail(err, ENRT_INVALID_ARGUMENT,
			    "tls_ca_file, tls_server_name: only for a "
			    "tls+tcp:// url");
		}
		return ENRT_OK;
	}
	if (ca == NULL || ca[0] == '\0') {
		return fail(err, ENRT_INVALID_ARGUMENT,
		    "tls_ca_file: is required with a tls+tcp:// url, whose "
		    "server certificate is always verified");
	}
	if (name != NULL && name[0] == '\0') {
		return fail(err, ENRT_INVALID_ARGUMENT,
		    "tls_server_name: must not be empty (NULL: the url's "
		    "host)");
	}
	return ENRT_OK;
}

static enrt_status
check_options(const enrt_options *options, enrt_error *err)
{
	const char *url = options->url;
	const char *credential = options->credential;

	if (url == NULL) {
		return fail(err, ENRT_INVALID_ARGUMENT, "url: is required");
	}
	if (!known_scheme(url)) {
		return fail(err, ENRT_INVALID_ARGUMENT,
		    "url %s: must start with ipc://, tcp:// or tls+tcp://",
		    url);
	}
	if (credential == NULL ||
	    !enrt_credential_check(credential, strlen(credential))) {
		return fail(err, ENRT_INVALID_ARGUMENT,
		    "credential: must be enrc_ followed by 49 base62 "
		    "characters with a valid checksum");
	}
	if (options->timeout_ms < 0) {
		return fail(err, ENRT_INVALID_ARGUMENT,
		    "timeout_ms: must be 0 (10 seconds) or a positive number "
		    "of milliseconds");
	}
	return check_tls_options(options, err);
}

static enrt_status
dial_error(const enrt_client *c, int rv, enrt_error *err)
{
	if (rv == NNG_EADDRINVAL || rv == NNG_EINVAL) {
		return fail(err, ENRT_INVALID_ARGUMENT, "url %s: %s", c->url,
		    nng_strerror(rv));
	}
	return fail(err, ENRT_UNAVAILABLE, "cannot dial %s: %s", c->url,
	    nng_strerror(rv));
}

/*
 * No request is ever resent.  By default req0 resends a request whose
 * reply is late (NNG_OPT_REQ_RESENDTIME) and, in nng 1.5.2, also resends
 * every request whose pipe drops while it waits for the reply, as soon as
 * a pipe is ready again (req0_pipe_close fires the resend timer at once). Both
 * depend on the resend time being positive: with NNG_DURATION_INFINITE, a
 * dropped pipe instead fails the pending receive with NNG_ECONNRESET, which
 * this library reports as ENRT_UNAVAILABLE, saying that the request may or may
 * not have been carried out.  An Issue is therefore never made twice behind
 * the caller's back; the caller decides whether to look and retry.
 * Contexts copy the socket's resend time when they are opened.
 *
 * NNG_FLAG_NONBLOCK lets the dialer keep trying in the background when
 * the server is not up yet; calls wait for a connection up to their
 * timeout.
 */
/* Counts the connections that finished their greeting. */
static void
count_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	enrt_client *c = arg;

	pthread_mutex_lock(&c->mtx);
	if (ev == NNG_PIPE_EV_ADD_POST) {
		c->pipes++;
	} else if (c->pipes > 0) {
		c->pipes--;
	}
	pthread_cond_broadcast(&c->change);
	pthread_mutex_unlock(&c->mtx);
}

/*
 * Before closing, gives a connection that is still in its greeting a
 * moment to finish: enrtd on nng before 1.6.0 stops serving ipc:// for a
 * while when a client hangs up mid-greeting (nng issue 1518), and a CLI
 * that needs no round trip would otherwise do just that.
 */
static void
let_greeting_finish(enrt_client *c)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += CLOSE_GRACE_MS * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;

	pthread_mutex_lock(&c->mtx);
	while (c->pipes == 0 && rc == 0) {
		rc = pthread_cond_timedwait(&c->change, &c->mtx, &until);
	}
	pthread_mutex_unlock(&c->mtx);
}

static enrt_status
tls_error(int rv, const char *what, enrt_error *err)
{
	if (rv == NNG_ENOMEM) {
		return no_memory(err);
	}
	return fail(err,
	    rv == NNG_ENOTSUP ? ENRT_UNAVAILABLE : ENRT_INVALID_ARGUMENT,
	    "%s (nng: %s)", what, nng_strerror(rv));
}

/* The name to expect: the caller's, else the URL's host as nng reads it. */
static int
set_server_name(enrt_client *c, nng_tls_config *cfg, const char *name)
{
	nng_url *u;
	int rv;

	if (name != NULL) {
		return nng_tls_config_server_name(cfg, name);
	}
	if ((rv = nng_url_parse(&u, c->url)) != 0) {
		return rv;
	}
	rv = nng_tls_config_server_name(cfg, u->u_hostname);
	nng_url_free(u);
	return rv;
}

static enrt_status
configure_tls(enrt_client *c, nng_tls_config *cfg, const enrt_options *o,
    enrt_error *err)
{
	char what[ENRT_ERROR_MESSAGE_MAX];
	int rv;

	rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
	if (rv != 0) {
		return tls_error(rv, "cannot require verification", err);
	}
	if ((rv = nng_tls_config_ca_file(cfg, o->tls_ca_file)) != 0) {
		snprintf(what, sizeof(what),
		    "tls_ca_file %s: cannot be loaded as PEM CA certificates",
		    o->tls_ca_file);
		return tls_error(rv, what, err);
	}
	if ((rv = set_server_name(c, cfg, o->tls_server_name)) != 0) {
		return tls_error(rv, "tls_server_name: cannot be set", err);
	}
	return ENRT_OK;
}

/* The dialer holds the configuration from here on; ours is dropped. */
static enrt_status
dialer_tls(
    enrt_client *c, nng_dialer d, const enrt_options *o, enrt_error *err)
{
	nng_tls_config *cfg;
	enrt_status status;
	int rv;

	if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT)) != 0) {
		return tls_error(rv, "tls+tcp:// is not available", err);
	}
	status = configure_tls(c, cfg, o, err);
	if (status == ENRT_OK &&
	    (rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg)) != 0) {
		status = tls_error(rv, "cannot use the TLS settings", err);
	}
	nng_tls_config_free(cfg);
	return status;
}

/* On failure the dialer is left to close with the socket. */
static enrt_status
start_dialer(enrt_client *c, const enrt_options *o, enrt_error *err)
{
	nng_dialer d;
	enrt_status status;
	int rv;

	if ((rv = nng_dialer_create(&d, c->sock, c->url)) != 0) {
		return dial_error(c, rv, err);
	}
	if (c->tls && (status = dialer_tls(c, d, o, err)) != ENRT_OK) {
		return status;
	}
	if ((rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
		return dial_error(c, rv, err);
	}
	return ENRT_OK;
}

static enrt_status
open_socket(enrt_client *c, const enrt_options *o, enrt_error *err)
{
	enrt_status status;
	int rv;

	if ((rv = nng_req0_open(&c->sock)) != 0) {
		return fail(err, ENRT_UNAVAILABLE, "cannot open a socket: %s",
		    nng_strerror(rv));
	}

	rv = nng_socket_set_ms(
	    c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	if (rv != 0) {
		nng_close(c->sock);
		return fail(err, ENRT_UNAVAILABLE,
		    "cannot turn off request resending: %s", nng_strerror(rv));
	}

	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, count_pipe, c);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, count_pipe, c);
	if ((status = start_dialer(c, o, err)) != ENRT_OK) {
		nng_close(c->sock);
		return status;
	}
	return ENRT_OK;
}

static void
free_client(enrt_client *c)
{
	if (c->credential != NULL) {
		sodium_memzero(c->credential, strlen(c->credential));
	}
	free(c->credential);
	free(c->url);
	pthread_cond_destroy(&c->change);
	pthread_mutex_destroy(&c->mtx);
	free(c);
}

enrt_status
enrt_client_open(
    enrt_client **client, const enrt_options *options, enrt_error *err)
{
	enrt_client *c;
	enrt_status status;

	if (client == NULL || options == NULL) {
		return null_argument(
		    err, "enrt_client_open", "client, options");
	}
	*client = NULL;
	if ((status = check_options(options, err)) != ENRT_OK) {
		return status;
	}

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		return no_memory(err);
	}
	pthread_mutex_init(&c->mtx, NULL);
	pthread_cond_init(&c->change, NULL);
	c->url = strdup(options->url);
	c->credential = strdup(options->credential);
	c->timeout_ms = options->timeout_ms != 0 ? options->timeout_ms
	                                         : DEFAULT_TIMEOUT_MS;
	c->tls = has_prefix(options->url, TLS_SCHEME);
	if (c->url == NULL || c->credential == NULL) {
		free_client(c);
		return no_memory(err);
	}

	if ((status = open_socket(c, options, err)) != ENRT_OK) {
		free_client(c);
		return status;
	}
	*client = c;
	return succeed(err);
}

void
enrt_client_close(enrt_client *client)
{
	if (client == NULL) {
		return;
	}
	let_greeting_finish(client);
	nng_close(client->sock);
	free_client(client);
}

/* ------------------------------------------------------------------ */
/* One request, one reply                                              */

/* Messages may hold a credential or a token value: wipe before freeing. */
static void
discard(nng_msg *msg)
{
	if (msg == NULL) {
		return;
	}
	sodium_memzero(nng_msg_body(msg), nng_msg_len(msg));
	nng_msg_free(msg);
}

/*
 * Packs the envelope into a buffer of ours, copies it into an nng
 * message and wipes the buffer: every request carries the credential.
 * The message's own copy is freed by nng once the reply has come, which
 * nng does not wipe; a failed send hands it back and discard wipes it.
 */
static enrt_status
pack_request(enrt_client *c, pb_request *req, nng_msg **msg, enrt_error *err)
{
	uint8_t *buf;
	size_t len;
	int rv;

	req->has_version = 1;
	req->version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	req->credential = c->credential;
	len = enrt__v1__request__get_packed_size(req);
	if ((buf = malloc(len)) == NULL) {
		return no_memory(err);
	}

	enrt__v1__request__pack(req, buf);
	rv = nng_msg_alloc(msg, 0);
	if (rv == 0 && (rv = nng_msg_append(*msg, buf, len)) != 0) {
		nng_msg_free(*msg);
	}
	sodium_memzero(buf, len);
	free(buf);

	if (rv != 0) {
		return fail(err, ENRT_INTERNAL, "cannot make a message: %s",
		    nng_strerror(rv));
	}
	return ENRT_OK;
}

/* Takes the message; on failure it is wiped and freed here. */
static int
send_request(nng_ctx ctx, nng_aio *aio, nng_msg *msg, nng_duration ms)
{
	int rv;

	nng_aio_set_msg(aio, msg);
	nng_aio_set_timeout(aio, ms);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);

	if ((rv = nng_aio_result(aio)) != 0) {
		discard(nng_aio_get_msg(aio));
		nng_aio_set_msg(aio, NULL);
	}
	return rv;
}

/* The receive gets what is left of the call's time, so that a slow
 * connect and a slow reply together still end at the deadline. */
static int
receive_reply(nng_ctx ctx, nng_aio *aio, nng_time deadline, nng_msg **reply)
{
	nng_time now = nng_clock();
	int rv;

	nng_aio_set_timeout(
	    aio, now < deadline ? (nng_duration)(deadline - now) : 0);
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);

	if ((rv = nng_aio_result(aio)) != 0) {
		return rv;
	}
	*reply = nng_aio_get_msg(aio);
	return 0;
}

static enrt_status
exchange(enrt_client *c, nng_msg *msg, nng_msg **reply, enrt_error *err)
{
	nng_time deadline = nng_clock() + (nng_time)c->timeout_ms;
	nng_aio *aio = NULL;
	nng_ctx ctx;
	bool sent = false;
	int rv;

	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		discard(msg);
		return transport_error(c, rv, sent, err);
	}
	if ((rv = nng_ctx_open(&ctx, c->sock)) != 0) {
		discard(msg);
		goto out;
	}

	rv = send_request(ctx, aio, msg, c->timeout_ms);
	if (rv == 0) {
		sent = true;
		rv = receive_reply(ctx, aio, deadline, reply);
	}
	nng_ctx_close(ctx);

out:
	nng_aio_free(aio);
	return rv == 0 ? ENRT_OK : transport_error(c, rv, sent, err);
}

/* The one reply that carries a token value has it wiped before free. */
static void
free_reply(pb_reply *reply)
{
	char *value;

	if (reply == NULL) {
		return;
	}
	if (reply->result_case == ENRT__V1__REPLY__RESULT_ISSUE &&
	    (value = reply->issue->token) != NULL) {
		sodium_memzero(value, strlen(value));
	}
	enrt__v1__reply__free_unpacked(reply, NULL);
}

static enrt_status
reply_status(const enrt_client *c, const pb_reply *reply, enrt_error *err)
{
	enrt_status status = (enrt_status)reply->status;

	if (!known_status((int)reply->status)) {
		return fail(err, ENRT_INTERNAL,
		    "reply from %s carries unknown status %d", c->url,
		    (int)reply->status);
	}
	if (status == ENRT_OK) {
		return ENRT_OK;
	}
	return fail(err, status, "%s",
	    reply->message != NULL ? reply->message
	                           : enrt_status_name(status));
}

static enrt_status
decode_reply(const enrt_client *c, nng_msg *msg, pb_result expected,
    pb_reply **reply, enrt_error *err)
{
	pb_reply *r;
	enrt_status status;

	r = enrt__v1__reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
	if (r == NULL) {
		return fail(err, ENRT_INTERNAL,
		    "reply from %s does not decode as an enrt Reply", c->url);
	}
	status = reply_status(c, r, err);
	if (status == ENRT_OK && r->result_case != expected) {
		status = fail(err, ENRT_INTERNAL,
		    "reply from %s carries result %d where %d was expected",
		    c->url, (int)r->result_case, (int)expected);
	}

	if (status != ENRT_OK) {
		free_reply(r);
		return status;
	}
	*reply = r;
	return ENRT_OK;
}

/*
 * Sends req and waits for its reply.  On ENRT_OK *reply holds a reply
 * whose status is OK and whose result is the expected arm; the caller
 * frees it with free_reply.
 */
static enrt_status
call(enrt_client *c, pb_request *req, pb_result expected, pb_reply **reply,
    enrt_error *err)
{
	nng_msg *msg = NULL;
	nng_msg *answer = NULL;
	enrt_status status;

	*reply = NULL;
	if ((status = pack_request(c, req, &msg, err)) != ENRT_OK) {
		return status;
	}
	if ((status = exchange(c, msg, &answer, err)) != ENRT_OK) {
		return status;
	}

	status = decode_reply(c, answer, expected, reply, err);
	discard(answer);
	return status;
}

/* ------------------------------------------------------------------ */
/* Copying replies into the plain structs                              */

static bool
copy_string(char **out, const char *in)
{
	*out = NULL;
	if (in == NULL) {
		return true;
	}
	*out = strdup(in);
	return *out != NULL;
}

static void
free_strings(char **v, size_t n)
{
	if (v == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i]);
	}
	free(v);
}

static bool
copy_strings(char ***out, size_t *n_out, char *const *in, size_t n)
{
	*out = NULL;
	*n_out = 0;
	if (n == 0) {
		return true;
	}
	if ((*out = calloc(n, sizeof(**out))) == NULL) {
		return false;
	}

	for (size_t i = 0; i < n; i++) {
		if (!copy_string(&(*out)[i], in[i])) {
			free_strings(*out, n);
			*out = NULL;
			return false;
		}
	}
	*n_out = n;
	return true;
}

static bool
known_kind(int kind)
{
	return kind == ENRT_KIND_PAT || kind == ENRT_KIND_SAT;
}

static bool
known_state(int state)
{
	return state >= ENRT_STATE_ACTIVE && state <= ENRT_STATE_SUSPENDED;
}

static bool
known_policy(int policy)
{
	return policy >= ENRT_POLICY_NONE &&
	       policy <= ENRT_POLICY_ADMINISTRATORS_ONLY;
}

static void
clear_token(enrt_token *t)
{
	free(t->id);
	free(t->app_id);
	free(t->app_name);
	free(t->owner);
	free(t->description);
	free_strings(t->scopes, t->n_scopes);
	memset(t, 0, sizeof(*t));
}

static bool
copy_token_strings(enrt_token *out, const pb_token *in)
{
	return copy_string(&out->id, in->id) &&
	       copy_string(&out->app_id, in->app_id) &&
	       copy_string(&out->app_name, in->app_name) &&
	       copy_string(&out->owner, in->owner) &&
	       copy_string(&out->description, in->description) &&
	       copy_strings(
	           &out->scopes, &out->n_scopes, in->scopes, in->n_scopes);
}

static enrt_status
copy_token(enrt_token *out, const pb_token *in, enrt_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!known_kind((int)in->kind) || !known_state((int)in->state)) {
		return fail(err, ENRT_INTERNAL,
		    "reply carries a token of unknown kind %d or state %d",
		    (int)in->kind, (int)in->state);
	}

	out->kind = (enrt_kind)in->kind;
	out->state = (enrt_state)in->state;
	out->created_at = in->created_at;
	out->has_expires_at = in->has_expires_at;
	out->expires_at = in->expires_at;
	out->has_last_used_at = in->has_last_used_at;
	out->last_used_at = in->last_used_at;

	if (!copy_token_strings(out, in)) {
		clear_token(out);
		return no_memory(err);
	}
	return ENRT_OK;
}

static void
clear_app(enrt_app *a)
{
	free(a->id);
	free(a->name);
	free(a->system_user);
	free_strings(a->allowed_scopes, a->n_allowed_scopes);
	memset(a, 0, sizeof(*a));
}

static enrt_status
copy_app(enrt_app *out, const pb_app *in, enrt_error *err)
{
	memset(out, 0, sizeof(*out));
	if (!known_policy((int)in->policy)) {
		return fail(err, ENRT_INTERNAL,
		    "reply carries an app with unknown policy %d",
		    (int)in->policy);
	}

	out->policy = (enrt_policy)in->policy;
	out->unlimited_lifetime = !in->has_max_lifetime_days;
	out->max_lifetime_days = in->max_lifetime_days;
	out->enabled = in->enabled;
	out->created_at = in->created_at;
	out->updated_at = in->updated_at;

	if (!copy_string(&out->id, in->id) ||
	    !copy_string(&out->name, in->name) ||
	    !copy_string(&out->system_user, in->system_user) ||
	    !copy_strings(&out->allowed_scopes, &out->n_allowed_scopes,
	        in->allowed_scopes, in->n_allowed_scopes)) {
		clear_app(out);
		return no_memory(err);
	}
	return ENRT_OK;
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */

/* Every scope is sent as a string: a NULL one cannot be packed. */
static bool
strings_present(const char *const *v, size_t n)
{
	if (n > 0 && v == NULL) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] == NULL) {
			return false;
		}
	}
	return true;
}

static void
fill_issue(Enrt__V1__IssueRequest *op, const enrt_issue_params *p)
{
	op->app_id = (char *)p->app_id;
	op->has_kind = 1;
	op->kind = (Enrt__V1__TokenKind)p->kind;
	op->has_expires_at = p->has_expires_at;
	op->expires_at = p->expires_at;
	op->n_scopes = p->n_scopes;
	op->scopes = (char **)p->scopes;
	op->description = (char *)p->description;
	op->owner = (char *)p->owner;
}

static enrt_status
copy_issued(const Enrt__V1__IssueReply *in, enrt_issued **out, enrt_error *err)
{
	enrt_issued *issued;
	enrt_status status;

	if (in->info == NULL || in->token == NULL ||
	    !enrt_token_check(in->token, strlen(in->token))) {
		return fail(err, ENRT_INTERNAL,
		    "issue reply carries no well-formed token");
	}
	if ((issued = calloc(1, sizeof(*issued))) == NULL) {
		return no_memory(err);
	}

	if ((status = copy_token(&issued->token, in->info, err)) != ENRT_OK) {
		free(issued);
		return status;
	}
	if (!copy_string(&issued->value, in->token)) {
		enrt_issued_free(issued);
		return no_memory(err);
	}
	*out = issued;
	return ENRT_OK;
}

enrt_status
enrt_issue(enrt_client *client, const enrt_issue_params *params,
    enrt_issued **issued, enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__IssueRequest op = ENRT__V1__ISSUE_REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	if (client == NULL || params == NULL || issued == NULL) {
		return null_argument(
		    err, "enrt_issue", "client, params, issued");
	}
	*issued = NULL;
	if (!strings_present(params->scopes, params->n_scopes)) {
		return null_argument(err, "enrt_issue", "scopes");
	}

	fill_issue(&op, params);
	req.op_case = ENRT__V1__REQUEST__OP_ISSUE;
	req.issue = &op;
	status =
	    call(client, &req, ENRT__V1__REPLY__RESULT_ISSUE, &reply, err);
	if (status == ENRT_OK) {
		status = copy_issued(reply->issue, issued, err);
	}
	free_reply(reply);
	return status == ENRT_OK ? succeed(err) : status;
}

void
enrt_issued_free(enrt_issued *issued)
{
	if (issued == NULL) {
		return;
	}
	if (issued->value != NULL) {
		sodium_memzero(issued->value, strlen(issued->value));
	}
	free(issued->value);
	clear_token(&issued->token);
	free(issued);
}

static bool
copy_active(enrt_introspection *out, const Enrt__V1__IntrospectReply *in)
{
	out->active = true;
	out->kind = (enrt_kind)in->kind;
	out->issued_at = in->issued_at;
	out->has_expires_at = in->has_expires_at;
	out->expires_at = in->expires_at;
	return copy_string(&out->token_id, in->token_id) &&
	       copy_string(&out->app_id, in->app_id) &&
	       copy_string(&out->subject, in->subject) &&
	       copy_strings(
	           &out->scopes, &out->n_scopes, in->scopes, in->n_scopes);
}

/* An inactive answer carries nothing else, whatever the reply holds. */
static enrt_status
copy_introspection(const Enrt__V1__IntrospectReply *in,
    enrt_introspection **out, enrt_error *err)
{
	enrt_introspection *r;

	if (in != NULL && in->active && !known_kind((int)in->kind)) {
		return fail(err, ENRT_INTERNAL,
		    "introspect reply carries unknown token kind %d",
		    (int)in->kind);
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		return no_memory(err);
	}

	if (in != NULL && in->active && !copy_active(r, in)) {
		enrt_introspection_free(r);
		return no_memory(err);
	}
	*out = r;
	return ENRT_OK;
}

enrt_status
enrt_introspect(enrt_client *client, const char *token, size_t len,
    enrt_introspection **result, enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__IntrospectRequest op = ENRT__V1__INTROSPECT_REQUEST__INIT;
	char value[ENRT_TOKEN_LEN + 1];
	pb_reply *reply;
	enrt_status status;

	if (client == NULL || token == NULL || result == NULL) {
		return null_argument(
		    err, "enrt_introspect", "client, token, result");
	}
	*result = NULL;
	if (!enrt_token_check(token, len)) {
		status = copy_introspection(NULL, result, err);
		return status == ENRT_OK ? succeed(err) : status;
	}

	memcpy(value, token, ENRT_TOKEN_LEN);
	value[ENRT_TOKEN_LEN] = '\0';
	op.token = value;
	req.op_case = ENRT__V1__REQUEST__OP_INTROSPECT;
	req.introspect = &op;
	status = call(
	    client, &req, ENRT__V1__REPLY__RESULT_INTROSPECT, &reply, err);
	sodium_memzero(value, sizeof(value));

	if (status == ENRT_OK) {
		status = copy_introspection(reply->introspect, result, err);
	}
	free_reply(reply);
	return status == ENRT_OK ? succeed(err) : status;
}

void
enrt_introspection_free(enrt_introspection *result)
{
	if (result == NULL) {
		return;
	}
	free(result->token_id);
	free(result->app_id);
	free(result->subject);
	free_strings(result->scopes, result->n_scopes);
	free(result);
}

static enrt_status
revoke(enrt_client *client, Enrt__V1__RevokeRequest *op, enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	req.op_case = ENRT__V1__REQUEST__OP_REVOKE;
	req.revoke = op;
	status =
	    call(client, &req, ENRT__V1__REPLY__RESULT_REVOKE, &reply, err);
	free_reply(reply);
	return status == ENRT_OK ? succeed(err) : status;
}

enrt_status
enrt_revoke_id(enrt_client *client, const char *token_id, enrt_error *err)
{
	Enrt__V1__RevokeRequest op = ENRT__V1__REVOKE_REQUEST__INIT;

	if (client == NULL || token_id == NULL) {
		return null_argument(
		    err, "enrt_revoke_id", "client, token_id");
	}
	op.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_ID;
	op.token_id = (char *)token_id;
	return revoke(client, &op, err);
}

/*
 * Text that is not of a token's form cannot name a token, and revoking
 * an unknown value succeeds (RFC 7009), so it is answered here.
 */
enrt_status
enrt_revoke_value(
    enrt_client *client, const char *token, size_t len, enrt_error *err)
{
	Enrt__V1__RevokeRequest op = ENRT__V1__REVOKE_REQUEST__INIT;
	char value[ENRT_TOKEN_LEN + 1];
	enrt_status status;

	if (client == NULL || token == NULL) {
		return null_argument(
		    err, "enrt_revoke_value", "client, token");
	}
	if (!enrt_token_check(token, len)) {
		return succeed(err);
	}

	memcpy(value, token, ENRT_TOKEN_LEN);
	value[ENRT_TOKEN_LEN] = '\0';
	op.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_VALUE;
	op.token_value = value;
	status = revoke(client, &op, err);
	sodium_memzero(value, sizeof(value));
	return status;
}

static enrt_status
copy_token_page(const Enrt__V1__ListTokensReply *in, enrt_token_page **out,
    enrt_error *err)
{
	enrt_token_page *page;
	enrt_status status = ENRT_OK;

	if ((page = calloc(1, sizeof(*page))) == NULL) {
		return no_memory(err);
	}
	if (in->n_tokens > 0 && (page->tokens = calloc(in->n_tokens,
	                             sizeof(enrt_token))) == NULL) {
		status = no_memory(err);
	}

	for (size_t i = 0; status == ENRT_OK && i < in->n_tokens; i++) {
		status = copy_token(&page->tokens[i], in->tokens[i], err);
		page->n_tokens += status == ENRT_OK;
	}
	if (status == ENRT_OK &&
	    !copy_string(&page->next_cursor, in->next_cursor)) {
		status = no_memory(err);
	}

	if (status != ENRT_OK) {
		enrt_token_page_free(page);
		return status;
	}
	*out = page;
	return ENRT_OK;
}

enrt_status
enrt_list_tokens(enrt_client *client, const enrt_list_params *params,
    enrt_token_page **page, enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__ListTokensRequest op = ENRT__V1__LIST_TOKENS_REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	if (client == NULL || params == NULL || page == NULL) {
		return null_argument(
		    err, "enrt_list_tokens", "client, params, page");
	}
	*page = NULL;

	op.app_id = (char *)params->app_id;
	op.owner = (char *)params->owner;
	op.has_include_inactive = 1;
	op.include_inactive = params->include_inactive;
	op.has_page_size = params->page_size != 0;
	op.page_size = params->page_size;
	op.page_cursor = (char *)params->cursor;

	req.op_case = ENRT__V1__REQUEST__OP_LIST_TOKENS;
	req.list_tokens = &op;
	status = call(
	    client, &req, ENRT__V1__REPLY__RESULT_LIST_TOKENS, &reply, err);
	if (status == ENRT_OK) {
		status = copy_token_page(reply->list_tokens, page, err);
	}
	free_reply(reply);
	return status == ENRT_OK ? succeed(err) : status;
}

void
enrt_token_page_free(enrt_token_page *page)
{
	if (page == NULL) {
		return;
	}
	for (size_t i = 0; i < page->n_tokens; i++) {
		clear_token(&page->tokens[i]);
	}
	free(page->tokens);
	free(page->next_cursor);
	free(page);
}

/* ------------------------------------------------------------------ */
/* Apps                                                                */

/*
 * The reply to create, update and get: one app.  Both lifetime fields go
 * out together so that a change from unlimited to a number of days, or
 * back, cannot be read two ways.
 */
static enrt_status
app_call(enrt_client *client, pb_request *req, enrt_app **app, enrt_error *err)
{
	pb_reply *reply;
	enrt_app *a;
	enrt_status status;

	status = call(client, req, ENRT__V1__REPLY__RESULT_APP, &reply, err);
	if (status != ENRT_OK) {
		return status;
	}

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		status = no_memory(err);
	} else if ((status = copy_app(a, reply->app, err)) != ENRT_OK) {
		free(a);
	} else {
		*app = a;
	}
	free_reply(reply);
	return status == ENRT_OK ? succeed(err) : status;
}

static void
fill_create(Enrt__V1__CreateAppRequest *op, const enrt_app_params *p)
{
	op->name = (char *)p->name;
	op->has_policy = p->set_policy;
	op->policy = (Enrt__V1__Policy)p->policy;
	op->system_user = (char *)p->system_user;
	op->n_allowed_scopes = p->n_allowed_scopes;
	op->allowed_scopes = (char **)p->allowed_scopes;
	op->has_max_lifetime_days =
	    p->set_max_lifetime && !p->unlimited_lifetime;
	op->max_lifetime_days = p->max_lifetime_days;
	op->has_unlimited_lifetime = p->set_max_lifetime;
	op->unlimited_lifetime = p->unlimited_lifetime;
}

enrt_status
enrt_app_create(enrt_client *client, const enrt_app_params *params,
    enrt_app **app, enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__CreateAppRequest op = ENRT__V1__CREATE_APP_REQUEST__INIT;

	if (client == NULL || params == NULL || app == NULL) {
		return null_argument(
		    err, "enrt_app_create", "client, params, app");
	}
	*app = NULL;
	if (!strings_present(
	        params->allowed_scopes, params->n_allowed_scopes)) {
		return null_argument(err, "enrt_app_create", "allowed_scopes");
	}

	fill_create(&op, params);
	req.op_case = ENRT__V1__REQUEST__OP_CREATE_APP;
	req.create_app = &op;
	return app_call(client, &req, app, err);
}

static void
fill_update(Enrt__V1__UpdateAppRequest *op, Enrt__V1__ScopeList *scopes,
    const enrt_app_params *p)
{
	op->name = (char *)p->name;
	op->has_policy = p->set_policy;
	op->policy = (Enrt__V1__Policy)p->policy;
	op->system_user = (char *)p->system_user;
	scopes->n_scopes = p->n_allowed_scopes;
	scopes->scopes = (char **)p->allowed_scopes;
	op->allowed_scopes = p->set_allowed_scopes ? scopes : NULL;
	op->has_max_lifetime_days =
	    p->set_max_lifetime && !p->unlimited_lifetime;
	op->max_lifetime_days = p->max_lifetime_days;
	op->has_unlimited_lifetime = p->set_max_lifetime;
	op->unlimited_lifetime = p->unlimited_lifetime;
	op->has_enabled = p->set_enabled;
	op->enabled = p->enabled;
}

enrt_status
enrt_app_update(enrt_client *client, const char *app_id,
    const enrt_app_params *params, enrt_app **app, enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__UpdateAppRequest op = ENRT__V1__UPDATE_APP_REQUEST__INIT;
	Enrt__V1__ScopeList scopes = ENRT__V1__SCOPE_LIST__INIT;

	if (client == NULL || app_id == NULL || params == NULL ||
	    app == NULL) {
		return null_argument(
		    err, "enrt_app_update", "client, app_id, params, app");
	}
	*app = NULL;
	if (params->set_allowed_scopes &&
	    !strings_present(
	        params->allowed_scopes, params->n_allowed_scopes)) {
		return null_argument(err, "enrt_app_update", "allowed_scopes");
	}

	fill_update(&op, &scopes, params);
	op.id = (char *)app_id;
	req.op_case = ENRT__V1__REQUEST__OP_UPDATE_APP;
	req.update_app = &op;
	return app_call(client, &req, app, err);
}

enrt_status
enrt_app_get(
    enrt_client *client, const char *app_id, enrt_app **app, enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__GetAppRequest op = ENRT__V1__GET_APP_REQUEST__INIT;

	if (client == NULL || app_id == NULL || app == NULL) {
		return null_argument(
		    err, "enrt_app_get", "client, app_id, app");
	}
	*app = NULL;

	op.id = (char *)app_id;
	req.op_case = ENRT__V1__REQUEST__OP_GET_APP;
	req.get_app = &op;
	return app_call(client, &req, app, err);
}

void
enrt_app_free(enrt_app *app)
{
	if (app == NULL) {
		return;
	}
	clear_app(app);
	free(app);
}

static enrt_status
copy_app_page(
    const Enrt__V1__ListAppsReply *in, enrt_app_page **out, enrt_error *err)
{
	enrt_app_page *page;
	enrt_status status = ENRT_OK;

	if ((page = calloc(1, sizeof(*page))) == NULL) {
		return no_memory(err);
	}
	if (in->n_apps > 0 &&
	    (page->apps = calloc(in->n_apps, sizeof(enrt_app))) == NULL) {
		status = no_memory(err);
	}

	for (size_t i = 0; status == ENRT_OK && i < in->n_apps; i++) {
		status = copy_app(&page->apps[i], in->apps[i], err);
		page->n_apps += status == ENRT_OK;
	}
	if (status == ENRT_OK &&
	    !copy_string(&page->next_cursor, in->next_cursor)) {
		status = no_memory(err);
	}

	if (status != ENRT_OK) {
		enrt_app_page_free(page);
		return status;
	}
	*out = page;
	return ENRT_OK;
}

enrt_status
enrt_app_list(enrt_client *client, const char *cursor, uint32_t page_size,
    enrt_app_page **page, enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__ListAppsRequest op = ENRT__V1__LIST_APPS_REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	if (client == NULL || page == NULL) {
		return null_argument(err, "enrt_app_list", "client, page");
	}
	*page = NULL;

	op.has_page_size = page_size != 0;
	op.page_size = page_size;
	op.page_cursor = (char *)cursor;
	req.op_case = ENRT__V1__REQUEST__OP_LIST_APPS;
	req.list_apps = &op;
	status =
	    call(client, &req, ENRT__V1__REPLY__RESULT_LIST_APPS, &reply, err);
	if (status == ENRT_OK) {
		status = copy_app_page(reply->list_apps, page, err);
	}
	free_reply(reply);
	return status == ENRT_OK ? succeed(err) : status;
}

void
enrt_app_page_free(enrt_app_page *page)
{
	if (page == NULL) {
		return;
	}
	for (size_t i = 0; i < page->n_apps; i++) {
		clear_app(&page->apps[i]);
	}
	free(page->apps);
	free(page->next_cursor);
	free(page);
}
