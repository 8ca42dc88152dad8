/*
 * The transport: nng rep sockets on any number of URLs, served by a fixed
 * pool of contexts, each one aio and a small state machine (receive,
 * handle, send), where a handler may answer later, from another thread.  It
 * moves bytes and knows nothing of what they mean.
 */
#ifndef ENRT_TRANSPORT_H
#define ENRT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* One request being answered; the transport's, opaque. */
typedef struct transport_request transport_request;

/*
 * Handles one request of len bytes (len > 0: the transport itself
 * answers an empty request, a liveness ping, with an empty reply).  The
 * handler answers with transport_reply, exactly once: before it returns,
 * or later from any thread, so that a request that waits (for a durable
 * commit, say) holds no thread.  The bytes at in are the handler's only
 * until it returns; the transport then wipes them, since they may hold
 * secrets.  Called on nng's threads, concurrently.
 */
typedef void (*transport_handler)(
    void *arg, transport_request *req, const uint8_t *in, size_t len);

/*
 * Answers req with out (malloc'd, len bytes), or drops it without a
 * reply when out is NULL.  The transport wipes and frees out, which may
 * hold a secret.  Any thread; req is gone once this returns.
 */
void transport_reply(transport_request *req, uint8_t *out, size_t len);

/* The most contexts a transport takes. */
#define TRANSPORT_CONTEXTS_MAX 4096

/*
 * The URLs a transport listens on, and the rules it holds them to, so
 * that no credential crosses a network in clear:
 *
 *   ipc://PATH             a socket file on this machine
 *   tcp://HOST:PORT        clear text: HOST must be a loopback address
 *                          (127.0.0.0/8, ::1) or localhost, unless
 *                          insecure_tcp; "*", an empty host, 0.0.0.0, ::
 *                          and every other name are not loopback
 *   tls+tcp://HOST:PORT    TLS with tls_cert_file and tls_key_file
 *
 * tcp4://, tcp6://, tls+tcp4:// and tls+tcp6:// follow the rule of their
 * family.  Schemes are matched as written, in lower case; any other
 * scheme (ws://, for one, which nng would serve in clear) is refused.  A
 * name is judged by its text and never resolved.
 */
typedef struct transport_options {
	const char *const *urls;
	size_t n_urls;
	unsigned contexts;         /* requests served at once; 0: 64 */
	size_t max_request;        /* larger are dropped; 0: 64 KiB */
	const char *tls_cert_file; /* PEM certificate, then any chain */
	const char *tls_key_file;  /* PEM private key, not encrypted */
	bool insecure_tcp; /* tcp:// on addresses other than loopback */
	transport_handler handler;
	void *arg;
} transport_options;

typedef struct transport transport;

/*
 * Checks the options without listening: the rules above, that a
 * certificate and a key are given together, exactly when some URL is
 * tls+tcp://, and that nng can load them.  Returns
 * ENRT_INVALID_ARGUMENT with e naming the URL or option and the rule, or
 * ENRT_FAILED_PRECONDITION naming a file that cannot be read.
 */
enrt_status transport_check(const transport_options *options, err *e);

/*
 * Makes the checks of transport_check, listens on every URL and starts
 * serving.  On failure nothing is left
 * listening and e names the URL or file and the cause.
 */
enrt_status transport_start(
    transport **out, const transport_options *options, err *e);

/*
 * Stops receiving (and the ipc watches), and lets requests in progress
 * finish and send their replies, for a bounded time.  transport_reply
 * still sends until transport_stop, so that the owner of a deferred
 * request (the writer) can answer it after the drain.  Accepts NULL.
 */
void transport_drain(transport *t);

/*
 * Drains unless transport_drain did, then closes and frees.  A request
 * whose handler has still not answered by then gets no reply; its
 * transport_reply remains safe to call, and frees what is left of the
 * transport once the last such request is answered.  Returns false when
 * nng did not close the socket in time (nng 1.5 can hang there after
 * clients were killed under load): the socket is then left to the end
 * of the process, which should exit without running exit handlers
 * (_exit).  Accepts NULL.
 */
bool transport_stop(transport *t);

#endif /* ENRT_TRANSPORT_H */
