#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>

#include "fixture.h"
#include "reply.h"

void
fixture_dir_make(char dir[FIXTURE_DIR_LEN], const char *name)
{
	int n = snprintf(dir, FIXTURE_DIR_LEN, "/tmp/enrt-%s-XXXXXX", name);

	assert_true(n > 0 && n < FIXTURE_DIR_LEN);
	assert_non_null(mkdtemp(dir));
}

void
fixture_dir_remove(const char *dir)
{
	char cmd[FIXTURE_DIR_LEN + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

void
store_fixture_open(store_fixture *f, const char *name,
    const uint8_t key[RULES_KEY_LEN], const store_options *options,
    int64_t now)
{
	char credential[64];

	fixture_dir_make(f->dir, name);
	assert_int_equal(store_open(&f->store, f->dir, options), ENRT_OK);
	rules_init(&f->rules, f->store, NULL, key);

	assert_status(rules_bootstrap(&f->rules, now, credential, &f->e),
	    ENRT_OK, &f->e);
	assert_int_equal(strlen(credential), 54);
	assert_status(
	    rules_authenticate(&f->rules, credential, &f->admin, &f->e),
	    ENRT_OK, &f->e);
	f->actor = (actor){.caller = f->admin, .now = now};
}

bool
store_fixture_active(store_fixture *f, const char *value, int64_t now)
{
	Enrt__V1__IntrospectRequest req = ENRT__V1__INTROSPECT_REQUEST__INIT;
	Enrt__V1__IntrospectReply *reply = NULL;
	actor a = f->actor;
	bool active;

	a.now = now;
	req.token = (char *)value;
	assert_status(rules_introspect(&f->rules, &a, &req, &reply, &f->e),
	    ENRT_OK, &f->e);
	active = reply->active;
	reply_free(reply);
	return active;
}

void
store_fixture_close(store_fixture *f)
{
	store_free(f->admin);
	store_close(f->store);
	fixture_dir_remove(f->dir);
}

size_t
fixture_last_txnid(const char *dir)
{
	MDB_env *env;
	MDB_envinfo info;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(
	    mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK, 0600), 0);
	assert_int_equal(mdb_env_info(env, &info), 0);
	mdb_env_close(env);
	return info.me_last_txnid;
}
