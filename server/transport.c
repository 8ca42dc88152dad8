/*
 * The transport: one nng rep0 socket that listens on every configured URL
 * and is served by a fixed pool of contexts.  Each context owns one aio
 * and is either waiting for a request (RECV) or sending a reply (SEND);
 * the handler runs in between, inside the aio's callback, on one of nng's
 * task threads.  Nothing here knows what the bytes mean.
 *
 * A handler need not answer before it returns.  A request that must
 * wait (an Issue, for its durable commit) is answered later with
 * transport_reply from another thread, and its context is idle till
 * then: it holds no nng thread, of which nng 1.5 has only a few, so one
 * waiting request never stalls the others.  The context's message waits
 * with it; a reply that comes while the handler still runs is kept and
 * sent once the handler has returned, so that only one thread at a time
 * works a context.
 *
 * This module owns the socket, the contexts, their aios and any message
 * parked in an aio or waiting for its reply.  transport_start and
 * transport_stop run on the caller's thread, transport_reply on any;
 * everything else runs in aio callbacks.  Stopping sets a flag under the
 * mutex, so that no context takes a new request, waits a bounded time
 * for the requests already taken to send their replies, and only then
 * stops every aio, closes, and frees.  Nothing is ever freed from inside
 * a callback.  A request still waiting for its handler's reply after the
 * bound keeps the transport's remains (its mutex and contexts' records,
 * not nng's objects) alive, and the last such transport_reply frees
 * them: the handler's owner may answer after the transport is gone.
 *
 * Oversized requests never reach the handler: NNG_OPT_RECVMAXSZ makes nng
 * drop them, together with the connection that sent them.
 *
 * A stale ipc:// socket file (left by a process that died) is removed by
 * nng 1.5 itself: when bind fails with EADDRINUSE it connects to the path
 * and unlinks it if nobody answers.  Two things make that probe unsafe,
 * so this module looks at the path first.  It cannot tell a regular file
 * from a stale socket and would unlink either: a path that exists and is
 * not a socket is refused.  And it hangs up on a live server in the
 * middle of the SP greeting, which in nng before 1.6.0 stops that
 * server's listener for good (nng issue 1518): a socket where a server
 * answers is refused here, after a probe that completes the greeting.
 * The same nng defect lets any local client that hangs up during the
 * greeting stop an ipc listener; on such an nng every ipc listener gets a
 * watch (ipcwatch.h) that restarts it.
 *
 * Every URL is checked before anything listens (transport.h has the
 * rules).  The tls+tcp:// listeners share one nng TLS configuration,
 * owned here, made from the certificate and key files; the files are
 * read into memory, and the key's copy wiped once nng has parsed it.
 * Whether the key belongs to the certificate is not something nng can be
 * asked: a mismatched pair starts, and every handshake then fails.
 */
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <sodium.h>

#include "clock.h"
#include "ipcwatch.h"
#include "log.h"
#include "sockclose.h"

#define DEFAULT_CONTEXTS    64
#define DEFAULT_MAX_REQUEST (64 * 1024)
#define IPC_SCHEME          "ipc://"
#define PEM_MAX             (1024 * 1024)

/* How long transport_drain waits for replies in progress. */
#define DRAIN_MS 10000

/*
 * How long a reply may wait for its connection.  A client that sends
 * requests and never reads the replies fills its socket's buffer, and
 * every context that then answers it waits; without a bound, one such
 * client would hold them all.
 */
#define SEND_TIMEOUT_MS 1000

/* How long transport_stop waits for nng to close the socket. */
#define CLOSE_MS 5000

typedef enum url_kind {
	URL_UNKNOWN,
	URL_IPC,
	URL_TCP, /* clear text */
	URL_TLS,
} url_kind;

static const struct {
	const char *prefix;
	url_kind kind;
} url_kinds[] = {
    {"ipc://", URL_IPC},
    {"tcp://", URL_TCP},
    {"tcp4://", URL_TCP},
    {"tcp6://", URL_TCP},
    {"tls+tcp://", URL_TLS},
    {"tls+tcp4://", URL_TLS},
    {"tls+tcp6://", URL_TLS},
};

typedef enum worker_state {
	WORKER_RECV,
	WORKER_SEND,
} worker_state;

/*
 * A context and its request.  While the handler has the request, the
 * request's message waits in msg; a reply given before the handler
 * returned waits in out until it has.  The worker's own mutex guards
 * that handover, so that answering in the handler, the common case,
 * adds no wait on a lock that other contexts share.
 */
typedef struct worker {
	transport *t;
	nng_ctx ctx;
	bool ctx_open;
	nng_aio *aio;
	worker_state state; /* the aio's own: set before each operation */
	nng_msg *msg;       /* the request, from receipt to reply */
	pthread_mutex_t mtx;
	bool mtx_made;
	bool handling;  /* mtx: the handler has not returned */
	bool answered;  /* mtx: a reply came while handling */
	uint8_t *out;   /* mtx: that reply; NULL: drop */
	size_t out_len; /* mtx */
} worker;

struct transport {
	nng_socket sock;
	bool sock_open;
	transport_handler handler;
	void *arg;
	worker *workers;
	unsigned n_workers;
	ipcwatch **watches; /* one per ipc listener, when nng needs it */
	unsigned n_watches;
	nng_tls_config *tls; /* every tls+tcp:// listener's; NULL if none */

	pthread_mutex_t mtx;
	pthread_cond_t idle; /* busy or replying fell to 0 while stopping */
	bool stopping;       /* mtx */
	bool drained;        /* the caller's thread alone */
	unsigned busy;       /* mtx: requests taken, replies not yet sent */
	unsigned waiting;    /* mtx: handled, no reply given yet */
	unsigned replying;   /* mtx: transport_reply calls sending now */
	bool abandoned;      /* mtx: transport_reply no longer sends */
	bool torn_down;      /* mtx: nng's objects are gone */
};

/*
 * Maps an nng error, from opening or listening, to a status: a URL nng
 * cannot use is the caller's mistake, anything else is the machine's.
 */
static enrt_status
status_of(int rv)
{
	switch (rv) {
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
	case NNG_EINVAL:
		return ENRT_INVALID_ARGUMENT;
	case NNG_ENOMEM:
		return ENRT_RESOURCE_EXHAUSTED;
	default:
		return ENRT_UNAVAILABLE;
	}
}

static bool
is_shutdown_error(int rv)
{
	return rv == NNG_ECLOSED || rv == NNG_ECANCELED;
}

static bool
is_stopping(transport *t)
{
	bool stopping;

	pthread_mutex_lock(&t->mtx);
	stopping = t->stopping;
	pthread_mutex_unlock(&t->mtx);
	return stopping;
}

static void
arm_recv(worker *w)
{
	w->state = WORKER_RECV;
	nng_aio_set_timeout(w->aio, NNG_DURATION_INFINITE);
	nng_ctx_recv(w->ctx, w->aio);
}

/* Counts a request in, unless stopping has begun. */
static bool
begin_request(transport *t)
{
	bool taken;

	pthread_mutex_lock(&t->mtx);
	taken = !t->stopping;
	if (taken) {
		t->busy++;
	}
	pthread_mutex_unlock(&t->mtx);
	return taken;
}

/* Counts a request out and takes the next one, unless stopping. */
static void
end_request(worker *w)
{
	transport *t = w->t;
	bool stopping;

	pthread_mutex_lock(&t->mtx);
	t->busy--;
	stopping = t->stopping;
	if (stopping && t->busy == 0) {
		pthread_cond_broadcast(&t->idle);
	}
	pthread_mutex_unlock(&t->mtx);

	if (!stopping) {
		arm_recv(w);
	}
}

static void
send_msg(worker *w)
{
	w->state = WORKER_SEND;
	nng_aio_set_timeout(w->aio, SEND_TIMEOUT_MS);
	nng_aio_set_msg(w->aio, w->msg);
	w->msg = NULL;
	nng_ctx_send(w->ctx, w->aio);
}

/* Replaces msg's body with the reply, wiped and freed; false: none. */
static bool
fill_reply(nng_msg *msg, uint8_t *out, size_t out_len)
{
	int rv;

	if (out == NULL) {
		return false;
	}
	nng_msg_clear(msg);
	rv = nng_msg_append(msg, out, out_len);
	sodium_memzero(out, out_len);
	free(out);
	if (rv != 0) {
		log_error("reply_dropped", "error=\"%s\"", nng_strerror(rv));
		return false;
	}
	return true;
}

/*
 * Sends the reply in place of the request in w->msg.  The header, which
 * routes it back, is the rep0 context's business.  nng frees the
 * message it sends without wiping it; its API offers no way to do
 * otherwise.
 */
static void
send_reply(worker *w, uint8_t *out, size_t out_len)
{
	if (!fill_reply(w->msg, out, out_len)) {
		nng_msg_free(w->msg);
		w->msg = NULL;
		end_request(w);
		return;
	}
	send_msg(w);
}

static void
note_waiting(transport *t)
{
	pthread_mutex_lock(&t->mtx);
	t->waiting++;
	pthread_mutex_unlock(&t->mtx);
}

/*
 * Hands the request to the handler.  Requests carry credentials: their
 * bytes are wiped as soon as the handler returns.  A reply given
 * meanwhile is sent now; otherwise the request waits for
 * transport_reply.
 */
static void
handle(worker *w)
{
	transport *t = w->t;
	nng_msg *msg = w->msg;
	uint8_t *out;
	size_t out_len;
	bool answered;

	w->handling = true; /* no other thread knows of w before the call */
	w->answered = false;
	t->handler(t->arg, (transport_request *)w, nng_msg_body(msg),
	    nng_msg_len(msg));
	sodium_memzero(nng_msg_body(msg), nng_msg_len(msg));

	pthread_mutex_lock(&w->mtx);
	w->handling = false;
	answered = w->answered;
	out = w->out;
	out_len = w->out_len;
	w->out = NULL;
	if (!answered) {
		note_waiting(t); /* before transport_reply can see it waits */
	}
	pthread_mutex_unlock(&w->mtx);

	if (answered) {
		send_reply(w, out, out_len);
	}
}

static void
on_received(worker *w, int rv)
{
	if (rv != 0) {
		if (!is_shutdown_error(rv)) {
			log_warn("receive_failed", "error=\"%s\"",
			    nng_strerror(rv));
		}
		if (!is_shutdown_error(rv) && !is_stopping(w->t)) {
			arm_recv(w);
		}
		return;
	}

	w->msg = nng_aio_get_msg(w->aio);
	nng_aio_set_msg(w->aio, NULL);
	if (!begin_request(w->t)) {
		nng_msg_free(w->msg); /* came after stopping began: unserved */
		w->msg = NULL;
		return;
	}

	if (nng_msg_len(w->msg) == 0) {
		send_msg(w); /* a ping: the empty reply says we are serving */
		return;
	}
	handle(w);
}

static void
on_sent(worker *w, int rv)
{
	nng_msg *msg;

	if (rv != 0) {
		msg = nng_aio_get_msg(w->aio);
		nng_aio_set_msg(w->aio, NULL);
		nng_msg_free(msg); /* a failed send leaves the message ours */
		if (!is_shutdown_error(rv)) {
			log_warn(
			    "send_failed", "error=\"%s\"", nng_strerror(rv));
		}
	}
	end_request(w);
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

/*
 * A watch must not restart a listener while stopping: pings go unanswered
 * then, and closing a listener in nng 1.5 drops every connection it
 * accepted, with the replies the drain is waiting to send.
 */
static void
stop_watches(transport *t)
{
	for (unsigned i = 0; i < t->n_watches; i++) {
		ipcwatch_stop(t->watches[i]);
		t->watches[i] = NULL;
	}
}

/*
 * Stops taking requests and waits, at most DRAIN_MS, for those taken to
 * send their replies, those waiting for transport_reply included.  A
 * handler still running after that is waited for by nng_aio_stop; its
 * reply is then never sent.  A reply counts as sent
 * once nng hands it to the connection, which for a reply that fits in the
 * socket buffer means written to the kernel; one queued behind a client
 * that does not read is lost when the socket closes.
 */
static void
drain(transport *t)
{
	struct timespec deadline;
	unsigned busy;
	int rv = 0;

	if (t->drained) {
		return;
	}
	t->drained = true;
	stop_watches(t);
	clock_deadline(&deadline, DRAIN_MS);
	pthread_mutex_lock(&t->mtx);
	t->stopping = true;
	while (t->busy > 0 && rv != ETIMEDOUT) {
		rv = pthread_cond_timedwait(&t->idle, &t->mtx, &deadline);
	}
	busy = t->busy;
	pthread_mutex_unlock(&t->mtx);

	if (busy > 0) {
		log_warn("drain_timeout", "unanswered=%u", busy);
	}
}

/* Closes the context and frees the aio and any message parked in it. */
static void
worker_fini(worker *w)
{
	if (w->ctx_open) {
		nng_ctx_close(w->ctx);
	}
	if (w->aio != NULL) {
		nng_msg_free(nng_aio_get_msg(w->aio));
		nng_aio_free(w->aio);
	}
	nng_msg_free(w->msg);
	free(w->out);
}

static void
worker_mutex_fini(worker *w)
{
	if (w->mtx_made) {
		pthread_mutex_destroy(&w->mtx);
	}
}

/* What outlives nng's objects while requests still wait for a reply. */
static void
free_remains(transport *t)
{
	for (unsigned i = 0; i < t->n_workers; i++) {
		worker_mutex_fini(&t->workers[i]);
	}
	free(t->workers);
	pthread_cond_destroy(&t->idle);
	pthread_mutex_destroy(&t->mtx);
	free(t);
}

/*
 * From here on transport_reply sends nothing; waits for those already
 * sending, which still use their aio.
 */
static void
abandon(transport *t)
{
	pthread_mutex_lock(&t->mtx);
	t->abandoned = true;
	while (t->replying > 0) {
		pthread_cond_wait(&t->idle, &t->mtx);
	}
	pthread_mutex_unlock(&t->mtx);
}

/*
 * Whether teardown may free the remains: not while requests wait, for
 * their handlers still hold them; the last transport_reply frees then.
 */
static bool
remains_free(transport *t)
{
	unsigned waiting;

	pthread_mutex_lock(&t->mtx);
	waiting = t->waiting;
	t->torn_down = true;
	pthread_mutex_unlock(&t->mtx);

	if (waiting > 0) {
		log_warn("drain_abandoned", "waiting=%u", waiting);
	}
	return waiting == 0;
}

/*
 * nng 1.5 can wait for ever in nng_close for connections whose clients
 * were killed under load.  After CLOSE_MS the socket is left to the
 * process's end: false.
 */
static bool
close_socket(nng_socket sock)
{
	if (sockclose_within(sock, CLOSE_MS)) {
		return true;
	}
	log_warn("socket_close_hung",
	    "waited_ms=%d detail=\"nng kept the connections of killed "
	    "clients; the process exits without it\"",
	    CLOSE_MS);
	return false;
}

/* Every aio is stopped, so no callback runs, before anything is freed. */
static bool
teardown(transport *t)
{
	unsigned i;
	bool closed;

	abandon(t);
	stop_watches(t);
	for (i = 0; i < t->n_workers; i++) {
		nng_aio_stop(t->workers[i].aio);
	}
	for (i = 0; i < t->n_workers; i++) {
		worker_fini(&t->workers[i]);
	}
	closed = !t->sock_open || close_socket(t->sock);
	if (t->tls != NULL && closed) {
		nng_tls_config_free(t->tls);
	}

	free(t->watches);
	if (remains_free(t)) {
		free_remains(t);
	}
	return closed;
}

/* An answer that came after teardown: no one is left to send it. */
static void
reply_too_late(transport *t, uint8_t *out, size_t out_len)
{
	bool last = t->torn_down && t->waiting == 0;

	pthread_mutex_unlock(&t->mtx);
	if (out != NULL) {
		sodium_memzero(out, out_len);
		free(out);
	}
	if (last) {
		free_remains(t);
	}
}

void
transport_reply(transport_request *req, uint8_t *out, size_t out_len)
{
	worker *w = (worker *)req;
	transport *t = w->t;

	pthread_mutex_lock(&w->mtx);
	if (w->handling) {
		w->answered =
		    true; /* handle sends it once the handler returns */
		w->out = out;
		w->out_len = out_len;
		pthread_mutex_unlock(&w->mtx);
		return;
	}
	pthread_mutex_unlock(&w->mtx);

	pthread_mutex_lock(&t->mtx);
	t->waiting--;
	if (t->abandoned) {
		reply_too_late(t, out, out_len); /* unlocks */
		return;
	}
	t->replying++;
	pthread_mutex_unlock(&t->mtx);

	send_reply(w, out, out_len);

	pthread_mutex_lock(&t->mtx);
	if (--t->replying == 0 && t->abandoned) {
		pthread_cond_broadcast(&t->idle);
	}
	pthread_mutex_unlock(&t->mtx);
}

static enrt_status
check_options(const transport_options *o, err *e)
{
	size_t i;

	if (o->n_urls == 0 || o->urls == NULL) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "urls: at least one URL to listen on is required");
	}
	for (i = 0; i < o->n_urls; i++) {
		if (o->urls[i] == NULL || o->urls[i][0] == '\0') {
			return err_set(e, ENRT_INVALID_ARGUMENT,
			    "urls: entry %zu is empty", i);
		}
	}
	if (o->contexts > TRANSPORT_CONTEXTS_MAX) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "contexts: at most %d", TRANSPORT_CONTEXTS_MAX);
	}
	if (o->handler == NULL) {
		return err_set(
		    e, ENRT_INVALID_ARGUMENT, "handler: is required");
	}
	return ENRT_OK;
}

static url_kind
kind_of(const char *url)
{
	size_t i;
	size_t n = sizeof(url_kinds) / sizeof(url_kinds[0]);

	for (i = 0; i < n; i++) {
		const char *prefix = url_kinds[i].prefix;

		if (strncmp(url, prefix, strlen(prefix)) == 0) {
			return url_kinds[i].kind;
		}
	}
	return URL_UNKNOWN;
}

static bool
is_loopback_host(const char *host)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (strcmp(host, "localhost") == 0) {
		return true;
	}
	if (inet_pton(AF_INET, host, &v4) == 1) {
		return (ntohl(v4.s_addr) >> 24) == 127;
	}
	if (inet_pton(AF_INET6, host, &v6) == 1) {
		return IN6_IS_ADDR_LOOPBACK(&v6) ||
		       (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
	}
	return false;
}

/*
 * The host as nng reads it (lower case, "*" as empty, IPv6 without its
 * brackets), judged by its text.  A URL nng cannot parse is not loopback.
 */
static bool
is_loopback_url(const char *url)
{
	nng_url *u;
	bool loopback;

	if (nng_url_parse(&u, url) != 0) {
		return false;
	}
	loopback = is_loopback_host(u->u_hostname);
	nng_url_free(u);
	return loopback;
}

/*
 * A tcp:// or tls+tcp:// URL names one port from 1 to 65535 and nothing
 * after it: without a port nng would listen on one of its choosing, which
 * no client knows, and a path it would refuse only after the data
 * directory was made.
 */
/* Digits alone, the first not 0: no sign, no padding. */
static bool
is_port_text(const char *text)
{
	if (text[0] < '1' || text[0] > '9') {
		return false;
	}
	return strspn(text, "0123456789") == strlen(text);
}

static enrt_status
check_address(const char *url, err *e)
{
	nng_url *u;
	char *end;
	unsigned long port = 0;
	bool has_path = false;

	if (nng_url_parse(&u, url) == 0) {
		errno = 0;
		port = strtoul(u->u_port, &end, 10);
		if (errno != 0 || !is_port_text(u->u_port) || *end != '\0') {
			port = 0;
		}
		has_path =
		    (u->u_path[0] != '\0' && strcmp(u->u_path, "/") != 0) ||
		    u->u_query != NULL || u->u_fragment != NULL ||
		    strpbrk(url, "?#") != NULL;
		nng_url_free(u);
	}
	if (port == 0 || port > 65535) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "listen %s: needs HOST:PORT with a port from 1 to 65535",
		    url);
	}
	if (has_path) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "listen %s: nothing may follow HOST:PORT", url);
	}
	return ENRT_OK;
}

static enrt_status
check_url(const transport_options *o, const char *url, err *e)
{
	url_kind kind = kind_of(url);

	if ((kind == URL_TCP || kind == URL_TLS) &&
	    check_address(url, e) != ENRT_OK) {
		return e->code;
	}
	switch (kind) {
	case URL_IPC:
		return ENRT_OK;
	case URL_TCP:
		if (o->insecure_tcp || is_loopback_url(url)) {
			return ENRT_OK;
		}
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "listen %s: plain tcp:// is only for loopback "
		    "(127.0.0.0/8, ::1, localhost); use tls+tcp://, or "
		    "--insecure-tcp to let credentials cross the network in "
		    "clear",
		    url);
	case URL_TLS:
		if (o->tls_cert_file != NULL) {
			return ENRT_OK;
		}
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "listen %s: tls+tcp:// needs a certificate and a key "
		    "(--tls-cert, --tls-key)",
		    url);
	default:
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "listen %s: the scheme must be ipc://, tcp:// or "
		    "tls+tcp://",
		    url);
	}
}

static enrt_status
check_tls_pair(const transport_options *o, err *e)
{
	const char *cert = o->tls_cert_file;
	const char *key = o->tls_key_file;

	if ((cert != NULL && cert[0] == '\0') ||
	    (key != NULL && key[0] == '\0')) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "--tls-cert, --tls-key: must not be empty");
	}
	if ((cert == NULL) != (key == NULL)) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "--tls-cert, --tls-key: give both or neither");
	}
	return ENRT_OK;
}

static void
free_secret(char *text)
{
	if (text != NULL) {
		sodium_memzero(text, strlen(text));
	}
	free(text);
}

/* Reads up to len bytes; false on a read error or a file that shrank. */
static bool
read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return false;
		}
		got += (size_t)n;
	}
	return true;
}

/*
 * Reads the whole of a PEM file, given by flag, into *out as one string.
 * The caller frees it, wiping it first when it holds a key.
 */
static enrt_status
read_pem(const char *flag, const char *path, char **out, err *e)
{
	struct stat st;
	char *buf = NULL;
	int fd;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		return err_set(e, ENRT_FAILED_PRECONDITION, "%s %s: %s", flag,
		    path, strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > PEM_MAX) {
		close(fd);
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "%s %s: must be a regular file of at most %d bytes", flag,
		    path, PEM_MAX);
	}

	buf = calloc(1, (size_t)st.st_size + 1);
	if (buf != NULL && !read_all(fd, buf, (size_t)st.st_size)) {
		free_secret(buf);
		buf = NULL;
	}
	close(fd);
	if (buf == NULL) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "%s %s: cannot be read", flag, path);
	}
	*out = buf;
	return ENRT_OK;
}

static enrt_status
tls_error(int rv, const char *flag, const char *path, const char *rule, err *e)
{
	if (rv == NNG_ENOMEM) {
		return err_set(
		    e, ENRT_RESOURCE_EXHAUSTED, "transport: out of memory");
	}
	if (rv == NNG_ENOTSUP) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "tls+tcp://: this nng has no TLS engine (%s)",
		    nng_tls_engine_name());
	}
	return err_set(e, ENRT_INVALID_ARGUMENT, "%s %s: %s (nng: %s)", flag,
	    path, rule, nng_strerror(rv));
}

/*
 * nng parses the certificate and the key in one call and fails in the
 * same words for either.  Parsing the certificate alone first, as a CA
 * list of a configuration thrown away after, tells which file to name.
 */
static enrt_status
check_cert(const char *path, const char *pem, err *e)
{
	nng_tls_config *scratch;
	int rv;

	if ((rv = nng_tls_config_alloc(&scratch, NNG_TLS_MODE_CLIENT)) == 0) {
		rv = nng_tls_config_ca_chain(scratch, pem, NULL);
		nng_tls_config_free(scratch);
	}
	if (rv != 0) {
		return tls_error(rv, "--tls-cert", path,
		    "must hold PEM certificates, the server's first", e);
	}
	return ENRT_OK;
}

/*
 * The TLS configuration that every tls+tcp:// listener shares, in *out;
 * NULL on failure.
 */
static enrt_status
load_tls(const transport_options *o, nng_tls_config **out, err *e)
{
	char *cert = NULL;
	char *key = NULL;
	enrt_status st;
	int rv;

	*out = NULL;
	if ((st = read_pem("--tls-cert", o->tls_cert_file, &cert, e)) !=
	        ENRT_OK ||
	    (st = read_pem("--tls-key", o->tls_key_file, &key, e)) !=
	        ENRT_OK ||
	    (st = check_cert(o->tls_cert_file, cert, e)) != ENRT_OK) {
		goto out;
	}

	rv = nng_tls_config_alloc(out, NNG_TLS_MODE_SERVER);
	if (rv != 0) {
		st = tls_error(rv, "--tls-cert", o->tls_cert_file,
		    "no TLS configuration could be made for it", e);
		goto out;
	}
	rv = nng_tls_config_own_cert(*out, cert, key, NULL);
	if (rv != 0) {
		st = tls_error(rv, "--tls-key", o->tls_key_file,
		    "must hold a PEM private key, not encrypted", e);
		nng_tls_config_free(*out);
		*out = NULL;
	}

out:
	free(cert);
	free_secret(key);
	return st;
}

/* The rules, without reading the certificate and key files. */
static enrt_status
check_rules(const transport_options *o, err *e)
{
	enrt_status st;
	bool tls = false;
	size_t i;

	if ((st = check_options(o, e)) != ENRT_OK ||
	    (st = check_tls_pair(o, e)) != ENRT_OK) {
		return st;
	}
	for (i = 0; i < o->n_urls; i++) {
		if ((st = check_url(o, o->urls[i], e)) != ENRT_OK) {
			return st;
		}
		tls = tls || kind_of(o->urls[i]) == URL_TLS;
	}
	if (o->tls_cert_file != NULL && !tls) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "--tls-cert, --tls-key: given, but no listen URL is "
		    "tls+tcp://");
	}
	return ENRT_OK;
}

enrt_status
transport_check(const transport_options *o, err *e)
{
	nng_tls_config *tls;
	enrt_status st;

	if ((st = check_rules(o, e)) != ENRT_OK || o->tls_cert_file == NULL) {
		return st;
	}
	if ((st = load_tls(o, &tls, e)) == ENRT_OK) {
		nng_tls_config_free(tls);
	}
	return st;
}

/* A condition variable on the monotonic clock, immune to clock steps. */
static enrt_status
init_sync(transport *t, err *e)
{
	int rv;

	rv = clock_cond_init(&t->idle);
	if (rv != 0) {
		return err_set(
		    e, ENRT_INTERNAL, "transport: condvar: %s", strerror(rv));
	}
	pthread_mutex_init(&t->mtx, NULL);
	return ENRT_OK;
}

static enrt_status
open_socket(transport *t, size_t max_request, err *e)
{
	int rv;

	if ((rv = nng_rep0_open(&t->sock)) != 0) {
		return err_set(e, status_of(rv), "transport: rep0 socket: %s",
		    nng_strerror(rv));
	}
	t->sock_open = true;

	rv = nng_socket_set_size(t->sock, NNG_OPT_RECVMAXSZ, max_request);
	if (rv != 0) {
		return err_set(e, status_of(rv), "transport: %s: %s",
		    NNG_OPT_RECVMAXSZ, nng_strerror(rv));
	}
	return ENRT_OK;
}

static enrt_status
open_workers(transport *t, unsigned n, err *e)
{
	unsigned i;
	int rv = 0;

	if ((t->workers = calloc(n, sizeof(*t->workers))) == NULL) {
		return err_set(e, ENRT_RESOURCE_EXHAUSTED,
		    "transport: no memory for %u contexts", n);
	}
	t->n_workers = n;

	for (i = 0; i < n && rv == 0; i++) {
		worker *w = &t->workers[i];

		w->t = t;
		pthread_mutex_init(&w->mtx, NULL);
		w->mtx_made = true;
		if ((rv = nng_aio_alloc(&w->aio, worker_cb, w)) == 0 &&
		    (rv = nng_ctx_open(&w->ctx, t->sock)) == 0) {
			w->ctx_open = true;
		}
	}
	if (rv != 0) {
		return err_set(e, status_of(rv), "transport: context: %s",
		    nng_strerror(rv));
	}
	return ENRT_OK;
}

/* Refuses an ipc path that nng's stale-socket probe must not see. */
static enrt_status
check_ipc_path(const char *url, err *e)
{
	struct stat st;
	const char *path = url + strlen(IPC_SCHEME);

	if (strncmp(url, IPC_SCHEME, strlen(IPC_SCHEME)) != 0 ||
	    lstat(path, &st) != 0) {
		return ENRT_OK; /* not ipc, or no file: nng's to judge */
	}
	if (!S_ISSOCK(st.st_mode)) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "listen %s: the path exists and is not a socket", url);
	}
	if (ipcwatch_probe_path(path) != IPCWATCH_NOBODY) {
		return err_set(e, ENRT_UNAVAILABLE,
		    "listen %s: another server is listening there", url);
	}
	return ENRT_OK;
}

/* An ipc listener on an nng with issue 1518 gets a watch of its own. */
static enrt_status
watch_listener(transport *t, const char *url, nng_listener l, err *e)
{
	if (strncmp(url, IPC_SCHEME, strlen(IPC_SCHEME)) != 0 ||
	    !ipcwatch_needed()) {
		return ENRT_OK;
	}
	return ipcwatch_start(&t->watches[t->n_watches++], t->sock, url, l, e);
}

/* A tls+tcp:// listener is made, given the configuration, then started. */
static int
start_listener(transport *t, const char *url, nng_listener *l)
{
	int rv;

	if (kind_of(url) != URL_TLS) {
		return nng_listen(t->sock, url, l, 0);
	}
	if ((rv = nng_listener_create(l, t->sock, url)) != 0) {
		return rv;
	}
	if ((rv = nng_listener_set_ptr(*l, NNG_OPT_TLS_CONFIG, t->tls)) != 0 ||
	    (rv = nng_listener_start(*l, 0)) != 0) {
		nng_listener_close(*l);
	}
	return rv;
}

static void
log_listening(const char *url)
{
	if (kind_of(url) == URL_TCP && !is_loopback_url(url)) {
		log_warn("listening_in_clear",
		    "url=%s detail=\"credentials cross the network "
		    "unencrypted\"",
		    url);
		return;
	}
	log_info("listening", "url=%s", url);
}

static enrt_status
listen_on(transport *t, const char *url, err *e)
{
	nng_listener l;
	enrt_status st;
	int rv;

	if ((st = check_ipc_path(url, e)) != ENRT_OK) {
		return st;
	}
	if ((rv = start_listener(t, url, &l)) != 0) {
		return err_set(
		    e, status_of(rv), "listen %s: %s", url, nng_strerror(rv));
	}
	log_listening(url);
	return watch_listener(t, url, l, e);
}

static enrt_status
setup(transport *t, const transport_options *o, err *e)
{
	enrt_status st;
	size_t max = o->max_request ? o->max_request : DEFAULT_MAX_REQUEST;
	unsigned n = o->contexts ? o->contexts : DEFAULT_CONTEXTS;
	size_t i;

	t->handler = o->handler;
	t->arg = o->arg;
	t->watches = calloc(o->n_urls, sizeof(*t->watches));
	if (t->watches == NULL) {
		return err_set(
		    e, ENRT_RESOURCE_EXHAUSTED, "transport: out of memory");
	}
	if ((st = open_socket(t, max, e)) != ENRT_OK ||
	    (st = open_workers(t, n, e)) != ENRT_OK) {
		return st;
	}
	if (o->tls_cert_file != NULL &&
	    (st = load_tls(o, &t->tls, e)) != ENRT_OK) {
		return st;
	}

	for (i = 0; i < o->n_urls; i++) {
		if ((st = listen_on(t, o->urls[i], e)) != ENRT_OK) {
			return st;
		}
	}
	return ENRT_OK;
}

/* See the paragraph on nng issue 1518 above. */
static void
warn_old_nng(void)
{
	if (!ipcwatch_needed()) {
		return;
	}
	log_info("nng_known_issue",
	    "version=%s issue=1518 detail=\"ipc listeners are probed and "
	    "restarted when a client that hung up mid-greeting stops them\"",
	    nng_version());
}

enrt_status
transport_start(transport **out, const transport_options *options, err *e)
{
	transport *t;
	enrt_status st;
	unsigned i;

	*out = NULL;
	if ((st = check_rules(options, e)) != ENRT_OK) {
		return st;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		return err_set(
		    e, ENRT_RESOURCE_EXHAUSTED, "transport: out of memory");
	}
	if ((st = init_sync(t, e)) != ENRT_OK) {
		free(t);
		return st;
	}

	warn_old_nng();
	if ((st = setup(t, options, e)) != ENRT_OK) {
		teardown(t);
		return st;
	}
	for (i = 0; i < t->n_workers; i++) {
		arm_recv(&t->workers[i]);
	}
	*out = t;
	return ENRT_OK;
}

void
transport_drain(transport *t)
{
	if (t != NULL) {
		drain(t);
	}
}

bool
transport_stop(transport *t)
{
	if (t == NULL) {
		return true;
	}
	drain(t);
	return teardown(t);
}
