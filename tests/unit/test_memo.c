/*
 * The credential memo: what it gives back is always the digest that was
 * kept for exactly that text, or nothing, even while threads keep and
 * find at once and newcomers push others out of their slots.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "memo.h"

#define TEXTS   500
#define THREADS 4
#define ROUNDS  20000

/* A text of its own for each n, and a digest made from n. */
static void
text_of(unsigned n, char text[32])
{
	snprintf(text, 32, "enrc_%026u", n);
}

static void
digest_of(unsigned n, uint8_t digest[STORE_DIGEST_LEN])
{
	crypto_generichash(digest, STORE_DIGEST_LEN, (const unsigned char *)&n,
	    sizeof(n), NULL, 0);
}

static void
nothing_is_found_in_a_new_memo(void **state)
{
	uint8_t digest[STORE_DIGEST_LEN];
	memo *m;

	assert_int_equal(memo_new(&m), ENRT_OK);
	assert_false(memo_find(m, "enrc_a", 6, digest));
	assert_false(memo_find(m, "", 0, digest));
	memo_free(m);
}

static void
a_kept_digest_is_found_for_exactly_its_text(void **state)
{
	uint8_t kept[STORE_DIGEST_LEN], got[STORE_DIGEST_LEN];
	memo *m;

	assert_int_equal(memo_new(&m), ENRT_OK);
	digest_of(1, kept);
	memo_keep(m, "enrc_abc", 8, kept);

	assert_true(memo_find(m, "enrc_abc", 8, got));
	assert_memory_equal(got, kept, STORE_DIGEST_LEN);
	assert_false(memo_find(m, "enrc_abd", 8, got));
	assert_false(memo_find(m, "enrc_ab", 7, got)); /* a prefix of it */
	assert_false(memo_find(m, "enrc_abc\0", 9, got));
	memo_free(m);
}

static void
keeping_again_replaces_the_digest(void **state)
{
	uint8_t first[STORE_DIGEST_LEN], second[STORE_DIGEST_LEN];
	uint8_t got[STORE_DIGEST_LEN];
	memo *m;

	assert_int_equal(memo_new(&m), ENRT_OK);
	digest_of(1, first);
	digest_of(2, second);
	memo_keep(m, "enrc_x", 6, first);
	memo_keep(m, "enrc_x", 6, second);
	assert_true(memo_find(m, "enrc_x", 6, got));
	assert_memory_equal(got, second, STORE_DIGEST_LEN);
	memo_free(m);
}

/* More texts than slots: some are pushed out, none is mistaken. */
static void
a_full_memo_forgets_but_never_mixes_up(void **state)
{
	uint8_t want[STORE_DIGEST_LEN], got[STORE_DIGEST_LEN];
	char text[32];
	unsigned found = 0;
	memo *m;

	assert_int_equal(memo_new(&m), ENRT_OK);
	for (unsigned n = 0; n < TEXTS; n++) {
		text_of(n, text);
		digest_of(n, want);
		memo_keep(m, text, strlen(text), want);
	}
	for (unsigned n = 0; n < TEXTS; n++) {
		text_of(n, text);
		digest_of(n, want);
		if (memo_find(m, text, strlen(text), got)) {
			assert_memory_equal(got, want, STORE_DIGEST_LEN);
			found++;
		}
	}
	assert_true(found > 0);
	assert_true(found < TEXTS);
	memo_free(m);
}

static void *
keep_and_find(void *arg)
{
	memo *m = arg;
	uint8_t want[STORE_DIGEST_LEN], got[STORE_DIGEST_LEN];
	char text[32];
	uintptr_t wrong = 0;

	for (unsigned i = 0; i < ROUNDS; i++) {
		unsigned n = randombytes_uniform(TEXTS);

		text_of(n, text);
		digest_of(n, want);
		if (i % 2 == 0) {
			memo_keep(m, text, strlen(text), want);
		} else if (memo_find(m, text, strlen(text), got) &&
		           memcmp(got, want, STORE_DIGEST_LEN) != 0) {
			wrong++;
		}
	}
	return (void *)wrong;
}

static void
threads_never_find_another_texts_digest(void **state)
{
	pthread_t threads[THREADS];
	void *wrong;
	memo *m;

	assert_int_equal(memo_new(&m), ENRT_OK);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(
		    pthread_create(&threads[i], NULL, keep_and_find, m), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(threads[i], &wrong), 0);
		assert_null(wrong);
	}
	memo_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nothing_is_found_in_a_new_memo),
	    cmocka_unit_test(a_kept_digest_is_found_for_exactly_its_text),
	    cmocka_unit_test(keeping_again_replaces_the_digest),
	    cmocka_unit_test(a_full_memo_forgets_but_never_mixes_up),
	    cmocka_unit_test(threads_never_find_another_texts_digest),
	};

	if (sodium_init() < 0) {
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
