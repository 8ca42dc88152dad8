/*
 * Output of the enrt CLI on standard output: aligned tables and
 * "key: value" lines for people, or one JSON document per command (on
 * one line) for scripts.  Times are RFC 3339 UTC in both.
 *
 * Each function returns false, having printed nothing, when the JSON
 * document cannot be built: out of memory, or text in the reply that is
 * not UTF-8.
 */
#ifndef ENRT_CLI_PRINT_H
#define ENRT_CLI_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enrt.h"

/* One app: "key: value" lines, or the app object. */
bool cli_print_app(const enrt_app *app, bool json);

/* Apps as a table, or one array of app objects. */
bool cli_print_apps(const enrt_app *const *apps, size_t n, bool json);

/*
 * A new token: its value alone on the first line and then its metadata,
 * or one object that holds both.
 */
bool cli_print_issued(const enrt_issued *issued, bool json);

/* An RFC 7662 style object, always JSON: {"active": false} when inactive. */
bool cli_print_introspection(const enrt_introspection *result);

/* Tokens as a table, or one array of token objects. */
bool cli_print_tokens(const enrt_token *const *tokens, size_t n, bool json);

/*
 * The end of a revoke: "revoked ID", or for a revoke by value (id NULL)
 * a line that does not claim the token existed; as JSON, {"revoked":
 * true} with the id when there is one.
 */
bool cli_print_revoked(const char *id, bool json);

/*
 * The end of revoking every token of a user: "revoked N tokens of
 * USER_ID", or {"user_id": USER_ID, "revoked": N}.
 */
bool cli_print_revoked_user(const char *user_id, uint32_t revoked, bool json);

/*
 * A new caller: its credential alone on the first line and then its
 * metadata, or one object that holds both.
 */
bool cli_print_caller_added(const enrt_caller_added *added, bool json);

/* Callers as a table, or one array of caller objects; no credential. */
bool cli_print_callers(const enrt_caller *const *callers, size_t n, bool json);

/* "revoked caller ID", or {"revoked": true, "id": ID}. */
bool cli_print_caller_revoked(const char *id, bool json);

/* One user: "key: value" lines, or the user object. */
bool cli_print_user(const enrt_user *user, bool json);

/* Users as a table, or one array of user objects. */
bool cli_print_users(const enrt_user *const *users, size_t n, bool json);

/*
 * The end of deleting a user: "deleted USER_ID, revoked N tokens", or
 * {"id": USER_ID, "deleted": true, "revoked": N}.
 */
bool cli_print_user_deleted(const char *id, uint32_t revoked, bool json);

/* Audit events as a table, or one array of event objects. */
/* Where a backup went: its path on the server's machine. */
bool cli_print_backup(const enrt_backup_info *info, bool json);

bool cli_print_events(
    const enrt_audit_event *const *events, size_t n, bool json);

#endif /* ENRT_CLI_PRINT_H */
