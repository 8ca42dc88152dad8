/*
 * /healthz and /metrics over nng's HTTP server.  Owns the server hold
 * and the two handlers; the handlers read the store through the rules
 * and the counters of metrics.c, and run on nng's threads.  Only
 * operation, status, cause, kind and state names ever become labels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "apps.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "reply.h"
#include "rpc.h"

#define URL_MAX      320
#define PAGE         1000
#define KINDS        3 /* TokenKind values */
#define STATES       5 /* TokenState values */
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct http {
	nng_url *url;
	nng_http_server *server;
	rules *rules;
};

static const char *const kind_names[KINDS] = {"unspecified", "pat", "sat"};
static const char *const state_names[STATES] = {
    "unspecified", "active", "expired", "revoked", "suspended"};

/* Sends status and body as the handler's response. */
static void
respond(nng_aio *aio, uint16_t status, const char *type, const char *body,
    size_t len)
{
	nng_http_res *res;
	int rv;

	if ((rv = nng_http_res_alloc(&res)) != 0) {
		nng_aio_finish(aio, rv);
		return;
	}
	if ((rv = nng_http_res_set_status(res, status)) != 0 ||
	    (rv = nng_http_res_set_header(res, "Content-Type", type)) != 0 ||
	    (rv = nng_http_res_copy_data(res, body, len)) != 0) {
		nng_http_res_free(res);
		nng_aio_finish(aio, rv);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static http *
server_of(nng_aio *aio)
{
	return nng_http_handler_get_data(nng_aio_get_input(aio, 1));
}

/* ------------------------------------------------------------------ */
/* /healthz                                                            */

/* A real read: a transaction and a count from one database. */
static bool
store_answers(store *s)
{
	store_txn *txn;
	size_t callers;
	enrt_status st;

	if (store_begin_read(s, &txn) != ENRT_OK) {
		return false;
	}
	st = store_caller_count(txn, &callers);
	store_abort(txn);
	return st == ENRT_OK;
}

static void
on_healthz(nng_aio *aio)
{
	http *h = server_of(aio);

	if (store_answers(h->rules->store)) {
		respond(aio, NNG_HTTP_STATUS_OK, "text/plain", "ok\n", 3);
	} else {
		log_warn("healthz_failed", "reason=store_not_answering");
		respond(aio, NNG_HTTP_STATUS_SERVICE_UNAVAILABLE, "text/plain",
		    "store not answering\n", 20);
	}
}

/* ------------------------------------------------------------------ */
/* Tokens by kind and state                                            */

typedef struct census {
	rules *rules;
	actor actor;
	uint64_t counts[KINDS][STATES];
	enrt_status rc;
} census;

static void
count_page(census *c, const Enrt__V1__ListTokensReply *page)
{
	for (size_t i = 0; i < page->n_tokens; i++) {
		unsigned kind = (unsigned)page->tokens[i]->kind;
		unsigned state = (unsigned)page->tokens[i]->state;

		c->counts[kind < KINDS ? kind : 0]
		         [state < STATES ? state : 0]++;
	}
}

/* Every token of one app, page after page. */
static void
count_app(census *c, const char *app_id)
{
	Enrt__V1__ListTokensRequest req;
	Enrt__V1__ListTokensReply *page = NULL;
	char *cursor = NULL;
	err e;

	enrt__v1__list_tokens_request__init(&req);
	req.app_id = (char *)app_id;
	req.has_include_inactive = req.include_inactive = true;
	req.has_page_size = true;
	req.page_size = PAGE;
	do {
		req.page_cursor = cursor;
		c->rc =
		    rules_list_tokens(c->rules, &c->actor, &req, &page, &e);
		free(cursor);
		cursor = NULL;
		if (c->rc == ENRT_OK) {
			count_page(c, page);
			cursor = page->next_cursor ? strdup(page->next_cursor)
			                           : NULL;
		}
		reply_free(page);
		page = NULL;
	} while (c->rc == ENRT_OK && cursor != NULL);
	free(cursor);
}

/* Every app, page after page, and the tokens of each. */
static void
count_tokens(census *c)
{
	Enrt__V1__ListAppsRequest req;
	Enrt__V1__ListAppsReply *page = NULL;
	char *cursor = NULL;
	err e;

	enrt__v1__list_apps_request__init(&req);
	req.has_page_size = true;
	req.page_size = PAGE;
	do {
		req.page_cursor = cursor;
		c->rc = apps_list(c->rules, &c->actor, &req, &page, &e);
		free(cursor);
		cursor = NULL;
		for (size_t i = 0; c->rc == ENRT_OK && i < page->n_apps; i++) {
			count_app(c, page->apps[i]->id);
		}
		if (c->rc == ENRT_OK && page->next_cursor != NULL) {
			cursor = strdup(page->next_cursor);
		}
		reply_free(page);
		page = NULL;
	} while (c->rc == ENRT_OK && cursor != NULL);
	free(cursor);
}

static void
write_tokens(metrics_text *t, rules *r)
{
	store_caller reader;
	census c = {.rules = r};

	/* The scrape reads as an administrator that no request can be. */
	enrt__v1__caller_record__init(&reader);
	reader.id = "metrics";
	reader.has_role = true;
	reader.role = ENRT__V1__ROLE__ADMIN;
	c.actor = (actor){.caller = &reader, .now = (int64_t)time(NULL)};
	count_tokens(&c);
	if (c.rc != ENRT_OK) {
		log_warn("metrics_tokens_failed", "status=%s",
		    enrt_status_name(c.rc));
		return;
	}
	metrics_printf(t,
	    "# HELP enrtd_tokens Tokens by kind and state, "
	    "counted at scrape time.\n# TYPE enrtd_tokens gauge\n");
	for (unsigned k = 1; k < KINDS; k++) {
		for (unsigned s = 1; s < STATES; s++) {
			metrics_printf(t,
			    "enrtd_tokens{kind=\"%s\",state=\"%s\"} %llu\n",
			    kind_names[k], state_names[s],
			    (unsigned long long)c.counts[k][s]);
		}
	}
}

/* ------------------------------------------------------------------ */
/* /metrics                                                            */

static void
write_store(metrics_text *t, store *s)
{
	uint64_t used, size;

	if (store_usage(s, &used, &size) != ENRT_OK) {
		return;
	}
	metrics_printf(t,
	    "# HELP enrtd_store_used_bytes Bytes of the LMDB map in use.\n"
	    "# TYPE enrtd_store_used_bytes gauge\n"
	    "enrtd_store_used_bytes %llu\n"
	    "# HELP enrtd_store_map_bytes Size of the LMDB map.\n"
	    "# TYPE enrtd_store_map_bytes gauge\n"
	    "enrtd_store_map_bytes %llu\n",
	    (unsigned long long)used, (unsigned long long)size);
}

static void
on_metrics(nng_aio *aio)
{
	http *h = server_of(aio);
	metrics_text t = {0};

	metrics_write(&t, rpc_operation_name, rules_cause_name);
	write_store(&t, h->rules->store);
	write_tokens(&t, h->rules);
	if (t.failed) {
		metrics_text_free(&t);
		respond(aio, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR,
		    "text/plain", "out of memory\n", 14);
		return;
	}
	respond(aio, NNG_HTTP_STATUS_OK, METRICS_TYPE, t.buf, t.len);
	metrics_text_free(&t);
}

/* ------------------------------------------------------------------ */
/* Lifecycle                                                           */

static int
add_handler(http *h, const char *path, void (*cb)(nng_aio *))
{
	nng_http_handler *handler;
	int rv;

	if ((rv = nng_http_handler_alloc(&handler, path, cb)) != 0) {
		return rv;
	}
	if ((rv = nng_http_handler_set_data(handler, h, NULL)) != 0 ||
	    (rv = nng_http_server_add_handler(h->server, handler)) != 0) {
		nng_http_handler_free(handler);
	}
	return rv;
}

static int
listen_http(http *h, const char *address)
{
	char url[URL_MAX];
	int rv;

	snprintf(url, sizeof(url), "http://%s", address);
	if ((rv = nng_url_parse(&h->url, url)) != 0 ||
	    (rv = nng_http_server_hold(&h->server, h->url)) != 0) {
		return rv;
	}
	if ((rv = add_handler(h, "/healthz", on_healthz)) != 0 ||
	    (rv = add_handler(h, "/metrics", on_metrics)) != 0) {
		return rv;
	}
	return nng_http_server_start(h->server);
}

enrt_status
http_start(http **out, const http_options *o, err *e)
{
	http *h = calloc(1, sizeof(*h));
	int rv;

	*out = NULL;
	if (h == NULL) {
		return err_set(
		    e, ENRT_RESOURCE_EXHAUSTED, "http: out of memory");
	}
	h->rules = o->rules;
	if ((rv = listen_http(h, o->address)) != 0) {
		http_stop(h);
		return err_set(e, ENRT_UNAVAILABLE, "http %s: %s", o->address,
		    nng_strerror(rv));
	}
	log_info("http_listening", "address=%s", o->address);
	*out = h;
	return ENRT_OK;
}

void
http_stop(http *h)
{
	if (h == NULL) {
		return;
	}
	if (h->server != NULL) {
		nng_http_server_stop(h->server);
		nng_http_server_release(h->server);
	}
	if (h->url != NULL) {
		nng_url_free(h->url);
	}
	free(h);
}
