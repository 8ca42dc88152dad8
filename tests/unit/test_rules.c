/*
 * The rules of DESIGN sections 3, 5 and 6 for apps and tokens, against a
 * real store in a temporary directory, with the clock set by each test.
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
#include "format.h"
#include "log.h"
#include "reply.h"
#include "rules.h"

#define NOW INT64_C(1800000000)
#define DAY INT64_C(86400)

typedef store_fixture fixture;

static int
setup(void **state)
{
	static const uint8_t key[RULES_KEY_LEN] = {1, 2, 3};
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	store_fixture_open(f, "rules", key, NULL, NOW);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	store_fixture_close(*state);
	free(*state);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static char *
make_app(fixture *f, const char *name, Enrt__V1__Policy policy, int days,
    const char **scopes, size_t n_scopes)
{
	Enrt__V1__CreateAppRequest req = ENRT__V1__CREATE_APP_REQUEST__INIT;
	Enrt__V1__App *app = NULL;
	char *id;

	req.name = (char *)name;
	req.has_policy = true;
	req.policy = policy;
	req.system_user = "svc-robot";
	req.allowed_scopes = (char **)scopes;
	req.n_allowed_scopes = n_scopes;
	if (days < 0) {
		req.has_unlimited_lifetime = req.unlimited_lifetime = true;
	} else if (days > 0) {
		req.has_max_lifetime_days = true;
		req.max_lifetime_days = (uint32_t)days;
	}
	assert_status(apps_create(&f->rules, &f->actor, &req, &app, &f->e),
	    ENRT_OK, &f->e);
	id = strdup(app->id);
	reply_free(app);
	return id;
}

typedef struct issue_args {
	const char *app_id;
	Enrt__V1__TokenKind kind;
	bool no_expiry;
	int64_t expires_at; /* 0: NOW + 30 days */
	const char *scopes[40];
	size_t n_scopes; /* 0: one scope, "read" */
	const char *description;
	const char *owner; /* PAT: "alice" unless given */
} issue_args;

static enrt_status
issue(fixture *f, const issue_args *args, Enrt__V1__IssueReply **out)
{
	Enrt__V1__IssueRequest req = ENRT__V1__ISSUE_REQUEST__INIT;
	static const char *read_scope[] = {"read"};

	req.app_id = (char *)args->app_id;
	req.has_kind = true;
	req.kind = args->kind == 0 ? ENRT__V1__TOKEN_KIND__PAT : args->kind;
	req.has_expires_at = !args->no_expiry;
	req.expires_at = args->expires_at ? args->expires_at : NOW + 30 * DAY;
	req.scopes = (char **)(args->n_scopes ? args->scopes : read_scope);
	req.n_scopes = args->n_scopes ? args->n_scopes : 1;
	req.description = (char *)args->description;
	if (req.kind == ENRT__V1__TOKEN_KIND__PAT) {
		req.owner = (char *)(args->owner ? args->owner : "alice");
	}
	return rules_issue(&f->rules, &f->actor, &req, out, &f->e);
}

/* Issues a token that must succeed; returns its value (caller frees). */
static char *
issue_ok(fixture *f, const issue_args *args, char **id)
{
	Enrt__V1__IssueReply *reply = NULL;
	char *value;

	assert_status(issue(f, args, &reply), ENRT_OK, &f->e);
	value = strdup(reply->token);
	if (id != NULL) {
		*id = strdup(reply->info->id);
	}
	reply_free(reply);
	return value;
}

static Enrt__V1__IntrospectReply *
introspect_at(fixture *f, const char *value, int64_t now)
{
	Enrt__V1__IntrospectRequest req = ENRT__V1__INTROSPECT_REQUEST__INIT;
	Enrt__V1__IntrospectReply *reply = NULL;
	actor a = f->actor;

	a.now = now;
	req.token = (char *)value;
	assert_status(rules_introspect(&f->rules, &a, &req, &reply, &f->e),
	    ENRT_OK, &f->e);
	assert_non_null(reply);
	return reply;
}

static bool
is_active(fixture *f, const char *value)
{
	Enrt__V1__IntrospectReply *reply = introspect_at(f, value, NOW);
	bool active = reply->active;

	reply_free(reply);
	return active;
}

static enrt_status
update_app(fixture *f, Enrt__V1__UpdateAppRequest *req)
{
	Enrt__V1__App *app = NULL;
	enrt_status rc = apps_update(&f->rules, &f->actor, req, &app, &f->e);

	reply_free(app);
	return rc;
}

static enrt_status
revoke_id(fixture *f, const char *id, uint32_t *count)
{
	Enrt__V1__RevokeRequest req = ENRT__V1__REVOKE_REQUEST__INIT;
	Enrt__V1__RevokeReply *reply = NULL;
	enrt_status rc;

	req.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_ID;
	req.token_id = (char *)id;
	rc = rules_revoke(&f->rules, &f->actor, &req, &reply, &f->e);
	if (reply != NULL && count != NULL) {
		*count = reply->revoked;
	}
	reply_free(reply);
	return rc;
}

static Enrt__V1__ListTokensReply *
list(fixture *f, const char *app_id, const char *owner, bool all,
    uint32_t page_size, const char *cursor)
{
	Enrt__V1__ListTokensRequest req = ENRT__V1__LIST_TOKENS_REQUEST__INIT;
	Enrt__V1__ListTokensReply *reply = NULL;

	req.app_id = (char *)app_id;
	req.owner = (char *)owner;
	req.has_include_inactive = true;
	req.include_inactive = all;
	req.has_page_size = page_size != 0;
	req.page_size = page_size;
	req.page_cursor = (char *)cursor;
	assert_status(
	    rules_list_tokens(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_OK, &f->e);
	return reply;
}

/* ------------------------------------------------------------------ */
/* Issue and introspect                                                */

static void
issued_pat_introspects_active_as_its_owner(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	issue_args args = {
	    .app_id = app, .n_scopes = 2, .scopes = {"read", "write"}};
	char *id, *value = issue_ok(f, &args, &id);
	Enrt__V1__IntrospectReply *r = introspect_at(f, value, NOW + 60);

	assert_true(enrt_token_check(value, strlen(value)));
	assert_true(r->active);
	assert_string_equal(r->token_id, id);
	assert_int_equal(r->kind, ENRT__V1__TOKEN_KIND__PAT);
	assert_string_equal(r->app_id, app);
	assert_string_equal(r->subject, "alice");
	assert_int_equal(r->n_scopes, 2);
	assert_string_equal(r->scopes[1], "write");
	assert_int_equal(r->issued_at, NOW);
	assert_true(r->has_expires_at);
	assert_int_equal(r->expires_at, NOW + 30 * DAY);
	reply_free(r);
	free(value);
	free(id);
	free(app);
}

/*
 * Each Issue is 2 ms after the last, so that the wall clock, which a
 * token id begins with, has moved on between them.
 */
static void
token_ids_issued_later_sort_after_earlier_ones(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	issue_args args = {.app_id = app};
	struct timespec pause = {.tv_nsec = 2000000};
	char *ids[4];

	for (int i = 0; i < 4; i++) {
		free(issue_ok(f, &args, &ids[i]));
		assert_true(format_id_check(ids[i], "tok_"));
		nanosleep(&pause, NULL);
	}
	for (int i = 1; i < 4; i++) {
		if (strcmp(ids[i - 1], ids[i]) >= 0) {
			fail_msg("%s was issued before %s but does not sort "
			         "before it",
			    ids[i - 1], ids[i]);
		}
	}
	for (int i = 0; i < 4; i++) {
		free(ids[i]);
	}
	free(app);
}

static void
sat_subject_follows_the_current_system_user(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__ADMINISTRATORS_ONLY, 0, NULL, 0);
	issue_args args = {.app_id = app, .kind = ENRT__V1__TOKEN_KIND__SAT};
	char *value = issue_ok(f, &args, NULL);
	Enrt__V1__UpdateAppRequest up = ENRT__V1__UPDATE_APP_REQUEST__INIT;
	Enrt__V1__IntrospectReply *r = introspect_at(f, value, NOW);

	assert_string_equal(r->subject, "svc-robot");
	reply_free(r);

	up.id = app;
	up.system_user = "svc-other";
	assert_status(update_app(f, &up), ENRT_OK, &f->e);
	r = introspect_at(f, value, NOW);
	assert_true(r->active);
	assert_string_equal(r->subject, "svc-other");
	reply_free(r);
	free(value);
	free(app);
}

static void
policy_none_refuses_every_issue_with_failed_precondition(void **state)
{
	fixture *f = *state;
	char *app = make_app(f, "a", ENRT__V1__POLICY__NONE, 0, NULL, 0);
	issue_args pat = {.app_id = app};
	issue_args sat = {.app_id = app, .kind = ENRT__V1__TOKEN_KIND__SAT};
	Enrt__V1__IssueReply *reply = NULL;

	assert_status(issue(f, &pat, &reply), ENRT_FAILED_PRECONDITION, &f->e);
	assert_non_null(strstr(f->e.message, "None"));
	assert_status(issue(f, &sat, &reply), ENRT_FAILED_PRECONDITION, &f->e);
	assert_null(reply);
	free(app);
}

static void
administrators_only_refuses_a_pat_for_a_non_admin_owner(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__ADMINISTRATORS_ONLY, 0, NULL, 0);
	issue_args pat = {.app_id = app};
	Enrt__V1__IssueReply *reply = NULL;

	assert_status(issue(f, &pat, &reply), ENRT_PERMISSION_DENIED, &f->e);
	assert_non_null(strstr(f->e.message, "AdministratorsOnly"));
	free(app);
}

static void
portal_person_issues_only_for_themselves(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	store_caller portal = ENRT__V1__CALLER_RECORD__INIT;
	Enrt__V1__Person bob = ENRT__V1__PERSON__INIT;
	issue_args mine = {.app_id = app, .owner = "bob"};
	issue_args theirs = {.app_id = app, .owner = "alice"};
	issue_args sat = {.app_id = app, .kind = ENRT__V1__TOKEN_KIND__SAT};
	Enrt__V1__IssueReply *reply = NULL;
	char *value;

	portal.id = "cal_portal";
	portal.has_role = true;
	portal.role = ENRT__V1__ROLE__PORTAL;
	bob.user_id = "bob";
	f->actor.caller = &portal;
	f->actor.person = &bob;

	value = issue_ok(f, &mine, NULL);
	assert_status(
	    issue(f, &theirs, &reply), ENRT_PERMISSION_DENIED, &f->e);
	assert_status(issue(f, &sat, &reply), ENRT_PERMISSION_DENIED, &f->e);

	f->actor.caller = f->admin;
	f->actor.person = NULL;
	assert_true(is_active(f, value));
	free(value);
	free(app);
}

static void
expiry_must_be_in_the_future_and_within_the_app_lifetime(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 10, NULL, 0);
	issue_args past = {.app_id = app, .expires_at = NOW - 1};
	issue_args now = {.app_id = app, .expires_at = NOW};
	issue_args longest = {.app_id = app, .expires_at = NOW + 10 * DAY};
	issue_args beyond = {.app_id = app, .expires_at = NOW + 10 * DAY + 1};
	issue_args never = {.app_id = app, .no_expiry = true};
	Enrt__V1__IssueReply *reply = NULL;
	char *value;

	assert_status(issue(f, &past, &reply), ENRT_INVALID_ARGUMENT, &f->e);
	assert_non_null(strstr(f->e.message, "expires_at"));
	assert_status(issue(f, &now, &reply), ENRT_INVALID_ARGUMENT, &f->e);
	assert_status(issue(f, &beyond, &reply), ENRT_INVALID_ARGUMENT, &f->e);
	assert_non_null(strstr(f->e.message, "10 days"));
	assert_status(issue(f, &never, &reply), ENRT_INVALID_ARGUMENT, &f->e);
	value = issue_ok(f, &longest, NULL);
	free(value);
	free(app);
}

static void
token_without_expiry_only_in_an_unlimited_app(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, -1, NULL, 0);
	issue_args never = {.app_id = app, .no_expiry = true};
	char *value = issue_ok(f, &never, NULL);
	Enrt__V1__IntrospectReply *r =
	    introspect_at(f, value, INT64_C(253402300000));

	assert_true(r->active);
	assert_false(r->has_expires_at);
	reply_free(r);
	free(value);
	free(app);
}

static void
introspect_is_inactive_from_the_instant_of_expiry(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	issue_args args = {.app_id = app, .expires_at = NOW + 100};
	char *value = issue_ok(f, &args, NULL);
	Enrt__V1__IntrospectReply *before = introspect_at(f, value, NOW + 99);
	Enrt__V1__IntrospectReply *at = introspect_at(f, value, NOW + 100);

	assert_true(before->active);
	assert_false(at->active);
	assert_null(at->token_id);
	assert_int_equal(at->n_scopes, 0);
	reply_free(before);
	reply_free(at);
	free(value);
	free(app);
}

static void
malformed_altered_and_unknown_values_are_inactive(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	issue_args args = {.app_id = app};
	char *value = issue_ok(f, &args, NULL);
	char altered[128];

	assert_false(is_active(f, ""));
	assert_false(is_active(f, "enrt_"));
	snprintf(altered, sizeof(altered), " %s", value);
	assert_false(is_active(f, altered));
	snprintf(altered, sizeof(altered), "%s", value);
	altered[0] = 'E';
	assert_false(is_active(f, altered));
	snprintf(altered, sizeof(altered), "%s", value);
	altered[10] = altered[10] == 'a' ? 'b' : 'a';
	assert_false(is_active(f, altered));
	assert_true(is_active(f, value));
	free(value);
	free(app);
}

/* ------------------------------------------------------------------ */
/* Field rules                                                         */

static void
scopes_are_required_well_formed_bounded_and_merged(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	issue_args bad = {
	    .app_id = app, .n_scopes = 1, .scopes = {"has space"}};
	issue_args empty = {.app_id = app, .n_scopes = 1, .scopes = {""}};
	issue_args dup = {
	    .app_id = app, .n_scopes = 3, .scopes = {"read", "write", "read"}};
	issue_args many = {.app_id = app, .n_scopes = 33};
	Enrt__V1__IssueReply *reply = NULL;
	char name[33][8];

	for (int i = 0; i < 33; i++) {
		snprintf(name[i], sizeof(name[i]), "s%d", i);
		many.scopes[i] = name[i];
	}
	assert_status(issue(f, &bad, &reply), ENRT_INVALID_ARGUMENT, &f->e);
	assert_non_null(strstr(f->e.message, "scopes"));
	assert_status(issue(f, &empty, &reply), ENRT_INVALID_ARGUMENT, &f->e);
	assert_status(issue(f, &many, &reply), ENRT_INVALID_ARGUMENT, &f->e);
	many.n_scopes = 32;
	free(issue_ok(f, &many, NULL));

	assert_status(issue(f, &dup, &reply), ENRT_OK, &f->e);
	assert_int_equal(reply->info->n_scopes, 2);
	assert_string_equal(reply->info->scopes[0], "read");
	assert_string_equal(reply->info->scopes[1], "write");
	reply_free(reply);
	free(app);
}

static void
scopes_outside_the_apps_list_are_refused(void **state)
{
	fixture *f = *state;
	const char *allowed[] = {"read", "write"};
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, allowed, 2);
	issue_args ok = {.app_id = app, .n_scopes = 1, .scopes = {"write"}};
	issue_args no = {
	    .app_id = app, .n_scopes = 2, .scopes = {"read", "admin"}};
	issue_args cased = {.app_id = app, .n_scopes = 1, .scopes = {"Read"}};
	Enrt__V1__IssueReply *reply = NULL;

	free(issue_ok(f, &ok, NULL));
	assert_status(issue(f, &no, &reply), ENRT_INVALID_ARGUMENT, &f->e);
	assert_non_null(strstr(f->e.message, "\"admin\""));
	assert_status(issue(f, &cased, &reply), ENRT_INVALID_ARGUMENT, &f->e);
	free(app);
}

/* Ids and labels are never secrets: a value pasted into one is refused. */
static void
assert_no_secret_in_description_or_owner(fixture *f, issue_args *args)
{
	Enrt__V1__IssueReply *reply = NULL;
	char *value = issue_ok(f, args, NULL);
	char text[128];

	snprintf(text, sizeof(text), "laptop %s key", value);
	args->description = text;
	assert_status(issue(f, args, &reply), ENRT_INVALID_ARGUMENT, &f->e);
	assert_non_null(strstr(f->e.message, "description"));
	assert_null(strstr(f->e.message, value));
	args->description = NULL;
	args->owner = value;
	assert_status(issue(f, args, &reply), ENRT_INVALID_ARGUMENT, &f->e);
	assert_non_null(strstr(f->e.message, "owner"));
	args->owner = NULL;

	/* A token is made of characters a scope may hold. */
	args->n_scopes = 1;
	args->scopes[0] = value;
	assert_status(issue(f, args, &reply), ENRT_INVALID_ARGUMENT, &f->e);
	assert_non_null(strstr(f->e.message, "scopes: scope 1 holds a token"));
	assert_null(strstr(f->e.message, value));
	args->n_scopes = 0;
	free(value);
}

static void
description_is_bounded_utf8_without_control_characters(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	char longest[257], too_long[258];
	issue_args args = {.app_id = app};
	Enrt__V1__IssueReply *reply = NULL;
	const char *refused[] = {too_long, "bad \xC3", "over \xC0\xAF",
	    "tab\there", "bell\x07", "c1 \xC2\x85", "sur \xED\xA0\x80"};

	memset(longest, 'x', 256);
	longest[256] = '\0';
	memset(too_long, 'x', 257);
	too_long[257] = '\0';

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		args.description = refused[i];
		assert_status(
		    issue(f, &args, &reply), ENRT_INVALID_ARGUMENT, &f->e);
		assert_non_null(strstr(f->e.message, "description"));
	}
	args.description = longest;
	free(issue_ok(f, &args, NULL));
	assert_no_secret_in_description_or_owner(f, &args);
	args.description = "caf\xC3\xA9 \xF0\x9F\x94\x91";
	free(issue_ok(f, &args, NULL));
	free(app);
}

static void
issue_names_unknown_and_disabled_apps(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	Enrt__V1__UpdateAppRequest up = ENRT__V1__UPDATE_APP_REQUEST__INIT;
	issue_args unknown = {.app_id = "app_0000000000000000000000"};
	issue_args malformed = {.app_id = "nope"};
	issue_args disabled = {.app_id = app};
	Enrt__V1__IssueReply *reply = NULL;

	assert_status(issue(f, &unknown, &reply), ENRT_NOT_FOUND, &f->e);
	assert_status(
	    issue(f, &malformed, &reply), ENRT_INVALID_ARGUMENT, &f->e);
	up.id = app;
	up.has_enabled = true;
	up.enabled = false;
	assert_status(update_app(f, &up), ENRT_OK, &f->e);
	assert_status(
	    issue(f, &disabled, &reply), ENRT_FAILED_PRECONDITION, &f->e);
	free(app);
}

static void
admin_pat_needs_an_owner_and_sat_refuses_one(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	Enrt__V1__IssueRequest req = ENRT__V1__ISSUE_REQUEST__INIT;
	Enrt__V1__IssueReply *reply = NULL;
	char *scopes[] = {"read"};

	req.app_id = app;
	req.has_kind = true;
	req.kind = ENRT__V1__TOKEN_KIND__PAT;
	req.has_expires_at = true;
	req.expires_at = NOW + DAY;
	req.scopes = scopes;
	req.n_scopes = 1;
	assert_status(rules_issue(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	assert_non_null(strstr(f->e.message, "owner"));

	req.kind = ENRT__V1__TOKEN_KIND__SAT;
	req.owner = "alice";
	assert_status(rules_issue(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	req.kind = (Enrt__V1__TokenKind)7;
	assert_status(rules_issue(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	assert_non_null(strstr(f->e.message, "kind"));
	free(app);
}

/* ------------------------------------------------------------------ */
/* Reversible states and revocation                                    */

static void
disabling_or_none_suspends_and_reenabling_restores(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	issue_args args = {.app_id = app};
	char *value = issue_ok(f, &args, NULL);
	Enrt__V1__UpdateAppRequest up = ENRT__V1__UPDATE_APP_REQUEST__INIT;
	Enrt__V1__ListTokensReply *page;

	up.id = app;
	up.has_enabled = true;
	up.enabled = false;
	assert_status(update_app(f, &up), ENRT_OK, &f->e);
	assert_false(is_active(f, value));
	page = list(f, NULL, "alice", false, 0, NULL);
	assert_int_equal(page->n_tokens, 1);
	assert_int_equal(
	    page->tokens[0]->state, ENRT__V1__TOKEN_STATE__SUSPENDED);
	reply_free(page);

	up.enabled = true;
	assert_status(update_app(f, &up), ENRT_OK, &f->e);
	assert_true(is_active(f, value));

	up.has_enabled = false;
	up.has_policy = true;
	up.policy = ENRT__V1__POLICY__NONE;
	assert_status(update_app(f, &up), ENRT_OK, &f->e);
	assert_false(is_active(f, value));
	up.policy = ENRT__V1__POLICY__ADMINISTRATORS_ONLY;
	assert_status(update_app(f, &up), ENRT_OK, &f->e);
	assert_false(is_active(f, value)); /* alice is no administrator */
	up.policy = ENRT__V1__POLICY__AUTHENTICATED_USERS;
	assert_status(update_app(f, &up), ENRT_OK, &f->e);
	assert_true(is_active(f, value));
	free(value);
	free(app);
}

static void
revoke_by_id_is_final_and_idempotent(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	issue_args args = {.app_id = app};
	char *id, *value = issue_ok(f, &args, &id);
	uint32_t count = 99;

	assert_status(revoke_id(f, id, &count), ENRT_OK, &f->e);
	assert_int_equal(count, 1);
	assert_false(is_active(f, value));
	assert_status(revoke_id(f, id, &count), ENRT_OK, &f->e);
	assert_int_equal(count, 0);
	assert_status(revoke_id(f, "tok_0000000000000000000000", NULL),
	    ENRT_NOT_FOUND, &f->e);
	assert_status(
	    revoke_id(f, "garbage", NULL), ENRT_INVALID_ARGUMENT, &f->e);
	free(value);
	free(id);
	free(app);
}

static void
revoke_by_value_succeeds_silently_for_unknown_values(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	issue_args args = {.app_id = app};
	char *value = issue_ok(f, &args, NULL);
	Enrt__V1__RevokeRequest req = ENRT__V1__REVOKE_REQUEST__INIT;
	Enrt__V1__RevokeReply *reply = NULL;

	req.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_VALUE;
	req.token_value = "enrt_not-a-token";
	assert_status(rules_revoke(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_OK, &f->e);
	assert_int_equal(reply->revoked, 0);
	reply_free(reply);

	req.token_value = value;
	assert_status(rules_revoke(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_OK, &f->e);
	assert_int_equal(reply->revoked, 1);
	reply_free(reply);
	assert_false(is_active(f, value));
	free(value);
	free(app);
}

static void
revoking_a_user_revokes_all_their_pats(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	issue_args alice = {.app_id = app};
	issue_args bob = {.app_id = app, .owner = "bob"};
	char *a1 = issue_ok(f, &alice, NULL), *a2 = issue_ok(f, &alice, NULL);
	char *b1 = issue_ok(f, &bob, NULL);
	Enrt__V1__RevokeRequest req = ENRT__V1__REVOKE_REQUEST__INIT;
	Enrt__V1__RevokeReply *reply = NULL;

	req.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_USER_ID;
	req.user_id = "alice";
	assert_status(rules_revoke(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_OK, &f->e);
	assert_int_equal(reply->revoked, 2);
	reply_free(reply);
	assert_false(is_active(f, a1));
	assert_false(is_active(f, a2));
	assert_true(is_active(f, b1));
	free(a1);
	free(a2);
	free(b1);
	free(app);
}

/* ------------------------------------------------------------------ */
/* Changes seen at the very next Introspect                            */

/* Rewrites a user's flags in the store, as users_set would. */
static void
set_user(fixture *f, const char *id, bool admin, bool enabled)
{
	store_user *user = NULL;
	store_txn *t;

	assert_int_equal(store_begin_write(f->store, &t), ENRT_OK);
	assert_int_equal(store_user_get(t, id, &user), ENRT_OK);
	user->has_admin = user->has_enabled = true;
	user->admin = admin;
	user->enabled = enabled;
	store_user_put(t, user);
	assert_int_equal(store_commit(t), ENRT_OK);
	store_free(user);
}

static void
set_app(fixture *f, const char *id, Enrt__V1__Policy policy, bool enabled)
{
	Enrt__V1__UpdateAppRequest up = ENRT__V1__UPDATE_APP_REQUEST__INIT;

	up.id = (char *)id;
	up.has_policy = up.has_enabled = true;
	up.policy = policy;
	up.enabled = enabled;
	assert_status(update_app(f, &up), ENRT_OK, &f->e);
}

/*
 * Every Introspect here follows one that read the same app and owner,
 * so what the read transactions kept is warm when each change commits.
 */
static void
owner_and_app_changes_count_at_the_next_introspect(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	issue_args args = {.app_id = app};
	char *value = issue_ok(f, &args, NULL);
	store_txn *t;

	assert_true(is_active(f, value));
	set_user(f, "alice", false, false);
	assert_false(is_active(f, value));
	set_user(f, "alice", false, true);
	assert_true(is_active(f, value));

	set_app(f, app, ENRT__V1__POLICY__ADMINISTRATORS_ONLY, true);
	assert_false(is_active(f, value));
	set_user(f, "alice", true, true);
	assert_true(is_active(f, value));
	set_user(f, "alice", false, true);
	assert_false(is_active(f, value));

	set_app(f, app, ENRT__V1__POLICY__AUTHENTICATED_USERS, true);
	assert_true(is_active(f, value));
	set_app(f, app, ENRT__V1__POLICY__AUTHENTICATED_USERS, false);
	assert_false(is_active(f, value));
	set_app(f, app, ENRT__V1__POLICY__AUTHENTICATED_USERS, true);
	assert_true(is_active(f, value));
	set_app(f, app, ENRT__V1__POLICY__NONE, true);
	assert_false(is_active(f, value));
	set_app(f, app, ENRT__V1__POLICY__AUTHENTICATED_USERS, true);
	assert_true(is_active(f, value));

	assert_int_equal(store_begin_write(f->store, &t), ENRT_OK);
	store_user_delete(t, "alice");
	assert_int_equal(store_commit(t), ENRT_OK);
	assert_false(is_active(f, value));
	free(value);
	free(app);
}

/* How many of the n values one IntrospectBatch finds active. */
static size_t
batch_active(fixture *f, char **values, size_t n)
{
	Enrt__V1__IntrospectBatchRequest req =
	    ENRT__V1__INTROSPECT_BATCH_REQUEST__INIT;
	Enrt__V1__IntrospectBatchReply *reply = NULL;
	size_t active = 0;

	req.tokens = values;
	req.n_tokens = n;
	assert_status(
	    rules_introspect_batch(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_OK, &f->e);
	assert_int_equal(reply->n_answers, n);
	for (size_t i = 0; i < n; i++) {
		active += reply->answers[i]->active;
	}
	reply_free(reply);
	return active;
}

static void
batch_sees_a_disabled_app_and_owner_at_the_next_call(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	issue_args args = {.app_id = app};
	char *value = issue_ok(f, &args, NULL);
	char *values[4] = {value, value, value, value};

	assert_int_equal(batch_active(f, values, 4), 4);
	set_app(f, app, ENRT__V1__POLICY__AUTHENTICATED_USERS, false);
	assert_int_equal(batch_active(f, values, 4), 0);
	set_app(f, app, ENRT__V1__POLICY__AUTHENTICATED_USERS, true);
	assert_int_equal(batch_active(f, values, 4), 4);
	set_user(f, "alice", false, false);
	assert_int_equal(batch_active(f, values, 4), 0);
	free(value);
	free(app);
}

/*
 * A batch over more apps than a read transaction keeps records of sees
 * each app's change at the next call, whichever app it is.
 */
static void
batch_over_many_apps_sees_each_change(void **state)
{
	fixture *f = *state;
	char *apps[10], *values[40], name[8];

	for (int i = 0; i < 10; i++) {
		issue_args args = {.kind = ENRT__V1__TOKEN_KIND__SAT};

		snprintf(name, sizeof(name), "r%d", i);
		apps[i] = make_app(f, name,
		    ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
		args.app_id = apps[i];
		values[i] = issue_ok(f, &args, NULL);
	}
	for (int i = 10; i < 40; i++) {
		values[i] = values[(i * 7) % 10];
	}

	assert_int_equal(batch_active(f, values, 40), 40);
	for (int k = 0; k < 10; k++) {
		set_app(
		    f, apps[k], ENRT__V1__POLICY__AUTHENTICATED_USERS, false);
		assert_int_equal(batch_active(f, values, 40), 36);
		assert_false(is_active(f, values[k]));
		set_app(f, apps[k], ENRT__V1__POLICY__NONE, true);
		assert_int_equal(batch_active(f, values, 40), 36);
		set_app(
		    f, apps[k], ENRT__V1__POLICY__AUTHENTICATED_USERS, true);
		assert_int_equal(batch_active(f, values, 40), 40);
	}
	for (int i = 0; i < 10; i++) {
		free(values[i]);
		free(apps[i]);
	}
}

/* ------------------------------------------------------------------ */
/* Listing                                                             */

static void
listing_pages_by_owner_and_hides_inactive_unless_asked(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	issue_args args = {.app_id = app, .description = "laptop"};
	char *ids[5];
	Enrt__V1__ListTokensReply *p1, *p2, *all;

	for (int i = 0; i < 5; i++) {
		f->actor.now = NOW + i;
		free(issue_ok(f, &args, &ids[i]));
	}
	f->actor.now = NOW;
	assert_status(revoke_id(f, ids[4], NULL), ENRT_OK, &f->e);

	p1 = list(f, NULL, "alice", false, 3, NULL);
	assert_int_equal(p1->n_tokens, 3);
	assert_non_null(p1->next_cursor);
	assert_string_equal(p1->tokens[0]->id, ids[0]);
	assert_string_equal(p1->tokens[0]->app_name, "a");
	assert_string_equal(p1->tokens[0]->description, "laptop");
	p2 = list(f, NULL, "alice", false, 3, p1->next_cursor);
	assert_int_equal(p2->n_tokens, 1);
	assert_string_equal(p2->tokens[0]->id, ids[3]);
	assert_null(p2->next_cursor);

	all = list(f, NULL, "alice", true, 0, NULL);
	assert_int_equal(all->n_tokens, 5);
	assert_int_equal(
	    all->tokens[4]->state, ENRT__V1__TOKEN_STATE__REVOKED);
	assert_int_equal(all->tokens[0]->state, ENRT__V1__TOKEN_STATE__ACTIVE);
	assert_false(all->tokens[0]->has_last_used_at);
	reply_free(p1);
	reply_free(p2);
	reply_free(all);
	for (int i = 0; i < 5; i++) {
		free(ids[i]);
	}
	free(app);
}

static void
listing_by_app_shows_pats_and_sats_with_expired_state(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	char *other = make_app(
	    f, "b", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	issue_args pat = {.app_id = app, .expires_at = NOW + 10};
	issue_args sat = {.app_id = app, .kind = ENRT__V1__TOKEN_KIND__SAT};
	issue_args elsewhere = {.app_id = other};
	Enrt__V1__ListTokensReply *page;

	/* Listings follow creation order: one second apart, one order. */
	free(issue_ok(f, &pat, NULL));
	f->actor.now = NOW + 1;
	free(issue_ok(f, &sat, NULL));
	free(issue_ok(f, &elsewhere, NULL));
	f->actor.now = NOW + 20;

	page = list(f, app, NULL, false, 0, NULL);
	assert_int_equal(page->n_tokens, 1);
	assert_int_equal(page->tokens[0]->kind, ENRT__V1__TOKEN_KIND__SAT);
	assert_null(page->tokens[0]->owner);
	reply_free(page);

	page = list(f, app, NULL, true, 0, NULL);
	assert_int_equal(page->n_tokens, 2);
	assert_int_equal(
	    page->tokens[0]->state, ENRT__V1__TOKEN_STATE__EXPIRED);
	reply_free(page);
	free(app);
	free(other);
}

static void
listing_refuses_a_cursor_it_did_not_give(void **state)
{
	fixture *f = *state;
	Enrt__V1__ListTokensRequest req = ENRT__V1__LIST_TOKENS_REQUEST__INIT;
	Enrt__V1__ListTokensReply *reply = NULL;

	req.owner = "alice";
	req.page_cursor = "zzz";
	assert_status(
	    rules_list_tokens(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	assert_non_null(strstr(f->e.message, "page_cursor"));
	req.page_cursor = NULL;
	req.has_page_size = true;
	req.page_size = 1001;
	assert_status(
	    rules_list_tokens(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	req.owner = NULL;
	req.page_size = 10;
	assert_status(
	    rules_list_tokens(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	assert_null(reply);
}

/* ------------------------------------------------------------------ */
/* Apps and callers                                                    */

static void
app_names_are_unique_and_fields_checked(void **state)
{
	fixture *f = *state;
	Enrt__V1__CreateAppRequest req = ENRT__V1__CREATE_APP_REQUEST__INIT;
	Enrt__V1__App *app = NULL;
	char *id = make_app(f, "Billing", ENRT__V1__POLICY__NONE, 0, NULL, 0);

	req.name = "Billing";
	req.system_user = "svc";
	assert_status(apps_create(&f->rules, &f->actor, &req, &app, &f->e),
	    ENRT_ALREADY_EXISTS, &f->e);
	assert_non_null(strstr(f->e.message, "name"));

	req.name = "Other";
	req.has_max_lifetime_days = true;
	req.max_lifetime_days = 0;
	assert_status(apps_create(&f->rules, &f->actor, &req, &app, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	req.max_lifetime_days = 36501;
	assert_status(apps_create(&f->rules, &f->actor, &req, &app, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	req.max_lifetime_days = 30;
	req.has_unlimited_lifetime = req.unlimited_lifetime = true;
	assert_status(apps_create(&f->rules, &f->actor, &req, &app, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	req.has_unlimited_lifetime = false;
	req.has_policy = true;
	req.policy = (Enrt__V1__Policy)9;
	assert_status(apps_create(&f->rules, &f->actor, &req, &app, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	req.policy = ENRT__V1__POLICY__NONE;
	req.system_user = NULL;
	assert_status(apps_create(&f->rules, &f->actor, &req, &app, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	assert_null(app);
	free(id);
}

static void
app_update_changes_only_what_it_names(void **state)
{
	fixture *f = *state;
	const char *scopes[] = {"read"};
	char *id = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, scopes, 1);
	Enrt__V1__UpdateAppRequest up = ENRT__V1__UPDATE_APP_REQUEST__INIT;
	Enrt__V1__GetAppRequest get = ENRT__V1__GET_APP_REQUEST__INIT;
	Enrt__V1__App *app = NULL;

	up.id = id;
	up.name = "renamed";
	assert_status(update_app(f, &up), ENRT_OK, &f->e);
	get.id = id;
	assert_status(
	    apps_get(&f->rules, &f->actor, &get, &app, &f->e), ENRT_OK, &f->e);
	assert_string_equal(app->name, "renamed");
	assert_int_equal(app->policy, ENRT__V1__POLICY__AUTHENTICATED_USERS);
	assert_string_equal(app->system_user, "svc-robot");
	assert_int_equal(app->n_allowed_scopes, 1);
	assert_true(app->has_max_lifetime_days);
	assert_int_equal(app->max_lifetime_days, 365);
	assert_true(app->enabled);
	reply_free(app);

	memset(&up, 0, sizeof(up));
	enrt__v1__update_app_request__init(&up);
	up.id = id;
	assert_status(update_app(f, &up), ENRT_INVALID_ARGUMENT, &f->e);
	free(make_app(f, "a", ENRT__V1__POLICY__NONE, 0, NULL, 0));
	up.name = "a";
	assert_status(update_app(f, &up), ENRT_ALREADY_EXISTS, &f->e);
	free(id);
}

static void
credentials_that_are_missing_malformed_or_unknown_are_refused(void **state)
{
	fixture *f = *state;
	uint8_t raw[32] = {0};
	char unknown[64];
	store_caller *caller = NULL;

	format_secret(unknown, ENRT_CREDENTIAL_PREFIX, raw);
	assert_status(rules_authenticate(&f->rules, NULL, &caller, &f->e),
	    ENRT_UNAUTHENTICATED, &f->e);
	assert_status(rules_authenticate(&f->rules, "enrc_x", &caller, &f->e),
	    ENRT_UNAUTHENTICATED, &f->e);
	assert_status(rules_authenticate(&f->rules, unknown, &caller, &f->e),
	    ENRT_UNAUTHENTICATED, &f->e);
	assert_null(caller);
}

/* Mirrors the fixture's acting person as seen at time now. */
static enrt_status
sync_at(fixture *f, int64_t now)
{
	actor a = f->actor;

	a.now = now;
	return rules_sync_person(&f->rules, &a, &f->e);
}

static void
demoting_a_person_suspends_their_pats_until_promoted_again(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__ADMINISTRATORS_ONLY, 0, NULL, 0);
	store_caller portal = ENRT__V1__CALLER_RECORD__INIT;
	Enrt__V1__Person carol = ENRT__V1__PERSON__INIT;
	issue_args mine = {.app_id = app, .owner = "carol"};
	char *value;

	portal.id = "cal_portal";
	portal.has_role = true;
	portal.role = ENRT__V1__ROLE__PORTAL;
	carol.user_id = "carol";
	carol.has_admin = carol.admin = true;
	f->actor.caller = &portal;
	f->actor.person = &carol;
	assert_status(sync_at(f, NOW), ENRT_OK, &f->e);
	value = issue_ok(f, &mine, NULL);
	assert_true(is_active(f, value));

	carol.admin = false;
	assert_status(sync_at(f, NOW + 1), ENRT_OK, &f->e);
	assert_false(is_active(f, value));
	carol.admin = true;
	assert_status(sync_at(f, NOW + 2), ENRT_OK, &f->e);
	assert_true(is_active(f, value));
	free(value);
	free(app);
}

static void
a_person_lists_only_their_own_tokens(void **state)
{
	fixture *f = *state;
	store_caller portal = ENRT__V1__CALLER_RECORD__INIT;
	Enrt__V1__Person bob = ENRT__V1__PERSON__INIT;
	Enrt__V1__ListTokensRequest req = ENRT__V1__LIST_TOKENS_REQUEST__INIT;
	Enrt__V1__ListTokensReply *reply = NULL;

	portal.id = "cal_portal";
	portal.has_role = true;
	portal.role = ENRT__V1__ROLE__PORTAL;
	bob.user_id = "bob";
	f->actor.caller = &portal;
	f->actor.person = &bob;

	req.owner = "alice";
	assert_status(
	    rules_list_tokens(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_PERMISSION_DENIED, &f->e);
	req.owner = NULL;
	assert_status(
	    rules_list_tokens(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_OK, &f->e);
	assert_int_equal(reply->n_tokens, 0);
	reply_free(reply);
}

static void
many_copies_of_one_scope_count_once(void **state)
{
	fixture *f = *state;
	char *app = make_app(
	    f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS, 0, NULL, 0);
	issue_args same = {.app_id = app, .n_scopes = 40};
	Enrt__V1__IssueReply *reply = NULL;

	for (int i = 0; i < 40; i++) {
		same.scopes[i] = "read";
	}
	assert_status(issue(f, &same, &reply), ENRT_OK, &f->e);
	assert_int_equal(reply->info->n_scopes, 1);
	reply_free(reply);
	free(app);
}

static void
an_app_cannot_be_renamed_to_nothing(void **state)
{
	fixture *f = *state;
	char *id = make_app(f, "a", ENRT__V1__POLICY__NONE, 0, NULL, 0);
	Enrt__V1__UpdateAppRequest up = ENRT__V1__UPDATE_APP_REQUEST__INIT;

	up.id = id;
	up.name = "";
	assert_status(update_app(f, &up), ENRT_INVALID_ARGUMENT, &f->e);
	assert_non_null(strstr(f->e.message, "name: required"));
	free(id);
}

static void
bootstrap_runs_once(void **state)
{
	fixture *f = *state;
	char credential[64] = "x";

	assert_status(rules_bootstrap(&f->rules, NOW, credential, &f->e),
	    ENRT_OK, &f->e);
	assert_string_equal(credential, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(issued_pat_introspects_active_as_its_owner),
	    T(token_ids_issued_later_sort_after_earlier_ones),
	    T(sat_subject_follows_the_current_system_user),
	    T(policy_none_refuses_every_issue_with_failed_precondition),
	    T(administrators_only_refuses_a_pat_for_a_non_admin_owner),
	    T(portal_person_issues_only_for_themselves),
	    T(expiry_must_be_in_the_future_and_within_the_app_lifetime),
	    T(token_without_expiry_only_in_an_unlimited_app),
	    T(introspect_is_inactive_from_the_instant_of_expiry),
	    T(malformed_altered_and_unknown_values_are_inactive),
	    T(scopes_are_required_well_formed_bounded_and_merged),
	    T(scopes_outside_the_apps_list_are_refused),
	    T(description_is_bounded_utf8_without_control_characters),
	    T(issue_names_unknown_and_disabled_apps),
	    T(admin_pat_needs_an_owner_and_sat_refuses_one),
	    T(disabling_or_none_suspends_and_reenabling_restores),
	    T(revoke_by_id_is_final_and_idempotent),
	    T(revoke_by_value_succeeds_silently_for_unknown_values),
	    T(revoking_a_user_revokes_all_their_pats),
	    T(owner_and_app_changes_count_at_the_next_introspect),
	    T(batch_sees_a_disabled_app_and_owner_at_the_next_call),
	    T(batch_over_many_apps_sees_each_change),
	    T(listing_pages_by_owner_and_hides_inactive_unless_asked),
	    T(listing_by_app_shows_pats_and_sats_with_expired_state),
	    T(listing_refuses_a_cursor_it_did_not_give),
	    T(app_names_are_unique_and_fields_checked),
	    T(app_update_changes_only_what_it_names),
	    T(credentials_that_are_missing_malformed_or_unknown_are_refused),
	    T(demoting_a_person_suspends_their_pats_until_promoted_again),
	    T(a_person_lists_only_their_own_tokens),
	    T(many_copies_of_one_scope_count_once),
	    T(an_app_cannot_be_renamed_to_nothing),
	    T(bootstrap_runs_once),
#undef T
	};

	if (sodium_init() < 0) {
		return 1;
	}
	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
