/*
 * Callers: the services that talk to enrtd, each with its own secret
 * credential (stored as a keyed digest, shown once) and one role
 * (DESIGN section 4).  Administrators only.  Replies are freed with
 * reply_free.
 */
#ifndef ENRT_CALLERS_H
#define ENRT_CALLERS_H

#include "rules.h"

/* How many apps an introspect caller may be limited to. */
#define CALLERS_APPS_MAX 64

/*
 * Makes a caller and its credential, which the reply carries once.  Only
 * an introspect caller may name apps; each must exist.
 */
enrt_status callers_add(rules *r, const actor *a,
    const Enrt__V1__AddCallerRequest *req, Enrt__V1__AddCallerReply **out,
    err *e);

/* One page of callers in order of id; never a credential or digest. */
enrt_status callers_list(rules *r, const actor *a,
    const Enrt__V1__ListCallersRequest *req, Enrt__V1__ListCallersReply **out,
    err *e);

/*
 * Revokes a caller for good: its next request is UNAUTHENTICATED.  A
 * caller may not revoke itself, so that the last admin cannot lock
 * everyone out by mistake.
 */
enrt_status callers_revoke(rules *r, const actor *a,
    const Enrt__V1__RevokeCallerRequest *req, store_caller **out, err *e);

#endif /* ENRT_CALLERS_H */
