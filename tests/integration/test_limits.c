/*
 * Limits against a real enrtd through libenrt: the expiry instants where
 * 32-bit times end and the last second of year 9999 come back exactly
 * from Issue, Introspect and ListTokens, before and after a restart (so
 * from the store, not from memory); instants past the limits are refused
 * with a message that names the field and reaches the caller whole; and
 * nothing is written by a refusal.  tests/unit/test_hostile.c holds the
 * field-by-field tables; this is the same server seen from a client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "enrt.h"
#include "server.h"

#define N_EDGES 5
#define OWNER   "edge"

/* 2^31 - 1 and 2^31 (2038), 2^32 - 1 and 2^32 (2106), 9999-12-31. */
static const int64_t edges[N_EDGES] = {INT64_C(2147483647),
    INT64_C(2147483648), INT64_C(4294967295), INT64_C(4294967296),
    ENRT_TIME_MAX};

typedef struct fixture {
	server srv;
	enrt_client *admin;
	char *app_id; /* unlimited lifetime */
	char values[N_EDGES][ENRT_TOKEN_LEN + 1];
	char ids[N_EDGES][64];
} fixture;

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	enrt_app_params p = {.name = "Far future",
	    .set_policy = true,
	    .policy = ENRT_POLICY_AUTHENTICATED_USERS,
	    .system_user = "svc-far",
	    .set_max_lifetime = true,
	    .unlimited_lifetime = true};
	enrt_app *app = NULL;
	enrt_error e;

	if (f == NULL || server_init(&f->srv, false, 0) != 0 ||
	    server_start(&f->srv) != 0 ||
	    server_client(&f->srv, f->srv.ipc_url, NULL, &f->admin) != 0) {
		return -1;
	}
	assert_status(enrt_app_create(f->admin, &p, &app, &e), ENRT_OK, &e);
	f->app_id = strdup(app->id);
	enrt_app_free(app);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	enrt_client_close(f->admin);
	assert_int_equal(server_stop(&f->srv), 0);
	server_destroy(&f->srv);
	free(f->app_id);
	free(f);
	return 0;
}

static enrt_issue_params
pat(const fixture *f, int64_t expires_at)
{
	static const char *const scopes[] = {"read"};

	return (enrt_issue_params){.app_id = f->app_id,
	    .kind = ENRT_KIND_PAT,
	    .has_expires_at = true,
	    .expires_at = expires_at,
	    .scopes = scopes,
	    .n_scopes = 1,
	    .owner = OWNER};
}

static enrt_token_page *
owner_tokens(const fixture *f)
{
	enrt_list_params p = {.owner = OWNER, .include_inactive = true};
	enrt_token_page *page = NULL;
	enrt_error e;

	assert_status(enrt_list_tokens(f->admin, &p, &page, &e), ENRT_OK, &e);
	assert_null(page->next_cursor);
	return page;
}

static int64_t
listed_expiry(const enrt_token_page *page, const char *id)
{
	for (size_t i = 0; i < page->n_tokens; i++) {
		if (strcmp(page->tokens[i].id, id) == 0) {
			assert_true(page->tokens[i].has_expires_at);
			return page->tokens[i].expires_at;
		}
	}
	fail_msg("token %s is not listed", id);
	return -1;
}

static int64_t
introspected_expiry(const fixture *f, const char *value)
{
	enrt_introspection *r = NULL;
	enrt_error e;
	int64_t at;

	assert_status(enrt_introspect(f->admin, value, strlen(value), &r, &e),
	    ENRT_OK, &e);
	assert_true(r->active);
	assert_true(r->has_expires_at);
	at = r->expires_at;
	enrt_introspection_free(r);
	return at;
}

/*
 * Every edge token, as listed and introspected, holds its instant.  The
 * edges run in time order, so the ones issued are the last issued.
 */
static void
assert_edges_hold(const fixture *f, int issued)
{
	enrt_token_page *page = owner_tokens(f);

	assert_int_equal(page->n_tokens, issued);
	for (int i = N_EDGES - issued; i < N_EDGES; i++) {
		assert_int_equal(listed_expiry(page, f->ids[i]), edges[i]);
		assert_int_equal(
		    introspected_expiry(f, f->values[i]), edges[i]);
	}
	enrt_token_page_free(page);
}

static void
expiry_edges_round_trip_exactly_across_a_restart(void **state)
{
	fixture *f = *state;
	int64_t now = (int64_t)time(NULL);
	int issued = 0;

	for (int i = 0; i < N_EDGES; i++) {
		enrt_issue_params p = pat(f, edges[i]);
		enrt_issued *t = NULL;
		enrt_error e;

		if (edges[i] <= now) {
			continue; /* an edge in the past cannot be issued */
		}
		assert_status(enrt_issue(f->admin, &p, &t, &e), ENRT_OK, &e);
		assert_true(t->token.has_expires_at);
		assert_int_equal(t->token.expires_at, edges[i]);
		snprintf(f->values[i], sizeof(f->values[i]), "%s", t->value);
		snprintf(f->ids[i], sizeof(f->ids[i]), "%s", t->token.id);
		enrt_issued_free(t);
		issued++;
	}
	assert_edges_hold(f, issued);

	enrt_client_close(f->admin);
	f->admin = NULL;
	assert_int_equal(server_stop(&f->srv), 0);
	assert_int_equal(server_start(&f->srv), 0);
	assert_int_equal(
	    server_client(&f->srv, f->srv.ipc_url, NULL, &f->admin), 0);
	assert_edges_hold(f, issued);
}

/* Instants no token may carry, each refused with its rule in words. */
static void
instants_past_the_limits_are_refused_and_write_nothing(void **state)
{
	static const struct {
		int64_t at;
		const char *words;
	} cases[] = {
	    {INT64_MIN, "expires_at: must be in the future"},
	    {-1, "expires_at: must be in the future"},
	    {0, "expires_at: must be in the future"},
	    {ENRT_TIME_MAX + 1, "expires_at: must be no later than "
	                        "9999-12-31T23:59:59Z"},
	    {INT64_MAX, "expires_at: must be no later than "
	                "9999-12-31T23:59:59Z"},
	};
	fixture *f = *state;
	enrt_token_page *page;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enrt_issue_params p = pat(f, cases[i].at);
		enrt_issued *t = NULL;
		enrt_error e;

		assert_status(enrt_issue(f->admin, &p, &t, &e),
		    ENRT_INVALID_ARGUMENT, &e);
		assert_null(t);
		if (strstr(e.message, cases[i].words) == NULL) {
			fail_msg(
			    "%lld: \"%s\"", (long long)cases[i].at, e.message);
		}
	}
	page = owner_tokens(f);
	assert_int_equal(page->n_tokens, 0);
	enrt_token_page_free(page);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(expiry_edges_round_trip_exactly_across_a_restart),
	    T(instants_past_the_limits_are_refused_and_write_nothing),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
