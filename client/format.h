/*
 * The text form of tokens, credentials and ids, shared by libenrt and
 * enrtd so that both agree on it to the byte.
 *
 * A secret is "enrt_" (token) or "enrc_" (credential), then 43 base62
 * characters that encode 32 random bytes as one big-endian number, zero
 * padded, then 6 base62 characters that encode the CRC-32 (IEEE 802.3, as
 * zlib computes it) of those 43 characters, zero padded.  Base62 digits
 * run 0-9, A-Z, a-z.
 */
#ifndef ENRT_FORMAT_H
#define ENRT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FORMAT_PREFIX_LEN 5
#define FORMAT_BODY_LEN   43
#define FORMAT_CHECK_LEN  6
#define FORMAT_SECRET_LEN 54
#define FORMAT_RAW_LEN    32

/* Public ids: a short prefix such as "tok_", then 22 base62 characters. */
#define FORMAT_ID_BODY_LEN 22
#define FORMAT_ID_MAX      32
#define FORMAT_ID_TIME_LEN 8

/* CRC-32 of len bytes, as zlib's crc32(0, data, len). */
uint32_t format_crc32(const void *data, size_t len);

/*
 * Writes the n bytes at raw, read as one big-endian number, as exactly
 * width base62 digits into out (not terminated).  Returns false, leaving
 * out undefined, when the number needs more than width digits.
 */
bool format_base62(char *out, size_t width, const uint8_t *raw, size_t n);

/*
 * Writes prefix (5 bytes) + the encoding of raw + its checksum, and a
 * terminating NUL, into out.
 */
void format_secret(char out[FORMAT_SECRET_LEN + 1], const char *prefix,
    const uint8_t raw[FORMAT_RAW_LEN]);

/*
 * True when the len bytes at text are a well-formed secret with this
 * prefix: right length, base62 only, a body that decodes to a number
 * below 2^256, and a matching checksum.  Runs in time that depends only
 * on len.
 */
bool format_secret_check(const char *text, size_t len, const char *prefix);

/*
 * Writes prefix + 22 base62 digits of 16 random bytes from libsodium,
 * and a NUL, into out (at most FORMAT_ID_MAX bytes with the NUL).  The
 * caller has initialised libsodium.
 */
void format_random_id(char *out, const char *prefix);

/*
 * Writes prefix + 22 base62 digits, and a NUL, into out (at most
 * FORMAT_ID_MAX bytes with the NUL): first FORMAT_ID_TIME_LEN digits of
 * ms, milliseconds since the epoch (below 0 written as 0, past the year
 * 8888 as the last such instant), then 14 digits of a random number
 * below 62^14 (83 bits) from libsodium.  Ids of this shape sort, as
 * bytes, in the order of their ms; within one millisecond at random.
 * The caller has initialised libsodium.
 */
void format_time_id(char *out, const char *prefix, int64_t ms);

/* True when text is prefix + 22 base62 digits and nothing else. */
bool format_id_check(const char *text, const char *prefix);

#endif /* ENRT_FORMAT_H */
