/*
 * People, callers and policy at use time, against a real enrtd through
 * libenrt: every row of the policy table for PATs and SATs and for each
 * role, every reversible state switched off and on, one person's tokens
 * out of another's reach through every request shape, and the audit log.
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

#define DAY INT64_C(86400)

typedef struct fixture {
	server srv;
	enrt_client *admin;  /* the bootstrap admin caller */
	enrt_client *portal; /* a portal caller */
	enrt_client *gate;   /* an introspect caller */
	char *apps[3];       /* by policy: None, Authenticated, AdminsOnly */
} fixture;

/* ------------------------------------------------------------------ */
/* Set-up                                                              */

static enrt_client *
caller(fixture *f, const char *name, enrt_role role)
{
	enrt_caller_added *added = NULL;
	enrt_client *c = NULL;
	enrt_error e;

	assert_status(
	    enrt_caller_add(f->admin, name, role, NULL, 0, &added, &e),
	    ENRT_OK, &e);
	assert_int_equal(
	    server_client(&f->srv, f->srv.ipc_url, added->credential, &c), 0);
	enrt_caller_added_free(added);
	return c;
}

static char *
app(fixture *f, const char *name, enrt_policy policy)
{
	enrt_app_params p = {.name = name,
	    .set_policy = true,
	    .policy = policy,
	    .system_user = "svc-robot"};
	enrt_app *made = NULL;
	enrt_error e;
	char *id;

	assert_status(enrt_app_create(f->admin, &p, &made, &e), ENRT_OK, &e);
	id = strdup(made->id);
	enrt_app_free(made);
	return id;
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || server_init(&f->srv, false, 0) != 0 ||
	    server_start(&f->srv) != 0 ||
	    server_client(&f->srv, f->srv.ipc_url, NULL, &f->admin) != 0) {
		return -1;
	}
	*state = f;
	f->portal = caller(f, "portal", ENRT_ROLE_PORTAL);
	f->gate = caller(f, "gateway", ENRT_ROLE_INTROSPECT);
	f->apps[0] = app(f, "none", ENRT_POLICY_NONE);
	f->apps[1] = app(f, "everyone", ENRT_POLICY_AUTHENTICATED_USERS);
	f->apps[2] = app(f, "admins", ENRT_POLICY_ADMINISTRATORS_ONLY);
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	enrt_client_close(f->gate);
	enrt_client_close(f->portal);
	enrt_client_close(f->admin);
	assert_int_equal(server_stop(&f->srv), 0);
	server_destroy(&f->srv);
	for (int i = 0; i < 3; i++) {
		free(f->apps[i]);
	}
	free(f);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

/* A view of the portal caller acting for a person. */
static enrt_client *
as(fixture *f, const char *user, bool admin)
{
	enrt_person person = {.user_id = user, .admin = admin};
	enrt_client *view = NULL;
	enrt_error e;

	assert_status(
	    enrt_client_as(f->portal, &person, &view, &e), ENRT_OK, &e);
	return view;
}

static enrt_status
issue(enrt_client *c, const char *app_id, enrt_kind kind, const char *owner,
    enrt_issued **out, enrt_error *e)
{
	const char *scopes[] = {"read"};
	enrt_issue_params p = {.app_id = app_id,
	    .kind = kind,
	    .has_expires_at = true,
	    .expires_at = (int64_t)time(NULL) + DAY,
	    .scopes = scopes,
	    .n_scopes = 1,
	    .owner = owner};

	*out = NULL;
	return enrt_issue(c, &p, out, e);
}

static bool
active(fixture *f, const enrt_issued *t)
{
	int is = server_active(f->gate, t->value);

	assert_true(is >= 0);
	return is == 1;
}

static void
set_policy(fixture *f, const char *app_id, enrt_policy policy)
{
	enrt_app_params p = {.set_policy = true, .policy = policy};
	enrt_app *out = NULL;
	enrt_error e;

	assert_status(
	    enrt_app_update(f->admin, app_id, &p, &out, &e), ENRT_OK, &e);
	enrt_app_free(out);
}

static void
set_enabled(fixture *f, const char *app_id, bool enabled)
{
	enrt_app_params p = {.set_enabled = true, .enabled = enabled};
	enrt_app *out = NULL;
	enrt_error e;

	assert_status(
	    enrt_app_update(f->admin, app_id, &p, &out, &e), ENRT_OK, &e);
	enrt_app_free(out);
}

static void
set_user(fixture *f, const char *id, bool set_admin, bool admin,
    bool set_enabled, bool enabled)
{
	enrt_user *u = NULL;
	enrt_error e;

	assert_status(enrt_user_set(f->admin, id, set_admin, admin,
	                  set_enabled, enabled, &u, &e),
	    ENRT_OK, &e);
	enrt_user_free(u);
}

/* ------------------------------------------------------------------ */
/* The policy table of DESIGN section 1                                */

typedef struct policy_row {
	int app;           /* index into f->apps */
	enrt_status user;  /* PAT by a signed-in user, for themselves */
	enrt_status admin; /* PAT by an admin person, for themselves */
	enrt_status sat;   /* SAT by an admin person */
} policy_row;

static const policy_row policy_table[] = {
    {0, ENRT_FAILED_PRECONDITION, ENRT_FAILED_PRECONDITION,
        ENRT_FAILED_PRECONDITION},
    {1, ENRT_OK, ENRT_OK, ENRT_OK},
    {2, ENRT_PERMISSION_DENIED, ENRT_OK, ENRT_OK},
};

/* Issues as asked; an issued token must also answer active. */
static void
expect_issue(fixture *f, enrt_client *c, const char *app_id, enrt_kind kind,
    enrt_status want)
{
	enrt_issued *t = NULL;
	enrt_error e;

	assert_status(issue(c, app_id, kind, NULL, &t, &e), want, &e);
	if (want == ENRT_OK) {
		assert_true(active(f, t));
	}
	enrt_issued_free(t);
}

static void
portal_persons_follow_the_policy_table(void **state)
{
	fixture *f = *state;
	enrt_client *user = as(f, "ursula", false);
	enrt_client *boss = as(f, "bea", true);

	for (size_t i = 0; i < sizeof(policy_table) / sizeof(*policy_table);
	     i++) {
		const policy_row *row = &policy_table[i];
		const char *id = f->apps[row->app];

		expect_issue(f, user, id, ENRT_KIND_PAT, row->user);
		expect_issue(f, boss, id, ENRT_KIND_PAT, row->admin);
		expect_issue(f, boss, id, ENRT_KIND_SAT, row->sat);
		expect_issue(f, user, id, ENRT_KIND_SAT,
		    row->app == 0 ? ENRT_FAILED_PRECONDITION
		                  : ENRT_PERMISSION_DENIED);
	}
	enrt_client_close(user);
	enrt_client_close(boss);
}

static void
each_role_reaches_only_its_operations(void **state)
{
	fixture *f = *state;
	enrt_issued *t = NULL;
	enrt_app_page *page = NULL;
	enrt_error e;

	/* An admin caller follows the table too, naming the owner. */
	assert_status(
	    issue(f->admin, f->apps[0], ENRT_KIND_PAT, "ann", &t, &e),
	    ENRT_FAILED_PRECONDITION, &e);
	assert_status(issue(f->admin, f->apps[1], ENRT_KIND_SAT, NULL, &t, &e),
	    ENRT_OK, &e);
	assert_true(active(f, t));
	enrt_issued_free(t);

	/* Introspect callers verify; they issue and manage nothing. */
	assert_status(issue(f->gate, f->apps[1], ENRT_KIND_SAT, NULL, &t, &e),
	    ENRT_PERMISSION_DENIED, &e);
	assert_status(enrt_app_list(f->gate, NULL, 0, &page, &e),
	    ENRT_PERMISSION_DENIED, &e);

	/* A portal caller acts for a person or not at all. */
	assert_status(
	    issue(f->portal, f->apps[1], ENRT_KIND_SAT, NULL, &t, &e),
	    ENRT_INVALID_ARGUMENT, &e);
	assert_null(t);
}

/* ------------------------------------------------------------------ */
/* Reversible states (DESIGN section 5)                                */

static void
every_reversible_state_switches_a_token_off_and_on(void **state)
{
	fixture *f = *state;
	enrt_client *vic = as(f, "vic", true);
	enrt_issued *pat = NULL, *sat = NULL;
	enrt_error e;

	assert_status(issue(vic, f->apps[2], ENRT_KIND_PAT, NULL, &pat, &e),
	    ENRT_OK, &e);
	assert_status(issue(vic, f->apps[2], ENRT_KIND_SAT, NULL, &sat, &e),
	    ENRT_OK, &e);

	set_enabled(f, f->apps[2], false);
	assert_false(active(f, pat));
	assert_false(active(f, sat));
	set_enabled(f, f->apps[2], true);
	assert_true(active(f, pat));
	assert_true(active(f, sat));

	set_policy(f, f->apps[2], ENRT_POLICY_NONE);
	assert_false(active(f, pat));
	assert_false(active(f, sat));
	set_policy(f, f->apps[2], ENRT_POLICY_ADMINISTRATORS_ONLY);
	assert_true(active(f, pat));

	set_user(f, "vic", true, false, false, false); /* demoted */
	assert_false(active(f, pat));
	assert_true(active(f, sat));
	set_user(f, "vic", true, true, false, false);
	assert_true(active(f, pat));

	set_user(f, "vic", false, false, true, false); /* disabled */
	assert_false(active(f, pat));
	set_user(f, "vic", false, false, true, true);
	assert_true(active(f, pat));

	enrt_issued_free(pat);
	enrt_issued_free(sat);
	enrt_client_close(vic);
}

/* ------------------------------------------------------------------ */
/* One person, one person's tokens                                     */

static void
a_person_never_reaches_another_persons_tokens(void **state)
{
	fixture *f = *state;
	enrt_client *amy = as(f, "amy", false);
	enrt_client *bob = as(f, "bob", false);
	enrt_list_params mine = {0}, theirs = {.owner = "amy"};
	enrt_list_params by_app = {.app_id = f->apps[1]};
	enrt_token_page *page = NULL;
	enrt_issued *t = NULL, *stolen = NULL;
	enrt_error e;

	assert_status(
	    issue(amy, f->apps[1], ENRT_KIND_PAT, NULL, &t, &e), ENRT_OK, &e);

	assert_status(
	    issue(bob, f->apps[1], ENRT_KIND_PAT, "amy", &stolen, &e),
	    ENRT_PERMISSION_DENIED, &e);
	assert_status(
	    enrt_revoke_id(bob, t->token.id, &e), ENRT_NOT_FOUND, &e);
	/* Holding the value is no right either: answered as an unknown one. */
	assert_status(enrt_revoke_value(bob, t->value, strlen(t->value), &e),
	    ENRT_OK, &e);
	assert_true(active(f, t));
	assert_status(enrt_revoke_user(bob, "amy", NULL, &e),
	    ENRT_PERMISSION_DENIED, &e);
	assert_status(enrt_list_tokens(bob, &mine, &page, &e), ENRT_OK, &e);
	assert_int_equal(page->n_tokens, 0);
	enrt_token_page_free(page);
	page = NULL;
	assert_status(enrt_list_tokens(bob, &theirs, &page, &e),
	    ENRT_PERMISSION_DENIED, &e);
	assert_status(enrt_list_tokens(bob, &by_app, &page, &e),
	    ENRT_PERMISSION_DENIED, &e);
	assert_true(active(f, t));

	assert_status(enrt_list_tokens(amy, &mine, &page, &e), ENRT_OK, &e);
	assert_int_equal(page->n_tokens, 1);
	assert_string_equal(page->tokens[0].id, t->token.id);
	enrt_token_page_free(page);
	assert_status(enrt_revoke_id(amy, t->token.id, &e), ENRT_OK, &e);
	assert_false(active(f, t));

	enrt_issued_free(t);
	enrt_client_close(amy);
	enrt_client_close(bob);
}

static void
a_revoked_caller_is_refused_at_once(void **state)
{
	fixture *f = *state;
	enrt_caller_added *added = NULL;
	enrt_client *c = NULL;
	enrt_app_page *page = NULL;
	enrt_error e;

	assert_status(enrt_caller_add(f->admin, "temp", ENRT_ROLE_ADMIN, NULL,
	                  0, &added, &e),
	    ENRT_OK, &e);
	assert_int_equal(
	    server_client(&f->srv, f->srv.ipc_url, added->credential, &c), 0);
	assert_status(enrt_app_list(c, NULL, 0, &page, &e), ENRT_OK, &e);
	enrt_app_page_free(page);
	page = NULL;

	assert_status(
	    enrt_caller_revoke(f->admin, added->caller.id, &e), ENRT_OK, &e);
	assert_status(
	    enrt_app_list(c, NULL, 0, &page, &e), ENRT_UNAUTHENTICATED, &e);
	assert_null(page);
	enrt_client_close(c);
	enrt_caller_added_free(added);
}

/* ------------------------------------------------------------------ */
/* Audit                                                               */

static bool
audited(fixture *f, const char *action, const char *target)
{
	enrt_audit_page *page = NULL;
	enrt_error e;
	bool found = false;

	assert_status(
	    enrt_audit_list(f->admin, false, 0, NULL, 1000, &page, &e),
	    ENRT_OK, &e);
	for (size_t i = 0; i < page->n_events && !found; i++) {
		const enrt_audit_event *ev = &page->events[i];
		found =
		    strcmp(ev->action, action) == 0 &&
		    (target == NULL ||
		        (ev->target_id && strcmp(ev->target_id, target) == 0));
	}
	enrt_audit_page_free(page);
	return found;
}

static void
the_audit_log_lists_each_change(void **state)
{
	fixture *f = *state;
	enrt_client *kim = as(f, "kim", false);
	enrt_issued *t = NULL;
	enrt_error e;

	assert_status(
	    issue(kim, f->apps[1], ENRT_KIND_PAT, NULL, &t, &e), ENRT_OK, &e);
	assert_status(enrt_revoke_id(kim, t->token.id, &e), ENRT_OK, &e);
	set_user(f, "kim", false, false, true, false);

	assert_true(audited(f, "app_create", f->apps[1]));
	assert_true(audited(f, "caller_add", NULL));
	assert_true(audited(f, "issue", t->token.id));
	assert_true(audited(f, "revoke", t->token.id));
	assert_true(audited(f, "user_set", "kim"));
	assert_true(audited(f, "user_mirror", "kim"));
	enrt_issued_free(t);
	enrt_client_close(kim);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(portal_persons_follow_the_policy_table),
	    T(each_role_reaches_only_its_operations),
	    T(every_reversible_state_switches_a_token_off_and_on),
	    T(a_person_never_reaches_another_persons_tokens),
	    T(a_revoked_caller_is_refused_at_once),
	    T(the_audit_log_lists_each_change),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
