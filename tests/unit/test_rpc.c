/*
 * Dispatch: the envelope, authentication and roles, driven with packed
 * bytes through rpc_handle against a real store in a temporary directory,
 * and Issue and Revoke through rpc_serve and a writer as enrtd serves
 * them.  The rules remember credentials, as enrtd's do.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit.h"
#include "fixture.h"
#include "format.h"
#include "log.h"
#include "memo.h"
#include "reply.h"
#include "rpc.h"
#include "writer.h"

typedef struct fixture {
	char dir[FIXTURE_DIR_LEN];
	store *store;
	rules rules;
	char admin[FORMAT_SECRET_LEN + 1];
	char introspector[FORMAT_SECRET_LEN + 1];
	char portal[FORMAT_SECRET_LEN + 1];
} fixture;

/* Adds a caller with this role and writes its credential. */
static void
add_caller(fixture *f, Enrt__V1__Role role, char *credential, const char *id)
{
	uint8_t raw[FORMAT_RAW_LEN], digest[STORE_DIGEST_LEN];
	store_caller caller = ENRT__V1__CALLER_RECORD__INIT;
	store_txn *t;

	randombytes_buf(raw, sizeof(raw));
	format_secret(credential, ENRT_CREDENTIAL_PREFIX, raw);
	rules_digest(&f->rules, credential, FORMAT_SECRET_LEN, digest);
	caller.id = (char *)id;
	caller.has_role = true;
	caller.role = role;
	assert_int_equal(store_begin_write(f->store, &t), ENRT_OK);
	store_caller_add(t, digest, &caller);
	assert_int_equal(store_commit(t), ENRT_OK);
}

static int
setup(void **state)
{
	static const uint8_t key[RULES_KEY_LEN] = {9};
	fixture *f = calloc(1, sizeof(*f));
	err e;

	assert_non_null(f);
	fixture_dir_make(f->dir, "rpc");
	assert_int_equal(store_open(&f->store, f->dir, NULL), ENRT_OK);
	rules_init(&f->rules, f->store, NULL, key);
	assert_int_equal(memo_new(&f->rules.credentials), ENRT_OK);
	assert_int_equal(rules_bootstrap(&f->rules, 1, f->admin, &e), ENRT_OK);
	add_caller(f, ENRT__V1__ROLE__INTROSPECT, f->introspector,
	    "cal_0000000000000000000001");
	add_caller(f, ENRT__V1__ROLE__PORTAL, f->portal,
	    "cal_0000000000000000000002");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	writer_stop(f->rules.writer);
	memo_free(f->rules.credentials);
	store_close(f->store);
	fixture_dir_remove(f->dir);
	free(f);
	return 0;
}

/* Sends len bytes and decodes the reply, which must come. */
static Enrt__V1__Reply *
send_bytes(fixture *f, const uint8_t *in, size_t len)
{
	uint8_t *out = NULL;
	size_t out_len = 0;
	Enrt__V1__Reply *reply;

	assert_true(rpc_handle(&f->rules, in, len, &out, &out_len));
	reply = enrt__v1__reply__unpack(NULL, out_len, out);
	free(out);
	assert_non_null(reply);
	return reply;
}

static Enrt__V1__Reply *
send_request(fixture *f, const Enrt__V1__Request *req)
{
	size_t len = enrt__v1__request__get_packed_size(req);
	uint8_t *buf = malloc(len);
	Enrt__V1__Reply *reply;

	assert_non_null(buf);
	enrt__v1__request__pack(req, buf);
	reply = send_bytes(f, buf, len);
	free(buf);
	return reply;
}

/* A version 1 introspect request for value, from credential. */
static void
introspect_request(Enrt__V1__Request *req, Enrt__V1__IntrospectRequest *op,
    const char *credential, const char *value)
{
	enrt__v1__request__init(req);
	enrt__v1__introspect_request__init(op);
	req->has_version = true;
	req->version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	req->credential = (char *)credential;
	req->op_case = ENRT__V1__REQUEST__OP_INTROSPECT;
	req->introspect = op;
	op->token = (char *)value;
}

static void
expect_status(
    Enrt__V1__Reply *reply, Enrt__V1__Status status, const char *words)
{
	if (reply->status != status) {
		print_error("message: %s\n", reply->message);
	}
	assert_int_equal(reply->status, status);
	if (words != NULL) {
		assert_non_null(reply->message);
		assert_non_null(strstr(reply->message, words));
	}
	reply_free(reply);
}

static void
garbage_gets_an_invalid_argument_reply(void **state)
{
	fixture *f = *state;
	static const uint8_t garbage[] = {0xFF, 0xFF, 0xFF, 0x01, 0x02};

	expect_status(send_bytes(f, garbage, sizeof(garbage)),
	    ENRT__V1__STATUS__INVALID_ARGUMENT, "request");
	expect_status(send_bytes(f, garbage, 0),
	    ENRT__V1__STATUS__INVALID_ARGUMENT, "version");
}

static void
another_wire_version_is_refused(void **state)
{
	fixture *f = *state;
	Enrt__V1__Request req;
	Enrt__V1__IntrospectRequest op;

	introspect_request(&req, &op, f->admin, "enrt_x");
	req.version = (Enrt__V1__WireVersion)2;
	expect_status(send_request(f, &req),
	    ENRT__V1__STATUS__INVALID_ARGUMENT, "version");
}

static void
a_request_without_an_operation_is_refused(void **state)
{
	fixture *f = *state;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;

	req.has_version = true;
	req.version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	req.credential = f->admin;
	expect_status(
	    send_request(f, &req), ENRT__V1__STATUS__INVALID_ARGUMENT, "op");
}

static void
credentials_are_checked_on_every_request(void **state)
{
	fixture *f = *state;
	Enrt__V1__Request req;
	Enrt__V1__IntrospectRequest op;
	char other[FORMAT_SECRET_LEN + 1];
	uint8_t raw[FORMAT_RAW_LEN] = {7};

	format_secret(other, ENRT_CREDENTIAL_PREFIX, raw);
	introspect_request(&req, &op, NULL, "enrt_x");
	expect_status(send_request(f, &req), ENRT__V1__STATUS__UNAUTHENTICATED,
	    "credential");
	req.credential = other;
	expect_status(send_request(f, &req), ENRT__V1__STATUS__UNAUTHENTICATED,
	    "unknown");
	req.credential = f->introspector;
	expect_status(send_request(f, &req), ENRT__V1__STATUS__OK, NULL);
}

/* A credential remembered from earlier requests still meets the store. */
static void
a_remembered_credential_stops_when_its_caller_is_revoked(void **state)
{
	fixture *f = *state;
	Enrt__V1__Request req;
	Enrt__V1__IntrospectRequest op;
	Enrt__V1__Request revoke = ENRT__V1__REQUEST__INIT;
	Enrt__V1__RevokeCallerRequest target =
	    ENRT__V1__REVOKE_CALLER_REQUEST__INIT;

	introspect_request(&req, &op, f->introspector, "enrt_x");
	expect_status(send_request(f, &req), ENRT__V1__STATUS__OK, NULL);
	expect_status(send_request(f, &req), ENRT__V1__STATUS__OK, NULL);

	revoke.has_version = true;
	revoke.version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	revoke.credential = f->admin;
	revoke.op_case = ENRT__V1__REQUEST__OP_REVOKE_CALLER;
	revoke.revoke_caller = &target;
	target.id = "cal_0000000000000000000001";
	expect_status(send_request(f, &revoke), ENRT__V1__STATUS__OK, NULL);

	expect_status(send_request(f, &req), ENRT__V1__STATUS__UNAUTHENTICATED,
	    "revoked");
}

/* One character off a remembered credential is another credential. */
static void
a_near_copy_of_a_remembered_credential_is_refused(void **state)
{
	fixture *f = *state;
	Enrt__V1__Request req;
	Enrt__V1__IntrospectRequest op;
	char near[FORMAT_SECRET_LEN + 1];

	introspect_request(&req, &op, f->introspector, "enrt_x");
	expect_status(send_request(f, &req), ENRT__V1__STATUS__OK, NULL);

	for (size_t i = 0; i < FORMAT_SECRET_LEN; i++) {
		memcpy(near, f->introspector, sizeof(near));
		near[i] = near[i] == 'A' ? 'B' : 'A';
		req.credential = near;
		expect_status(send_request(f, &req),
		    ENRT__V1__STATUS__UNAUTHENTICATED, "credential");
	}
	req.credential = f->introspector;
	expect_status(send_request(f, &req), ENRT__V1__STATUS__OK, NULL);
}

/* A string field is cut at its NUL: the bytes after it must not hide. */
static void
a_credential_with_a_nul_and_more_is_refused(void **state)
{
	fixture *f = *state;
	Enrt__V1__Request req;
	Enrt__V1__IntrospectRequest op;
	uint8_t buf[256];
	size_t len;

	introspect_request(&req, &op, f->admin, "enrt_x");
	len = enrt__v1__request__pack(&req, buf);
	/* Field 2 (credential) is the second field packed: tag, length. */
	assert_int_equal(buf[2], 0x12);
	assert_int_equal(buf[3], FORMAT_SECRET_LEN);
	memmove(buf + 4 + FORMAT_SECRET_LEN + 2, buf + 4 + FORMAT_SECRET_LEN,
	    len - 4 - FORMAT_SECRET_LEN);
	buf[3] = FORMAT_SECRET_LEN + 2;
	buf[4 + FORMAT_SECRET_LEN] = '\0';
	buf[4 + FORMAT_SECRET_LEN + 1] = 'x';
	expect_status(send_bytes(f, buf, len + 2),
	    ENRT__V1__STATUS__INVALID_ARGUMENT, "canonical");
}

static void
roles_limit_the_operations(void **state)
{
	fixture *f = *state;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__ListAppsRequest op = ENRT__V1__LIST_APPS_REQUEST__INIT;

	req.has_version = true;
	req.version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	req.credential = f->introspector;
	req.op_case = ENRT__V1__REQUEST__OP_LIST_APPS;
	req.list_apps = &op;
	expect_status(send_request(f, &req),
	    ENRT__V1__STATUS__PERMISSION_DENIED, "introspect");
	req.credential = f->admin;
	expect_status(send_request(f, &req), ENRT__V1__STATUS__OK, NULL);
}

static void
only_portal_callers_act_for_a_person(void **state)
{
	fixture *f = *state;
	Enrt__V1__Request req;
	Enrt__V1__IntrospectRequest op;
	Enrt__V1__Person person = ENRT__V1__PERSON__INIT;

	introspect_request(&req, &op, f->admin, "enrt_x");
	person.user_id = "alice";
	req.acting_user = &person;
	expect_status(send_request(f, &req),
	    ENRT__V1__STATUS__INVALID_ARGUMENT, "acting_user");
}

static void
an_inactive_answer_carries_nothing_else(void **state)
{
	fixture *f = *state;
	Enrt__V1__Request req;
	Enrt__V1__IntrospectRequest op;
	Enrt__V1__Reply *reply;

	introspect_request(&req, &op, f->admin, "enrt_not_a_token");
	reply = send_request(f, &req);
	assert_int_equal(reply->status, ENRT__V1__STATUS__OK);
	assert_null(reply->message);
	assert_int_equal(
	    reply->result_case, ENRT__V1__REPLY__RESULT_INTROSPECT);
	assert_true(reply->introspect->has_active);
	assert_false(reply->introspect->active);
	assert_null(reply->introspect->token_id);
	assert_false(reply->introspect->has_kind);
	assert_int_equal(reply->introspect->n_scopes, 0);
	reply_free(reply);
}

/* How many audit events the store holds now. */
static size_t
audit_events(fixture *f, store_caller *admin)
{
	Enrt__V1__ListAuditRequest req = ENRT__V1__LIST_AUDIT_REQUEST__INIT;
	Enrt__V1__ListAuditReply *list = NULL;
	actor a = {.caller = admin, .now = 1};
	err e;
	size_t n;

	req.has_page_size = true;
	req.page_size = 1000;
	assert_int_equal(audit_list(&f->rules, &a, &req, &list, &e), ENRT_OK);
	n = list->n_events;
	for (size_t i = 0; i < n; i++) {
		assert_null(list->events[i]->acting_user);
	}
	reply_free(list);
	return n;
}

/*
 * A refused change is audited with who tried it, but a person that no
 * check has passed never reaches the log, and an introspect caller's
 * refusals are not kept at all.
 */
static void
refusals_keep_no_unchecked_person(void **state)
{
	fixture *f = *state;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__RevokeRequest op = ENRT__V1__REVOKE_REQUEST__INIT;
	Enrt__V1__Person forged = ENRT__V1__PERSON__INIT;
	store_caller *admin = NULL;
	err e;
	size_t before;

	assert_int_equal(
	    rules_authenticate(&f->rules, f->admin, &admin, &e), ENRT_OK);
	before = audit_events(f, admin);
	forged.user_id = "alice\nFORGED";
	req.has_version = true;
	req.version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	req.op_case = ENRT__V1__REQUEST__OP_REVOKE;
	req.revoke = &op;
	req.acting_user = &forged;
	op.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_ID;
	op.token_id = "tok_0000000000000000000000";

	/* Introspect callers verify and nothing else. */
	req.credential = f->introspector;
	expect_status(send_request(f, &req),
	    ENRT__V1__STATUS__PERMISSION_DENIED, "may not call Revoke");
	assert_int_equal(audit_events(f, admin), before);

	req.credential = f->admin;
	expect_status(send_request(f, &req),
	    ENRT__V1__STATUS__INVALID_ARGUMENT, "acting_user");
	assert_int_equal(audit_events(f, admin), before + 1);
	store_free(admin);
}

/* A reply that rpc_serve hands over, on whichever thread. */
typedef struct served {
	pthread_mutex_t mtx;
	pthread_cond_t cond;
	uint8_t *out;
	size_t len;
	bool done;
} served;

static void
take_reply(void *arg, uint8_t *out, size_t len)
{
	served *s = arg;

	pthread_mutex_lock(&s->mtx);
	s->out = out;
	s->len = len;
	s->done = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mtx);
}

/* send_request, through rpc_serve: waits for the reply from the writer. */
static Enrt__V1__Reply *
serve_request(fixture *f, const Enrt__V1__Request *req)
{
	served s = {.done = false};
	size_t len = enrt__v1__request__get_packed_size(req);
	uint8_t *buf = malloc(len);
	Enrt__V1__Reply *reply;

	assert_non_null(buf);
	enrt__v1__request__pack(req, buf);
	pthread_mutex_init(&s.mtx, NULL);
	pthread_cond_init(&s.cond, NULL);
	rpc_serve(&f->rules, buf, len, take_reply, &s);
	free(buf);

	pthread_mutex_lock(&s.mtx);
	while (!s.done) {
		pthread_cond_wait(&s.cond, &s.mtx);
	}
	pthread_mutex_unlock(&s.mtx);
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.mtx);
	assert_non_null(s.out);
	reply = enrt__v1__reply__unpack(NULL, s.len, s.out);
	free(s.out);
	assert_non_null(reply);
	return reply;
}

static void
revoke_request(Enrt__V1__Request *req, Enrt__V1__RevokeRequest *op,
    const char *credential)
{
	enrt__v1__request__init(req);
	enrt__v1__revoke_request__init(op);
	req->has_version = true;
	req->version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	req->credential = (char *)credential;
	req->op_case = ENRT__V1__REQUEST__OP_REVOKE;
	req->revoke = op;
}

/*
 * Through the writer, a refused Revoke is audited once, in the commit
 * the writer makes for it, whether served as the transport serves it or
 * waited for; one the rules accept is answered after its commit.
 */
static void
writer_audits_a_refused_change_once(void **state)
{
	fixture *f = *state;
	Enrt__V1__Request req;
	Enrt__V1__RevokeRequest op;
	Enrt__V1__Reply *reply;
	store_caller *admin = NULL;
	err e;
	size_t before;

	assert_int_equal(
	    writer_start(&f->rules.writer, f->store, 16), ENRT_OK);
	assert_int_equal(
	    rules_authenticate(&f->rules, f->admin, &admin, &e), ENRT_OK);
	before = audit_events(f, admin);
	revoke_request(&req, &op, f->admin);
	op.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_ID;
	op.token_id = "tok_0000000000000000000000";

	expect_status(serve_request(f, &req), ENRT__V1__STATUS__NOT_FOUND,
	    "token_id: no token");
	assert_int_equal(audit_events(f, admin), before + 1);
	expect_status(send_request(f, &req), ENRT__V1__STATUS__NOT_FOUND,
	    "token_id: no token");
	assert_int_equal(audit_events(f, admin), before + 2);

	op.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_VALUE;
	op.token_value =
	    "enrt_0000000000000000000000000000000000000000000000000";
	reply = serve_request(f, &req);
	assert_int_equal(reply->result_case, ENRT__V1__REPLY__RESULT_REVOKE);
	assert_int_equal(reply->revoke->revoked, 0);
	expect_status(reply, ENRT__V1__STATUS__OK, NULL);
	store_free(admin);
}

static void
only_admin_callers_shape_apps(void **state)
{
	fixture *f = *state;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__CreateAppRequest op = ENRT__V1__CREATE_APP_REQUEST__INIT;

	req.has_version = true;
	req.version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	req.credential = f->portal;
	req.op_case = ENRT__V1__REQUEST__OP_CREATE_APP;
	req.create_app = &op;
	op.name = "evil";
	op.system_user = "root";
	expect_status(send_request(f, &req),
	    ENRT__V1__STATUS__PERMISSION_DENIED, "portal");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(garbage_gets_an_invalid_argument_reply),
	    T(another_wire_version_is_refused),
	    T(a_request_without_an_operation_is_refused),
	    T(credentials_are_checked_on_every_request),
	    T(a_remembered_credential_stops_when_its_caller_is_revoked),
	    T(a_near_copy_of_a_remembered_credential_is_refused),
	    T(a_credential_with_a_nul_and_more_is_refused),
	    T(roles_limit_the_operations),
	    T(only_portal_callers_act_for_a_person),
	    T(an_inactive_answer_carries_nothing_else),
	    T(refusals_keep_no_unchecked_person),
	    T(only_admin_callers_shape_apps),
	    T(writer_audits_a_refused_change_once),
#undef T
	};

	if (sodium_init() < 0) {
		return 1;
	}
	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
