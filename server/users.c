/*
 * Users: administrators' view and changes of the mirrored users, each
 * change audited in its own transaction.  Runs on the transport's
 * threads.
 */
#include "users.h"
#include "audit.h"
#include "log.h"
#include "reply.h"
#include "validate.h"

static void *
user_copy(const void *record)
{
	const store_user *u = record;
	store_user *copy = reply_alloc(sizeof(*copy));

	enrt__v1__user_record__init(copy);
	copy->id = reply_strdup(u->id);
	copy->display_name = reply_strdup(u->display_name);
	copy->has_admin = u->has_admin;
	copy->admin = u->admin;
	copy->has_enabled = u->has_enabled;
	copy->enabled = u->enabled;
	copy->has_created_at = u->has_created_at;
	copy->created_at = u->created_at;
	copy->has_last_seen_at = u->has_last_seen_at;
	copy->last_seen_at = u->last_seen_at;
	return copy;
}

static store_visit
take_user(void *page, const store_user *u)
{
	return reply_page_take(page, u);
}

/*
 * A cursor of this listing is the id of the user it resumes at, so
 * anything that is no user id cannot be one; the store would take any
 * key.
 */
static enrt_status
check_cursor(const char *cursor, err *e)
{
	err ignored;

	if (cursor != NULL &&
	    validate_user_id("page_cursor", cursor, &ignored) != ENRT_OK) {
		return rules_scan_failed(ENRT_INVALID_ARGUMENT, e);
	}
	return ENRT_OK;
}

enrt_status
users_list(rules *r, const actor *a, const Enrt__V1__ListUsersRequest *req,
    Enrt__V1__ListUsersReply **out, err *e)
{
	Enrt__V1__ListUsersReply *reply;
	reply_page page = {.copy = user_copy};
	char next[STORE_CURSOR_MAX];
	store_txn *t;
	enrt_status rc;

	*out = NULL;
	if (validate_page_size(req->has_page_size, req->page_size, &page.limit,
	        e) != ENRT_OK ||
	    check_cursor(req->page_cursor, e) != ENRT_OK) {
		return e->code;
	}
	if ((rc = store_begin_read(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	reply = reply_alloc(sizeof(*reply));
	enrt__v1__list_users_reply__init(reply);
	page.items = (void ***)&reply->users;
	page.n_items = &reply->n_users;

	rc = store_user_scan(t, req->page_cursor, take_user, &page, next);
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
find_user(store_txn *t, const char *id, store_user **u, err *e)
{
	enrt_status rc = store_user_get(t, id, u);

	if (rc == ENRT_NOT_FOUND) {
		return err_set(e, rc, "id: no user %s", id);
	}
	return rc == ENRT_OK ? rc : rules_store_failed(rc, e);
}

static enrt_status
check_set(const Enrt__V1__SetUserRequest *req, err *e)
{
	if (validate_user_id("id", req->id, e) != ENRT_OK) {
		return e->code;
	}
	if (!req->has_admin && !req->has_enabled) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "set_user: names neither admin nor enabled");
	}
	return ENRT_OK;
}

enrt_status
users_set(rules *r, const actor *a, const Enrt__V1__SetUserRequest *req,
    store_user **out, err *e)
{
	store_user *u = NULL;
	store_txn *t;
	enrt_status rc;

	*out = NULL;
	if (check_set(req, e) != ENRT_OK) {
		return e->code;
	}
	if ((rc = store_begin_write(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	if ((rc = find_user(t, req->id, &u, e)) != ENRT_OK) {
		store_abort(t);
		return rc;
	}

	if (req->has_admin) {
		u->has_admin = true;
		u->admin = req->admin;
	}
	if (req->has_enabled) {
		u->has_enabled = true;
		u->enabled = req->enabled;
	}
	store_user_put(t, u);
	audit_record(t, a, "user_set", u->id);
	if ((rc = rules_commit(t, e)) == ENRT_OK) {
		*out = user_copy(u);
	}
	store_free(u);
	return rc;
}

static Enrt__V1__DeleteUserReply *
deleted(uint32_t revoked)
{
	Enrt__V1__DeleteUserReply *reply = reply_alloc(sizeof(*reply));

	enrt__v1__delete_user_reply__init(reply);
	reply->has_revoked = true;
	reply->revoked = revoked;
	return reply;
}

/* Revokes the user's tokens and deletes the user in t; consumes t. */
static enrt_status
delete_in(
    store_txn *t, const actor *a, const char *id, uint32_t *revoked, err *e)
{
	enrt_status rc = rules_revoke_owner(t, a, id, revoked);

	if (rc != ENRT_OK) {
		store_abort(t);
		return rules_store_failed(rc, e);
	}
	store_user_delete(t, id);
	audit_record(t, a, "user_delete", id);
	return rules_commit(t, e);
}

enrt_status
users_delete(rules *r, const actor *a, const Enrt__V1__DeleteUserRequest *req,
    Enrt__V1__DeleteUserReply **out, err *e)
{
	store_user *u = NULL;
	uint32_t revoked = 0;
	store_txn *t;
	enrt_status rc;

	*out = NULL;
	if (validate_user_id("id", req->id, e) != ENRT_OK) {
		return e->code;
	}
	if ((rc = store_begin_write(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	if ((rc = find_user(t, req->id, &u, e)) != ENRT_OK) {
		store_abort(t);
		return rc;
	}
	store_free(u);

	if ((rc = delete_in(t, a, req->id, &revoked, e)) == ENRT_OK) {
		*out = deleted(revoked);
		log_info("user_deleted", "user_id=%s revoked=%u caller=%s",
		    req->id, revoked, a->caller->id);
	}
	return rc;
}
