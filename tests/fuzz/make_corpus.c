/*
 * Writes the seed corpus of the fuzz harnesses: for fuzz_rpc, one valid
 * request of each operation, packed, behind the mode byte that says as
 * which caller it is sent (see fuzz_rpc.c), and a few raw ones; for
 * fuzz_format, tokens, credentials and header values behind their mode
 * byte (see fuzz_format.c).  Every secret is made from fixed bytes, so
 * that the output is the same on every run.
 *
 *     make_corpus DIR    writes DIR/fuzz_rpc/ and DIR/fuzz_format/
 *
 * Run once by hand; its output is kept in tests/fuzz/corpus/.  Runs on
 * the main thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "enrt.h"
#include "enrt.pb-c.h"
#include "format.h"

#define MODE_RAW        0
#define MODE_ADMIN      1
#define MODE_PORTAL     2
#define MODE_INTROSPECT 3
#define PATH_LEN        4096
#define FAR_FUTURE      INT64_C(4102444800) /* 2100-01-01T00:00:00Z */

static const char *root;

/* A token or credential made from 32 bytes of seed. */
static void
secret(char out[FORMAT_SECRET_LEN + 1], const char *prefix, uint8_t seed)
{
	uint8_t raw[FORMAT_RAW_LEN];

	for (size_t i = 0; i < sizeof(raw); i++) {
		raw[i] = (uint8_t)(seed + i * 37u);
	}
	format_secret(out, prefix, raw);
}

static void
write_seed(const char *harness, const char *name, uint8_t mode,
    const void *bytes, size_t len)
{
	char path[PATH_LEN];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, harness);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", root, harness, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(&mode, 1, 1, f) != 1 ||
	    (len > 0 && fwrite(bytes, 1, len, f) != len) || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* Packs req as version 1 and writes it as a fuzz_rpc seed. */
static void
rpc_seed(const char *name, uint8_t mode, Enrt__V1__Request *req)
{
	size_t len;
	uint8_t *buf;

	req->has_version = true;
	req->version = ENRT__V1__WIRE_VERSION__WIRE_VERSION_1;
	len = enrt__v1__request__get_packed_size(req);
	if ((buf = malloc(len == 0 ? 1 : len)) == NULL) {
		exit(1);
	}
	enrt__v1__request__pack(req, buf);
	write_seed("fuzz_rpc", name, mode, buf, len);
	free(buf);
}

/* ------------------------------------------------------------------ */
/* Tokens and apps                                                     */

static void
issue_seeds(void)
{
	static char *scopes[] = {"read", "write", "read"};
	Enrt__V1__IssueRequest op = ENRT__V1__ISSUE_REQUEST__INIT;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__Person alice = ENRT__V1__PERSON__INIT;

	op.app_id = "@app";
	op.has_kind = true;
	op.kind = ENRT__V1__TOKEN_KIND__PAT;
	op.has_expires_at = true;
	op.expires_at = FAR_FUTURE;
	op.scopes = scopes;
	op.n_scopes = 3;
	op.description = "laptop";
	op.owner = "alice";
	req.op_case = ENRT__V1__REQUEST__OP_ISSUE;
	req.issue = &op;
	rpc_seed("issue-pat-admin", MODE_ADMIN, &req);

	op.owner = NULL;
	alice.user_id = "alice";
	alice.display_name = "Alice";
	req.acting_user = &alice;
	rpc_seed("issue-pat-portal", MODE_PORTAL, &req);

	req.acting_user = NULL;
	op.kind = ENRT__V1__TOKEN_KIND__SAT;
	op.has_expires_at = false;
	op.description = NULL;
	rpc_seed("issue-sat-admin", MODE_ADMIN, &req);
}

static void
introspect_seeds(void)
{
	static char *tokens[] = {"@token", "enrt_short", "@token"};
	Enrt__V1__IntrospectRequest one = ENRT__V1__INTROSPECT_REQUEST__INIT;
	Enrt__V1__IntrospectBatchRequest batch =
	    ENRT__V1__INTROSPECT_BATCH_REQUEST__INIT;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	char stranger[FORMAT_SECRET_LEN + 1];

	one.token = "@token";
	req.op_case = ENRT__V1__REQUEST__OP_INTROSPECT;
	req.introspect = &one;
	rpc_seed("introspect-known", MODE_INTROSPECT, &req);

	secret(stranger, ENRT_TOKEN_PREFIX, 1);
	one.token = stranger;
	rpc_seed("introspect-unknown", MODE_INTROSPECT, &req);

	batch.tokens = tokens;
	batch.n_tokens = 3;
	req.op_case = ENRT__V1__REQUEST__OP_INTROSPECT_BATCH;
	req.introspect_batch = &batch;
	rpc_seed("introspect-batch", MODE_ADMIN, &req);
}

static void
revoke_seeds(void)
{
	Enrt__V1__RevokeRequest op = ENRT__V1__REVOKE_REQUEST__INIT;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	char stranger[FORMAT_SECRET_LEN + 1];

	req.op_case = ENRT__V1__REQUEST__OP_REVOKE;
	req.revoke = &op;
	op.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_ID;
	op.token_id = "tok_0000000000000000000001";
	rpc_seed("revoke-id", MODE_ADMIN, &req);

	secret(stranger, ENRT_TOKEN_PREFIX, 2);
	op.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_TOKEN_VALUE;
	op.token_value = stranger;
	rpc_seed("revoke-value", MODE_INTROSPECT, &req);

	op.target_case = ENRT__V1__REVOKE_REQUEST__TARGET_USER_ID;
	op.user_id = "bob";
	rpc_seed("revoke-user", MODE_ADMIN, &req);
}

static void
list_tokens_seeds(void)
{
	Enrt__V1__ListTokensRequest op = ENRT__V1__LIST_TOKENS_REQUEST__INIT;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	Enrt__V1__Person alice = ENRT__V1__PERSON__INIT;

	op.app_id = "@app";
	op.has_include_inactive = op.include_inactive = true;
	op.has_page_size = true;
	op.page_size = 2;
	req.op_case = ENRT__V1__REQUEST__OP_LIST_TOKENS;
	req.list_tokens = &op;
	rpc_seed("list-tokens-app", MODE_ADMIN, &req);

	op.app_id = NULL;
	op.has_page_size = false;
	alice.user_id = "alice";
	alice.has_admin = alice.admin = true;
	req.acting_user = &alice;
	rpc_seed("list-tokens-own", MODE_PORTAL, &req);
}

static void
app_seeds(void)
{
	static char *scopes[] = {"read", "write"};
	Enrt__V1__CreateAppRequest create = ENRT__V1__CREATE_APP_REQUEST__INIT;
	Enrt__V1__UpdateAppRequest update = ENRT__V1__UPDATE_APP_REQUEST__INIT;
	Enrt__V1__ScopeList any = ENRT__V1__SCOPE_LIST__INIT;
	Enrt__V1__GetAppRequest get = ENRT__V1__GET_APP_REQUEST__INIT;
	Enrt__V1__ListAppsRequest list = ENRT__V1__LIST_APPS_REQUEST__INIT;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;

	create.name = "seed app";
	create.has_policy = true;
	create.policy = ENRT__V1__POLICY__ADMINISTRATORS_ONLY;
	create.system_user = "svc-seed";
	create.allowed_scopes = scopes;
	create.n_allowed_scopes = 2;
	create.has_max_lifetime_days = true;
	create.max_lifetime_days = 30;
	req.op_case = ENRT__V1__REQUEST__OP_CREATE_APP;
	req.create_app = &create;
	rpc_seed("app-create", MODE_ADMIN, &req);

	update.id = "@app";
	update.name = "fuzzed app";
	update.allowed_scopes = &any;
	update.has_enabled = update.enabled = true;
	req.op_case = ENRT__V1__REQUEST__OP_UPDATE_APP;
	req.update_app = &update;
	rpc_seed("app-update", MODE_ADMIN, &req);

	get.id = "@app";
	req.op_case = ENRT__V1__REQUEST__OP_GET_APP;
	req.get_app = &get;
	rpc_seed("app-get", MODE_ADMIN, &req);

	list.has_eligible = list.eligible = true;
	req.op_case = ENRT__V1__REQUEST__OP_LIST_APPS;
	req.list_apps = &list;
	rpc_seed("app-list", MODE_ADMIN, &req);
}

/* ------------------------------------------------------------------ */
/* Callers, users, audit                                               */

static void
caller_seeds(void)
{
	static char *apps[] = {"@app"};
	Enrt__V1__AddCallerRequest add = ENRT__V1__ADD_CALLER_REQUEST__INIT;
	Enrt__V1__ListCallersRequest list =
	    ENRT__V1__LIST_CALLERS_REQUEST__INIT;
	Enrt__V1__RevokeCallerRequest revoke =
	    ENRT__V1__REVOKE_CALLER_REQUEST__INIT;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;

	add.name = "gateway";
	add.has_role = true;
	add.role = ENRT__V1__ROLE__INTROSPECT;
	add.app_ids = apps;
	add.n_app_ids = 1;
	req.op_case = ENRT__V1__REQUEST__OP_ADD_CALLER;
	req.add_caller = &add;
	rpc_seed("caller-add", MODE_ADMIN, &req);

	req.op_case = ENRT__V1__REQUEST__OP_LIST_CALLERS;
	req.list_callers = &list;
	rpc_seed("caller-list", MODE_ADMIN, &req);

	revoke.id = "cal_0000000000000000000001";
	req.op_case = ENRT__V1__REQUEST__OP_REVOKE_CALLER;
	req.revoke_caller = &revoke;
	rpc_seed("caller-revoke", MODE_ADMIN, &req);
}

static void
user_seeds(void)
{
	Enrt__V1__ListUsersRequest list = ENRT__V1__LIST_USERS_REQUEST__INIT;
	Enrt__V1__SetUserRequest set = ENRT__V1__SET_USER_REQUEST__INIT;
	Enrt__V1__DeleteUserRequest del = ENRT__V1__DELETE_USER_REQUEST__INIT;
	Enrt__V1__ListAuditRequest audit = ENRT__V1__LIST_AUDIT_REQUEST__INIT;
	Enrt__V1__BackupRequest backup = ENRT__V1__BACKUP_REQUEST__INIT;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;

	req.op_case = ENRT__V1__REQUEST__OP_LIST_USERS;
	req.list_users = &list;
	rpc_seed("user-list", MODE_ADMIN, &req);

	set.id = "alice";
	set.has_admin = set.admin = true;
	req.op_case = ENRT__V1__REQUEST__OP_SET_USER;
	req.set_user = &set;
	rpc_seed("user-set", MODE_ADMIN, &req);

	del.id = "carol";
	req.op_case = ENRT__V1__REQUEST__OP_DELETE_USER;
	req.delete_user = &del;
	rpc_seed("user-delete", MODE_ADMIN, &req);

	audit.has_since = true;
	audit.since = 0;
	req.op_case = ENRT__V1__REQUEST__OP_LIST_AUDIT;
	req.list_audit = &audit;
	rpc_seed("audit-list", MODE_ADMIN, &req);

	req.op_case = ENRT__V1__REQUEST__OP_BACKUP;
	req.backup = &backup;
	rpc_seed("backup", MODE_ADMIN, &req);
}

/* Requests sent as they are: a stranger, and an unknown version. */
static void
raw_seeds(void)
{
	Enrt__V1__ListAppsRequest list = ENRT__V1__LIST_APPS_REQUEST__INIT;
	Enrt__V1__Request req = ENRT__V1__REQUEST__INIT;
	char stranger[FORMAT_SECRET_LEN + 1];

	secret(stranger, ENRT_CREDENTIAL_PREFIX, 3);
	req.credential = stranger;
	req.op_case = ENRT__V1__REQUEST__OP_LIST_APPS;
	req.list_apps = &list;
	rpc_seed("raw-stranger", MODE_RAW, &req);

	req.credential = NULL;
	rpc_seed("raw-no-credential", MODE_RAW, &req);
	write_seed("fuzz_rpc", "raw-version-2", MODE_RAW, "\x08\x02", 2);
}

/* ------------------------------------------------------------------ */
/* Text forms                                                          */

static void
format_text_seed(const char *name, uint8_t mode, const char *text)
{
	write_seed("fuzz_format", name, mode, text, strlen(text));
}

static void
format_seeds(void)
{
	char token[FORMAT_SECRET_LEN + 1], credential[FORMAT_SECRET_LEN + 1];
	char bearer[FORMAT_SECRET_LEN + 16];
	uint8_t top[FORMAT_RAW_LEN];

	secret(token, ENRT_TOKEN_PREFIX, 4);
	secret(credential, ENRT_CREDENTIAL_PREFIX, 5);
	snprintf(bearer, sizeof(bearer), "Bearer %s", token);
	format_text_seed("token-api-key", 2, token);
	format_text_seed("credential", 0, credential);
	format_text_seed("token-bearer", 1, bearer);
	bearer[0] = 'b';
	format_text_seed("token-bearer-lower", 1, bearer);
	format_text_seed("token-both-headers", 3, token);

	memset(top, 0xff, sizeof(top));
	format_secret(token, ENRT_TOKEN_PREFIX, top);
	format_text_seed("token-largest", 2, token);
	memset(top, 0, sizeof(top));
	format_secret(token, ENRT_TOKEN_PREFIX, top);
	format_text_seed("token-zero", 2, token);
	format_text_seed("id", 0, "tok_0123456789ABCDEFabcdef");
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make_corpus DIR\n");
		return 2;
	}
	root = argv[1];
	if (mkdir(root, 0755) != 0 && errno != EEXIST) {
		perror(root);
		return 1;
	}
	issue_seeds();
	introspect_seeds();
	revoke_seeds();
	list_tokens_seeds();
	app_seeds();
	caller_seeds();
	user_seeds();
	raw_seeds();
	format_seeds();
	return 0;
}
