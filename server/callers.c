/*
 * Callers: credentials made, listed and revoked, each change audited in
 * its own transaction.  Runs on the transport's threads.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "callers.h"
#include "format.h"
#include "log.h"
#include "reply.h"
#include "validate.h"

static enrt_status
check_role(const Enrt__V1__AddCallerRequest *req, err *e)
{
	switch (req->has_role ? req->role : ENRT__V1__ROLE__ROLE_UNSPECIFIED) {
	case ENRT__V1__ROLE__INTROSPECT:
	case ENRT__V1__ROLE__PORTAL:
	case ENRT__V1__ROLE__ADMIN:
		return ENRT_OK;
	default:
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "role: required, introspect, portal or admin");
	}
}

static bool
named_before(const Enrt__V1__AddCallerRequest *req, size_t i)
{
	for (size_t j = 0; j < i; j++) {
		if (strcmp(req->app_ids[j], req->app_ids[i]) == 0) {
			return true;
		}
	}
	return false;
}

static enrt_status
check_app_ids(const Enrt__V1__AddCallerRequest *req, err *e)
{
	if (req->n_app_ids > 0 && req->role != ENRT__V1__ROLE__INTROSPECT) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "app_ids: only an introspect caller is limited to apps");
	}
	if (req->n_app_ids > CALLERS_APPS_MAX) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "app_ids: at most %d apps, got %zu", CALLERS_APPS_MAX,
		    req->n_app_ids);
	}
	for (size_t i = 0; i < req->n_app_ids; i++) {
		if (validate_id("app_ids", req->app_ids[i], "app_", e) !=
		    ENRT_OK) {
			return e->code;
		}
		if (named_before(req, i)) {
			return err_set(e, ENRT_INVALID_ARGUMENT,
			    "app_ids: %s is given more than once",
			    req->app_ids[i]);
		}
	}
	return ENRT_OK;
}

static enrt_status
check_add(const Enrt__V1__AddCallerRequest *req, err *e)
{
	if (validate_name("name", req->name, e) != ENRT_OK ||
	    check_role(req, e) != ENRT_OK ||
	    check_app_ids(req, e) != ENRT_OK) {
		return e->code;
	}
	return ENRT_OK;
}

/* Every app an introspect caller is limited to must exist now. */
static enrt_status
check_apps_exist(store_txn *t, const Enrt__V1__AddCallerRequest *req, err *e)
{
	store_app *app = NULL;
	enrt_status rc = ENRT_OK;

	for (size_t i = 0; rc == ENRT_OK && i < req->n_app_ids; i++) {
		rc = store_app_get(t, req->app_ids[i], &app);
		store_free(app);
		app = NULL;
		if (rc == ENRT_NOT_FOUND) {
			return err_set(
			    e, rc, "app_ids: no app %s", req->app_ids[i]);
		}
	}
	return rc == ENRT_OK ? rc : rules_store_failed(rc, e);
}

static void *
caller_copy(const void *record)
{
	const store_caller *c = record;
	store_caller *copy = reply_alloc(sizeof(*copy));

	enrt__v1__caller_record__init(copy);
	copy->id = reply_strdup(c->id);
	copy->name = reply_strdup(c->name);
	copy->has_role = c->has_role;
	copy->role = c->role;
	copy->app_ids =
	    reply_strings((const char *const *)c->app_ids, c->n_app_ids);
	copy->n_app_ids = c->n_app_ids;
	copy->has_created_at = c->has_created_at;
	copy->created_at = c->created_at;
	copy->has_revoked_at = c->has_revoked_at;
	copy->revoked_at = c->revoked_at;
	return copy;
}

static Enrt__V1__AddCallerReply *
added(const char *credential, const store_caller *c)
{
	Enrt__V1__AddCallerReply *reply = reply_alloc(sizeof(*reply));

	enrt__v1__add_caller_reply__init(reply);
	reply->credential = reply_strdup(credential);
	reply->caller = caller_copy(c);
	return reply;
}

/* Writes the new caller in t and commits; consumes t. */
static enrt_status
make_caller(rules *r, store_txn *t, const actor *a,
    const Enrt__V1__AddCallerRequest *req, Enrt__V1__AddCallerReply **out,
    err *e)
{
	uint8_t raw[FORMAT_RAW_LEN], digest[STORE_DIGEST_LEN];
	char credential[FORMAT_SECRET_LEN + 1], id[FORMAT_ID_MAX];
	store_caller c = ENRT__V1__CALLER_RECORD__INIT;
	enrt_status rc;

	randombytes_buf(raw, sizeof(raw));
	format_secret(credential, ENRT_CREDENTIAL_PREFIX, raw);
	sodium_memzero(raw, sizeof(raw));
	rules_digest(r, credential, FORMAT_SECRET_LEN, digest);
	format_random_id(id, "cal_");

	c.id = id;
	c.name = req->name;
	c.has_role = true;
	c.role = req->role;
	c.app_ids = req->app_ids;
	c.n_app_ids = req->n_app_ids;
	c.has_created_at = true;
	c.created_at = a->now;
	store_caller_add(t, digest, &c);
	audit_record(t, a, "caller_add", id);

	rc = rules_commit(t, e);
	if (rc == ENRT_OK) {
		*out = added(credential, &c);
		log_info("caller_added", "caller_id=%s caller=%s", id,
		    a->caller->id);
	}
	sodium_memzero(credential, sizeof(credential));
	return rc;
}

enrt_status
callers_add(rules *r, const actor *a, const Enrt__V1__AddCallerRequest *req,
    Enrt__V1__AddCallerReply **out, err *e)
{
	store_txn *t;
	enrt_status rc;

	*out = NULL;
	if (check_add(req, e) != ENRT_OK) {
		return e->code;
	}
	if ((rc = store_begin_write(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	if ((rc = check_apps_exist(t, req, e)) != ENRT_OK) {
		store_abort(t);
		return rc;
	}
	return make_caller(r, t, a, req, out, e);
}

static store_visit
take_caller(void *page, const store_caller *c)
{
	return reply_page_take(page, c);
}

enrt_status
callers_list(rules *r, const actor *a, const Enrt__V1__ListCallersRequest *req,
    Enrt__V1__ListCallersReply **out, err *e)
{
	Enrt__V1__ListCallersReply *reply;
	reply_page page = {.copy = caller_copy};
	char next[STORE_CURSOR_MAX];
	store_txn *t;
	enrt_status rc;

	*out = NULL;
	if (validate_page_size(req->has_page_size, req->page_size, &page.limit,
	        e) != ENRT_OK) {
		return e->code;
	}
	if ((rc = store_begin_read(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	reply = reply_alloc(sizeof(*reply));
	enrt__v1__list_callers_reply__init(reply);
	page.items = (void ***)&reply->callers;
	page.n_items = &reply->n_callers;

	rc = store_caller_scan(t, req->page_cursor, take_caller, &page, next);
	store_abort(t);
	if (rc != ENRT_OK) {
		reply_free(reply);
		return rules_scan_failed(rc, e);
	}
	reply->next_cursor = next[0] == '\0' ? NULL : reply_strdup(next);
	*out = reply;
	return ENRT_OK;
}

static enrt_status
find_caller(store_txn *t, const char *id, store_caller **c,
    uint8_t digest[STORE_DIGEST_LEN], err *e)
{
	enrt_status rc = store_caller_by_id(t, id, c, digest);

	if (rc == ENRT_NOT_FOUND) {
		return err_set(e, rc, "id: no caller %s", id);
	}
	return rc == ENRT_OK ? rc : rules_store_failed(rc, e);
}

/* Marks c revoked in t and commits; consumes t. */
static enrt_status
revoke_caller(store_txn *t, const actor *a, store_caller *c,
    const uint8_t digest[STORE_DIGEST_LEN], err *e)
{
	if (c->has_revoked_at) {
		store_abort(t); /* revocation is final: nothing to change */
		return ENRT_OK;
	}
	c->has_revoked_at = true;
	c->revoked_at = a->now;
	store_caller_update(t, digest, c);
	audit_record(t, a, "caller_revoke", c->id);
	if (rules_commit(t, e) != ENRT_OK) {
		return e->code;
	}
	log_info(
	    "caller_revoked", "caller_id=%s caller=%s", c->id, a->caller->id);
	return ENRT_OK;
}

enrt_status
callers_revoke(rules *r, const actor *a,
    const Enrt__V1__RevokeCallerRequest *req, store_caller **out, err *e)
{
	uint8_t digest[STORE_DIGEST_LEN];
	store_caller *c = NULL;
	store_txn *t;
	enrt_status rc;

	*out = NULL;
	if (validate_id("id", req->id, "cal_", e) != ENRT_OK) {
		return e->code;
	}
	if (strcmp(req->id, a->caller->id) == 0) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "id: a caller may not revoke itself");
	}
	if ((rc = store_begin_write(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	if ((rc = find_caller(t, req->id, &c, digest, e)) != ENRT_OK) {
		store_abort(t);
		return rc;
	}
	if ((rc = revoke_caller(t, a, c, digest, e)) == ENRT_OK) {
		*out = caller_copy(c);
	}
	store_free(c);
	return rc;
}
