/*
 * Tests of the token format: known answers for CRC-32, base62 and whole
 * secrets (computed apart from this code, with Python's zlib.crc32 and
 * integer arithmetic), round trips of generated secrets, every way the
 * offline check must refuse, the order of time-ordered ids, and the
 * reading of HTTP headers.
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

#include "enrt.h"
#include "format.h"

#define ALPHABET \
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* The secret of the raw bytes 0x00, 0x01, ..., 0x1f. */
#define TOKEN_0_TO_31 "enrt_003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf1Yo7hP"
#define CRED_0_TO_31  "enrc_003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf1Yo7hP"
/* The secret of 32 zero bytes. */
#define TOKEN_ZERO "enrt_00000000000000000000000000000000000000000002CZclj"
/* The secret of 2^256 - 1, the largest body there is. */
#define TOKEN_MAX "enrt_yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp13sRzl1"
/* Bodies just past the range, each with its correct checksum. */
#define TOKEN_2_256 "enrt_yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp21MwCft"
#define TOKEN_ALL_Z "enrt_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz0UsatS"

/* The last millisecond that a time-ordered id can spell: 62^8 - 1. */
#define ID_TIME_LAST   INT64_C(218340105584895)
#define IDS_PER_THREAD 2000
#define ID_THREADS     4

static int
init_sodium(void **state)
{
	return sodium_init() < 0 ? -1 : 0;
}

static bool
check(const char *text)
{
	return enrt_token_check(text, strlen(text));
}

/* ---- CRC-32 ---- */

static void
crc32_of_check_string_is_cbf43926(void **state)
{
	assert_int_equal(format_crc32("123456789", 9), 0xCBF43926u);
}

static void
crc32_of_nothing_is_zero(void **state)
{
	assert_int_equal(format_crc32("", 0), 0);
}

static void
crc32_of_43_zero_digits_is_known(void **state)
{
	char zeros[43];

	memset(zeros, '0', sizeof(zeros));
	assert_int_equal(format_crc32(zeros, sizeof(zeros)), 0x7849568Fu);
}

static void
crc32_of_a_43_byte_sentence_is_known(void **state)
{
	const char *fox = "The quick brown fox jumps over the lazy dog";

	assert_int_equal(format_crc32(fox, strlen(fox)), 0x414FA339u);
}

/* The CRC as its definition computes it, one bit at a time. */
static uint32_t
crc32_bit_by_bit(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xFFFFFFFFu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int bit = 0; bit < 8; bit++) {
			crc = (crc & 1u) != 0 ? (crc >> 1) ^ 0xEDB88320u
			                      : crc >> 1;
		}
	}
	return crc ^ 0xFFFFFFFFu;
}

/* Every length to 100: bytes alone, whole words alone, and both. */
static void
crc32_matches_bit_by_bit_at_every_length(void **state)
{
	uint8_t data[100];

	for (int round = 0; round < 20; round++) {
		randombytes_buf(data, sizeof(data));
		for (size_t len = 0; len <= sizeof(data); len++) {
			assert_int_equal(format_crc32(data, len),
			    crc32_bit_by_bit(data, len));
		}
	}
}

/* ---- base62 ---- */

static void
base62_of_zero_is_all_zero_digits(void **state)
{
	uint8_t raw[32] = {0};
	char out[43];
	char expect[43];

	memset(expect, '0', sizeof(expect));
	assert_true(format_base62(out, sizeof(out), raw, sizeof(raw)));
	assert_memory_equal(out, expect, sizeof(out));
}

static void
base62_of_one_ends_in_one(void **state)
{
	uint8_t raw[32] = {0};
	char out[44] = {0};

	raw[31] = 1;
	assert_true(format_base62(out, 43, raw, sizeof(raw)));
	assert_string_equal(
	    out, "0000000000000000000000000000000000000000001");
}

static void
base62_of_all_ones_is_known(void **state)
{
	uint8_t raw[32];
	char out[44] = {0};

	memset(raw, 0xFF, sizeof(raw));
	assert_true(format_base62(out, 43, raw, sizeof(raw)));
	assert_string_equal(
	    out, "yhjskwdA6OZ1AL1YmHWZWm8LLG7HjnuCA2j5rOw8Xp1");
}

static void
base62_of_16_bytes_is_known(void **state)
{
	uint8_t raw[16];
	char out[23] = {0};
	size_t i;

	for (i = 0; i < sizeof(raw); i++) {
		raw[i] = (uint8_t)(0xA0 + i);
	}
	assert_true(format_base62(out, 22, raw, sizeof(raw)));
	assert_string_equal(out, "4t6dfcjcRgWZ51V0BDzefP");

	memset(raw, 0xFF, sizeof(raw));
	assert_true(format_base62(out, 22, raw, sizeof(raw)));
	assert_string_equal(out, "7n42DGM5Tflk9n8mt7Fhc7");
}

static void
base62_of_checksums_is_known(void **state)
{
	const uint8_t check_crc[4] = {0xCB, 0xF4, 0x39, 0x26};
	const uint8_t max[4] = {0xFF, 0xFF, 0xFF, 0xFF};
	char out[7] = {0};

	assert_true(format_base62(out, 6, check_crc, 4));
	assert_string_equal(out, "3jZRME");
	assert_true(format_base62(out, 6, max, 4));
	assert_string_equal(out, "4gfFC3");
}

static void
base62_refuses_a_number_wider_than_width(void **state)
{
	const uint8_t max[4] = {0xFF, 0xFF, 0xFF, 0xFF};
	const uint8_t sixty_two[1] = {62};
	const uint8_t sixty_one[1] = {61};
	char out[6];

	/* 62^5 < 2^32 */
	assert_false(format_base62(out, 5, max, 4));
	assert_false(format_base62(out, 1, sixty_two, 1));
	assert_true(format_base62(out, 1, sixty_one, 1));
	assert_int_equal(out[0], 'z');
}

/*
 * Inputs of every length modulo the three bytes base62 reads at a time:
 * the digits are those of the whole big-endian number, and a number too
 * wide for width is still refused.
 */
static void
base62_of_any_length_is_known(void **state)
{
	const uint8_t six[6] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06};
	const uint8_t seven[7] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
	const uint8_t five[5] = {0x01, 0x02, 0x03, 0x04, 0x05};
	const uint8_t ones[7] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	const uint8_t two[2] = {0xFF, 0xFE};
	char out[11] = {0};

	assert_true(format_base62(out, 9, six, sizeof(six)));
	assert_string_equal(out, "00JVb3WII");
	assert_true(format_base62(out, 10, seven, sizeof(seven)));
	assert_string_equal(out, "01IYT0XLWR");
	memset(out, 0, sizeof(out));
	assert_true(format_base62(out, 6, five, sizeof(five)));
	assert_string_equal(out, "4iwreH");
	assert_true(format_base62(out, 3, two, sizeof(two)));
	assert_memory_equal(out, "H30", 3);
	memset(out, 0, sizeof(out));
	assert_true(format_base62(out, 10, ones, sizeof(ones)));
	assert_string_equal(out, "5K1WLnfhB1");

	/* 62^6 < 2^40 - 1 < 62^7 */
	memset(out, 0, sizeof(out));
	assert_true(format_base62(out, 7, ones, 5));
	assert_string_equal(out, "JMAIjoV");
	assert_false(format_base62(out, 6, ones, 5));
}

static void
base62_of_nothing_is_zeros(void **state)
{
	char out[4] = {0};

	assert_true(format_base62(out, 3, NULL, 0));
	assert_string_equal(out, "000");
}

/* ---- whole secrets ---- */

static void
secret_of_fixed_bytes_is_known(void **state)
{
	uint8_t raw[FORMAT_RAW_LEN];
	char out[FORMAT_SECRET_LEN + 1];
	size_t i;

	for (i = 0; i < sizeof(raw); i++) {
		raw[i] = (uint8_t)i;
	}
	format_secret(out, ENRT_TOKEN_PREFIX, raw);
	assert_string_equal(out, TOKEN_0_TO_31);
	format_secret(out, ENRT_CREDENTIAL_PREFIX, raw);
	assert_string_equal(out, CRED_0_TO_31);
}

static void
secret_of_zero_and_max_are_known(void **state)
{
	uint8_t raw[FORMAT_RAW_LEN] = {0};
	char out[FORMAT_SECRET_LEN + 1];

	format_secret(out, ENRT_TOKEN_PREFIX, raw);
	assert_string_equal(out, TOKEN_ZERO);

	memset(raw, 0xFF, sizeof(raw));
	format_secret(out, ENRT_TOKEN_PREFIX, raw);
	assert_string_equal(out, TOKEN_MAX);
}

static void
generated_secrets_pass_the_check(void **state)
{
	uint8_t raw[FORMAT_RAW_LEN];
	char out[FORMAT_SECRET_LEN + 1];
	int i;

	for (i = 0; i < 2000; i++) {
		randombytes_buf(raw, sizeof(raw));
		format_secret(out, ENRT_TOKEN_PREFIX, raw);
		assert_int_equal(strlen(out), ENRT_TOKEN_LEN);
		assert_true(enrt_token_check(out, strlen(out)));
		assert_false(enrt_credential_check(out, strlen(out)));

		format_secret(out, ENRT_CREDENTIAL_PREFIX, raw);
		assert_true(enrt_credential_check(out, strlen(out)));
		assert_false(enrt_token_check(out, strlen(out)));
	}
}

static void
check_accepts_known_tokens(void **state)
{
	assert_true(check(TOKEN_0_TO_31));
	assert_true(check(TOKEN_ZERO));
	assert_true(check(TOKEN_MAX));
	assert_true(enrt_credential_check(CRED_0_TO_31, 54));
}

/* ---- what the check refuses ---- */

static void
check_rejects_wrong_length(void **state)
{
	char longer[ENRT_TOKEN_LEN + 2];

	assert_false(enrt_token_check(TOKEN_MAX, 53));
	assert_false(enrt_token_check(TOKEN_MAX, 0));
	assert_false(enrt_token_check(NULL, 0));
	assert_false(enrt_token_check(NULL, ENRT_TOKEN_LEN));

	snprintf(longer, sizeof(longer), "%s0", TOKEN_MAX);
	assert_false(check(longer));
	snprintf(longer, sizeof(longer), "%s\n", TOKEN_MAX);
	assert_false(check(longer));
	snprintf(longer, sizeof(longer), " %s", TOKEN_MAX);
	assert_false(check(longer));
}

static void
check_looks_at_exactly_len_bytes(void **state)
{
	char buf[ENRT_TOKEN_LEN + 2];

	snprintf(buf, sizeof(buf), "%s\n", TOKEN_0_TO_31);
	assert_true(enrt_token_check(buf, ENRT_TOKEN_LEN));
	assert_false(enrt_token_check(buf, ENRT_TOKEN_LEN + 1));
}

static void
check_rejects_wrong_prefix(void **state)
{
	const char *prefixes[] = {
	    "ENRT_", "Enrt_", "enrt-", "enrc_", "xnrt_", "enrt0", "\0nrt_"};
	char text[ENRT_TOKEN_LEN + 1];
	size_t i;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		memcpy(text, TOKEN_0_TO_31, sizeof(text));
		memcpy(text, prefixes[i], 5);
		assert_false(enrt_token_check(text, ENRT_TOKEN_LEN));
	}
	assert_false(enrt_credential_check(TOKEN_0_TO_31, ENRT_TOKEN_LEN));
}

/* Every byte that is not base62, NUL included, at every position. */
static void
check_rejects_any_non_base62_byte(void **state)
{
	char text[ENRT_TOKEN_LEN + 1];
	size_t pos;
	int c;

	for (pos = FORMAT_PREFIX_LEN; pos < ENRT_TOKEN_LEN; pos++) {
		for (c = 0; c < 256; c++) {
			if (c != 0 && strchr(ALPHABET, c) != NULL) {
				continue;
			}
			memcpy(text, TOKEN_ZERO, sizeof(text));
			text[pos] = (char)c;
			assert_false(enrt_token_check(text, ENRT_TOKEN_LEN));
		}
	}
}

/* True when the last 6 characters are the checksum of the 43 before. */
static bool
checksum_matches(const char *text)
{
	uint32_t crc = format_crc32(text + 5, FORMAT_BODY_LEN);
	const uint8_t be[4] = {crc >> 24, crc >> 16, crc >> 8, crc};
	char expect[FORMAT_CHECK_LEN];

	assert_true(format_base62(expect, sizeof(expect), be, sizeof(be)));
	return memcmp(expect, text + 48, sizeof(expect)) == 0;
}

/*
 * Bodies with one stray byte whose checksum was computed over the bytes
 * as they stand, so that only the alphabet rule can refuse them.
 */
static void
check_rejects_stray_byte_under_a_matching_checksum(void **state)
{
	const char dash[] =
	    "enrt_000000000000000000000000000000000000000000-0V0SnO";
	const char nul[] = "enrt_00000000000000000000\0"
	                   "0000000000000000000000"
	                   "2GdvWl";
	const char space[] =
	    "enrt_zzzzzzzzzz 000000000000000000000000000000001FkzsB";
	const char high[] =
	    "enrt_000000000000000000000000000000000000000000\xff"
	    "27Dm8s";

	assert_int_equal(sizeof(nul) - 1, ENRT_TOKEN_LEN);
	assert_int_equal(sizeof(high) - 1, ENRT_TOKEN_LEN);
	assert_true(checksum_matches(dash));
	assert_true(checksum_matches(nul));
	assert_true(checksum_matches(space));
	assert_true(checksum_matches(high));

	assert_false(enrt_token_check(dash, ENRT_TOKEN_LEN));
	assert_false(enrt_token_check(nul, ENRT_TOKEN_LEN));
	assert_false(enrt_token_check(space, ENRT_TOKEN_LEN));
	assert_false(enrt_token_check(high, ENRT_TOKEN_LEN));
}

static void
check_rejects_body_of_2_to_the_256_and_above(void **state)
{
	assert_false(check(TOKEN_2_256));
	assert_false(check(TOKEN_ALL_Z));
}

/* "enrt_", the 43 characters of body, and their correct checksum. */
static void
token_of_body(char text[ENRT_TOKEN_LEN + 1], const char *body)
{
	uint32_t crc = format_crc32(body, FORMAT_BODY_LEN);
	uint8_t be[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16),
	    (uint8_t)(crc >> 8), (uint8_t)crc};

	memcpy(text, ENRT_TOKEN_PREFIX, FORMAT_PREFIX_LEN);
	memcpy(text + FORMAT_PREFIX_LEN, body, FORMAT_BODY_LEN);
	assert_true(format_base62(text + FORMAT_PREFIX_LEN + FORMAT_BODY_LEN,
	    FORMAT_CHECK_LEN, be, sizeof(be)));
	text[ENRT_TOKEN_LEN] = '\0';
}

/*
 * The first digit that differs from those of 2^256 - 1 decides, however
 * large or small the digits after it: one more there with zeros after
 * is too large, one less with the largest digits after fits.
 */
static void
check_decides_the_range_at_the_first_digit_that_differs(void **state)
{
	static const char alphabet[] = ALPHABET;
	const char *max = TOKEN_MAX + FORMAT_PREFIX_LEN;
	char body[FORMAT_BODY_LEN];
	char text[ENRT_TOKEN_LEN + 1];
	const char *digit;

	for (size_t i = 0; i < FORMAT_BODY_LEN; i++) {
		digit = strchr(alphabet, max[i]);
		memcpy(body, max, FORMAT_BODY_LEN);
		if (digit[1] != '\0') {
			body[i] = digit[1];
			memset(body + i + 1, '0', FORMAT_BODY_LEN - i - 1);
			token_of_body(text, body);
			assert_false(check(text));
		}
		if (digit != alphabet) {
			body[i] = digit[-1];
			memset(body + i + 1, 'z', FORMAT_BODY_LEN - i - 1);
			token_of_body(text, body);
			assert_true(check(text));
		}
	}
}

static void
check_rejects_bad_checksum(void **state)
{
	char text[ENRT_TOKEN_LEN + 1];
	size_t pos;
	const char *c;

	for (pos = FORMAT_PREFIX_LEN + FORMAT_BODY_LEN; pos < ENRT_TOKEN_LEN;
	     pos++) {
		for (c = ALPHABET; *c != '\0'; c++) {
			memcpy(text, TOKEN_0_TO_31, sizeof(text));
			if (text[pos] == *c) {
				continue;
			}
			text[pos] = *c;
			assert_false(check(text));
		}
	}
}

/*
 * Six base62 digits reach past 2^32: the check digits that spell the
 * checksum plus 2^32 (or plus any multiple of it) name the same 32 low
 * bits, and are still not the checksum.
 */
static void
check_rejects_checksum_plus_2_to_the_32(void **state)
{
	char text[ENRT_TOKEN_LEN + 1];
	const char *body = TOKEN_0_TO_31 + FORMAT_PREFIX_LEN;
	uint64_t crc = format_crc32(body, FORMAT_BODY_LEN);
	const uint64_t six_digits = 62ull * 62 * 62 * 62 * 62 * 62;
	uint8_t be[8];

	for (uint64_t k = 1; crc + (k << 32) < six_digits; k++) {
		uint64_t v = crc + (k << 32);

		for (int i = 7; i >= 0; i--, v >>= 8) {
			be[i] = (uint8_t)v;
		}
		memcpy(text, TOKEN_0_TO_31, sizeof(text));
		assert_true(
		    format_base62(text + FORMAT_PREFIX_LEN + FORMAT_BODY_LEN,
		        FORMAT_CHECK_LEN, be, sizeof(be)));
		assert_false(check(text));
	}
}

static void
check_rejects_changed_body_with_old_checksum(void **state)
{
	char text[ENRT_TOKEN_LEN + 1];
	size_t pos;

	for (pos = FORMAT_PREFIX_LEN; pos < FORMAT_PREFIX_LEN + 43; pos++) {
		memcpy(text, TOKEN_0_TO_31, sizeof(text));
		text[pos] = text[pos] == '1' ? '2' : '1';
		assert_false(check(text));
	}
}

static void
check_rejects_case_folded_token(void **state)
{
	char text[ENRT_TOKEN_LEN + 1];
	size_t i;

	memcpy(text, TOKEN_0_TO_31, sizeof(text));
	for (i = 0; i < ENRT_TOKEN_LEN; i++) {
		if (text[i] >= 'a' && text[i] <= 'z') {
			text[i] = (char)(text[i] - 'a' + 'A');
		}
	}
	assert_false(check(text));

	memcpy(text, TOKEN_0_TO_31, sizeof(text));
	assert_int_equal(TOKEN_0_TO_31[9], 'U');
	text[9] = 'u';
	assert_false(check(text));
}

/* ---- ids ---- */

static void
random_id_is_prefix_and_22_digits(void **state)
{
	char a[FORMAT_ID_MAX];
	char b[FORMAT_ID_MAX];

	format_random_id(a, "tok_");
	format_random_id(b, "tok_");
	assert_int_equal(strlen(a), 4 + FORMAT_ID_BODY_LEN);
	assert_memory_equal(a, "tok_", 4);
	assert_int_equal(strspn(a + 4, ALPHABET), FORMAT_ID_BODY_LEN);
	assert_true(format_id_check(a, "tok_"));
	assert_string_not_equal(a, b);
}

static void
time_id_is_prefix_and_22_digits(void **state)
{
	char id[FORMAT_ID_MAX];

	format_time_id(id, "tok_", INT64_C(1780000000000));
	assert_int_equal(strlen(id), 4 + FORMAT_ID_BODY_LEN);
	assert_memory_equal(id, "tok_", 4);
	assert_int_equal(strspn(id + 4, ALPHABET), FORMAT_ID_BODY_LEN);
	assert_true(format_id_check(id, "tok_"));
}

/* The time digits of an id made at ms (known answers from Python). */
static void
assert_time_digits(int64_t ms, const char *digits)
{
	char id[FORMAT_ID_MAX];

	format_time_id(id, "tok_", ms);
	assert_memory_equal(id + 4, digits, FORMAT_ID_TIME_LEN);
}

static void
time_id_begins_with_its_millisecond_in_base62(void **state)
{
	assert_time_digits(0, "00000000");
	assert_time_digits(61, "0000000z");
	assert_time_digits(62, "00000010");
	assert_time_digits(INT64_C(1780000000000), "0VKwsbDM");
	assert_time_digits(ID_TIME_LAST, "zzzzzzzz");
}

static void
time_id_clamps_a_time_it_cannot_spell(void **state)
{
	assert_time_digits(-1, "00000000");
	assert_time_digits(INT64_MIN, "00000000");
	assert_time_digits(ID_TIME_LAST + 1, "zzzzzzzz");
	assert_time_digits(INT64_MAX, "zzzzzzzz");
}

/*
 * Whatever the random part, an id of a later millisecond sorts after
 * one of an earlier millisecond, across every carry of the digits.
 */
static void
later_time_ids_sort_after_earlier_ones(void **state)
{
	const int64_t at[] = {0, 61, 62, 3843, 3844, INT64_C(1780000000000),
	    INT64_C(1780000000061), ID_TIME_LAST - 1};
	char early[FORMAT_ID_MAX], late[FORMAT_ID_MAX];

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		for (int round = 0; round < 200; round++) {
			format_time_id(early, "tok_", at[i]);
			format_time_id(late, "tok_", at[i] + 1);
			if (strcmp(early, late) >= 0) {
				fail_msg(
				    "%s does not sort before %s", early, late);
			}
		}
	}
}

static void *
make_ids(void *arg)
{
	char(*ids)[FORMAT_ID_MAX] = arg;

	for (int i = 0; i < IDS_PER_THREAD; i++) {
		format_time_id(ids[i], "tok_", INT64_C(1780000000000));
	}
	return NULL;
}

static int
compare_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Ids of one millisecond, made on several threads at once, all differ. */
static void
time_ids_of_one_millisecond_differ_across_threads(void **state)
{
	size_t n = (size_t)ID_THREADS * IDS_PER_THREAD;
	char(*ids)[FORMAT_ID_MAX] = calloc(n, FORMAT_ID_MAX);
	pthread_t threads[ID_THREADS];

	assert_non_null(ids);
	for (int i = 0; i < ID_THREADS; i++) {
		assert_int_equal(pthread_create(&threads[i], NULL, make_ids,
		                     ids + (size_t)i * IDS_PER_THREAD),
		    0);
	}
	for (int i = 0; i < ID_THREADS; i++) {
		pthread_join(threads[i], NULL);
	}

	qsort(ids, n, FORMAT_ID_MAX, compare_ids);
	for (size_t i = 1; i < n; i++) {
		assert_memory_equal(ids[i], "tok_0VKwsbDM", 12);
		assert_string_not_equal(ids[i - 1], ids[i]);
	}
	free(ids);
}

static void
id_check_rejects_malformed_ids(void **state)
{
	assert_true(format_id_check("app_4t6dfcjcRgWZ51V0BDzefP", "app_"));
	assert_false(format_id_check("tok_4t6dfcjcRgWZ51V0BDzefP", "app_"));
	assert_false(format_id_check("app_4t6dfcjcRgWZ51V0BDzef", "app_"));
	assert_false(format_id_check("app_4t6dfcjcRgWZ51V0BDzefPP", "app_"));
	assert_false(format_id_check("app_4t6dfcjcRgWZ51V0BDze-P", "app_"));
	assert_false(format_id_check("app_", "app_"));
	assert_false(format_id_check(NULL, "app_"));
}

/* ---- HTTP headers ---- */

static void
from_header_takes_bearer_token(void **state)
{
	const char *value = "Bearer " TOKEN_0_TO_31;
	const char *token = NULL;
	size_t len = 0;
	enrt_error err;

	assert_int_equal(
	    enrt_token_from_header(value, NULL, &token, &len, &err), ENRT_OK);
	assert_ptr_equal(token, value + 7);
	assert_int_equal(len, ENRT_TOKEN_LEN);
}

static void
from_header_ignores_case_of_scheme(void **state)
{
	const char *values[] = {"bearer " TOKEN_0_TO_31,
	    "BEARER " TOKEN_0_TO_31, "bEaReR " TOKEN_0_TO_31};
	const char *token;
	size_t len;
	enrt_error err;
	size_t i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(enrt_token_from_header(
		                     values[i], NULL, &token, &len, &err),
		    ENRT_OK);
		assert_int_equal(len, ENRT_TOKEN_LEN);
	}
}

static void
from_header_takes_bare_api_key(void **state)
{
	const char *token = NULL;
	size_t len = 0;
	enrt_error err;

	assert_int_equal(
	    enrt_token_from_header(NULL, TOKEN_MAX, &token, &len, &err),
	    ENRT_OK);
	assert_ptr_equal(token, TOKEN_MAX);
	assert_int_equal(len, ENRT_TOKEN_LEN);
}

static void
assert_refused(
    const char *authorization, const char *api_key, const char *header)
{
	const char *token = NULL;
	size_t len = 0;
	enrt_error err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(
	    enrt_token_from_header(authorization, api_key, &token, &len, &err),
	    ENRT_INVALID_ARGUMENT);
	assert_int_equal(err.status, ENRT_INVALID_ARGUMENT);
	assert_non_null(strstr(err.message, header));
	assert_null(strstr(err.message, "enrt_0"));
	assert_null(strstr(err.message, "3aUlTJC"));
	assert_null(token);
}

static void
from_header_rejects_malformed_authorization(void **state)
{
	const char *values[] = {
	    "Bearer  " TOKEN_0_TO_31,
	    "Bearer\t" TOKEN_0_TO_31,
	    "Bearer" TOKEN_0_TO_31,
	    " Bearer " TOKEN_0_TO_31,
	    "Bearer " TOKEN_0_TO_31 " ",
	    "Bearer " TOKEN_0_TO_31 "\r\n",
	    "Basic " TOKEN_0_TO_31,
	    "Token " TOKEN_0_TO_31,
	    TOKEN_0_TO_31,
	    "Bearer enrt_003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf1Yo7hQ",
	    "Bearer ",
	    "Bearer",
	    "",
	};
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		assert_refused(values[i], NULL, "Authorization");
	}
}

static void
from_header_rejects_malformed_api_key(void **state)
{
	const char *values[] = {
	    "Bearer " TOKEN_0_TO_31,
	    " " TOKEN_0_TO_31,
	    TOKEN_0_TO_31 "\n",
	    "enrt_003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf1Yo7hQ",
	    CRED_0_TO_31,
	    "",
	};
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		assert_refused(NULL, values[i], "X-Api-Key");
	}
}

static void
from_header_wants_exactly_one_header(void **state)
{
	assert_refused("Bearer " TOKEN_0_TO_31, TOKEN_0_TO_31, "exactly one");
	assert_refused(NULL, NULL, "exactly one");
}

static void
from_header_accepts_null_error(void **state)
{
	const char *token;
	size_t len;

	assert_int_equal(
	    enrt_token_from_header(NULL, NULL, &token, &len, NULL),
	    ENRT_INVALID_ARGUMENT);
	assert_int_equal(
	    enrt_token_from_header(NULL, TOKEN_ZERO, NULL, &len, NULL),
	    ENRT_INVALID_ARGUMENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(crc32_of_check_string_is_cbf43926),
	    cmocka_unit_test(crc32_of_nothing_is_zero),
	    cmocka_unit_test(crc32_of_43_zero_digits_is_known),
	    cmocka_unit_test(crc32_of_a_43_byte_sentence_is_known),
	    cmocka_unit_test(crc32_matches_bit_by_bit_at_every_length),
	    cmocka_unit_test(base62_of_zero_is_all_zero_digits),
	    cmocka_unit_test(base62_of_one_ends_in_one),
	    cmocka_unit_test(base62_of_all_ones_is_known),
	    cmocka_unit_test(base62_of_16_bytes_is_known),
	    cmocka_unit_test(base62_of_checksums_is_known),
	    cmocka_unit_test(base62_refuses_a_number_wider_than_width),
	    cmocka_unit_test(base62_of_any_length_is_known),
	    cmocka_unit_test(base62_of_nothing_is_zeros),
	    cmocka_unit_test(secret_of_fixed_bytes_is_known),
	    cmocka_unit_test(secret_of_zero_and_max_are_known),
	    cmocka_unit_test(generated_secrets_pass_the_check),
	    cmocka_unit_test(check_accepts_known_tokens),
	    cmocka_unit_test(check_rejects_wrong_length),
	    cmocka_unit_test(check_looks_at_exactly_len_bytes),
	    cmocka_unit_test(check_rejects_wrong_prefix),
	    cmocka_unit_test(check_rejects_any_non_base62_byte),
	    cmocka_unit_test(
	        check_rejects_stray_byte_under_a_matching_checksum),
	    cmocka_unit_test(check_rejects_body_of_2_to_the_256_and_above),
	    cmocka_unit_test(
	        check_decides_the_range_at_the_first_digit_that_differs),
	    cmocka_unit_test(check_rejects_bad_checksum),
	    cmocka_unit_test(check_rejects_checksum_plus_2_to_the_32),
	    cmocka_unit_test(check_rejects_changed_body_with_old_checksum),
	    cmocka_unit_test(check_rejects_case_folded_token),
	    cmocka_unit_test(random_id_is_prefix_and_22_digits),
	    cmocka_unit_test(time_id_is_prefix_and_22_digits),
	    cmocka_unit_test(time_id_begins_with_its_millisecond_in_base62),
	    cmocka_unit_test(time_id_clamps_a_time_it_cannot_spell),
	    cmocka_unit_test(later_time_ids_sort_after_earlier_ones),
	    cmocka_unit_test(
	        time_ids_of_one_millisecond_differ_across_threads),
	    cmocka_unit_test(id_check_rejects_malformed_ids),
	    cmocka_unit_test(from_header_takes_bearer_token),
	    cmocka_unit_test(from_header_ignores_case_of_scheme),
	    cmocka_unit_test(from_header_takes_bare_api_key),
	    cmocka_unit_test(from_header_rejects_malformed_authorization),
	    cmocka_unit_test(from_header_rejects_malformed_api_key),
	    cmocka_unit_test(from_header_wants_exactly_one_header),
	    cmocka_unit_test(from_header_accepts_null_error),
	};

	return cmocka_run_group_tests(tests, init_sodium, NULL);
}
