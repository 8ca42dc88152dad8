/*
 * A libFuzzer harness for the text forms of tokens and credentials:
 * enrt_token_check, enrt_credential_check, enrt_token_from_header and
 * format_secret.
 *
 * An input is one byte of header mode and then the text.  Each input is
 * put through four checks:
 *
 *   - the token and credential checks answer true exactly when the text
 *     is the prefix and 49 base62 characters whose first 43 are a number
 *     below 2^256 that format_secret writes back as the same text: the
 *     decoding is done here, by plain long multiplication, so that the
 *     checker and the writer are held to each other;
 *   - enrt_token_from_header, with the text as the Authorization or the
 *     X-Api-Key value (or both, or neither, by the mode byte), accepts
 *     exactly "Bearer " (scheme in any case) and a token, or a bare
 *     token, points into the value, and never quotes it in an error;
 *   - format_secret of the text's first 32 bytes makes a secret that
 *     passes its check, and that fails it once any one character is
 *     changed to any other byte (the position and the byte come from the
 *     input);
 *   - format_id_check does not read past the text's end.
 *
 * A broken rule aborts, which libFuzzer reports as a crash.  Runs on
 * libFuzzer's thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "enrt.h"
#include "format.h"

#define BEARER     "bearer "
#define BEARER_LEN 7
#define QUOTE_RUN  20

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
require(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_format: broken rule: %s\n", what);
		abort();
	}
}

/* ------------------------------------------------------------------ */
/* The checks against a decoding of their own                          */

static int
digit_of(unsigned char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'A' && c <= 'Z') {
		return c - 'A' + 10;
	}
	if (c >= 'a' && c <= 'z') {
		return c - 'a' + 36;
	}
	return -1;
}

static bool
all_digits(const char *text, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (digit_of((unsigned char)text[i]) < 0) {
			return false;
		}
	}
	return true;
}

/*
 * Decodes n base62 digits into a 33-byte big-endian number, which needs
 * more than 256 bits when acc[0] is not zero.
 */
static void
decode_base62(const char *text, size_t n, uint8_t acc[FORMAT_RAW_LEN + 1])
{
	memset(acc, 0, FORMAT_RAW_LEN + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned carry = (unsigned)digit_of((unsigned char)text[i]);

		for (size_t k = FORMAT_RAW_LEN + 1; k-- > 0;) {
			carry += acc[k] * 62u;
			acc[k] = (uint8_t)carry;
			carry >>= 8;
		}
	}
}

/* What the check must answer for text under prefix. */
static bool
expected_check(const char *text, size_t len, const char *prefix)
{
	const char *body = text + FORMAT_PREFIX_LEN;
	uint8_t acc[FORMAT_RAW_LEN + 1];
	char again[FORMAT_SECRET_LEN + 1];

	if (len != FORMAT_SECRET_LEN ||
	    memcmp(text, prefix, FORMAT_PREFIX_LEN) != 0 ||
	    !all_digits(body, FORMAT_BODY_LEN + FORMAT_CHECK_LEN)) {
		return false;
	}
	decode_base62(body, FORMAT_BODY_LEN, acc);
	if (acc[0] != 0) {
		return false;
	}
	format_secret(again, prefix, acc + 1);
	return memcmp(again, text, FORMAT_SECRET_LEN) == 0;
}

static void
check_checks(const char *text, size_t len)
{
	require(enrt_token_check(text, len) ==
	            expected_check(text, len, ENRT_TOKEN_PREFIX),
	    "enrt_token_check agrees with decoding and writing back");
	require(enrt_credential_check(text, len) ==
	            expected_check(text, len, ENRT_CREDENTIAL_PREFIX),
	    "enrt_credential_check agrees with decoding and writing back");
}

/* ------------------------------------------------------------------ */
/* Headers                                                             */

static bool
bearer_scheme(const char *value)
{
	size_t i;

	for (i = 0; i < BEARER_LEN && value[i] != '\0'; i++) {
		char c = value[i];

		if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
		}
		if (c != BEARER[i]) {
			return false;
		}
	}
	return i == BEARER_LEN;
}

/* Where the token of this header value must be found, or NULL. */
static const char *
expected_token(const char *value, bool authorization)
{
	const char *token = value;

	if (authorization) {
		if (!bearer_scheme(value)) {
			return NULL;
		}
		token += BEARER_LEN;
	}
	return enrt_token_check(token, strlen(token)) ? token : NULL;
}

/*
 * True when message holds a run of QUOTE_RUN base62 characters of value:
 * no English word is that long, so only a quote of a token-like value
 * would put one there.
 */
static bool
quotes(const char *message, const char *value)
{
	char run[QUOTE_RUN + 1];
	size_t n = 0;

	for (const char *p = value; *p != '\0'; p++) {
		n = digit_of((unsigned char)*p) < 0 ? 0 : n + 1;
		if (n == QUOTE_RUN) {
			memcpy(run, p + 1 - QUOTE_RUN, QUOTE_RUN);
			run[QUOTE_RUN] = '\0';
			return strstr(message, run) != NULL;
		}
	}
	return false;
}

/*
 * The mode byte's low two bits: the value goes in Authorization (1), in
 * X-Api-Key (2), in both (3) or in neither (0).
 */
static void
check_header(unsigned mode, const char *value)
{
	const char *authorization = (mode & 1) ? value : NULL;
	const char *api_key = (mode & 2) ? value : NULL;
	const char *want = NULL, *token = NULL;
	enrt_error e = {.status = ENRT_OK};
	enrt_status st;
	size_t len = 0;

	if (mode == 1 || mode == 2) {
		want = expected_token(value, mode == 1);
	}
	st = enrt_token_from_header(authorization, api_key, &token, &len, &e);
	require((st == ENRT_OK) == (want != NULL),
	    "a header value is accepted exactly when it holds a token");
	if (st == ENRT_OK) {
		require(token == want && len == FORMAT_SECRET_LEN,
		    "the token found is the one in the value");
		return;
	}
	require(st == ENRT_INVALID_ARGUMENT && e.status == st &&
	            memchr(e.message, '\0', sizeof(e.message)) != NULL &&
	            e.message[0] != '\0',
	    "a refused header gets INVALID_ARGUMENT and a message");
	require(!quotes(e.message, value),
	    "a refused header's message does not quote the value");
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */

static void
check_round_trip(const char *prefix, const uint8_t raw[FORMAT_RAW_LEN],
    size_t where, uint8_t byte)
{
	char secret[FORMAT_SECRET_LEN + 1];
	size_t at = where % FORMAT_SECRET_LEN;

	format_secret(secret, prefix, raw);
	require(strlen(secret) == FORMAT_SECRET_LEN &&
	            format_secret_check(secret, FORMAT_SECRET_LEN, prefix),
	    "a secret just written passes its check");

	if ((uint8_t)secret[at] == byte) {
		byte ^= 0x01;
	}
	secret[at] = (char)byte;
	require(!format_secret_check(secret, FORMAT_SECRET_LEN, prefix),
	    "a secret with one character changed fails its check");
}

static void
check_round_trips(const uint8_t *text, size_t len)
{
	uint8_t raw[FORMAT_RAW_LEN] = {0};
	size_t where = len > 0 ? text[len - 1] : 0;
	uint8_t byte = len > 1 ? text[len - 2] : 0;

	memcpy(raw, text, len < sizeof(raw) ? len : sizeof(raw));
	check_round_trip(ENRT_TOKEN_PREFIX, raw, where, byte);
	check_round_trip(ENRT_CREDENTIAL_PREFIX, raw, where + 1, byte);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size == 0) {
		return 0;
	}
	/* A copy of exactly the text, so that a read past it is caught,
	 * and one with a NUL for the functions that take C strings. */
	text = malloc(size);
	require(text != NULL, "memory for the text");
	memcpy(text, data + 1, size - 1);
	check_checks(text, size - 1);
	free(text);

	text = malloc(size);
	require(text != NULL, "memory for the text");
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	check_header(data[0] & 3u, text);
	(void)format_id_check(text, "tok_");
	free(text);

	check_round_trips(data + 1, size - 1);
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "fuzz_format: sodium_init failed\n");
		exit(1);
	}
	return 0;
}
