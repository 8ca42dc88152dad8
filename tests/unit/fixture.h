/*
 * The fixture the unit tests of the rules share: a real store in a
 * temporary directory, the rules over it and its first admin acting.
 * Every step asserts, so that a test starts only on a working store.
 */
#ifndef ENRT_TESTS_FIXTURE_H
#define ENRT_TESTS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rules.h"
#include "store.h"

/* Evaluates got once; prints the refusal's message when it differs. */
#define assert_status(got, want, e)                                 \
	do {                                                        \
		enrt_status got_ = (got);                           \
		if (got_ != (want)) {                               \
			print_error("message: %s\n", (e)->message); \
		}                                                   \
		assert_int_equal(got_, want);                       \
	} while (0)

#define FIXTURE_DIR_LEN 64

typedef struct store_fixture {
	char dir[FIXTURE_DIR_LEN];
	store *store;
	rules rules;
	store_caller *admin;
	actor actor; /* the admin at the time the store was made */
	err e;
} store_fixture;

/*
 * Makes /tmp/enrt-NAME-XXXXXX in dir; a name per test program tells
 * whose directory a crashed run left behind.
 */
void fixture_dir_make(char dir[FIXTURE_DIR_LEN], const char *name);

/* Removes the directory and all in it. */
void fixture_dir_remove(const char *dir);

/*
 * Opens a store in a new directory (options may be NULL), the rules over
 * it with key, and bootstraps and authenticates its first admin at now.
 */
void store_fixture_open(store_fixture *f, const char *name,
    const uint8_t key[RULES_KEY_LEN], const store_options *options,
    int64_t now);

/* Whether Introspect, asked by the admin at now, finds value active. */
bool store_fixture_active(store_fixture *f, const char *value, int64_t now);

/*
 * How many write transactions the environment in dir has committed, read
 * through an environment of its own, so that the store under test is
 * not asked about itself.
 */
size_t fixture_last_txnid(const char *dir);

/* Frees the admin, closes the store and removes its directory. */
void store_fixture_close(store_fixture *f);

#endif
