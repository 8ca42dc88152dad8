/*
 * Users, as enrt mirrors them from the portals' assertions (DESIGN
 * section 4): administrators list them, set their admin flag, disable
 * or enable them, and delete them.  Ids are immutable; deleting a user
 * revokes every token they own for good, so that a new user with the
 * same id never revives one.  Replies are freed with reply_free.
 */
#ifndef ENRT_USERS_H
#define ENRT_USERS_H

#include "rules.h"

/* One page of users in order of id. */
enrt_status users_list(rules *r, const actor *a,
    const Enrt__V1__ListUsersRequest *req, Enrt__V1__ListUsersReply **out,
    err *e);

/*
 * Sets the admin flag and the enabled state that req carries.  A later
 * assertion by a portal overrides the admin flag; only an administrator
 * enables a disabled user again.
 */
enrt_status users_set(rules *r, const actor *a,
    const Enrt__V1__SetUserRequest *req, store_user **out, err *e);

/* Revokes every token the user owns, then deletes the user. */
enrt_status users_delete(rules *r, const actor *a,
    const Enrt__V1__DeleteUserRequest *req, Enrt__V1__DeleteUserReply **out,
    err *e);

#endif /* ENRT_USERS_H */
