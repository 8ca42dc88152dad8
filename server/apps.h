/*
 * Trusted Applications: create, change, show and list them (DESIGN
 * sections 1 and 6).  Creating and changing apps is for admin callers
 * (dispatch sees to it); showing and listing them for administrators,
 * and anyone may list the apps a person may issue a PAT in.  Replies are freed
 * with reply_free.
 */
#ifndef ENRT_APPS_H
#define ENRT_APPS_H

#include "enrt.pb-c.h"
#include "rules.h"

#define APPS_DEFAULT_LIFETIME_DAYS 365
#define APPS_MAX_LIFETIME_DAYS     36500

/*
 * Creates an app: name (unique), policy, System User, allowed scopes and
 * maximum lifetime (365 days unless given or unlimited).  A new app is
 * enabled.
 */
enrt_status apps_create(rules *r, const actor *a,
    const Enrt__V1__CreateAppRequest *req, Enrt__V1__App **out, err *e);

/* Changes only the fields that req carries. */
enrt_status apps_update(rules *r, const actor *a,
    const Enrt__V1__UpdateAppRequest *req, Enrt__V1__App **out, err *e);

enrt_status apps_get(rules *r, const actor *a,
    const Enrt__V1__GetAppRequest *req, Enrt__V1__App **out, err *e);

/*
 * One page of apps in order of id: every app, for administrators; with
 * req->eligible, the enabled apps where the acting person may issue a
 * PAT (AuthenticatedUsers, and AdministratorsOnly for administrators).
 */
enrt_status apps_list(rules *r, const actor *a,
    const Enrt__V1__ListAppsRequest *req, Enrt__V1__ListAppsReply **out,
    err *e);

#endif /* ENRT_APPS_H */
