#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

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

void
store_fixture_close(store_fixture *f)
{
	store_free(f->admin);
	store_close(f->store);
	fixture_dir_remove(f->dir);
}
