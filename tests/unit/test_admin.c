/*
 * Callers, users, the audit log, batch introspection and the apps a
 * person may use, against a real store in a temporary directory.
 */
#define _GNU_SOURCE /* memmem */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "apps.h"
#include "audit.h"
#include "callers.h"
#include "fixture.h"
#include "log.h"
#include "reply.h"
#include "users.h"

#define NOW INT64_C(1800000000)
#define DAY INT64_C(86400)

typedef store_fixture fixture;

static int
setup(void **state)
{
	static const uint8_t key[RULES_KEY_LEN] = {4, 5, 6};
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	store_fixture_open(f, "admin", key, NULL, NOW);
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
make_app(fixture *f, const char *name, Enrt__V1__Policy policy)
{
	Enrt__V1__CreateAppRequest req = ENRT__V1__CREATE_APP_REQUEST__INIT;
	Enrt__V1__App *app = NULL;
	char *id;

	req.name = (char *)name;
	req.has_policy = true;
	req.policy = policy;
	req.system_user = "svc";
	assert_status(apps_create(&f->rules, &f->actor, &req, &app, &f->e),
	    ENRT_OK, &f->e);
	id = strdup(app->id);
	reply_free(app);
	return id;
}

/* A PAT for owner in app; returns its value (caller frees). */
static char *
issue_pat(fixture *f, const char *app, const char *owner, char **id)
{
	Enrt__V1__IssueRequest req = ENRT__V1__ISSUE_REQUEST__INIT;
	Enrt__V1__IssueReply *reply = NULL;
	char *scopes[] = {"read"};
	char *value;

	req.app_id = (char *)app;
	req.has_kind = true;
	req.kind = ENRT__V1__TOKEN_KIND__PAT;
	req.has_expires_at = true;
	req.expires_at = f->actor.now + DAY;
	req.scopes = scopes;
	req.n_scopes = 1;
	req.owner = (char *)owner;
	assert_status(rules_issue(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_OK, &f->e);
	value = strdup(reply->token);
	if (id != NULL) {
		*id = strdup(reply->info->id);
	}
	reply_free(reply);
	return value;
}

static bool
is_active_for(fixture *f, const actor *a, const char *value)
{
	Enrt__V1__IntrospectRequest req = ENRT__V1__INTROSPECT_REQUEST__INIT;
	Enrt__V1__IntrospectReply *reply = NULL;
	bool active;

	req.token = (char *)value;
	assert_status(rules_introspect(&f->rules, a, &req, &reply, &f->e),
	    ENRT_OK, &f->e);
	active = reply->active;
	reply_free(reply);
	return active;
}

static bool
is_active(fixture *f, const char *value)
{
	return is_active_for(f, &f->actor, value);
}

/* Adds a caller; returns the reply (caller frees). */
static Enrt__V1__AddCallerReply *
add_caller(fixture *f, const char *name, Enrt__V1__Role role, char **app_ids,
    size_t n_app_ids)
{
	Enrt__V1__AddCallerRequest req = ENRT__V1__ADD_CALLER_REQUEST__INIT;
	Enrt__V1__AddCallerReply *reply = NULL;

	req.name = (char *)name;
	req.has_role = true;
	req.role = role;
	req.app_ids = app_ids;
	req.n_app_ids = n_app_ids;
	assert_status(callers_add(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_OK, &f->e);
	return reply;
}

/* A portal caller acting for one person, as dispatch makes it. */
typedef struct portal_view {
	store_caller caller;
	Enrt__V1__Person person;
	actor actor;
} portal_view;

static actor *
as_person(fixture *f, portal_view *v, const char *user_id)
{
	enrt__v1__caller_record__init(&v->caller);
	enrt__v1__person__init(&v->person);
	v->caller.id = "cal_portal";
	v->caller.has_role = true;
	v->caller.role = ENRT__V1__ROLE__PORTAL;
	v->person.user_id = (char *)user_id;
	v->actor = f->actor;
	v->actor.caller = &v->caller;
	v->actor.person = &v->person;
	return &v->actor;
}

/* Mirrors a person as a portal caller would assert them. */
static void
assert_person(fixture *f, const char *id, bool admin)
{
	portal_view v;
	actor *a = as_person(f, &v, id);

	v.person.has_admin = true;
	v.person.admin = admin;
	assert_status(rules_sync_person(&f->rules, a, &f->e), ENRT_OK, &f->e);
}

/* ------------------------------------------------------------------ */
/* Callers                                                             */

static void
added_caller_authenticates_until_revoked(void **state)
{
	fixture *f = *state;
	Enrt__V1__AddCallerReply *added =
	    add_caller(f, "gateway", ENRT__V1__ROLE__INTROSPECT, NULL, 0);
	Enrt__V1__RevokeCallerRequest req =
	    ENRT__V1__REVOKE_CALLER_REQUEST__INIT;
	store_caller *who = NULL, *revoked = NULL;

	assert_true(enrt_credential_check(
	    added->credential, strlen(added->credential)));
	assert_status(
	    rules_authenticate(&f->rules, added->credential, &who, &f->e),
	    ENRT_OK, &f->e);
	assert_string_equal(who->id, added->caller->id);
	assert_int_equal(who->role, ENRT__V1__ROLE__INTROSPECT);
	store_free(who);

	req.id = added->caller->id;
	assert_status(
	    callers_revoke(&f->rules, &f->actor, &req, &revoked, &f->e),
	    ENRT_OK, &f->e);
	assert_true(revoked->has_revoked_at);
	reply_free(revoked);
	assert_status(
	    rules_authenticate(&f->rules, added->credential, &who, &f->e),
	    ENRT_UNAUTHENTICATED, &f->e);
	reply_free(added);
}

static void
a_caller_may_not_revoke_itself(void **state)
{
	fixture *f = *state;
	Enrt__V1__RevokeCallerRequest req =
	    ENRT__V1__REVOKE_CALLER_REQUEST__INIT;
	store_caller *out = NULL;

	req.id = f->admin->id;
	assert_status(callers_revoke(&f->rules, &f->actor, &req, &out, &f->e),
	    ENRT_FAILED_PRECONDITION, &f->e);
	req.id = "cal_0000000000000000000000";
	assert_status(callers_revoke(&f->rules, &f->actor, &req, &out, &f->e),
	    ENRT_NOT_FOUND, &f->e);
	assert_null(out);
}

static void
add_caller_checks_name_role_and_apps(void **state)
{
	fixture *f = *state;
	Enrt__V1__AddCallerRequest req = ENRT__V1__ADD_CALLER_REQUEST__INIT;
	Enrt__V1__AddCallerReply *reply = NULL;
	char *missing[] = {"app_0000000000000000000000"};
	char *twice[] = {missing[0], missing[0]};

	req.name = "x";
	assert_status(callers_add(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	assert_non_null(strstr(f->e.message, "role"));
	req.has_role = true;
	req.role = ENRT__V1__ROLE__PORTAL;
	req.app_ids = missing;
	req.n_app_ids = 1;
	assert_status(callers_add(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	req.role = ENRT__V1__ROLE__INTROSPECT;
	assert_status(callers_add(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_NOT_FOUND, &f->e);
	req.app_ids = twice;
	req.n_app_ids = 2;
	assert_status(callers_add(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	assert_non_null(strstr(f->e.message, "given more than once"));
	req.name = NULL;
	req.n_app_ids = 0;
	assert_status(callers_add(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	assert_null(reply);
}

static void
listed_callers_carry_no_secret(void **state)
{
	fixture *f = *state;
	Enrt__V1__AddCallerReply *added =
	    add_caller(f, "portal", ENRT__V1__ROLE__PORTAL, NULL, 0);
	Enrt__V1__ListCallersRequest req =
	    ENRT__V1__LIST_CALLERS_REQUEST__INIT;
	Enrt__V1__ListCallersReply *list = NULL;
	size_t len;
	uint8_t *packed;

	assert_status(callers_list(&f->rules, &f->actor, &req, &list, &f->e),
	    ENRT_OK, &f->e);
	assert_int_equal(list->n_callers, 2);
	len = enrt__v1__list_callers_reply__get_packed_size(list);
	packed = malloc(len);
	assert_non_null(packed);
	enrt__v1__list_callers_reply__pack(list, packed);
	assert_null(
	    memmem(packed, len, added->credential, strlen(added->credential)));
	free(packed);
	reply_free(list);
	reply_free(added);
}

static uint32_t
revoke_value_as(fixture *f, const actor *a, const char *value)
{
	Enrt__V1__RevokeRequest req = ENRT__V1__REVOKE_REQUEST__INIT;
	Enrt__V1__RevokeReply *reply = NULL;
	uint32_t count;

	req.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_VALUE;
	req.token_value = (char *)value;
	assert_status(
	    rules_revoke(&f->rules, a, &req, &reply, &f->e), ENRT_OK, &f->e);
	count = reply->revoked;
	reply_free(reply);
	return count;
}

static void
introspect_caller_limited_to_apps_sees_others_inactive(void **state)
{
	fixture *f = *state;
	char *mine =
	    make_app(f, "mine", ENRT__V1__POLICY__AUTHENTICATED_USERS);
	char *other =
	    make_app(f, "other", ENRT__V1__POLICY__AUTHENTICATED_USERS);
	char *apps[] = {mine};
	Enrt__V1__AddCallerReply *added =
	    add_caller(f, "gw", ENRT__V1__ROLE__INTROSPECT, apps, 1);
	char *in_mine = issue_pat(f, mine, "alice", NULL);
	char *in_other = issue_pat(f, other, "alice", NULL);
	store_caller *gw = NULL;
	actor a = f->actor;

	assert_status(
	    rules_authenticate(&f->rules, added->credential, &gw, &f->e),
	    ENRT_OK, &f->e);
	a.caller = gw;
	assert_true(is_active_for(f, &a, in_mine));
	assert_false(is_active_for(f, &a, in_other));
	assert_true(is_active(f, in_other));
	/* Holding a value is no right to revoke it (dispatch refuses the
	 * role before the rules see it; they refuse it too). */
	assert_int_equal(revoke_value_as(f, &a, in_other), 0);
	assert_int_equal(revoke_value_as(f, &a, in_mine), 0);
	assert_true(is_active(f, in_other));
	assert_true(is_active(f, in_mine));
	store_free(gw);
	reply_free(added);
	free(in_mine);
	free(in_other);
	free(mine);
	free(other);
}

/* ------------------------------------------------------------------ */
/* Users                                                               */

/* Holding another person's token gives no right to revoke it. */
static void
a_person_revokes_by_value_only_their_own_pats(void **state)
{
	fixture *f = *state;
	char *app = make_app(f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS);
	char *alices = issue_pat(f, app, "alice", NULL);
	char *bobs = issue_pat(f, app, "bob", NULL);
	portal_view v;
	actor *bob = as_person(f, &v, "bob");

	assert_int_equal(revoke_value_as(f, bob, alices), 0);
	assert_true(is_active(f, alices));
	assert_int_equal(revoke_value_as(f, bob, bobs), 1);
	assert_false(is_active(f, bobs));

	/* An administrator, through the portal, revokes any token. */
	v.person.has_admin = v.person.admin = true;
	assert_int_equal(revoke_value_as(f, bob, alices), 1);
	assert_false(is_active(f, alices));
	free(alices);
	free(bobs);
	free(app);
}

static void
disabling_a_user_suspends_their_pats_and_enabling_restores(void **state)
{
	fixture *f = *state;
	char *app = make_app(f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS);
	char *value = issue_pat(f, app, "alice", NULL);
	Enrt__V1__SetUserRequest req = ENRT__V1__SET_USER_REQUEST__INIT;
	store_user *user = NULL;

	req.id = "alice";
	req.has_enabled = true;
	req.enabled = false;
	assert_status(users_set(&f->rules, &f->actor, &req, &user, &f->e),
	    ENRT_OK, &f->e);
	assert_false(user->enabled);
	reply_free(user);
	assert_false(is_active(f, value));

	req.enabled = true;
	assert_status(users_set(&f->rules, &f->actor, &req, &user, &f->e),
	    ENRT_OK, &f->e);
	reply_free(user);
	assert_true(is_active(f, value));
	free(value);
	free(app);
}

static void
a_disabled_person_is_refused_and_no_assertion_enables_them(void **state)
{
	fixture *f = *state;
	Enrt__V1__SetUserRequest req = ENRT__V1__SET_USER_REQUEST__INIT;
	store_user *user = NULL;
	portal_view v;
	actor *a;

	assert_person(f, "bob", false);
	req.id = "bob";
	req.has_enabled = true;
	req.enabled = false;
	assert_status(users_set(&f->rules, &f->actor, &req, &user, &f->e),
	    ENRT_OK, &f->e);
	reply_free(user);

	a = as_person(f, &v, "bob");
	v.person.has_admin = v.person.admin = true;
	a->now = NOW + 3600;
	assert_status(rules_sync_person(&f->rules, a, &f->e),
	    ENRT_PERMISSION_DENIED, &f->e);
	assert_status(rules_sync_person(&f->rules, a, &f->e),
	    ENRT_PERMISSION_DENIED, &f->e);
}

/* Neither listed nor revocable: as if the old tokens did not exist. */
static void
assert_the_new_carol_sees_none_of_the_old(fixture *f, const char *old_id)
{
	Enrt__V1__ListTokensRequest list = ENRT__V1__LIST_TOKENS_REQUEST__INIT;
	Enrt__V1__RevokeRequest revoke = ENRT__V1__REVOKE_REQUEST__INIT;
	Enrt__V1__ListTokensReply *page = NULL;
	Enrt__V1__RevokeReply *revoked = NULL;
	portal_view v;
	actor *a = as_person(f, &v, "carol");

	list.has_include_inactive = list.include_inactive = true;
	assert_status(rules_list_tokens(&f->rules, a, &list, &page, &f->e),
	    ENRT_OK, &f->e);
	assert_int_equal(page->n_tokens, 0);
	reply_free(page);
	revoke.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_ID;
	revoke.token_id = (char *)old_id;
	assert_status(rules_revoke(&f->rules, a, &revoke, &revoked, &f->e),
	    ENRT_NOT_FOUND, &f->e);
}

static void
deleting_a_user_revokes_their_tokens_for_good(void **state)
{
	fixture *f = *state;
	char *app = make_app(f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS);
	char *old_id;
	char *one = issue_pat(f, app, "carol", &old_id);
	char *two = issue_pat(f, app, "carol", NULL);
	Enrt__V1__DeleteUserRequest req = ENRT__V1__DELETE_USER_REQUEST__INIT;
	Enrt__V1__DeleteUserReply *reply = NULL;

	req.id = "carol";
	assert_status(users_delete(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_OK, &f->e);
	assert_int_equal(reply->revoked, 2);
	reply_free(reply);
	assert_false(is_active(f, one));

	/* A new user with the same id is another user, even within the
	 * same second: nothing revives. */
	assert_person(f, "carol", false);
	assert_false(is_active(f, one));
	assert_false(is_active(f, two));
	assert_the_new_carol_sees_none_of_the_old(f, old_id);
	assert_status(users_delete(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_OK, &f->e);
	assert_int_equal(reply->revoked, 0);
	reply_free(reply);
	assert_status(users_delete(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_NOT_FOUND, &f->e);
	free(one);
	free(two);
	free(old_id);
	free(app);
}

static void
users_are_listed_with_their_flags(void **state)
{
	fixture *f = *state;
	Enrt__V1__ListUsersRequest req = ENRT__V1__LIST_USERS_REQUEST__INIT;
	Enrt__V1__ListUsersReply *list = NULL;

	assert_person(f, "dave", true);
	assert_person(f, "erin", false);
	req.has_page_size = true;
	req.page_size = 1;
	assert_status(users_list(&f->rules, &f->actor, &req, &list, &f->e),
	    ENRT_OK, &f->e);
	assert_int_equal(list->n_users, 1);
	assert_string_equal(list->users[0]->id, "dave");
	assert_true(list->users[0]->admin);
	assert_non_null(list->next_cursor);
	req.page_cursor = list->next_cursor;
	list->next_cursor = NULL;
	reply_free(list);
	assert_status(users_list(&f->rules, &f->actor, &req, &list, &f->e),
	    ENRT_OK, &f->e);
	assert_string_equal(list->users[0]->id, "erin");
	free(req.page_cursor);
	reply_free(list);
}

/* ------------------------------------------------------------------ */
/* Audit, batch, eligible apps                                         */

static bool
has_event(const Enrt__V1__ListAuditReply *list, const char *action,
    const char *target, Enrt__V1__Status outcome)
{
	for (size_t i = 0; i < list->n_events; i++) {
		const store_event *ev = list->events[i];
		if (strcmp(ev->action, action) == 0 &&
		    (target == NULL || (ev->target_id && strcmp(ev->target_id,
		                                             target) == 0)) &&
		    ev->outcome == outcome) {
			return true;
		}
	}
	return false;
}

static void
every_change_is_audited_in_order(void **state)
{
	fixture *f = *state;
	char *app = make_app(f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS);
	char *id, *value = issue_pat(f, app, "alice", &id);
	Enrt__V1__ListAuditRequest req = ENRT__V1__LIST_AUDIT_REQUEST__INIT;
	Enrt__V1__ListAuditReply *list = NULL;

	audit_refusal(
	    &f->rules, &f->actor, "issue", app, ENRT_PERMISSION_DENIED);
	assert_status(audit_list(&f->rules, &f->actor, &req, &list, &f->e),
	    ENRT_OK, &f->e);
	assert_true(has_event(list, "app_create", app, ENRT__V1__STATUS__OK));
	assert_true(
	    has_event(list, "caller_add", f->admin->id, ENRT__V1__STATUS__OK));
	assert_true(
	    has_event(list, "user_mirror", "alice", ENRT__V1__STATUS__OK));
	assert_true(has_event(list, "issue", id, ENRT__V1__STATUS__OK));
	assert_true(has_event(
	    list, "issue", app, ENRT__V1__STATUS__PERMISSION_DENIED));
	for (size_t i = 1; i < list->n_events; i++) {
		assert_true(
		    list->events[i]->sequence > list->events[i - 1]->sequence);
	}
	assert_string_equal(list->events[0]->caller_id, f->admin->id);
	reply_free(list);

	req.has_since = true;
	req.since = NOW + 1;
	assert_status(audit_list(&f->rules, &f->actor, &req, &list, &f->e),
	    ENRT_OK, &f->e);
	assert_int_equal(list->n_events, 0);
	reply_free(list);
	free(value);
	free(id);
	free(app);
}

static void
batch_answers_each_token_as_a_single_introspect(void **state)
{
	fixture *f = *state;
	char *app = make_app(f, "a", ENRT__V1__POLICY__AUTHENTICATED_USERS);
	char *good = issue_pat(f, app, "alice", NULL);
	Enrt__V1__IntrospectBatchRequest req =
	    ENRT__V1__INTROSPECT_BATCH_REQUEST__INIT;
	Enrt__V1__IntrospectBatchReply *reply = NULL;
	char *tokens[129];

	tokens[0] = good;
	tokens[1] = "garbage";
	tokens[2] = good;
	req.tokens = tokens;
	req.n_tokens = 3;
	assert_status(
	    rules_introspect_batch(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_OK, &f->e);
	assert_int_equal(reply->n_answers, 3);
	assert_true(reply->answers[0]->active);
	assert_string_equal(reply->answers[0]->subject, "alice");
	assert_false(reply->answers[1]->active);
	assert_null(reply->answers[1]->token_id);
	assert_true(reply->answers[2]->active);
	reply_free(reply);

	for (int i = 0; i < 129; i++) {
		tokens[i] = good;
	}
	req.n_tokens = 129;
	assert_status(
	    rules_introspect_batch(&f->rules, &f->actor, &req, &reply, &f->e),
	    ENRT_INVALID_ARGUMENT, &f->e);
	assert_null(reply);
	free(good);
	free(app);
}

static void
a_person_sees_only_the_apps_they_may_issue_in(void **state)
{
	fixture *f = *state;
	char *open =
	    make_app(f, "open", ENRT__V1__POLICY__AUTHENTICATED_USERS);
	char *admins =
	    make_app(f, "admins", ENRT__V1__POLICY__ADMINISTRATORS_ONLY);
	char *closed = make_app(f, "closed", ENRT__V1__POLICY__NONE);
	Enrt__V1__ListAppsRequest req = ENRT__V1__LIST_APPS_REQUEST__INIT;
	Enrt__V1__ListAppsReply *list = NULL;
	portal_view v;
	actor *a = as_person(f, &v, "frank");

	assert_status(apps_list(&f->rules, a, &req, &list, &f->e),
	    ENRT_PERMISSION_DENIED, &f->e);
	req.has_eligible = req.eligible = true;
	assert_status(
	    apps_list(&f->rules, a, &req, &list, &f->e), ENRT_OK, &f->e);
	assert_int_equal(list->n_apps, 1);
	assert_string_equal(list->apps[0]->id, open);
	reply_free(list);

	v.person.has_admin = v.person.admin = true;
	assert_status(
	    apps_list(&f->rules, a, &req, &list, &f->e), ENRT_OK, &f->e);
	assert_int_equal(list->n_apps, 2);
	reply_free(list);
	free(open);
	free(admins);
	free(closed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(added_caller_authenticates_until_revoked),
	    T(a_caller_may_not_revoke_itself),
	    T(add_caller_checks_name_role_and_apps),
	    T(listed_callers_carry_no_secret),
	    T(introspect_caller_limited_to_apps_sees_others_inactive),
	    T(a_person_revokes_by_value_only_their_own_pats),
	    T(disabling_a_user_suspends_their_pats_and_enabling_restores),
	    T(a_disabled_person_is_refused_and_no_assertion_enables_them),
	    T(deleting_a_user_revokes_their_tokens_for_good),
	    T(users_are_listed_with_their_flags),
	    T(every_change_is_audited_in_order),
	    T(batch_answers_each_token_as_a_single_introspect),
	    T(a_person_sees_only_the_apps_they_may_issue_in),
#undef T
	};

	if (sodium_init() < 0) {
		return 1;
	}
	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
