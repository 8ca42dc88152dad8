/*
 * The HTTP listener of /healthz and /metrics, on nng's HTTP server.
 *
 *   GET /healthz   200 "ok" when the store answers a read, else 503
 *   GET /metrics   Prometheus text: the counters of metrics.h, LMDB map
 *                  use, and tokens by kind and state
 *
 * Tokens by kind and state are counted at scrape time, by reading every
 * app's tokens through the rules (the same standing as a listing
 * shows), so that suspension and expiry, which change with no request,
 * are counted as they are now.  A scrape therefore costs a read of
 * every token; each page is its own read transaction, so the counts are
 * not one snapshot when tokens change meanwhile.
 *
 * Handlers run on nng's threads; they only read.
 */
#ifndef ENRT_HTTP_H
#define ENRT_HTTP_H

#include "error.h"
#include "rules.h"

typedef struct http_options {
	const char *address; /* HOST:PORT, as config.h checks it */
	rules *rules;        /* read from, never written */
} http_options;

typedef struct http http;

/*
 * Listens on http://ADDRESS and serves.  The caller has already held the
 * address to the loopback rule (transport_check on tcp://ADDRESS).
 * Returns ENRT_UNAVAILABLE with e naming the address when nng cannot
 * listen there.
 */
enrt_status http_start(http **out, const http_options *options, err *e);

/* Stops listening, waits for handlers in progress, frees.  Accepts NULL. */
void http_stop(http *h);

#endif /* ENRT_HTTP_H */
