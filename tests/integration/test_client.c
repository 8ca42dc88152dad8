/*
 * libenrt against a real enrtd on real sockets: the README walk-through,
 * every refusal of Issue, views acting for a person, batches, callers
 * and users, callers the server does not know, hostile
 * bytes, durability across SIGKILL, last-used times, what the data
 * directory holds, and many threads sharing one client, over ipc:// and
 * tcp://.
 *
 * Most tests share one server (group setup) and make apps with names of
 * their own; the tests that stop, kill or restart a server start one of
 * their own.  Threads other than cmocka's only count and record
 * failures; the assertions run on the main thread.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <sodium.h>

#include "enrt.h"
#include "enrt.pb-c.h"
#include "format.h"
#include "server.h"
#include "store.h"

#define DAY            INT64_C(86400)
#define THREADS        8
#define PER_THREAD     25
#define LAST_USED_MS   15000
#define RAW_TIMEOUT_MS 5000

/* Evaluates got once; prints the error's message when it differs. */
/* A refusal: the status, and a message that names the field. */
#define assert_refused(got, want, field, e)                         \
	do {                                                        \
		assert_status(got, want, e);                        \
		if (strstr((e)->message, field) == NULL) {          \
			print_error("message: %s\n", (e)->message); \
		}                                                   \
		assert_non_null(strstr((e)->message, field));       \
	} while (0)

typedef struct fixture {
	server srv;
	enrt_client *ipc;
	enrt_client *tcp;
} fixture;

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static int64_t
now(void)
{
	return (int64_t)time(NULL);
}

/* App names are unique in a store: each app gets a number of its own. */
static const char *
unique_name(const char *stem)
{
	static char name[96];
	static unsigned counter;

	snprintf(name, sizeof(name), "%s %u", stem, ++counter);
	return name;
}

/* days > 0: that maximum; 0: the default (365); < 0: unlimited. */
static enrt_app *
make_app(enrt_client *c, const char *stem, enrt_policy policy, int days,
    const char *const *scopes, size_t n_scopes)
{
	enrt_app_params p = {
	    .name = unique_name(stem),
	    .set_policy = true,
	    .policy = policy,
	    .system_user = "svc-reports",
	    .allowed_scopes = scopes,
	    .n_allowed_scopes = n_scopes,
	    .set_max_lifetime = days != 0,
	    .max_lifetime_days = days > 0 ? (uint32_t)days : 0,
	    .unlimited_lifetime = days < 0,
	};
	enrt_app *app = NULL;
	enrt_error e;

	assert_status(enrt_app_create(c, &p, &app, &e), ENRT_OK, &e);
	assert_non_null(app);
	return app;
}

static const char *const read_scope[] = {"read"};

/* A PAT for alice, read, 30 days: what most tests change one field of. */
static enrt_issue_params
pat_params(const char *app_id)
{
	enrt_issue_params p = {
	    .app_id = app_id,
	    .kind = ENRT_KIND_PAT,
	    .has_expires_at = true,
	    .expires_at = now() + 30 * DAY,
	    .scopes = read_scope,
	    .n_scopes = 1,
	    .owner = "alice",
	};

	return p;
}

static enrt_issued *
issue_ok(enrt_client *c, const enrt_issue_params *p)
{
	enrt_issued *issued = NULL;
	enrt_error e;

	assert_status(enrt_issue(c, p, &issued, &e), ENRT_OK, &e);
	assert_non_null(issued);
	assert_true(enrt_token_check(issued->value, strlen(issued->value)));
	return issued;
}

static enrt_status
issue_refused(enrt_client *c, const enrt_issue_params *p, enrt_error *e)
{
	enrt_issued *issued = NULL;
	enrt_status rc = enrt_issue(c, p, &issued, e);

	assert_null(issued);
	return rc;
}

static enrt_introspection *
introspect(enrt_client *c, const char *value)
{
	enrt_introspection *r = NULL;
	enrt_error e;

	assert_status(
	    enrt_introspect(c, value, strlen(value), &r, &e), ENRT_OK, &e);
	assert_non_null(r);
	return r;
}

static bool
is_active(enrt_client *c, const char *value)
{
	enrt_introspection *r = introspect(c, value);
	bool active = r->active;

	enrt_introspection_free(r);
	return active;
}

/* An inactive answer carries nothing but active = false. */
static void
assert_inactive(enrt_client *c, const char *value)
{
	enrt_introspection *r = introspect(c, value);

	assert_false(r->active);
	assert_null(r->token_id);
	assert_null(r->app_id);
	assert_null(r->subject);
	assert_int_equal(r->n_scopes, 0);
	enrt_introspection_free(r);
}

/* Every token of one app (include_inactive), on one page. */
static enrt_token_page *
list_app(enrt_client *c, const char *app_id, bool all)
{
	enrt_list_params p = {.app_id = app_id, .include_inactive = all};
	enrt_token_page *page = NULL;
	enrt_error e;

	assert_status(enrt_list_tokens(c, &p, &page, &e), ENRT_OK, &e);
	assert_non_null(page);
	assert_null(page->next_cursor);
	return page;
}

static const enrt_token *
find_token(const enrt_token_page *page, const char *id)
{
	for (size_t i = 0; i < page->n_tokens; i++) {
		if (strcmp(page->tokens[i].id, id) == 0) {
			return &page->tokens[i];
		}
	}
	return NULL;
}

/* Every token of one app, page by page, each seen once. */
static size_t
count_tokens(enrt_client *c, const char *app_id)
{
	enrt_list_params p = {
	    .app_id = app_id, .include_inactive = true, .page_size = 64};
	enrt_token_page *page = NULL;
	char *cursor = NULL;
	size_t n = 0;
	enrt_error e;

	do {
		p.cursor = cursor;
		assert_status(enrt_list_tokens(c, &p, &page, &e), ENRT_OK, &e);
		assert_in_range(page->n_tokens, 0, 64);
		n += page->n_tokens;
		free(cursor);
		cursor = page->next_cursor;
		page->next_cursor = NULL;
		enrt_token_page_free(page);
	} while (cursor != NULL && n <= 10000);
	free(cursor);
	return n;
}

/* A credential of the right form that no server ever issued. */
static void
stranger_credential(char out[FORMAT_SECRET_LEN + 1])
{
	uint8_t raw[FORMAT_RAW_LEN];

	randombytes_buf(raw, sizeof(raw));
	format_secret(out, ENRT_CREDENTIAL_PREFIX, raw);
}

/* A value of a token's form that no server ever issued. */
static void
stranger_token(char out[FORMAT_SECRET_LEN + 1])
{
	uint8_t raw[FORMAT_RAW_LEN];

	randombytes_buf(raw, sizeof(raw));
	format_secret(out, ENRT_TOKEN_PREFIX, raw);
}

/* ------------------------------------------------------------------ */
/* Raw requests                                                        */

/*
 * Sends len bytes on a fresh req socket and decodes the answer as a
 * Reply.  Returns NULL (and fails the test) when no reply comes.
 */
static Enrt__V1__Reply *
raw_call(const char *url, const void *bytes, size_t len)
{
	Enrt__V1__Reply *reply = NULL;
	nng_socket sock;
	nng_msg *msg = NULL;

	assert_int_equal(nng_req0_open(&sock), 0);
	nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, RAW_TIMEOUT_MS);
	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, RAW_TIMEOUT_MS);
	assert_int_equal(nng_dial(sock, url, NULL, 0), 0);
	assert_int_equal(nng_msg_alloc(&msg, 0), 0);
	assert_int_equal(nng_msg_append(msg, bytes, len), 0);

	assert_int_equal(nng_sendmsg(sock, msg, 0), 0);
	assert_int_equal(nng_recvmsg(sock, &msg, 0), 0);
	reply =
	    enrt__v1__reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
	nng_msg_free(msg);
	nng_close(sock);
	assert_non_null(reply);
	return reply;
}

static Enrt__V1__Reply *
raw_request(const char *url, const Enrt__V1__Request *req)
{
	size_t len = enrt__v1__request__get_packed_size(req);
	uint8_t *buf = malloc(len + 1);
	Enrt__V1__Reply *reply;

	assert_non_null(buf);
	enrt__v1__request__pack(req, buf);
	reply = raw_call(url, buf, len);
	free(buf);
	return reply;
}

static void
assert_reply_status(Enrt__V1__Reply *reply, enrt_status want)
{
	assert_true(reply->has_status);
	if ((enrt_status)reply->status != want) {
		print_error("reply: %s: %s\n",
		    enrt_status_name((enrt_status)reply->status),
		    reply->message ? reply->message : "(no message)");
	}
	assert_int_equal(reply->status, want);
	if (want != ENRT_OK) {
		assert_non_null(reply->message);
		assert_true(strlen(reply->message) > 0);
		assert_int_equal(
		    reply->result_case, ENRT__V1__REPLY__RESULT__NOT_SET);
	}
	enrt__v1__reply__free_unpacked(reply, NULL);
}

/* A ListApps request with every field right but the ones a test sets. */
static void
list_apps_request(Enrt__V1__Request *req, Enrt__V1__ListAppsRequest *op,
    const char *credential)
{
	enrt__v1__request__init(req);
	enrt__v1__list_apps_request__init(op);
	req->has_version = true;
	req->version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	req->credential = (char *)credential;
	req->op_case = ENRT__V1__REQUEST__OP_LIST_APPS;
	req->list_apps = op;
}

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */

static int
start_shared(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || server_init(&f->srv, true, 0) != 0 ||
	    server_start(&f->srv) != 0 ||
	    server_client(&f->srv, f->srv.ipc_url, NULL, &f->ipc) != 0 ||
	    server_client(&f->srv, f->srv.tcp_url, NULL, &f->tcp) != 0) {
		return -1;
	}
	*state = f;
	return 0;
}

static int
stop_shared(void **state)
{
	fixture *f = *state;
	int rc;

	enrt_client_close(f->ipc);
	enrt_client_close(f->tcp);
	rc = server_stop(&f->srv);
	server_destroy(&f->srv);
	free(f);
	return rc;
}

/*
 * A server of a test's own, on ipc:// (and tcp:// when asked), for tests
 * that stop, kill
 * or restart it.  The teardown runs also after a failed test, so that
 * no server outlives its test.
 */
static int
start_own(void **state, bool tcp, int flush_interval)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	*state = f;
	if (server_init(&f->srv, tcp, flush_interval) != 0 ||
	    server_start(&f->srv) != 0 ||
	    server_client(&f->srv, f->srv.ipc_url, NULL, &f->ipc) != 0) {
		server_destroy(&f->srv);
		free(f);
		return -1;
	}
	return 0;
}

static int
start_own_default(void **state)
{
	return start_own(state, false, 0);
}

/*
 * For the hang-up test only: nng 1.5 never frees a listener that a
 * hang-up stopped (issue 1518), not even when the server's watch closes
 * it, so this one server's leak check skips what nng itself allocated.
 * Leaks of enrtd's own memory still fail the test.
 */
static int
start_own_with_tcp_past_nng_leaks(void **state)
{
	const char *rules = getenv("ENRT_NNG_LEAKS");
	char options[SERVER_PATH_MAX + 32];
	int rc;

	if (rules == NULL) {
		return -1;
	}
	snprintf(options, sizeof(options), "suppressions=%s", rules);
	setenv("LSAN_OPTIONS", options, 1);
	rc = start_own(state, true, 0);
	unsetenv("LSAN_OPTIONS");
	return rc;
}

static int
start_own_flush_every_second(void **state)
{
	return start_own(state, false, 1);
}

static int
stop_own(void **state)
{
	fixture *f = *state;
	int rc = 0;

	enrt_client_close(f->ipc);
	if (f->srv.pid > 0) {
		rc = server_stop(&f->srv);
	}
	server_destroy(&f->srv);
	free(f);
	return rc;
}

/* Stops (SIGTERM, exit 0) or kills, then starts on the same directory. */
static void
restart(fixture *f, bool kill)
{
	enrt_client_close(f->ipc);
	f->ipc = NULL;
	if (kill) {
		assert_int_equal(server_kill(&f->srv), 0);
	} else {
		assert_int_equal(server_stop(&f->srv), 0);
	}
	assert_int_equal(server_start(&f->srv), 0);
	assert_int_equal(
	    server_client(&f->srv, f->srv.ipc_url, NULL, &f->ipc), 0);
}

/* ------------------------------------------------------------------ */
/* The README walk-through                                             */

static const char *const report_scopes[] = {"reports:read", "reports:write"};

static void
check_new_app(const enrt_app *app, int64_t before)
{
	assert_memory_equal(app->id, "app_", 4);
	assert_int_equal(app->policy, ENRT_POLICY_AUTHENTICATED_USERS);
	assert_string_equal(app->system_user, "svc-reports");
	assert_int_equal(app->n_allowed_scopes, 2);
	assert_string_equal(app->allowed_scopes[0], "reports:read");
	assert_string_equal(app->allowed_scopes[1], "reports:write");
	assert_false(app->unlimited_lifetime);
	assert_int_equal(app->max_lifetime_days, 90);
	assert_true(app->enabled);
	assert_in_range(app->created_at, before, now());
}

static void
check_app_is_listed(enrt_client *c, const enrt_app *want)
{
	enrt_app_page *page = NULL;
	enrt_app *got = NULL;
	enrt_error e;
	bool found = false;

	assert_status(enrt_app_get(c, want->id, &got, &e), ENRT_OK, &e);
	assert_string_equal(got->name, want->name);
	assert_int_equal(got->created_at, want->created_at);
	enrt_app_free(got);

	assert_status(enrt_app_list(c, NULL, 1000, &page, &e), ENRT_OK, &e);
	for (size_t i = 0; i < page->n_apps; i++) {
		found |= strcmp(page->apps[i].id, want->id) == 0;
	}
	assert_true(found);
	enrt_app_page_free(page);
}

static void
check_issued(const enrt_issued *t, const char *app_id, enrt_kind kind,
    const char *owner, int64_t expires)
{
	assert_int_equal(strlen(t->value), ENRT_TOKEN_LEN);
	assert_memory_equal(t->value, "enrt_", 5);
	assert_memory_equal(t->token.id, "tok_", 4);
	assert_null(strstr(t->token.id, t->value + 5));
	assert_int_equal(t->token.kind, kind);
	assert_string_equal(t->token.app_id, app_id);
	if (owner != NULL) {
		assert_string_equal(t->token.owner, owner);
	} else {
		assert_null(t->token.owner);
	}
	assert_true(t->token.has_expires_at);
	assert_int_equal(t->token.expires_at, expires);
	assert_int_equal(t->token.state, ENRT_STATE_ACTIVE);
}

static void
check_active(
    enrt_client *c, const enrt_issued *t, const char *subject, int64_t before)
{
	enrt_introspection *r = introspect(c, t->value);

	assert_true(r->active);
	assert_string_equal(r->token_id, t->token.id);
	assert_int_equal(r->kind, t->token.kind);
	assert_string_equal(r->app_id, t->token.app_id);
	assert_string_equal(r->subject, subject);
	assert_int_equal(r->n_scopes, t->token.n_scopes);
	for (size_t i = 0; i < r->n_scopes; i++) {
		assert_string_equal(r->scopes[i], t->token.scopes[i]);
	}
	assert_in_range(r->issued_at, before, now());
	assert_true(r->has_expires_at);
	assert_int_equal(r->expires_at, t->token.expires_at);
	enrt_introspection_free(r);
}

/* A listing row: the metadata, never the value. */
static void
check_row(const enrt_token_page *page, const enrt_issued *t,
    const enrt_app *app, enrt_state state)
{
	const enrt_token *row = find_token(page, t->token.id);

	assert_non_null(row);
	assert_int_equal(row->kind, t->token.kind);
	assert_string_equal(row->app_id, app->id);
	assert_string_equal(row->app_name, app->name);
	assert_int_equal(row->state, state);
	assert_int_equal(row->expires_at, t->token.expires_at);
	assert_int_equal(row->n_scopes, t->token.n_scopes);
	if (row->description != NULL) {
		assert_null(strstr(row->description, t->value));
	}
}

static void
change_system_user(enrt_client *c, const char *app_id, const char *user)
{
	enrt_app_params p = {.system_user = user};
	enrt_app *app = NULL;
	enrt_error e;

	assert_status(enrt_app_update(c, app_id, &p, &app, &e), ENRT_OK, &e);
	assert_string_equal(app->system_user, user);
	enrt_app_free(app);
}

/* Revoked tokens leave the default listing and show as revoked. */
static void
revoke_by_id_and_by_value(enrt_client *c, const enrt_app *app,
    const enrt_issued *pat, const enrt_issued *sat)
{
	enrt_token_page *page;
	enrt_error e;

	assert_status(enrt_revoke_id(c, pat->token.id, &e), ENRT_OK, &e);
	assert_inactive(c, pat->value);
	assert_true(is_active(c, sat->value));
	assert_status(enrt_revoke_value(c, sat->value, strlen(sat->value), &e),
	    ENRT_OK, &e);
	assert_inactive(c, sat->value);

	page = list_app(c, app->id, false);
	assert_int_equal(page->n_tokens, 0);
	enrt_token_page_free(page);
	page = list_app(c, app->id, true);
	assert_int_equal(page->n_tokens, 2);
	check_row(page, pat, app, ENRT_STATE_REVOKED);
	check_row(page, sat, app, ENRT_STATE_REVOKED);
	enrt_token_page_free(page);
}

static void
walk_through(enrt_client *c)
{
	int64_t before = now();
	enrt_app *app = make_app(c, "Reports", ENRT_POLICY_AUTHENTICATED_USERS,
	    90, report_scopes, 2);
	enrt_issue_params p = pat_params(app->id);
	enrt_issued *pat, *sat;
	enrt_token_page *page;

	check_new_app(app, before);
	check_app_is_listed(c, app);

	p.scopes = report_scopes;
	p.description = "laptop";
	pat = issue_ok(c, &p);
	check_issued(pat, app->id, ENRT_KIND_PAT, "alice", p.expires_at);
	assert_string_equal(pat->token.description, "laptop");
	p.kind = ENRT_KIND_SAT;
	p.owner = NULL;
	p.n_scopes = 1;
	sat = issue_ok(c, &p);
	check_issued(sat, app->id, ENRT_KIND_SAT, NULL, p.expires_at);
	assert_string_not_equal(pat->value, sat->value);
	assert_string_not_equal(pat->token.id, sat->token.id);

	check_active(c, pat, "alice", before);
	check_active(c, sat, "svc-reports", before);
	change_system_user(c, app->id, "svc-reports-2");
	check_active(c, sat, "svc-reports-2", before);

	page = list_app(c, app->id, false);
	assert_int_equal(page->n_tokens, 2);
	check_row(page, pat, app, ENRT_STATE_ACTIVE);
	check_row(page, sat, app, ENRT_STATE_ACTIVE);
	assert_string_equal(find_token(page, pat->token.id)->owner, "alice");
	enrt_token_page_free(page);

	revoke_by_id_and_by_value(c, app, pat, sat);
	enrt_issued_free(pat);
	enrt_issued_free(sat);
	enrt_app_free(app);
}

static void
walk_through_over_ipc(void **state)
{
	fixture *f = *state;

	walk_through(f->ipc);
}

static void
walk_through_over_tcp(void **state)
{
	fixture *f = *state;

	walk_through(f->tcp);
}

/* The owner's view across apps, and revoking what is not there. */
static void
owner_listing_and_revoking_unknown_tokens(void **state)
{
	fixture *f = *state;
	enrt_app *a = make_app(
	    f->ipc, "Owner A", ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_app *b = make_app(
	    f->ipc, "Owner B", ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_issue_params p = pat_params(a->id);
	enrt_list_params lp = {.owner = "carol-owner-listing"};
	enrt_issued *ta, *tb;
	enrt_token_page *page = NULL;
	char unknown[FORMAT_SECRET_LEN + 1];
	enrt_error e;

	p.owner = lp.owner;
	ta = issue_ok(f->ipc, &p);
	p.app_id = b->id;
	tb = issue_ok(f->ipc, &p);
	assert_status(enrt_list_tokens(f->ipc, &lp, &page, &e), ENRT_OK, &e);
	assert_int_equal(page->n_tokens, 2);
	assert_non_null(find_token(page, ta->token.id));
	assert_non_null(find_token(page, tb->token.id));
	enrt_token_page_free(page);

	stranger_token(unknown);
	assert_status(enrt_revoke_value(f->ipc, unknown, strlen(unknown), &e),
	    ENRT_OK, &e);
	assert_refused(
	    enrt_revoke_id(f->ipc, "tok_0000000000000000000000", &e),
	    ENRT_NOT_FOUND, "token_id", &e);
	assert_true(is_active(f->ipc, ta->value));
	assert_true(is_active(f->ipc, tb->value));

	enrt_issued_free(ta);
	enrt_issued_free(tb);
	enrt_app_free(a);
	enrt_app_free(b);
}

/* ------------------------------------------------------------------ */
/* Refusals of Issue                                                   */

/* None is the policy of an app made without one: the safest default. */
static void
policy_none_refuses_issue_with_failed_precondition(void **state)
{
	fixture *f = *state;
	enrt_app_params ap = {
	    .name = unique_name("None"), .system_user = "svc-none"};
	enrt_app *app = NULL;
	enrt_issue_params p;
	enrt_error e;

	assert_status(enrt_app_create(f->ipc, &ap, &app, &e), ENRT_OK, &e);
	assert_int_equal(app->policy, ENRT_POLICY_NONE);
	assert_false(app->unlimited_lifetime);
	assert_int_equal(app->max_lifetime_days, 365);
	p = pat_params(app->id);

	assert_refused(issue_refused(f->ipc, &p, &e), ENRT_FAILED_PRECONDITION,
	    "None", &e);
	p.kind = ENRT_KIND_SAT;
	p.owner = NULL;
	assert_refused(issue_refused(f->ipc, &p, &e), ENRT_FAILED_PRECONDITION,
	    "None", &e);
	assert_int_equal(count_tokens(f->ipc, app->id), 0);
	enrt_app_free(app);
}

/*
 * An admin caller names the owner; a user first named that way is not
 * an administrator, so AdministratorsOnly refuses the PAT and still
 * lets the admin issue a SAT.
 */
static void
administrators_only_refuses_a_pat_for_a_non_admin(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(
	    f->ipc, "AdminsOnly", ENRT_POLICY_ADMINISTRATORS_ONLY, 0, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_issued *sat;
	enrt_error e;

	p.owner = "bob-not-admin";
	assert_refused(issue_refused(f->ipc, &p, &e), ENRT_PERMISSION_DENIED,
	    "AdministratorsOnly", &e);
	assert_int_equal(count_tokens(f->ipc, app->id), 0);

	p.kind = ENRT_KIND_SAT;
	p.owner = NULL;
	sat = issue_ok(f->ipc, &p);
	assert_true(is_active(f->ipc, sat->value));
	assert_int_equal(count_tokens(f->ipc, app->id), 1);
	enrt_issued_free(sat);
	enrt_app_free(app);
}

static void
issue_refuses_expiry_in_the_past_or_beyond_the_lifetime(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(
	    f->ipc, "Lifetime", ENRT_POLICY_AUTHENTICATED_USERS, 7, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_issued *ok;
	enrt_error e;

	p.expires_at = now() - 60;
	assert_refused(issue_refused(f->ipc, &p, &e), ENRT_INVALID_ARGUMENT,
	    "expires_at", &e);
	p.expires_at = now() + 8 * DAY;
	assert_refused(issue_refused(f->ipc, &p, &e), ENRT_INVALID_ARGUMENT,
	    "expires_at", &e);
	p.has_expires_at = false;
	assert_refused(issue_refused(f->ipc, &p, &e), ENRT_INVALID_ARGUMENT,
	    "expires_at", &e);
	assert_int_equal(count_tokens(f->ipc, app->id), 0);

	p.has_expires_at = true;
	p.expires_at = now() + 7 * DAY - 120;
	ok = issue_ok(f->ipc, &p);
	assert_int_equal(ok->token.expires_at, p.expires_at);
	enrt_issued_free(ok);
	enrt_app_free(app);
}

/* Only an unlimited app gives a token without expiry: no exp at all. */
static void
unlimited_app_issues_a_token_that_never_expires(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(
	    f->ipc, "Unlimited", ENRT_POLICY_AUTHENTICATED_USERS, -1, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_introspection *r;
	enrt_token_page *page;
	enrt_issued *t;

	assert_true(app->unlimited_lifetime);
	p.has_expires_at = false;
	t = issue_ok(f->ipc, &p);
	assert_false(t->token.has_expires_at);

	r = introspect(f->ipc, t->value);
	assert_true(r->active);
	assert_false(r->has_expires_at);
	enrt_introspection_free(r);
	page = list_app(f->ipc, app->id, false);
	assert_int_equal(page->n_tokens, 1);
	assert_false(page->tokens[0].has_expires_at);
	enrt_token_page_free(page);
	enrt_issued_free(t);
	enrt_app_free(app);
}

static enrt_status
issue_with_scopes(fixture *f, const char *app_id, const char *const *scopes,
    size_t n, enrt_error *e)
{
	enrt_issue_params p = pat_params(app_id);

	p.scopes = scopes;
	p.n_scopes = n;
	return issue_refused(f->ipc, &p, e);
}

static void
issue_refuses_missing_malformed_and_too_many_scopes(void **state)
{
	fixture *f = *state;
	static const char *const bad[] = {"", "has space", "é", "a/b",
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "X"};
	enrt_app *app = make_app(
	    f->ipc, "Scopes", ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	char names[33][8];
	const char *many[33];
	enrt_error e;

	assert_refused(issue_with_scopes(f, app->id, NULL, 0, &e),
	    ENRT_INVALID_ARGUMENT, "scopes", &e);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_refused(issue_with_scopes(f, app->id, &bad[i], 1, &e),
		    ENRT_INVALID_ARGUMENT, "scopes", &e);
	}
	for (int i = 0; i < 33; i++) {
		snprintf(names[i], sizeof(names[i]), "s%d", i);
		many[i] = names[i];
	}
	assert_refused(issue_with_scopes(f, app->id, many, 33, &e),
	    ENRT_INVALID_ARGUMENT, "scopes", &e);
	assert_int_equal(count_tokens(f->ipc, app->id), 0);

	enrt_app_free(app);
}

/* 32 scopes of 64 characters pass; duplicates are merged. */
static void
issue_keeps_scopes_at_the_limits_and_merges_duplicates(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(f->ipc, "Scope limits",
	    ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	static const char *const twice[] = {"read", "write", "read"};
	enrt_issue_params p = pat_params(app->id);
	char names[32][72];
	const char *many[32];
	enrt_issued *t;

	for (int i = 0; i < 32; i++) {
		snprintf(names[i], sizeof(names[i]), "%02d%062d", i, 0);
		many[i] = names[i];
	}
	p.scopes = many;
	p.n_scopes = 32;
	t = issue_ok(f->ipc, &p);
	assert_int_equal(t->token.n_scopes, 32);
	assert_int_equal(strlen(t->token.scopes[31]), 64);
	enrt_issued_free(t);

	p.scopes = twice;
	p.n_scopes = 3;
	t = issue_ok(f->ipc, &p);
	assert_int_equal(t->token.n_scopes, 2);
	assert_string_equal(t->token.scopes[0], "read");
	assert_string_equal(t->token.scopes[1], "write");
	enrt_issued_free(t);
	enrt_app_free(app);
}

static void
issue_refuses_scopes_the_app_does_not_allow(void **state)
{
	fixture *f = *state;
	static const char *const asked[] = {"reports:read", "admin"};
	enrt_app *app = make_app(f->ipc, "Allowed scopes",
	    ENRT_POLICY_AUTHENTICATED_USERS, 0, report_scopes, 2);
	enrt_issued *t;
	enrt_issue_params p = pat_params(app->id);
	enrt_error e;

	assert_refused(issue_with_scopes(f, app->id, asked, 2, &e),
	    ENRT_INVALID_ARGUMENT, "scopes", &e);
	assert_non_null(strstr(e.message, "admin"));
	assert_refused(issue_with_scopes(f, app->id, read_scope, 1, &e),
	    ENRT_INVALID_ARGUMENT, "scopes", &e);
	assert_int_equal(count_tokens(f->ipc, app->id), 0);

	p.scopes = asked;
	p.n_scopes = 1;
	t = issue_ok(f->ipc, &p);
	enrt_issued_free(t);
	enrt_app_free(app);
}

static void
issue_refuses_bad_descriptions(void **state)
{
	fixture *f = *state;
	static const char *const bad[] = {"bad \xff byte", "\xc3\x28",
	    "tab\there", "line\n", "bell\a", "del\x7f", "c1 \xc2\x85"};
	enrt_app *app = make_app(f->ipc, "Descriptions",
	    ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	char text[258];
	enrt_issued *t;
	enrt_error e;

	memset(text, 'x', 257);
	text[257] = '\0';
	p.description = text;
	assert_refused(issue_refused(f->ipc, &p, &e), ENRT_INVALID_ARGUMENT,
	    "description", &e);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p.description = bad[i];
		assert_refused(issue_refused(f->ipc, &p, &e),
		    ENRT_INVALID_ARGUMENT, "description", &e);
	}
	assert_int_equal(count_tokens(f->ipc, app->id), 0);

	text[256] = '\0';
	p.description = text;
	t = issue_ok(f->ipc, &p);
	assert_string_equal(t->token.description, text);
	enrt_issued_free(t);
	p.description = "caf\xc3\xa9 \xe2\x9c\x93";
	t = issue_ok(f->ipc, &p);
	assert_string_equal(t->token.description, p.description);
	enrt_issued_free(t);
	enrt_app_free(app);
}

static void
issue_refuses_an_unknown_app_with_not_found(void **state)
{
	fixture *f = *state;
	enrt_issue_params p = pat_params("app_0000000000000000000000");
	enrt_error e;

	assert_refused(
	    issue_refused(f->ipc, &p, &e), ENRT_NOT_FOUND, "app_id", &e);
	p.app_id = "not-an-app-id";
	assert_refused(issue_refused(f->ipc, &p, &e), ENRT_INVALID_ARGUMENT,
	    "app_id", &e);
}

static void
set_enabled(enrt_client *c, const char *app_id, bool enabled)
{
	enrt_app_params p = {.set_enabled = true, .enabled = enabled};
	enrt_app *app = NULL;
	enrt_error e;

	assert_status(enrt_app_update(c, app_id, &p, &app, &e), ENRT_OK, &e);
	assert_int_equal(app->enabled, enabled);
	enrt_app_free(app);
}

/* Disabling is reversible: tokens are suspended, not revoked. */
static void
disabled_app_refuses_issue_and_suspends_its_tokens(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(
	    f->ipc, "Disabled", ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_issued *t = issue_ok(f->ipc, &p);
	enrt_token_page *page;
	enrt_error e;

	set_enabled(f->ipc, app->id, false);
	assert_refused(issue_refused(f->ipc, &p, &e), ENRT_FAILED_PRECONDITION,
	    "disabled", &e);
	assert_inactive(f->ipc, t->value);
	page = list_app(f->ipc, app->id, true);
	assert_int_equal(page->n_tokens, 1);
	assert_int_equal(page->tokens[0].state, ENRT_STATE_SUSPENDED);
	enrt_token_page_free(page);

	set_enabled(f->ipc, app->id, true);
	assert_true(is_active(f->ipc, t->value));
	enrt_issued_free(t);
	enrt_app_free(app);
}

/* A value sent where an id belongs is refused without being echoed. */
static void
misplaced_token_value_is_not_echoed_in_errors(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(
	    f->ipc, "Misplaced", ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_issued *t = issue_ok(f->ipc, &p);
	enrt_app *got = NULL;
	enrt_error e;

	assert_refused(enrt_revoke_id(f->ipc, t->value, &e),
	    ENRT_INVALID_ARGUMENT, "token_id", &e);
	assert_null(strstr(e.message, t->value + 5));
	p.app_id = t->value;
	assert_refused(issue_refused(f->ipc, &p, &e), ENRT_INVALID_ARGUMENT,
	    "app_id", &e);
	assert_null(strstr(e.message, t->value + 5));
	assert_status(enrt_app_get(f->ipc, t->value, &got, &e),
	    ENRT_INVALID_ARGUMENT, &e);
	assert_null(strstr(e.message, t->value + 5));
	assert_true(is_active(f->ipc, t->value));
	enrt_issued_free(t);
	enrt_app_free(app);
}

/* ------------------------------------------------------------------ */
/* Persons, batches, callers and users                                 */

/* A new caller of this role; the test closes the client it gets. */
static enrt_client *
add_caller(fixture *f, const char *name, enrt_role role,
    const char *const *apps, size_t n_apps, char **id)
{
	enrt_caller_added *added = NULL;
	enrt_client *c = NULL;
	enrt_error e;

	assert_status(
	    enrt_caller_add(f->ipc, name, role, apps, n_apps, &added, &e),
	    ENRT_OK, &e);
	assert_true(enrt_credential_check(
	    added->credential, strlen(added->credential)));
	assert_memory_equal(added->caller.id, "cal_", 4);
	assert_string_equal(added->caller.name, name);
	assert_int_equal(added->caller.role, role);
	assert_int_equal(added->caller.n_app_ids, n_apps);
	assert_false(added->caller.revoked);
	assert_int_equal(
	    server_client(&f->srv, f->srv.ipc_url, added->credential, &c), 0);
	if (id != NULL) {
		*id = strdup(added->caller.id);
	}
	enrt_caller_added_free(added);
	return c;
}

static enrt_client *
view_of(enrt_client *c, const char *user_id, bool admin)
{
	enrt_person person = {.user_id = user_id, .admin = admin};
	enrt_client *view = NULL;
	enrt_error e;

	assert_status(enrt_client_as(c, &person, &view, &e), ENRT_OK, &e);
	assert_non_null(view);
	return view;
}

/* The person's own tokens, across apps. */
static enrt_token_page *
list_own(enrt_client *view)
{
	enrt_list_params p = {0};
	enrt_token_page *page = NULL;
	enrt_error e;

	assert_status(enrt_list_tokens(view, &p, &page, &e), ENRT_OK, &e);
	assert_null(page->next_cursor);
	return page;
}

static bool
eligible(enrt_client *view, const char *app_id)
{
	enrt_app_page *page = NULL;
	enrt_error e;
	bool found = false;

	assert_status(
	    enrt_app_list_eligible(view, NULL, 1000, &page, &e), ENRT_OK, &e);
	for (size_t i = 0; i < page->n_apps; i++) {
		found |= strcmp(page->apps[i].id, app_id) == 0;
	}
	enrt_app_page_free(page);
	return found;
}

static void
client_as_refuses_a_person_without_a_user_id(void **state)
{
	fixture *f = *state;
	enrt_person nobody = {.user_id = NULL, .display_name = "Nobody"};
	enrt_person empty = {.user_id = ""};
	enrt_client *view = f->ipc;
	enrt_error e;

	assert_refused(enrt_client_as(f->ipc, &nobody, &view, &e),
	    ENRT_INVALID_ARGUMENT, "user_id", &e);
	assert_null(view);
	view = f->ipc;
	assert_refused(enrt_client_as(f->ipc, &empty, &view, &e),
	    ENRT_INVALID_ARGUMENT, "user_id", &e);
	assert_null(view);
	assert_status(enrt_client_as(NULL, &empty, &view, &e),
	    ENRT_INVALID_ARGUMENT, &e);
}

/*
 * A view carries its person on every call: a portal caller's person
 * issues and lists only their own PATs, and another's token is answered
 * as one that does not exist; an admin caller may not act for anyone.
 */
static void
views_act_for_their_person_only(void **state)
{
	fixture *f = *state;
	enrt_client *portal =
	    add_caller(f, "Portal views", ENRT_ROLE_PORTAL, NULL, 0, NULL);
	enrt_client *dana = view_of(portal, "dana-view", false);
	enrt_client *erin = view_of(portal, "erin-view", false);
	enrt_client *admin_view = view_of(f->ipc, "dana-view", false);
	enrt_app *app = make_app(
	    f->ipc, "Views", ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_issued *td, *te;
	enrt_token_page *page;
	enrt_error e;

	p.owner = NULL;
	td = issue_ok(dana, &p);
	te = issue_ok(erin, &p);
	assert_string_equal(td->token.owner, "dana-view");
	assert_string_equal(te->token.owner, "erin-view");

	page = list_own(dana);
	assert_int_equal(page->n_tokens, 1);
	assert_string_equal(page->tokens[0].id, td->token.id);
	enrt_token_page_free(page);
	assert_refused(enrt_revoke_id(dana, te->token.id, &e), ENRT_NOT_FOUND,
	    "token_id", &e);
	assert_true(is_active(f->ipc, te->value));

	assert_refused(issue_refused(portal, &p, &e), ENRT_INVALID_ARGUMENT,
	    "acting_user", &e);
	assert_refused(issue_refused(admin_view, &p, &e),
	    ENRT_INVALID_ARGUMENT, "acting_user", &e);

	enrt_client_close(admin_view);
	enrt_client_close(erin);
	enrt_client_close(dana);
	enrt_client_close(portal);
	enrt_issued_free(td);
	enrt_issued_free(te);
	enrt_app_free(app);
}

/*
 * Views share their handle's connection: closing one leaves the handle
 * and the other views working, and a view of a view acts for its own
 * person.  Eligible apps follow the person's admin flag.
 */
static void
views_share_the_connection_and_see_eligible_apps(void **state)
{
	fixture *f = *state;
	enrt_client *portal =
	    add_caller(f, "Portal eligible", ENRT_ROLE_PORTAL, NULL, 0, NULL);
	enrt_client *user = view_of(portal, "fay-eligible", false);
	enrt_client *admin = view_of(user, "gus-eligible", true);
	enrt_app *open = make_app(f->ipc, "Eligible open",
	    ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_app *admins = make_app(f->ipc, "Eligible admins",
	    ENRT_POLICY_ADMINISTRATORS_ONLY, 0, NULL, 0);
	enrt_app *closed =
	    make_app(f->ipc, "Eligible closed", ENRT_POLICY_NONE, 0, NULL, 0);

	assert_true(eligible(user, open->id));
	assert_false(eligible(user, admins->id));
	assert_false(eligible(user, closed->id));
	enrt_client_close(user);

	assert_true(eligible(admin, open->id));
	assert_true(eligible(admin, admins->id));
	assert_false(eligible(admin, closed->id));
	enrt_client_close(admin);

	user = view_of(portal, "fay-eligible", false);
	assert_false(eligible(user, admins->id));
	enrt_client_close(user);
	enrt_client_close(portal);
	enrt_app_free(open);
	enrt_app_free(admins);
	enrt_app_free(closed);
}

static void
assert_same_answer(
    const enrt_introspection *got, const enrt_introspection *want)
{
	assert_int_equal(got->active, want->active);
	if (!want->active) {
		assert_null(got->token_id);
		assert_null(got->subject);
		assert_int_equal(got->n_scopes, 0);
		return;
	}
	assert_string_equal(got->token_id, want->token_id);
	assert_int_equal(got->kind, want->kind);
	assert_string_equal(got->app_id, want->app_id);
	assert_string_equal(got->subject, want->subject);
	assert_int_equal(got->n_scopes, want->n_scopes);
	for (size_t i = 0; i < got->n_scopes; i++) {
		assert_string_equal(got->scopes[i], want->scopes[i]);
	}
	assert_int_equal(got->issued_at, want->issued_at);
	assert_int_equal(got->has_expires_at, want->has_expires_at);
	assert_int_equal(got->expires_at, want->expires_at);
}

/* Each answer of a batch is what enrt_introspect answers alone. */
static void
assert_batch_matches_singles(
    enrt_client *c, const char *const *tokens, const size_t *lens, size_t n)
{
	enrt_introspection_batch *b = NULL;
	enrt_introspection *single;
	enrt_error e;

	assert_status(
	    enrt_introspect_batch(c, tokens, lens, n, &b, &e), ENRT_OK, &e);
	assert_int_equal(b->n_answers, n);
	for (size_t i = 0; i < n; i++) {
		single = NULL;
		assert_status(enrt_introspect(c, tokens[i],
		                  lens != NULL ? lens[i] : strlen(tokens[i]),
		                  &single, &e),
		    ENRT_OK, &e);
		assert_same_answer(&b->answers[i], single);
		enrt_introspection_free(single);
	}
	enrt_introspection_batch_free(b);
}

/* Values of every kind, in an order that a shuffle would show. */
typedef struct mixed_batch {
	const char *tokens[9];
	size_t lens[9];
	char unknown[FORMAT_SECRET_LEN + 1];
	char spaced[FORMAT_SECRET_LEN + 2];
	char with_nul[FORMAT_SECRET_LEN + 1];
} mixed_batch;

static void
mix_batch(mixed_batch *m, const enrt_issued *pat, const enrt_issued *sat,
    const enrt_issued *revoked)
{
	const char *tokens[] = {pat->value, "garbage", sat->value, m->unknown,
	    revoked->value, "", m->spaced, m->with_nul, pat->value};
	const size_t lens[] = {ENRT_TOKEN_LEN, 7, ENRT_TOKEN_LEN,
	    ENRT_TOKEN_LEN, ENRT_TOKEN_LEN, 0, ENRT_TOKEN_LEN + 1,
	    ENRT_TOKEN_LEN, ENRT_TOKEN_LEN};

	stranger_token(m->unknown);
	snprintf(m->spaced, sizeof(m->spaced), "%s ", pat->value);
	memcpy(m->with_nul, pat->value, sizeof(m->with_nul));
	m->with_nul[20] = '\0';
	memcpy(m->tokens, tokens, sizeof(tokens));
	memcpy(m->lens, lens, sizeof(lens));
}

static void
batch_answers_in_order_as_single_introspects_would(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(
	    f->ipc, "Batch", ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_issued *pat = issue_ok(f->ipc, &p);
	enrt_issued *gone = issue_ok(f->ipc, &p);
	enrt_introspection_batch *b = NULL;
	enrt_issued *sat;
	mixed_batch m;
	enrt_error e;

	p.kind = ENRT_KIND_SAT;
	p.owner = NULL;
	sat = issue_ok(f->ipc, &p);
	assert_status(enrt_revoke_id(f->ipc, gone->token.id, &e), ENRT_OK, &e);
	mix_batch(&m, pat, sat, gone);
	assert_batch_matches_singles(f->ipc, m.tokens, m.lens, 9);
	assert_batch_matches_singles(f->tcp, m.tokens, NULL, 9);

	assert_status(
	    enrt_introspect_batch(f->ipc, m.tokens, m.lens, 9, &b, &e),
	    ENRT_OK, &e);
	assert_string_equal(b->answers[0].token_id, pat->token.id);
	assert_string_equal(b->answers[2].subject, "svc-reports");
	assert_string_equal(b->answers[8].token_id, pat->token.id);
	for (size_t i = 0; i < 9; i++) {
		assert_int_equal(
		    b->answers[i].active, i == 0 || i == 2 || i == 8);
	}
	enrt_introspection_batch_free(b);

	enrt_issued_free(pat);
	enrt_issued_free(gone);
	enrt_issued_free(sat);
	enrt_app_free(app);
}

/*
 * The limit is checked before anything is sent: a client with no
 * server behind it refuses 129 tokens at once, and only fails to reach
 * the server with 128.
 */
static void
batch_takes_up_to_128_tokens_and_refuses_more_locally(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(f->ipc, "Batch limit",
	    ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_issued *t = issue_ok(f->ipc, &p);
	enrt_options nowhere = {.url = "ipc:///nonexistent/enrt.sock",
	    .credential = f->srv.credential,
	    .timeout_ms = 300};
	const char *tokens[ENRT_BATCH_MAX + 1];
	enrt_introspection_batch *b = NULL;
	enrt_client *lost = NULL;
	enrt_error e;

	for (size_t i = 0; i <= ENRT_BATCH_MAX; i++) {
		tokens[i] = t->value;
	}
	assert_status(enrt_introspect_batch(
	                  f->ipc, tokens, NULL, ENRT_BATCH_MAX, &b, &e),
	    ENRT_OK, &e);
	assert_int_equal(b->n_answers, ENRT_BATCH_MAX);
	for (size_t i = 0; i < ENRT_BATCH_MAX; i++) {
		assert_true(b->answers[i].active);
		assert_string_equal(b->answers[i].token_id, t->token.id);
	}
	enrt_introspection_batch_free(b);
	b = NULL;

	assert_status(enrt_introspect_batch(f->ipc, tokens, NULL, 0, &b, &e),
	    ENRT_OK, &e);
	assert_int_equal(b->n_answers, 0);
	enrt_introspection_batch_free(b);
	b = NULL;
	tokens[3] = NULL;
	assert_status(enrt_introspect_batch(f->ipc, tokens, NULL, 5, &b, &e),
	    ENRT_INVALID_ARGUMENT, &e);
	assert_null(b);
	tokens[3] = t->value;

	assert_status(enrt_client_open(&lost, &nowhere, &e), ENRT_OK, &e);
	assert_refused(enrt_introspect_batch(
	                   lost, tokens, NULL, ENRT_BATCH_MAX + 1, &b, &e),
	    ENRT_INVALID_ARGUMENT, "128", &e);
	assert_null(b);
	assert_status(
	    enrt_introspect_batch(lost, tokens, NULL, ENRT_BATCH_MAX, &b, &e),
	    ENRT_UNAVAILABLE, &e);
	assert_null(b);
	enrt_client_close(lost);
	enrt_issued_free(t);
	enrt_app_free(app);
}

/* An introspect caller limited to one app sees the others' inactive. */
static void
batch_of_a_limited_caller_answers_other_apps_inactive(void **state)
{
	fixture *f = *state;
	enrt_app *mine = make_app(f->ipc, "Limited mine",
	    ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_app *other = make_app(f->ipc, "Limited other",
	    ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	const char *apps[] = {mine->id};
	enrt_client *gateway =
	    add_caller(f, "Gateway", ENRT_ROLE_INTROSPECT, apps, 1, NULL);
	enrt_issue_params p = pat_params(mine->id);
	enrt_issued *a = issue_ok(f->ipc, &p);
	enrt_issued *b;
	enrt_introspection_batch *answers = NULL;
	const char *tokens[3];
	enrt_error e;

	p.app_id = other->id;
	b = issue_ok(f->ipc, &p);
	tokens[0] = tokens[2] = b->value;
	tokens[1] = a->value;
	assert_status(
	    enrt_introspect_batch(gateway, tokens, NULL, 3, &answers, &e),
	    ENRT_OK, &e);
	assert_false(answers->answers[0].active);
	assert_true(answers->answers[1].active);
	assert_false(answers->answers[2].active);
	assert_true(is_active(f->ipc, b->value));
	enrt_introspection_batch_free(answers);

	enrt_client_close(gateway);
	enrt_issued_free(a);
	enrt_issued_free(b);
	enrt_app_free(mine);
	enrt_app_free(other);
}

static const enrt_caller *
find_caller(const enrt_caller_page *page, const char *id)
{
	for (size_t i = 0; i < page->n_callers; i++) {
		if (strcmp(page->callers[i].id, id) == 0) {
			return &page->callers[i];
		}
	}
	return NULL;
}

/* A revoked caller is listed as revoked and refused from then on. */
static void
revoked_caller_is_listed_and_unauthenticated(void **state)
{
	fixture *f = *state;
	char *id = NULL;
	enrt_client *c =
	    add_caller(f, "Short-lived", ENRT_ROLE_ADMIN, NULL, 0, &id);
	enrt_caller_page *page = NULL;
	enrt_app_page *apps = NULL;
	enrt_error e;

	assert_status(enrt_app_list(c, NULL, 1, &apps, &e), ENRT_OK, &e);
	enrt_app_page_free(apps);
	apps = NULL;
	assert_status(enrt_caller_revoke(f->ipc, id, &e), ENRT_OK, &e);
	assert_status(enrt_caller_revoke(f->ipc, id, &e), ENRT_OK, &e);
	assert_status(
	    enrt_app_list(c, NULL, 1, &apps, &e), ENRT_UNAUTHENTICATED, &e);
	assert_null(apps);
	assert_refused(
	    enrt_caller_revoke(f->ipc, "cal_0000000000000000000000", &e),
	    ENRT_NOT_FOUND, "cal_0000000000000000000000", &e);

	assert_status(
	    enrt_caller_list(f->ipc, NULL, 1000, &page, &e), ENRT_OK, &e);
	assert_non_null(find_caller(page, id));
	assert_true(find_caller(page, id)->revoked);
	assert_in_range(find_caller(page, id)->revoked_at, now() - 60, now());
	assert_int_equal(find_caller(page, id)->role, ENRT_ROLE_ADMIN);
	enrt_caller_page_free(page);
	enrt_client_close(c);
	free(id);
}

static const enrt_user *
find_user(const enrt_user_page *page, const char *id)
{
	for (size_t i = 0; i < page->n_users; i++) {
		if (strcmp(page->users[i].id, id) == 0) {
			return &page->users[i];
		}
	}
	return NULL;
}

/* Whether the page holds this event, and every event is since before. */
static bool
audited(const enrt_audit_page *page, int64_t before, const char *action,
    const char *target, enrt_status outcome)
{
	bool found = false;

	for (size_t i = 0; i < page->n_events; i++) {
		const enrt_audit_event *ev = &page->events[i];

		assert_in_range(ev->time, before, now());
		found |= strcmp(ev->action, action) == 0 &&
		         ev->target_id != NULL &&
		         strcmp(ev->target_id, target) == 0 &&
		         ev->outcome == outcome;
	}
	return found;
}

/*
 * Disabling a user suspends their tokens and refuses their portal
 * calls; enabling brings both back; deleting revokes for good.  Each
 * change is in the audit log.
 */
static void
users_are_disabled_enabled_and_deleted_with_audit(void **state)
{
	fixture *f = *state;
	int64_t before = now();
	enrt_client *portal =
	    add_caller(f, "Portal users", ENRT_ROLE_PORTAL, NULL, 0, NULL);
	enrt_person hal = {.user_id = "hal-users", .display_name = "Hal"};
	enrt_client *view = NULL;
	enrt_app *app = make_app(
	    f->ipc, "Users", ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_user_page *users = NULL;
	enrt_audit_page *audit = NULL;
	enrt_user *u = NULL;
	enrt_issued *t;
	uint32_t revoked = 99;
	enrt_error e;

	assert_status(enrt_client_as(portal, &hal, &view, &e), ENRT_OK, &e);
	p.owner = NULL;
	t = issue_ok(view, &p);
	assert_status(
	    enrt_user_list(f->ipc, NULL, 1000, &users, &e), ENRT_OK, &e);
	assert_non_null(find_user(users, "hal-users"));
	assert_string_equal(
	    find_user(users, "hal-users")->display_name, "Hal");
	assert_true(find_user(users, "hal-users")->enabled);
	enrt_user_page_free(users);

	assert_status(enrt_user_set(f->ipc, "hal-users", false, false, true,
	                  false, &u, &e),
	    ENRT_OK, &e);
	assert_false(u->enabled);
	assert_false(u->admin);
	enrt_user_free(u);
	assert_inactive(f->ipc, t->value);
	assert_refused(issue_refused(view, &p, &e), ENRT_PERMISSION_DENIED,
	    "disabled", &e);
	assert_status(enrt_user_set(f->ipc, "hal-users", false, false, true,
	                  true, NULL, &e),
	    ENRT_OK, &e);
	assert_true(is_active(f->ipc, t->value));

	assert_status(
	    enrt_user_delete(f->ipc, "hal-users", &revoked, &e), ENRT_OK, &e);
	assert_int_equal(revoked, 1);
	assert_inactive(f->ipc, t->value);
	assert_refused(enrt_user_delete(f->ipc, "hal-users", &revoked, &e),
	    ENRT_NOT_FOUND, "hal-users", &e);

	assert_status(
	    enrt_audit_list(f->ipc, true, before, NULL, 1000, &audit, &e),
	    ENRT_OK, &e);
	assert_null(audit->next_cursor);
	assert_true(audited(audit, before, "user_set", "hal-users", ENRT_OK));
	assert_true(
	    audited(audit, before, "user_delete", "hal-users", ENRT_OK));
	assert_true(audited(
	    audit, before, "user_delete", "hal-users", ENRT_NOT_FOUND));
	enrt_audit_page_free(audit);

	enrt_client_close(view);
	enrt_client_close(portal);
	enrt_issued_free(t);
	enrt_app_free(app);
}

/* ------------------------------------------------------------------ */
/* Callers the server does not know                                    */

/* Every operation a stranger tries, each refused as UNAUTHENTICATED. */
static void
stranger_is_refused_everything(
    enrt_client *c, const char *app_id, const enrt_issued *t)
{
	enrt_app_params ap = {.name = "Stranger app",
	    .set_policy = true,
	    .policy = ENRT_POLICY_AUTHENTICATED_USERS,
	    .system_user = "x"};
	enrt_issue_params ip = pat_params(app_id);
	enrt_list_params lp = {.app_id = app_id};
	enrt_introspection *r = NULL;
	enrt_token_page *page = NULL;
	enrt_app_page *apps = NULL;
	enrt_issued *issued = NULL;
	enrt_app *app = NULL;
	enrt_error e;

	assert_status(
	    enrt_app_create(c, &ap, &app, &e), ENRT_UNAUTHENTICATED, &e);
	assert_status(
	    enrt_app_list(c, NULL, 0, &apps, &e), ENRT_UNAUTHENTICATED, &e);
	assert_status(
	    enrt_issue(c, &ip, &issued, &e), ENRT_UNAUTHENTICATED, &e);
	assert_status(enrt_introspect(c, t->value, strlen(t->value), &r, &e),
	    ENRT_UNAUTHENTICATED, &e);
	assert_status(
	    enrt_list_tokens(c, &lp, &page, &e), ENRT_UNAUTHENTICATED, &e);
	assert_status(
	    enrt_revoke_id(c, t->token.id, &e), ENRT_UNAUTHENTICATED, &e);
	assert_status(enrt_revoke_value(c, t->value, strlen(t->value), &e),
	    ENRT_UNAUTHENTICATED, &e);
	assert_null(app);
	assert_null(apps);
	assert_null(issued);
	assert_null(r);
	assert_null(page);
}

static void
unknown_credential_is_unauthenticated_and_changes_nothing(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(
	    f->ipc, "Strangers", ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_issued *t = issue_ok(f->ipc, &p);
	char credential[FORMAT_SECRET_LEN + 1];
	enrt_client *stranger = NULL;

	stranger_credential(credential);
	assert_int_equal(
	    server_client(&f->srv, f->srv.ipc_url, credential, &stranger), 0);
	stranger_is_refused_everything(stranger, app->id, t);
	enrt_client_close(stranger);

	assert_int_equal(server_app_named(f->ipc, "Stranger app"), 0);
	assert_int_equal(count_tokens(f->ipc, app->id), 1);
	assert_true(is_active(f->ipc, t->value));
	enrt_issued_free(t);
	enrt_app_free(app);
}

/* Credentials libenrt would not send, straight onto the socket. */
static void
missing_or_malformed_credential_is_unauthenticated(void **state)
{
	fixture *f = *state;
	char bad[FORMAT_SECRET_LEN + 1];
	Enrt__V1__ListAppsRequest op;
	Enrt__V1__Request req;

	list_apps_request(&req, &op, NULL);
	assert_reply_status(
	    raw_request(f->srv.ipc_url, &req), ENRT_UNAUTHENTICATED);
	list_apps_request(&req, &op, "enrc_not-a-credential");
	assert_reply_status(
	    raw_request(f->srv.ipc_url, &req), ENRT_UNAUTHENTICATED);

	/* The admin's credential with its last character changed. */
	memcpy(bad, f->srv.credential, sizeof(bad));
	bad[FORMAT_SECRET_LEN - 1] =
	    bad[FORMAT_SECRET_LEN - 1] == 'a' ? 'b' : 'a';
	list_apps_request(&req, &op, bad);
	assert_reply_status(
	    raw_request(f->srv.ipc_url, &req), ENRT_UNAUTHENTICATED);
	list_apps_request(&req, &op, f->srv.credential);
	assert_reply_status(raw_request(f->srv.ipc_url, &req), ENRT_OK);
}

/* ------------------------------------------------------------------ */
/* Hostile bytes                                                       */

/* A whole call through libenrt on a connection of its own. */
static void
serves(enrt_client *c)
{
	enrt_app_page *page = NULL;
	enrt_error e;

	assert_status(enrt_app_list(c, NULL, 0, &page, &e), ENRT_OK, &e);
	enrt_app_page_free(page);
}

static void
garbage_gets_invalid_argument_and_the_server_keeps_serving(
    const fixture *f, const char *url)
{
	static const uint8_t truncated_string[] = {0x12, 0x10, 'e'};
	static const uint8_t endless_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t bad_wire_type[] = {0x0f, 0x01};
	Enrt__V1__ListAppsRequest op;
	Enrt__V1__Request req;
	uint8_t packed[512];
	size_t len;

	assert_reply_status(
	    raw_call(url, truncated_string, sizeof(truncated_string)),
	    ENRT_INVALID_ARGUMENT);
	assert_reply_status(
	    raw_call(url, endless_varint, sizeof(endless_varint)),
	    ENRT_INVALID_ARGUMENT);
	assert_reply_status(
	    raw_call(url, bad_wire_type, sizeof(bad_wire_type)),
	    ENRT_INVALID_ARGUMENT);

	/* A good request cut short in the middle of the credential. */
	list_apps_request(&req, &op, f->srv.credential);
	len = enrt__v1__request__pack(&req, packed);
	assert_in_range(len, 60, sizeof(packed));
	assert_reply_status(raw_call(url, packed, 20), ENRT_INVALID_ARGUMENT);

	assert_reply_status(raw_call(url, packed, len), ENRT_OK);
	serves(f->ipc);
}

static void
garbage_over_ipc(void **state)
{
	fixture *f = *state;

	garbage_gets_invalid_argument_and_the_server_keeps_serving(
	    f, f->srv.ipc_url);
}

static void
garbage_over_tcp(void **state)
{
	fixture *f = *state;

	garbage_gets_invalid_argument_and_the_server_keeps_serving(
	    f, f->srv.tcp_url);
}

/*
 * A request far beyond any valid one is refused or dropped, whichever
 * the transport chooses, and the server goes on serving.
 */
/* A unix socket connected to the ipc URL that has exchanged greetings. */
static int
greeted_ipc(const char *url)
{
	static const uint8_t hello[8] = {0, 'S', 'P', 0, 0, NNG_REQ0_SELF};
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct timeval limit = {.tv_sec = 5};
	uint8_t peer[8];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s",
	    url + strlen("ipc://"));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	assert_int_equal(
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(send(fd, hello, sizeof(hello), MSG_NOSIGNAL), 8);
	assert_int_equal(recv(fd, peer, sizeof(peer), MSG_WAITALL), 8);
	return fd;
}

/*
 * A 4 MiB request, framed by hand: nng's own client may hang in close
 * after such a send.  The server must drop the connection, not read on,
 * and go on serving everyone else.
 */
static void
oversized_request_is_refused_or_dropped(void **state)
{
	fixture *f = *state;
	uint8_t frame[9] = {1, 0, 0, 0, 0, 0, 0x40, 0, 0};
	uint8_t chunk[64 * 1024];
	int fd = greeted_ipc(f->srv.ipc_url);
	ssize_t sent = send(fd, frame, sizeof(frame), MSG_NOSIGNAL);
	size_t total = 0;

	memset(chunk, 0x0a, sizeof(chunk));
	while (sent > 0 && total < (4u << 20)) {
		sent = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
		total += sent > 0 ? (size_t)sent : 0;
	}
	assert_true(sent <= 0 || recv(fd, chunk, 1, 0) <= 0);
	close(fd);
	serves(f->ipc);
	serves(f->tcp);
}

static void
wire_version_other_than_one_is_invalid_argument(void **state)
{
	fixture *f = *state;
	Enrt__V1__ListAppsRequest op;
	Enrt__V1__Request req;
	Enrt__V1__Reply *reply;

	list_apps_request(&req, &op, f->srv.credential);
	req.version = 2;
	reply = raw_request(f->srv.ipc_url, &req);
	assert_non_null(strstr(reply->message, "version"));
	assert_reply_status(reply, ENRT_INVALID_ARGUMENT);
	req.version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_UNSPECIFIED;
	assert_reply_status(
	    raw_request(f->srv.ipc_url, &req), ENRT_INVALID_ARGUMENT);
	req.has_version = false;
	assert_reply_status(
	    raw_request(f->srv.ipc_url, &req), ENRT_INVALID_ARGUMENT);

	req.has_version = true;
	req.version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	assert_reply_status(raw_request(f->srv.ipc_url, &req), ENRT_OK);

	/* Version 1 and a credential, but no operation. */
	req.op_case = ENRT__V1__REQUEST__OP__NOT_SET;
	req.list_apps = NULL;
	reply = raw_request(f->srv.ipc_url, &req);
	assert_non_null(strstr(reply->message, "op"));
	assert_reply_status(reply, ENRT_INVALID_ARGUMENT);
}

/* ------------------------------------------------------------------ */
/* Many threads, one client                                            */

typedef struct worker {
	pthread_t thread;
	enrt_client *client;
	const char *app_id;
	int index;
	int ok;
	char first_error[ENRT_ERROR_MESSAGE_MAX + 64];
} worker;

static bool
worker_failed(worker *w, const char *what, const enrt_error *e)
{
	if (w->first_error[0] == '\0') {
		snprintf(w->first_error, sizeof(w->first_error), "%s: %s: %s",
		    what, enrt_status_name(e->status), e->message);
	}
	return false;
}

/* One Issue and one Introspect that must answer active, as the owner. */
static bool
worker_round(worker *w, const char *owner)
{
	enrt_issue_params p = pat_params(w->app_id);
	enrt_issued *t = NULL;
	enrt_introspection *r = NULL;
	enrt_error e = {.status = ENRT_INTERNAL, .message = "wrong answer"};
	bool ok;

	p.owner = owner;
	if (enrt_issue(w->client, &p, &t, &e) != ENRT_OK) {
		return worker_failed(w, "issue", &e);
	}
	if (enrt_introspect(w->client, t->value, strlen(t->value), &r, &e) !=
	    ENRT_OK) {
		enrt_issued_free(t);
		return worker_failed(w, "introspect", &e);
	}
	ok = r->active && strcmp(r->subject, owner) == 0 &&
	     strcmp(r->token_id, t->token.id) == 0;
	enrt_introspection_free(r);
	enrt_issued_free(t);
	return ok || worker_failed(w, "introspect", &e);
}

static void *
worker_run(void *arg)
{
	worker *w = arg;
	char owner[32];

	snprintf(owner, sizeof(owner), "user-%d", w->index);
	for (int i = 0; i < PER_THREAD; i++) {
		w->ok += worker_round(w, owner);
	}
	return NULL;
}

static void
eight_threads_share_one_client(enrt_client *c)
{
	enrt_app *app = make_app(
	    c, "Threads", ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	worker workers[THREADS] = {0};

	for (int i = 0; i < THREADS; i++) {
		workers[i].client = c;
		workers[i].app_id = app->id;
		workers[i].index = i;
		assert_int_equal(pthread_create(&workers[i].thread, NULL,
		                     worker_run, &workers[i]),
		    0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(workers[i].thread, NULL), 0);
	}

	for (int i = 0; i < THREADS; i++) {
		if (workers[i].first_error[0] != '\0') {
			print_error(
			    "thread %d: %s\n", i, workers[i].first_error);
		}
		assert_int_equal(workers[i].ok, PER_THREAD);
	}
	assert_int_equal(count_tokens(c, app->id), THREADS * PER_THREAD);
	enrt_app_free(app);
}

static void
concurrent_issue_and_introspect_over_ipc(void **state)
{
	fixture *f = *state;

	eight_threads_share_one_client(f->ipc);
}

static void
concurrent_issue_and_introspect_over_tcp(void **state)
{
	fixture *f = *state;

	eight_threads_share_one_client(f->tcp);
}

/* ------------------------------------------------------------------ */
/* Durability                                                          */

/* Acknowledged means durable: an Issue and a Revoke survive SIGKILL. */
static void
acknowledged_issue_and_revoke_survive_sigkill(void **state)
{
	fixture *f = *state;
	enrt_client *c = f->ipc;
	enrt_app *app = make_app(
	    c, "Durable", ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_issued *kept = issue_ok(c, &p);
	enrt_issued *revoked = issue_ok(c, &p);
	char credential[sizeof(f->srv.credential)];
	enrt_client *survivor = NULL;
	enrt_token_page *page;
	enrt_error e;

	assert_status(enrt_revoke_id(c, revoked->token.id, &e), ENRT_OK, &e);
	memcpy(credential, f->srv.credential, sizeof(credential));
	assert_int_equal(
	    server_client(&f->srv, f->srv.ipc_url, NULL, &survivor), 0);
	restart(f, true);
	c = f->ipc;

	/* A handle opened before the crash dials the new server itself. */
	serves(survivor);
	enrt_client_close(survivor);

	assert_string_equal(f->srv.credential, credential);
	check_app_is_listed(c, app);
	check_active(c, kept, "alice", kept->token.created_at);
	assert_inactive(c, revoked->value);
	page = list_app(c, app->id, true);
	assert_int_equal(page->n_tokens, 2);
	check_row(page, kept, app, ENRT_STATE_ACTIVE);
	check_row(page, revoked, app, ENRT_STATE_REVOKED);
	enrt_token_page_free(page);

	enrt_issued_free(kept);
	enrt_issued_free(revoked);
	enrt_app_free(app);
}

/* SIGINT stops as cleanly as SIGTERM; meanwhile calls are UNAVAILABLE. */
static void
sigint_stops_cleanly_and_calls_meanwhile_are_unavailable(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(f->ipc, "Interrupted",
	    ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_issued *t = issue_ok(f->ipc, &p);
	enrt_options quick = {.url = f->srv.ipc_url,
	    .credential = f->srv.credential,
	    .timeout_ms = 300};
	enrt_introspection *r = NULL;
	enrt_client *c = NULL;
	enrt_error e;

	assert_int_equal(server_stop_with(&f->srv, SIGINT), 0);
	assert_status(enrt_client_open(&c, &quick, &e), ENRT_OK, &e);
	assert_status(enrt_introspect(c, t->value, strlen(t->value), &r, &e),
	    ENRT_UNAVAILABLE, &e);
	assert_null(r);
	enrt_client_close(c);

	assert_int_equal(server_start(&f->srv), 0);
	assert_true(is_active(f->ipc, t->value));
	enrt_issued_free(t);
	enrt_app_free(app);
}

/* ------------------------------------------------------------------ */
/* Peers that leave at once                                            */

#define HANG_UPS     500
#define IPC_HANG_UPS 20

/*
 * Connects without blocking: a listener that stops accepting fills its
 * backlog, and a blocking connect would then wait for ever.
 */
static void
connect_now(int fd, const void *addr, socklen_t len)
{
	struct timeval limit = {.tv_sec = 2};
	int rc;

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	rc = connect(fd, (const struct sockaddr *)addr, len);
	if (rc != 0) {
		print_error("connect: %s: the listener has stopped "
		            "accepting\n",
		    strerror(errno));
	}
	assert_int_equal(rc, 0);
}

/*
 * Connects to the ipc socket and leaves: shutting down the reading side
 * first makes the server's first write (its SP header) fail at once.
 */
static void
hang_up_ipc(const char *url)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s",
	    url + strlen("ipc://"));
	connect_now(fd, &addr, sizeof(addr));
	shutdown(fd, SHUT_RD);
	close(fd);
}

/* Every other time with an abortive close (RST), else an orderly one. */
static void
hang_up_tcp(const char *url, int i)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	struct linger abort_close = {.l_onoff = 1, .l_linger = 0};
	const char *port = strrchr(url, ':');
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_non_null(port);
	addr.sin_port = htons((uint16_t)atoi(port + 1));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connect_now(fd, &addr, sizeof(addr));
	if (i % 2 == 1) {
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close,
		    sizeof(abort_close));
	}
	close(fd);
}

/*
 * A fresh connection (the fixture's clients keep theirs) is served within
 * the attempts given, each allowed a second.  An ipc listener of nng
 * before 1.6.0 that a hang-up stopped is restarted by the server's watch
 * within about two seconds; until then a call may fail.
 */
static void
new_connections_are_served(const server *s, const char *url, int attempts)
{
	enrt_options quick = {
	    .url = url, .credential = s->credential, .timeout_ms = 1000};
	enrt_app_page *page = NULL;
	enrt_client *c = NULL;
	enrt_status rc = ENRT_UNAVAILABLE;
	enrt_error e;

	for (int i = 0; i < attempts && rc != ENRT_OK; i++) {
		assert_status(enrt_client_open(&c, &quick, &e), ENRT_OK, &e);
		rc = enrt_app_list(c, NULL, 0, &page, &e);
		enrt_app_page_free(page);
		page = NULL;
		enrt_client_close(c);
	}
	assert_status(rc, ENRT_OK, &e);
}

/*
 * Port scanners, health checks and clients that exit early connect and
 * close before the SP handshake ends.  The listener must go on
 * accepting: the server answers new connections afterwards.
 */
static void
peers_that_hang_up_at_once_do_not_stop_the_listeners(void **state)
{
	fixture *f = *state;

	new_connections_are_served(&f->srv, f->srv.ipc_url, 1);
	new_connections_are_served(&f->srv, f->srv.tcp_url, 1);
	/*
	 * One ipc hang-up stops the listener of nng before 1.6.0 until the
	 * server's watch restarts it; more would only wait on the queue.
	 */
	for (int i = 0; i < IPC_HANG_UPS; i++) {
		hang_up_ipc(f->srv.ipc_url);
	}
	for (int i = 0; i < HANG_UPS; i++) {
		hang_up_tcp(f->srv.tcp_url, i);
	}
	new_connections_are_served(&f->srv, f->srv.ipc_url, 8);
	new_connections_are_served(&f->srv, f->srv.tcp_url, 2);
}

/* ------------------------------------------------------------------ */
/* Last used                                                           */

static const enrt_token *
row_of(
    enrt_token_page **page, enrt_client *c, const char *app_id, const char *id)
{
	const enrt_token *row;

	enrt_token_page_free(*page);
	*page = list_app(c, app_id, true);
	row = find_token(*page, id);
	assert_non_null(row);
	return row;
}

/* Polls the listing until the token shows a last-used time. */
static int64_t
wait_for_last_used(enrt_client *c, const char *app_id, const char *id)
{
	struct timespec pause = {.tv_nsec = 100 * 1000000L};
	enrt_token_page *page = NULL;
	const enrt_token *row;
	int64_t when = -1;

	for (int i = 0; i < LAST_USED_MS / 100 && when < 0; i++) {
		row = row_of(&page, c, app_id, id);
		if (row->has_last_used_at) {
			when = row->last_used_at;
		} else {
			nanosleep(&pause, NULL);
		}
	}
	enrt_token_page_free(page);
	if (when < 0) {
		print_error(
		    "no last_used for %s after %d ms\n", id, LAST_USED_MS);
	}
	assert_true(when >= 0);
	return when;
}

static bool
has_last_used(enrt_client *c, const char *app_id, const char *id)
{
	enrt_token_page *page = NULL;
	bool has = row_of(&page, c, app_id, id)->has_last_used_at;

	enrt_token_page_free(page);
	return has;
}

/*
 * What the store on disk holds, apart from uses still pending in the
 * server's memory (which listings include).  LMDB lets this process
 * read the environment while the server writes it.
 */
static bool
stored_last_used(const server *s, const char *id, int64_t *when)
{
	char path[SERVER_PATH_MAX + 16];
	store *st = NULL;
	store_txn *t = NULL;
	enrt_status rc;

	snprintf(path, sizeof(path), "%s/store", s->data);
	assert_int_equal(store_open(&st, path, NULL), ENRT_OK);
	assert_int_equal(store_begin_read(st, &t), ENRT_OK);
	rc = store_last_used_get(t, id, when);
	store_abort(t);
	store_close(st);
	assert_true(rc == ENRT_OK || rc == ENRT_NOT_FOUND);
	return rc == ENRT_OK;
}

/* Polls the store until the flusher has written the token's use. */
static int64_t
wait_for_flush(const server *s, const char *id)
{
	struct timespec pause = {.tv_nsec = 50 * 1000000L};
	int64_t when = -1;

	for (int i = 0; i < LAST_USED_MS / 50; i++) {
		if (stored_last_used(s, id, &when)) {
			return when;
		}
		nanosleep(&pause, NULL);
	}
	print_error(
	    "%s: no last-used time written in %d ms\n", id, LAST_USED_MS);
	fail();
	return -1;
}

/*
 * With --flush-interval 1 the use reaches the disk while the server
 * runs: it survives SIGKILL, and then a clean stop and start.  Only an
 * active answer is a use; the inactive introspect comes first, so the
 * flush that wrote the active one's use had seen both.
 */
static void
last_used_is_flushed_listed_and_survives_restarts(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(
	    f->ipc, "Last used", ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_issued *used = issue_ok(f->ipc, &p);
	enrt_issued *revoked = issue_ok(f->ipc, &p);
	int64_t before, when, listed;
	enrt_error e;

	assert_false(has_last_used(f->ipc, app->id, used->token.id));
	assert_status(
	    enrt_revoke_id(f->ipc, revoked->token.id, &e), ENRT_OK, &e);
	assert_inactive(f->ipc, revoked->value);
	before = now();
	assert_true(is_active(f->ipc, used->value));

	when = wait_for_flush(&f->srv, used->token.id);
	assert_in_range(when, before, now());
	listed = wait_for_last_used(f->ipc, app->id, used->token.id);
	assert_int_equal(listed, when);
	assert_false(stored_last_used(&f->srv, revoked->token.id, &listed));

	restart(f, true);
	assert_int_equal(
	    wait_for_last_used(f->ipc, app->id, used->token.id), when);
	restart(f, false);
	assert_int_equal(
	    wait_for_last_used(f->ipc, app->id, used->token.id), when);
	assert_false(has_last_used(f->ipc, app->id, revoked->token.id));
	enrt_issued_free(used);
	enrt_issued_free(revoked);
	enrt_app_free(app);
}

/* With the default interval nothing is due yet: SIGTERM flushes it. */
static void
clean_stop_flushes_pending_last_used(void **state)
{
	fixture *f = *state;
	enrt_client *c = f->ipc;
	enrt_app *app = make_app(
	    c, "Flush on stop", ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_issued *t = issue_ok(c, &p);
	int64_t before = now();

	assert_true(is_active(c, t->value));
	restart(f, false);
	c = f->ipc;
	assert_true(has_last_used(c, app->id, t->token.id));
	assert_in_range(
	    wait_for_last_used(c, app->id, t->token.id), before, now());
	enrt_issued_free(t);
	enrt_app_free(app);
}

/* ------------------------------------------------------------------ */
/* What the data directory holds                                       */

#define SECRETS_MAX 8

typedef struct secrets {
	const char *values[SECRETS_MAX];
	size_t n_values;
	const char *credential;
	char credential_files[4][SERVER_PATH_MAX + 64];
	size_t n_credential_files;
	int files;
} secrets;

/* nftw passes no argument of ours: the scan runs on one thread. */
static secrets *scan;

static void
check_bytes(const char *path, const char *bytes, size_t len)
{
	for (size_t i = 0; i < scan->n_values; i++) {
		const char *v = scan->values[i];

		if (memmem(bytes, len, v, strlen(v)) != NULL ||
		    memmem(bytes, len, v + 5, strlen(v) - 5) != NULL) {
			print_error("%s holds token value %zu\n", path, i);
			fail();
		}
	}
	if (memmem(bytes, len, scan->credential, ENRT_TOKEN_LEN) != NULL ||
	    memmem(bytes, len, scan->credential + 5, ENRT_TOKEN_LEN - 5) !=
	        NULL) {
		assert_true(scan->n_credential_files < 4);
		snprintf(scan->credential_files[scan->n_credential_files++],
		    sizeof(scan->credential_files[0]), "%s", path);
	}
}

static int
scan_file(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	size_t len = 0;
	char *bytes;

	if (flag != FTW_F || !S_ISREG(st->st_mode)) {
		return 0;
	}
	bytes = server_read_file(path, &len);
	assert_non_null(bytes);
	assert_int_equal(len, (size_t)st->st_size);
	check_bytes(path, bytes, len);
	scan->files++;
	free(bytes);
	return 0;
}

static void
scan_tree(secrets *sec, const char *dir)
{
	scan = sec;
	assert_int_equal(nftw(dir, scan_file, 16, FTW_PHYS), 0);
	scan = NULL;
}

/* Tokens of each kind and state, and a value that was introspected. */
static void
issue_assorted(enrt_client *c, secrets *sec, enrt_issued **keep)
{
	enrt_app *app = make_app(
	    c, "Secrets", ENRT_POLICY_AUTHENTICATED_USERS, 0, NULL, 0);
	enrt_issue_params p = pat_params(app->id);
	enrt_error e;

	for (int i = 0; i < 4; i++) {
		p.kind = i % 2 ? ENRT_KIND_SAT : ENRT_KIND_PAT;
		p.owner = i % 2 ? NULL : "alice";
		keep[i] = issue_ok(c, &p);
		sec->values[sec->n_values++] = keep[i]->value;
	}
	assert_true(is_active(c, keep[0]->value));
	assert_status(enrt_revoke_id(c, keep[1]->token.id, &e), ENRT_OK, &e);
	assert_status(
	    enrt_revoke_value(c, keep[2]->value, strlen(keep[2]->value), &e),
	    ENRT_OK, &e);
	enrt_app_free(app);
}

static void
data_directory_holds_no_token_value_and_one_credential_copy(void **state)
{
	fixture *f = *state;
	server *s = &f->srv;
	secrets sec = {.credential = s->credential};
	enrt_issued *issued[4];
	char path[SERVER_PATH_MAX + 32];

	issue_assorted(f->ipc, &sec, issued);
	assert_int_equal(server_stop(s), 0);

	scan_tree(&sec, s->data);
	assert_true(sec.files >= 3);
	assert_int_equal(sec.n_credential_files, 1);
	snprintf(path, sizeof(path), "%s/admin.credential", s->data);
	assert_string_equal(sec.credential_files[0], path);

	/* The log, at debug level, names tokens only by id. */
	sec.n_credential_files = 0;
	scan_tree(&sec, s->log);
	assert_int_equal(sec.n_credential_files, 0);

	for (int i = 0; i < 4; i++) {
		enrt_issued_free(issued[i]);
	}
}

static void
assert_mode(const char *dir, const char *name, mode_t want)
{
	char path[SERVER_PATH_MAX + 32];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	if ((st.st_mode & 07777) != want) {
		print_error("%s: mode %o\n", path, st.st_mode & 07777);
	}
	assert_int_equal(st.st_mode & 07777, want);
}

static void
first_start_makes_private_key_and_credential_files(void **state)
{
	fixture *f = *state;
	size_t len = 0;
	char path[SERVER_PATH_MAX + 32];
	char *key;

	assert_mode(f->srv.data, ".", 0700);
	assert_mode(f->srv.data, "digest.key", 0600);
	assert_mode(f->srv.data, "admin.credential", 0600);
	assert_mode(f->srv.data, "store", 0700);

	snprintf(path, sizeof(path), "%s/digest.key", f->srv.data);
	key = server_read_file(path, &len);
	assert_non_null(key);
	assert_int_equal(len, 32);
	free(key);
	assert_memory_equal(f->srv.credential, "enrc_", 5);
}

int
main(void)
{
	const struct CMUnitTest shared[] = {
	    cmocka_unit_test(
	        first_start_makes_private_key_and_credential_files),
	    cmocka_unit_test(walk_through_over_ipc),
	    cmocka_unit_test(walk_through_over_tcp),
	    cmocka_unit_test(owner_listing_and_revoking_unknown_tokens),
	    cmocka_unit_test(
	        policy_none_refuses_issue_with_failed_precondition),
	    cmocka_unit_test(
	        administrators_only_refuses_a_pat_for_a_non_admin),
	    cmocka_unit_test(
	        issue_refuses_expiry_in_the_past_or_beyond_the_lifetime),
	    cmocka_unit_test(unlimited_app_issues_a_token_that_never_expires),
	    cmocka_unit_test(
	        issue_refuses_missing_malformed_and_too_many_scopes),
	    cmocka_unit_test(
	        issue_keeps_scopes_at_the_limits_and_merges_duplicates),
	    cmocka_unit_test(issue_refuses_scopes_the_app_does_not_allow),
	    cmocka_unit_test(issue_refuses_bad_descriptions),
	    cmocka_unit_test(issue_refuses_an_unknown_app_with_not_found),
	    cmocka_unit_test(
	        disabled_app_refuses_issue_and_suspends_its_tokens),
	    cmocka_unit_test(misplaced_token_value_is_not_echoed_in_errors),
	    cmocka_unit_test(
	        unknown_credential_is_unauthenticated_and_changes_nothing),
	    cmocka_unit_test(
	        missing_or_malformed_credential_is_unauthenticated),
	    cmocka_unit_test(garbage_over_ipc),
	    cmocka_unit_test(garbage_over_tcp),
	    cmocka_unit_test(oversized_request_is_refused_or_dropped),
	    cmocka_unit_test(wire_version_other_than_one_is_invalid_argument),
	    cmocka_unit_test(concurrent_issue_and_introspect_over_ipc),
	    cmocka_unit_test(concurrent_issue_and_introspect_over_tcp),
	    cmocka_unit_test(client_as_refuses_a_person_without_a_user_id),
	    cmocka_unit_test(views_act_for_their_person_only),
	    cmocka_unit_test(views_share_the_connection_and_see_eligible_apps),
	    cmocka_unit_test(
	        batch_answers_in_order_as_single_introspects_would),
	    cmocka_unit_test(
	        batch_takes_up_to_128_tokens_and_refuses_more_locally),
	    cmocka_unit_test(
	        batch_of_a_limited_caller_answers_other_apps_inactive),
	    cmocka_unit_test(revoked_caller_is_listed_and_unauthenticated),
	    cmocka_unit_test(
	        users_are_disabled_enabled_and_deleted_with_audit),
	};
	const struct CMUnitTest restarts[] = {
#define OWN(test, setup) cmocka_unit_test_setup_teardown(test, setup, stop_own)
	    OWN(acknowledged_issue_and_revoke_survive_sigkill,
	        start_own_default),
	    OWN(last_used_is_flushed_listed_and_survives_restarts,
	        start_own_flush_every_second),
	    OWN(clean_stop_flushes_pending_last_used, start_own_default),
	    OWN(sigint_stops_cleanly_and_calls_meanwhile_are_unavailable,
	        start_own_default),
	    OWN(peers_that_hang_up_at_once_do_not_stop_the_listeners,
	        start_own_with_tcp_past_nng_leaks),
	    OWN(data_directory_holds_no_token_value_and_one_credential_copy,
	        start_own_default),
	};
	int failed;

	if (sodium_init() < 0) {
		return 1;
	}
	failed = cmocka_run_group_tests_name(
	    "shared server", shared, start_shared, stop_shared);
	failed +=
	    cmocka_run_group_tests_name("own servers", restarts, NULL, NULL);
	return failed;
}
