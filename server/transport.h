/*
 * The transport: nng rep sockets on any number of URLs, served by a fixed
 * pool of contexts, each one aio and a small state machine (receive,
 * handle, send).  It moves bytes and knows nothing of what they mean.
 */
#ifndef ENRT_TRANSPORT_H
#define ENRT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * Handles one request of len bytes (len > 0: the transport itself
 * answers an empty request, a liveness ping, with an empty reply).
 * Returns true with a reply in *out
 * (malloc'd, *out_len bytes), or false to drop the request without a
 * reply.  The transport wipes the request and the reply before it frees
 * them, since both may hold secrets.  Called on nng's threads,
 * concurrently.
 */
typedef bool (*transport_handler)(
    void *arg, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);

/* The most contexts a transport takes. */
#define TRANSPORT_CONTEXTS_MAX 4096

typedef struct transport_options {
	const char *const *urls; /* ipc://, tcp://, tls+tcp:// */
	size_t n_urls;
	unsigned contexts;  /* requests served at once; 0: 64 */
	size_t max_request; /* larger are dropped; 0: 64 KiB */
	transport_handler handler;
	void *arg;
} transport_options;

typedef struct transport transport;

/*
 * Listens on every URL and starts serving.  On failure nothing is left
 * listening and e names the URL and the cause.
 */
enrt_status transport_start(
    transport **out, const transport_options *options, err *e);

/*
 * Stops receiving, lets requests in progress finish and send their
 * replies, then closes and frees.  Accepts NULL.
 */
void transport_stop(transport *t);

#endif /* ENRT_TRANSPORT_H */
