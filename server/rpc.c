/*
 * Dispatch of one request: decode, check the version, authenticate,
 * check the role, run the operation, encode the reply.  Holds no state
 * of its own; runs on the transport's threads, concurrently.
 *
 * Each request is a call, allocated for it, that lives until its reply
 * is encoded.  From rpc_serve, an Issue or a Revoke leaves its call
 * with the rules' writer and returns at once; the writer's telling
 * thread ends the call after the commit that made the change durable,
 * so that the reply still comes only after that commit, and no
 * transport thread waits for a disk flush.  rpc_handle ends every call
 * before it returns, on its own thread.
 *
 * Secrets that arrive in a request (the credential, token values) are
 * wiped from the decoded message before it is freed.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps.h"
#include "audit.h"
#include "backup.h"
#include "callers.h"
#include "format.h"
#include "log.h"
#include "metrics.h"
#include "reply.h"
#include "rpc.h"
#include "users.h"
#include "validate.h"

#define ROLE_BIT(role) (1u << ENRT__V1__ROLE__##role)
#define ADMIN_ONLY     ROLE_BIT(ADMIN)
#define PEOPLE         (ROLE_BIT(ADMIN) | ROLE_BIT(PORTAL))
#define VERIFIERS      (ROLE_BIT(ADMIN) | ROLE_BIT(INTROSPECT))

/*
 * Each operation: its name, the roles that may call it, the action an
 * audit event names when it changes anything (NULL for reads), and the
 * arm of the reply it fills.
 */
typedef struct operation {
	const char *name;
	unsigned roles;
	const char *action;
	Enrt__V1__Reply__ResultCase result;
} operation;

#define OP(arm, op_name, op_roles, op_action, reply_arm)  \
	[ENRT__V1__REQUEST__OP_##arm] = {.name = op_name, \
	    .roles = op_roles,                            \
	    .action = op_action,                          \
	    .result = ENRT__V1__REPLY__RESULT_##reply_arm}

static const operation operations[] = {
    OP(ISSUE, "Issue", PEOPLE, "issue", ISSUE),
    /* Introspect callers verify and nothing else. */
    OP(REVOKE, "Revoke", PEOPLE, "revoke", REVOKE),
    OP(LIST_TOKENS, "ListTokens", PEOPLE, NULL, LIST_TOKENS),
    OP(INTROSPECT, "Introspect", VERIFIERS, NULL, INTROSPECT),
    OP(INTROSPECT_BATCH, "IntrospectBatch", VERIFIERS, NULL, INTROSPECT_BATCH),
    /* Apps are the operators' to shape, not any portal person's. */
    OP(CREATE_APP, "CreateApp", ADMIN_ONLY, "app_create", APP),
    OP(UPDATE_APP, "UpdateApp", ADMIN_ONLY, "app_update", APP),
    OP(GET_APP, "GetApp", PEOPLE, NULL, APP),
    OP(LIST_APPS, "ListApps", PEOPLE, NULL, LIST_APPS),
    OP(ADD_CALLER, "AddCaller", ADMIN_ONLY, "caller_add", ADD_CALLER),
    OP(LIST_CALLERS, "ListCallers", ADMIN_ONLY, NULL, LIST_CALLERS),
    OP(REVOKE_CALLER, "RevokeCaller", ADMIN_ONLY, "caller_revoke", CALLER),
    OP(LIST_USERS, "ListUsers", ADMIN_ONLY, NULL, LIST_USERS),
    OP(SET_USER, "SetUser", ADMIN_ONLY, "user_set", USER),
    OP(DELETE_USER, "DeleteUser", ADMIN_ONLY, "user_delete", DELETE_USER),
    OP(LIST_AUDIT, "ListAudit", ADMIN_ONLY, NULL, LIST_AUDIT),
    /* A backup holds the digest key: operators only. */
    OP(BACKUP, "Backup", ADMIN_ONLY, "backup", BACKUP),
};

#define N_OPERATIONS (sizeof(operations) / sizeof(operations[0]))

static const operation *
find_operation(Enrt__V1__Request__OpCase op)
{
	if ((size_t)op >= N_OPERATIONS || operations[op].name == NULL) {
		return NULL;
	}
	return &operations[op];
}

const char *
rpc_operation_name(unsigned op)
{
	if (op == 0) {
		return "none"; /* not decoded, or naming no operation */
	}
	return op < N_OPERATIONS ? operations[op].name : NULL;
}

static const char *
role_name(Enrt__V1__Role role)
{
	switch (role) {
	case ENRT__V1__ROLE__INTROSPECT:
		return "introspect";
	case ENRT__V1__ROLE__PORTAL:
		return "portal";
	case ENRT__V1__ROLE__ADMIN:
		return "admin";
	default:
		return "none";
	}
}

static int64_t
now_seconds(void)
{
	return (int64_t)time(NULL);
}

static uint64_t
now_micros(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
wipe(char *secret)
{
	if (secret != NULL) {
		sodium_memzero(secret, strlen(secret));
	}
}

/* Text of the form of a token or a credential, whatever its role. */
static bool
looks_secret(const char *text)
{
	size_t len = strlen(text);

	return enrt_token_check(text, len) || enrt_credential_check(text, len);
}

static void
wipe_request(Enrt__V1__Request *req)
{
	wipe(req->credential);
	if (req->op_case == ENRT__V1__REQUEST__OP_INTROSPECT) {
		wipe(req->introspect->token);
	}
	if (req->op_case == ENRT__V1__REQUEST__OP_INTROSPECT_BATCH) {
		for (size_t i = 0; i < req->introspect_batch->n_tokens; i++) {
			wipe(req->introspect_batch->tokens[i]);
		}
	}
	if (req->op_case == ENRT__V1__REQUEST__OP_REVOKE &&
	    req->revoke->target_case ==
	        ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_VALUE) {
		wipe(req->revoke->token_value);
	}
}

static enrt_status
check_role(const store_caller *caller, const operation *op, err *e)
{
	unsigned role = caller->has_role ? (unsigned)caller->role : 0;

	if (role >= 32 || (op->roles & (1u << role)) == 0) {
		return err_set(e, ENRT_PERMISSION_DENIED,
		    "a caller with role %s may not call %s",
		    role_name(caller->role), op->name);
	}
	return ENRT_OK;
}

/*
 * A portal caller acts for a person, whom it asserts on every call; no
 * other caller acts for anyone.
 */
static enrt_status
check_person(
    const store_caller *caller, const Enrt__V1__Person *person, err *e)
{
	if (caller->role != ENRT__V1__ROLE__PORTAL) {
		if (person != NULL) {
			return err_set(e, ENRT_INVALID_ARGUMENT,
			    "acting_user: only portal callers act for a "
			    "person");
		}
		return ENRT_OK;
	}
	if (person == NULL) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "acting_user: required for a portal caller");
	}
	if (validate_user_id("acting_user.user_id", person->user_id, e) !=
	        ENRT_OK ||
	    validate_text("acting_user.display_name", person->display_name,
	        VALIDATE_NAME_MAX, false, e) != ENRT_OK) {
		return e->code;
	}
	return ENRT_OK;
}

/*
 * Settles who acts: the caller's role must allow the operation, and the
 * person a portal caller names joins the actor only once checked, and is
 * mirrored as a user before anything else runs.
 */
static enrt_status
settle_actor(rules *r, actor *a, const operation *op,
    const Enrt__V1__Request *req, err *e)
{
	if (check_role(a->caller, op, e) != ENRT_OK ||
	    check_person(a->caller, req->acting_user, e) != ENRT_OK) {
		return e->code;
	}
	a->person = req->acting_user;
	return a->person == NULL ? ENRT_OK : rules_sync_person(r, a, e);
}

/*
 * Whether a refusal goes to the audit log: attempts at changes, except
 * those of introspect callers, which change nothing but by revoking a
 * value they hold; their refusals would only let the least trusted
 * caller fill the store.
 */
static bool
audits_refusal(const actor *a, const operation *op)
{
	return op->action != NULL &&
	       a->caller->role != ENRT__V1__ROLE__INTROSPECT;
}

static enrt_status
check_envelope(const Enrt__V1__Request *req, const operation **op, err *e)
{
	if (!req->has_version ||
	    req->version != ENRT__V1__WIRE_VERSION__WIRE_VERSION_1) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "version: this server speaks wire version 1 only");
	}
	*op = find_operation(req->op_case);
	if (*op == NULL) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "op: the request names no operation this server knows");
	}
	return ENRT_OK;
}

/* The operations on callers, users and the audit log. */
static enrt_status
run_admin(rules *r, const actor *a, const Enrt__V1__Request *req,
    Enrt__V1__Reply *reply, err *e)
{
	switch (req->op_case) {
	case ENRT__V1__REQUEST__OP_ADD_CALLER:
		return callers_add(
		    r, a, req->add_caller, &reply->add_caller, e);
	case ENRT__V1__REQUEST__OP_LIST_CALLERS:
		return callers_list(
		    r, a, req->list_callers, &reply->list_callers, e);
	case ENRT__V1__REQUEST__OP_REVOKE_CALLER:
		return callers_revoke(
		    r, a, req->revoke_caller, &reply->caller, e);
	case ENRT__V1__REQUEST__OP_LIST_USERS:
		return users_list(
		    r, a, req->list_users, &reply->list_users, e);
	case ENRT__V1__REQUEST__OP_SET_USER:
		return users_set(r, a, req->set_user, &reply->user, e);
	case ENRT__V1__REQUEST__OP_DELETE_USER:
		return users_delete(
		    r, a, req->delete_user, &reply->delete_user, e);
	case ENRT__V1__REQUEST__OP_LIST_AUDIT:
		return audit_list(
		    r, a, req->list_audit, &reply->list_audit, e);
	case ENRT__V1__REQUEST__OP_BACKUP:
		return backup_rpc(r, a, req->backup, &reply->backup, e);
	default:
		return err_set(e, ENRT_INVALID_ARGUMENT, "op: unknown");
	}
}

/* Runs the operation; its result goes into the reply's matching arm. */
static enrt_status
run(rules *r, const actor *a, const Enrt__V1__Request *req,
    Enrt__V1__Reply *reply, err *e)
{
	switch (req->op_case) {
	case ENRT__V1__REQUEST__OP_ISSUE:
		return rules_issue(r, a, req->issue, &reply->issue, e);
	case ENRT__V1__REQUEST__OP_REVOKE:
		return rules_revoke(r, a, req->revoke, &reply->revoke, e);
	case ENRT__V1__REQUEST__OP_LIST_TOKENS:
		return rules_list_tokens(
		    r, a, req->list_tokens, &reply->list_tokens, e);
	case ENRT__V1__REQUEST__OP_INTROSPECT:
		return rules_introspect(
		    r, a, req->introspect, &reply->introspect, e);
	case ENRT__V1__REQUEST__OP_INTROSPECT_BATCH:
		return rules_introspect_batch(
		    r, a, req->introspect_batch, &reply->introspect_batch, e);
	case ENRT__V1__REQUEST__OP_CREATE_APP:
		return apps_create(r, a, req->create_app, &reply->app, e);
	case ENRT__V1__REQUEST__OP_UPDATE_APP:
		return apps_update(r, a, req->update_app, &reply->app, e);
	case ENRT__V1__REQUEST__OP_GET_APP:
		return apps_get(r, a, req->get_app, &reply->app, e);
	case ENRT__V1__REQUEST__OP_LIST_APPS:
		return apps_list(r, a, req->list_apps, &reply->list_apps, e);
	default:
		return run_admin(r, a, req, reply, e);
	}
}

/*
 * The id a refused request aimed at, for its audit event: only an id of
 * the right form, and never anything shaped like a token or credential
 * (a value pasted where an id belongs must not reach the log).
 */
static const char *
audit_target(const Enrt__V1__Request *req)
{
	const char *id = NULL, *prefix = NULL;
	err ignored;

	switch (req->op_case) {
	case ENRT__V1__REQUEST__OP_ISSUE:
		id = req->issue->app_id;
		prefix = "app_";
		break;
	case ENRT__V1__REQUEST__OP_REVOKE:
		if (req->revoke->target_case ==
		    ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_ID) {
			id = req->revoke->token_id;
			prefix = "tok_";
		}
		break;
	case ENRT__V1__REQUEST__OP_UPDATE_APP:
		id = req->update_app->id;
		prefix = "app_";
		break;
	case ENRT__V1__REQUEST__OP_REVOKE_CALLER:
		id = req->revoke_caller->id;
		prefix = "cal_";
		break;
	case ENRT__V1__REQUEST__OP_SET_USER:
		id = req->set_user->id;
		break;
	case ENRT__V1__REQUEST__OP_DELETE_USER:
		id = req->delete_user->id;
		break;
	default:
		return NULL;
	}
	if (id == NULL || looks_secret(id)) {
		return NULL;
	}
	if (prefix != NULL) {
		return validate_id("id", id, prefix, &ignored) == ENRT_OK
		           ? id
		           : NULL;
	}
	return validate_user_id("id", id, &ignored) == ENRT_OK ? id : NULL;
}

/*
 * What the access line says of a request.  Its token id is looked for
 * only when the line is written: at the debug level.
 */
typedef struct access_line {
	const char *op;
	unsigned op_index; /* 0: none, as the metrics count it */
	char caller[FORMAT_ID_MAX];
	char token_id[FORMAT_ID_MAX];
} access_line;

/* Copies an id into a line's field, cut short if it is longer. */
static void
copy_id(char to[FORMAT_ID_MAX], const char *id)
{
	size_t len = strnlen(id, FORMAT_ID_MAX - 1);

	memcpy(to, id, len);
	to[len] = '\0';
}

/*
 * One request from its bytes to its reply: what serving it holds until
 * the reply is encoded, which for an Issue or a Revoke is after the
 * writer's commit, on the writer's telling thread.
 */
typedef struct call {
	rules *rules;
	Enrt__V1__Request *req; /* NULL: not decoded */
	Enrt__V1__Reply *reply;
	const operation *op;
	store_caller *caller;
	actor actor;
	access_line line;
	uint64_t started;
	err e;
	bool defer; /* Issue and Revoke may finish on the writer's teller */
	rpc_reply answer;
	void *arg;
} call;

/*
 * The token a request was about, where its id is known: the one issued,
 * the one revoked by id (only an id of the right form) or the one that
 * answered active.  "-" otherwise.
 */
static void
note_token(const Enrt__V1__Request *req, const Enrt__V1__Reply *reply,
    access_line *line)
{
	const char *id = NULL;
	err ignored;

	if (reply->result_case == ENRT__V1__REPLY__RESULT_ISSUE &&
	    reply->issue->info != NULL) {
		id = reply->issue->info->id;
	} else if (reply->result_case == ENRT__V1__REPLY__RESULT_INTROSPECT) {
		id = reply->introspect->token_id;
	} else if (req->op_case == ENRT__V1__REQUEST__OP_REVOKE &&
	           req->revoke->target_case ==
	               ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_ID &&
	           validate_id("id", req->revoke->token_id, "tok_",
	               &ignored) == ENRT_OK) {
		id = req->revoke->token_id;
	}
	if (id != NULL && id[0] != '\0' && !looks_secret(id)) {
		copy_id(line->token_id, id);
	}
}

static bool
encode(const Enrt__V1__Reply *reply, uint8_t **out, size_t *out_len)
{
	size_t len = enrt__v1__reply__get_packed_size(reply);
	uint8_t *buf = malloc(len == 0 ? 1 : len);

	if (buf == NULL) {
		log_error(
		    "reply_dropped", "reason=out_of_memory bytes=%zu", len);
		return false;
	}
	*out_len = enrt__v1__reply__pack(reply, buf);
	*out = buf;
	return true;
}

/* Frees a reply, wiping the one field that can hold a token value. */
static void
free_reply(Enrt__V1__Reply *reply)
{
	if (reply->result_case == ENRT__V1__REPLY__RESULT_ISSUE &&
	    reply->issue != NULL) {
		wipe(reply->issue->token);
	}
	if (reply->result_case == ENRT__V1__REPLY__RESULT_ADD_CALLER &&
	    reply->add_caller != NULL) {
		wipe(reply->add_caller->credential);
	}
	reply->message = NULL; /* points into the err on the stack */
	reply_free(reply);
}

/* The message that field fd of m holds, or NULL. */
static const ProtobufCMessage *
sub_message(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	const char *base = (const char *)m;

	if (fd->type != PROTOBUF_C_TYPE_MESSAGE ||
	    fd->label == PROTOBUF_C_LABEL_REPEATED) {
		return NULL; /* no request holds a list of messages */
	}
	if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
	    *(const uint32_t *)(base + fd->quantifier_offset) != fd->id) {
		return NULL; /* another arm of the oneof is set */
	}
	return *(const ProtobufCMessage *const *)(base + fd->offset);
}

/*
 * Refuses m when it, or a message within it, carries a field that wire
 * version 1 does not have.  protobuf-c keeps such fields aside, and the
 * server would drop them without a word: a newer client's limit on a token
 * would be lost and the token issued without it.
 */
static enrt_status
check_known_fields(const ProtobufCMessage *m, err *e)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (m->n_unknown_fields > 0) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "request: field %u of %s is not in wire version 1",
		    m->unknown_fields[0].tag, d->short_name);
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCMessage *sub = sub_message(m, &d->fields[i]);

		if (sub != NULL && check_known_fields(sub, e) != ENRT_OK) {
			return e->code;
		}
	}
	return ENRT_OK;
}

/*
 * Decodes a request and insists on its canonical form: protobuf-c ends a
 * string at its first NUL byte, so "enrt_...\0junk" would otherwise pass
 * for the token before the NUL.  A message that packs back to another
 * size carried such a string, a field twice, or padding.  Fields that
 * wire version 1 does not have are refused too (check_known_fields).
 */
static Enrt__V1__Request *
decode(const uint8_t *in, size_t len, err *e)
{
	Enrt__V1__Request *req = enrt__v1__request__unpack(NULL, len, in);

	if (req == NULL) {
		err_set(e, ENRT_INVALID_ARGUMENT,
		    "request: not a well-formed enrt.v1.Request message");
		return NULL;
	}
	if (enrt__v1__request__get_packed_size(req) != len) {
		err_set(e, ENRT_INVALID_ARGUMENT,
		    "request: not in canonical form (a string with a NUL "
		    "byte, or a field given twice)");
	} else if (check_known_fields(&req->base, e) == ENRT_OK) {
		return req;
	}
	wipe_request(req);
	reply_free(req);
	return NULL;
}

/*
 * Encodes the reply, counts and logs the request, hands the reply over
 * and frees the call.
 */
static void
finish(call *c)
{
	uint8_t *out = NULL;
	size_t out_len = 0;
	uint64_t micros;

	if (c->req != NULL) {
		if (log_enabled(LOG_DEBUG)) {
			note_token(c->req, c->reply, &c->line);
		}
		wipe_request(c->req);
		reply_free(c->req);
	}
	store_free(c->caller);

	c->reply->has_status = true;
	c->reply->status = (Enrt__V1__Status)c->e.code;
	c->reply->message = c->e.code == ENRT_OK ? NULL : c->e.message;
	(void)encode(c->reply, &out, &out_len); /* false: out stays NULL */
	free_reply(c->reply);

	micros = now_micros() - c->started;
	metrics_request(c->line.op_index, c->e.code, micros);
	log_debug("request", "op=%s caller=%s status=%s us=%llu token_id=%s",
	    c->line.op, c->line.caller, enrt_status_name(c->e.code),
	    (unsigned long long)micros, c->line.token_id);
	c->answer(c->arg, out, out_len);
	free(c);
}

/* An Issue or Revoke is done: its status is in c->e. */
static void
change_done(void *arg)
{
	call *c = arg;

	if (c->e.code == ENRT_OK) {
		c->reply->result_case = c->op->result;
	}
	finish(c);
}

/*
 * Starts an Issue or a Revoke through the writer, which records a
 * refusal itself, in the same commit; false for any other operation.
 */
static bool
start_change(call *c)
{
	const Enrt__V1__Request *req = c->req;
	rules_pending pending = {.done = change_done,
	    .arg = c,
	    .audit_refusals = audits_refusal(&c->actor, c->op),
	    .refusal_target = audit_target(req)};

	switch (req->op_case) {
	case ENRT__V1__REQUEST__OP_ISSUE:
		rules_issue_start(c->rules, &c->actor, req->issue,
		    &c->reply->issue, &c->e, &pending);
		return true;
	case ENRT__V1__REQUEST__OP_REVOKE:
		rules_revoke_start(c->rules, &c->actor, req->revoke,
		    &c->reply->revoke, &c->e, &pending);
		return true;
	default:
		return false;
	}
}

/* Names the caller, who acts at this second, in the call. */
static enrt_status
authenticate(call *c)
{
	if (rules_authenticate(
	        c->rules, c->req->credential, &c->caller, &c->e) != ENRT_OK) {
		return c->e.code;
	}
	copy_id(c->line.caller, c->caller->id);
	c->actor.caller = c->caller;
	c->actor.person = NULL;
	c->actor.now = now_seconds();
	return ENRT_OK;
}

/*
 * Everything between a decoded request and its reply's status.  True
 * when an Issue or Revoke was started that finishes the call later.
 */
static bool
serve(call *c)
{
	const Enrt__V1__Request *req = c->req;
	err *e = &c->e;

	if (check_envelope(req, &c->op, e) != ENRT_OK) {
		return false;
	}
	c->line.op = c->op->name;
	c->line.op_index = (unsigned)req->op_case;
	if (authenticate(c) != ENRT_OK) {
		return false;
	}

	if (settle_actor(c->rules, &c->actor, c->op, req, e) == ENRT_OK) {
		if (c->defer && start_change(c)) {
			return true;
		}
		if (run(c->rules, &c->actor, req, c->reply, e) == ENRT_OK) {
			c->reply->result_case = c->op->result;
			return false;
		}
	}
	if (audits_refusal(&c->actor, c->op)) {
		audit_refusal(c->rules, &c->actor, c->op->action,
		    audit_target(req), e->code);
	}
	return false;
}

static void
serve_bytes(rules *r, const uint8_t *in, size_t len, bool defer,
    rpc_reply answer, void *arg)
{
	call *c = reply_alloc(sizeof(*c));

	memset(c, 0, sizeof(*c));
	c->started = now_micros();
	c->rules = r;
	c->defer = defer;
	c->answer = answer;
	c->arg = arg;
	c->e.code = ENRT_OK;
	c->line = (access_line){.op = "-", .caller = "-", .token_id = "-"};
	c->reply = reply_alloc(sizeof(*c->reply));
	enrt__v1__reply__init(c->reply);

	c->req = decode(in, len, &c->e);
	if (c->req == NULL || !serve(c)) {
		finish(c);
	}
}

void
rpc_serve(rules *r, const uint8_t *in, size_t len, rpc_reply answer, void *arg)
{
	serve_bytes(r, in, len, true, answer, arg);
}

/* The reply of a call that rpc_handle serves on its own thread. */
typedef struct collected {
	uint8_t *out;
	size_t len;
} collected;

static void
collect(void *arg, uint8_t *out, size_t len)
{
	collected *got = arg;

	got->out = out;
	got->len = len;
}

bool
rpc_handle(
    void *arg, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	collected got = {NULL, 0};

	serve_bytes(arg, in, len, false, collect, &got);
	*out = got.out;
	*out_len = got.len;
	return got.out != NULL;
}
