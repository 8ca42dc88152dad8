/*
 * The audit log, kept by the store in order of time.  Runs inside the
 * transactions of the changes it records: on the transport's threads,
 * or on the writer's for Issue and Revoke.
 */
#include <string.h>

#include "audit.h"
#include "log.h"
#include "reply.h"
#include "validate.h"

static void
fill_event(store_event *ev, const actor *a, const char *action,
    const char *target, enrt_status outcome)
{
	ev->has_time = true;
	ev->time = a->now;
	ev->caller_id = a->caller->id;
	ev->acting_user = a->person == NULL ? NULL : a->person->user_id;
	ev->action = (char *)action;
	ev->target_id = (char *)target;
	ev->has_outcome = true;
	ev->outcome = (Enrt__V1__Status)outcome;
}

void
audit_record(
    store_txn *t, const actor *a, const char *action, const char *target)
{
	store_event ev = ENRT__V1__AUDIT_EVENT__INIT;

	fill_event(&ev, a, action, target, ENRT_OK);
	store_event_append(t, &ev);
}

void
audit_refused(store_txn *t, const actor *a, const char *action,
    const char *target, enrt_status outcome)
{
	store_event ev = ENRT__V1__AUDIT_EVENT__INIT;

	fill_event(&ev, a, action, target, outcome);
	store_event_append(t, &ev);
}

/* Best effort: the caller already has its answer. */
static void
commit_alone(rules *r, const actor *a, const char *action, const char *target,
    enrt_status outcome)
{
	store_event ev = ENRT__V1__AUDIT_EVENT__INIT;
	store_txn *t;
	enrt_status rc;

	fill_event(&ev, a, action, target, outcome);
	if ((rc = store_begin_write(r->store, &t)) == ENRT_OK) {
		store_event_append(t, &ev);
		rc = store_commit(t);
	}
	if (rc != ENRT_OK) {
		log_warn("audit_not_written", "action=%s outcome=%s status=%s",
		    action, enrt_status_name(outcome), enrt_status_name(rc));
	}
}

void
audit_refusal(rules *r, const actor *a, const char *action, const char *target,
    enrt_status outcome)
{
	commit_alone(r, a, action, target, outcome);
}

void
audit_record_alone(
    rules *r, const actor *a, const char *action, const char *target)
{
	commit_alone(r, a, action, target, ENRT_OK);
}

/* A copy of an event for a reply. */
static void *
event_copy(const void *record)
{
	const store_event *ev = record;
	store_event *copy = reply_alloc(sizeof(*copy));

	enrt__v1__audit_event__init(copy);
	copy->has_time = ev->has_time;
	copy->time = ev->time;
	copy->caller_id = reply_strdup(ev->caller_id);
	copy->acting_user = reply_strdup(ev->acting_user);
	copy->action = reply_strdup(ev->action);
	copy->target_id = reply_strdup(ev->target_id);
	copy->has_outcome = ev->has_outcome;
	copy->outcome = ev->outcome;
	copy->has_sequence = ev->has_sequence;
	copy->sequence = ev->sequence;
	return copy;
}

static store_visit
take_event(void *page, const store_event *ev)
{
	return reply_page_take(page, ev);
}

static enrt_status
scan_events(rules *r, const Enrt__V1__ListAuditRequest *req, reply_page *page,
    Enrt__V1__ListAuditReply *reply, err *e)
{
	char next[STORE_CURSOR_MAX];
	int64_t since = req->has_since ? req->since : INT64_MIN;
	store_txn *t;
	enrt_status rc;

	if ((rc = store_begin_read(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	rc = store_event_scan(
	    t, since, req->page_cursor, take_event, page, next);
	store_abort(t);
	if (rc != ENRT_OK) {
		return rules_scan_failed(rc, e);
	}
	reply->next_cursor = next[0] == '\0' ? NULL : reply_strdup(next);
	return ENRT_OK;
}

/*
 * An instant the server could have recorded: a negative one or one past
 * year 9999 is a mistake of the caller's, not a wish to see everything
 * or nothing.
 */
static enrt_status
check_since(const Enrt__V1__ListAuditRequest *req, err *e)
{
	if (req->has_since && (req->since < 0 || req->since > ENRT_TIME_MAX)) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "since: must be from 1970-01-01T00:00:00Z to "
		    "9999-12-31T23:59:59Z");
	}
	return ENRT_OK;
}

enrt_status
audit_list(rules *r, const actor *a, const Enrt__V1__ListAuditRequest *req,
    Enrt__V1__ListAuditReply **out, err *e)
{
	Enrt__V1__ListAuditReply *reply;
	reply_page page = {.copy = event_copy};
	enrt_status rc;

	*out = NULL;
	if (check_since(req, e) != ENRT_OK ||
	    validate_page_size(req->has_page_size, req->page_size, &page.limit,
	        e) != ENRT_OK) {
		return e->code;
	}
	reply = reply_alloc(sizeof(*reply));
	enrt__v1__list_audit_reply__init(reply);
	page.items = (void ***)&reply->events;
	page.n_items = &reply->n_events;

	if ((rc = scan_events(r, req, &page, reply, e)) != ENRT_OK) {
		reply_free(reply);
		return rc;
	}
	*out = reply;
	return ENRT_OK;
}
