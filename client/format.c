/*
 * The text form of secrets and ids: base62, CRC-32, the offline check of
 * tokens and credentials, and the reading of a token out of an HTTP
 * header.  Owns no state; every function is pure apart from the random
 * bytes that format_random_id and format_time_id draw.  Safe on any
 * thread.
 *
 * The check runs on attacker-chosen text next to real secrets, so it
 * never branches on the bytes of the secret part: every byte is decoded,
 * every flaw is folded into one flag, and the answer is read once at the
 * end.  Only the length decides how much work is done.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "enrt.h"
#include "format.h"

#define BEARER     "bearer "
#define BEARER_LEN 7

/*
 * CRC-32 is linear over GF(2): the register after the bitwise steps of
 * one word (or byte) is the XOR of what those steps make of each set
 * bit alone.  crc_word[j] is the register after 32 steps from bit j
 * alone, crc_byte[j] after 8 (with polynomial 0xEDB88320, as zlib).
 * Folding a word in is then 32 masked XORs whose index is the loop's,
 * never the data's: unlike a table indexed by the byte (zlib's), no
 * memory access depends on the secret being summed.
 *
 * The masked XORs are done four at a time in vectors (GCC's vector
 * extensions, which clang shares: SSE2 on x86-64, plain code
 * elsewhere), a lane per bit, so that a word costs eight steps of a few
 * instructions.  Lane i of step s stands for bit 4s + i.
 */
typedef uint32_t u32x4 __attribute__((vector_size(16)));

static const u32x4 crc_word[8] = {
    {0xB8BC6765u, 0xAA09C88Bu, 0x8F629757u, 0xC5B428EFu},
    {0x5019579Fu, 0xA032AF3Eu, 0x9B14583Du, 0xED59B63Bu},
    {0x01C26A37u, 0x0384D46Eu, 0x0709A8DCu, 0x0E1351B8u},
    {0x1C26A370u, 0x384D46E0u, 0x709A8DC0u, 0xE1351B80u},
    {0x191B3141u, 0x32366282u, 0x646CC504u, 0xC8D98A08u},
    {0x4AC21251u, 0x958424A2u, 0xF0794F05u, 0x3B83984Bu},
    {0x77073096u, 0xEE0E612Cu, 0x076DC419u, 0x0EDB8832u},
    {0x1DB71064u, 0x3B6E20C8u, 0x76DC4190u, 0xEDB88320u},
};

static const u32x4 crc_byte[2] = {
    {0x77073096u, 0xEE0E612Cu, 0x076DC419u, 0x0EDB8832u},
    {0x1DB71064u, 0x3B6E20C8u, 0x76DC4190u, 0xEDB88320u},
};

/* The base62 digits of 2^256 - 1, the largest body, most significant
 * first. */
static const uint8_t body_max[FORMAT_BODY_LEN] = {60, 43, 45, 54, 46, 58, 39,
    10, 6, 24, 35, 1, 10, 21, 1, 34, 48, 17, 32, 35, 32, 48, 8, 21, 21, 16, 7,
    17, 45, 49, 56, 12, 10, 2, 45, 5, 53, 24, 58, 8, 33, 51, 1};

/* The XOR of k's lanes for each bit of the 4 * steps low bits of x. */
static uint32_t
crc_fold(uint32_t x, const u32x4 *k, int steps)
{
	const u32x4 xs = {x, x, x, x};
	u32x4 bits = {1u, 2u, 4u, 8u};
	u32x4 r = {0, 0, 0, 0};

	for (int s = 0; s < steps; s++) {
		r ^= k[s] & (u32x4)((xs & bits) != 0);
		bits <<= 4;
	}
	return r[0] ^ r[1] ^ r[2] ^ r[3];
}

uint32_t
format_crc32(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t crc = 0xFFFFFFFFu;
	size_t i = 0;

	for (; i + 4 <= len; i += 4) {
		crc ^= (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 |
		       (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24;
		crc = crc_fold(crc, crc_word, 8);
	}
	for (; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 8) ^ crc_fold(crc, crc_byte, 2);
	}
	return crc ^ 0xFFFFFFFFu;
}

/* All ones when a < b, else zero; a and b below 2^31. */
static uint32_t
lt_mask(uint32_t a, uint32_t b)
{
	return 0u - ((a - b) >> 31);
}

/* The base62 character of digit d (0..61), without a table lookup. */
static char
digit_char(uint32_t d)
{
	uint32_t c = d + '0';

	c += ~lt_mask(d, 10) & ('A' - '0' - 10);
	c += ~lt_mask(d, 36) & ('a' - 'A' - 26);
	return (char)c;
}

/*
 * The value of base62 character c, or 0; *bad gets all ones or-ed in when
 * c is not a base62 character.
 */
static uint32_t
char_digit(uint8_t c, uint32_t *bad)
{
	uint32_t dig = ~lt_mask(c, '0') & lt_mask(c, '9' + 1);
	uint32_t up = ~lt_mask(c, 'A') & lt_mask(c, 'Z' + 1);
	uint32_t lo = ~lt_mask(c, 'a') & lt_mask(c, 'z' + 1);

	*bad |= ~(dig | up | lo);
	return (dig & (c - '0')) | (up & (c - 'A' + 10)) |
	       (lo & (c - 'a' + 36));
}

/* How many bytes of its input format_base62 takes at a time. */
#define GROUP_BYTES 3

/* Up to GROUP_BYTES bytes of raw from at, as one big-endian number. */
static uint32_t
byte_group(const uint8_t *raw, size_t at, size_t len)
{
	uint32_t v = 0;

	for (size_t i = 0; i < len; i++) {
		v = v << 8 | raw[at + i];
	}
	return v;
}

/*
 * Works digit by digit in out itself: for each group of input bytes, the
 * number held in out is multiplied by 256 for every byte of the group
 * and the group added.  No buffer is needed, and the carry that falls
 * off the top is the overflow.  With groups of three bytes the carry
 * stays below 2^24, so a digit times 2^24 plus the carry is below 2^30:
 * 32-bit arithmetic, whose division by the constant 62 compilers make a
 * multiplication on every target.  Every loop runs a number of times
 * fixed by width and n, so no step depends on the secret's bytes.
 */
bool
format_base62(char *out, size_t width, const uint8_t *raw, size_t n)
{
	uint32_t overflow = 0;
	uint32_t carry;
	size_t at, len, j;

	memset(out, 0, width);
	/* The first group takes what is left over, so the others are full. */
	len = n % GROUP_BYTES != 0 ? n % GROUP_BYTES : GROUP_BYTES;
	for (at = 0; at < n; at += len, len = GROUP_BYTES) {
		carry = byte_group(raw, at, len);
		for (j = width; j > 0; j--) {
			carry += (uint32_t)(uint8_t)out[j - 1] << (8 * len);
			out[j - 1] = (char)(carry % 62);
			carry /= 62;
		}
		overflow |= carry;
	}

	for (j = 0; j < width; j++) {
		out[j] = digit_char((uint8_t)out[j]);
	}
	return overflow == 0;
}

/*
 * Any CRC fits in six digits, so the result of format_base62 needs no
 * test; testing it would branch on bytes derived from the secret.
 */
_Static_assert(62ull * 62 * 62 * 62 * 62 * 62 > 0xFFFFFFFFull,
    "a CRC-32 fits in FORMAT_CHECK_LEN base62 digits");

/* Writes the 6-character checksum of the 43-character body. */
static void
checksum(char out[FORMAT_CHECK_LEN], const char *body)
{
	uint32_t crc = format_crc32(body, FORMAT_BODY_LEN);
	uint8_t be[4];

	be[0] = (uint8_t)(crc >> 24);
	be[1] = (uint8_t)(crc >> 16);
	be[2] = (uint8_t)(crc >> 8);
	be[3] = (uint8_t)crc;
	(void)format_base62(out, FORMAT_CHECK_LEN, be, sizeof(be));
}

void
format_secret(char out[FORMAT_SECRET_LEN + 1], const char *prefix,
    const uint8_t raw[FORMAT_RAW_LEN])
{
	char *body = out + FORMAT_PREFIX_LEN;
	bool fits;

	assert(strlen(prefix) == FORMAT_PREFIX_LEN);
	memcpy(out, prefix, FORMAT_PREFIX_LEN);

	fits = format_base62(body, FORMAT_BODY_LEN, raw, FORMAT_RAW_LEN);
	assert(fits);
	(void)fits;

	checksum(body + FORMAT_BODY_LEN, body);
	out[FORMAT_SECRET_LEN] = '\0';
}

/*
 * The text after the prefix, body and checksum, is decoded sixteen
 * characters at a time in vectors of bytes, with masks in place of
 * branches, into digits[].  Past its 49 characters the buffer holds
 * '0's, which decode cleanly to zeros that nothing reads.
 */
typedef uint8_t u8x16 __attribute__((vector_size(16)));
typedef uint64_t u64x2 __attribute__((vector_size(16)));

#define CHECKED_LEN  (FORMAT_BODY_LEN + FORMAT_CHECK_LEN)
#define DIGITS_SPACE 64

_Static_assert(CHECKED_LEN <= DIGITS_SPACE, "the checked text fits");

/* Non-zero when any of them is not base62. */
static uint32_t
decode_checked(uint8_t digits[DIGITS_SPACE], const char *text)
{
	uint8_t chars[DIGITS_SPACE];
	u8x16 c, dig, up, lo, bad = {0};
	u64x2 any;

	memset(chars, '0', sizeof(chars));
	memcpy(chars, text, CHECKED_LEN);
	for (size_t at = 0; at < DIGITS_SPACE; at += sizeof(c)) {
		memcpy(&c, chars + at, sizeof(c));
		dig = (u8x16)((c >= '0') & (c <= '9'));
		up = (u8x16)((c >= 'A') & (c <= 'Z'));
		lo = (u8x16)((c >= 'a') & (c <= 'z'));
		bad |= ~(dig | up | lo);
		c = (dig & (c - '0')) | (up & (c - ('A' - 10))) |
		    (lo & (c - ('a' - 36)));
		memcpy(digits + at, &c, sizeof(c));
	}
	any = (u64x2)bad;
	any[0] |= any[1];
	return (uint32_t)any[0] | (uint32_t)(any[0] >> 32);
}

/*
 * Non-zero when the body's value needs more than 256 bits.  43 digits
 * are fixed-width, so the value fits exactly when the digits, read as a
 * word, are not above those of 2^256 - 1: the first digit that differs
 * decides, and masks carry the decision through the digits after it
 * instead of a branch.
 */
static uint32_t
body_too_big(const uint8_t digits[FORMAT_BODY_LEN])
{
	uint32_t above = 0, below = 0;
	uint32_t open;

	for (size_t i = 0; i < FORMAT_BODY_LEN; i++) {
		open = ~(above | below);
		above |= open & lt_mask(body_max[i], digits[i]);
		below |= open & lt_mask(digits[i], body_max[i]);
	}
	return above;
}

/*
 * Non-zero unless the six check digits, read as a number, are crc.
 * Fixed-width base62 has one spelling per number, so this is the same
 * as comparing them with the checksum's text.
 */
static uint32_t
check_differs(const uint8_t digits[FORMAT_CHECK_LEN], uint32_t crc)
{
	uint64_t value = 0;

	for (size_t i = 0; i < FORMAT_CHECK_LEN; i++) {
		value = value * 62 + digits[i];
	}
	value ^= crc;
	return (uint32_t)value | (uint32_t)(value >> 32);
}

/* Non-zero when the n bytes at a and b differ; time depends on n only. */
static uint32_t
differ(const char *a, const char *b, size_t n)
{
	uint32_t d = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		d |= (uint8_t)a[i] ^ (uint8_t)b[i];
	}
	return d;
}

bool
format_secret_check(const char *text, size_t len, const char *prefix)
{
	const char *body = text + FORMAT_PREFIX_LEN;
	uint8_t digits[DIGITS_SPACE];
	uint32_t bad;

	if (text == NULL || prefix == NULL || len != FORMAT_SECRET_LEN) {
		return false;
	}
	assert(strlen(prefix) == FORMAT_PREFIX_LEN);

	bad = differ(text, prefix, FORMAT_PREFIX_LEN);
	bad |= decode_checked(digits, body);
	bad |= body_too_big(digits);
	bad |= check_differs(
	    digits + FORMAT_BODY_LEN, format_crc32(body, FORMAT_BODY_LEN));
	return bad == 0;
}

void
format_random_id(char *out, const char *prefix)
{
	size_t plen = strlen(prefix);
	uint8_t raw[16];
	bool fits;

	assert(plen + FORMAT_ID_BODY_LEN < FORMAT_ID_MAX);
	memcpy(out, prefix, plen);

	randombytes_buf(raw, sizeof(raw));
	fits = format_base62(out + plen, FORMAT_ID_BODY_LEN, raw, sizeof(raw));
	assert(fits);
	(void)fits;

	out[plen + FORMAT_ID_BODY_LEN] = '\0';
}

/* 62^8 - 1: the last millisecond that FORMAT_ID_TIME_LEN digits hold. */
#define ID_TIME_LAST INT64_C(218340105584895)

/*
 * Base62 digits in the order 0-9, A-Z, a-z are in ASCII order too, so
 * fixed-width digits of a time compare as bytes as the times do.  The
 * random part is the last 14 of the 22 digits of 128 random bits, their
 * value modulo 62^14: off uniform by less than 2^-44, which leaves 83
 * bits of chance between two ids of one millisecond.
 */
void
format_time_id(char *out, const char *prefix, int64_t ms)
{
	size_t plen = strlen(prefix);
	char digits[FORMAT_ID_BODY_LEN];
	uint8_t raw[16], be[8];
	uint64_t when;
	bool fits;

	assert(plen + FORMAT_ID_BODY_LEN < FORMAT_ID_MAX);
	memcpy(out, prefix, plen);

	when = ms < 0 ? 0 : (uint64_t)(ms < ID_TIME_LAST ? ms : ID_TIME_LAST);
	for (int i = 7; i >= 0; i--, when >>= 8) {
		be[i] = (uint8_t)when;
	}
	fits = format_base62(out + plen, FORMAT_ID_TIME_LEN, be, sizeof(be));
	assert(fits);

	randombytes_buf(raw, sizeof(raw));
	fits = format_base62(digits, FORMAT_ID_BODY_LEN, raw, sizeof(raw));
	assert(fits);
	(void)fits;
	memcpy(out + plen + FORMAT_ID_TIME_LEN, digits + FORMAT_ID_TIME_LEN,
	    FORMAT_ID_BODY_LEN - FORMAT_ID_TIME_LEN);

	out[plen + FORMAT_ID_BODY_LEN] = '\0';
}

bool
format_id_check(const char *text, const char *prefix)
{
	uint32_t bad = 0;
	size_t plen;
	size_t i;

	if (text == NULL || prefix == NULL) {
		return false;
	}
	plen = strlen(prefix);
	if (strncmp(text, prefix, plen) != 0 ||
	    strnlen(text + plen, FORMAT_ID_BODY_LEN + 1) !=
	        FORMAT_ID_BODY_LEN) {
		return false;
	}

	for (i = 0; i < FORMAT_ID_BODY_LEN; i++) {
		char_digit((uint8_t)text[plen + i], &bad);
	}
	return bad == 0;
}

bool
enrt_token_check(const char *text, size_t len)
{
	return format_secret_check(text, len, ENRT_TOKEN_PREFIX);
}

bool
enrt_credential_check(const char *text, size_t len)
{
	return format_secret_check(text, len, ENRT_CREDENTIAL_PREFIX);
}

/* Fills err, which may be NULL, and returns ENRT_INVALID_ARGUMENT. */
static enrt_status
header_error(enrt_error *err, const char *message)
{
	if (err != NULL) {
		err->status = ENRT_INVALID_ARGUMENT;
		snprintf(err->message, sizeof(err->message), "%s", message);
	}
	return ENRT_INVALID_ARGUMENT;
}

/* True when value starts with "Bearer " in any case of the scheme. */
static bool
has_bearer_scheme(const char *value)
{
	size_t i;

	for (i = 0; i < BEARER_LEN; i++) {
		char c = value[i];

		if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
		}
		if (c != BEARER[i]) {
			return false;
		}
	}
	return true;
}

/* The token of an Authorization value, or NULL when it is not one. */
static const char *
bearer_token(const char *value, size_t *len)
{
	const char *token;

	if (!has_bearer_scheme(value)) {
		return NULL;
	}
	token = value + BEARER_LEN;
	*len = strlen(token);
	return enrt_token_check(token, *len) ? token : NULL;
}

/* The token of an X-Api-Key value, or NULL when it is not one. */
static const char *
api_key_token(const char *value, size_t *len)
{
	*len = strlen(value);
	return enrt_token_check(value, *len) ? value : NULL;
}

/*
 * The messages never quote the header: what a client sends there may be
 * a real token with one character wrong, and errors end up in logs.
 */
enrt_status
enrt_token_from_header(const char *authorization, const char *api_key,
    const char **token, size_t *len, enrt_error *err)
{
	const char *found;
	size_t n = 0;

	if (token == NULL || len == NULL) {
		return header_error(err, "token, len: must not be NULL");
	}
	if ((authorization == NULL) == (api_key == NULL)) {
		return header_error(err,
		    "Authorization, X-Api-Key: exactly one "
		    "of the two headers must be given");
	}

	if (authorization != NULL) {
		found = bearer_token(authorization, &n);
		if (found == NULL) {
			return header_error(err,
			    "Authorization: must be \"Bearer\", one space and "
			    "a well-formed enrt_ token, and nothing else");
		}
	} else {
		found = api_key_token(api_key, &n);
		if (found == NULL) {
			return header_error(err,
			    "X-Api-Key: must be a well-formed enrt_ token and "
			    "nothing else");
		}
	}

	*token = found;
	*len = n;
	return ENRT_OK;
}
