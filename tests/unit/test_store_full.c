/*
 * The rules over a store whose map is full: writes are refused with
 * RESOURCE_EXHAUSTED and a message naming map-size, while Introspect,
 * listings and a person already known go on.  A real store in a
 * temporary directory, with a map of a few hundred KiB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "apps.h"
#include "fixture.h"
#include "log.h"
#include "reply.h"
#include "rules.h"

#define NOW        INT64_C(1800000000)
#define DAY        INT64_C(86400)
#define WRITES_MAX 100000
#define MAP_PAGES  96

typedef struct fixture {
	store_fixture s;
	store_caller portal;
	char *app;
} fixture;

static void
must(enrt_status got, const err *e)
{
	if (got != ENRT_OK) {
		print_error("%s: %s\n", enrt_status_name(got), e->message);
	}
	assert_int_equal(got, ENRT_OK);
}

static int
setup(void **state)
{
	static const uint8_t key[RULES_KEY_LEN] = {9};
	Enrt__V1__CreateAppRequest req = ENRT__V1__CREATE_APP_REQUEST__INIT;
	store_options so = {.map_size = MAP_PAGES * sysconf(_SC_PAGESIZE)};
	Enrt__V1__App *app = NULL;
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	store_fixture_open(&f->s, "full", key, &so, NOW);

	req.name = "full";
	req.has_policy = true;
	req.policy = ENRT__V1__POLICY__AUTHENTICATED_USERS;
	req.system_user = "svc";
	must(apps_create(&f->s.rules, &f->s.actor, &req, &app, &f->s.e),
	    &f->s.e);
	f->app = strdup(app->id);
	reply_free(app);

	/* A portal caller is a role and an id to the rules. */
	enrt__v1__caller_record__init(&f->portal);
	f->portal.id = "cal_portal";
	f->portal.has_role = true;
	f->portal.role = ENRT__V1__ROLE__PORTAL;
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

static enrt_status
issue(fixture *f, const char *owner, char **value)
{
	Enrt__V1__IssueRequest req = ENRT__V1__ISSUE_REQUEST__INIT;
	Enrt__V1__IssueReply *reply = NULL;
	static char *scopes[] = {"read"};
	enrt_status rc;

	req.app_id = f->app;
	req.has_kind = true;
	req.kind = ENRT__V1__TOKEN_KIND__PAT;
	req.owner = (char *)owner;
	req.has_expires_at = true;
	req.expires_at = NOW + 30 * DAY;
	req.scopes = scopes;
	req.n_scopes = 1;
	rc = rules_issue(&f->s.rules, &f->s.actor, &req, &reply, &f->s.e);
	if (rc == ENRT_OK && value != NULL) {
		*value = strdup(reply->token);
	}
	reply_free(reply);
	return rc;
}

/* The portal caller acting for user_id at time now. */
static actor
person(fixture *f, const Enrt__V1__Person *p, int64_t now)
{
	actor a = {.caller = &f->portal, .person = p, .now = now};

	return a;
}

static enrt_status
sync_person(fixture *f, const char *user_id, int64_t now)
{
	Enrt__V1__Person p = ENRT__V1__PERSON__INIT;
	actor a;

	p.user_id = (char *)user_id;
	a = person(f, &p, now);
	f->s.e.code = ENRT_OK;
	return rules_sync_person(&f->s.rules, &a, &f->s.e);
}

/* New persons named prefix-N until one is refused. */
static void
add_persons(fixture *f, const char *prefix)
{
	enrt_status rc = ENRT_OK;
	char id[32];

	for (int n = 0; rc == ENRT_OK && n < WRITES_MAX; n++) {
		snprintf(id, sizeof(id), "%s-%d", prefix, n);
		rc = sync_person(f, id, NOW);
	}
	assert_int_equal(rc, ENRT_RESOURCE_EXHAUSTED);
}

/*
 * Rewrites the user's record as seen at now, as the rules would, in a
 * transaction of its own; false when the map refuses it (and then
 * nothing changed).
 */
static bool
seen_fits(fixture *f, const char *user_id, int64_t now)
{
	store_user *u;
	store_txn *t;

	assert_int_equal(store_begin_write(f->s.store, &t), ENRT_OK);
	assert_int_equal(store_user_get(t, user_id, &u), ENRT_OK);
	u->last_seen_at = now;
	store_user_put(t, u);
	store_free(u);
	return store_commit(t) == ENRT_OK;
}

/*
 * Fills the map: tokens until Issue is refused, then persons until not
 * even user_id's last-seen time can be written.  LMDB reuses the pages
 * that earlier commits freed, so a small rewrite fits long after a
 * large write was refused, unless a reader holds an older snapshot, as
 * the server's readers do under load: the caller holds one.
 */
static void
fill(fixture *f, const char *user_id, int64_t now)
{
	enrt_status rc = ENRT_OK;
	char prefix[16];
	int round;

	for (int n = 0; rc == ENRT_OK && n < WRITES_MAX; n++) {
		rc = issue(f, "alice", NULL);
	}
	assert_int_equal(rc, ENRT_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(f->s.e.message, "map-size"));
	for (round = 0; round < 26 && seen_fits(f, user_id, now); round++) {
		snprintf(prefix, sizeof(prefix), "%c", 'a' + round);
		add_persons(f, prefix);
	}
	assert_true(round < 26);
}

static size_t
own_tokens(fixture *f, const char *user_id, int64_t now, err *e)
{
	Enrt__V1__ListTokensRequest req = ENRT__V1__LIST_TOKENS_REQUEST__INIT;
	Enrt__V1__ListTokensReply *reply = NULL;
	Enrt__V1__Person p = ENRT__V1__PERSON__INIT;
	actor a;
	size_t n;

	p.user_id = (char *)user_id;
	a = person(f, &p, now);
	must(rules_list_tokens(&f->s.rules, &a, &req, &reply, e), e);
	n = reply->n_tokens;
	reply_free(reply);
	return n;
}

static void
a_known_person_reads_on_a_map_too_full_to_note_when_seen(void **state)
{
	fixture *f = *state;
	store_txn *reader;
	char *value = NULL;

	must(sync_person(f, "bob", NOW), &f->s.e);
	must(issue(f, "bob", &value), &f->s.e);
	assert_int_equal(store_begin_read(f->s.store, &reader), ENRT_OK);
	fill(f, "bob", NOW + 1);

	/* Bob is as stored but for when he was last seen: he goes on. */
	must(sync_person(f, "bob", NOW + 120), &f->s.e);
	assert_int_equal(f->s.e.code, ENRT_OK);
	assert_int_equal(own_tokens(f, "bob", NOW + 120, &f->s.e), 1);
	assert_true(store_fixture_active(&f->s, value, NOW + 120));
	store_abort(reader);
	free(value);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        a_known_person_reads_on_a_map_too_full_to_note_when_seen,
	        setup, teardown),
	};

	if (sodium_init() < 0) {
		return 1;
	}
	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
