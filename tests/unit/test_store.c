/*
 * Tests of the store against a real LMDB environment, each in a fresh
 * temporary directory that is removed afterwards.  A few tests write to
 * the environment with LMDB directly, to plant what only another server
 * version or a damaged disk could leave behind.
 */
#define _XOPEN_SOURCE 700 /* nftw */

#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

#define MAX_SEEN     64
#define COPY_DIR_LEN 128

typedef struct fixture {
	char dir[64];
	store *s;
} fixture;

/* What a visitor saw, and after how many records it stops. */
typedef struct seen {
	char ids[MAX_SEEN][STORE_APP_ID_MAX + 1];
	size_t n;
	size_t page; /* 0: never stop */
	size_t on_page;
} seen;

static char *scopes_read[] = {"read", "write"};

/* ------------------------------------------------------------------ */
/* Fixture                                                             */

static int
remove_entry(
    const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Removes dir and all below it, also what a failed test left behind. */
static void
remove_dir(const char *dir)
{
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static int
setup_dir(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	fixture *f;

	if (setup_dir(state) != 0) {
		return -1;
	}
	f = *state;
	if (store_open(&f->s, f->dir, NULL) != ENRT_OK) {
		remove_dir(f->dir);
		free(f);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	store_close(f->s);
	remove_dir(f->dir);
	free(f);
	return 0;
}

static void
reopen(fixture *f, size_t map_size)
{
	store_options options = {.map_size = map_size};

	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(&f->s, f->dir, &options), ENRT_OK);
}

/* Writes one raw value into a named database, behind the store's back. */
static void
raw_put(const char *dir, const char *db, const char *key, const char *val)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {strlen(key), (void *)key};
	MDB_val v = {strlen(val), (void *)val};

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, MDB_CREATE, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* ------------------------------------------------------------------ */
/* Records                                                             */

static void
digest_of(int n, uint8_t digest[STORE_DIGEST_LEN])
{
	int i;

	for (i = 0; i < STORE_DIGEST_LEN; i++) {
		digest[i] = (uint8_t)(n * 31 + i * 7);
	}
	for (i = 0; i < 4; i++) {
		digest[i] = (uint8_t)((uint32_t)n >> (24 - 8 * i));
	}
}

static store_token
token_of(char *id, char *app, char *owner, int64_t created_at)
{
	store_token token = ENRT__V1__TOKEN_RECORD__INIT;

	token.id = id;
	token.has_kind = 1;
	token.kind = owner != NULL ? ENRT__V1__TOKEN_KIND__PAT
	                           : ENRT__V1__TOKEN_KIND__SAT;
	token.app_id = app;
	token.owner = owner;
	token.n_scopes = 2;
	token.scopes = scopes_read;
	token.has_created_at = 1;
	token.created_at = created_at;
	return token;
}

/* Adds one token in its own transaction and returns the commit status. */
static enrt_status
add_token(store *s, int n, char *id, char *app, char *owner, int64_t when)
{
	store_txn *t;
	uint8_t digest[STORE_DIGEST_LEN];
	store_token token = token_of(id, app, owner, when);

	digest_of(n, digest);
	assert_int_equal(store_begin_write(s, &t), ENRT_OK);
	store_token_add(t, digest, &token);
	return store_commit(t);
}

static store_app
app_of(char *id, char *name)
{
	store_app app = ENRT__V1__APP__INIT;

	app.id = id;
	app.name = name;
	app.has_policy = 1;
	app.policy = ENRT__V1__POLICY__AUTHENTICATED_USERS;
	app.has_enabled = 1;
	app.enabled = 1;
	return app;
}

static enrt_status
put_app(store *s, char *id, char *name)
{
	store_txn *t;
	store_app app = app_of(id, name);

	assert_int_equal(store_begin_write(s, &t), ENRT_OK);
	store_app_put(t, &app);
	return store_commit(t);
}

static bool
token_exists(store *s, const char *id)
{
	store_txn *t;
	store_token *token;
	enrt_status status;

	assert_int_equal(store_begin_read(s, &t), ENRT_OK);
	status = store_token_by_id(t, id, &token, NULL);
	store_free(token);
	store_abort(t);
	assert_true(status == ENRT_OK || status == ENRT_NOT_FOUND);
	return status == ENRT_OK;
}

/* ------------------------------------------------------------------ */
/* Visitors                                                            */

static store_visit
note(seen *v, const char *id)
{
	if (v->page != 0 && v->on_page == v->page) {
		return STORE_STOP;
	}
	assert_true(v->n < MAX_SEEN);
	snprintf(v->ids[v->n], sizeof(v->ids[v->n]), "%s", id);
	v->n++;
	v->on_page++;
	return STORE_CONTINUE;
}

static store_visit
see_token(void *arg, const store_token *token)
{
	return note(arg, token->id);
}

static store_visit
see_app(void *arg, const store_app *app)
{
	return note(arg, app->id);
}

static store_visit
see_user(void *arg, const store_user *user)
{
	return note(arg, user->id);
}

static store_visit
see_caller(void *arg, const store_caller *caller)
{
	return note(arg, caller->id);
}

/* Scans one page in its own read transaction. */
static enrt_status
scan_page(store *s, bool by_app, const char *key, const char *cursor, seen *v,
    char next[STORE_CURSOR_MAX])
{
	store_txn *t;
	enrt_status status;

	v->on_page = 0;
	assert_int_equal(store_begin_read(s, &t), ENRT_OK);
	status = store_token_scan(t, by_app, key, cursor, see_token, v, next);
	store_abort(t);
	return status;
}

static void
assert_seen(const seen *v, const char *const *ids, size_t n)
{
	size_t i;

	assert_int_equal(v->n, n);
	for (i = 0; i < n; i++) {
		assert_string_equal(v->ids[i], ids[i]);
	}
}

/* ------------------------------------------------------------------ */
/* Opening                                                             */

static void
reopened_store_keeps_its_data(void **state)
{
	fixture *f = *state;
	store_txn *t;
	store_token *token;

	assert_int_equal(
	    add_token(f->s, 1, "t1", "app1", "alice", 10), ENRT_OK);
	reopen(f, 0);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_token_by_id(t, "t1", &token, NULL), ENRT_OK);
	assert_string_equal(token->owner, "alice");
	store_free(token);
	assert_int_equal(store_commit(t), ENRT_OK);
}

static void
open_refuses_a_newer_schema_version(void **state)
{
	fixture *f = *state;
	store *s = (store *)1;

	store_close(f->s);
	f->s = NULL;
	raw_put(f->dir, "meta", "schema_version", "2");
	assert_int_equal(
	    store_open(&s, f->dir, NULL), ENRT_FAILED_PRECONDITION);
	assert_null(s);

	raw_put(f->dir, "meta", "schema_version", "1");
	assert_int_equal(store_open(&f->s, f->dir, NULL), ENRT_OK);
}

static void
open_refuses_an_unreadable_schema_version(void **state)
{
	fixture *f = *state;
	store *s = (store *)1;

	store_close(f->s);
	f->s = NULL;
	raw_put(f->dir, "meta", "schema_version", "1x");
	assert_int_equal(store_open(&s, f->dir, NULL), ENRT_INTERNAL);
	assert_null(s);
}

static void
open_fails_on_a_missing_directory(void **state)
{
	fixture *f = *state;
	char missing[128];
	store *s = (store *)1;

	snprintf(missing, sizeof(missing), "%s/missing", f->dir);
	assert_int_equal(store_open(&s, missing, NULL), ENRT_INTERNAL);
	assert_null(s);
}

static void
free_functions_accept_null(void **state)
{
	store_free(NULL);
	store_abort(NULL);
	store_close(NULL);
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */

static void
token_add_then_get_by_digest_and_by_id(void **state)
{
	fixture *f = *state;
	uint8_t digest[STORE_DIGEST_LEN], found[STORE_DIGEST_LEN];
	store_token *token;
	store_txn *t;

	assert_int_equal(
	    add_token(f->s, 1, "t1", "app1", "alice", 10), ENRT_OK);
	digest_of(1, digest);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_token_get(t, digest, &token), ENRT_OK);
	assert_string_equal(token->id, "t1");
	assert_string_equal(token->app_id, "app1");
	assert_int_equal(token->kind, ENRT__V1__TOKEN_KIND__PAT);
	assert_int_equal(token->n_scopes, 2);
	assert_string_equal(token->scopes[1], "write");
	assert_int_equal(token->created_at, 10);
	assert_false(token->has_expires_at);
	store_free(token);

	assert_int_equal(store_token_by_id(t, "t1", &token, found), ENRT_OK);
	assert_memory_equal(found, digest, STORE_DIGEST_LEN);
	store_free(token);
	assert_int_equal(store_commit(t), ENRT_OK);
}

static void
token_lookups_of_unknown_keys_are_not_found_and_not_sticky(void **state)
{
	fixture *f = *state;
	uint8_t digest[STORE_DIGEST_LEN];
	store_token *token = (store_token *)1;
	store_txn *t;

	digest_of(9, digest);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_token_get(t, digest, &token), ENRT_NOT_FOUND);
	assert_null(token);
	assert_int_equal(
	    store_token_by_id(t, "nope", &token, NULL), ENRT_NOT_FOUND);
	assert_int_equal(
	    store_token_by_id(t, "has space", &token, NULL), ENRT_NOT_FOUND);
	assert_int_equal(
	    store_token_by_id(t, NULL, &token, NULL), ENRT_NOT_FOUND);
	assert_int_equal(store_status(t), ENRT_OK);
	assert_string_equal(store_message(t), "");
	assert_int_equal(store_commit(t), ENRT_OK);
}

static void
token_update_rewrites_the_record(void **state)
{
	fixture *f = *state;
	uint8_t digest[STORE_DIGEST_LEN];
	store_token token = token_of("t1", "app1", "alice", 10);
	store_token *got;
	store_txn *t;

	assert_int_equal(
	    add_token(f->s, 1, "t1", "app1", "alice", 10), ENRT_OK);
	digest_of(1, digest);
	token.has_revoked_at = 1;
	token.revoked_at = 99;
	token.description = "laptop";

	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_token_update(t, digest, &token);
	assert_int_equal(store_commit(t), ENRT_OK);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_token_by_id(t, "t1", &got, NULL), ENRT_OK);
	assert_int_equal(got->revoked_at, 99);
	assert_string_equal(got->description, "laptop");
	store_free(got);
	store_abort(t);
}

static void
token_update_of_a_missing_token_is_not_found(void **state)
{
	fixture *f = *state;
	uint8_t digest[STORE_DIGEST_LEN];
	store_token token = token_of("t1", "app1", "alice", 10);
	store_txn *t;

	digest_of(1, digest);
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_token_update(t, digest, &token);
	assert_int_equal(store_status(t), ENRT_NOT_FOUND);
	assert_string_equal(store_message(t), "token: no such token");
	assert_int_equal(store_commit(t), ENRT_NOT_FOUND);
	assert_false(token_exists(f->s, "t1"));
}

static void
token_update_refuses_to_move_a_token(void **state)
{
	fixture *f = *state;
	uint8_t digest[STORE_DIGEST_LEN];
	store_token token = token_of("t1", "app1", "bob", 10);
	store_token *got;
	store_txn *t;

	assert_int_equal(
	    add_token(f->s, 1, "t1", "app1", "alice", 10), ENRT_OK);
	digest_of(1, digest);
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_token_update(t, digest, &token);
	assert_int_equal(store_commit(t), ENRT_INVALID_ARGUMENT);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_token_get(t, digest, &got), ENRT_OK);
	assert_string_equal(got->owner, "alice");
	store_free(got);
	store_abort(t);
}

static void
token_add_refuses_a_taken_digest_and_writes_nothing(void **state)
{
	fixture *f = *state;
	seen v = {0};
	char next[STORE_CURSOR_MAX];
	const char *only[] = {"t1"};

	assert_int_equal(
	    add_token(f->s, 1, "t1", "app1", "alice", 10), ENRT_OK);
	assert_int_equal(add_token(f->s, 1, "t2", "app1", "alice", 20),
	    ENRT_ALREADY_EXISTS);

	assert_false(token_exists(f->s, "t2"));
	assert_int_equal(
	    scan_page(f->s, false, "alice", NULL, &v, next), ENRT_OK);
	assert_seen(&v, only, 1);
	v.n = 0;
	assert_int_equal(
	    scan_page(f->s, true, "app1", NULL, &v, next), ENRT_OK);
	assert_seen(&v, only, 1);
}

static void
token_add_refuses_a_taken_id_and_names_it(void **state)
{
	fixture *f = *state;
	uint8_t digest[STORE_DIGEST_LEN];
	store_token token = token_of("t1", "app2", "bob", 20);
	store_token *got;
	store_txn *t;
	seen v = {0};
	char next[STORE_CURSOR_MAX];

	assert_int_equal(
	    add_token(f->s, 1, "t1", "app1", "alice", 10), ENRT_OK);
	digest_of(2, digest);
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_token_add(t, digest, &token);
	assert_string_equal(
	    store_message(t), "id: a token with id \"t1\" already exists");
	assert_int_equal(store_commit(t), ENRT_ALREADY_EXISTS);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_token_get(t, digest, &got), ENRT_NOT_FOUND);
	store_abort(t);
	assert_int_equal(
	    scan_page(f->s, false, "bob", NULL, &v, next), ENRT_OK);
	assert_int_equal(v.n, 0);
}

static void
token_add_refuses_records_it_cannot_key(void **state)
{
	fixture *f = *state;
	char long_id[STORE_TOKEN_ID_MAX + 2];
	char long_owner[STORE_KEY_MAX + 2];
	store_token bad[5];
	const char *field[] = {
	    "id:", "id:", "app_id:", "owner:", "created_at:"};
	uint8_t digest[STORE_DIGEST_LEN];
	store_txn *t;
	int i;

	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	memset(long_owner, 'o', sizeof(long_owner) - 1);
	long_owner[sizeof(long_owner) - 1] = '\0';
	bad[0] = token_of(long_id, "app1", "alice", 1);
	bad[1] = token_of("has space", "app1", "alice", 1);
	bad[2] = token_of("t1", NULL, "alice", 1);
	bad[3] = token_of("t1", "app1", long_owner, 1);
	bad[4] = token_of("t1", "app1", "alice", 1);
	bad[4].has_created_at = 0;

	digest_of(1, digest);
	for (i = 0; i < 5; i++) {
		assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
		store_token_add(t, digest, &bad[i]);
		assert_int_equal(store_status(t), ENRT_INVALID_ARGUMENT);
		assert_non_null(strstr(store_message(t), field[i]));
		assert_int_equal(store_commit(t), ENRT_INVALID_ARGUMENT);
	}
	assert_false(token_exists(f->s, "t1"));
}

static void
token_ids_of_the_longest_length_are_kept(void **state)
{
	fixture *f = *state;
	char id[STORE_TOKEN_ID_MAX + 1];

	memset(id, 'i', STORE_TOKEN_ID_MAX);
	id[STORE_TOKEN_ID_MAX] = '\0';
	assert_int_equal(add_token(f->s, 1, id, "app1", "alice", 1), ENRT_OK);
	assert_true(token_exists(f->s, id));
}

/* ------------------------------------------------------------------ */
/* Transactions                                                        */

static void
sticky_error_makes_later_steps_do_nothing(void **state)
{
	fixture *f = *state;
	uint8_t d1[STORE_DIGEST_LEN], d2[STORE_DIGEST_LEN];
	store_token first = token_of("t1", "app1", "alice", 10);
	store_token again = token_of("t1", "app1", "alice", 11);
	store_user user = ENRT__V1__USER_RECORD__INIT;
	store_app app = app_of("app1", "One");
	store_user *got;
	store_txn *t;
	int64_t when;

	digest_of(1, d1);
	digest_of(2, d2);
	user.id = "alice";
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_token_add(t, d1, &first);
	assert_int_equal(store_status(t), ENRT_OK);
	store_token_add(t, d2, &again);
	assert_int_equal(store_status(t), ENRT_ALREADY_EXISTS);

	store_user_put(t, &user);
	store_app_put(t, &app);
	store_last_used_put(t, "t1", 5);
	assert_int_equal(store_status(t), ENRT_ALREADY_EXISTS);
	assert_non_null(strstr(store_message(t), "already exists"));
	assert_int_equal(
	    store_user_get(t, "alice", &got), ENRT_ALREADY_EXISTS);
	assert_int_equal(
	    store_last_used_get(t, "t1", &when), ENRT_ALREADY_EXISTS);
	assert_int_equal(store_commit(t), ENRT_ALREADY_EXISTS);

	assert_false(token_exists(f->s, "t1"));
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_user_get(t, "alice", &got), ENRT_NOT_FOUND);
	store_abort(t);
}

static void
read_transaction_keeps_its_snapshot(void **state)
{
	fixture *f = *state;
	store_txn *r;
	store_token *token;

	assert_int_equal(store_begin_read(f->s, &r), ENRT_OK);
	assert_int_equal(
	    add_token(f->s, 1, "t1", "app1", "alice", 10), ENRT_OK);
	assert_int_equal(
	    store_token_by_id(r, "t1", &token, NULL), ENRT_NOT_FOUND);
	store_abort(r);
	assert_true(token_exists(f->s, "t1"));
}

/*
 * An ended read transaction is kept for reuse: the next one must still
 * start from the latest commit, with no error of the last one left.
 */
static void
read_transaction_begun_after_a_commit_sees_it(void **state)
{
	fixture *f = *state;
	store_txn *r;
	store_token *token = NULL;
	char next[STORE_CURSOR_MAX];
	seen v = {0};

	assert_int_equal(store_begin_read(f->s, &r), ENRT_OK);
	assert_int_equal(
	    store_token_by_id(r, "t1", &token, NULL), ENRT_NOT_FOUND);
	assert_int_equal(
	    store_token_scan(r, false, "alice", "t1", see_token, &v, next),
	    ENRT_INVALID_ARGUMENT);
	assert_int_equal(store_commit(r), ENRT_INVALID_ARGUMENT);
	assert_int_equal(
	    add_token(f->s, 1, "t1", "app1", "alice", 10), ENRT_OK);

	assert_int_equal(store_begin_read(f->s, &r), ENRT_OK);
	assert_int_equal(store_status(r), ENRT_OK);
	assert_int_equal(store_token_by_id(r, "t1", &token, NULL), ENRT_OK);
	assert_string_equal(token->id, "t1");
	store_free(token);
	store_abort(r);
}

/*
 * More read transactions open at once than the store keeps for reuse,
 * each on its own snapshot, all ended before the store closes (the
 * sanitizer build would report any the close left behind).
 */
static void
many_read_transactions_at_once_each_keep_their_snapshot(void **state)
{
	fixture *f = *state;
	store_txn *r[40];
	store_token *token;
	char id[8];

	for (int i = 0; i < 40; i++) {
		assert_int_equal(store_begin_read(f->s, &r[i]), ENRT_OK);
		snprintf(id, sizeof(id), "t%d", i);
		assert_int_equal(
		    add_token(f->s, i + 1, id, "app1", "alice", 10), ENRT_OK);
	}
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "t%d", i);
		assert_int_equal(
		    store_token_by_id(r[i], id, &token, NULL), ENRT_NOT_FOUND);
		if (i > 0) {
			assert_int_equal(
			    store_token_by_id(r[i], "t0", &token, NULL),
			    ENRT_OK);
			store_free(token);
		}
		store_abort(r[i]);
	}
	reopen(f, 0);
	assert_true(token_exists(f->s, "t39"));
}

/* ------------------------------------------------------------------ */
/* Scans                                                               */

static void
owner_scan_visits_in_creation_order(void **state)
{
	fixture *f = *state;
	seen v = {0};
	char next[STORE_CURSOR_MAX];
	const char *order[] = {"neg", "zero", "b10", "c10", "late"};

	assert_int_equal(
	    add_token(f->s, 1, "late", "a1", "alice", 300), ENRT_OK);
	assert_int_equal(
	    add_token(f->s, 2, "c10", "a2", "alice", 10), ENRT_OK);
	assert_int_equal(
	    add_token(f->s, 3, "neg", "a1", "alice", -5), ENRT_OK);
	assert_int_equal(
	    add_token(f->s, 4, "b10", "a1", "alice", 10), ENRT_OK);
	assert_int_equal(
	    add_token(f->s, 5, "zero", "a1", "alice", 0), ENRT_OK);
	assert_int_equal(add_token(f->s, 6, "bobs", "a1", "bob", 1), ENRT_OK);
	assert_int_equal(add_token(f->s, 7, "ali", "a1", "alic", 1), ENRT_OK);
	assert_int_equal(add_token(f->s, 8, "sat", "a1", NULL, 1), ENRT_OK);

	assert_int_equal(
	    scan_page(f->s, false, "alice", NULL, &v, next), ENRT_OK);
	assert_seen(&v, order, 5);
	assert_string_equal(next, "");
}

static void
app_scan_includes_service_tokens(void **state)
{
	fixture *f = *state;
	seen v = {0};
	char next[STORE_CURSOR_MAX];
	const char *order[] = {"p1", "s1", "p2"};

	assert_int_equal(add_token(f->s, 1, "p1", "a1", "alice", 1), ENRT_OK);
	assert_int_equal(add_token(f->s, 2, "s1", "a1", NULL, 2), ENRT_OK);
	assert_int_equal(add_token(f->s, 3, "x1", "a10", "alice", 2), ENRT_OK);
	assert_int_equal(add_token(f->s, 4, "p2", "a1", "bob", 3), ENRT_OK);

	assert_int_equal(scan_page(f->s, true, "a1", NULL, &v, next), ENRT_OK);
	assert_seen(&v, order, 3);
}

static void
scan_of_an_unknown_key_visits_nothing(void **state)
{
	fixture *f = *state;
	seen v = {0};
	char next[STORE_CURSOR_MAX] = "junk";

	assert_int_equal(add_token(f->s, 1, "t1", "a1", "alice", 1), ENRT_OK);
	assert_int_equal(
	    scan_page(f->s, false, "nobody", NULL, &v, next), ENRT_OK);
	assert_int_equal(v.n, 0);
	assert_string_equal(next, "");
	assert_int_equal(scan_page(f->s, false, "", NULL, &v, next), ENRT_OK);
	assert_int_equal(v.n, 0);
}

static void
scan_pages_through_every_token_once(void **state)
{
	fixture *f = *state;
	seen v = {.page = 2};
	char cursor[STORE_CURSOR_MAX], next[STORE_CURSOR_MAX];
	const char *all[] = {"t1", "t2", "t3", "t4", "t5"};
	int i;

	for (i = 0; i < 5; i++) {
		assert_int_equal(
		    add_token(f->s, i, (char *)all[i], "a1", "alice", 100 + i),
		    ENRT_OK);
	}

	assert_int_equal(scan_page(f->s, true, "a1", NULL, &v, next), ENRT_OK);
	assert_int_equal(v.n, 2);
	assert_string_equal(next, "8000000000000066.t3");
	strcpy(cursor, next);
	assert_int_equal(
	    scan_page(f->s, true, "a1", cursor, &v, next), ENRT_OK);
	assert_int_equal(v.n, 4);
	strcpy(cursor, next);
	assert_int_equal(
	    scan_page(f->s, true, "a1", cursor, &v, next), ENRT_OK);
	assert_string_equal(next, "");
	assert_seen(&v, all, 5);
}

static void
scan_sees_tokens_added_after_the_cursor_between_pages(void **state)
{
	fixture *f = *state;
	seen v = {.page = 2};
	char cursor[STORE_CURSOR_MAX], next[STORE_CURSOR_MAX];
	const char *expect[] = {"t1", "t2", "t3", "t4", "t5", "t6", "t7"};
	uint8_t digest[STORE_DIGEST_LEN];
	store_token revoked = token_of("t3", "a1", "alice", 30);
	store_txn *t;

	assert_int_equal(add_token(f->s, 1, "t1", "a1", "alice", 10), ENRT_OK);
	assert_int_equal(add_token(f->s, 2, "t2", "a1", "alice", 20), ENRT_OK);
	assert_int_equal(add_token(f->s, 3, "t3", "a1", "alice", 30), ENRT_OK);
	assert_int_equal(add_token(f->s, 4, "t4", "a1", "alice", 40), ENRT_OK);
	assert_int_equal(
	    scan_page(f->s, false, "alice", NULL, &v, next), ENRT_OK);
	strcpy(cursor, next);

	/* Between pages: one older token, two newer, a revocation. */
	assert_int_equal(add_token(f->s, 5, "t0", "a1", "alice", 5), ENRT_OK);
	assert_int_equal(add_token(f->s, 6, "t5", "a1", "alice", 50), ENRT_OK);
	assert_int_equal(add_token(f->s, 7, "t6", "a1", "alice", 60), ENRT_OK);
	digest_of(3, digest);
	revoked.has_revoked_at = 1;
	revoked.revoked_at = 45;
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_token_update(t, digest, &revoked);
	assert_int_equal(store_commit(t), ENRT_OK);

	while (next[0] != '\0') {
		strcpy(cursor, next);
		assert_int_equal(
		    scan_page(f->s, false, "alice", cursor, &v, next),
		    ENRT_OK);
		if (v.n == 4) {
			assert_int_equal(
			    add_token(f->s, 8, "t7", "a1", "alice", 70),
			    ENRT_OK);
		}
	}
	assert_seen(&v, expect, 7);
}

static void
scan_refuses_a_cursor_it_did_not_make(void **state)
{
	fixture *f = *state;
	char too_long[STORE_CURSOR_MAX + 1];
	const char *bad[] = {"", "t1", "0000000000000010",
	    "000000000000001.t1", "0000000000000010.", "0000000000000010t1",
	    "000000000000001G.t1", "00000000000000A0.t1",
	    "0000000000000010.t 1", "0000000000000010.t\001", too_long};
	seen v = {0};
	char next[STORE_CURSOR_MAX];
	store_txn *t;
	size_t i;

	memset(too_long, '0', sizeof(too_long) - 1);
	too_long[16] = '.';
	too_long[sizeof(too_long) - 1] = '\0';
	assert_int_equal(add_token(f->s, 1, "t1", "a1", "alice", 1), ENRT_OK);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
		assert_int_equal(store_token_scan(t, false, "alice", bad[i],
		                     see_token, &v, next),
		    ENRT_INVALID_ARGUMENT);
		assert_non_null(strstr(store_message(t), "cursor:"));
		store_abort(t);
	}
	assert_int_equal(v.n, 0);
}

/* ------------------------------------------------------------------ */
/* Apps                                                                */

static void
app_put_then_get(void **state)
{
	fixture *f = *state;
	store_app *app;
	store_txn *t;

	assert_int_equal(put_app(f->s, "app1", "Payroll"), ENRT_OK);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_app_get(t, "app1", &app), ENRT_OK);
	assert_string_equal(app->name, "Payroll");
	assert_int_equal(app->policy, ENRT__V1__POLICY__AUTHENTICATED_USERS);
	store_free(app);
	assert_int_equal(store_app_get(t, "app2", &app), ENRT_NOT_FOUND);
	assert_null(app);
	store_abort(t);
}

static void
app_rename_frees_the_old_name(void **state)
{
	fixture *f = *state;
	store_app *app;
	store_txn *t;

	assert_int_equal(put_app(f->s, "app1", "Alpha"), ENRT_OK);
	assert_int_equal(put_app(f->s, "app1", "Alpha"), ENRT_OK);
	assert_int_equal(put_app(f->s, "app1", "Beta"), ENRT_OK);
	assert_int_equal(put_app(f->s, "app2", "Alpha"), ENRT_OK);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_app_get(t, "app1", &app), ENRT_OK);
	assert_string_equal(app->name, "Beta");
	store_free(app);
	store_abort(t);
}

static void
app_put_refuses_a_name_in_use(void **state)
{
	fixture *f = *state;
	store_app clash = app_of("app2", "Beta");
	store_app *app;
	store_txn *t;

	assert_int_equal(put_app(f->s, "app1", "Beta"), ENRT_OK);
	assert_int_equal(put_app(f->s, "app2", "Gamma"), ENRT_OK);

	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_app_put(t, &clash);
	assert_int_equal(store_status(t), ENRT_ALREADY_EXISTS);
	assert_string_equal(
	    store_message(t), "name: an app named \"Beta\" already exists");
	assert_int_equal(store_commit(t), ENRT_ALREADY_EXISTS);

	/* The refused rename left app2 with its name, and Gamma taken. */
	assert_int_equal(put_app(f->s, "app3", "Gamma"), ENRT_ALREADY_EXISTS);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_app_get(t, "app2", &app), ENRT_OK);
	assert_string_equal(app->name, "Gamma");
	store_free(app);
	store_abort(t);
}

static void
app_put_refuses_records_it_cannot_key(void **state)
{
	fixture *f = *state;

	assert_int_equal(put_app(f->s, "app 1", "One"), ENRT_INVALID_ARGUMENT);
	assert_int_equal(put_app(f->s, NULL, "One"), ENRT_INVALID_ARGUMENT);
	assert_int_equal(put_app(f->s, "app1", ""), ENRT_INVALID_ARGUMENT);
	assert_int_equal(put_app(f->s, "app1", NULL), ENRT_INVALID_ARGUMENT);
}

static enrt_status
scan_apps(store *s, const char *cursor, seen *v, char next[STORE_CURSOR_MAX])
{
	store_txn *t;
	enrt_status status;

	v->on_page = 0;
	assert_int_equal(store_begin_read(s, &t), ENRT_OK);
	status = store_app_scan(t, cursor, see_app, v, next);
	store_abort(t);
	return status;
}

static void
app_scan_pages_in_id_order(void **state)
{
	fixture *f = *state;
	seen v = {.page = 2};
	char cursor[STORE_CURSOR_MAX], next[STORE_CURSOR_MAX];
	const char *order[] = {"a", "b", "c", "d", "e"};

	assert_int_equal(put_app(f->s, "c", "C"), ENRT_OK);
	assert_int_equal(put_app(f->s, "a", "A"), ENRT_OK);
	assert_int_equal(put_app(f->s, "e", "E"), ENRT_OK);
	assert_int_equal(put_app(f->s, "b", "B"), ENRT_OK);
	assert_int_equal(put_app(f->s, "d", "D"), ENRT_OK);

	assert_int_equal(scan_apps(f->s, NULL, &v, next), ENRT_OK);
	assert_string_equal(next, "c");
	while (next[0] != '\0') {
		strcpy(cursor, next);
		assert_int_equal(scan_apps(f->s, cursor, &v, next), ENRT_OK);
	}
	assert_seen(&v, order, 5);
}

static void
app_scan_refuses_a_cursor_it_did_not_make(void **state)
{
	fixture *f = *state;
	char too_long[STORE_APP_ID_MAX + 2];
	const char *bad[] = {"", "a b", "a\001", too_long};
	seen v = {0};
	char next[STORE_CURSOR_MAX];
	size_t i;

	memset(too_long, 'a', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	assert_int_equal(put_app(f->s, "a", "A"), ENRT_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    scan_apps(f->s, bad[i], &v, next), ENRT_INVALID_ARGUMENT);
	}
	assert_int_equal(v.n, 0);
}

/* ------------------------------------------------------------------ */
/* Users, callers, last-used times                                     */

static void
user_put_then_get_and_update(void **state)
{
	fixture *f = *state;
	store_user user = ENRT__V1__USER_RECORD__INIT;
	store_user *got;
	store_txn *t;

	user.id = "u1";
	user.display_name = "Ann";
	user.has_admin = 1;
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_user_put(t, &user);
	user.display_name = "Ann B.";
	user.admin = 1;
	store_user_put(t, &user);
	assert_int_equal(store_commit(t), ENRT_OK);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_user_get(t, "u1", &got), ENRT_OK);
	assert_string_equal(got->display_name, "Ann B.");
	assert_true(got->admin);
	store_free(got);
	assert_int_equal(store_user_get(t, "u2", &got), ENRT_NOT_FOUND);
	store_abort(t);
}

static void
user_put_refuses_an_empty_id(void **state)
{
	fixture *f = *state;
	store_user user = ENRT__V1__USER_RECORD__INIT;
	store_txn *t;

	user.id = "";
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_user_put(t, &user);
	assert_string_equal(store_message(t), "id: 1 to 256 bytes");
	assert_int_equal(store_commit(t), ENRT_INVALID_ARGUMENT);
}

static enrt_status
put_user(store *s, char *id)
{
	store_user user = ENRT__V1__USER_RECORD__INIT;
	store_txn *t;

	user.id = id;
	user.display_name = "someone";
	assert_int_equal(store_begin_write(s, &t), ENRT_OK);
	store_user_put(t, &user);
	return store_commit(t);
}

static bool
user_exists(store *s, const char *id)
{
	store_txn *t;
	store_user *user;
	enrt_status status;

	assert_int_equal(store_begin_read(s, &t), ENRT_OK);
	status = store_user_get(t, id, &user);
	store_free(user);
	store_abort(t);
	assert_true(status == ENRT_OK || status == ENRT_NOT_FOUND);
	return status == ENRT_OK;
}

static void
user_delete_removes_only_that_user(void **state)
{
	fixture *f = *state;
	store_txn *t;

	assert_int_equal(put_user(f->s, "u1"), ENRT_OK);
	assert_int_equal(put_user(f->s, "u2"), ENRT_OK);
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_user_delete(t, "u1");
	assert_int_equal(store_commit(t), ENRT_OK);

	assert_false(user_exists(f->s, "u1"));
	assert_true(user_exists(f->s, "u2"));
}

static void
user_delete_of_a_missing_user_is_a_sticky_not_found(void **state)
{
	fixture *f = *state;
	const char *missing[] = {"nobody", "", NULL};
	store_txn *t;
	size_t i;

	assert_int_equal(put_user(f->s, "u1"), ENRT_OK);
	for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
		store_user_delete(t, missing[i]);
		assert_int_equal(store_status(t), ENRT_NOT_FOUND);
		assert_string_equal(store_message(t), "id: no such user");
		store_user_delete(t, "u1");
		assert_int_equal(store_commit(t), ENRT_NOT_FOUND);
	}
	assert_true(user_exists(f->s, "u1"));
}

static enrt_status
scan_users(store *s, const char *cursor, seen *v, char next[STORE_CURSOR_MAX])
{
	store_txn *t;
	enrt_status status;

	v->on_page = 0;
	assert_int_equal(store_begin_read(s, &t), ENRT_OK);
	status = store_user_scan(t, cursor, see_user, v, next);
	store_abort(t);
	return status;
}

static void
user_scan_pages_in_id_order(void **state)
{
	fixture *f = *state;
	seen v = {.page = 2};
	char cursor[STORE_CURSOR_MAX], next[STORE_CURSOR_MAX];
	const char *order[] = {"ann", "bo", "bob", "cy", "di"};

	assert_int_equal(put_user(f->s, "cy"), ENRT_OK);
	assert_int_equal(put_user(f->s, "bob"), ENRT_OK);
	assert_int_equal(put_user(f->s, "di"), ENRT_OK);
	assert_int_equal(put_user(f->s, "ann"), ENRT_OK);
	assert_int_equal(put_user(f->s, "bo"), ENRT_OK);

	assert_int_equal(scan_users(f->s, NULL, &v, next), ENRT_OK);
	assert_string_equal(next, "bob");
	while (next[0] != '\0') {
		strcpy(cursor, next);
		assert_int_equal(scan_users(f->s, cursor, &v, next), ENRT_OK);
	}
	assert_seen(&v, order, 5);
}

static void
user_scan_resumes_at_an_id_of_the_longest_length(void **state)
{
	fixture *f = *state;
	char id[STORE_KEY_MAX + 1];
	char next[STORE_CURSOR_MAX];
	seen v = {.page = 1};
	const char *order[] = {"a", "z"};

	memset(id, 'm', STORE_KEY_MAX);
	id[STORE_KEY_MAX] = '\0';
	assert_int_equal(put_user(f->s, "z"), ENRT_OK);
	assert_int_equal(put_user(f->s, id), ENRT_OK);
	assert_int_equal(put_user(f->s, "a"), ENRT_OK);

	assert_int_equal(scan_users(f->s, NULL, &v, next), ENRT_OK);
	assert_string_equal(next, id);
	assert_int_equal(scan_users(f->s, id, &v, next), ENRT_OK);
	assert_string_equal(next, "z");
	v.n = 1; /* the long id, cut short in v, is checked through next */
	assert_int_equal(scan_users(f->s, "z", &v, next), ENRT_OK);
	assert_string_equal(next, "");
	assert_seen(&v, order, 2);
}

static void
user_scan_refuses_a_cursor_it_did_not_make(void **state)
{
	fixture *f = *state;
	char too_long[STORE_KEY_MAX + 2];
	const char *bad[] = {"", too_long};
	seen v = {0};
	char next[STORE_CURSOR_MAX];
	store_txn *t;
	size_t i;

	memset(too_long, 'a', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	assert_int_equal(put_user(f->s, "a"), ENRT_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
		assert_int_equal(
		    store_user_scan(t, bad[i], see_user, &v, next),
		    ENRT_INVALID_ARGUMENT);
		assert_string_equal(
		    store_message(t), "cursor: not a cursor this server made");
		store_abort(t);
	}
	assert_int_equal(v.n, 0);
}

static void
callers_are_added_found_and_counted(void **state)
{
	fixture *f = *state;
	store_caller caller = ENRT__V1__CALLER_RECORD__INIT;
	uint8_t d1[STORE_DIGEST_LEN], d2[STORE_DIGEST_LEN];
	store_caller *got;
	store_txn *t;
	size_t count = 99;

	digest_of(1, d1);
	digest_of(2, d2);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_caller_count(t, &count), ENRT_OK);
	assert_int_equal(count, 0);
	store_abort(t);

	caller.id = "c1";
	caller.has_role = 1;
	caller.role = ENRT__V1__ROLE__ADMIN;
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_caller_add(t, d1, &caller);
	caller.id = "c2";
	caller.has_revoked_at = 1;
	caller.revoked_at = 7;
	store_caller_add(t, d2, &caller);
	assert_int_equal(store_commit(t), ENRT_OK);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_caller_count(t, &count), ENRT_OK);
	assert_int_equal(count, 2);
	assert_int_equal(store_caller_get(t, d1, &got), ENRT_OK);
	assert_string_equal(got->id, "c1");
	assert_int_equal(got->role, ENRT__V1__ROLE__ADMIN);
	store_free(got);
	store_abort(t);
}

static void
caller_add_refuses_a_taken_credential(void **state)
{
	fixture *f = *state;
	store_caller caller = ENRT__V1__CALLER_RECORD__INIT;
	uint8_t digest[STORE_DIGEST_LEN];
	store_caller *got;
	store_txn *t;

	digest_of(1, digest);
	caller.id = "c1";
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_caller_add(t, digest, &caller);
	assert_int_equal(store_commit(t), ENRT_OK);

	caller.id = "c2";
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_caller_add(t, digest, &caller);
	assert_int_equal(store_commit(t), ENRT_ALREADY_EXISTS);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_caller_get(t, digest, &got), ENRT_OK);
	assert_string_equal(got->id, "c1");
	store_free(got);
	assert_int_equal(
	    store_caller_by_id(t, "c2", &got, NULL), ENRT_NOT_FOUND);
	store_abort(t);
}

/* Adds one caller in its own transaction and returns the commit status. */
static enrt_status
add_caller(store *s, int n, char *id)
{
	store_caller caller = ENRT__V1__CALLER_RECORD__INIT;
	uint8_t digest[STORE_DIGEST_LEN];
	store_txn *t;

	digest_of(n, digest);
	caller.id = id;
	caller.name = "svc";
	caller.has_role = 1;
	caller.role = ENRT__V1__ROLE__INTROSPECT;
	assert_int_equal(store_begin_write(s, &t), ENRT_OK);
	store_caller_add(t, digest, &caller);
	return store_commit(t);
}

static size_t
caller_count(store *s)
{
	store_txn *t;
	size_t count = 99;

	assert_int_equal(store_begin_read(s, &t), ENRT_OK);
	assert_int_equal(store_caller_count(t, &count), ENRT_OK);
	store_abort(t);
	return count;
}

static void
caller_add_keeps_an_index_by_id(void **state)
{
	fixture *f = *state;
	uint8_t digest[STORE_DIGEST_LEN], found[STORE_DIGEST_LEN];
	store_caller *got;
	store_txn *t;

	assert_int_equal(add_caller(f->s, 1, "c1"), ENRT_OK);
	assert_int_equal(add_caller(f->s, 2, "c2"), ENRT_OK);
	digest_of(2, digest);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_caller_by_id(t, "c2", &got, found), ENRT_OK);
	assert_string_equal(got->id, "c2");
	assert_string_equal(got->name, "svc");
	assert_int_equal(got->role, ENRT__V1__ROLE__INTROSPECT);
	assert_memory_equal(found, digest, STORE_DIGEST_LEN);
	store_free(got);
	assert_int_equal(store_caller_by_id(t, "c1", &got, NULL), ENRT_OK);
	assert_string_equal(got->id, "c1");
	store_free(got);
	assert_int_equal(store_commit(t), ENRT_OK);
}

static void
caller_lookups_of_unknown_ids_are_not_found_and_not_sticky(void **state)
{
	fixture *f = *state;
	const char *unknown[] = {"c2", "c 1", "", NULL};
	store_caller *got = (store_caller *)1;
	store_txn *t;
	size_t i;

	assert_int_equal(add_caller(f->s, 1, "c1"), ENRT_OK);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		assert_int_equal(store_caller_by_id(t, unknown[i], &got, NULL),
		    ENRT_NOT_FOUND);
		assert_null(got);
	}
	assert_int_equal(store_commit(t), ENRT_OK);
}

static void
caller_add_refuses_a_taken_id_and_writes_nothing(void **state)
{
	fixture *f = *state;
	store_caller caller = ENRT__V1__CALLER_RECORD__INIT;
	uint8_t d1[STORE_DIGEST_LEN], d2[STORE_DIGEST_LEN];
	uint8_t found[STORE_DIGEST_LEN];
	store_caller *got;
	store_txn *t;

	assert_int_equal(add_caller(f->s, 1, "c1"), ENRT_OK);
	digest_of(1, d1);
	digest_of(2, d2);
	caller.id = "c1";
	caller.name = "other";
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_caller_add(t, d2, &caller);
	assert_int_equal(store_status(t), ENRT_ALREADY_EXISTS);
	assert_string_equal(
	    store_message(t), "id: a caller with id \"c1\" already exists");
	assert_int_equal(store_commit(t), ENRT_ALREADY_EXISTS);

	assert_int_equal(caller_count(f->s), 1);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_caller_get(t, d2, &got), ENRT_NOT_FOUND);
	assert_int_equal(store_caller_by_id(t, "c1", &got, found), ENRT_OK);
	assert_string_equal(got->name, "svc");
	assert_memory_equal(found, d1, STORE_DIGEST_LEN);
	store_free(got);
	store_abort(t);
}

static void
caller_add_refuses_ids_it_cannot_key(void **state)
{
	fixture *f = *state;
	char too_long[STORE_CALLER_ID_MAX + 2];
	char *bad[] = {NULL, "", "c 1", "c\001", too_long};
	char message[80];
	size_t i;

	memset(too_long, 'c', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	snprintf(message, sizeof(message),
	    "id: 1 to %d printable ASCII characters, no spaces",
	    STORE_CALLER_ID_MAX);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		store_caller caller = ENRT__V1__CALLER_RECORD__INIT;
		uint8_t digest[STORE_DIGEST_LEN];
		store_txn *t;

		caller.id = bad[i];
		digest_of(1, digest);
		assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
		store_caller_add(t, digest, &caller);
		assert_string_equal(store_message(t), message);
		assert_int_equal(store_commit(t), ENRT_INVALID_ARGUMENT);
	}
	assert_int_equal(caller_count(f->s), 0);
}

static enrt_status
update_caller(store *s, int n, store_caller *caller)
{
	uint8_t digest[STORE_DIGEST_LEN];
	store_txn *t;

	digest_of(n, digest);
	assert_int_equal(store_begin_write(s, &t), ENRT_OK);
	store_caller_update(t, digest, caller);
	return store_commit(t);
}

static void
caller_update_rewrites_the_record(void **state)
{
	fixture *f = *state;
	store_caller caller = ENRT__V1__CALLER_RECORD__INIT;
	store_caller *got;
	store_txn *t;

	assert_int_equal(add_caller(f->s, 1, "c1"), ENRT_OK);
	caller.id = "c1";
	caller.name = "svc";
	caller.has_revoked_at = 1;
	caller.revoked_at = 77;
	assert_int_equal(update_caller(f->s, 1, &caller), ENRT_OK);

	assert_int_equal(caller_count(f->s), 1);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_caller_by_id(t, "c1", &got, NULL), ENRT_OK);
	assert_true(got->has_revoked_at);
	assert_int_equal(got->revoked_at, 77);
	store_free(got);
	store_abort(t);
}

static void
caller_update_refuses_to_change_the_id(void **state)
{
	fixture *f = *state;
	store_caller caller = ENRT__V1__CALLER_RECORD__INIT;
	store_caller *got;
	store_txn *t;

	assert_int_equal(add_caller(f->s, 1, "c1"), ENRT_OK);
	caller.id = "c9";
	caller.name = "renamed";
	assert_int_equal(
	    update_caller(f->s, 1, &caller), ENRT_INVALID_ARGUMENT);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(
	    store_caller_by_id(t, "c9", &got, NULL), ENRT_NOT_FOUND);
	assert_int_equal(store_caller_by_id(t, "c1", &got, NULL), ENRT_OK);
	assert_string_equal(got->name, "svc");
	store_free(got);
	store_abort(t);
}

static void
caller_update_of_a_missing_caller_is_not_found(void **state)
{
	fixture *f = *state;
	store_caller caller = ENRT__V1__CALLER_RECORD__INIT;
	uint8_t digest[STORE_DIGEST_LEN];
	store_txn *t;

	caller.id = "c1";
	digest_of(1, digest);
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_caller_update(t, digest, &caller);
	assert_int_equal(store_status(t), ENRT_NOT_FOUND);
	assert_string_equal(store_message(t), "caller: no such caller");
	assert_int_equal(store_commit(t), ENRT_NOT_FOUND);
	assert_int_equal(caller_count(f->s), 0);
}

static enrt_status
scan_callers(
    store *s, const char *cursor, seen *v, char next[STORE_CURSOR_MAX])
{
	store_txn *t;
	enrt_status status;

	v->on_page = 0;
	assert_int_equal(store_begin_read(s, &t), ENRT_OK);
	status = store_caller_scan(t, cursor, see_caller, v, next);
	store_abort(t);
	return status;
}

static void
caller_scan_pages_in_id_order(void **state)
{
	fixture *f = *state;
	seen v = {.page = 2};
	char cursor[STORE_CURSOR_MAX], next[STORE_CURSOR_MAX];
	const char *order[] = {"c1", "c2", "c3", "c4", "c5"};
	int i;

	/* Credentials in the reverse order of ids, so that ids lead. */
	for (i = 0; i < 5; i++) {
		assert_int_equal(
		    add_caller(f->s, 5 - i, (char *)order[i]), ENRT_OK);
	}

	assert_int_equal(scan_callers(f->s, NULL, &v, next), ENRT_OK);
	assert_string_equal(next, "c3");
	while (next[0] != '\0') {
		strcpy(cursor, next);
		assert_int_equal(
		    scan_callers(f->s, cursor, &v, next), ENRT_OK);
	}
	assert_seen(&v, order, 5);
}

static void
caller_scan_refuses_a_cursor_it_did_not_make(void **state)
{
	fixture *f = *state;
	char too_long[STORE_CALLER_ID_MAX + 2];
	const char *bad[] = {"", "c 1", "c\001", too_long};
	seen v = {0};
	char next[STORE_CURSOR_MAX];
	size_t i;

	memset(too_long, 'c', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	assert_int_equal(add_caller(f->s, 1, "c1"), ENRT_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(scan_callers(f->s, bad[i], &v, next),
		    ENRT_INVALID_ARGUMENT);
	}
	assert_int_equal(v.n, 0);
}

static int64_t
last_used(store *s, const char *id, enrt_status expect)
{
	store_txn *t;
	int64_t when = 12345;

	assert_int_equal(store_begin_read(s, &t), ENRT_OK);
	assert_int_equal(store_last_used_get(t, id, &when), expect);
	store_abort(t);
	return when;
}

static void
put_last_used(store *s, const char *id, int64_t when)
{
	store_txn *t;

	assert_int_equal(store_begin_write(s, &t), ENRT_OK);
	store_last_used_put(t, id, when);
	assert_int_equal(store_commit(t), ENRT_OK);
}

static void
last_used_keeps_the_later_time(void **state)
{
	fixture *f = *state;

	assert_int_equal(add_token(f->s, 1, "t1", "a1", "alice", 10), ENRT_OK);
	last_used(f->s, "t1", ENRT_NOT_FOUND);
	put_last_used(f->s, "t1", -20);
	assert_int_equal(last_used(f->s, "t1", ENRT_OK), -20);
	put_last_used(f->s, "t1", 1700000000);
	put_last_used(f->s, "t1", 1600000000);
	assert_int_equal(last_used(f->s, "t1", ENRT_OK), 1700000000);
	put_last_used(f->s, "t1", 1700000060);
	assert_int_equal(last_used(f->s, "t1", ENRT_OK), 1700000060);
	last_used(f->s, "t2", ENRT_NOT_FOUND);
}

/*
 * Rows of last_used over several leaves; the last, which both cursors
 * end on, is one of those removed.
 */
#define MANY_USES 596

static void
use_id(char id[16], int i)
{
	snprintf(id, 16, "u%04d", i);
}

/* Every seventh, and a run that empties leaves and merges them. */
static bool
use_removed(int i)
{
	return i % 7 == 0 || (i >= 200 && i < 320);
}

static void
add_used_tokens(store *s)
{
	store_token token;
	uint8_t digest[STORE_DIGEST_LEN];
	store_txn *t;
	char id[16];

	assert_int_equal(store_begin_write(s, &t), ENRT_OK);
	for (int i = 0; i < MANY_USES; i++) {
		use_id(id, i);
		token = token_of(id, "a1", "alice", 10);
		digest_of(1000 + i, digest);
		store_token_add(t, digest, &token);
	}
	assert_int_equal(store_commit(t), ENRT_OK);
}

/*
 * One transaction of many uses, as a flush writes them: in order, then
 * backwards, with tokens removed between the writes, so that the
 * cursors the writes share have rows taken from under them.
 */
static void
many_uses_in_one_transaction(void **state)
{
	fixture *f = *state;
	uint8_t digest[STORE_DIGEST_LEN];
	store_txn *t;
	char id[16];
	int i;

	add_used_tokens(f->s);
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	for (i = 0; i < MANY_USES; i++) {
		use_id(id, i);
		store_last_used_put(t, id, 100 + i);
	}
	for (i = 0; i < MANY_USES; i++) {
		if (use_removed(i)) {
			digest_of(1000 + i, digest);
			store_token_remove(t, digest);
		}
	}
	for (i = MANY_USES - 1; i >= 0; i--) {
		use_id(id, i);
		store_last_used_put(t, id, i % 2 == 0 ? 50 : 1000 + i);
	}
	assert_int_equal(store_commit(t), ENRT_OK);

	for (i = 0; i < MANY_USES; i++) {
		use_id(id, i);
		if (use_removed(i)) {
			last_used(f->s, id, ENRT_NOT_FOUND);
		} else {
			assert_int_equal(last_used(f->s, id, ENRT_OK),
			    i % 2 == 0 ? 100 + i : 1000 + i);
		}
	}
}

/* A write transaction's cursor is its own, not its open child's. */
static void
last_used_under_an_open_child_is_refused(void **state)
{
	fixture *f = *state;
	store_txn *t, *child;

	assert_int_equal(add_token(f->s, 1, "t1", "a1", "alice", 10), ENRT_OK);
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_last_used_put(t, "t1", 20);
	assert_int_equal(store_begin_nested(t, &child), ENRT_OK);
	store_last_used_put(child, "t1", 30);
	store_last_used_put(t, "t1", 40);
	assert_int_equal(store_commit(child), ENRT_OK);
	assert_int_equal(store_commit(t), ENRT_INTERNAL);
	last_used(f->s, "t1", ENRT_NOT_FOUND);
}

/* ------------------------------------------------------------------ */
/* Lent records                                                        */

static void
put_user_admin(store *s, char *id, bool admin)
{
	store_user user = ENRT__V1__USER_RECORD__INIT;
	store_txn *t;

	user.id = id;
	user.has_admin = 1;
	user.admin = admin;
	user.has_enabled = 1;
	user.enabled = 1;
	assert_int_equal(store_begin_write(s, &t), ENRT_OK);
	store_user_put(t, &user);
	assert_int_equal(store_commit(t), ENRT_OK);
}

/* Puts apps app0 .. app<n-1>, named name0 ..., in one commit. */
static void
put_apps(store *s, int n)
{
	char id[16], name[16];
	store_app app = app_of(id, name);
	store_txn *t;

	assert_int_equal(store_begin_write(s, &t), ENRT_OK);
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "app%d", i);
		snprintf(name, sizeof(name), "name%d", i);
		store_app_put(t, &app);
	}
	assert_int_equal(store_commit(t), ENRT_OK);
}

static void
lent_app_and_user_equal_the_stored_ones(void **state)
{
	fixture *f = *state;
	const store_app *app;
	const store_user *user;
	store_app *copy;
	store_txn *t;

	assert_int_equal(put_app(f->s, "app1", "Payroll"), ENRT_OK);
	put_user_admin(f->s, "u1", true);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_app_lend(t, "app1", &app), ENRT_OK);
	assert_int_equal(store_app_get(t, "app1", &copy), ENRT_OK);
	assert_string_equal(app->id, copy->id);
	assert_string_equal(app->name, copy->name);
	assert_int_equal(app->policy, copy->policy);
	assert_int_equal(app->enabled, copy->enabled);
	store_free(copy);
	assert_int_equal(store_user_lend(t, "u1", &user), ENRT_OK);
	assert_string_equal(user->id, "u1");
	assert_true(user->admin);

	assert_int_equal(store_app_lend(t, "app2", &app), ENRT_NOT_FOUND);
	assert_null(app);
	assert_int_equal(store_app_lend(t, "no spaces", &app), ENRT_NOT_FOUND);
	assert_int_equal(store_user_lend(t, "", &user), ENRT_NOT_FOUND);
	assert_null(user);
	assert_int_equal(store_status(t), ENRT_OK);
	store_abort(t);
}

static void
renewal_of_the_same_snapshot_lends_the_kept_record(void **state)
{
	fixture *f = *state;
	const store_app *first, *again;
	store_txn *t;

	assert_int_equal(put_app(f->s, "app1", "Payroll"), ENRT_OK);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_app_lend(t, "app1", &first), ENRT_OK);
	store_abort(t);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_app_lend(t, "app1", &again), ENRT_OK);
	assert_ptr_equal(again, first);
	assert_string_equal(again->name, "Payroll");
	store_abort(t);
}

static void
renewal_after_a_commit_lends_the_new_record(void **state)
{
	fixture *f = *state;
	const store_app *app;
	const store_user *user;
	store_txn *t;

	assert_int_equal(put_app(f->s, "app1", "Payroll"), ENRT_OK);
	put_user_admin(f->s, "u1", true);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_app_lend(t, "app1", &app), ENRT_OK);
	assert_int_equal(store_user_lend(t, "u1", &user), ENRT_OK);
	store_abort(t);

	assert_int_equal(put_app(f->s, "app1", "Billing"), ENRT_OK);
	put_user_admin(f->s, "u1", false);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_app_lend(t, "app1", &app), ENRT_OK);
	assert_string_equal(app->name, "Billing");
	assert_int_equal(store_user_lend(t, "u1", &user), ENRT_OK);
	assert_false(user->admin);
	store_abort(t);

	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_user_delete(t, "u1");
	assert_int_equal(store_commit(t), ENRT_OK);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_user_lend(t, "u1", &user), ENRT_NOT_FOUND);
	store_abort(t);
}

/*
 * More records lent in one transaction than it keeps: each stays
 * readable until the transaction ends, also across a commit meanwhile.
 */
static void
lent_records_stay_valid_until_the_transaction_ends(void **state)
{
	fixture *f = *state;
	const store_app *lent[20];
	char name[16];
	store_txn *t;

	put_apps(f->s, 20);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	for (int i = 0; i < 20; i++) {
		char id[16];

		snprintf(id, sizeof(id), "app%d", i);
		assert_int_equal(store_app_lend(t, id, &lent[i]), ENRT_OK);
	}
	assert_int_equal(put_app(f->s, "app0", "renamed"), ENRT_OK);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "name%d", i);
		assert_string_equal(lent[i]->name, name);
	}
	store_abort(t);
}

static void
many_distinct_ids_do_not_grow_what_a_transaction_keeps(void **state)
{
	fixture *f = *state;
	const store_app *app;
	store_txn *t;
	char id[32];

	put_apps(f->s, 40);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
		snprintf(id, sizeof(id), "app%d", i % 40);
		assert_int_equal(store_app_lend(t, id, &app), ENRT_OK);
		snprintf(id, sizeof(id), "made-up-%d", i);
		assert_int_equal(store_app_lend(t, id, &app), ENRT_NOT_FOUND);
		assert_true(store_lent_kept(t) <= STORE_LEND_MAX);
		store_abort(t);
	}

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "app%d", i);
		assert_int_equal(store_app_lend(t, id, &app), ENRT_OK);
	}
	assert_int_equal(store_lent_kept(t), STORE_LEND_MAX);
	store_abort(t);
}

/* ------------------------------------------------------------------ */
/* Audit events                                                        */

/* What an event visitor saw, and after how many events it stops. */
typedef struct events_seen {
	char actions[MAX_SEEN][16];
	uint64_t sequences[MAX_SEEN];
	int64_t times[MAX_SEEN];
	size_t n;
	size_t page; /* 0: never stop */
	size_t on_page;
} events_seen;

static store_visit
see_event(void *arg, const store_event *event)
{
	events_seen *v = arg;

	if (v->page != 0 && v->on_page == v->page) {
		return STORE_STOP;
	}
	assert_true(v->n < MAX_SEEN);
	assert_true(event->has_sequence);
	snprintf(
	    v->actions[v->n], sizeof(v->actions[v->n]), "%s", event->action);
	v->sequences[v->n] = event->sequence;
	v->times[v->n] = event->time;
	v->n++;
	v->on_page++;
	return STORE_CONTINUE;
}

static store_event
event_of(int64_t time, char *action)
{
	store_event event = ENRT__V1__AUDIT_EVENT__INIT;

	event.has_time = 1;
	event.time = time;
	event.caller_id = "cal_1";
	event.acting_user = "ann";
	event.action = action;
	event.target_id = "tok_1";
	event.has_outcome = 1;
	event.outcome = ENRT__V1__STATUS__NOT_FOUND;
	return event;
}

/* Appends one event in its own transaction; returns the commit status. */
static enrt_status
append_event(store *s, int64_t time, char *action)
{
	store_event event = event_of(time, action);
	store_txn *t;

	assert_int_equal(store_begin_write(s, &t), ENRT_OK);
	store_event_append(t, &event);
	return store_commit(t);
}

/* Scans one page of events in its own read transaction. */
static enrt_status
scan_events(store *s, int64_t since, const char *cursor, events_seen *v,
    char next[STORE_CURSOR_MAX])
{
	store_txn *t;
	enrt_status status;

	v->on_page = 0;
	assert_int_equal(store_begin_read(s, &t), ENRT_OK);
	status = store_event_scan(t, since, cursor, see_event, v, next);
	store_abort(t);
	return status;
}

static void
assert_actions(const events_seen *v, const char *const *actions, size_t n)
{
	size_t i;

	assert_int_equal(v->n, n);
	for (i = 0; i < n; i++) {
		assert_string_equal(v->actions[i], actions[i]);
	}
}

/* Keeps a copy of the first event visited, packed and unpacked again. */
static store_visit
keep_event(void *arg, const store_event *event)
{
	store_event **out = arg;
	uint8_t buf[512];
	size_t n = protobuf_c_message_get_packed_size(&event->base);

	assert_true(n <= sizeof(buf));
	protobuf_c_message_pack(&event->base, buf);
	*out = enrt__v1__audit_event__unpack(NULL, n, buf);
	assert_non_null(*out);
	return STORE_STOP;
}

static void
events_get_increasing_sequences_within_and_across_transactions(void **state)
{
	fixture *f = *state;
	store_event first = event_of(100, "issue");
	store_event second = event_of(101, "revoke");
	events_seen v = {0};
	char next[STORE_CURSOR_MAX];
	const char *order[] = {"issue", "revoke", "app_create"};
	store_txn *t;

	first.has_sequence = 1;
	first.sequence = 42; /* the store's to set, not the caller's */
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_event_append(t, &first);
	store_event_append(t, &second);
	assert_int_equal(store_commit(t), ENRT_OK);
	assert_int_equal(append_event(f->s, 102, "app_create"), ENRT_OK);

	assert_int_equal(scan_events(f->s, 0, NULL, &v, next), ENRT_OK);
	assert_actions(&v, order, 3);
	assert_int_equal(v.sequences[0], 1);
	assert_int_equal(v.sequences[1], 2);
	assert_int_equal(v.sequences[2], 3);
	assert_string_equal(next, "");
}

static void
event_fields_are_kept(void **state)
{
	fixture *f = *state;
	store_event *got = NULL;
	store_txn *t;

	assert_int_equal(append_event(f->s, -7, "user_delete"), ENRT_OK);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(
	    store_event_scan(t, INT64_MIN, NULL, keep_event, &got, NULL),
	    ENRT_OK);
	store_abort(t);

	assert_non_null(got);
	assert_int_equal(got->time, -7);
	assert_string_equal(got->caller_id, "cal_1");
	assert_string_equal(got->acting_user, "ann");
	assert_string_equal(got->action, "user_delete");
	assert_string_equal(got->target_id, "tok_1");
	assert_int_equal(got->outcome, ENRT__V1__STATUS__NOT_FOUND);
	assert_int_equal(got->sequence, 1);
	store_free(got);
}

static void
events_of_one_time_keep_their_append_order(void **state)
{
	fixture *f = *state;
	store_event b = event_of(50, "b");
	store_event c = event_of(50, "c");
	events_seen v = {0};
	char next[STORE_CURSOR_MAX];
	const char *order[] = {"a", "b", "c", "d"};
	store_txn *t;

	assert_int_equal(append_event(f->s, 50, "a"), ENRT_OK);
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_event_append(t, &b);
	store_event_append(t, &c);
	assert_int_equal(store_commit(t), ENRT_OK);
	assert_int_equal(append_event(f->s, 50, "d"), ENRT_OK);

	assert_int_equal(scan_events(f->s, 50, NULL, &v, next), ENRT_OK);
	assert_actions(&v, order, 4);
}

static void
events_after_a_step_back_of_the_clock_are_all_kept(void **state)
{
	fixture *f = *state;
	events_seen v = {0};
	char next[STORE_CURSOR_MAX];
	const char *order[] = {"second", "third", "first"};

	assert_int_equal(append_event(f->s, 100, "first"), ENRT_OK);
	assert_int_equal(append_event(f->s, 50, "second"), ENRT_OK);
	assert_int_equal(append_event(f->s, 50, "third"), ENRT_OK);

	assert_int_equal(scan_events(f->s, 0, NULL, &v, next), ENRT_OK);
	assert_actions(&v, order, 3);
	assert_int_equal(v.sequences[0], 2);
	assert_int_equal(v.sequences[1], 3);
	assert_int_equal(v.sequences[2], 1);
}

static void
event_scan_starts_at_since(void **state)
{
	fixture *f = *state;
	events_seen v = {0};
	char next[STORE_CURSOR_MAX];
	const char *from_10[] = {"at10", "again10", "at20"};
	const char *from_neg[] = {"neg", "at5", "at10", "again10", "at20"};

	assert_int_equal(append_event(f->s, 10, "at10"), ENRT_OK);
	assert_int_equal(append_event(f->s, 5, "at5"), ENRT_OK);
	assert_int_equal(append_event(f->s, 20, "at20"), ENRT_OK);
	assert_int_equal(append_event(f->s, -3, "neg"), ENRT_OK);
	assert_int_equal(append_event(f->s, 10, "again10"), ENRT_OK);

	assert_int_equal(scan_events(f->s, 10, NULL, &v, next), ENRT_OK);
	assert_actions(&v, from_10, 3);
	v.n = 0;
	assert_int_equal(scan_events(f->s, 6, NULL, &v, next), ENRT_OK);
	assert_actions(&v, from_10, 3);
	v.n = 0;
	assert_int_equal(scan_events(f->s, -3, NULL, &v, next), ENRT_OK);
	assert_actions(&v, from_neg, 5);
	v.n = 0;
	assert_int_equal(scan_events(f->s, 21, NULL, &v, next), ENRT_OK);
	assert_int_equal(v.n, 0);
}

static void
event_scan_pages_with_a_cursor(void **state)
{
	fixture *f = *state;
	events_seen v = {.page = 2};
	char cursor[STORE_CURSOR_MAX], next[STORE_CURSOR_MAX];
	const char *all[] = {"e1", "e2", "e3", "e4", "e5"};
	int i;

	for (i = 0; i < 5; i++) {
		assert_int_equal(
		    append_event(f->s, 100 + i / 2, (char *)all[i]), ENRT_OK);
	}

	assert_int_equal(scan_events(f->s, 0, NULL, &v, next), ENRT_OK);
	assert_string_equal(next, "8000000000000065.0000000000000003");
	while (next[0] != '\0') {
		strcpy(cursor, next);
		/* A cursor, when given, wins over since. */
		assert_int_equal(
		    scan_events(f->s, INT64_MAX, cursor, &v, next), ENRT_OK);
	}
	assert_actions(&v, all, 5);
}

static void
event_scan_refuses_a_cursor_it_did_not_make(void **state)
{
	fixture *f = *state;
	const char *bad[] = {"", "8000000000000064", "8000000000000064.",
	    "8000000000000064.000000000000001",
	    "8000000000000064.00000000000000011",
	    "8000000000000064-0000000000000001",
	    "800000000000006A.0000000000000001",
	    "8000000000000064.000000000000000g",
	    "8000000000000064.0000000000000000", "8000000000000064.t1",
	    " 8000000000000064.000000000000001"};
	events_seen v = {0};
	char next[STORE_CURSOR_MAX];
	store_txn *t;
	size_t i;

	assert_int_equal(append_event(f->s, 100, "e1"), ENRT_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
		assert_int_equal(
		    store_event_scan(t, 0, bad[i], see_event, &v, next),
		    ENRT_INVALID_ARGUMENT);
		assert_string_equal(
		    store_message(t), "cursor: not a cursor this server made");
		store_abort(t);
	}
	assert_int_equal(v.n, 0);
	assert_int_equal(scan_events(f->s, 0,
	                     "8000000000000064.0000000000000001", &v, next),
	    ENRT_OK);
	assert_int_equal(v.n, 1);
}

static void
event_append_refuses_an_event_without_a_time(void **state)
{
	fixture *f = *state;
	store_event event = event_of(1, "issue");
	events_seen v = {0};
	char next[STORE_CURSOR_MAX];
	store_txn *t;

	event.has_time = 0;
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_event_append(t, &event);
	assert_string_equal(store_message(t), "time: required");
	assert_int_equal(store_commit(t), ENRT_INVALID_ARGUMENT);

	assert_int_equal(append_event(f->s, 1, "after"), ENRT_OK);
	assert_int_equal(scan_events(f->s, 0, NULL, &v, next), ENRT_OK);
	assert_int_equal(v.n, 1);
	assert_int_equal(v.sequences[0], 1);
}

/* ------------------------------------------------------------------ */
/* Damage and exhaustion                                               */

static void
a_corrupt_record_is_internal(void **state)
{
	fixture *f = *state;
	store_user *got = (store_user *)1;
	store_txn *t;

	store_close(f->s);
	f->s = NULL;
	raw_put(f->dir, "users", "u1", "\xff\xff\xff");
	reopen(f, 0);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_user_get(t, "u1", &got), ENRT_INTERNAL);
	assert_null(got);
	assert_non_null(strstr(store_message(t), "corrupt"));
	assert_int_equal(store_commit(t), ENRT_INTERNAL);
}

static void
an_id_whose_token_is_gone_is_internal(void **state)
{
	fixture *f = *state;
	store_token *got = (store_token *)1;
	store_txn *t;

	store_close(f->s);
	f->s = NULL;
	raw_put(
	    f->dir, "token_ids", "ghost", "0123456789abcdef0123456789abcdef");
	raw_put(f->dir, "token_ids", "short", "0123");
	reopen(f, 0);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(
	    store_token_by_id(t, "ghost", &got, NULL), ENRT_INTERNAL);
	assert_null(got);
	store_abort(t);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(
	    store_token_by_id(t, "short", &got, NULL), ENRT_INTERNAL);
	assert_non_null(strstr(store_message(t), "token_ids is corrupt"));
	store_abort(t);
}

static void
a_caller_id_whose_caller_is_gone_is_internal(void **state)
{
	fixture *f = *state;
	store_caller *got = (store_caller *)1;
	seen v = {0};
	char next[STORE_CURSOR_MAX];
	store_txn *t;

	store_close(f->s);
	f->s = NULL;
	raw_put(
	    f->dir, "caller_ids", "ghost", "0123456789abcdef0123456789abcdef");
	reopen(f, 0);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(
	    store_caller_by_id(t, "ghost", &got, NULL), ENRT_INTERNAL);
	assert_null(got);
	assert_non_null(strstr(store_message(t), "caller_ids"));
	store_abort(t);
	assert_int_equal(scan_callers(f->s, NULL, &v, next), ENRT_INTERNAL);
	assert_int_equal(v.n, 0);
}

static void
a_caller_id_the_store_would_refuse_is_internal_in_a_scan(void **state)
{
	fixture *f = *state;
	seen v = {0};
	char next[STORE_CURSOR_MAX];
	store_txn *t;

	store_close(f->s);
	f->s = NULL;
	raw_put(
	    f->dir, "caller_ids", "c 1", "0123456789abcdef0123456789abcdef");
	reopen(f, 0);

	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(
	    store_caller_scan(t, NULL, see_caller, &v, next), ENRT_INTERNAL);
	assert_non_null(strstr(store_message(t), "caller_ids is corrupt"));
	store_abort(t);
	assert_int_equal(v.n, 0);
}

static void
a_damaged_audit_log_is_internal(void **state)
{
	fixture *f = *state;
	store_event event = event_of(1, "issue");
	events_seen v = {0};
	char next[STORE_CURSOR_MAX];
	store_txn *t;

	store_close(f->s);
	f->s = NULL;
	raw_put(f->dir, "meta", "audit_sequence", "123");
	raw_put(f->dir, "audit", "short", "");
	reopen(f, 0);

	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_event_append(t, &event);
	assert_non_null(strstr(store_message(t), "meta is corrupt"));
	assert_int_equal(store_commit(t), ENRT_INTERNAL);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(
	    store_event_scan(t, INT64_MIN, NULL, see_event, &v, next),
	    ENRT_INTERNAL);
	assert_non_null(strstr(store_message(t), "audit is corrupt"));
	store_abort(t);
	assert_int_equal(v.n, 0);
}

static void
open_refuses_a_map_too_small_for_its_databases(void **state)
{
	fixture *f = *state;
	store_options options = {.map_size = (size_t)sysconf(_SC_PAGESIZE)};
	store *s = (store *)1;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/tiny", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(
	    store_open(&s, dir, &options), ENRT_RESOURCE_EXHAUSTED);
	assert_null(s);
}

static void
a_full_map_refuses_writes_and_keeps_reads(void **state)
{
	fixture *f = *state;
	char ids[1000][16];
	enrt_status status = ENRT_OK;
	seen v = {.page = MAX_SEEN};
	char next[STORE_CURSOR_MAX];
	int n;

	/* Small enough to fill at once, big enough for many transactions. */
	reopen(f, 32 * (size_t)sysconf(_SC_PAGESIZE));
	for (n = 0; n < 1000 && status == ENRT_OK; n++) {
		snprintf(ids[n], sizeof(ids[n]), "t%d", n);
		status = add_token(f->s, n, ids[n], "a1", "alice", n);
	}
	assert_int_equal(status, ENRT_RESOURCE_EXHAUSTED);
	assert_true(n > 2);

	/* n - 1 tokens made it; the last did not, in part or in whole. */
	assert_true(token_exists(f->s, "t0"));
	assert_true(token_exists(f->s, ids[n - 2]));
	assert_false(token_exists(f->s, ids[n - 1]));
	assert_int_equal(scan_page(f->s, true, "a1", NULL, &v, next), ENRT_OK);
	assert_int_equal(v.n, n - 1 < MAX_SEEN ? n - 1 : MAX_SEEN);
}

/* ------------------------------------------------------------------ */
/* Removal, walks and copies                                           */

static void
token_remove_leaves_no_trace_but_its_events(void **state)
{
	fixture *f = *state;
	store_event ev = ENRT__V1__AUDIT_EVENT__INIT;
	uint8_t digest[STORE_DIGEST_LEN];
	char next[STORE_CURSOR_MAX];
	seen owned = {0}, of_app = {0};
	events_seen events = {0};
	store_txn *t;
	int64_t when;

	assert_int_equal(add_token(f->s, 1, "t1", "a1", "alice", 10), ENRT_OK);
	assert_int_equal(add_token(f->s, 2, "t2", "a1", "alice", 20), ENRT_OK);
	digest_of(1, digest);
	ev.has_time = true;
	ev.time = 10;
	ev.action = "issue";
	ev.target_id = "t1";
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_last_used_put(t, "t1", 15);
	store_event_append(t, &ev);
	assert_int_equal(store_commit(t), ENRT_OK);

	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_token_remove(t, digest);
	assert_int_equal(store_commit(t), ENRT_OK);

	assert_false(token_exists(f->s, "t1"));
	assert_true(token_exists(f->s, "t2"));
	assert_int_equal(
	    scan_page(f->s, false, "alice", NULL, &owned, next), ENRT_OK);
	assert_int_equal(owned.n, 1);
	assert_string_equal(owned.ids[0], "t2");
	assert_int_equal(
	    scan_page(f->s, true, "a1", NULL, &of_app, next), ENRT_OK);
	assert_int_equal(of_app.n, 1);
	assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
	assert_int_equal(store_last_used_get(t, "t1", &when), ENRT_NOT_FOUND);
	assert_int_equal(
	    store_event_scan(t, 0, NULL, see_event, &events, next), ENRT_OK);
	store_abort(t);
	assert_int_equal(events.n, 1);
}

/* A flush that comes after the purge must not bring the row back. */
static void
last_used_of_a_removed_token_is_not_written(void **state)
{
	fixture *f = *state;
	uint8_t digest[STORE_DIGEST_LEN];
	store_txn *t;

	assert_int_equal(add_token(f->s, 1, "t1", "a1", "alice", 10), ENRT_OK);
	digest_of(1, digest);
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_token_remove(t, digest);
	assert_int_equal(store_commit(t), ENRT_OK);

	put_last_used(f->s, "t1", 30);
	last_used(f->s, "t1", ENRT_NOT_FOUND);
	put_last_used(f->s, "never-issued", 30);
	last_used(f->s, "never-issued", ENRT_NOT_FOUND);
}

static enrt_status
held(store *s, const store_event *ev)
{
	store_txn *t;
	enrt_status rc;

	assert_int_equal(store_begin_read(s, &t), ENRT_OK);
	rc = store_event_held(t, ev);
	store_abort(t);
	return rc;
}

/* One sequence number, two different events: only the same one is held. */
static void
event_held_goes_by_contents_not_by_number(void **state)
{
	fixture *f = *state;
	store_event ev = ENRT__V1__AUDIT_EVENT__INIT;

	assert_int_equal(append_event(f->s, 100, "revoke"), ENRT_OK);
	ev = event_of(100, "revoke");
	ev.has_sequence = true;
	ev.sequence = 1;
	assert_int_equal(held(f->s, &ev), ENRT_OK);

	ev.action = "issue";
	assert_int_equal(held(f->s, &ev), ENRT_NOT_FOUND);
	ev.action = "revoke";
	ev.caller_id = "someone";
	assert_int_equal(held(f->s, &ev), ENRT_NOT_FOUND);
	ev = event_of(100, "revoke");
	ev.has_sequence = true;
	ev.sequence = 2;
	assert_int_equal(held(f->s, &ev), ENRT_NOT_FOUND);
	ev.sequence = 1;
	ev.time = 101;
	assert_int_equal(held(f->s, &ev), ENRT_NOT_FOUND);
	ev.has_sequence = false;
	assert_int_equal(held(f->s, &ev), ENRT_NOT_FOUND);
}

static void
token_remove_of_a_missing_token_is_not_found(void **state)
{
	fixture *f = *state;
	uint8_t digest[STORE_DIGEST_LEN];
	store_txn *t;

	digest_of(9, digest);
	assert_int_equal(store_begin_write(f->s, &t), ENRT_OK);
	store_token_remove(t, digest);
	assert_int_equal(store_status(t), ENRT_NOT_FOUND);
	assert_int_equal(store_commit(t), ENRT_NOT_FOUND);
}

typedef struct walked {
	uint8_t last[STORE_DIGEST_LEN];
	size_t n, page;
	char ids[MAX_SEEN][STORE_TOKEN_ID_MAX + 1];
} walked;

static store_visit
walk_one(void *arg, const uint8_t digest[STORE_DIGEST_LEN],
    const store_token *token)
{
	walked *w = arg;

	assert_true(w->n < MAX_SEEN);
	snprintf(w->ids[w->n++], sizeof(w->ids[0]), "%s", token->id);
	memcpy(w->last, digest, STORE_DIGEST_LEN);
	return w->n % w->page == 0 ? STORE_STOP : STORE_CONTINUE;
}

static void
token_walk_visits_every_token_once_across_pages(void **state)
{
	fixture *f = *state;
	char ids[10][8];
	walked w = {.page = 3};
	store_txn *t;
	size_t before;

	for (int n = 0; n < 10; n++) {
		snprintf(ids[n], sizeof(ids[n]), "t%d", n);
		assert_int_equal(
		    add_token(f->s, n, ids[n], "a1", NULL, n), ENRT_OK);
	}
	do {
		before = w.n;
		assert_int_equal(store_begin_read(f->s, &t), ENRT_OK);
		assert_int_equal(
		    store_token_walk(
		        t, before == 0 ? NULL : w.last, walk_one, &w),
		    ENRT_OK);
		store_abort(t);
	} while (w.n > before && w.n % w.page == 0);

	assert_int_equal(w.n, 10);
	for (int n = 0; n < 10; n++) {
		assert_string_equal(w.ids[n], ids[n]); /* digest_of's order */
	}
}

/* A new directory beside the store, and its data file open to write. */
static int
copy_target(fixture *f, char dir[COPY_DIR_LEN])
{
	char file[COPY_DIR_LEN + 16];
	int fd;

	snprintf(dir, COPY_DIR_LEN, "%s/copy", f->dir);
	snprintf(file, sizeof(file), "%s/%s", dir, STORE_DATA_FILE);
	assert_int_equal(mkdir(dir, 0700), 0);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	return fd;
}

static void
store_copy_is_a_store_with_the_same_records(void **state)
{
	fixture *f = *state;
	char dir[COPY_DIR_LEN];
	store *copy;
	int fd;

	assert_int_equal(add_token(f->s, 1, "t1", "a1", "alice", 10), ENRT_OK);
	fd = copy_target(f, dir);
	assert_int_equal(store_copy(f->s, fd), ENRT_OK);
	assert_int_equal(close(fd), 0);

	/* Added after the copy: not in it. */
	assert_int_equal(add_token(f->s, 2, "t2", "a1", "alice", 20), ENRT_OK);
	assert_int_equal(store_open(&copy, dir, NULL), ENRT_OK);
	assert_true(token_exists(copy, "t1"));
	assert_false(token_exists(copy, "t2"));
	store_close(copy);
}

static void
store_copy_dir_copies_a_store_another_handle_has_open(void **state)
{
	fixture *f = *state;
	char dir[COPY_DIR_LEN];
	store *copy;
	int fd;

	assert_int_equal(add_token(f->s, 1, "t1", "a1", "alice", 10), ENRT_OK);
	fd = copy_target(f, dir);
	assert_int_equal(store_copy_dir(f->dir, fd), ENRT_OK);
	assert_int_equal(close(fd), 0);

	assert_int_equal(store_open(&copy, dir, NULL), ENRT_OK);
	assert_true(token_exists(copy, "t1"));
	store_close(copy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        reopened_store_keeps_its_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        open_refuses_a_newer_schema_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        open_refuses_an_unreadable_schema_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        open_fails_on_a_missing_directory, setup, teardown),
	    cmocka_unit_test(free_functions_accept_null),
	    cmocka_unit_test_setup_teardown(
	        token_add_then_get_by_digest_and_by_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        token_lookups_of_unknown_keys_are_not_found_and_not_sticky,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        token_update_rewrites_the_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        token_update_of_a_missing_token_is_not_found, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        token_update_refuses_to_move_a_token, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        token_add_refuses_a_taken_digest_and_writes_nothing, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        token_add_refuses_a_taken_id_and_names_it, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        token_add_refuses_records_it_cannot_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        token_ids_of_the_longest_length_are_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        sticky_error_makes_later_steps_do_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        read_transaction_keeps_its_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        read_transaction_begun_after_a_commit_sees_it, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        many_read_transactions_at_once_each_keep_their_snapshot, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        owner_scan_visits_in_creation_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        app_scan_includes_service_tokens, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        scan_of_an_unknown_key_visits_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        scan_pages_through_every_token_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        scan_sees_tokens_added_after_the_cursor_between_pages, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        scan_refuses_a_cursor_it_did_not_make, setup, teardown),
	    cmocka_unit_test_setup_teardown(app_put_then_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        app_rename_frees_the_old_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        app_put_refuses_a_name_in_use, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        app_put_refuses_records_it_cannot_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        app_scan_pages_in_id_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        app_scan_refuses_a_cursor_it_did_not_make, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        user_put_then_get_and_update, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        user_put_refuses_an_empty_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        user_delete_removes_only_that_user, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        user_delete_of_a_missing_user_is_a_sticky_not_found, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        user_scan_pages_in_id_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        user_scan_resumes_at_an_id_of_the_longest_length, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        user_scan_refuses_a_cursor_it_did_not_make, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        lent_app_and_user_equal_the_stored_ones, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        renewal_of_the_same_snapshot_lends_the_kept_record, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        renewal_after_a_commit_lends_the_new_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        lent_records_stay_valid_until_the_transaction_ends, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        many_distinct_ids_do_not_grow_what_a_transaction_keeps, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        callers_are_added_found_and_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        caller_add_refuses_a_taken_credential, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        caller_add_keeps_an_index_by_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        caller_lookups_of_unknown_ids_are_not_found_and_not_sticky,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        caller_add_refuses_a_taken_id_and_writes_nothing, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        caller_add_refuses_ids_it_cannot_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        caller_update_rewrites_the_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        caller_update_refuses_to_change_the_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        caller_update_of_a_missing_caller_is_not_found, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        caller_scan_pages_in_id_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        caller_scan_refuses_a_cursor_it_did_not_make, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        last_used_keeps_the_later_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        many_uses_in_one_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        last_used_under_an_open_child_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        events_get_increasing_sequences_within_and_across_transactions,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        event_fields_are_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        events_of_one_time_keep_their_append_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        events_after_a_step_back_of_the_clock_are_all_kept, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        event_scan_starts_at_since, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        event_scan_pages_with_a_cursor, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        event_scan_refuses_a_cursor_it_did_not_make, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        event_append_refuses_an_event_without_a_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        a_corrupt_record_is_internal, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        an_id_whose_token_is_gone_is_internal, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        a_caller_id_whose_caller_is_gone_is_internal, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        a_caller_id_the_store_would_refuse_is_internal_in_a_scan,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        a_damaged_audit_log_is_internal, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        open_refuses_a_map_too_small_for_its_databases, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        a_full_map_refuses_writes_and_keeps_reads, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        token_remove_leaves_no_trace_but_its_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        last_used_of_a_removed_token_is_not_written, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        event_held_goes_by_contents_not_by_number, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        token_remove_of_a_missing_token_is_not_found, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        token_walk_visits_every_token_once_across_pages, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(
	        store_copy_is_a_store_with_the_same_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        store_copy_dir_copies_a_store_another_handle_has_open, setup,
	        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
