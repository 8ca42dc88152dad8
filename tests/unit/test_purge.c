/*
 * The purge against a real store in a temporary directory: tokens made
 * and read through the rules, as requests would, and sweeps run at times
 * the tests choose.
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
#include <sodium.h>

#include "apps.h"
#include "fixture.h"
#include "log.h"
#include "purge.h"
#include "reply.h"
#include "rules.h"

#define NOW       INT64_C(1800000000)
#define DAY       INT64_C(86400)
#define RETENTION (30 * DAY)

typedef struct fixture {
	store_fixture s;
	char *app;
} fixture;

static void
must(enrt_status got, const err *e)
{
	if (got != ENRT_OK) {
		print_error("message: %s\n", e->message);
	}
	assert_int_equal(got, ENRT_OK);
}

static char *
make_app(fixture *f, bool unlimited)
{
	Enrt__V1__CreateAppRequest req = ENRT__V1__CREATE_APP_REQUEST__INIT;
	Enrt__V1__App *app = NULL;
	char *id;

	req.name = unlimited ? "forever" : "apps";
	req.has_policy = true;
	req.policy = ENRT__V1__POLICY__AUTHENTICATED_USERS;
	req.system_user = "svc";
	req.has_unlimited_lifetime = req.unlimited_lifetime = unlimited;
	must(apps_create(&f->s.rules, &f->s.actor, &req, &app, &f->s.e),
	    &f->s.e);
	id = strdup(app->id);
	reply_free(app);
	return id;
}

static int
setup(void **state)
{
	static const uint8_t key[RULES_KEY_LEN] = {7};
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	store_fixture_open(&f->s, "purge", key, NULL, NOW);
	f->app = make_app(f, false);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	free(f->app);
	store_fixture_close(&f->s);
	free(f);
	return 0;
}

/* A token of app that expires at expires (0: never); its value. */
static char *
issue(fixture *f, const char *app, int64_t expires, char **id)
{
	Enrt__V1__IssueRequest req = ENRT__V1__ISSUE_REQUEST__INIT;
	Enrt__V1__IssueReply *reply = NULL;
	static char *scopes[] = {"read"};
	char *value;

	req.app_id = (char *)app;
	req.has_kind = true;
	req.kind = ENRT__V1__TOKEN_KIND__PAT;
	req.owner = "alice";
	req.has_expires_at = expires != 0;
	req.expires_at = expires;
	req.scopes = scopes;
	req.n_scopes = 1;
	must(rules_issue(&f->s.rules, &f->s.actor, &req, &reply, &f->s.e),
	    &f->s.e);
	value = strdup(reply->token);
	*id = strdup(reply->info->id);
	reply_free(reply);
	return value;
}

static void
revoke(fixture *f, const char *id)
{
	Enrt__V1__RevokeRequest req = ENRT__V1__REVOKE_REQUEST__INIT;
	Enrt__V1__RevokeReply *reply = NULL;

	req.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_ID;
	req.token_id = (char *)id;
	must(rules_revoke(&f->s.rules, &f->s.actor, &req, &reply, &f->s.e),
	    &f->s.e);
	assert_int_equal(reply->revoked, 1);
	reply_free(reply);
}

/* Whether the app's listing, expired and revoked included, shows id. */
static bool
listed(fixture *f, const char *app, const char *id)
{
	Enrt__V1__ListTokensRequest req = ENRT__V1__LIST_TOKENS_REQUEST__INIT;
	Enrt__V1__ListTokensReply *reply = NULL;
	bool found = false;

	req.app_id = (char *)app;
	req.has_include_inactive = req.include_inactive = true;
	must(
	    rules_list_tokens(&f->s.rules, &f->s.actor, &req, &reply, &f->s.e),
	    &f->s.e);
	assert_null(reply->next_cursor);
	for (size_t i = 0; i < reply->n_tokens; i++) {
		found = found || strcmp(reply->tokens[i]->id, id) == 0;
	}
	reply_free(reply);
	return found;
}

typedef struct tally {
	const char *target;
	size_t n;
} tally;

static store_visit
count_target(void *arg, const store_event *ev)
{
	tally *t = arg;

	if (ev->target_id != NULL && strcmp(ev->target_id, t->target) == 0) {
		t->n++;
	}
	return STORE_CONTINUE;
}

/* How many audit events name id as their target. */
static size_t
events_of(fixture *f, const char *id)
{
	tally count = {.target = id};
	char next[STORE_CURSOR_MAX];
	store_txn *t;

	assert_int_equal(store_begin_read(f->s.store, &t), ENRT_OK);
	assert_int_equal(
	    store_event_scan(t, INT64_MIN, NULL, count_target, &count, next),
	    ENRT_OK);
	store_abort(t);
	return count.n;
}

static size_t
sweep(fixture *f, int64_t now)
{
	size_t removed = 99;

	assert_int_equal(
	    purge_sweep(f->s.store, now, RETENTION, &removed), ENRT_OK);
	return removed;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */

static void
a_revoked_token_goes_once_the_retention_has_passed(void **state)
{
	fixture *f = *state;
	char *gone_id, *kept_id;
	char *gone = issue(f, f->app, NOW + 300 * DAY, &gone_id);
	char *kept = issue(f, f->app, NOW + 300 * DAY, &kept_id);

	revoke(f, gone_id);
	assert_int_equal(sweep(f, NOW + RETENTION - 1), 0);
	assert_true(listed(f, f->app, gone_id));

	assert_int_equal(sweep(f, NOW + RETENTION), 1);
	assert_false(listed(f, f->app, gone_id));
	assert_false(store_fixture_active(&f->s, gone, NOW));
	assert_true(listed(f, f->app, kept_id));
	assert_true(store_fixture_active(&f->s, kept, NOW + RETENTION));
	assert_int_equal(events_of(f, gone_id), 2); /* issue, revoke */
	free(gone);
	free(gone_id);
	free(kept);
	free(kept_id);
}

static void
an_expired_token_goes_and_an_unexpired_one_stays(void **state)
{
	fixture *f = *state;
	char *old_id, *young_id, *never_id;
	char *forever = make_app(f, true);
	char *old = issue(f, f->app, NOW + DAY, &old_id);
	char *young = issue(f, f->app, NOW + 200 * DAY, &young_id);
	char *never = issue(f, forever, 0, &never_id);

	assert_int_equal(sweep(f, NOW + DAY + RETENTION - 1), 0);
	assert_true(listed(f, f->app, old_id));

	assert_int_equal(sweep(f, NOW + DAY + RETENTION), 1);
	assert_false(listed(f, f->app, old_id));
	assert_false(store_fixture_active(&f->s, old, NOW));
	assert_true(listed(f, f->app, young_id));
	assert_true(store_fixture_active(&f->s, young, NOW + DAY + RETENTION));

	/* Without expiry and unrevoked, a token never goes. */
	assert_int_equal(sweep(f, NOW + 100000 * DAY), 1); /* young's turn */
	assert_true(listed(f, forever, never_id));
	assert_true(store_fixture_active(&f->s, never, NOW + 100000 * DAY));
	assert_int_equal(events_of(f, old_id), 1);
	free(forever);
	free(old);
	free(old_id);
	free(young);
	free(young_id);
	free(never);
	free(never_id);
}

static void
a_sweep_goes_on_past_one_batch(void **state)
{
	fixture *f = *state;
	enum { MANY = PURGE_BATCH * 2 + 5 };
	char *ids[MANY], *values[MANY], *kept_id;
	char *kept = issue(f, f->app, NOW + 300 * DAY, &kept_id);

	for (int i = 0; i < MANY; i++) {
		values[i] = issue(f, f->app, NOW + DAY, &ids[i]);
	}
	assert_int_equal(sweep(f, NOW + DAY + RETENTION), MANY);
	for (int i = 0; i < MANY; i++) {
		assert_false(listed(f, f->app, ids[i]));
		free(ids[i]);
		free(values[i]);
	}
	assert_true(listed(f, f->app, kept_id));
	assert_int_equal(sweep(f, NOW + DAY + RETENTION), 0);
	free(kept);
	free(kept_id);
}

static void
the_sweeping_thread_starts_with_a_sweep_and_stops(void **state)
{
	fixture *f = *state;
	purge_options o = {.retention_s = 0, .interval_ms = 3600 * 1000};
	char *id, *value;
	purge *p;

	/* The thread's clock is the wall clock.  Revoked now, a token goes
	 * at once with no retention: the first sweep is at start, and
	 * stopping does not wait for the interval. */
	f->s.actor.now = (int64_t)time(NULL);
	value = issue(f, f->app, f->s.actor.now + DAY, &id);
	revoke(f, id);
	assert_int_equal(purge_start(&p, f->s.store, &o), ENRT_OK);
	purge_stop(p);
	assert_false(listed(f, f->app, id));
	free(value);
	free(id);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        a_revoked_token_goes_once_the_retention_has_passed, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        an_expired_token_goes_and_an_unexpired_one_stays, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        a_sweep_goes_on_past_one_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        the_sweeping_thread_starts_with_a_sweep_and_stops, setup,
	        teardown),
	};

	if (sodium_init() < 0) {
		return 1;
	}
	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
