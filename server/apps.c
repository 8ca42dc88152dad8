/*
 * Trusted Applications: the records that tokens belong to and the
 * policy, System User, scopes and lifetime that govern them.  Every
 * change is one write transaction; names stay unique through the store.
 * Runs on the transport's threads.
 */
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "audit.h"
#include "format.h"
#include "log.h"
#include "reply.h"
#include "validate.h"

/* The parts of an app that a create or an update may set. */
typedef struct app_fields {
	const char *name;
	bool has_policy;
	Enrt__V1__Policy policy;
	const char *system_user;
	bool has_scopes;
	char *const *scopes;
	size_t n_scopes;
	bool has_days;
	uint32_t days;
	bool unlimited;
} app_fields;

static enrt_status
require_admin(const actor *a, err *e)
{
	if (!rules_actor_is_admin(a)) {
		return err_set(e, ENRT_PERMISSION_DENIED,
		    "only administrators may manage apps");
	}
	return ENRT_OK;
}

static enrt_status
check_policy_field(const app_fields *f, err *e)
{
	if (!f->has_policy) {
		return ENRT_OK;
	}
	switch (f->policy) {
	case ENRT__V1__POLICY__NONE:
	case ENRT__V1__POLICY__AUTHENTICATED_USERS:
	case ENRT__V1__POLICY__ADMINISTRATORS_ONLY:
		return ENRT_OK;
	default:
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "policy: must be None, AuthenticatedUsers or "
		    "AdministratorsOnly");
	}
}

static enrt_status
check_lifetime_fields(const app_fields *f, err *e)
{
	if (f->unlimited && f->has_days) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "max_lifetime_days: cannot be given together with "
		    "unlimited_lifetime");
	}
	if (f->has_days && (f->days < 1 || f->days > APPS_MAX_LIFETIME_DAYS)) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "max_lifetime_days: 1 to %d days, got %u",
		    APPS_MAX_LIFETIME_DAYS, f->days);
	}
	return ENRT_OK;
}

/* Checks the fields that are present; *scopes gets the distinct ones. */
static enrt_status
check_fields(
    const app_fields *f, const char ***scopes, size_t *n_scopes, err *e)
{
	*scopes = NULL;
	*n_scopes = 0;
	if ((f->name != NULL &&
	        validate_name("name", f->name, e) != ENRT_OK) ||
	    check_policy_field(f, e) != ENRT_OK ||
	    check_lifetime_fields(f, e) != ENRT_OK) {
		return e->code;
	}
	if (f->system_user != NULL &&
	    validate_user_id("system_user", f->system_user, e) != ENRT_OK) {
		return e->code;
	}
	if (!f->has_scopes) {
		return ENRT_OK;
	}
	return validate_scopes("allowed_scopes", f->scopes, f->n_scopes,
	    VALIDATE_APP_SCOPES_MAX, false, scopes, n_scopes, e);
}

/*
 * rules_load_app, for the requests that name the app in a field called
 * id: the message names the field the request has.
 */
static enrt_status
load_app(store_txn *t, const char *id, store_app **app, err *e)
{
	enrt_status rc = store_app_get(t, id, app);

	if (rc == ENRT_NOT_FOUND) {
		return err_set(e, rc, "id: no app %s", id);
	}
	return rc == ENRT_OK ? rc : rules_store_failed(rc, e);
}

/* Sets on app what f carries; pointers are borrowed from f. */
static void
apply_fields(
    store_app *app, const app_fields *f, const char **scopes, size_t n_scopes)
{
	if (f->name != NULL) {
		app->name = (char *)f->name;
	}
	if (f->has_policy) {
		app->has_policy = true;
		app->policy = f->policy;
	}
	if (f->system_user != NULL) {
		app->system_user = (char *)f->system_user;
	}
	if (f->has_scopes) {
		app->allowed_scopes = (char **)scopes;
		app->n_allowed_scopes = n_scopes;
	}
	if (f->unlimited) {
		app->has_max_lifetime_days = false;
	} else if (f->has_days) {
		app->has_max_lifetime_days = true;
		app->max_lifetime_days = f->days;
	}
}

/* Puts a new app and commits; on success *out is a copy for the reply. */
static enrt_status
save_new(rules *r, const actor *a, const store_app *app, Enrt__V1__App **out,
    err *e)
{
	store_txn *t;
	enrt_status rc;

	if ((rc = store_begin_write(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	store_app_put(t, app);
	audit_record(t, a, "app_create", app->id);
	if ((rc = rules_commit(t, e)) != ENRT_OK) {
		return rc;
	}
	*out = reply_app(app);
	return ENRT_OK;
}

static void
create_fields(const Enrt__V1__CreateAppRequest *req, app_fields *f)
{
	f->name = req->name;
	f->has_policy = true;
	f->policy = req->has_policy ? req->policy : ENRT__V1__POLICY__NONE;
	f->system_user = req->system_user;
	f->has_scopes = true;
	f->scopes = req->allowed_scopes;
	f->n_scopes = req->n_allowed_scopes;
	f->has_days = req->has_max_lifetime_days;
	f->days = req->max_lifetime_days;
	f->unlimited = req->has_unlimited_lifetime && req->unlimited_lifetime;
}

static enrt_status
check_create_required(const app_fields *f, err *e)
{
	if (f->name == NULL || f->name[0] == '\0') {
		return err_set(e, ENRT_INVALID_ARGUMENT, "name: required");
	}
	if (f->system_user == NULL || f->system_user[0] == '\0') {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "system_user: required; SATs of the app act as this "
		    "user");
	}
	return ENRT_OK;
}

enrt_status
apps_create(rules *r, const actor *a, const Enrt__V1__CreateAppRequest *req,
    Enrt__V1__App **out, err *e)
{
	store_app app = ENRT__V1__APP__INIT;
	char id[FORMAT_ID_MAX];
	app_fields f = {0};
	const char **scopes;
	size_t n_scopes;
	enrt_status rc;

	*out = NULL;
	create_fields(req, &f);
	if (require_admin(a, e) != ENRT_OK ||
	    check_create_required(&f, e) != ENRT_OK ||
	    check_fields(&f, &scopes, &n_scopes, e) != ENRT_OK) {
		return e->code;
	}

	format_random_id(id, "app_");
	app.id = id;
	app.has_max_lifetime_days = true;
	app.max_lifetime_days = APPS_DEFAULT_LIFETIME_DAYS;
	apply_fields(&app, &f, scopes, n_scopes);
	app.has_enabled = app.enabled = true;
	app.has_created_at = app.has_updated_at = true;
	app.created_at = app.updated_at = a->now;

	rc = save_new(r, a, &app, out, e);
	free(scopes);
	if (rc == ENRT_OK) {
		log_info(
		    "app_created", "app_id=%s caller=%s", id, a->caller->id);
	}
	return rc;
}

static void
update_fields(const Enrt__V1__UpdateAppRequest *req, app_fields *f)
{
	f->name = req->name;
	f->has_policy = req->has_policy;
	f->policy = req->policy;
	f->system_user = req->system_user;
	f->has_scopes = req->allowed_scopes != NULL;
	if (f->has_scopes) {
		f->scopes = req->allowed_scopes->scopes;
		f->n_scopes = req->allowed_scopes->n_scopes;
	}
	f->has_days = req->has_max_lifetime_days;
	f->days = req->max_lifetime_days;
	f->unlimited = req->has_unlimited_lifetime && req->unlimited_lifetime;
}

static bool
changes_anything(const Enrt__V1__UpdateAppRequest *req)
{
	return req->name != NULL || req->has_policy ||
	       req->system_user != NULL || req->allowed_scopes != NULL ||
	       req->has_max_lifetime_days || req->has_unlimited_lifetime ||
	       req->has_enabled;
}

static enrt_status
check_update(const actor *a, const Enrt__V1__UpdateAppRequest *req, err *e)
{
	if (require_admin(a, e) != ENRT_OK ||
	    validate_id("id", req->id, "app_", e) != ENRT_OK) {
		return e->code;
	}
	if (!changes_anything(req)) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "update: names no field to change");
	}
	if (req->has_unlimited_lifetime && !req->unlimited_lifetime &&
	    !req->has_max_lifetime_days) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "max_lifetime_days: required to end an unlimited "
		    "lifetime");
	}
	return ENRT_OK;
}

/*
 * Reads, changes and writes the app in one transaction, so that two
 * concurrent updates of different fields both take effect.
 */
static enrt_status
change(rules *r, const actor *a, const Enrt__V1__UpdateAppRequest *req,
    const app_fields *f, const char **scopes, size_t n_scopes,
    Enrt__V1__App **out, err *e)
{
	store_app *app = NULL;
	store_app changed;
	store_txn *t;
	enrt_status rc;

	if ((rc = store_begin_write(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	if ((rc = load_app(t, req->id, &app, e)) != ENRT_OK) {
		store_abort(t);
		return rc;
	}
	/* A shallow copy, so that app keeps the pointers it owns. */
	changed = *app;
	apply_fields(&changed, f, scopes, n_scopes);
	if (req->has_enabled) {
		changed.has_enabled = true;
		changed.enabled = req->enabled;
	}
	changed.updated_at = a->now;
	store_app_put(t, &changed);
	audit_record(t, a, "app_update", changed.id);

	if ((rc = rules_commit(t, e)) == ENRT_OK) {
		*out = reply_app(&changed);
	}
	store_free(app);
	return rc;
}

enrt_status
apps_update(rules *r, const actor *a, const Enrt__V1__UpdateAppRequest *req,
    Enrt__V1__App **out, err *e)
{
	app_fields f = {0};
	const char **scopes;
	size_t n_scopes;
	enrt_status rc;

	*out = NULL;
	update_fields(req, &f);
	if (check_update(a, req, e) != ENRT_OK ||
	    check_fields(&f, &scopes, &n_scopes, e) != ENRT_OK) {
		return e->code;
	}
	rc = change(r, a, req, &f, scopes, n_scopes, out, e);
	free(scopes);
	if (rc == ENRT_OK) {
		log_info("app_updated", "app_id=%s caller=%s", req->id,
		    a->caller->id);
	}
	return rc;
}

enrt_status
apps_get(rules *r, const actor *a, const Enrt__V1__GetAppRequest *req,
    Enrt__V1__App **out, err *e)
{
	store_app *app = NULL;
	store_txn *t;
	enrt_status rc;

	*out = NULL;
	if (require_admin(a, e) != ENRT_OK ||
	    validate_id("id", req->id, "app_", e) != ENRT_OK) {
		return e->code;
	}
	if ((rc = store_begin_read(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	rc = load_app(t, req->id, &app, e);
	store_abort(t);
	if (rc == ENRT_OK) {
		*out = reply_app(app);
	}
	store_free(app);
	return rc;
}

/* One page of apps being built by store_app_scan. */
typedef struct app_page {
	reply_page page;
	const actor *actor; /* with eligible: whose eligibility */
	bool eligible;
} app_page;

/* Whether the acting person may issue a PAT in app (DESIGN section 1). */
static bool
eligible_for(const actor *a, const store_app *app)
{
	if (!app->enabled) {
		return false;
	}
	switch (app->policy) {
	case ENRT__V1__POLICY__AUTHENTICATED_USERS:
		return true;
	case ENRT__V1__POLICY__ADMINISTRATORS_ONLY:
		return rules_actor_is_admin(a);
	default:
		return false;
	}
}

static void *
app_copy(const void *record)
{
	return reply_app(record);
}

static store_visit
take_app(void *arg, const store_app *app)
{
	app_page *p = arg;

	if (p->eligible && !eligible_for(p->actor, app)) {
		return STORE_CONTINUE;
	}
	return reply_page_take(&p->page, app);
}

static enrt_status
scan_apps(rules *r, const char *cursor, app_page *p,
    Enrt__V1__ListAppsReply *reply, err *e)
{
	char next[STORE_CURSOR_MAX];
	store_txn *t;
	enrt_status rc;

	if ((rc = store_begin_read(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	rc = store_app_scan(t, cursor, take_app, p, next);
	store_abort(t);
	if (rc != ENRT_OK) {
		return rules_scan_failed(rc, e);
	}
	reply->next_cursor = next[0] == '\0' ? NULL : reply_strdup(next);
	return ENRT_OK;
}

/*
 * Administrators list every app; anyone may list the apps where the
 * person they act for may issue a PAT.
 */
enrt_status
apps_list(rules *r, const actor *a, const Enrt__V1__ListAppsRequest *req,
    Enrt__V1__ListAppsReply **out, err *e)
{
	Enrt__V1__ListAppsReply *reply;
	app_page p = {.page.copy = app_copy, .actor = a};
	enrt_status rc;

	*out = NULL;
	p.eligible = req->has_eligible && req->eligible;
	if ((!p.eligible && require_admin(a, e) != ENRT_OK) ||
	    validate_page_size(req->has_page_size, req->page_size,
	        &p.page.limit, e) != ENRT_OK) {
		return e->code;
	}
	reply = reply_alloc(sizeof(*reply));
	enrt__v1__list_apps_reply__init(reply);
	p.page.items = (void ***)&reply->apps;
	p.page.n_items = &reply->n_apps;

	if ((rc = scan_apps(r, req->page_cursor, &p, reply, e)) != ENRT_OK) {
		reply_free(reply);
		return rc;
	}
	*out = reply;
	return ENRT_OK;
}
