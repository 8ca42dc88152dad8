/*
 * libenrt: the C client library of the enrt reference-token service.
 *
 * A client handle holds one connection to enrtd and may be shared by any
 * number of threads; each call is one request and one reply with its own
 * timeout.  Every call returns an enrt_status and, when it is not
 * ENRT_OK, fills the caller's enrt_error with a message a person can act
 * on.  Results are plain structs owned by the caller and released with the
 * matching free function; every free function accepts NULL.
 *
 * The library never prints and never resends a request on its own: a
 * request whose reply did not arrive in time fails with ENRT_UNAVAILABLE
 * and may or may not have been carried out by the server.
 */
#ifndef ENRT_H
#define ENRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes, by their gRPC numbers. */
typedef enum enrt_status {
	ENRT_OK = 0,
	ENRT_INVALID_ARGUMENT = 3,
	ENRT_NOT_FOUND = 5,
	ENRT_ALREADY_EXISTS = 6,
	ENRT_PERMISSION_DENIED = 7,
	ENRT_RESOURCE_EXHAUSTED = 8,
	ENRT_FAILED_PRECONDITION = 9,
	ENRT_INTERNAL = 13,
	ENRT_UNAVAILABLE = 14,
	ENRT_UNAUTHENTICATED = 16,
} enrt_status;

/*
 * The upper-case name of a status, such as "INVALID_ARGUMENT", or
 * "UNKNOWN" for a number that is not a status.
 */
const char *enrt_status_name(enrt_status status);

/* Parses a status name as enrt_status_name spells it; false if unknown. */
bool enrt_status_parse(const char *name, enrt_status *status);

#define ENRT_ERROR_MESSAGE_MAX 512

typedef struct enrt_error {
	enrt_status status;
	char message[ENRT_ERROR_MESSAGE_MAX];
} enrt_error;

/* 9999-12-31T23:59:59Z: the latest instant enrt accepts or shows. */
#define ENRT_TIME_MAX INT64_C(253402300799)

/* ------------------------------------------------------------------ */
/* Token format                                                        */

/* "enrt_" + 43 base62 characters of secret + 6 of checksum. */
#define ENRT_TOKEN_LEN         54
#define ENRT_TOKEN_PREFIX      "enrt_"
#define ENRT_CREDENTIAL_PREFIX "enrc_"

/*
 * True when the len bytes at text are exactly of the form of a token that
 * enrt issues: the prefix, 49 base62 characters, a secret part that fits
 * in 32 bytes and a checksum that matches.  No trimming, no case folding.
 * Needs no server: secret scanners and resource servers use it to reject
 * garbage before a round trip.
 */
bool enrt_token_check(const char *text, size_t len);

/* The same check for caller credentials ("enrc_..."). */
bool enrt_credential_check(const char *text, size_t len);

/*
 * Finds the token in the value of an HTTP header: "Bearer enrt_..." for
 * Authorization, or the bare token for X-Api-Key.  Exactly one of
 * authorization and api_key must be non-NULL.  On success *token points
 * into the given value and *len is its length; the token's form has been
 * checked.  Returns ENRT_INVALID_ARGUMENT (with a message in err) when the
 * header is malformed or both or neither are given.
 */
enrt_status enrt_token_from_header(const char *authorization,
    const char *api_key, const char **token, size_t *len, enrt_error *err);

/* ------------------------------------------------------------------ */
/* Connection                                                          */

typedef struct enrt_client enrt_client;

/*
 * Over tls+tcp:// the server's certificate is always verified: it must
 * chain to a certificate in tls_ca_file and name tls_server_name.  A
 * server that fails either check is never sent a request; calls fail
 * with ENRT_UNAVAILABLE when their time runs out.  enrt_client_open
 * returns ENRT_INVALID_ARGUMENT, naming the field, for a tls+tcp:// URL
 * without tls_ca_file, for a CA file that cannot be loaded, and for
 * either TLS field given with an ipc:// or tcp:// URL.
 */
typedef struct enrt_options {
	const char *url;         /* ipc://, tcp:// or tls+tcp:// */
	const char *credential;  /* the caller's "enrc_..." credential */
	int timeout_ms;          /* per request; 0 means 10 seconds */
	const char *tls_ca_file; /* PEM CA certificates; tls+tcp:// only */
	/* The name the certificate must carry; NULL: the URL's host. */
	const char *tls_server_name;
} enrt_options;

/*
 * Opens a client handle.  The connection is made in the background and
 * re-made when it drops; a call made while there is none waits for it up
 * to its timeout.  Returns ENRT_INVALID_ARGUMENT for a bad URL or
 * credential form, ENRT_UNAVAILABLE when the socket cannot be made.
 */
enrt_status enrt_client_open(
    enrt_client **client, const enrt_options *options, enrt_error *err);

/*
 * Closes the handle.  No call on it may be in progress.  On a view made
 * by enrt_client_as, frees the view alone and leaves the connection to
 * the handle it was made from; every view must be closed before that
 * handle is.  Returns within about five seconds: nng 1.5 can wait for
 * ever to close a TLS connection that the server dropped, and then the
 * socket is left, with a thread still closing it, to the end of the
 * process.
 */
void enrt_client_close(enrt_client *client);

/*
 * A person as a portal caller's own sign-in knows them.  user_id is
 * required; display_name may be NULL (the server then keeps the name it
 * has, or shows the id).
 */
typedef struct enrt_person {
	const char *user_id;
	const char *display_name;
	bool admin;
} enrt_person;

/*
 * Makes *as, a view of client that acts for person: every call made
 * through it carries the person (Request.acting_user), as a caller with
 * the portal role must.  The view shares client's connection, timeout
 * and credential (no new socket) and holds copies of the person's
 * strings; any number of threads may call through it, and through
 * client, at once.  A view of a view acts for the new person on the
 * same connection.
 *
 * Close the view with enrt_client_close, always before client.  Returns
 * ENRT_INVALID_ARGUMENT when person->user_id is NULL or empty (the
 * server checks the rest of its form).
 */
enrt_status enrt_client_as(enrt_client *client, const enrt_person *person,
    enrt_client **as, enrt_error *err);

/* ------------------------------------------------------------------ */
/* Tokens                                                              */

typedef enum enrt_kind {
	ENRT_KIND_PAT = 1,
	ENRT_KIND_SAT = 2,
} enrt_kind;

typedef enum enrt_state {
	ENRT_STATE_ACTIVE = 1,
	ENRT_STATE_EXPIRED = 2,
	ENRT_STATE_REVOKED = 3,
	ENRT_STATE_SUSPENDED = 4,
} enrt_state;

/* "pat" / "sat"; "active", "expired", "revoked", "suspended". */
const char *enrt_kind_name(enrt_kind kind);
const char *enrt_state_name(enrt_state state);

/* A token as listings show it.  Absent strings are NULL. */
typedef struct enrt_token {
	char *id;
	enrt_kind kind;
	char *app_id;
	char *app_name;
	char *owner; /* PAT only */
	char *description;
	char **scopes;
	size_t n_scopes;
	int64_t created_at;
	bool has_expires_at; /* false: never expires */
	int64_t expires_at;
	bool has_last_used_at; /* false: never used */
	int64_t last_used_at;
	enrt_state state;
} enrt_token;

typedef struct enrt_issue_params {
	const char *app_id;
	enrt_kind kind;
	bool has_expires_at; /* false asks for a token that never expires */
	int64_t expires_at;
	const char *const *scopes;
	size_t n_scopes;
	const char *description; /* may be NULL */
	const char *owner;       /* PAT issued by an admin caller */
} enrt_issue_params;

/* The reply to Issue: the only time the value is ever seen. */
typedef struct enrt_issued {
	char *value;
	enrt_token token;
} enrt_issued;

/*
 * Issues a token.  Sent once: a timeout leaves it unknown whether the
 * token was made, and the caller decides whether to list and retry.
 * The value in *issued is wiped when it is freed.
 */
enrt_status enrt_issue(enrt_client *client, const enrt_issue_params *params,
    enrt_issued **issued, enrt_error *err);
void enrt_issued_free(enrt_issued *issued);

typedef struct enrt_introspection {
	bool active; /* when false, nothing else is set */
	char *token_id;
	enrt_kind kind;
	char *app_id;
	char *subject;
	char **scopes;
	size_t n_scopes;
	int64_t issued_at;
	bool has_expires_at;
	int64_t expires_at;
} enrt_introspection;

/*
 * Asks whether the len bytes at token are an active token.  An inactive
 * token is an answer, not an error: the call returns ENRT_OK with
 * active false.  A string that fails enrt_token_check is answered
 * inactive without a round trip.
 */
enrt_status enrt_introspect(enrt_client *client, const char *token, size_t len,
    enrt_introspection **result, enrt_error *err);
void enrt_introspection_free(enrt_introspection *result);

/* The most tokens one enrt_introspect_batch call may ask about. */
#define ENRT_BATCH_MAX 128

/* The answers to a batch, one per token asked, in the order asked. */
typedef struct enrt_introspection_batch {
	enrt_introspection *answers;
	size_t n_answers;
} enrt_introspection_batch;

/*
 * Asks about n tokens (at most ENRT_BATCH_MAX) in one request.  Token i
 * is the lens[i] bytes at tokens[i]; with lens NULL every token is a
 * NUL-terminated string.  answers[i] of *batch is exactly what
 * enrt_introspect would answer for token i.  Every value has a place in
 * the request, so that answers stay in order: one that fails
 * enrt_token_check travels as an empty string, which the server answers
 * inactive as it would the value itself, and its text never leaves the
 * process.  n of 0 is answered with an empty batch and no round trip.
 *
 * Returns ENRT_INVALID_ARGUMENT for more than ENRT_BATCH_MAX tokens, or
 * a NULL token, without sending anything.  Free *batch with
 * enrt_introspection_batch_free.
 */
enrt_status enrt_introspect_batch(enrt_client *client,
    const char *const *tokens, const size_t *lens, size_t n,
    enrt_introspection_batch **batch, enrt_error *err);
void enrt_introspection_batch_free(enrt_introspection_batch *batch);

/* Revokes the token with this id.  ENRT_NOT_FOUND if there is none. */
enrt_status enrt_revoke_id(
    enrt_client *client, const char *token_id, enrt_error *err);

/* Revokes the token with this value; an unknown value succeeds. */
enrt_status enrt_revoke_value(
    enrt_client *client, const char *token, size_t len, enrt_error *err);

/*
 * Offboarding: revokes every live PAT of user_id (administrators only)
 * and sets *revoked, when not NULL, to how many this call revoked.
 */
enrt_status enrt_revoke_user(enrt_client *client, const char *user_id,
    uint32_t *revoked, enrt_error *err);

typedef struct enrt_list_params {
	const char *app_id; /* NULL: the owner's tokens across all apps */
	const char *owner;  /* NULL with app_id: every owner */
	bool include_inactive;
	uint32_t page_size; /* 0: the server's default */
	const char *cursor; /* NULL: the first page */
} enrt_list_params;

typedef struct enrt_token_page {
	enrt_token *tokens;
	size_t n_tokens;
	char *next_cursor; /* NULL on the last page */
} enrt_token_page;

enrt_status enrt_list_tokens(enrt_client *client,
    const enrt_list_params *params, enrt_token_page **page, enrt_error *err);
void enrt_token_page_free(enrt_token_page *page);

/* ------------------------------------------------------------------ */
/* Apps                                                                */

typedef enum enrt_policy {
	ENRT_POLICY_NONE = 0,
	ENRT_POLICY_AUTHENTICATED_USERS = 1,
	ENRT_POLICY_ADMINISTRATORS_ONLY = 2,
} enrt_policy;

/* "None", "AuthenticatedUsers", "AdministratorsOnly", and back. */
const char *enrt_policy_name(enrt_policy policy);
bool enrt_policy_parse(const char *name, enrt_policy *policy);

typedef struct enrt_app {
	char *id;
	char *name;
	enrt_policy policy;
	char *system_user;
	char **allowed_scopes; /* none: any scope */
	size_t n_allowed_scopes;
	bool unlimited_lifetime;
	uint32_t max_lifetime_days; /* when not unlimited */
	bool enabled;
	int64_t created_at;
	int64_t updated_at;
} enrt_app;

/*
 * Fields of an app to create or change.  For a create, name, policy and
 * system_user are required; max_lifetime_days defaults to 365.  For an
 * update, only the fields marked set_* (or non-NULL strings) change.
 */
typedef struct enrt_app_params {
	const char *name;
	bool set_policy;
	enrt_policy policy;
	const char *system_user;
	bool set_allowed_scopes;
	const char *const *allowed_scopes;
	size_t n_allowed_scopes;
	bool set_max_lifetime;
	uint32_t max_lifetime_days;
	bool unlimited_lifetime;
	bool set_enabled;
	bool enabled;
} enrt_app_params;

enrt_status enrt_app_create(enrt_client *client, const enrt_app_params *params,
    enrt_app **app, enrt_error *err);
enrt_status enrt_app_update(enrt_client *client, const char *app_id,
    const enrt_app_params *params, enrt_app **app, enrt_error *err);
enrt_status enrt_app_get(
    enrt_client *client, const char *app_id, enrt_app **app, enrt_error *err);
void enrt_app_free(enrt_app *app);

typedef struct enrt_app_page {
	enrt_app *apps;
	size_t n_apps;
	char *next_cursor; /* NULL on the last page */
} enrt_app_page;

enrt_status enrt_app_list(enrt_client *client, const char *cursor,
    uint32_t page_size, enrt_app_page **page, enrt_error *err);
void enrt_app_page_free(enrt_app_page *page);

/*
 * Lists, page by page, only the apps in which the person a view acts
 * for may issue a PAT: enabled apps whose policy is AuthenticatedUsers,
 * and AdministratorsOnly when the person is an administrator.  Any
 * caller that may list may ask this.
 */
enrt_status enrt_app_list_eligible(enrt_client *client, const char *cursor,
    uint32_t page_size, enrt_app_page **page, enrt_error *err);

/* ------------------------------------------------------------------ */
/* Callers (administrators)                                            */

typedef enum enrt_role {
	ENRT_ROLE_INTROSPECT = 1,
	ENRT_ROLE_PORTAL = 2,
	ENRT_ROLE_ADMIN = 3,
} enrt_role;

/* "introspect", "portal", "admin", and back; exact names only. */
const char *enrt_role_name(enrt_role role);
bool enrt_role_parse(const char *name, enrt_role *role);

/* A caller as listings show it.  Never its credential. */
typedef struct enrt_caller {
	char *id;
	char *name;
	enrt_role role;
	char **app_ids; /* introspect callers: the only apps they see */
	size_t n_app_ids;
	int64_t created_at;
	bool revoked;
	int64_t revoked_at; /* when revoked */
} enrt_caller;

/* The reply to enrt_caller_add: the only time the credential is seen. */
typedef struct enrt_caller_added {
	char *credential; /* wiped when freed */
	enrt_caller caller;
} enrt_caller_added;

/*
 * Adds a caller with its own new credential.  app_ids (n_app_ids of
 * them, none NULL) limit an introspect caller to the tokens of those
 * apps; other roles take none.  Sent once, like Issue.  Free *added
 * with enrt_caller_added_free, which wipes the credential.
 */
enrt_status enrt_caller_add(enrt_client *client, const char *name,
    enrt_role role, const char *const *app_ids, size_t n_app_ids,
    enrt_caller_added **added, enrt_error *err);
void enrt_caller_added_free(enrt_caller_added *added);

typedef struct enrt_caller_page {
	enrt_caller *callers;
	size_t n_callers;
	char *next_cursor; /* NULL on the last page */
} enrt_caller_page;

/* Lists callers, revoked ones too, page by page as enrt_app_list. */
enrt_status enrt_caller_list(enrt_client *client, const char *cursor,
    uint32_t page_size, enrt_caller_page **page, enrt_error *err);
void enrt_caller_page_free(enrt_caller_page *page);

/*
 * Revokes a caller for good: its credential is refused from then on.
 * Revoking a revoked caller succeeds.  ENRT_NOT_FOUND if there is none;
 * ENRT_FAILED_PRECONDITION for the calling caller itself.
 */
enrt_status enrt_caller_revoke(
    enrt_client *client, const char *caller_id, enrt_error *err);

/* ------------------------------------------------------------------ */
/* Users (administrators)                                              */

/* A user as portal callers assert them and administrators set them. */
typedef struct enrt_user {
	char *id;
	char *display_name;
	bool admin;
	bool enabled;
	int64_t created_at;
	bool has_last_seen_at; /* false: never seen through a portal */
	int64_t last_seen_at;
} enrt_user;

typedef struct enrt_user_page {
	enrt_user *users;
	size_t n_users;
	char *next_cursor; /* NULL on the last page */
} enrt_user_page;

/* Lists users page by page, as enrt_app_list. */
enrt_status enrt_user_list(enrt_client *client, const char *cursor,
    uint32_t page_size, enrt_user_page **page, enrt_error *err);
void enrt_user_page_free(enrt_user_page *page);

/*
 * Changes a user's admin flag (when set_admin) and enabled flag (when
 * set_enabled); at least one must be set.  A disabled user's tokens are
 * inactive, and portal calls for them refused, until they are enabled
 * again.  On success *user, when user is not NULL, is the user as now
 * stored; free it with enrt_user_free.  ENRT_NOT_FOUND if there is no
 * such user.
 */
enrt_status enrt_user_set(enrt_client *client, const char *user_id,
    bool set_admin, bool admin, bool set_enabled, bool enabled,
    enrt_user **user, enrt_error *err);
void enrt_user_free(enrt_user *user);

/*
 * Deletes a user and revokes every token they own, for good; *revoked,
 * when not NULL, is how many.  ENRT_NOT_FOUND if there is no such user.
 */
enrt_status enrt_user_delete(enrt_client *client, const char *user_id,
    uint32_t *revoked, enrt_error *err);

/* ------------------------------------------------------------------ */
/* Audit (administrators)                                              */

/* One change, or a refused attempt at one.  Absent strings are NULL. */
typedef struct enrt_audit_event {
	int64_t time;
	char *caller_id;
	char *acting_user; /* the person a portal caller acted for */
	char *action;      /* "issue", "revoke", "caller_add", ... */
	char *target_id;
	enrt_status outcome;
} enrt_audit_event;

typedef struct enrt_audit_page {
	enrt_audit_event *events;
	size_t n_events;
	char *next_cursor; /* NULL on the last page */
} enrt_audit_page;

/*
 * Lists audit events in order of time, from since (inclusive) when
 * has_since, else from the first; paged as enrt_app_list.
 */
enrt_status enrt_audit_list(enrt_client *client, bool has_since, int64_t since,
    const char *cursor, uint32_t page_size, enrt_audit_page **page,
    enrt_error *err);
void enrt_audit_page_free(enrt_audit_page *page);

/* ------------------------------------------------------------------ */
/* Backup (administrators)                                             */

/* Where the server wrote a backup. */
typedef struct enrt_backup_info {
	char *name;         /* the new directory, inside its backup-dir */
	char *path;         /* that directory on the server's machine */
	uint64_t bytes;     /* of the store's copy */
	int64_t created_at; /* when the server made it */
} enrt_backup_info;

/*
 * Has the server write a hot, compacted backup of its data directory
 * (the store, the digest key and the first admin's credential file)
 * into a new directory of its backup-dir, which it names; a caller
 * names no path.  ENRT_FAILED_PRECONDITION when the server has no
 * backup-dir.  Free *info with enrt_backup_info_free.
 */
enrt_status enrt_backup(
    enrt_client *client, enrt_backup_info **info, enrt_error *err);
void enrt_backup_info_free(enrt_backup_info *info);

#ifdef __cplusplus
}
#endif

#endif /* ENRT_H */
