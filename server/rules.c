/*
 * Token rules: who may issue, revoke and list which tokens, and when a
 * token is active (DESIGN sections 3 to 6).  Callers are authenticated
 * here too, since a credential is checked exactly as a token is.
 *
 * Owns nothing but the digest key; state lives in the store and uses in
 * the last-used table.  Runs on the transport's threads, concurrently:
 * every function works in its own store transaction, except Issue and
 * Revoke.  Those are changes (see "Changes through the writer"): every
 * check and write of one runs as a job of the writer, on its thread,
 * in a transaction nested in a batch that many changes share, and its
 * reply is built once that batch's commit is durable.  So a busy
 * server flushes its disk once for many Issues, and no transport
 * thread ever waits on a flush for them.  Without a writer (rules_init
 * leaves none) the same job commits alone on the calling thread.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "audit.h"
#include "format.h"
#include "log.h"
#include "metrics.h"
#include "reply.h"
#include "rules.h"
#include "validate.h"
#include "writer.h"

#define SECONDS_PER_DAY     86400
#define REVOKE_RESERVE_PART 10 /* 1/10 of the map kept for Revoke */

/*
 * A page stops after reading this many records even when fewer match,
 * and gives a cursor to go on: a read transaction held open for a long
 * scan keeps LMDB from reusing the pages that writers free.
 */
#define LIST_SCAN_BUDGET 10000

/* Why a token is or is not active; logged by name, never by value. */
typedef enum standing {
	STANDING_ACTIVE,
	STANDING_MALFORMED,
	STANDING_UNKNOWN,
	STANDING_REVOKED,
	STANDING_EXPIRED,
	STANDING_APP_MISSING,
	STANDING_APP_DISABLED,
	STANDING_POLICY_NONE,
	STANDING_OWNER_MISSING,
	STANDING_OWNER_DISABLED,
	STANDING_OWNER_NOT_ADMIN,
	STANDING_OTHER_APP,
} standing;

static const char *const standing_names[] = {
    [STANDING_ACTIVE] = "active",
    [STANDING_MALFORMED] = "malformed",
    [STANDING_UNKNOWN] = "unknown",
    [STANDING_REVOKED] = "revoked",
    [STANDING_EXPIRED] = "expired",
    [STANDING_APP_MISSING] = "app_missing",
    [STANDING_APP_DISABLED] = "app_disabled",
    [STANDING_POLICY_NONE] = "policy_none",
    [STANDING_OWNER_MISSING] = "owner_missing",
    [STANDING_OWNER_DISABLED] = "owner_disabled",
    [STANDING_OWNER_NOT_ADMIN] = "owner_not_admin",
    [STANDING_OTHER_APP] = "other_app",
};

#define STANDINGS (sizeof(standing_names) / sizeof(standing_names[0]))

const char *
rules_cause_name(unsigned cause)
{
	return cause < STANDINGS ? standing_names[cause] : NULL;
}

/* Whether an optional string field was given: absent and "" are alike. */
static bool
present(const char *s)
{
	return s != NULL && s[0] != '\0';
}

void
rules_init(rules *r, store *s, lastused *lu, const uint8_t key[RULES_KEY_LEN])
{
	r->store = s;
	r->lastused = lu;
	r->writer = NULL;
	r->credentials = NULL;
	memcpy(r->key, key, RULES_KEY_LEN);
	r->data_dir = NULL;
	r->backup_dir = NULL;
}

void
rules_digest(const rules *r, const char *text, size_t len,
    uint8_t out[STORE_DIGEST_LEN])
{
	crypto_generichash(out, STORE_DIGEST_LEN, (const unsigned char *)text,
	    len, r->key, RULES_KEY_LEN);
}

/* ------------------------------------------------------------------ */
/* Who is acting                                                       */

bool
rules_actor_is_admin(const actor *a)
{
	if (a->caller->role == ENRT__V1__ROLE__ADMIN) {
		return true;
	}
	return a->caller->role == ENRT__V1__ROLE__PORTAL &&
	       a->person != NULL && a->person->admin;
}

/* The person a portal caller acts for, or NULL for other callers. */
static const char *
actor_person(const actor *a)
{
	if (a->caller->role != ENRT__V1__ROLE__PORTAL || a->person == NULL) {
		return NULL;
	}
	return a->person->user_id;
}

/*
 * Whether a may revoke this token or see it in a listing, given the user
 * record of its owner (NULL if none).  A person manages the PATs they
 * own, and only those issued to this incarnation of their user record: a
 * user deleted and asserted again under the same id is another user, to
 * whom the first one's tokens are as if they did not exist.  Records
 * written before incarnations existed are told apart by time instead.
 */
static bool
actor_manages(const actor *a, const store_token *t, const store_user *owner)
{
	const char *person = actor_person(a);

	if (rules_actor_is_admin(a)) {
		return true;
	}
	if (person == NULL || t->owner == NULL || owner == NULL ||
	    strcmp(person, t->owner) != 0) {
		return false;
	}
	if (owner->has_incarnation && t->has_owner_incarnation) {
		return t->owner_incarnation == owner->incarnation;
	}
	return t->created_at >= owner->created_at;
}

/* Never 0, so that a record without one cannot match by chance. */
static uint64_t
new_incarnation(void)
{
	uint64_t n;

	do {
		randombytes_buf(&n, sizeof(n));
	} while (n == 0);
	return n;
}

static void
give_incarnation(store_user *next, const store_user *old)
{
	next->has_incarnation = true;
	next->incarnation = old != NULL && old->has_incarnation
	                        ? old->incarnation
	                        : new_incarnation();
}

/* actor_manages, with the owner's record read in t. */
static bool
manages_in(store_txn *t, const actor *a, const store_token *tok)
{
	store_user *owner = NULL;
	bool yes;

	if (rules_actor_is_admin(a)) {
		return true;
	}
	if (!present(tok->owner) ||
	    store_user_get(t, tok->owner, &owner) != ENRT_OK) {
		return false;
	}
	yes = actor_manages(a, tok, owner);
	store_free(owner);
	return yes;
}

/* Introspect callers may be limited to the tokens of listed apps. */
static bool
actor_sees_app(const actor *a, const char *app_id)
{
	const store_caller *c = a->caller;

	if (c->role != ENRT__V1__ROLE__INTROSPECT || c->n_app_ids == 0) {
		return true;
	}
	for (size_t i = 0; i < c->n_app_ids; i++) {
		if (strcmp(c->app_ids[i], app_id) == 0) {
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Standing of a token                                                 */

/* Whether a token of this kind could be issued in this app now. */
static standing
eligibility(
    Enrt__V1__TokenKind kind, const store_app *app, const store_user *owner)
{
	if (app == NULL) {
		return STANDING_APP_MISSING;
	}
	if (!app->enabled) {
		return STANDING_APP_DISABLED;
	}
	if (app->policy == ENRT__V1__POLICY__NONE) {
		return STANDING_POLICY_NONE;
	}
	if (kind == ENRT__V1__TOKEN_KIND__SAT) {
		return STANDING_ACTIVE;
	}
	if (owner == NULL) {
		return STANDING_OWNER_MISSING;
	}
	if (!owner->enabled) {
		return STANDING_OWNER_DISABLED;
	}
	if (app->policy == ENRT__V1__POLICY__ADMINISTRATORS_ONLY &&
	    !owner->admin) {
		return STANDING_OWNER_NOT_ADMIN;
	}
	return STANDING_ACTIVE;
}

static standing
token_standing(const store_token *t, const store_app *app,
    const store_user *owner, int64_t now)
{
	if (t->has_revoked_at) {
		return STANDING_REVOKED;
	}
	if (t->has_expires_at && now >= t->expires_at) {
		return STANDING_EXPIRED;
	}
	return eligibility(t->kind, app, owner);
}

static Enrt__V1__TokenState
standing_state(standing s)
{
	switch (s) {
	case STANDING_ACTIVE:
		return ENRT__V1__TOKEN_STATE__ACTIVE;
	case STANDING_REVOKED:
		return ENRT__V1__TOKEN_STATE__REVOKED;
	case STANDING_EXPIRED:
		return ENRT__V1__TOKEN_STATE__EXPIRED;
	default:
		return ENRT__V1__TOKEN_STATE__SUSPENDED;
	}
}

/* A lookup where NOT_FOUND is an answer (NULL), not an error. */
static enrt_status
found_or_null(enrt_status rc)
{
	return rc == ENRT_NOT_FOUND ? ENRT_OK : rc;
}

/*
 * Loads what a token's standing depends on: its app and its owner, lent
 * by the read transaction t.  Many tokens share an app and an owner, and
 * a lent record is decoded once per snapshot, not once per token.
 */
static enrt_status
load_context(store_txn *t, const store_token *tok, const store_app **app,
    const store_user **owner)
{
	enrt_status rc;

	*app = NULL;
	*owner = NULL;
	rc = found_or_null(store_app_lend(t, tok->app_id, app));
	if (rc != ENRT_OK || !present(tok->owner)) {
		return rc;
	}
	return found_or_null(store_user_lend(t, tok->owner, owner));
}

/* ------------------------------------------------------------------ */
/* Replies                                                             */

static int64_t
newest_use(rules *r, store_txn *t, const char *id, bool *found)
{
	int64_t stored = 0, pending = 0;
	bool has_stored, has_pending;

	has_stored = store_last_used_get(t, id, &stored) == ENRT_OK;
	has_pending =
	    r->lastused != NULL && lastused_pending(r->lastused, id, &pending);

	*found = has_stored || has_pending;
	if (has_stored && has_pending) {
		return stored > pending ? stored : pending;
	}
	return has_stored ? stored : pending;
}

static Enrt__V1__TokenInfo *
token_info(const store_token *tok, const store_app *app, standing s)
{
	Enrt__V1__TokenInfo *info = reply_alloc(sizeof(*info));

	enrt__v1__token_info__init(info);
	info->id = reply_strdup(tok->id);
	info->has_kind = true;
	info->kind = tok->kind;
	info->app_id = reply_strdup(tok->app_id);
	info->app_name = app == NULL ? NULL : reply_strdup(app->name);
	info->owner = reply_strdup(tok->owner);
	info->description = reply_strdup(tok->description);
	info->scopes =
	    reply_strings((const char *const *)tok->scopes, tok->n_scopes);
	info->n_scopes = tok->n_scopes;

	info->has_created_at = true;
	info->created_at = tok->created_at;
	info->has_expires_at = tok->has_expires_at;
	info->expires_at = tok->expires_at;
	info->has_state = true;
	info->state = standing_state(s);
	return info;
}

/* The sticky error of t, as a refusal in e that keeps the store's words. */
static enrt_status
txn_refusal(const store_txn *t, err *e)
{
	enrt_status rc = store_status(t);

	if (rc != ENRT_OK) {
		err_set(e, rc, "%s", store_message(t));
	}
	return rc;
}

/* A commit that failed, or never happened: nothing was written. */
static enrt_status
commit_failed(enrt_status rc, err *e)
{
	switch (rc) {
	case ENRT_RESOURCE_EXHAUSTED:
		return err_set(e, rc,
		    "the store is full; nothing was written; restart enrtd "
		    "with a larger map-size");
	case ENRT_UNAVAILABLE:
		return err_set(
		    e, rc, "the server is shutting down; nothing was written");
	default:
		return err_set(
		    e, rc, "the store could not commit; nothing was written");
	}
}

enrt_status
rules_commit(store_txn *t, err *e)
{
	enrt_status rc;

	if ((rc = txn_refusal(t, e)) != ENRT_OK) {
		store_abort(t);
		return rc;
	}
	rc = store_commit(t);
	return rc == ENRT_OK ? rc : commit_failed(rc, e);
}

enrt_status
rules_store_failed(enrt_status rc, err *e)
{
	if (rc == ENRT_RESOURCE_EXHAUSTED) {
		return err_set(e, rc, "the store is full");
	}
	return err_set(e, rc, "the store could not be read");
}

enrt_status
rules_scan_failed(enrt_status rc, err *e)
{
	if (rc == ENRT_INVALID_ARGUMENT) {
		return err_set(
		    e, rc, "page_cursor: not a cursor this listing gave");
	}
	return rules_store_failed(rc, e);
}

/* ------------------------------------------------------------------ */
/* Callers                                                             */

/*
 * The digest of a credential: remembered, or else computed once the
 * credential's form is checked.  *fresh tells which.
 */
static enrt_status
credential_digest(rules *r, const char *credential, size_t len,
    uint8_t digest[STORE_DIGEST_LEN], bool *fresh, err *e)
{
	*fresh = r->credentials == NULL ||
	         !memo_find(r->credentials, credential, len, digest);
	if (!*fresh) {
		return ENRT_OK;
	}
	if (!enrt_credential_check(credential, len)) {
		return err_set(e, ENRT_UNAUTHENTICATED,
		    "credential: not a well-formed enrc_ credential");
	}
	rules_digest(r, credential, len, digest);
	return ENRT_OK;
}

/*
 * Only a credential of a caller that exists is remembered, so that
 * made-up ones cannot push real ones out of the memo.
 */
enrt_status
rules_authenticate(
    rules *r, const char *credential, store_caller **caller, err *e)
{
	uint8_t digest[STORE_DIGEST_LEN];
	store_txn *t;
	size_t len;
	bool fresh;
	enrt_status rc;

	*caller = NULL;
	if (!present(credential)) {
		return err_set(e, ENRT_UNAUTHENTICATED, "credential: missing");
	}
	len = strlen(credential);
	if (credential_digest(r, credential, len, digest, &fresh, e) !=
	    ENRT_OK) {
		return e->code;
	}

	rc = store_begin_read(r->store, &t);
	if (rc != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	rc = store_caller_get(t, digest, caller);
	store_abort(t);

	if (rc == ENRT_NOT_FOUND ||
	    (rc == ENRT_OK && (*caller)->has_revoked_at)) {
		store_free(*caller);
		*caller = NULL;
		return err_set(
		    e, ENRT_UNAUTHENTICATED, "credential: unknown or revoked");
	}
	if (rc == ENRT_OK && fresh && r->credentials != NULL) {
		memo_keep(r->credentials, credential, len, digest);
	}
	return rc == ENRT_OK ? rc : rules_store_failed(rc, e);
}

enrt_status
rules_bootstrap(rules *r, int64_t now, char *credential, err *e)
{
	uint8_t raw[FORMAT_RAW_LEN], digest[STORE_DIGEST_LEN];
	char id[FORMAT_ID_MAX];
	store_caller caller = ENRT__V1__CALLER_RECORD__INIT;
	actor first = {0}; /* the first caller is made by no one: by itself */
	store_txn *t;
	size_t count;
	enrt_status rc;

	credential[0] = '\0';
	rc = store_begin_write(r->store, &t);
	if (rc != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	rc = store_caller_count(t, &count);
	if (rc != ENRT_OK || count > 0) {
		store_abort(t);
		return rc == ENRT_OK ? rc : rules_store_failed(rc, e);
	}

	randombytes_buf(raw, sizeof(raw));
	format_secret(credential, ENRT_CREDENTIAL_PREFIX, raw);
	sodium_memzero(raw, sizeof(raw));
	rules_digest(r, credential, FORMAT_SECRET_LEN, digest);
	format_random_id(id, "cal_");

	caller.id = id;
	caller.name = "bootstrap-admin";
	caller.has_role = true;
	caller.role = ENRT__V1__ROLE__ADMIN;
	caller.has_created_at = true;
	caller.created_at = now;
	store_caller_add(t, digest, &caller);
	first.caller = &caller;
	first.now = now;
	audit_record(t, &first, "caller_add", id);

	rc = rules_commit(t, e);
	if (rc != ENRT_OK) {
		sodium_memzero(credential, FORMAT_SECRET_LEN + 1);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Persons                                                             */

/* Users' last-seen times are written at most this often. */
#define LAST_SEEN_STEP 60

static bool
same_text(const char *a, const char *b)
{
	return strcmp(a == NULL ? "" : a, b == NULL ? "" : b) == 0;
}

/* Whether the stored user already says what the person asserts. */
static bool
person_is_current(const store_user *u, const Enrt__V1__Person *p, int64_t now)
{
	bool admin = p->has_admin && p->admin;

	if (u->admin != admin || now - u->last_seen_at >= LAST_SEEN_STEP) {
		return false;
	}
	return !present(p->display_name) ||
	       same_text(u->display_name, p->display_name);
}

/* The person as they will be stored, given what was stored before. */
static void
merge_person(store_user *next, const store_user *old,
    const Enrt__V1__Person *p, int64_t now)
{
	next->id = p->user_id;
	next->display_name = p->user_id;
	if (present(p->display_name)) {
		next->display_name = p->display_name;
	} else if (old != NULL) {
		next->display_name = old->display_name;
	}
	next->has_admin = next->has_enabled = true;
	next->admin = p->has_admin && p->admin;
	next->enabled = old == NULL || old->enabled;
	next->has_created_at = next->has_last_seen_at = true;
	next->created_at = old == NULL ? now : old->created_at;
	next->last_seen_at = now;
	give_incarnation(next, old);
}

/* Whether a mirror write changes what the user is, not only when seen. */
static bool
person_changed(const store_user *old, const store_user *next)
{
	return old == NULL || old->admin != next->admin ||
	       !same_text(old->display_name, next->display_name);
}

static enrt_status
write_person(rules *r, const actor *a, bool *enabled, err *e)
{
	const Enrt__V1__Person *p = a->person;
	store_user next = ENRT__V1__USER_RECORD__INIT;
	store_user *old = NULL;
	store_txn *t;
	enrt_status rc;

	if ((rc = store_begin_write(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	rc = found_or_null(store_user_get(t, p->user_id, &old));
	if (rc != ENRT_OK) {
		store_abort(t);
		return rules_store_failed(rc, e);
	}
	merge_person(&next, old, p, a->now);
	*enabled = next.enabled;
	store_user_put(t, &next);
	if (person_changed(old, &next)) {
		audit_record(t, a, "user_mirror", p->user_id);
	}
	rc = rules_commit(t, e);
	store_free(old);
	return rc;
}

enrt_status
rules_sync_person(rules *r, const actor *a, err *e)
{
	const Enrt__V1__Person *p = a->person;
	store_user *user = NULL;
	store_txn *t;
	bool enabled = false; /* set on every path that returns ENRT_OK */
	enrt_status rc;

	if ((rc = store_begin_read(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	rc = found_or_null(store_user_get(t, p->user_id, &user));
	store_abort(t);
	if (rc != ENRT_OK) {
		return rules_store_failed(rc, e);
	}

	if (user != NULL && person_is_current(user, p, a->now)) {
		enabled = user->enabled;
	} else {
		rc = write_person(r, a, &enabled, e);
	}

	/* Only the time last seen is stale: a full map must not stop the
	 * person's reads for it. */
	if (rc == ENRT_RESOURCE_EXHAUSTED && user != NULL &&
	    person_is_current(user, p, user->last_seen_at)) {
		enabled = user->enabled;
		rc = e->code = ENRT_OK;
		e->message[0] = '\0';
	}
	store_free(user);
	if (rc == ENRT_OK && !enabled) {
		return err_set(e, ENRT_PERMISSION_DENIED,
		    "acting_user: user %s is disabled", p->user_id);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Changes through the writer                                          */

/* What an Issue request asks for, once its fields have been checked. */
typedef struct issue_plan {
	const char **scopes; /* distinct, pointing into the request */
	size_t n_scopes;
	const char *owner;          /* PAT: the user it acts as */
	bool has_owner_incarnation; /* PAT: set by check_pat_owner */
	uint64_t owner_incarnation;
	bool issuer_admin;
} issue_plan;

/* An Issue between its steps. */
typedef struct issue_change {
	const Enrt__V1__IssueRequest *req;
	Enrt__V1__IssueReply **out;
	issue_plan plan;
	store_app *app;
	store_token rec; /* points into req, plan, app and the two below */
	char value[FORMAT_SECRET_LEN + 1];
	uint8_t digest[STORE_DIGEST_LEN];
	char id[FORMAT_ID_MAX];
} issue_change;

/* A Revoke between its steps. */
typedef struct revoke_change {
	const Enrt__V1__RevokeRequest *req;
	Enrt__V1__RevokeReply **out;
	uint32_t count;
	char token_id[FORMAT_ID_MAX]; /* the one revoked by id or value */
} revoke_change;

/*
 * An Issue or a Revoke on its way through the writer: its job, what it
 * keeps between the step in the writer's transaction and the reply,
 * and whom to tell.  Freed by change_done.
 */
typedef struct change change;

struct change {
	writer_job job; /* first: the writer hands this back */
	rules *rules;
	const actor *actor;
	err *e;
	const char *action; /* of the audit event of a refusal */
	rules_pending pending;
	enrt_status (*apply)(change *c, store_txn *t);
	void (*finish)(change *c); /* once the commit is durable */
	void (*free)(change *c);   /* NULL: nothing of its own */
	union {
		issue_change issue;
		revoke_change revoke;
	};
};

static enrt_status
change_apply(writer_job *job, store_txn *t)
{
	change *c = (change *)job;

	return c->apply(c, t);
}

static void
change_refused(writer_job *job, store_txn *t, enrt_status st)
{
	change *c = (change *)job;

	audit_refused(t, c->actor, c->action, c->pending.refusal_target, st);
}

/*
 * A refusal of the change's own has its message already; a status that
 * reaches a change whose step had none is the commit's.
 */
static void
change_done(writer_job *job, enrt_status st)
{
	change *c = (change *)job;
	rules_pending pending = c->pending;

	if (st == ENRT_OK) {
		c->finish(c);
	} else if (c->e->code == ENRT_OK) {
		commit_failed(st, c->e);
	}
	if (c->free != NULL) {
		c->free(c);
	}
	free(c);
	if (pending.done != NULL) {
		pending.done(pending.arg);
	}
}

static change *
change_new(rules *r, const actor *a, err *e, const char *action)
{
	change *c = reply_alloc(sizeof(*c));

	memset(c, 0, sizeof(*c));
	c->job.apply = change_apply;
	c->job.done = change_done;
	c->rules = r;
	c->actor = a;
	c->e = e;
	c->action = action;
	e->code = ENRT_OK;
	e->message[0] = '\0';
	return c;
}

/* Applies c and waits for its outcome, with or without a writer. */
static enrt_status
change_run(change *c)
{
	err *e = c->e;

	if (c->rules->writer == NULL) {
		writer_apply_alone(c->rules->store, &c->job);
	} else {
		writer_run(c->rules->writer, &c->job);
	}
	return e->code;
}

static void
change_start(change *c, const rules_pending *pending)
{
	c->pending = *pending;
	if (pending->audit_refusals) {
		c->job.refused = change_refused;
	}
	if (c->rules->writer == NULL) {
		writer_apply_alone(c->rules->store, &c->job);
	} else {
		writer_submit(c->rules->writer, &c->job);
	}
}

/* ------------------------------------------------------------------ */
/* Issue                                                               */

static enrt_status
check_expiry_field(const Enrt__V1__IssueRequest *req, int64_t now, err *e)
{
	if (!req->has_expires_at) {
		return ENRT_OK;
	}
	if (req->expires_at <= now) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "expires_at: must be in the future");
	}
	if (req->expires_at > ENRT_TIME_MAX) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "expires_at: must be no later than "
		    "9999-12-31T23:59:59Z");
	}
	return ENRT_OK;
}

static enrt_status
check_kind_field(const Enrt__V1__IssueRequest *req, err *e)
{
	if (!req->has_kind ||
	    req->kind == ENRT__V1__TOKEN_KIND__KIND_UNSPECIFIED) {
		return err_set(
		    e, ENRT_INVALID_ARGUMENT, "kind: required, PAT or SAT");
	}
	if (req->kind != ENRT__V1__TOKEN_KIND__PAT &&
	    req->kind != ENRT__V1__TOKEN_KIND__SAT) {
		return err_set(
		    e, ENRT_INVALID_ARGUMENT, "kind: must be PAT or SAT");
	}
	return ENRT_OK;
}

/* Decides whom a PAT acts as: the person, or the owner an admin names. */
static enrt_status
choose_owner(const actor *a, const Enrt__V1__IssueRequest *req,
    issue_plan *plan, err *e)
{
	const char *person = actor_person(a);

	if (req->kind == ENRT__V1__TOKEN_KIND__SAT) {
		if (present(req->owner)) {
			return err_set(e, ENRT_INVALID_ARGUMENT,
			    "owner: a SAT has no owner; it acts as the "
			    "app's System User");
		}
		return ENRT_OK;
	}
	if (person == NULL) {
		if (!present(req->owner)) {
			return err_set(e, ENRT_INVALID_ARGUMENT,
			    "owner: required for a PAT issued by an admin "
			    "caller");
		}
		plan->owner = req->owner;
		return validate_user_id("owner", req->owner, e);
	}
	if (present(req->owner) && strcmp(req->owner, person) != 0) {
		return err_set(e, ENRT_PERMISSION_DENIED,
		    "owner: a person may issue PATs only for themselves");
	}
	plan->owner = person;
	return ENRT_OK;
}

static enrt_status
check_issue_fields(const actor *a, const Enrt__V1__IssueRequest *req,
    issue_plan *plan, err *e)
{
	if (validate_id("app_id", req->app_id, "app_", e) != ENRT_OK ||
	    check_kind_field(req, e) != ENRT_OK ||
	    check_expiry_field(req, a->now, e) != ENRT_OK ||
	    validate_text("description", req->description,
	        VALIDATE_DESCRIPTION_MAX, false, e) != ENRT_OK ||
	    choose_owner(a, req, plan, e) != ENRT_OK) {
		return e->code;
	}
	plan->issuer_admin = rules_actor_is_admin(a);
	return validate_scopes("scopes", req->scopes, req->n_scopes,
	    VALIDATE_SCOPES_MAX, true, &plan->scopes, &plan->n_scopes, e);
}

enrt_status
rules_load_app(store_txn *t, const char *id, store_app **app, err *e)
{
	enrt_status rc = store_app_get(t, id, app);

	if (rc == ENRT_NOT_FOUND) {
		return err_set(e, rc, "app_id: no app %s", id);
	}
	return rc == ENRT_OK ? rc : rules_store_failed(rc, e);
}

/* The policy table of DESIGN section 1, for the one who issues. */
static enrt_status
check_policy(const store_app *app, const Enrt__V1__IssueRequest *req,
    const issue_plan *plan, err *e)
{
	if (!app->enabled) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "app_id: app %s is disabled", app->id);
	}
	if (app->policy == ENRT__V1__POLICY__NONE) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "app_id: app %s has access-token policy None: it "
		    "accepts no tokens",
		    app->id);
	}
	if (req->kind == ENRT__V1__TOKEN_KIND__SAT && !plan->issuer_admin) {
		return err_set(e, ENRT_PERMISSION_DENIED,
		    "kind: only administrators may issue a SAT");
	}
	if (app->policy == ENRT__V1__POLICY__ADMINISTRATORS_ONLY &&
	    !plan->issuer_admin) {
		return err_set(e, ENRT_PERMISSION_DENIED,
		    "app_id: app %s has access-token policy "
		    "AdministratorsOnly: only administrators may issue PATs",
		    app->id);
	}
	return ENRT_OK;
}

static enrt_status
check_lifetime(const store_app *app, const Enrt__V1__IssueRequest *req,
    int64_t now, err *e)
{
	int64_t longest;

	if (!app->has_max_lifetime_days) {
		return ENRT_OK;
	}
	longest = (int64_t)app->max_lifetime_days * SECONDS_PER_DAY;
	if (!req->has_expires_at) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "expires_at: required; app %s allows tokens of at most "
		    "%u days",
		    app->id, app->max_lifetime_days);
	}
	if (req->expires_at - now > longest) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "expires_at: at most %u days from now, the maximum "
		    "lifetime of app %s",
		    app->max_lifetime_days, app->id);
	}
	return ENRT_OK;
}

static bool
app_allows_scope(const store_app *app, const char *scope)
{
	for (size_t i = 0; i < app->n_allowed_scopes; i++) {
		if (strcmp(app->allowed_scopes[i], scope) == 0) {
			return true;
		}
	}
	return false;
}

static enrt_status
check_allowed_scopes(const store_app *app, const issue_plan *plan, err *e)
{
	if (app->n_allowed_scopes == 0) {
		return ENRT_OK;
	}
	for (size_t i = 0; i < plan->n_scopes; i++) {
		if (!app_allows_scope(app, plan->scopes[i])) {
			return err_set(e, ENRT_INVALID_ARGUMENT,
			    "scopes: \"%s\" is not among the scopes app %s "
			    "allows",
			    plan->scopes[i], app->id);
		}
	}
	return ENRT_OK;
}

/*
 * Finds the user a PAT will act as.  Portal callers' persons are mirrored
 * on every call (rules_sync_person); a user that an admin caller names
 * for the first time is mirrored here, as an enabled non-administrator.
 */
static enrt_status
owner_record(
    store_txn *t, const actor *a, const char *owner, store_user **user, err *e)
{
	store_user fresh = ENRT__V1__USER_RECORD__INIT;
	enrt_status rc = store_user_get(t, owner, user);

	if (rc == ENRT_NOT_FOUND) {
		fresh.id = fresh.display_name = (char *)owner;
		fresh.has_admin = fresh.has_enabled = true;
		fresh.enabled = true;
		fresh.has_created_at = true;
		fresh.created_at = a->now;
		give_incarnation(&fresh, NULL);
		store_user_put(t, &fresh);
		audit_record(t, a, "user_mirror", owner);
		rc = store_user_get(t, owner, user);
	}
	return rc == ENRT_OK ? rc : rules_store_failed(rc, e);
}

/* A PAT's owner must be enabled, and an admin where the app wants one. */
static enrt_status
check_owner(const store_app *app, const store_user *user, err *e)
{
	switch (eligibility(ENRT__V1__TOKEN_KIND__PAT, app, user)) {
	case STANDING_OWNER_DISABLED:
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "owner: user %s is disabled", user->id);
	case STANDING_OWNER_NOT_ADMIN:
		return err_set(e, ENRT_PERMISSION_DENIED,
		    "owner: user %s is not an administrator and app %s has "
		    "access-token policy AdministratorsOnly",
		    user->id, app->id);
	default:
		return ENRT_OK;
	}
}

static enrt_status
check_pat_owner(store_txn *t, const actor *a, const store_app *app,
    issue_plan *plan, err *e)
{
	store_user *user = NULL;
	enrt_status rc = owner_record(t, a, plan->owner, &user, e);

	if (rc == ENRT_OK) {
		rc = check_owner(app, user, e);
		plan->has_owner_incarnation = user->has_incarnation;
		plan->owner_incarnation = user->incarnation;
	}
	store_free(user);
	return rc;
}

static void
fill_record(store_token *rec, const actor *a, const store_app *app,
    const Enrt__V1__IssueRequest *req, const issue_plan *plan)
{
	rec->has_kind = true;
	rec->kind = req->kind;
	rec->app_id = app->id;
	rec->owner = (char *)plan->owner;
	rec->has_owner_incarnation = plan->has_owner_incarnation;
	rec->owner_incarnation = plan->owner_incarnation;
	rec->scopes = (char **)plan->scopes;
	rec->n_scopes = plan->n_scopes;
	rec->description = req->description;
	rec->has_created_at = true;
	rec->created_at = a->now;
	rec->has_expires_at = req->has_expires_at;
	rec->expires_at = req->expires_at;
	rec->created_by = a->caller->id;
}

/*
 * The wall clock in milliseconds, for a token id's time part.  Only the
 * order of ids on disk depends on it: after a step back of the clock,
 * new ids sort among older ones, which costs locality, nothing else.
 */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Makes the token's value, digest and id on the thread that took the
 * request, before it queues for the writer: the one thread that every
 * Issue and Revoke passes through then has that much less to do.  The
 * value stays in is until the reply, once the commit is durable,
 * carries it.  The id begins with the time, so that the index of ids
 * grows at its end instead of taking a write at a random leaf per
 * Issue.
 */
static void
mint(rules *r, issue_change *is)
{
	uint8_t raw[FORMAT_RAW_LEN];

	randombytes_buf(raw, sizeof(raw));
	format_secret(is->value, ENRT_TOKEN_PREFIX, raw);
	sodium_memzero(raw, sizeof(raw));
	rules_digest(r, is->value, FORMAT_SECRET_LEN, is->digest);
	format_time_id(is->id, "tok_", now_ms());
}

static void
add_token(store_txn *t, change *c)
{
	issue_change *is = &c->issue;

	is->rec.id = is->id;
	fill_record(&is->rec, c->actor, is->app, is->req, &is->plan);
	store_token_add(t, is->digest, &is->rec);
	audit_record(t, c->actor, "issue", is->id);
}

/* The writer's step of an Issue: every check, then the new token. */
/*
 * Issue stops while a tenth of the map is still free, so that a Revoke,
 * which rewrites a token in place, still fits when tokens must be taken
 * away.  The store's size counts the pages written up to now; pages
 * freed since are reused first, so the reserve only ever grows.
 */
static enrt_status
check_room(rules *r, err *e)
{
	uint64_t used, size;

	if (store_usage(r->store, &used, &size) != ENRT_OK ||
	    used < size - size / REVOKE_RESERVE_PART) {
		return ENRT_OK;
	}
	return err_set(e, ENRT_RESOURCE_EXHAUSTED,
	    "the store is nearly full (map-size %" PRIu64 " MiB): Issue is "
	    "refused while a tenth is left, so that revocations still fit; "
	    "nothing was written; restart enrtd with a larger map-size",
	    size >> 20);
}

static enrt_status
apply_issue(change *c, store_txn *t)
{
	issue_change *is = &c->issue;
	const Enrt__V1__IssueRequest *req = is->req;
	const actor *a = c->actor;
	err *e = c->e;

	if (check_room(c->rules, e) != ENRT_OK ||
	    check_issue_fields(a, req, &is->plan, e) != ENRT_OK ||
	    rules_load_app(t, req->app_id, &is->app, e) != ENRT_OK ||
	    check_policy(is->app, req, &is->plan, e) != ENRT_OK ||
	    check_lifetime(is->app, req, a->now, e) != ENRT_OK ||
	    check_allowed_scopes(is->app, &is->plan, e) != ENRT_OK) {
		return e->code;
	}
	if (req->kind == ENRT__V1__TOKEN_KIND__PAT &&
	    check_pat_owner(t, a, is->app, &is->plan, e) != ENRT_OK) {
		return e->code;
	}
	add_token(t, c);
	return txn_refusal(t, e);
}

/* After the commit: the reply, which alone carries the value. */
static void
finish_issue(change *c)
{
	issue_change *is = &c->issue;
	Enrt__V1__IssueReply *reply = reply_alloc(sizeof(*reply));

	enrt__v1__issue_reply__init(reply);
	reply->token = reply_strdup(is->value);
	reply->info = token_info(&is->rec, is->app, STANDING_ACTIVE);
	log_info("token_issued", "token_id=%s kind=%s app_id=%s caller=%s",
	    is->id, enrt_kind_name((enrt_kind)is->req->kind), is->app->id,
	    c->actor->caller->id);
	*is->out = reply;
}

static void
free_issue(change *c)
{
	sodium_memzero(c->issue.value, sizeof(c->issue.value));
	store_free(c->issue.app);
	free(c->issue.plan.scopes);
}

static change *
issue_change_new(rules *r, const actor *a, const Enrt__V1__IssueRequest *req,
    Enrt__V1__IssueReply **out, err *e)
{
	change *c = change_new(r, a, e, "issue");

	*out = NULL;
	c->apply = apply_issue;
	c->finish = finish_issue;
	c->free = free_issue;
	c->issue.req = req;
	c->issue.out = out;
	enrt__v1__token_record__init(&c->issue.rec);
	mint(r, &c->issue);
	return c;
}

enrt_status
rules_issue(rules *r, const actor *a, const Enrt__V1__IssueRequest *req,
    Enrt__V1__IssueReply **out, err *e)
{
	return change_run(issue_change_new(r, a, req, out, e));
}

void
rules_issue_start(rules *r, const actor *a, const Enrt__V1__IssueRequest *req,
    Enrt__V1__IssueReply **out, err *e, const rules_pending *pending)
{
	change_start(issue_change_new(r, a, req, out, e), pending);
}

/* ------------------------------------------------------------------ */
/* Introspect                                                          */

static Enrt__V1__IntrospectReply *
introspection(const store_token *tok, const store_app *app)
{
	Enrt__V1__IntrospectReply *reply = reply_alloc(sizeof(*reply));

	enrt__v1__introspect_reply__init(reply);
	reply->has_active = reply->active = true;
	reply->token_id = reply_strdup(tok->id);
	reply->has_kind = true;
	reply->kind = tok->kind;
	reply->app_id = reply_strdup(tok->app_id);
	reply->subject = reply_strdup(tok->kind == ENRT__V1__TOKEN_KIND__SAT
	                                  ? app->system_user
	                                  : tok->owner);
	reply->scopes =
	    reply_strings((const char *const *)tok->scopes, tok->n_scopes);
	reply->n_scopes = tok->n_scopes;
	reply->has_issued_at = true;
	reply->issued_at = tok->created_at;
	reply->has_expires_at = tok->has_expires_at;
	reply->expires_at = tok->expires_at;
	return reply;
}

static Enrt__V1__IntrospectReply *
inactive(void)
{
	Enrt__V1__IntrospectReply *reply = reply_alloc(sizeof(*reply));

	enrt__v1__introspect_reply__init(reply);
	reply->has_active = true;
	reply->active = false;
	return reply;
}

/*
 * Looks the token up in t and judges it; *tok stays NULL if unknown.
 * value has passed the format check, so it is FORMAT_SECRET_LEN long.
 */
static enrt_status
judge(rules *r, store_txn *t, const actor *a, const char *value,
    store_token **tok, const store_app **app, standing *s)
{
	uint8_t digest[STORE_DIGEST_LEN];
	const store_user *owner = NULL;
	enrt_status rc;

	rules_digest(r, value, FORMAT_SECRET_LEN, digest);
	rc = store_token_get(t, digest, tok);
	if (rc == ENRT_NOT_FOUND) {
		*s = STANDING_UNKNOWN;
		return ENRT_OK;
	}
	if (rc == ENRT_OK) {
		rc = load_context(t, *tok, app, &owner);
		*s = token_standing(*tok, *app, owner, a->now);
	}

	if (rc == ENRT_OK && *s == STANDING_ACTIVE &&
	    !actor_sees_app(a, (*tok)->app_id)) {
		*s = STANDING_OTHER_APP;
	}
	return rc;
}

/*
 * One Introspect answer, read in t.  A value that is not of the form of
 * a token is inactive without a lookup.
 */
static enrt_status
answer(rules *r, store_txn *t, const actor *a, const char *value,
    Enrt__V1__IntrospectReply **out)
{
	store_token *tok = NULL;
	const store_app *app = NULL;
	standing s = STANDING_MALFORMED;
	enrt_status rc = ENRT_OK;

	if (value != NULL && enrt_token_check(value, strlen(value))) {
		rc = judge(r, t, a, value, &tok, &app, &s);
	}
	if (rc == ENRT_OK) {
		metrics_answer(s);
	}
	if (rc == ENRT_OK && s == STANDING_ACTIVE) {
		*out = introspection(tok, app);
		if (r->lastused != NULL) {
			lastused_touch(r->lastused, tok->id, a->now);
		}
	} else if (rc == ENRT_OK) {
		*out = inactive();
		log_debug("introspect_inactive", "token_id=%s cause=%s",
		    tok == NULL ? "-" : tok->id, standing_names[s]);
	}
	store_free(tok);
	return rc;
}

enrt_status
rules_introspect(rules *r, const actor *a,
    const Enrt__V1__IntrospectRequest *req, Enrt__V1__IntrospectReply **out,
    err *e)
{
	store_txn *t;
	enrt_status rc;

	*out = NULL;
	if ((rc = store_begin_read(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	rc = answer(r, t, a, req->token, out);
	store_abort(t);
	return rc == ENRT_OK ? rc : rules_store_failed(rc, e);
}

enrt_status
rules_introspect_batch(rules *r, const actor *a,
    const Enrt__V1__IntrospectBatchRequest *req,
    Enrt__V1__IntrospectBatchReply **out, err *e)
{
	Enrt__V1__IntrospectBatchReply *reply;
	store_txn *t;
	enrt_status rc = ENRT_OK;

	*out = NULL;
	if (req->n_tokens > RULES_BATCH_MAX) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "tokens: at most %d in one batch, got %zu",
		    RULES_BATCH_MAX, req->n_tokens);
	}
	if ((rc = store_begin_read(r->store, &t)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}
	reply = reply_alloc(sizeof(*reply));
	enrt__v1__introspect_batch_reply__init(reply);
	reply->answers = reply_alloc(req->n_tokens * sizeof(*reply->answers));
	for (size_t i = 0; rc == ENRT_OK && i < req->n_tokens; i++) {
		rc = answer(r, t, a, req->tokens[i], &reply->answers[i]);
		reply->n_answers += rc == ENRT_OK;
	}
	store_abort(t);
	if (rc != ENRT_OK) {
		reply_free(reply);
		return rules_store_failed(rc, e);
	}
	*out = reply;
	return ENRT_OK;
}

/* ------------------------------------------------------------------ */
/* Revoke                                                              */

/* Marks tok revoked in t unless it already is; returns 1 if it was. */
static uint32_t
revoke_in(store_txn *t, const uint8_t digest[STORE_DIGEST_LEN],
    store_token *tok, const actor *a)
{
	if (tok->has_revoked_at) {
		return 0;
	}
	tok->has_revoked_at = true;
	tok->revoked_at = a->now;
	store_token_update(t, digest, tok);
	audit_record(t, a, "revoke", tok->id);
	return 1;
}

static enrt_status
revoke_by_id(store_txn *t, change *c)
{
	revoke_change *rv = &c->revoke;
	const char *id = rv->req->token_id;
	uint8_t digest[STORE_DIGEST_LEN];
	store_token *tok = NULL;
	err *e = c->e;
	enrt_status rc;

	if (validate_id("token_id", id, "tok_", e) != ENRT_OK) {
		return e->code;
	}
	rc = store_token_by_id(t, id, &tok, digest);
	if (rc == ENRT_NOT_FOUND ||
	    (rc == ENRT_OK && !manages_in(t, c->actor, tok))) {
		rc = err_set(e, ENRT_NOT_FOUND, "token_id: no token %s", id);
	} else if (rc != ENRT_OK) {
		rc = rules_store_failed(rc, e);
	} else {
		rv->count = revoke_in(t, digest, tok, c->actor);
		snprintf(rv->token_id, sizeof(rv->token_id), "%s", tok->id);
	}
	store_free(tok);
	return rc;
}

/*
 * RFC 7009: a value that names no token is revoked all the same.  Holding
 * a value gives no more right than its id would: a token that is not the
 * caller's to revoke by id is answered as one that does not exist, and
 * stays active.
 */
static enrt_status
revoke_by_value(store_txn *t, change *c)
{
	revoke_change *rv = &c->revoke;
	const char *value = rv->req->token_value;
	uint8_t digest[STORE_DIGEST_LEN];
	store_token *tok = NULL;
	enrt_status rc;

	if (value == NULL || !enrt_token_check(value, strlen(value))) {
		return ENRT_OK;
	}
	rules_digest(c->rules, value, FORMAT_SECRET_LEN, digest);
	rc = store_token_get(t, digest, &tok);
	if (rc == ENRT_OK && !manages_in(t, c->actor, tok)) {
		rc = ENRT_NOT_FOUND;
	}
	if (rc == ENRT_OK) {
		rv->count = revoke_in(t, digest, tok, c->actor);
		snprintf(rv->token_id, sizeof(rv->token_id), "%s", tok->id);
	} else if (rc == ENRT_NOT_FOUND) {
		rc = ENRT_OK;
	} else {
		rc = rules_store_failed(rc, c->e);
	}
	sodium_memzero(digest, sizeof(digest));
	store_free(tok);
	return rc;
}

/* Token ids gathered by a scan, to act on after it. */
typedef struct id_list {
	char **ids;
	size_t n;
} id_list;

static store_visit
gather_live(void *arg, const store_token *tok)
{
	id_list *list = arg;

	if (!tok->has_revoked_at) {
		reply_append(
		    (void ***)&list->ids, &list->n, reply_strdup(tok->id));
	}
	return STORE_CONTINUE;
}

static void
id_list_free(id_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->ids[i]);
	}
	free(list->ids);
}

static uint32_t
revoke_ids(store_txn *t, const actor *a, const id_list *list)
{
	uint8_t digest[STORE_DIGEST_LEN];
	store_token *tok;
	uint32_t count = 0;

	for (size_t i = 0; i < list->n; i++) {
		if (store_token_by_id(t, list->ids[i], &tok, digest) ==
		    ENRT_OK) {
			count += revoke_in(t, digest, tok, a);
			store_free(tok);
		}
	}
	return count;
}

enrt_status
rules_revoke_owner(
    store_txn *t, const actor *a, const char *owner, uint32_t *count)
{
	char next[STORE_CURSOR_MAX];
	id_list list = {0};
	enrt_status rc;

	rc = store_token_scan(t, false, owner, NULL, gather_live, &list, next);
	*count = rc == ENRT_OK ? revoke_ids(t, a, &list) : 0;
	id_list_free(&list);
	return rc;
}

/* Offboarding: every PAT of one user, in one transaction. */
static enrt_status
revoke_user(store_txn *t, change *c)
{
	const char *user = c->revoke.req->user_id;
	err *e = c->e;
	enrt_status rc;

	if (!rules_actor_is_admin(c->actor)) {
		return err_set(e, ENRT_PERMISSION_DENIED,
		    "user_id: only administrators may revoke every token "
		    "of a user");
	}
	if (validate_user_id("user_id", user, e) != ENRT_OK) {
		return e->code;
	}
	rc = rules_revoke_owner(t, c->actor, user, &c->revoke.count);
	return rc == ENRT_OK ? ENRT_OK : rules_store_failed(rc, e);
}

/* The writer's step of a Revoke, by its target. */
static enrt_status
apply_revoke(change *c, store_txn *t)
{
	enrt_status rc;

	switch (c->revoke.req->target_case) {
	case ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_ID:
		rc = revoke_by_id(t, c);
		break;
	case ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_VALUE:
		rc = revoke_by_value(t, c);
		break;
	case ENRT__V1__REVOKE_REQUEST__TARGET_USER_ID:
		rc = revoke_user(t, c);
		break;
	default:
		return err_set(c->e, ENRT_INVALID_ARGUMENT,
		    "target: one of token_id, token_value or user_id is "
		    "required");
	}
	return rc == ENRT_OK ? txn_refusal(t, c->e) : rc;
}

/* Logged only once the revocation is committed. */
static void
finish_revoke(change *c)
{
	revoke_change *rv = &c->revoke;
	Enrt__V1__RevokeReply *reply = reply_alloc(sizeof(*reply));

	if (rv->req->target_case == ENRT__V1__REVOKE_REQUEST__TARGET_USER_ID) {
		log_info("user_tokens_revoked",
		    "user_id=%s count=%u caller=%s", rv->req->user_id,
		    rv->count, c->actor->caller->id);
	} else if (rv->count > 0) {
		log_info("token_revoked", "token_id=%s caller=%s",
		    rv->token_id, c->actor->caller->id);
	}
	enrt__v1__revoke_reply__init(reply);
	reply->has_revoked = true;
	reply->revoked = rv->count;
	*rv->out = reply;
}

static change *
revoke_change_new(rules *r, const actor *a, const Enrt__V1__RevokeRequest *req,
    Enrt__V1__RevokeReply **out, err *e)
{
	change *c = change_new(r, a, e, "revoke");

	*out = NULL;
	c->apply = apply_revoke;
	c->finish = finish_revoke;
	c->revoke.req = req;
	c->revoke.out = out;
	return c;
}

enrt_status
rules_revoke(rules *r, const actor *a, const Enrt__V1__RevokeRequest *req,
    Enrt__V1__RevokeReply **out, err *e)
{
	return change_run(revoke_change_new(r, a, req, out, e));
}

void
rules_revoke_start(rules *r, const actor *a,
    const Enrt__V1__RevokeRequest *req, Enrt__V1__RevokeReply **out, err *e,
    const rules_pending *pending)
{
	change_start(revoke_change_new(r, a, req, out, e), pending);
}

/* ------------------------------------------------------------------ */
/* List                                                                */

/* One page of a listing being built by store_token_scan. */
typedef struct lister {
	rules *rules;
	store_txn *txn;
	const actor *actor;
	const char *owner; /* only this owner's tokens, when set */
	bool include_inactive;
	uint32_t limit;
	uint32_t examined; /* records read for this page */
	store_app *app;    /* the app of the latest row, reused */
	Enrt__V1__ListTokensReply *reply;
	enrt_status rc;
} lister;

static store_app *
lister_app(lister *l, const char *id)
{
	if (l->app != NULL && strcmp(l->app->id, id) == 0) {
		return l->app;
	}
	store_free(l->app);
	l->app = NULL;
	l->rc = found_or_null(store_app_get(l->txn, id, &l->app));
	return l->app;
}

static bool
lister_wants(const lister *l, const store_token *tok, const store_user *owner,
    standing s)
{
	if (l->owner != NULL &&
	    (tok->owner == NULL || strcmp(tok->owner, l->owner) != 0)) {
		return false;
	}
	if (!actor_manages(l->actor, tok, owner)) {
		return false;
	}
	return l->include_inactive ||
	       (s != STANDING_REVOKED && s != STANDING_EXPIRED);
}

static void
lister_add(lister *l, const store_token *tok, const store_app *app, standing s)
{
	Enrt__V1__ListTokensReply *reply = l->reply;
	Enrt__V1__TokenInfo *info = token_info(tok, app, s);
	bool used;

	info->last_used_at = newest_use(l->rules, l->txn, tok->id, &used);
	info->has_last_used_at = used;
	reply_append((void ***)&reply->tokens, &reply->n_tokens, info);
}

static store_visit
list_visit(void *arg, const store_token *tok)
{
	lister *l = arg;
	store_user *owner = NULL;
	store_app *app;
	standing s;
	bool wanted;

	if (++l->examined > LIST_SCAN_BUDGET) {
		return STORE_STOP;
	}
	app = lister_app(l, tok->app_id);
	if (l->rc == ENRT_OK && present(tok->owner)) {
		l->rc =
		    found_or_null(store_user_get(l->txn, tok->owner, &owner));
	}
	if (l->rc != ENRT_OK) {
		return STORE_STOP;
	}
	s = token_standing(tok, app, owner, l->actor->now);
	wanted = lister_wants(l, tok, owner, s);
	store_free(owner);

	if (!wanted) {
		return STORE_CONTINUE;
	}
	if (l->reply->n_tokens == l->limit) {
		return STORE_STOP;
	}
	lister_add(l, tok, app, s);
	return STORE_CONTINUE;
}

/* Whose tokens a listing without app_id shows, and whether a may. */
static enrt_status
list_owner(const actor *a, const char *owner, const char **key, err *e)
{
	const char *person = actor_person(a);

	if (person == NULL && !present(owner)) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "owner: required when app_id is not given");
	}
	if (person != NULL && present(owner) && strcmp(owner, person) != 0 &&
	    !rules_actor_is_admin(a)) {
		return err_set(e, ENRT_PERMISSION_DENIED,
		    "owner: a person may list only their own tokens");
	}
	*key = present(owner) ? owner : person;
	return validate_user_id("owner", *key, e);
}

/* Decides which index to read and checks that a may read it. */
static enrt_status
list_scope(const actor *a, const Enrt__V1__ListTokensRequest *req,
    bool *by_app, const char **key, err *e)
{
	*by_app = present(req->app_id);
	if (!*by_app) {
		return list_owner(a, req->owner, key, e);
	}
	*key = req->app_id;
	if (!rules_actor_is_admin(a)) {
		return err_set(e, ENRT_PERMISSION_DENIED,
		    "app_id: only administrators may list every token of an "
		    "app");
	}
	if (present(req->owner) &&
	    validate_user_id("owner", req->owner, e) != ENRT_OK) {
		return e->code;
	}
	return validate_id("app_id", req->app_id, "app_", e);
}

static enrt_status
run_listing(lister *l, bool by_app, const char *key,
    const Enrt__V1__ListTokensRequest *req, err *e)
{
	char next[STORE_CURSOR_MAX];
	store_app *app = NULL;
	enrt_status rc;

	if (by_app && (rc = rules_load_app(l->txn, key, &app, e)) != ENRT_OK) {
		return rc;
	}
	store_free(app);
	rc = store_token_scan(
	    l->txn, by_app, key, req->page_cursor, list_visit, l, next);
	if (rc == ENRT_OK) {
		rc = l->rc;
	}
	if (rc != ENRT_OK) {
		return rules_scan_failed(rc, e);
	}
	l->reply->next_cursor = next[0] == '\0' ? NULL : reply_strdup(next);
	return ENRT_OK;
}

enrt_status
rules_list_tokens(rules *r, const actor *a,
    const Enrt__V1__ListTokensRequest *req, Enrt__V1__ListTokensReply **out,
    err *e)
{
	lister l = {.rules = r, .actor = a, .rc = ENRT_OK};
	const char *key = NULL; /* set by list_scope when it accepts */
	bool by_app = false;
	enrt_status rc;

	*out = NULL;
	if (list_scope(a, req, &by_app, &key, e) != ENRT_OK ||
	    validate_page_size(
	        req->has_page_size, req->page_size, &l.limit, e) != ENRT_OK) {
		return e->code;
	}
	l.owner = by_app && present(req->owner) ? req->owner : NULL;
	l.include_inactive =
	    req->has_include_inactive && req->include_inactive;
	if ((rc = store_begin_read(r->store, &l.txn)) != ENRT_OK) {
		return rules_store_failed(rc, e);
	}

	l.reply = reply_alloc(sizeof(*l.reply));
	enrt__v1__list_tokens_reply__init(l.reply);
	rc = run_listing(&l, by_app, key, req, e);
	store_abort(l.txn);
	store_free(l.app);
	if (rc != ENRT_OK) {
		reply_free(l.reply);
		return rc;
	}
	*out = l.reply;
	return ENRT_OK;
}
