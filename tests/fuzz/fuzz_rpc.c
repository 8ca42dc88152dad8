/*
 * A libFuzzer harness for the request decoder and dispatcher: every input
 * goes through rpc_handle, as the transport would hand it over, against
 * the rules over a real store, and the reply that comes back is checked.
 *
 * The store is opened once per process, in a temporary directory (on
 * /dev/shm when there is one, so that the commit of each write costs no
 * disk flush), and holds an admin, a portal and an introspect caller, an
 * app and one token of it.  It is kept across inputs: what earlier
 * inputs wrote is part of what later ones meet, as on a real server.
 * The map is small on purpose; once it is full, writes are refused with
 * RESOURCE_EXHAUSTED, which is a path worth fuzzing too.
 *
 * A fuzzer cannot guess a random credential, app id or token, so the
 * first byte of an input says how the rest is sent.  Mode 0 (its low two
 * bits clear) sends the bytes as they are.  Modes 1, 2 and 3 decode them
 * as a Request; when they decode, the credential of the admin, portal or
 * introspect caller is put in, the placeholder "@app" is replaced by the
 * app's id wherever a field names an app, and "@token" by the token's
 * value wherever Introspect reads a token; then the message is packed
 * again and sent.  Bytes that do not decode are sent as they are.  Revoke
 * gets no placeholder, so that the token stays alive for later inputs.
 *
 * Every reply must decode as a Reply with a known status; a refusal must
 * carry a message and no result, a success a result and no message; and
 * no credential, nor the token's value or digest, may appear anywhere in
 * it.  A broken rule aborts, which libFuzzer reports as a crash.
 *
 * Runs on libFuzzer's thread; the last-used writer has a thread of its
 * own, with an interval long enough that it only flushes at exit.
 */
#define _GNU_SOURCE /* memmem, nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "format.h"
#include "lastused.h"
#include "log.h"
#include "reply.h"
#include "rpc.h"

#define MODE_MASK       3u
#define MODE_RAW        0u
#define MODE_ADMIN      1u
#define MODE_PORTAL     2u
#define MODE_INTROSPECT 3u
#define N_CALLERS       4 /* indexed by mode; 0 is unused */
#define SWAPS_MAX       160
#define MAP_SIZE        ((size_t)256 << 20)
#define REQUEST_MAX     (64 * 1024) /* the transport drops larger */
#define FLUSH_MS        (3600 * 1000)
#define APP_MARK        "@app"
#define TOKEN_MARK      "@token"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Everything the inputs run against; made once. */
typedef struct world {
	char dir[64];
	store *store;
	lastused *lastused;
	rules rules;
	char credentials[N_CALLERS][FORMAT_SECRET_LEN + 1];
	char app_id[FORMAT_ID_MAX];
	char token[FORMAT_SECRET_LEN + 1];
	uint8_t token_digest[STORE_DIGEST_LEN];
} world;

static world w;

static void
require(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_rpc: broken rule: %s\n", what);
		abort();
	}
}

/* ------------------------------------------------------------------ */
/* Checking a reply                                                    */

static bool
known_status(Enrt__V1__Status status)
{
	return strcmp(enrt_status_name((enrt_status)status), "UNKNOWN") != 0;
}

static bool
contains(const uint8_t *out, size_t len, const void *secret, size_t n)
{
	return memmem(out, len, secret, n) != NULL;
}

/* No secret of the world appears anywhere in the reply's bytes. */
static void
check_no_secret(const uint8_t *out, size_t len)
{
	for (size_t i = 1; i < N_CALLERS; i++) {
		require(
		    !contains(out, len, w.credentials[i], FORMAT_SECRET_LEN),
		    "a reply carries a caller's credential");
	}
	require(!contains(out, len, w.token, FORMAT_SECRET_LEN),
	    "a reply carries the token's value");
	require(!contains(out, len, w.token_digest, STORE_DIGEST_LEN),
	    "a reply carries the token's digest");
}

static void
check_reply(const uint8_t *out, size_t len)
{
	Enrt__V1__Reply *reply = enrt__v1__reply__unpack(NULL, len, out);
	bool ok;

	require(reply != NULL, "the reply decodes as a Reply");
	require(reply->has_status && known_status(reply->status),
	    "the reply has a known status");
	ok = reply->status == ENRT__V1__STATUS__OK;
	require(ok == (reply->message == NULL),
	    "a refusal, and only a refusal, carries a message");
	require(ok || reply->message[0] != '\0',
	    "a refusal's message is not empty");
	require(ok == (reply->result_case != ENRT__V1__REPLY__RESULT__NOT_SET),
	    "a success, and only a success, carries a result");
	reply_free(reply);
	check_no_secret(out, len);
}

static void
dispatch(const uint8_t *in, size_t len)
{
	uint8_t *out = NULL;
	size_t out_len = 0;

	if (len == 0 || len > REQUEST_MAX) {
		return; /* the transport never hands these over */
	}
	require(rpc_handle(&w.rules, in, len, &out, &out_len) && out != NULL,
	    "every request that reaches rpc_handle gets a reply");
	check_reply(out, out_len);
	free(out);
}

/* ------------------------------------------------------------------ */
/* Putting in what a fuzzer cannot guess                               */

/* String fields replaced for one call, and their decoded values. */
typedef struct swaps {
	char **slot[SWAPS_MAX];
	char *saved[SWAPS_MAX];
	size_t n;
} swaps;

static void
put(swaps *s, char **slot, const char *value)
{
	if (s->n == SWAPS_MAX) {
		return;
	}
	s->slot[s->n] = slot;
	s->saved[s->n] = *slot;
	s->n++;
	*slot = (char *)value;
}

static void
fill(swaps *s, char **slot, const char *mark, const char *value)
{
	if (*slot != NULL && strcmp(*slot, mark) == 0) {
		put(s, slot, value);
	}
}

/* Gives the decoder its own strings back, so that it frees only those. */
static void
restore(swaps *s)
{
	while (s->n > 0) {
		s->n--;
		*s->slot[s->n] = s->saved[s->n];
	}
}

static void
fill_marks(Enrt__V1__Request *req, swaps *s)
{
	switch (req->op_case) {
	case ENRT__V1__REQUEST__OP_ISSUE:
		fill(s, &req->issue->app_id, APP_MARK, w.app_id);
		break;
	case ENRT__V1__REQUEST__OP_UPDATE_APP:
		fill(s, &req->update_app->id, APP_MARK, w.app_id);
		break;
	case ENRT__V1__REQUEST__OP_GET_APP:
		fill(s, &req->get_app->id, APP_MARK, w.app_id);
		break;
	case ENRT__V1__REQUEST__OP_LIST_TOKENS:
		fill(s, &req->list_tokens->app_id, APP_MARK, w.app_id);
		break;
	case ENRT__V1__REQUEST__OP_INTROSPECT:
		fill(s, &req->introspect->token, TOKEN_MARK, w.token);
		break;
	case ENRT__V1__REQUEST__OP_INTROSPECT_BATCH:
		for (size_t i = 0; i < req->introspect_batch->n_tokens; i++) {
			fill(s, &req->introspect_batch->tokens[i], TOKEN_MARK,
			    w.token);
		}
		break;
	case ENRT__V1__REQUEST__OP_ADD_CALLER:
		for (size_t i = 0; i < req->add_caller->n_app_ids; i++) {
			fill(s, &req->add_caller->app_ids[i], APP_MARK,
			    w.app_id);
		}
		break;
	default:
		break;
	}
}

/* Sends req with the credential of this mode's caller and the marks. */
static void
dispatch_as(Enrt__V1__Request *req, unsigned mode)
{
	swaps s = {.n = 0};
	uint8_t *buf;
	size_t len;

	put(&s, &req->credential, w.credentials[mode]);
	fill_marks(req, &s);
	len = enrt__v1__request__get_packed_size(req);
	buf = malloc(len == 0 ? 1 : len);
	require(buf != NULL, "memory for the packed request");
	enrt__v1__request__pack(req, buf);
	restore(&s);

	dispatch(buf, len);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Enrt__V1__Request *req;
	unsigned mode;

	if (size == 0) {
		return 0;
	}
	mode = data[0] & MODE_MASK;
	req = mode == MODE_RAW
	          ? NULL
	          : enrt__v1__request__unpack(NULL, size - 1, data + 1);
	if (req == NULL) {
		dispatch(data + 1, size - 1);
		return 0;
	}
	dispatch_as(req, mode);
	reply_free(req);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Making the world                                                    */

static void
stop(const char *what)
{
	fprintf(stderr, "fuzz_rpc: cannot set up: %s\n", what);
	exit(1);
}

/* Sends one request as the admin; it must succeed. */
static Enrt__V1__Reply *
setup_call(Enrt__V1__Request *req)
{
	Enrt__V1__Reply *reply;
	uint8_t *buf, *out = NULL;
	size_t len, out_len = 0;

	req->has_version = true;
	req->version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	req->credential = w.credentials[MODE_ADMIN];
	len = enrt__v1__request__get_packed_size(req);
	if ((buf = malloc(len)) == NULL) {
		stop("memory");
	}
	enrt__v1__request__pack(req, buf);
	if (!rpc_handle(&w.rules, buf, len, &out, &out_len)) {
		stop("no reply");
	}
	free(buf);
	reply = enrt__v1__reply__unpack(NULL, out_len, out);
	free(out);
	if (reply == NULL || reply->status != ENRT__V1__STATUS__OK) {
		fprintf(stderr, "fuzz_rpc: %s\n",
		    reply != NULL && reply->message ? reply->message : "?");
		stop("a set-up request was refused");
	}
	return reply;
}

static void
add_caller(Enrt__V1__Role role, const char *name, char *credential)
{
	Enrt__V1__AddCallerRequest op = ENRT__V1__ADD_CALLER_REQUEST__INIT;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__Reply *reply;

	op.name = (char *)name;
	op.has_role = true;
	op.role = role;
	req.op_case = ENRT__V1__REQUEST__OP_ADD_CALLER;
	req.add_caller = &op;
	reply = setup_call(&req);
	snprintf(credential, FORMAT_SECRET_LEN + 1, "%s",
	    reply->add_caller->credential);
	reply_free(reply);
}

/* An app anyone may issue in, whose tokens may never expire. */
static void
create_app(void)
{
	Enrt__V1__CreateAppRequest op = ENRT__V1__CREATE_APP_REQUEST__INIT;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__Reply *reply;

	op.name = "fuzzed app";
	op.has_policy = true;
	op.policy = ENRT__V1__POLICY__AUTHENTICATED_USERS;
	op.system_user = "svc-fuzz";
	op.has_unlimited_lifetime = op.unlimited_lifetime = true;
	req.op_case = ENRT__V1__REQUEST__OP_CREATE_APP;
	req.create_app = &op;
	reply = setup_call(&req);
	snprintf(w.app_id, sizeof(w.app_id), "%s", reply->app->id);
	reply_free(reply);
}

static void
issue_token(void)
{
	static char *scopes[] = {"read"};
	Enrt__V1__IssueRequest op = ENRT__V1__ISSUE_REQUEST__INIT;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__Reply *reply;

	op.app_id = w.app_id;
	op.has_kind = true;
	op.kind = ENRT__V1__TOKEN_KIND__SAT;
	op.scopes = scopes;
	op.n_scopes = 1;
	req.op_case = ENRT__V1__REQUEST__OP_ISSUE;
	req.issue = &op;
	reply = setup_call(&req);
	snprintf(w.token, sizeof(w.token), "%s", reply->issue->token);
	reply_free(reply);
	rules_digest(&w.rules, w.token, FORMAT_SECRET_LEN, w.token_digest);
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

static void
teardown(void)
{
	lastused_stop(w.lastused);
	store_close(w.store);
	nftw(w.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
make_dir(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(w.dir, sizeof(w.dir), "%s/enrt-fuzz-XXXXXX", base);
	if (mkdtemp(w.dir) == NULL) {
		stop("mkdtemp");
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t key[RULES_KEY_LEN] = {0x5a, 0x17, 0xc3};
	store_options options = {.map_size = MAP_SIZE};
	err e;

	if (sodium_init() < 0) {
		stop("sodium_init");
	}
	log_set_level(LOG_ERROR);
	make_dir();
	if (store_open(&w.store, w.dir, &options) != ENRT_OK ||
	    lastused_start(&w.lastused, w.store, FLUSH_MS) != ENRT_OK) {
		stop("store");
	}
	atexit(teardown);

	rules_init(&w.rules, w.store, w.lastused, key);
	if (rules_bootstrap(&w.rules, (int64_t)time(NULL),
	        w.credentials[MODE_ADMIN], &e) != ENRT_OK) {
		stop(e.message);
	}
	add_caller(
	    ENRT__V1__ROLE__PORTAL, "fuzz portal", w.credentials[MODE_PORTAL]);
	add_caller(ENRT__V1__ROLE__INTROSPECT, "fuzz introspect",
	    w.credentials[MODE_INTROSPECT]);
	create_app();
	issue_token();
	return 0;
}
