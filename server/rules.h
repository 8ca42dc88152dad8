/*
 * The rules: what each operation may do, for whom, and with what fields.
 *
 * Every operation takes the authenticated actor and a decoded request,
 * validates every field, applies DESIGN's policies and writes or reads
 * through the store.  It fills a reply message whose every pointer is
 * malloc'd, so that protobuf_c_message_free_unpacked (NULL allocator)
 * frees it.  A refusal returns its status with a message in e.
 *
 * The rules know nothing of sockets or of LMDB's API.  Thread-safe:
 * a rules value is read-only once set up (rules_init, then the writer
 * if there is one).
 */
#ifndef ENRT_RULES_H
#define ENRT_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "enrt.pb-c.h"
#include "error.h"
#include "lastused.h"
#include "memo.h"
#include "store.h"
#include "writer.h"

#define RULES_KEY_LEN   32
#define RULES_BATCH_MAX 128

typedef struct rules {
	store *store;
	lastused *lastused;
	writer *writer;    /* NULL: each Issue or Revoke commits alone */
	memo *credentials; /* NULL: each credential is digested anew */
	uint8_t key[RULES_KEY_LEN];
	const char *data_dir;   /* for Backup; NULL: Backup is refused */
	const char *backup_dir; /* where Backup writes; NULL: refused */
} rules;

/* Who is asking: the caller, the person it acts for, and the time. */
typedef struct actor {
	const store_caller *caller;
	const Enrt__V1__Person *person; /* portal callers only */
	int64_t now;
} actor;

/*
 * An admin caller, or a portal caller acting for a person it asserts is
 * an administrator.
 */
bool rules_actor_is_admin(const actor *a);

/*
 * Commits t (consuming it) and turns a failure into a refusal in e that
 * keeps the store's own words, such as a name clash.
 */
enrt_status rules_commit(store_txn *t, err *e);

/* Turns a failed store read into a refusal in e; returns rc. */
enrt_status rules_store_failed(enrt_status rc, err *e);

/* Like rules_store_failed, naming the cursor when the store refused it. */
enrt_status rules_scan_failed(enrt_status rc, err *e);

/* Loads an app; NOT_FOUND names the id as the field app_id. */
enrt_status rules_load_app(
    store_txn *t, const char *id, store_app **app, err *e);

/*
 * The name of an Introspect answer's cause by number, for metrics:
 * "active" for 0, then why a token is inactive ("revoked", "expired",
 * "unknown", ...); NULL past the last.
 */
const char *rules_cause_name(unsigned cause);

void rules_init(
    rules *r, store *s, lastused *lu, const uint8_t key[RULES_KEY_LEN]);

/* The keyed BLAKE2b-256 digest of a token or credential string. */
void rules_digest(const rules *r, const char *text, size_t len,
    uint8_t out[STORE_DIGEST_LEN]);

/*
 * Finds the caller whose credential this is.  Anything else (missing,
 * malformed, unknown, revoked) is ENRT_UNAUTHENTICATED.  The caller
 * frees *caller with store_free.
 */
enrt_status rules_authenticate(
    rules *r, const char *credential, store_caller **caller, err *e);

/*
 * Creates the first admin caller when the store has no caller at all,
 * writing its credential (FORMAT_SECRET_LEN + 1 bytes) to credential;
 * otherwise leaves credential "" and does nothing.
 */
enrt_status rules_bootstrap(rules *r, int64_t now, char *credential, err *e);

/*
 * Mirrors a->person, whom a portal caller asserts: creates the user on first
 * sight and records a changed display name or admin flag at once, so
 * that a demotion takes effect on the next Introspect.  A disabled user
 * is refused with ENRT_PERMISSION_DENIED; no assertion re-enables one.
 */
enrt_status rules_sync_person(rules *r, const actor *a, err *e);

/*
 * The operations of DESIGN section 6 on tokens.  Each validates every
 * field of req, applies the policies for the actor, and on success sets
 * *out to a reply the caller frees with reply_free.  Issue and Revoke
 * return only after their change is durably committed: through the
 * rules' writer when there is one (then never on the writer's own
 * thread), else in a transaction of their own.  An inactive
 * token is an Introspect answer (active = false), not an error.
 */
enrt_status rules_issue(rules *r, const actor *a,
    const Enrt__V1__IssueRequest *req, Enrt__V1__IssueReply **out, err *e);

enrt_status rules_introspect(rules *r, const actor *a,
    const Enrt__V1__IntrospectRequest *req, Enrt__V1__IntrospectReply **out,
    err *e);

/* Up to RULES_BATCH_MAX answers, in order, read in one transaction. */
enrt_status rules_introspect_batch(rules *r, const actor *a,
    const Enrt__V1__IntrospectBatchRequest *req,
    Enrt__V1__IntrospectBatchReply **out, err *e);

enrt_status rules_revoke(rules *r, const actor *a,
    const Enrt__V1__RevokeRequest *req, Enrt__V1__RevokeReply **out, err *e);

/*
 * How an Issue or Revoke begun with rules_issue_start or
 * rules_revoke_start tells its end: done(arg), called once, when *out
 * or e holds what rules_issue or rules_revoke would have returned (e's
 * code is the status).  done runs on the writer's telling thread, or
 * on the calling thread before the start function returns when the
 * rules have no writer or the writer is stopping.
 *
 * With audit_refusals, a refusal is recorded in the audit log as
 * audit_refusal would (naming refusal_target, which may be NULL), in
 * the same commit that would have held the change, before done.
 */
typedef struct rules_pending {
	void (*done)(void *arg);
	void *arg;
	bool audit_refusals;
	const char *refusal_target;
} rules_pending;

/*
 * Issue and Revoke without waiting: a, req, out and e must stay valid
 * until done is called.  Otherwise as rules_issue and rules_revoke.
 */
void rules_issue_start(rules *r, const actor *a,
    const Enrt__V1__IssueRequest *req, Enrt__V1__IssueReply **out, err *e,
    const rules_pending *pending);

void rules_revoke_start(rules *r, const actor *a,
    const Enrt__V1__RevokeRequest *req, Enrt__V1__RevokeReply **out, err *e,
    const rules_pending *pending);

/*
 * Revokes in t every live token that owner owns, auditing each, and
 * counts them in *count.  The caller commits.
 */
enrt_status rules_revoke_owner(
    store_txn *t, const actor *a, const char *owner, uint32_t *count);

enrt_status rules_list_tokens(rules *r, const actor *a,
    const Enrt__V1__ListTokensRequest *req, Enrt__V1__ListTokensReply **out,
    err *e);

#endif /* ENRT_RULES_H */
