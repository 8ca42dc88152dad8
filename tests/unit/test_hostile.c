/*
 * Hostile input, field by field: every field of every request in
 * proto/enrt.proto is given values past its rules, and the request is
 * packed and sent through rpc_handle, as the transport hands it over,
 * against a real store in a temporary directory.
 *
 * A request is written as a base (a valid request of one operation, as
 * one kind of caller) and one change to it: a field named by its path
 * from the Request envelope, as proto/enrt.proto spells it, set to a bad
 * value.  The tables below hold, one row a case, the field, the value,
 * the status the server must answer and the words its message must hold
 * (the field and the rule).  Each base alone must succeed, so that every
 * refusal is the changed field's doing.
 *
 * After every refusal the store must hold what it held before: the same
 * apps, tokens (with their states), callers and users, and no audit
 * event but the one that records the refusal itself.  No reply may hold
 * a credential or a token value.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "fixture.h"
#include "format.h"
#include "log.h"
#include "reply.h"
#include "rpc.h"

#define DAY        INT64_C(86400)
#define SECRETS    4 /* credentials of three callers, one token value */
#define PRINT_MAX  40
#define LIST_LIMIT 1000

/* ------------------------------------------------------------------ */
/* Values and requests                                                 */

typedef enum value_kind {
	V_TEXT,   /* text; "@name" stands for a value of the fixture */
	V_REPEAT, /* text repeated n times, as one string */
	V_INT,    /* n, for any number, enum or bool field */
	V_IN,     /* now + n seconds */
	V_LIST,   /* n distinct strings: text0, text1, ... */
	V_ABSENT, /* the field cleared */
	V_STRAY,  /* a field of number n that version 1 does not have */
} value_kind;

typedef struct field_value {
	value_kind kind;
	const char *text;
	int64_t n;
} field_value;

#define TEXT(s)              \
	{                    \
		V_TEXT, s, 0 \
	}
#define REPEAT(s, n)           \
	{                      \
		V_REPEAT, s, n \
	}
#define INT(i)                 \
	{                      \
		V_INT, NULL, i \
	}
#define IN(s)                 \
	{                     \
		V_IN, NULL, s \
	}
#define LIST(s, n)           \
	{                    \
		V_LIST, s, n \
	}
#define ABSENT                    \
	{                         \
		V_ABSENT, NULL, 0 \
	}
#define STRAY(tag)                 \
	{                          \
		V_STRAY, NULL, tag \
	}

typedef struct assignment {
	const char *path; /* "issue.scopes", "acting_user.user_id", ... */
	field_value v;
} assignment;

#define ASSIGNMENTS_MAX 8

/* A valid request: the envelope's version is set for every base. */
typedef struct base {
	const char *name;
	bool writes; /* changes the store, sent after the bases before it */
	assignment set[ASSIGNMENTS_MAX];
} base;

enum {
	ISSUE_PAT,
	ISSUE_SAT,
	ISSUE_AS_PERSON,
	REVOKE_ID,
	REVOKE_VALUE,
	REVOKE_USER,
	LIST_OWNER,
	LIST_APP,
	INTROSPECT,
	BATCH,
	CREATE_APP,
	CREATE_UNLIMITED,
	UPDATE_APP,
	GET_APP,
	LIST_APPS,
	LIST_APPS_AS_PERSON,
	ADD_CALLER,
	ADD_PORTAL,
	LIST_CALLERS,
	REVOKE_CALLER,
	LIST_USERS,
	SET_USER,
	DELETE_USER,
	LIST_AUDIT,
	N_BASES,
};

/* The envelope of an admin caller's and of a portal caller's request. */
/* clang-format off */
#define ADMIN  {"credential", TEXT("@admin")}
#define PORTAL {"credential", TEXT("@portal")}, \
	{"acting_user.user_id", TEXT("alice")}
/* clang-format on */

static const base bases[N_BASES] = {
    [ISSUE_PAT] = {"Issue, a PAT from an admin caller", true,
        {ADMIN, {"issue.app_id", TEXT("@app")}, {"issue.kind", INT(1)},
            {"issue.expires_at", IN(DAY)}, {"issue.scopes", LIST("read", 1)},
            {"issue.owner", TEXT("alice")},
            {"issue.description", TEXT("ci")}}},
    [ISSUE_SAT] = {"Issue, a SAT", true,
        {ADMIN, {"issue.app_id", TEXT("@app")}, {"issue.kind", INT(2)},
            {"issue.expires_at", IN(DAY)}, {"issue.scopes", LIST("read", 1)}}},
    [ISSUE_AS_PERSON] = {"Issue, a PAT from a portal caller", true,
        {PORTAL, {"issue.app_id", TEXT("@app")}, {"issue.kind", INT(1)},
            {"issue.expires_at", IN(DAY)}, {"issue.scopes", LIST("read", 1)}}},
    [REVOKE_ID] = {"Revoke by id", true,
        {ADMIN, {"revoke.token_id", TEXT("@token_id")}}},
    [REVOKE_VALUE] = {"Revoke by value", false,
        {ADMIN, {"revoke.token_value", TEXT("@token")}}},
    [REVOKE_USER] = {"Revoke a user's tokens", false,
        {ADMIN, {"revoke.user_id", TEXT("carol")}}},
    [LIST_OWNER] = {"ListTokens of an owner", false,
        {ADMIN, {"list_tokens.owner", TEXT("alice")},
            {"list_tokens.page_size", INT(10)}}},
    [LIST_APP] = {"ListTokens of an app", false,
        {ADMIN, {"list_tokens.app_id", TEXT("@app")},
            {"list_tokens.include_inactive", INT(1)}}},
    [INTROSPECT] = {"Introspect", false,
        {{"credential", TEXT("@introspector")},
            {"introspect.token", TEXT("@token")}}},
    [BATCH] = {"IntrospectBatch", false,
        {{"credential", TEXT("@introspector")},
            {"introspect_batch.tokens", TEXT("@token")}}},
    [CREATE_APP] = {"CreateApp", true,
        {ADMIN, {"create_app.name", TEXT("Another")},
            {"create_app.policy", INT(1)},
            {"create_app.system_user", TEXT("svc-another")},
            {"create_app.allowed_scopes", LIST("read", 1)},
            {"create_app.max_lifetime_days", INT(30)}}},
    [CREATE_UNLIMITED] = {"CreateApp, unlimited", true,
        {ADMIN, {"create_app.name", TEXT("Unlimited")},
            {"create_app.system_user", TEXT("svc-unlimited")},
            {"create_app.unlimited_lifetime", INT(1)}}},
    [UPDATE_APP] = {"UpdateApp", true,
        {ADMIN, {"update_app.id", TEXT("@app")},
            {"update_app.name", TEXT("Renamed")}}},
    [GET_APP] = {"GetApp", false, {ADMIN, {"get_app.id", TEXT("@app")}}},
    [LIST_APPS] = {"ListApps", false,
        {ADMIN, {"list_apps.page_size", INT(10)}}},
    [LIST_APPS_AS_PERSON] = {"ListApps, eligible", false,
        {PORTAL, {"list_apps.eligible", INT(1)}}},
    [ADD_CALLER] = {"AddCaller", true,
        {ADMIN, {"add_caller.name", TEXT("gateway")},
            {"add_caller.role", INT(1)},
            {"add_caller.app_ids", TEXT("@app")}}},
    [ADD_PORTAL] = {"AddCaller, a portal", true,
        {ADMIN, {"add_caller.name", TEXT("portal")},
            {"add_caller.role", INT(2)}}},
    [LIST_CALLERS] = {"ListCallers", false,
        {ADMIN, {"list_callers.page_size", INT(10)}}},
    [REVOKE_CALLER] = {"RevokeCaller", true,
        {ADMIN, {"revoke_caller.id", TEXT("@spare")}}},
    [LIST_USERS] = {"ListUsers", false,
        {ADMIN, {"list_users.page_size", INT(10)}}},
    [SET_USER] = {"SetUser", true,
        {ADMIN, {"set_user.id", TEXT("alice")}, {"set_user.admin", INT(0)}}},
    [DELETE_USER] = {"DeleteUser", true,
        {ADMIN, {"delete_user.id", TEXT("bob")}}},
    [LIST_AUDIT] = {"ListAudit", false,
        {ADMIN, {"list_audit.since", INT(0)},
            {"list_audit.page_size", INT(10)}}},
};

/* One case: a base, one change to it, and the answer it must get. */
typedef struct hostile {
	int base;
	const char *path;
	field_value v;
	Enrt__V1__Status status;
	const char *words; /* in the message; NULL: no message */
} hostile;

/* Memory of one request as it is being built, freed whole after. */
typedef struct arena {
	void **blocks;
	size_t n;
} arena;

static void *
arena_alloc(arena *a, size_t size)
{
	void *p = calloc(1, size == 0 ? 1 : size);

	assert_non_null(p);
	reply_append(&a->blocks, &a->n, p);
	return p;
}

static void
arena_free(arena *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->blocks[i]);
	}
	free(a->blocks);
	a->blocks = NULL;
	a->n = 0;
}

/* ------------------------------------------------------------------ */
/* The fixture                                                         */

typedef struct fixture {
	char dir[FIXTURE_DIR_LEN];
	store *store;
	rules rules;
	int64_t now;
	char admin[FORMAT_SECRET_LEN + 1];
	char introspector[FORMAT_SECRET_LEN + 1];
	char portal[FORMAT_SECRET_LEN + 1];
	char token[FORMAT_SECRET_LEN + 1];
	char token_id[FORMAT_ID_MAX];
	char app[FORMAT_ID_MAX];     /* AuthenticatedUsers, 365 days */
	char forever[FORMAT_ID_MAX]; /* AuthenticatedUsers, unlimited */
	char spare[FORMAT_ID_MAX];   /* a caller that RevokeCaller may end */
	arena arena;
} fixture;

/* The fixture's value that "@name" stands for. */
static const char *
resolve(fixture *f, const char *text)
{
	static const struct {
		const char *name;
		size_t offset;
	} names[] = {
	    {"@admin", offsetof(fixture, admin)},
	    {"@introspector", offsetof(fixture, introspector)},
	    {"@portal", offsetof(fixture, portal)},
	    {"@token", offsetof(fixture, token)},
	    {"@token_id", offsetof(fixture, token_id)},
	    {"@app", offsetof(fixture, app)},
	    {"@forever", offsetof(fixture, forever)},
	    {"@spare", offsetof(fixture, spare)},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(text, names[i].name) == 0) {
			return (const char *)f + names[i].offset;
		}
	}
	return text;
}

static char *
make_text(fixture *f, const field_value *v)
{
	const char *unit = resolve(f, v->text);
	size_t len = strlen(unit);
	size_t times = v->kind == V_REPEAT ? (size_t)v->n : 1;
	char *s = arena_alloc(&f->arena, len * times + 1);

	for (size_t i = 0; i < times; i++) {
		memcpy(s + i * len, unit, len);
	}
	return s;
}

static char **
make_list(fixture *f, const field_value *v, size_t *n)
{
	char **list;

	*n = v->kind == V_LIST ? (size_t)v->n : 1;
	list = arena_alloc(&f->arena, *n * sizeof(*list));
	for (size_t i = 0; i < *n; i++) {
		if (v->kind != V_LIST || *n == 1) {
			list[i] = make_text(f, v);
			continue;
		}
		list[i] = arena_alloc(&f->arena, strlen(v->text) + 24);
		sprintf(list[i], "%s%zu", v->text, i);
	}
	return list;
}

static void *
member(void *m, unsigned offset)
{
	return (char *)m + offset;
}

/* Sets a number field of any width; v->kind is V_INT or V_IN. */
static void
set_number(fixture *f, void *m, const ProtobufCFieldDescriptor *fd,
    const field_value *v)
{
	int64_t n = v->kind == V_IN ? f->now + v->n : v->n;
	void *at = member(m, fd->offset);

	switch (fd->type) {
	case PROTOBUF_C_TYPE_INT64:
		*(int64_t *)at = n;
		break;
	case PROTOBUF_C_TYPE_UINT32:
		*(uint32_t *)at = (uint32_t)n;
		break;
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_BOOL:
		*(int *)at = (int)n;
		break;
	default:
		fail_msg("field %s: no number type", fd->name);
	}
	*(protobuf_c_boolean *)member(m, fd->quantifier_offset) = true;
}

static void
clear_field(void *m, const ProtobufCFieldDescriptor *fd)
{
	if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0) {
		*(uint32_t *)member(m, fd->quantifier_offset) = 0;
		*(void **)member(m, fd->offset) = NULL;
	} else if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		*(size_t *)member(m, fd->quantifier_offset) = 0;
	} else if (fd->type == PROTOBUF_C_TYPE_STRING ||
	           fd->type == PROTOBUF_C_TYPE_MESSAGE) {
		*(void **)member(m, fd->offset) = NULL;
	} else {
		*(protobuf_c_boolean *)member(m, fd->quantifier_offset) =
		    false;
	}
}

static void
set_leaf(fixture *f, void *m, const ProtobufCFieldDescriptor *fd,
    const field_value *v)
{
	if (v->kind == V_ABSENT) {
		clear_field(m, fd);
	} else if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *n = member(m, fd->quantifier_offset);

		*(char ***)member(m, fd->offset) = make_list(f, v, n);
	} else if (fd->type == PROTOBUF_C_TYPE_STRING) {
		*(char **)member(m, fd->offset) = make_text(f, v);
		if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0) {
			*(uint32_t *)member(m, fd->quantifier_offset) = fd->id;
		}
	} else {
		set_number(f, m, fd, v);
	}
}

/* The message field fd of m holds, made (and its oneof arm set) anew. */
static ProtobufCMessage *
enter(fixture *f, void *m, const ProtobufCFieldDescriptor *fd)
{
	const ProtobufCMessageDescriptor *d = fd->descriptor;
	ProtobufCMessage **at = member(m, fd->offset);
	bool oneof = (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
	uint32_t *arm = member(m, fd->quantifier_offset);

	if (*at == NULL || (oneof && *arm != fd->id)) {
		*at = arena_alloc(&f->arena, d->sizeof_message);
		d->message_init(*at);
	}
	if (oneof) {
		*arm = fd->id;
	}
	return *at;
}

/* A field that version 1 does not have: a varint of number v->n. */
static void
add_stray(fixture *f, ProtobufCMessage *m, const field_value *v)
{
	ProtobufCMessageUnknownField *u = arena_alloc(&f->arena, sizeof(*u));

	u->tag = (uint32_t)v->n;
	u->wire_type = PROTOBUF_C_WIRE_TYPE_VARINT;
	u->len = 1;
	u->data = arena_alloc(&f->arena, 1);
	u->data[0] = 1;
	m->unknown_fields = u;
	m->n_unknown_fields = 1;
}

/* Sets the field at path ("a.b.c") below m to v. */
static void
assign(fixture *f, ProtobufCMessage *m, const char *path, const field_value *v)
{
	const char *dot = strchr(path, '.');
	size_t len = dot == NULL ? strlen(path) : (size_t)(dot - path);
	char name[64];
	const ProtobufCFieldDescriptor *fd;

	if (v->kind == V_STRAY && path[0] == '\0') {
		add_stray(f, m, v);
		return;
	}
	assert_in_range(len, 1, sizeof(name) - 1);
	memcpy(name, path, len);
	name[len] = '\0';
	fd = protobuf_c_message_descriptor_get_field_by_name(
	    m->descriptor, name);
	if (fd == NULL) {
		fail_msg("%s has no field %s", m->descriptor->name, name);
	}
	if (dot == NULL && v->kind != V_STRAY) {
		set_leaf(f, m, fd, v);
		return;
	}
	assign(f, enter(f, m, fd), dot == NULL ? "" : dot + 1, v);
}

/* The base request, with the change of c when c is not NULL. */
static Enrt__V1__Request *
build(fixture *f, int b, const hostile *c)
{
	Enrt__V1__Request *req = arena_alloc(&f->arena, sizeof(*req));
	const base *bs = &bases[b];

	enrt__v1__request__init(req);
	req->has_version = true;
	req->version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	for (size_t i = 0; i < ASSIGNMENTS_MAX && bs->set[i].path; i++) {
		assign(f, &req->base, bs->set[i].path, &bs->set[i].v);
	}
	if (c != NULL) {
		assign(f, &req->base, c->path, &c->v);
	}
	return req;
}

static uint8_t *
pack(fixture *f, const Enrt__V1__Request *req, size_t *len)
{
	uint8_t *buf;

	*len = enrt__v1__request__get_packed_size(req);
	buf = arena_alloc(&f->arena, *len);
	enrt__v1__request__pack(req, buf);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Calls                                                               */

/* No credential and no token value anywhere in the reply's bytes. */
static void
assert_no_secret(const fixture *f, const uint8_t *out, size_t len)
{
	const char *secrets[SECRETS] = {
	    f->admin, f->introspector, f->portal, f->token};

	for (size_t i = 0; i < SECRETS; i++) {
		assert_null(memmem(out, len, secrets[i], FORMAT_SECRET_LEN));
	}
}

static Enrt__V1__Reply *
send_bytes(fixture *f, const uint8_t *in, size_t len)
{
	uint8_t *out = NULL;
	size_t out_len = 0;
	Enrt__V1__Reply *reply;

	assert_true(rpc_handle(&f->rules, in, len, &out, &out_len));
	assert_no_secret(f, out, out_len);
	reply = enrt__v1__reply__unpack(NULL, out_len, out);
	free(out);
	assert_non_null(reply);
	return reply;
}

static Enrt__V1__Reply *
send_request(fixture *f, const Enrt__V1__Request *req)
{
	size_t len;
	uint8_t *buf = pack(f, req, &len);

	return send_bytes(f, buf, len);
}

/* Sends a base as it is; it must succeed. */
static Enrt__V1__Reply *
call_ok(fixture *f, int b)
{
	Enrt__V1__Reply *reply = send_request(f, build(f, b, NULL));

	if (reply->status != ENRT__V1__STATUS__OK) {
		print_error("%s: %s\n", bases[b].name, reply->message);
	}
	assert_int_equal(reply->status, ENRT__V1__STATUS__OK);
	return reply;
}

/* An admin request of one operation, outside the bases. */
static Enrt__V1__Reply *
admin_call(fixture *f, const assignment *set, size_t n)
{
	Enrt__V1__Request *req = arena_alloc(&f->arena, sizeof(*req));
	field_value cred = TEXT("@admin");
	Enrt__V1__Reply *reply;

	enrt__v1__request__init(req);
	req->has_version = true;
	req->version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	assign(f, &req->base, "credential", &cred);
	for (size_t i = 0; i < n; i++) {
		assign(f, &req->base, set[i].path, &set[i].v);
	}
	reply = send_request(f, req);
	if (reply->status != ENRT__V1__STATUS__OK) {
		print_error("%s: %s\n", set[0].path, reply->message);
	}
	assert_int_equal(reply->status, ENRT__V1__STATUS__OK);
	return reply;
}

/* ------------------------------------------------------------------ */
/* What the store holds                                                */

/* Appends the packed form of a reply's result to *buf. */
static void
take_print(uint8_t **buf, size_t *len, const Enrt__V1__Reply *reply)
{
	size_t n = enrt__v1__reply__get_packed_size(reply);

	*buf = realloc(*buf, *len + n);
	assert_non_null(*buf);
	enrt__v1__reply__pack(reply, *buf + *len);
	*len += n;
}

static void
print_tokens(fixture *f, const char *app_id, uint8_t **buf, size_t *len)
{
	const assignment set[] = {{"list_tokens.app_id", TEXT(app_id)},
	    {"list_tokens.include_inactive", INT(1)},
	    {"list_tokens.page_size", INT(LIST_LIMIT)}};
	Enrt__V1__Reply *reply = admin_call(f, set, 3);

	assert_null(reply->list_tokens->next_cursor);
	take_print(buf, len, reply);
	reply_free(reply);
}

/* Users, without when each was last seen: a call may move that. */
static void
print_users(fixture *f, uint8_t **buf, size_t *len)
{
	const assignment set[] = {{"list_users.page_size", INT(LIST_LIMIT)}};
	Enrt__V1__Reply *reply = admin_call(f, set, 1);

	for (size_t i = 0; i < reply->list_users->n_users; i++) {
		reply->list_users->users[i]->has_last_seen_at = false;
	}
	take_print(buf, len, reply);
	reply_free(reply);
}

/*
 * Every app, every token of each with its state, every caller and every
 * user, as the listings show them, in one buffer.
 */
static uint8_t *
fingerprint(fixture *f, size_t *len)
{
	const assignment apps[] = {{"list_apps.page_size", INT(LIST_LIMIT)}};
	const assignment callers[] = {
	    {"list_callers.page_size", INT(LIST_LIMIT)}};
	Enrt__V1__Reply *reply = admin_call(f, apps, 1);
	uint8_t *buf = NULL;

	*len = 0;
	take_print(&buf, len, reply);
	for (size_t i = 0; i < reply->list_apps->n_apps; i++) {
		print_tokens(f, reply->list_apps->apps[i]->id, &buf, len);
	}
	reply_free(reply);
	reply = admin_call(f, callers, 1);
	take_print(&buf, len, reply);
	reply_free(reply);
	print_users(f, &buf, len);
	return buf;
}

static Enrt__V1__ListAuditReply *
audit_log(fixture *f)
{
	const assignment set[] = {{"list_audit.page_size", INT(LIST_LIMIT)}};
	Enrt__V1__Reply *reply = admin_call(f, set, 1);
	Enrt__V1__ListAuditReply *log = reply->list_audit;

	reply->list_audit = NULL;
	reply->result_case = ENRT__V1__REPLY__RESULT__NOT_SET;
	reply_free(reply);
	return log;
}

/* What the store held before a request, to compare with after it. */
typedef struct snapshot {
	uint8_t *print;
	size_t len;
	size_t events;
} snapshot;

static void
snapshot_take(fixture *f, snapshot *s)
{
	Enrt__V1__ListAuditReply *log = audit_log(f);

	s->print = fingerprint(f, &s->len);
	s->events = log->n_events;
	reply_free(log);
}

/*
 * The store holds what it held at s, but for the event that records a
 * refusal with status: an event of that outcome, or none.
 */
static bool
store_unchanged(fixture *f, const snapshot *s, Enrt__V1__Status status)
{
	Enrt__V1__ListAuditReply *log = audit_log(f);
	size_t len;
	uint8_t *now = fingerprint(f, &len);
	bool same = len == s->len && memcmp(now, s->print, len) == 0;

	if (log->n_events > s->events + 1) {
		same = false;
	} else if (log->n_events == s->events + 1) {
		same &= log->events[s->events]->outcome == status;
	}
	reply_free(log);
	free(now);
	return same;
}

static void
snapshot_free(snapshot *s)
{
	free(s->print);
}

/* ------------------------------------------------------------------ */
/* Set-up                                                              */

static void
add_caller(fixture *f, Enrt__V1__Role role, char *credential, char *id)
{
	const char *name = role == ENRT__V1__ROLE__PORTAL ? "portal" : "gate";
	const assignment set[] = {
	    {"add_caller.name", TEXT(name)}, {"add_caller.role", INT(role)}};
	Enrt__V1__Reply *reply = admin_call(f, set, 2);

	if (credential != NULL) {
		strcpy(credential, reply->add_caller->credential);
	}
	strcpy(id, reply->add_caller->caller->id);
	reply_free(reply);
}

static void
create_app(fixture *f, const char *name, bool unlimited, char *id)
{
	const assignment set[] = {{"create_app.name", TEXT(name)},
	    {"create_app.policy", INT(ENRT__V1__POLICY__AUTHENTICATED_USERS)},
	    {"create_app.system_user", TEXT("svc")},
	    {"create_app.unlimited_lifetime", INT(unlimited)}};
	Enrt__V1__Reply *reply = admin_call(f, set, unlimited ? 4 : 3);

	strcpy(id, reply->app->id);
	reply_free(reply);
}

/* A PAT of owner in the fixture's app, as an admin issues it. */
static void
issue_for(fixture *f, const char *owner, char *value, char *id)
{
	const assignment set[] = {{"issue.app_id", TEXT("@app")},
	    {"issue.kind", INT(ENRT__V1__TOKEN_KIND__PAT)},
	    {"issue.expires_at", IN(DAY)}, {"issue.scopes", LIST("read", 1)},
	    {"issue.owner", TEXT(owner)}};
	Enrt__V1__Reply *reply = admin_call(f, set, 5);

	if (value != NULL) {
		strcpy(value, reply->issue->token);
		strcpy(id, reply->issue->info->id);
	}
	reply_free(reply);
}

/*
 * Two apps, alice's token, bob (whom DeleteUser may delete), a spare
 * caller, and alice seen through the portal just now, so that no call
 * of the tables writes her again.
 */
static int
setup(void **state)
{
	static const uint8_t key[RULES_KEY_LEN] = {5};
	fixture *f = calloc(1, sizeof(*f));
	char spare_id[FORMAT_ID_MAX];
	err e;

	assert_non_null(f);
	fixture_dir_make(f->dir, "hostile");
	assert_int_equal(store_open(&f->store, f->dir, NULL), ENRT_OK);
	rules_init(&f->rules, f->store, NULL, key);
	assert_int_equal(rules_bootstrap(&f->rules, 1, f->admin, &e), ENRT_OK);
	f->now = (int64_t)time(NULL);

	add_caller(f, ENRT__V1__ROLE__INTROSPECT, f->introspector, spare_id);
	add_caller(f, ENRT__V1__ROLE__PORTAL, f->portal, spare_id);
	add_caller(f, ENRT__V1__ROLE__INTROSPECT, NULL, f->spare);
	create_app(f, "Main", false, f->app);
	create_app(f, "Forever", true, f->forever);
	issue_for(f, "alice", f->token, f->token_id);
	issue_for(f, "bob", NULL, NULL);
	reply_free(call_ok(f, LIST_APPS_AS_PERSON));
	arena_free(&f->arena);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	arena_free(&f->arena);
	store_close(f->store);
	fixture_dir_remove(f->dir);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Running a table                                                     */

/* The value of a case in a few printable characters, for a failure. */
static void
describe(const hostile *c, char *out, size_t size)
{
	int n = 0;

	switch (c->v.kind) {
	case V_TEXT:
		for (const char *p = c->v.text; *p && n < PRINT_MAX; p++) {
			unsigned char b = (unsigned char)*p;

			n += snprintf(out + n, size - (size_t)n,
			    b >= 0x20 && b < 0x7f ? "%c" : "\\x%02x", b);
		}
		break;
	case V_REPEAT:
		snprintf(out, size, "%s x %lld", c->v.text, (long long)c->v.n);
		break;
	case V_LIST:
		snprintf(
		    out, size, "%lld of %s", (long long)c->v.n, c->v.text);
		break;
	case V_ABSENT:
		snprintf(out, size, "absent");
		break;
	case V_STRAY:
		snprintf(out, size, "field %lld", (long long)c->v.n);
		break;
	default:
		snprintf(out, size, "%lld%s", (long long)c->v.n,
		    c->v.kind == V_IN ? " s from now" : "");
	}
}

static void
report(const hostile *c, size_t row, const Enrt__V1__Reply *reply)
{
	char shown[8 * PRINT_MAX];

	describe(c, shown, sizeof(shown));
	print_error("row %zu: %s, %s = %s: got %s \"%s\", want %s \"%s\"\n",
	    row, bases[c->base].name, c->path, shown,
	    enrt_status_name((enrt_status)reply->status),
	    reply->message ? reply->message : "",
	    enrt_status_name((enrt_status)c->status),
	    c->words ? c->words : "");
}

static bool
answer_fits(const hostile *c, const Enrt__V1__Reply *reply)
{
	if (reply->status != c->status) {
		return false;
	}
	if (c->words == NULL) {
		return reply->message == NULL;
	}
	return reply->message != NULL && strstr(reply->message, c->words);
}

/* Runs every case: the answer, and the store unchanged after it. */
static void
run_table(fixture *f, const hostile *table, size_t n)
{
	snapshot before;

	snapshot_take(f, &before);
	for (size_t i = 0; i < n; i++) {
		Enrt__V1__Reply *reply =
		    send_request(f, build(f, table[i].base, &table[i]));
		bool fits = answer_fits(&table[i], reply);

		if (!fits || !store_unchanged(f, &before, table[i].status)) {
			report(&table[i], i, reply);
			fail_msg("%s", fits ? "the store changed" : "answer");
		}
		reply_free(reply);
		arena_free(&f->arena);
		snapshot_free(&before);
		snapshot_take(f, &before);
	}
	snapshot_free(&before);
}

#define RUN(f, table) run_table(f, table, sizeof(table) / sizeof(table[0]))

/* ------------------------------------------------------------------ */
/* The tables                                                          */

#define INVALID ENRT__V1__STATUS__INVALID_ARGUMENT
#define UNAUTH  ENRT__V1__STATUS__UNAUTHENTICATED
#define DENIED  ENRT__V1__STATUS__PERMISSION_DENIED
#define MISSING ENRT__V1__STATUS__NOT_FOUND
#define STALE   ENRT__V1__STATUS__FAILED_PRECONDITION

/* Bytes that are not UTF-8, and characters that are not allowed. */
#define LONE_CONTINUATION "a\x80"
#define OVERLONG_SLASH    "\xc0\xaf"
#define SURROGATE         "\xed\xa0\x80"
#define BEYOND_UNICODE    "\xf4\x90\x80\x80"
#define CUT_SHORT         "a\xe2\x82"
#define NEWLINE           "a\nb"
#define DELETE            "a\x7f"
#define C1_NEXT_LINE      "a\xc2\x85"

#define NOT_UTF8     "not valid UTF-8"
#define NO_CONTROL   "control characters are not allowed"
#define NO_SECRET    "holds a token or credential"
#define PRINTABLE    "printable ASCII without spaces only"
#define NOT_AN_ID    "not an id of the form"
#define TOO_LONG_ID  "at most 128 characters"
#define BAD_CURSOR   "page_cursor: not a cursor this listing gave"
#define PAGE_RULE    "page_size: 1 to 1000"
#define SCOPE_RULE   "must be 1 to 64 of A-Z a-z 0-9 : . _ -"
#define WIRE_VERSION "version: this server speaks wire version 1 only"

/* The envelope: version, credential, the person, the operation. */
static const hostile envelope[] = {
    {LIST_APPS, "version", ABSENT, INVALID, WIRE_VERSION},
    {LIST_APPS, "version", INT(0), INVALID, WIRE_VERSION},
    {LIST_APPS, "version", INT(2), INVALID, WIRE_VERSION},
    {LIST_APPS, "version", INT(-1), INVALID, WIRE_VERSION},
    {LIST_APPS, "version", INT(INT32_MAX), INVALID, WIRE_VERSION},
    {ISSUE_PAT, "version", INT(2), INVALID, WIRE_VERSION},
    {LIST_APPS, "credential", ABSENT, UNAUTH, "credential: missing"},
    {LIST_APPS, "credential", TEXT(""), UNAUTH, "credential: missing"},
    {LIST_APPS, "credential", REPEAT("enrc_", 2000), UNAUTH,
        "credential: not a well-formed"},
    {LIST_APPS, "credential", TEXT("@token"), UNAUTH,
        "credential: not a well-formed"},
    {LIST_APPS, "credential", TEXT(LONE_CONTINUATION), UNAUTH,
        "credential: not a well-formed"},
    {LIST_APPS, "credential", TEXT(NEWLINE), UNAUTH,
        "credential: not a well-formed"},
    {LIST_APPS, "acting_user.user_id", TEXT("alice"), INVALID,
        "acting_user: only portal callers act for a person"},
    {LIST_APPS_AS_PERSON, "acting_user", ABSENT, INVALID,
        "acting_user: required for a portal caller"},
    {LIST_APPS_AS_PERSON, "acting_user.user_id", ABSENT, INVALID,
        "acting_user.user_id: required"},
    {LIST_APPS_AS_PERSON, "acting_user.user_id", TEXT(""), INVALID,
        "acting_user.user_id: required"},
    {LIST_APPS_AS_PERSON, "acting_user.user_id", REPEAT("u", 129), INVALID,
        "acting_user.user_id: " TOO_LONG_ID},
    {LIST_APPS_AS_PERSON, "acting_user.user_id", TEXT("al ice"), INVALID,
        "acting_user.user_id: " PRINTABLE},
    {LIST_APPS_AS_PERSON, "acting_user.user_id",
        TEXT("al\xc3\xaf"
             "ce"),
        INVALID, "acting_user.user_id: " PRINTABLE},
    {LIST_APPS_AS_PERSON, "acting_user.user_id", TEXT(NEWLINE), INVALID,
        "acting_user.user_id: " PRINTABLE},
    {LIST_APPS_AS_PERSON, "acting_user.user_id", TEXT("@token"), INVALID,
        "acting_user.user_id: " NO_SECRET},
    {LIST_APPS_AS_PERSON, "acting_user.display_name", REPEAT("d", 129),
        INVALID, "acting_user.display_name: at most 128 bytes, got 129"},
    {LIST_APPS_AS_PERSON, "acting_user.display_name", TEXT(SURROGATE), INVALID,
        "acting_user.display_name: " NOT_UTF8},
    {LIST_APPS_AS_PERSON, "acting_user.display_name", TEXT(C1_NEXT_LINE),
        INVALID, "acting_user.display_name: " NO_CONTROL},
    {LIST_APPS_AS_PERSON, "acting_user.display_name", TEXT("@admin"), INVALID,
        "acting_user.display_name: " NO_SECRET},
    {LIST_APPS, "list_apps", ABSENT, INVALID,
        "op: the request names no operation this server knows"},
};

static const hostile issue[] = {
    {ISSUE_PAT, "issue.app_id", ABSENT, INVALID, "app_id: required"},
    {ISSUE_PAT, "issue.app_id", TEXT(""), INVALID, "app_id: required"},
    {ISSUE_PAT, "issue.app_id", TEXT("app_short"), INVALID,
        "app_id: " NOT_AN_ID " app_"},
    {ISSUE_PAT, "issue.app_id", REPEAT("app_", 300), INVALID,
        "app_id: " NOT_AN_ID},
    {ISSUE_PAT, "issue.app_id", TEXT("@token_id"), INVALID,
        "app_id: " NOT_AN_ID},
    {ISSUE_PAT, "issue.app_id", TEXT("@token"), INVALID, "app_id: " NOT_AN_ID},
    {ISSUE_PAT, "issue.app_id", TEXT(BEYOND_UNICODE), INVALID,
        "app_id: " NOT_AN_ID},
    {ISSUE_PAT, "issue.app_id", TEXT(NEWLINE), INVALID, "app_id: " NOT_AN_ID},
    {ISSUE_PAT, "issue.app_id", TEXT("app_0000000000000000000000"), MISSING,
        "app_id: no app app_0000000000000000000000"},
    {ISSUE_PAT, "issue.kind", ABSENT, INVALID, "kind: required, PAT or SAT"},
    {ISSUE_PAT, "issue.kind", INT(0), INVALID, "kind: required, PAT or SAT"},
    {ISSUE_PAT, "issue.kind", INT(3), INVALID, "kind: must be PAT or SAT"},
    {ISSUE_PAT, "issue.kind", INT(99), INVALID, "kind: must be PAT or SAT"},
    {ISSUE_PAT, "issue.kind", INT(-1), INVALID, "kind: must be PAT or SAT"},
    {ISSUE_PAT, "issue.expires_at", ABSENT, INVALID,
        "expires_at: required; app"},
    {ISSUE_PAT, "issue.expires_at", INT(0), INVALID,
        "expires_at: must be in the future"},
    {ISSUE_PAT, "issue.expires_at", INT(-1), INVALID,
        "expires_at: must be in the future"},
    {ISSUE_PAT, "issue.expires_at", INT(INT64_MIN), INVALID,
        "expires_at: must be in the future"},
    {ISSUE_PAT, "issue.expires_at", IN(0), INVALID,
        "expires_at: must be in the future"},
    {ISSUE_PAT, "issue.expires_at", IN(-DAY), INVALID,
        "expires_at: must be in the future"},
    {ISSUE_PAT, "issue.expires_at", IN(366 * DAY), INVALID,
        "expires_at: at most 365 days from now"},
    {ISSUE_PAT, "issue.expires_at", INT(ENRT_TIME_MAX + 1), INVALID,
        "expires_at: must be no later than 9999-12-31T23:59:59Z"},
    {ISSUE_PAT, "issue.expires_at", INT(INT64_MAX), INVALID,
        "expires_at: must be no later than 9999-12-31T23:59:59Z"},
    {ISSUE_PAT, "issue.scopes", ABSENT, INVALID,
        "scopes: at least one scope is required"},
    {ISSUE_PAT, "issue.scopes", TEXT(""), INVALID,
        "scopes: scope 1 " SCOPE_RULE},
    {ISSUE_PAT, "issue.scopes", REPEAT("s", 65), INVALID,
        "scopes: scope 1 " SCOPE_RULE},
    {ISSUE_PAT, "issue.scopes", TEXT("read write"), INVALID,
        "scopes: scope 1 " SCOPE_RULE},
    {ISSUE_PAT, "issue.scopes",
        TEXT("r\xc3\xa9"
             "ad"),
        INVALID, "scopes: scope 1 " SCOPE_RULE},
    {ISSUE_PAT, "issue.scopes", TEXT(LONE_CONTINUATION), INVALID,
        "scopes: scope 1 " SCOPE_RULE},
    {ISSUE_PAT, "issue.scopes", TEXT(NEWLINE), INVALID,
        "scopes: scope 1 " SCOPE_RULE},
    {ISSUE_PAT, "issue.scopes", LIST("s", 33), INVALID,
        "scopes: at most 32 distinct scopes, got 33"},
    {ISSUE_PAT, "issue.scopes", LIST("s", 129), INVALID,
        "scopes: at most 32 scopes, got 129"},
    {ISSUE_PAT, "issue.description", REPEAT("d", 257), INVALID,
        "description: at most 256 bytes, got 257"},
    {ISSUE_PAT, "issue.description", REPEAT("\xc3\xa9", 129), INVALID,
        "description: at most 256 bytes, got 258"},
    {ISSUE_PAT, "issue.description", TEXT(LONE_CONTINUATION), INVALID,
        "description: " NOT_UTF8 " (byte 1)"},
    {ISSUE_PAT, "issue.description", TEXT(OVERLONG_SLASH), INVALID,
        "description: " NOT_UTF8 " (byte 0)"},
    {ISSUE_PAT, "issue.description", TEXT(SURROGATE), INVALID,
        "description: " NOT_UTF8},
    {ISSUE_PAT, "issue.description", TEXT(BEYOND_UNICODE), INVALID,
        "description: " NOT_UTF8},
    {ISSUE_PAT, "issue.description", TEXT(CUT_SHORT), INVALID,
        "description: " NOT_UTF8 " (byte 1)"},
    {ISSUE_PAT, "issue.description", TEXT("\xff"), INVALID,
        "description: " NOT_UTF8},
    {ISSUE_PAT, "issue.description", TEXT(NEWLINE), INVALID,
        "description: " NO_CONTROL " (byte 1)"},
    {ISSUE_PAT, "issue.description", TEXT("\t"), INVALID,
        "description: " NO_CONTROL},
    {ISSUE_PAT, "issue.description", TEXT(DELETE), INVALID,
        "description: " NO_CONTROL},
    {ISSUE_PAT, "issue.description", TEXT(C1_NEXT_LINE), INVALID,
        "description: " NO_CONTROL},
    {ISSUE_PAT, "issue.description", TEXT("@token"), INVALID,
        "description: " NO_SECRET},
    {ISSUE_PAT, "issue.description", TEXT("@admin"), INVALID,
        "description: " NO_SECRET},
    {ISSUE_PAT, "issue.owner", ABSENT, INVALID,
        "owner: required for a PAT issued by an admin caller"},
    {ISSUE_PAT, "issue.owner", TEXT(""), INVALID,
        "owner: required for a PAT issued by an admin caller"},
    {ISSUE_PAT, "issue.owner", REPEAT("o", 129), INVALID,
        "owner: " TOO_LONG_ID},
    {ISSUE_PAT, "issue.owner", TEXT("a b"), INVALID, "owner: " PRINTABLE},
    {ISSUE_PAT, "issue.owner", TEXT(LONE_CONTINUATION), INVALID,
        "owner: " PRINTABLE},
    {ISSUE_PAT, "issue.owner", TEXT(DELETE), INVALID, "owner: " PRINTABLE},
    {ISSUE_PAT, "issue.owner", TEXT("@token"), INVALID, "owner: " NO_SECRET},
    {ISSUE_SAT, "issue.owner", TEXT("alice"), INVALID,
        "owner: a SAT has no owner"},
    {ISSUE_AS_PERSON, "issue.owner", TEXT("bob"), DENIED,
        "owner: a person may issue PATs only for themselves"},
    {ISSUE_AS_PERSON, "issue.kind", INT(2), DENIED,
        "kind: only administrators may issue a SAT"},
    {ISSUE_PAT, "issue", STRAY(99), INVALID,
        "request: field 99 of IssueRequest is not in wire version 1"},
};

static const hostile revoke[] = {
    {REVOKE_ID, "revoke.token_id", ABSENT, INVALID,
        "target: one of token_id, token_value or user_id is required"},
    {REVOKE_ID, "revoke.token_id", TEXT(""), INVALID, "token_id: required"},
    {REVOKE_ID, "revoke.token_id", TEXT("tok_"), INVALID,
        "token_id: " NOT_AN_ID " tok_"},
    {REVOKE_ID, "revoke.token_id", TEXT("@app"), INVALID,
        "token_id: " NOT_AN_ID " tok_"},
    {REVOKE_ID, "revoke.token_id", REPEAT("tok_", 1000), INVALID,
        "token_id: " NOT_AN_ID},
    {REVOKE_ID, "revoke.token_id", TEXT("@token"), INVALID,
        "token_id: " NOT_AN_ID},
    {REVOKE_ID, "revoke.token_id", TEXT(CUT_SHORT), INVALID,
        "token_id: " NOT_AN_ID},
    {REVOKE_ID, "revoke.token_id", TEXT("tok_0000000000000000000000"), MISSING,
        "token_id: no token tok_0000000000000000000000"},
    {REVOKE_USER, "revoke.user_id", TEXT(""), INVALID, "user_id: required"},
    {REVOKE_USER, "revoke.user_id", REPEAT("u", 129), INVALID,
        "user_id: " TOO_LONG_ID},
    {REVOKE_USER, "revoke.user_id", TEXT("a\tb"), INVALID,
        "user_id: " PRINTABLE},
    {REVOKE_USER, "revoke.user_id", TEXT(OVERLONG_SLASH), INVALID,
        "user_id: " PRINTABLE},
    {REVOKE_USER, "revoke.user_id", TEXT("@token"), INVALID,
        "user_id: " NO_SECRET},
    {REVOKE_ID, "revoke", STRAY(4), INVALID,
        "request: field 4 of RevokeRequest is not in wire version 1"},
};

static const hostile list_tokens[] = {
    {LIST_OWNER, "list_tokens.owner", ABSENT, INVALID,
        "owner: required when app_id is not given"},
    {LIST_OWNER, "list_tokens.owner", TEXT(""), INVALID,
        "owner: required when app_id is not given"},
    {LIST_OWNER, "list_tokens.owner", REPEAT("o", 129), INVALID,
        "owner: " TOO_LONG_ID},
    {LIST_OWNER, "list_tokens.owner", TEXT(SURROGATE), INVALID,
        "owner: " PRINTABLE},
    {LIST_APP, "list_tokens.owner", TEXT("a\nb"), INVALID,
        "owner: " PRINTABLE},
    {LIST_APP, "list_tokens.app_id", TEXT("app_x"), INVALID,
        "app_id: " NOT_AN_ID},
    {LIST_APP, "list_tokens.app_id", TEXT(LONE_CONTINUATION), INVALID,
        "app_id: " NOT_AN_ID},
    {LIST_APP, "list_tokens.app_id", TEXT("app_0000000000000000000000"),
        MISSING, "app_id: no app"},
    {LIST_OWNER, "list_tokens.page_size", INT(0), INVALID,
        PAGE_RULE ", got 0"},
    {LIST_OWNER, "list_tokens.page_size", INT(1001), INVALID,
        PAGE_RULE ", got 1001"},
    {LIST_OWNER, "list_tokens.page_size", INT(UINT32_MAX), INVALID,
        PAGE_RULE ", got 4294967295"},
    {LIST_OWNER, "list_tokens.page_cursor", TEXT(""), INVALID, BAD_CURSOR},
    {LIST_OWNER, "list_tokens.page_cursor", TEXT("0000.tok_"), INVALID,
        BAD_CURSOR},
    {LIST_OWNER, "list_tokens.page_cursor", REPEAT("0", 5000), INVALID,
        BAD_CURSOR},
    {LIST_APP, "list_tokens.page_cursor", TEXT(BEYOND_UNICODE), INVALID,
        BAD_CURSOR},
    {LIST_APP, "list_tokens.page_cursor", TEXT(NEWLINE), INVALID, BAD_CURSOR},
    {LIST_OWNER, "list_tokens", STRAY(6), INVALID,
        "request: field 6 of ListTokensRequest is not in wire version 1"},
};

static const hostile introspect[] = {
    {BATCH, "introspect_batch.tokens", LIST("enrt_", 129), INVALID,
        "tokens: at most 128 in one batch, got 129"},
    {INTROSPECT, "introspect", STRAY(2), INVALID,
        "request: field 2 of IntrospectRequest is not in wire version 1"},
    {BATCH, "introspect_batch", STRAY(2), INVALID,
        "request: field 2 of IntrospectBatchRequest is not in wire "
        "version 1"},
};

static const hostile apps[] = {
    {CREATE_APP, "create_app.name", ABSENT, INVALID, "name: required"},
    {CREATE_APP, "create_app.name", TEXT(""), INVALID, "name: required"},
    {CREATE_APP, "create_app.name", REPEAT("n", 129), INVALID,
        "name: at most 128 bytes, got 129"},
    {CREATE_APP, "create_app.name", TEXT(OVERLONG_SLASH), INVALID,
        "name: " NOT_UTF8},
    {CREATE_APP, "create_app.name", TEXT(NEWLINE), INVALID,
        "name: " NO_CONTROL},
    {CREATE_APP, "create_app.name", TEXT("@token"), INVALID,
        "name: " NO_SECRET},
    {CREATE_APP, "create_app.name", TEXT("Main"),
        ENRT__V1__STATUS__ALREADY_EXISTS, "name"},
    {CREATE_APP, "create_app.name", TEXT(" "), INVALID,
        "name: must not begin or end with a space"},
    {CREATE_APP, "create_app.name", TEXT("Main "), INVALID,
        "name: must not begin or end with a space"},
    {CREATE_APP, "create_app.policy", INT(3), INVALID,
        "policy: must be None, AuthenticatedUsers or AdministratorsOnly"},
    {CREATE_APP, "create_app.policy", INT(-1), INVALID,
        "policy: must be None, AuthenticatedUsers or AdministratorsOnly"},
    {CREATE_APP, "create_app.system_user", ABSENT, INVALID,
        "system_user: required"},
    {CREATE_APP, "create_app.system_user", TEXT(""), INVALID,
        "system_user: required"},
    {CREATE_APP, "create_app.system_user", REPEAT("s", 129), INVALID,
        "system_user: " TOO_LONG_ID},
    {CREATE_APP, "create_app.system_user", TEXT("svc\x01"), INVALID,
        "system_user: " PRINTABLE},
    {CREATE_APP, "create_app.system_user", TEXT("@admin"), INVALID,
        "system_user: " NO_SECRET},
    {CREATE_APP, "create_app.allowed_scopes", TEXT("no spaces"), INVALID,
        "allowed_scopes: scope 1 " SCOPE_RULE},
    {CREATE_APP, "create_app.allowed_scopes", TEXT(SURROGATE), INVALID,
        "allowed_scopes: scope 1 " SCOPE_RULE},
    {CREATE_APP, "create_app.allowed_scopes", LIST("s", 257), INVALID,
        "allowed_scopes: at most 256 distinct scopes, got 257"},
    {CREATE_APP, "create_app.allowed_scopes", LIST("s", 1025), INVALID,
        "allowed_scopes: at most 256 scopes, got 1025"},
    {CREATE_APP, "create_app.max_lifetime_days", INT(0), INVALID,
        "max_lifetime_days: 1 to 36500 days, got 0"},
    {CREATE_APP, "create_app.max_lifetime_days", INT(36501), INVALID,
        "max_lifetime_days: 1 to 36500 days, got 36501"},
    {CREATE_APP, "create_app.max_lifetime_days", INT(UINT32_MAX), INVALID,
        "max_lifetime_days: 1 to 36500 days, got 4294967295"},
    {CREATE_UNLIMITED, "create_app.max_lifetime_days", INT(30), INVALID,
        "max_lifetime_days: cannot be given together with "
        "unlimited_lifetime"},
    {CREATE_APP, "create_app", STRAY(7), INVALID,
        "request: field 7 of CreateAppRequest is not in wire version 1"},

    {UPDATE_APP, "update_app.id", ABSENT, INVALID, "id: required"},
    {UPDATE_APP, "update_app.id", TEXT(""), INVALID, "id: required"},
    {UPDATE_APP, "update_app.id", TEXT("@token_id"), INVALID,
        "id: " NOT_AN_ID " app_"},
    {UPDATE_APP, "update_app.id", REPEAT("\xff", 300), INVALID,
        "id: " NOT_AN_ID},
    {UPDATE_APP, "update_app.id", TEXT("app_0000000000000000000000"), MISSING,
        "id: no app app_0000000000000000000000"},
    {UPDATE_APP, "update_app.name", ABSENT, INVALID,
        "update: names no field to change"},
    {UPDATE_APP, "update_app.name", TEXT(""), INVALID, "name: required"},
    {UPDATE_APP, "update_app.name", TEXT("  "), INVALID,
        "name: must not begin or end with a space"},
    {UPDATE_APP, "update_app.name", REPEAT("\xc3\xa9", 65), INVALID,
        "name: at most 128 bytes, got 130"},
    {UPDATE_APP, "update_app.name", TEXT(CUT_SHORT), INVALID,
        "name: " NOT_UTF8},
    {UPDATE_APP, "update_app.name", TEXT(DELETE), INVALID,
        "name: " NO_CONTROL},
    {UPDATE_APP, "update_app.name", TEXT("Forever"),
        ENRT__V1__STATUS__ALREADY_EXISTS, "name"},
    {UPDATE_APP, "update_app.policy", INT(3), INVALID,
        "policy: must be None, AuthenticatedUsers or AdministratorsOnly"},
    {UPDATE_APP, "update_app.policy", INT(INT32_MIN), INVALID,
        "policy: must be None, AuthenticatedUsers or AdministratorsOnly"},
    {UPDATE_APP, "update_app.system_user", TEXT(""), INVALID,
        "system_user: required"},
    {UPDATE_APP, "update_app.system_user", REPEAT("s", 129), INVALID,
        "system_user: " TOO_LONG_ID},
    {UPDATE_APP, "update_app.system_user", TEXT("root user"), INVALID,
        "system_user: " PRINTABLE},
    {UPDATE_APP, "update_app.allowed_scopes.scopes", TEXT(""), INVALID,
        "allowed_scopes: scope 1 " SCOPE_RULE},
    {UPDATE_APP, "update_app.allowed_scopes.scopes", LIST("s", 257), INVALID,
        "allowed_scopes: at most 256 distinct scopes, got 257"},
    {UPDATE_APP, "update_app.max_lifetime_days", INT(0), INVALID,
        "max_lifetime_days: 1 to 36500 days, got 0"},
    {UPDATE_APP, "update_app.max_lifetime_days", INT(36501), INVALID,
        "max_lifetime_days: 1 to 36500 days, got 36501"},
    {UPDATE_APP, "update_app.unlimited_lifetime", INT(0), INVALID,
        "max_lifetime_days: required to end an unlimited lifetime"},
    {UPDATE_APP, "update_app.allowed_scopes", STRAY(2), INVALID,
        "request: field 2 of ScopeList is not in wire version 1"},
    {UPDATE_APP, "update_app", STRAY(9), INVALID,
        "request: field 9 of UpdateAppRequest is not in wire version 1"},

    {GET_APP, "get_app.id", ABSENT, INVALID, "id: required"},
    {GET_APP, "get_app.id", TEXT("app_"), INVALID, "id: " NOT_AN_ID},
    {GET_APP, "get_app.id", TEXT(NEWLINE), INVALID, "id: " NOT_AN_ID},
    {GET_APP, "get_app.id", TEXT("app_0000000000000000000000"), MISSING,
        "id: no app"},

    {LIST_APPS, "list_apps.page_size", INT(0), INVALID, PAGE_RULE},
    {LIST_APPS, "list_apps.page_size", INT(1001), INVALID, PAGE_RULE},
    {LIST_APPS, "list_apps.page_cursor", TEXT("app_ 1"), INVALID, BAD_CURSOR},
    {LIST_APPS, "list_apps.page_cursor", REPEAT("app_", 2000), INVALID,
        BAD_CURSOR},
    {LIST_APPS, "list_apps.page_cursor", TEXT(LONE_CONTINUATION), INVALID,
        BAD_CURSOR},
    {LIST_APPS_AS_PERSON, "list_apps.page_size", INT(UINT32_MAX), INVALID,
        PAGE_RULE},
    {LIST_APPS_AS_PERSON, "list_apps.eligible", INT(0), DENIED,
        "only administrators may manage apps"},
};

static const hostile callers[] = {
    {ADD_CALLER, "add_caller.name", ABSENT, INVALID, "name: required"},
    {ADD_CALLER, "add_caller.name", TEXT(""), INVALID, "name: required"},
    {ADD_CALLER, "add_caller.name", TEXT(" gateway"), INVALID,
        "name: must not begin or end with a space"},
    {ADD_CALLER, "add_caller.name", REPEAT("n", 129), INVALID,
        "name: at most 128 bytes, got 129"},
    {ADD_CALLER, "add_caller.name", TEXT(BEYOND_UNICODE), INVALID,
        "name: " NOT_UTF8},
    {ADD_CALLER, "add_caller.name", TEXT(C1_NEXT_LINE), INVALID,
        "name: " NO_CONTROL},
    {ADD_CALLER, "add_caller.name", TEXT("@portal"), INVALID,
        "name: " NO_SECRET},
    {ADD_CALLER, "add_caller.role", ABSENT, INVALID,
        "role: required, introspect, portal or admin"},
    {ADD_CALLER, "add_caller.role", INT(0), INVALID,
        "role: required, introspect, portal or admin"},
    {ADD_CALLER, "add_caller.role", INT(4), INVALID,
        "role: required, introspect, portal or admin"},
    {ADD_CALLER, "add_caller.role", INT(-1), INVALID,
        "role: required, introspect, portal or admin"},
    {ADD_PORTAL, "add_caller.app_ids", TEXT("@app"), INVALID,
        "app_ids: only an introspect caller is limited to apps"},
    {ADD_CALLER, "add_caller.app_ids", TEXT(""), INVALID, "app_ids: required"},
    {ADD_CALLER, "add_caller.app_ids", TEXT("app_1"), INVALID,
        "app_ids: " NOT_AN_ID},
    {ADD_CALLER, "add_caller.app_ids", TEXT(NEWLINE), INVALID,
        "app_ids: " NOT_AN_ID},
    {ADD_CALLER, "add_caller.app_ids", LIST("app_", 65), INVALID,
        "app_ids: at most 64 apps, got 65"},
    {ADD_CALLER, "add_caller.app_ids", TEXT("app_0000000000000000000000"),
        MISSING, "app_ids: no app app_0000000000000000000000"},
    {ADD_CALLER, "add_caller", STRAY(4), INVALID,
        "request: field 4 of AddCallerRequest is not in wire version 1"},

    {LIST_CALLERS, "list_callers.page_size", INT(0), INVALID, PAGE_RULE},
    {LIST_CALLERS, "list_callers.page_size", INT(1001), INVALID, PAGE_RULE},
    {LIST_CALLERS, "list_callers.page_cursor", TEXT("cal 1"), INVALID,
        BAD_CURSOR},
    {LIST_CALLERS, "list_callers.page_cursor", TEXT(SURROGATE), INVALID,
        BAD_CURSOR},
    {LIST_CALLERS, "list_callers.page_cursor", REPEAT("c", 3000), INVALID,
        BAD_CURSOR},

    {REVOKE_CALLER, "revoke_caller.id", ABSENT, INVALID, "id: required"},
    {REVOKE_CALLER, "revoke_caller.id", TEXT(""), INVALID, "id: required"},
    {REVOKE_CALLER, "revoke_caller.id", TEXT("@app"), INVALID,
        "id: " NOT_AN_ID " cal_"},
    {REVOKE_CALLER, "revoke_caller.id", TEXT("@admin"), INVALID,
        "id: " NOT_AN_ID},
    {REVOKE_CALLER, "revoke_caller.id", TEXT(CUT_SHORT), INVALID,
        "id: " NOT_AN_ID},
    {REVOKE_CALLER, "revoke_caller.id", TEXT("cal_0000000000000000000000"),
        MISSING, "id: no caller cal_0000000000000000000000"},
};

static const hostile users[] = {
    {LIST_USERS, "list_users.page_size", INT(0), INVALID, PAGE_RULE},
    {LIST_USERS, "list_users.page_size", INT(1001), INVALID, PAGE_RULE},
    {LIST_USERS, "list_users.page_cursor", TEXT("nobody at all"), INVALID,
        BAD_CURSOR},
    {LIST_USERS, "list_users.page_cursor", REPEAT("u", 200), INVALID,
        BAD_CURSOR},
    {LIST_USERS, "list_users.page_cursor", TEXT("\xff"), INVALID, BAD_CURSOR},

    {SET_USER, "set_user.id", ABSENT, INVALID, "id: required"},
    {SET_USER, "set_user.id", TEXT(""), INVALID, "id: required"},
    {SET_USER, "set_user.id", REPEAT("i", 129), INVALID, "id: " TOO_LONG_ID},
    {SET_USER, "set_user.id", TEXT("al ice"), INVALID, "id: " PRINTABLE},
    {SET_USER, "set_user.id", TEXT(LONE_CONTINUATION), INVALID,
        "id: " PRINTABLE},
    {SET_USER, "set_user.id", TEXT("@token"), INVALID, "id: " NO_SECRET},
    {SET_USER, "set_user.id", TEXT("nobody"), MISSING, "id: no user nobody"},
    {SET_USER, "set_user.admin", ABSENT, INVALID,
        "set_user: names neither admin nor enabled"},
    {SET_USER, "set_user", STRAY(4), INVALID,
        "request: field 4 of SetUserRequest is not in wire version 1"},

    {DELETE_USER, "delete_user.id", ABSENT, INVALID, "id: required"},
    {DELETE_USER, "delete_user.id", TEXT(""), INVALID, "id: required"},
    {DELETE_USER, "delete_user.id", REPEAT("i", 129), INVALID,
        "id: " TOO_LONG_ID},
    {DELETE_USER, "delete_user.id", TEXT(NEWLINE), INVALID, "id: " PRINTABLE},
    {DELETE_USER, "delete_user.id", TEXT("@admin"), INVALID, "id: " NO_SECRET},
    {DELETE_USER, "delete_user.id", TEXT("nobody"), MISSING,
        "id: no user nobody"},
};

#define SINCE_RULE \
	"since: must be from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z"

static const hostile audit[] = {
    {LIST_AUDIT, "list_audit.since", INT(-1), INVALID, SINCE_RULE},
    {LIST_AUDIT, "list_audit.since", INT(INT64_MIN), INVALID, SINCE_RULE},
    {LIST_AUDIT, "list_audit.since", INT(ENRT_TIME_MAX + 1), INVALID,
        SINCE_RULE},
    {LIST_AUDIT, "list_audit.since", INT(INT64_MAX), INVALID, SINCE_RULE},
    {LIST_AUDIT, "list_audit.page_size", INT(0), INVALID, PAGE_RULE},
    {LIST_AUDIT, "list_audit.page_size", INT(1001), INVALID, PAGE_RULE},
    {LIST_AUDIT, "list_audit.page_cursor", TEXT("0.0"), INVALID, BAD_CURSOR},
    {LIST_AUDIT, "list_audit.page_cursor", REPEAT("f", 33), INVALID,
        BAD_CURSOR},
    {LIST_AUDIT, "list_audit.page_cursor", TEXT(OVERLONG_SLASH), INVALID,
        BAD_CURSOR},
    {LIST_AUDIT, "list_audit", STRAY(4), INVALID,
        "request: field 4 of ListAuditRequest is not in wire version 1"},
};

/*
 * Fields whose bad values are answered, not refused: Introspect says
 * inactive (RFC 7662) and Revoke by value revokes nothing (RFC 7009),
 * whatever the value, so that a value never tells a caller more.
 */
static const hostile answered[] = {
    {INTROSPECT, "introspect.token", ABSENT, ENRT__V1__STATUS__OK, NULL},
    {INTROSPECT, "introspect.token", TEXT(""), ENRT__V1__STATUS__OK, NULL},
    {INTROSPECT, "introspect.token", REPEAT("enrt_", 10000),
        ENRT__V1__STATUS__OK, NULL},
    {INTROSPECT, "introspect.token", TEXT(LONE_CONTINUATION),
        ENRT__V1__STATUS__OK, NULL},
    {INTROSPECT, "introspect.token", TEXT(NEWLINE), ENRT__V1__STATUS__OK,
        NULL},
    {INTROSPECT, "introspect.token", TEXT("@admin"), ENRT__V1__STATUS__OK,
        NULL},
    {INTROSPECT, "introspect.token", TEXT("@token_id"), ENRT__V1__STATUS__OK,
        NULL},
    {BATCH, "introspect_batch.tokens", TEXT(SURROGATE), ENRT__V1__STATUS__OK,
        NULL},
    {BATCH, "introspect_batch.tokens", LIST("enrt_", 128),
        ENRT__V1__STATUS__OK, NULL},
    {BATCH, "introspect_batch.tokens", ABSENT, ENRT__V1__STATUS__OK, NULL},
    {REVOKE_VALUE, "revoke.token_value", TEXT(""), ENRT__V1__STATUS__OK, NULL},
    {REVOKE_VALUE, "revoke.token_value", REPEAT("enrt_", 10000),
        ENRT__V1__STATUS__OK, NULL},
    {REVOKE_VALUE, "revoke.token_value", TEXT(BEYOND_UNICODE),
        ENRT__V1__STATUS__OK, NULL},
    {REVOKE_VALUE, "revoke.token_value", TEXT("@admin"), ENRT__V1__STATUS__OK,
        NULL},
    {REVOKE_USER, "revoke.user_id", TEXT("nobody"), ENRT__V1__STATUS__OK,
        NULL},
};

/* ------------------------------------------------------------------ */
/* Tests                                                               */

/*
 * Each base succeeds, and the snapshot sees what each one writes: a
 * snapshot blind to some change would let the tables pass anything.
 * Revoke by value comes after Revoke by id of the same token, so it
 * finds the token revoked already and writes nothing.
 */
static void
every_base_request_succeeds_alone(void **state)
{
	fixture *f = *state;
	snapshot before;

	for (int b = 0; b < N_BASES; b++) {
		snapshot_take(f, &before);
		reply_free(call_ok(f, b));
		if (store_unchanged(f, &before, INVALID) == bases[b].writes) {
			fail_msg("%s: %s", bases[b].name,
			    bases[b].writes ? "no write seen"
			                    : "a write seen");
		}
		snapshot_free(&before);
		arena_free(&f->arena);
	}
}

static void
envelope_fields_are_checked(void **state)
{
	RUN((fixture *)*state, envelope);
}

static void
issue_fields_are_checked(void **state)
{
	RUN((fixture *)*state, issue);
}

static void
revoke_fields_are_checked(void **state)
{
	RUN((fixture *)*state, revoke);
}

static void
list_tokens_fields_are_checked(void **state)
{
	RUN((fixture *)*state, list_tokens);
}

static void
introspect_fields_are_checked(void **state)
{
	RUN((fixture *)*state, introspect);
}

static void
app_fields_are_checked(void **state)
{
	RUN((fixture *)*state, apps);
}

static void
caller_fields_are_checked(void **state)
{
	RUN((fixture *)*state, callers);
}

static void
user_fields_are_checked(void **state)
{
	RUN((fixture *)*state, users);
}

static void
audit_fields_are_checked(void **state)
{
	RUN((fixture *)*state, audit);
}

/* Each answered case: Introspect inactive, Revoke of nothing. */
static void
assert_answered_with_nothing(const Enrt__V1__Reply *reply)
{
	switch (reply->result_case) {
	case ENRT__V1__REPLY__RESULT_INTROSPECT:
		assert_false(reply->introspect->active);
		assert_null(reply->introspect->token_id);
		break;
	case ENRT__V1__REPLY__RESULT_INTROSPECT_BATCH:
		for (size_t i = 0; i < reply->introspect_batch->n_answers;
		     i++) {
			assert_false(
			    reply->introspect_batch->answers[i]->active);
		}
		break;
	case ENRT__V1__REPLY__RESULT_REVOKE:
		assert_int_equal(reply->revoke->revoked, 0);
		break;
	default:
		fail_msg("unexpected result %d", reply->result_case);
	}
}

static void
bad_values_to_introspect_or_revoke_are_answered_inactive(void **state)
{
	fixture *f = *state;
	size_t n = sizeof(answered) / sizeof(answered[0]);

	RUN(f, answered);
	for (size_t i = 0; i < n; i++) {
		Enrt__V1__Reply *reply =
		    send_request(f, build(f, answered[i].base, &answered[i]));

		assert_answered_with_nothing(reply);
		reply_free(reply);
		arena_free(&f->arena);
	}
}

/*
 * Every prefix of every valid request is refused: cut inside a field it
 * does not decode, and cut between fields it lacks the operation or the
 * credential.
 */
static void
every_truncated_request_is_refused_and_writes_nothing(void **state)
{
	fixture *f = *state;
	snapshot before;

	snapshot_take(f, &before);
	for (int b = 0; b < N_BASES; b++) {
		size_t len;
		uint8_t *whole = pack(f, build(f, b, NULL), &len);

		for (size_t cut = 0; cut < len; cut++) {
			Enrt__V1__Reply *reply = send_bytes(f, whole, cut);

			if (reply->status == ENRT__V1__STATUS__OK) {
				print_error("%s cut at %zu of %zu succeeded\n",
				    bases[b].name, cut, len);
			}
			assert_int_not_equal(
			    reply->status, ENRT__V1__STATUS__OK);
			assert_non_null(reply->message);
			reply_free(reply);
		}
		arena_free(&f->arena);
	}
	assert_true(store_unchanged(f, &before, ENRT__V1__STATUS__OK));
	snapshot_free(&before);
}

/* Bytes no encoder writes: each gets INVALID_ARGUMENT, naming request. */
static void
bytes_that_are_no_request_are_refused(void **state)
{
	static const struct {
		const char *what;
		uint8_t bytes[12];
		size_t len;
	} cases[] = {
	    {"a varint where a string belongs", {0x12, 0x01}, 2},
	    {"a string where a varint belongs", {0x0a, 0x01, 0x01}, 3},
	    {"wire type 7", {0x0f, 0x01}, 2},
	    {"field number 0", {0x00, 0x01}, 2},
	    {"a group that never ends", {0x0b}, 1},
	    {"a length past the end", {0x12, 0x7f, 'e'}, 3},
	    {"a varint of eleven bytes",
	        {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	            0xff, 0x01},
	        12},
	    {"version 1 padded to two bytes", {0x08, 0x81, 0x00}, 3},
	    {"an issue given as a varint", {0x08, 0x01, 0x50, 0x01}, 4},
	};
	fixture *f = *state;
	snapshot before;

	snapshot_take(f, &before);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Enrt__V1__Reply *reply =
		    send_bytes(f, cases[i].bytes, cases[i].len);

		if (reply->status != ENRT__V1__STATUS__INVALID_ARGUMENT ||
		    strstr(reply->message, "request: ") != reply->message) {
			print_error("%s: %s %s\n", cases[i].what,
			    enrt_status_name((enrt_status)reply->status),
			    reply->message);
			fail();
		}
		reply_free(reply);
	}
	assert_true(store_unchanged(f, &before, ENRT__V1__STATUS__OK));
	snapshot_free(&before);
}

/* A field that no version has, on the envelope of every request. */
static void
a_field_of_another_version_is_refused_on_every_request(void **state)
{
	fixture *f = *state;
	hostile c = {.path = "",
	    .v = STRAY(9),
	    .status = INVALID,
	    .words = "request: field 9 of Request is not in wire version 1"};

	for (int b = 0; b < N_BASES; b++) {
		Enrt__V1__Reply *reply;

		c.base = b;
		reply = send_request(f, build(f, b, &c));
		if (!answer_fits(&c, reply)) {
			report(&c, (size_t)b, reply);
			fail();
		}
		reply_free(reply);
		arena_free(&f->arena);
	}
}

/* expires_at, as each of Issue, Introspect and ListTokens gives it. */
typedef struct expiry_views {
	int64_t issued, introspected, listed;
} expiry_views;

static void
issue_forever(fixture *f, int64_t at, char *value, char *id)
{
	const assignment set[] = {{"issue.app_id", TEXT("@forever")},
	    {"issue.kind", INT(ENRT__V1__TOKEN_KIND__PAT)},
	    {"issue.expires_at", INT(at)}, {"issue.scopes", LIST("read", 1)},
	    {"issue.owner", TEXT("edge")}};
	Enrt__V1__Reply *reply = admin_call(f, set, 5);

	assert_true(reply->issue->info->has_expires_at);
	assert_int_equal(reply->issue->info->expires_at, at);
	strcpy(value, reply->issue->token);
	strcpy(id, reply->issue->info->id);
	reply_free(reply);
}

static int64_t
introspected_expiry(fixture *f, const char *value)
{
	const assignment set[] = {{"introspect.token", TEXT(value)}};
	Enrt__V1__Reply *reply = admin_call(f, set, 1);
	int64_t at = reply->introspect->expires_at;

	assert_true(reply->introspect->active);
	assert_true(reply->introspect->has_expires_at);
	reply_free(reply);
	return at;
}

static int64_t
listed_expiry(fixture *f, const char *id)
{
	const assignment set[] = {{"list_tokens.owner", TEXT("edge")},
	    {"list_tokens.page_size", INT(LIST_LIMIT)}};
	Enrt__V1__Reply *reply = admin_call(f, set, 2);
	Enrt__V1__ListTokensReply *list = reply->list_tokens;
	int64_t at = -1;

	for (size_t i = 0; i < list->n_tokens; i++) {
		if (strcmp(list->tokens[i]->id, id) == 0) {
			assert_true(list->tokens[i]->has_expires_at);
			at = list->tokens[i]->expires_at;
		}
	}
	reply_free(reply);
	return at;
}

/*
 * The instants where 32-bit times end, signed (2038) and unsigned
 * (2106), and the last second of year 9999, come back exactly from
 * Issue, Introspect and ListTokens.
 */
static void
expiry_edges_round_trip_exactly(void **state)
{
	static const int64_t edges[] = {INT64_C(2147483647),
	    INT64_C(2147483648), INT64_C(4294967295), INT64_C(4294967296),
	    ENRT_TIME_MAX};
	fixture *f = *state;

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		char value[FORMAT_SECRET_LEN + 1], id[FORMAT_ID_MAX];

		if (edges[i] <= f->now) {
			continue; /* an edge in the past cannot be issued */
		}
		issue_forever(f, edges[i], value, id);
		assert_int_equal(introspected_expiry(f, value), edges[i]);
		assert_int_equal(listed_expiry(f, id), edges[i]);
		arena_free(&f->arena);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(every_base_request_succeeds_alone),
	    T(envelope_fields_are_checked),
	    T(issue_fields_are_checked),
	    T(revoke_fields_are_checked),
	    T(list_tokens_fields_are_checked),
	    T(introspect_fields_are_checked),
	    T(app_fields_are_checked),
	    T(caller_fields_are_checked),
	    T(user_fields_are_checked),
	    T(audit_fields_are_checked),
	    T(bad_values_to_introspect_or_revoke_are_answered_inactive),
	    T(every_truncated_request_is_refused_and_writes_nothing),
	    T(bytes_that_are_no_request_are_refused),
	    T(a_field_of_another_version_is_refused_on_every_request),
	    T(expiry_edges_round_trip_exactly),
#undef T
	};

	if (sodium_init() < 0) {
		return 1;
	}
	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
