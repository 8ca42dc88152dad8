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
 * A view (enrt_client_as) is a handle of its own that owns only a
 * person: its calls go over the connection of the handle it was made
 * from, and carry the person in the envelope.
 *
 * Transport, nng and protobuf-c errors are translated here and nowhere
 * else: a request that cannot be delivered or answered is
 * ENRT_UNAVAILABLE, a reply that does not make sense is ENRT_INTERNAL,
 * and the server's own statuses pass through with its message.
 */
#include "enrt.h"
#include "enrt.pb-c.h"
#include "sockclose.h"

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

/* How long closing waits for nng to close the socket (sockclose.h). */
#define CLOSE_WAIT_MS 5000

typedef Enrt__V1__Request pb_request;
typedef Enrt__V1__Reply pb_reply;
typedef Enrt__V1__Reply__ResultCase pb_result;
typedef Enrt__V1__TokenInfo pb_token;
typedef Enrt__V1__App pb_app;
typedef Enrt__V1__Person pb_person;

/*
 * A handle that owns a connection has root pointing to itself and no
 * person; a view has root pointing to that handle, and only root and
 * person set.  Neither changes after the handle is made.
 */
struct enrt_client {
	enrt_client *root;
	pb_person *person; /* a view's: its strings are the view's own */

	nng_socket sock;
	char *url;
	char *credential; /* wiped on close */
	int timeout_ms;
	bool tls;

	pthread_mutex_t mtx;
	pthread_cond_t change;
	unsigned pipes;   /* mtx: connections that finished their greeting */
	bool unreachable; /* mtx: a request found no connection to go out on */
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

static void
note_unreachable(enrt_client *c)
{
	pthread_mutex_lock(&c->mtx);
	c->unreachable = true;
	pthread_mutex_unlock(&c->mtx);
}

/*
 * Before closing, gives a connection that is still in its greeting a
 * moment to finish: enrtd on nng before 1.6.0 stops serving ipc:// for a
 * while when a client hangs up mid-greeting (nng issue 1518), and a CLI
 * that needs no round trip would otherwise do just that.  No wait once a
 * request found no connection: there is no greeting under way then.
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
	while (c->pipes == 0 && !c->unreachable && rc == 0) {
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
		(void)sockclose_within(c->sock, CLOSE_WAIT_MS);
		return fail(err, ENRT_UNAVAILABLE,
		    "cannot turn off request resending: %s", nng_strerror(rv));
	}

	nng_pipe_notify(c->sock, NNG_PIPE_EV_ADD_POST, count_pipe, c);
	nng_pipe_notify(c->sock, NNG_PIPE_EV_REM_POST, count_pipe, c);
	if ((status = start_dialer(c, o, err)) != ENRT_OK) {
		(void)sockclose_within(c->sock, CLOSE_WAIT_MS);
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
	c->root = c;
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

static void
free_person(pb_person *p)
{
	if (p == NULL) {
		return;
	}
	free(p->user_id);
	free(p->display_name);
	free(p);
}

static pb_person *
copy_person(const enrt_person *in)
{
	pb_person *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		return NULL;
	}
	enrt__v1__person__init(p);
	p->user_id = strdup(in->user_id);
	p->display_name =
	    in->display_name != NULL ? strdup(in->display_name) : NULL;
	p->has_admin = 1;
	p->admin = in->admin;
	if (p->user_id == NULL ||
	    (in->display_name != NULL && p->display_name == NULL)) {
		free_person(p);
		return NULL;
	}
	return p;
}

enrt_status
enrt_client_as(enrt_client *client, const enrt_person *person,
    enrt_client **as, enrt_error *err)
{
	enrt_client *view;

	if (client == NULL || person == NULL || as == NULL) {
		return null_argument(
		    err, "enrt_client_as", "client, person, as");
	}
	*as = NULL;
	if (person->user_id == NULL || person->user_id[0] == '\0') {
		return fail(
		    err, ENRT_INVALID_ARGUMENT, "person.user_id: is required");
	}

	if ((view = calloc(1, sizeof(*view))) == NULL) {
		return no_memory(err);
	}
	if ((view->person = copy_person(person)) == NULL) {
		free(view);
		return no_memory(err);
	}
	view->root = client->root;
	*as = view;
	return succeed(err);
}

void
enrt_client_close(enrt_client *client)
{
	if (client == NULL) {
		return;
	}
	if (client->root != client) {
		free_person(client->person);
		free(client);
		return;
	}
	let_greeting_finish(client);
	(void)sockclose_within(client->sock, CLOSE_WAIT_MS);
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
	} else {
		note_unreachable(c);
	}
	nng_ctx_close(ctx);

out:
	nng_aio_free(aio);
	return rv == 0 ? ENRT_OK : transport_error(c, rv, sent, err);
}

static void
wipe_string(char *s)
{
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
	}
}

/* The replies that carry a token value or a credential are wiped. */
static void
free_reply(pb_reply *reply)
{
	if (reply == NULL) {
		return;
	}
	if (reply->result_case == ENRT__V1__REPLY__RESULT_ISSUE) {
		wipe_string(reply->issue->token);
	}
	if (reply->result_case == ENRT__V1__REPLY__RESULT_ADD_CALLER) {
		wipe_string(reply->add_caller->credential);
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
 * Sends req over the connection of client's root, for client's person if
 * it is a view, and waits for its reply.  On ENRT_OK *reply holds a
 * reply whose status is OK and whose result is the expected arm; the
 * caller frees it with free_reply.
 */
static enrt_status
call(enrt_client *client, pb_request *req, pb_result expected,
    pb_reply **reply, enrt_error *err)
{
	enrt_client *c = client->root;
	nng_msg *msg = NULL;
	nng_msg *answer = NULL;
	enrt_status status;

	*reply = NULL;
	req->acting_user = client->person;
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

/* How one kind of record becomes one kind of plain struct. */
typedef struct item_kind {
	size_t size;
	enrt_status (*copy)(void *out, const void *in, enrt_error *err);
	void (*clear)(void *item);
} item_kind;

static void
free_items(const item_kind *k, void *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		k->clear((char *)items + i * k->size);
	}
	free(items);
}

/*
 * Copies the n records of a page and its cursor.  On failure nothing is
 * left allocated and *items is NULL.
 */
static enrt_status
copy_page(const item_kind *k, void *const *in, size_t n, const char *cursor,
    void **items, size_t *n_items, char **next, enrt_error *err)
{
	char *out = NULL;
	enrt_status status = ENRT_OK;

	*items = NULL;
	*n_items = 0;
	if (n > 0 && (out = calloc(n, k->size)) == NULL) {
		return no_memory(err);
	}
	for (size_t i = 0; status == ENRT_OK && i < n; i++) {
		status = k->copy(out + i * k->size, in[i], err);
		*n_items += status == ENRT_OK;
	}
	if (status == ENRT_OK && !copy_string(next, cursor)) {
		status = no_memory(err);
	}

	if (status != ENRT_OK) {
		free_items(k, out, *n_items);
		*n_items = 0;
		return status;
	}
	*items = out;
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

static void
clear_introspection(enrt_introspection *r)
{
	free(r->token_id);
	free(r->app_id);
	free(r->subject);
	free_strings(r->scopes, r->n_scopes);
	memset(r, 0, sizeof(*r));
}

/*
 * An inactive answer carries nothing else, whatever the reply holds; a
 * NULL reply is an inactive answer made here.
 */
static enrt_status
fill_introspection(enrt_introspection *out,
    const Enrt__V1__IntrospectReply *in, enrt_error *err)
{
	memset(out, 0, sizeof(*out));
	if (in == NULL || !in->active) {
		return ENRT_OK;
	}
	if (!known_kind((int)in->kind)) {
		return fail(err, ENRT_INTERNAL,
		    "introspect reply carries unknown token kind %d",
		    (int)in->kind);
	}
	if (!copy_active(out, in)) {
		clear_introspection(out);
		return no_memory(err);
	}
	return ENRT_OK;
}

static enrt_status
copy_introspection(const Enrt__V1__IntrospectReply *in,
    enrt_introspection **out, enrt_error *err)
{
	enrt_introspection *r;
	enrt_status status;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		return no_memory(err);
	}
	if ((status = fill_introspection(r, in, err)) != ENRT_OK) {
		free(r);
		return status;
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
	clear_introspection(result);
	free(result);
}

/* The strings a batch request carries, in one buffer wiped on free. */
typedef struct batch_values {
	char **v;
	char *buf;
	size_t n;
} batch_values;

static void
free_batch_values(batch_values *b)
{
	if (b->buf != NULL) {
		sodium_memzero(b->buf, b->n * (ENRT_TOKEN_LEN + 1));
	}
	free(b->buf);
	free(b->v);
}

/* A value that is not of a token's form goes as "", in its place. */
static bool
make_batch_values(
    batch_values *b, const char *const *tokens, const size_t *lens, size_t n)
{
	b->n = n;
	b->v = calloc(n, sizeof(*b->v));
	b->buf = calloc(n, ENRT_TOKEN_LEN + 1);
	if (b->v == NULL || b->buf == NULL) {
		return false;
	}

	for (size_t i = 0; i < n; i++) {
		size_t len = lens != NULL ? lens[i] : strlen(tokens[i]);

		b->v[i] = b->buf + i * (ENRT_TOKEN_LEN + 1);
		if (enrt_token_check(tokens[i], len)) {
			memcpy(b->v[i], tokens[i], ENRT_TOKEN_LEN);
		}
	}
	return true;
}

static enrt_status
copy_batch(const Enrt__V1__IntrospectBatchReply *in, size_t n,
    enrt_introspection_batch **out, enrt_error *err)
{
	enrt_introspection_batch *b;
	enrt_status status = ENRT_OK;

	if (in->n_answers != n) {
		return fail(err, ENRT_INTERNAL,
		    "batch reply carries %zu answers for %zu tokens",
		    in->n_answers, n);
	}
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (n > 0 && (b->answers = calloc(n, sizeof(*b->answers))) == NULL)) {
		free(b);
		return no_memory(err);
	}

	for (size_t i = 0; status == ENRT_OK && i < n; i++) {
		status =
		    fill_introspection(&b->answers[i], in->answers[i], err);
		b->n_answers += status == ENRT_OK;
	}
	if (status != ENRT_OK) {
		enrt_introspection_batch_free(b);
		return status;
	}
	*out = b;
	return ENRT_OK;
}

static enrt_status
check_batch(
    const char *fn, const char *const *tokens, size_t n, enrt_error *err)
{
	if (n > ENRT_BATCH_MAX) {
		return fail(err, ENRT_INVALID_ARGUMENT,
		    "%s: tokens: at most %d in one batch, got %zu", fn,
		    ENRT_BATCH_MAX, n);
	}
	if (!strings_present(tokens, n)) {
		return null_argument(err, fn, "tokens and each token");
	}
	return ENRT_OK;
}

static enrt_status
send_batch(enrt_client *client, const batch_values *b,
    enrt_introspection_batch **batch, enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__IntrospectBatchRequest op =
	    ENRT__V1__INTROSPECT_BATCH_REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	op.tokens = b->v;
	op.n_tokens = b->n;
	req.op_case = ENRT__V1__REQUEST__OP_INTROSPECT_BATCH;
	req.introspect_batch = &op;
	status = call(client, &req, ENRT__V1__REPLY__RESULT_INTROSPECT_BATCH,
	    &reply, err);
	if (status == ENRT_OK) {
		status = copy_batch(reply->introspect_batch, b->n, batch, err);
	}
	free_reply(reply);
	return status;
}

enrt_status
enrt_introspect_batch(enrt_client *client, const char *const *tokens,
    const size_t *lens, size_t n, enrt_introspection_batch **batch,
    enrt_error *err)
{
	const char *fn = "enrt_introspect_batch";
	batch_values b = {0};
	enrt_status status;

	if (client == NULL || batch == NULL) {
		return null_argument(err, fn, "client, batch");
	}
	*batch = NULL;
	if ((status = check_batch(fn, tokens, n, err)) != ENRT_OK) {
		return status;
	}
	if (n == 0) {
		*batch = calloc(1, sizeof(**batch));
		return *batch != NULL ? succeed(err) : no_memory(err);
	}

	if (!make_batch_values(&b, tokens, lens, n)) {
		status = no_memory(err);
	} else {
		status = send_batch(client, &b, batch, err);
	}
	free_batch_values(&b);
	return status == ENRT_OK ? succeed(err) : status;
}

void
enrt_introspection_batch_free(enrt_introspection_batch *batch)
{
	if (batch == NULL) {
		return;
	}
	for (size_t i = 0; i < batch->n_answers; i++) {
		clear_introspection(&batch->answers[i]);
	}
	free(batch->answers);
	free(batch);
}

/* *revoked, when not NULL, gets how many tokens the call revoked. */
static enrt_status
revoke(enrt_client *client, Enrt__V1__RevokeRequest *op, uint32_t *revoked,
    enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	req.op_case = ENRT__V1__REQUEST__OP_REVOKE;
	req.revoke = op;
	status =
	    call(client, &req, ENRT__V1__REPLY__RESULT_REVOKE, &reply, err);
	if (status == ENRT_OK && revoked != NULL) {
		*revoked = reply->revoke->revoked;
	}
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
	return revoke(client, &op, NULL, err);
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
	status = revoke(client, &op, NULL, err);
	sodium_memzero(value, sizeof(value));
	return status;
}

enrt_status
enrt_revoke_user(enrt_client *client, const char *user_id, uint32_t *revoked,
    enrt_error *err)
{
	Enrt__V1__RevokeRequest op = ENRT__V1__REVOKE_REQUEST__INIT;

	if (client == NULL || user_id == NULL) {
		return null_argument(
		    err, "enrt_revoke_user", "client, user_id");
	}
	op.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_USER_ID;
	op.user_id = (char *)user_id;
	return revoke(client, &op, revoked, err);
}

static enrt_status
copy_token_item(void *out, const void *in, enrt_error *err)
{
	return copy_token(out, in, err);
}

static void
clear_token_item(void *item)
{
	clear_token(item);
}

static const item_kind token_items = {
    sizeof(enrt_token), copy_token_item, clear_token_item};

static enrt_status
copy_token_page(const Enrt__V1__ListTokensReply *in, enrt_token_page **out,
    enrt_error *err)
{
	enrt_token_page *page;
	enrt_status status;
	void *items;

	if ((page = calloc(1, sizeof(*page))) == NULL) {
		return no_memory(err);
	}
	status = copy_page(&token_items, (void *const *)in->tokens,
	    in->n_tokens, in->next_cursor, &items, &page->n_tokens,
	    &page->next_cursor, err);
	if (status != ENRT_OK) {
		free(page);
		return status;
	}
	page->tokens = items;
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
	free_items(&token_items, page->tokens, page->n_tokens);
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
copy_app_item(void *out, const void *in, enrt_error *err)
{
	return copy_app(out, in, err);
}

static void
clear_app_item(void *item)
{
	clear_app(item);
}

static const item_kind app_items = {
    sizeof(enrt_app), copy_app_item, clear_app_item};

static enrt_status
copy_app_page(
    const Enrt__V1__ListAppsReply *in, enrt_app_page **out, enrt_error *err)
{
	enrt_app_page *page;
	enrt_status status;
	void *items;

	if ((page = calloc(1, sizeof(*page))) == NULL) {
		return no_memory(err);
	}
	status = copy_page(&app_items, (void *const *)in->apps, in->n_apps,
	    in->next_cursor, &items, &page->n_apps, &page->next_cursor, err);
	if (status != ENRT_OK) {
		free(page);
		return status;
	}
	page->apps = items;
	*out = page;
	return ENRT_OK;
}

static enrt_status
list_apps(enrt_client *client, Enrt__V1__ListAppsRequest *op,
    enrt_app_page **page, enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	req.op_case = ENRT__V1__REQUEST__OP_LIST_APPS;
	req.list_apps = op;
	status =
	    call(client, &req, ENRT__V1__REPLY__RESULT_LIST_APPS, &reply, err);
	if (status == ENRT_OK) {
		status = copy_app_page(reply->list_apps, page, err);
	}
	free_reply(reply);
	return status == ENRT_OK ? succeed(err) : status;
}

enrt_status
enrt_app_list(enrt_client *client, const char *cursor, uint32_t page_size,
    enrt_app_page **page, enrt_error *err)
{
	Enrt__V1__ListAppsRequest op = ENRT__V1__LIST_APPS_REQUEST__INIT;

	if (client == NULL || page == NULL) {
		return null_argument(err, "enrt_app_list", "client, page");
	}
	*page = NULL;

	op.has_page_size = page_size != 0;
	op.page_size = page_size;
	op.page_cursor = (char *)cursor;
	return list_apps(client, &op, page, err);
}

enrt_status
enrt_app_list_eligible(enrt_client *client, const char *cursor,
    uint32_t page_size, enrt_app_page **page, enrt_error *err)
{
	Enrt__V1__ListAppsRequest op = ENRT__V1__LIST_APPS_REQUEST__INIT;

	if (client == NULL || page == NULL) {
		return null_argument(
		    err, "enrt_app_list_eligible", "client, page");
	}
	*page = NULL;

	op.has_page_size = page_size != 0;
	op.page_size = page_size;
	op.page_cursor = (char *)cursor;
	op.has_eligible = 1;
	op.eligible = 1;
	return list_apps(client, &op, page, err);
}

void
enrt_app_page_free(enrt_app_page *page)
{
	if (page == NULL) {
		return;
	}
	free_items(&app_items, page->apps, page->n_apps);
	free(page->next_cursor);
	free(page);
}

/* ------------------------------------------------------------------ */
/* Callers                                                             */

static bool
known_role(int role)
{
	return role >= ENRT_ROLE_INTROSPECT && role <= ENRT_ROLE_ADMIN;
}

static void
clear_caller(void *item)
{
	enrt_caller *c = item;

	free(c->id);
	free(c->name);
	free_strings(c->app_ids, c->n_app_ids);
	memset(c, 0, sizeof(*c));
}

static enrt_status
copy_caller(void *item, const void *record, enrt_error *err)
{
	const Enrt__V1__CallerRecord *in = record;
	enrt_caller *out = item;

	memset(out, 0, sizeof(*out));
	if (!known_role((int)in->role)) {
		return fail(err, ENRT_INTERNAL,
		    "reply carries a caller of unknown role %d",
		    (int)in->role);
	}

	out->role = (enrt_role)in->role;
	out->created_at = in->created_at;
	out->revoked = in->has_revoked_at;
	out->revoked_at = in->revoked_at;
	if (!copy_string(&out->id, in->id) ||
	    !copy_string(&out->name, in->name) ||
	    !copy_strings(
	        &out->app_ids, &out->n_app_ids, in->app_ids, in->n_app_ids)) {
		clear_caller(out);
		return no_memory(err);
	}
	return ENRT_OK;
}

static const item_kind caller_items = {
    sizeof(enrt_caller), copy_caller, clear_caller};

static enrt_status
copy_added(const Enrt__V1__AddCallerReply *in, enrt_caller_added **out,
    enrt_error *err)
{
	enrt_caller_added *added;
	enrt_status status;

	if (in->caller == NULL || in->credential == NULL ||
	    !enrt_credential_check(in->credential, strlen(in->credential))) {
		return fail(err, ENRT_INTERNAL,
		    "add caller reply carries no well-formed credential");
	}
	if ((added = calloc(1, sizeof(*added))) == NULL) {
		return no_memory(err);
	}

	status = copy_caller(&added->caller, in->caller, err);
	if (status == ENRT_OK &&
	    !copy_string(&added->credential, in->credential)) {
		status = no_memory(err);
	}
	if (status != ENRT_OK) {
		enrt_caller_added_free(added);
		return status;
	}
	*out = added;
	return ENRT_OK;
}

enrt_status
enrt_caller_add(enrt_client *client, const char *name, enrt_role role,
    const char *const *app_ids, size_t n_app_ids, enrt_caller_added **added,
    enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__AddCallerRequest op = ENRT__V1__ADD_CALLER_REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	if (client == NULL || added == NULL) {
		return null_argument(err, "enrt_caller_add", "client, added");
	}
	*added = NULL;
	if (!strings_present(app_ids, n_app_ids)) {
		return null_argument(err, "enrt_caller_add", "app_ids");
	}

	op.name = (char *)name;
	op.has_role = 1;
	op.role = (Enrt__V1__Role)role;
	op.app_ids = (char **)app_ids;
	op.n_app_ids = n_app_ids;
	req.op_case = ENRT__V1__REQUEST__OP_ADD_CALLER;
	req.add_caller = &op;
	status = call(
	    client, &req, ENRT__V1__REPLY__RESULT_ADD_CALLER, &reply, err);
	if (status == ENRT_OK) {
		status = copy_added(reply->add_caller, added, err);
	}
	free_reply(reply);
	return status == ENRT_OK ? succeed(err) : status;
}

void
enrt_caller_added_free(enrt_caller_added *added)
{
	if (added == NULL) {
		return;
	}
	wipe_string(added->credential);
	free(added->credential);
	clear_caller(&added->caller);
	free(added);
}

static enrt_status
copy_caller_page(const Enrt__V1__ListCallersReply *in, enrt_caller_page **out,
    enrt_error *err)
{
	enrt_caller_page *page;
	enrt_status status;
	void *items;

	if ((page = calloc(1, sizeof(*page))) == NULL) {
		return no_memory(err);
	}
	status = copy_page(&caller_items, (void *const *)in->callers,
	    in->n_callers, in->next_cursor, &items, &page->n_callers,
	    &page->next_cursor, err);
	if (status != ENRT_OK) {
		free(page);
		return status;
	}
	page->callers = items;
	*out = page;
	return ENRT_OK;
}

enrt_status
enrt_caller_list(enrt_client *client, const char *cursor, uint32_t page_size,
    enrt_caller_page **page, enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__ListCallersRequest op = ENRT__V1__LIST_CALLERS_REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	if (client == NULL || page == NULL) {
		return null_argument(err, "enrt_caller_list", "client, page");
	}
	*page = NULL;

	op.has_page_size = page_size != 0;
	op.page_size = page_size;
	op.page_cursor = (char *)cursor;
	req.op_case = ENRT__V1__REQUEST__OP_LIST_CALLERS;
	req.list_callers = &op;
	status = call(
	    client, &req, ENRT__V1__REPLY__RESULT_LIST_CALLERS, &reply, err);
	if (status == ENRT_OK) {
		status = copy_caller_page(reply->list_callers, page, err);
	}
	free_reply(reply);
	return status == ENRT_OK ? succeed(err) : status;
}

void
enrt_caller_page_free(enrt_caller_page *page)
{
	if (page == NULL) {
		return;
	}
	free_items(&caller_items, page->callers, page->n_callers);
	free(page->next_cursor);
	free(page);
}

enrt_status
enrt_caller_revoke(enrt_client *client, const char *caller_id, enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__RevokeCallerRequest op =
	    ENRT__V1__REVOKE_CALLER_REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	if (client == NULL || caller_id == NULL) {
		return null_argument(
		    err, "enrt_caller_revoke", "client, caller_id");
	}

	op.id = (char *)caller_id;
	req.op_case = ENRT__V1__REQUEST__OP_REVOKE_CALLER;
	req.revoke_caller = &op;
	status =
	    call(client, &req, ENRT__V1__REPLY__RESULT_CALLER, &reply, err);
	free_reply(reply);
	return status == ENRT_OK ? succeed(err) : status;
}

/* ------------------------------------------------------------------ */
/* Users                                                               */

static void
clear_user(void *item)
{
	enrt_user *u = item;

	free(u->id);
	free(u->display_name);
	memset(u, 0, sizeof(*u));
}

static enrt_status
copy_user(void *item, const void *record, enrt_error *err)
{
	const Enrt__V1__UserRecord *in = record;
	enrt_user *out = item;

	memset(out, 0, sizeof(*out));
	out->admin = in->admin;
	out->enabled = in->enabled;
	out->created_at = in->created_at;
	out->has_last_seen_at = in->has_last_seen_at;
	out->last_seen_at = in->last_seen_at;
	if (!copy_string(&out->id, in->id) ||
	    !copy_string(&out->display_name, in->display_name)) {
		clear_user(out);
		return no_memory(err);
	}
	return ENRT_OK;
}

static const item_kind user_items = {sizeof(enrt_user), copy_user, clear_user};

static enrt_status
copy_user_page(
    const Enrt__V1__ListUsersReply *in, enrt_user_page **out, enrt_error *err)
{
	enrt_user_page *page;
	enrt_status status;
	void *items;

	if ((page = calloc(1, sizeof(*page))) == NULL) {
		return no_memory(err);
	}
	status = copy_page(&user_items, (void *const *)in->users, in->n_users,
	    in->next_cursor, &items, &page->n_users, &page->next_cursor, err);
	if (status != ENRT_OK) {
		free(page);
		return status;
	}
	page->users = items;
	*out = page;
	return ENRT_OK;
}

enrt_status
enrt_user_list(enrt_client *client, const char *cursor, uint32_t page_size,
    enrt_user_page **page, enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__ListUsersRequest op = ENRT__V1__LIST_USERS_REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	if (client == NULL || page == NULL) {
		return null_argument(err, "enrt_user_list", "client, page");
	}
	*page = NULL;

	op.has_page_size = page_size != 0;
	op.page_size = page_size;
	op.page_cursor = (char *)cursor;
	req.op_case = ENRT__V1__REQUEST__OP_LIST_USERS;
	req.list_users = &op;
	status = call(
	    client, &req, ENRT__V1__REPLY__RESULT_LIST_USERS, &reply, err);
	if (status == ENRT_OK) {
		status = copy_user_page(reply->list_users, page, err);
	}
	free_reply(reply);
	return status == ENRT_OK ? succeed(err) : status;
}

void
enrt_user_page_free(enrt_user_page *page)
{
	if (page == NULL) {
		return;
	}
	free_items(&user_items, page->users, page->n_users);
	free(page->next_cursor);
	free(page);
}

/* A user for the caller of enrt_user_set, unless it asked for none. */
static enrt_status
give_user(const Enrt__V1__UserRecord *in, enrt_user **out, enrt_error *err)
{
	enrt_user *u;
	enrt_status status;

	if (out == NULL) {
		return ENRT_OK;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		return no_memory(err);
	}
	if ((status = copy_user(u, in, err)) != ENRT_OK) {
		free(u);
		return status;
	}
	*out = u;
	return ENRT_OK;
}

enrt_status
enrt_user_set(enrt_client *client, const char *user_id, bool set_admin,
    bool admin, bool set_enabled, bool enabled, enrt_user **user,
    enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__SetUserRequest op = ENRT__V1__SET_USER_REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	if (client == NULL || user_id == NULL) {
		return null_argument(err, "enrt_user_set", "client, user_id");
	}
	if (user != NULL) {
		*user = NULL;
	}

	op.id = (char *)user_id;
	op.has_admin = set_admin;
	op.admin = admin;
	op.has_enabled = set_enabled;
	op.enabled = enabled;
	req.op_case = ENRT__V1__REQUEST__OP_SET_USER;
	req.set_user = &op;
	status = call(client, &req, ENRT__V1__REPLY__RESULT_USER, &reply, err);
	if (status == ENRT_OK) {
		status = give_user(reply->user, user, err);
	}
	free_reply(reply);
	return status == ENRT_OK ? succeed(err) : status;
}

void
enrt_user_free(enrt_user *user)
{
	if (user == NULL) {
		return;
	}
	clear_user(user);
	free(user);
}

enrt_status
enrt_user_delete(enrt_client *client, const char *user_id, uint32_t *revoked,
    enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__DeleteUserRequest op = ENRT__V1__DELETE_USER_REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	if (client == NULL || user_id == NULL) {
		return null_argument(
		    err, "enrt_user_delete", "client, user_id");
	}

	op.id = (char *)user_id;
	req.op_case = ENRT__V1__REQUEST__OP_DELETE_USER;
	req.delete_user = &op;
	status = call(
	    client, &req, ENRT__V1__REPLY__RESULT_DELETE_USER, &reply, err);
	if (status == ENRT_OK && revoked != NULL) {
		*revoked = reply->delete_user->revoked;
	}
	free_reply(reply);
	return status == ENRT_OK ? succeed(err) : status;
}

/* ------------------------------------------------------------------ */
/* Audit                                                               */

static void
clear_event(void *item)
{
	enrt_audit_event *ev = item;

	free(ev->caller_id);
	free(ev->acting_user);
	free(ev->action);
	free(ev->target_id);
	memset(ev, 0, sizeof(*ev));
}

static enrt_status
copy_event(void *item, const void *record, enrt_error *err)
{
	const Enrt__V1__AuditEvent *in = record;
	enrt_audit_event *out = item;

	memset(out, 0, sizeof(*out));
	if (!known_status((int)in->outcome)) {
		return fail(err, ENRT_INTERNAL,
		    "reply carries an audit event of unknown outcome %d",
		    (int)in->outcome);
	}

	out->time = in->time;
	out->outcome = (enrt_status)in->outcome;
	if (!copy_string(&out->caller_id, in->caller_id) ||
	    !copy_string(&out->acting_user, in->acting_user) ||
	    !copy_string(&out->action, in->action) ||
	    !copy_string(&out->target_id, in->target_id)) {
		clear_event(out);
		return no_memory(err);
	}
	return ENRT_OK;
}

static const item_kind event_items = {
    sizeof(enrt_audit_event), copy_event, clear_event};

static enrt_status
copy_audit_page(
    const Enrt__V1__ListAuditReply *in, enrt_audit_page **out, enrt_error *err)
{
	enrt_audit_page *page;
	enrt_status status;
	void *items;

	if ((page = calloc(1, sizeof(*page))) == NULL) {
		return no_memory(err);
	}
	status = copy_page(&event_items, (void *const *)in->events,
	    in->n_events, in->next_cursor, &items, &page->n_events,
	    &page->next_cursor, err);
	if (status != ENRT_OK) {
		free(page);
		return status;
	}
	page->events = items;
	*out = page;
	return ENRT_OK;
}

enrt_status
enrt_audit_list(enrt_client *client, bool has_since, int64_t since,
    const char *cursor, uint32_t page_size, enrt_audit_page **page,
    enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__ListAuditRequest op = ENRT__V1__LIST_AUDIT_REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	if (client == NULL || page == NULL) {
		return null_argument(err, "enrt_audit_list", "client, page");
	}
	*page = NULL;

	op.has_since = has_since;
	op.since = since;
	op.has_page_size = page_size != 0;
	op.page_size = page_size;
	op.page_cursor = (char *)cursor;
	req.op_case = ENRT__V1__REQUEST__OP_LIST_AUDIT;
	req.list_audit = &op;
	status = call(
	    client, &req, ENRT__V1__REPLY__RESULT_LIST_AUDIT, &reply, err);
	if (status == ENRT_OK) {
		status = copy_audit_page(reply->list_audit, page, err);
	}
	free_reply(reply);
	return status == ENRT_OK ? succeed(err) : status;
}

void
enrt_audit_page_free(enrt_audit_page *page)
{
	if (page == NULL) {
		return;
	}
	free_items(&event_items, page->events, page->n_events);
	free(page->next_cursor);
	free(page);
}

/* ------------------------------------------------------------------ */
/* Backup                                                              */

void
enrt_backup_info_free(enrt_backup_info *info)
{
	if (info == NULL) {
		return;
	}
	free(info->name);
	free(info->path);
	free(info);
}

static enrt_status
copy_backup(
    const Enrt__V1__BackupReply *in, enrt_backup_info **out, enrt_error *err)
{
	enrt_backup_info *info = calloc(1, sizeof(*info));

	if (info == NULL || !copy_string(&info->name, in->name) ||
	    !copy_string(&info->path, in->path)) {
		enrt_backup_info_free(info);
		return no_memory(err);
	}
	info->bytes = in->bytes;
	info->created_at = in->created_at;
	*out = info;
	return succeed(err);
}

enrt_status
enrt_backup(enrt_client *client, enrt_backup_info **info, enrt_error *err)
{
	pb_request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__BackupRequest op = ENRT__V1__BACKUP_REQUEST__INIT;
	pb_reply *reply;
	enrt_status status;

	if (client == NULL || info == NULL) {
		return null_argument(err, "enrt_backup", "client, info");
	}
	*info = NULL;

	req.op_case = ENRT__V1__REQUEST__OP_BACKUP;
	req.backup = &op;
	status =
	    call(client, &req, ENRT__V1__REPLY__RESULT_BACKUP, &reply, err);
	if (status == ENRT_OK) {
		status = copy_backup(reply->backup, info, err);
	}
	free_reply(reply);
	return status;
}
