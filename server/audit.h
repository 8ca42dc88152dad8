/*
 * The audit log: every change (token issued or revoked, app, caller or
 * user changed) appends an event with its time, the caller, the person a
 * portal acted for, the action, the target's id and the outcome.  Events
 * hold ids and names, never a secret.
 */
#ifndef ENRT_AUDIT_H
#define ENRT_AUDIT_H

#include "rules.h"

/*
 * Appends to t that a did action to target, successfully.  The event
 * commits, or not, with the change it describes.
 */
void audit_record(
    store_txn *t, const actor *a, const char *action, const char *target);

/*
 * Records, in a transaction of its own, that a's attempt at action was
 * refused with outcome.  Best effort: a failure here is logged, not
 * returned, since the caller already has its answer.
 */
void audit_refusal(rules *r, const actor *a, const char *action,
    const char *target, enrt_status outcome);

/*
 * Records, in a transaction of its own and best effort as
 * audit_refusal does, that a did action to target: for an action that
 * changes nothing in the store, so has no transaction to share.
 */
void audit_record_alone(
    rules *r, const actor *a, const char *action, const char *target);

/*
 * Appends to t that a's attempt at action was refused with outcome: the
 * event audit_refusal commits alone, for a caller that has a
 * transaction of its own for it.
 */
void audit_refused(store_txn *t, const actor *a, const char *action,
    const char *target, enrt_status outcome);

/* Events from req->since (or the beginning) in order, a page at a time. */
enrt_status audit_list(rules *r, const actor *a,
    const Enrt__V1__ListAuditRequest *req, Enrt__V1__ListAuditReply **out,
    err *e);

#endif /* ENRT_AUDIT_H */
