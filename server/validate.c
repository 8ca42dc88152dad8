/*
 * Field rules: text, ids, scopes and page sizes, checked at the edge of
 * every operation before anything is read or written.  Pure functions;
 * any thread.
 */
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "validate.h"

/*
 * Length of the UTF-8 sequence that starts with byte b and the smallest
 * code point it may encode (to refuse overlong forms); 0 for a byte that
 * cannot start one.
 */
static size_t
sequence_length(unsigned char b, uint32_t *min)
{
	if (b < 0x80) {
		*min = 0;
		return 1;
	}
	if ((b & 0xE0) == 0xC0) {
		*min = 0x80;
		return 2;
	}
	if ((b & 0xF0) == 0xE0) {
		*min = 0x800;
		return 3;
	}
	if ((b & 0xF8) == 0xF0) {
		*min = 0x10000;
		return 4;
	}
	return 0;
}

/*
 * Decodes one code point at s (n bytes left) into *cp; returns its
 * length, or 0 for bytes that are not well-formed UTF-8.
 */
static size_t
decode_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t min;
	size_t len;

	len = sequence_length(s[0], &min);
	if (len == 0 || len > n) {
		return 0;
	}
	*cp = len == 1 ? s[0] : s[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			return 0;
		}
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}

	if (*cp < min || *cp > 0x10FFFF) {
		return 0;
	}
	if (*cp >= 0xD800 && *cp <= 0xDFFF) {
		return 0;
	}
	return len;
}

/*
 * Whether text holds something of the form of a token or a credential:
 * ids and labels are never secrets, and one pasted into them would be
 * kept, listed and logged.
 */
static bool
holds_secret(const char *text, size_t len)
{
	for (const char *at = text; (at = strstr(at, "enr")) != NULL; at++) {
		size_t left = len - (size_t)(at - text);

		if (left >= ENRT_TOKEN_LEN &&
		    (enrt_token_check(at, ENRT_TOKEN_LEN) ||
		        enrt_credential_check(at, ENRT_TOKEN_LEN))) {
			return true;
		}
	}
	return false;
}

static enrt_status
refuse_secret(const char *field, err *e)
{
	return err_set(e, ENRT_INVALID_ARGUMENT,
	    "%s: holds a token or credential; this field is never secret",
	    field);
}

static bool
is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

enrt_status
validate_text(
    const char *field, const char *text, size_t max, bool required, err *e)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t len = text == NULL ? 0 : strlen(text);
	uint32_t cp;

	if (len == 0 && required) {
		return err_set(
		    e, ENRT_INVALID_ARGUMENT, "%s: required", field);
	}
	if (len == 0) {
		return ENRT_OK;
	}
	if (len > max) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "%s: at most %zu bytes, got %zu", field, max, len);
	}

	for (size_t i = 0; i < len;) {
		size_t n = decode_utf8(s + i, len - i, &cp);
		if (n == 0) {
			return err_set(e, ENRT_INVALID_ARGUMENT,
			    "%s: not valid UTF-8 (byte %zu)", field, i);
		}
		if (is_control(cp)) {
			return err_set(e, ENRT_INVALID_ARGUMENT,
			    "%s: control characters are not allowed "
			    "(byte %zu)",
			    field, i);
		}
		i += n;
	}
	return holds_secret(text, len) ? refuse_secret(field, e) : ENRT_OK;
}

enrt_status
validate_name(const char *field, const char *name, err *e)
{
	size_t len;

	if (validate_text(field, name, VALIDATE_NAME_MAX, true, e) !=
	    ENRT_OK) {
		return e->code;
	}
	len = strlen(name);
	if (name[0] == ' ' || name[len - 1] == ' ') {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "%s: must not begin or end with a space", field);
	}
	return ENRT_OK;
}

enrt_status
validate_user_id(const char *field, const char *id, err *e)
{
	size_t len = id == NULL ? 0 : strlen(id);

	if (len == 0) {
		return err_set(
		    e, ENRT_INVALID_ARGUMENT, "%s: required", field);
	}
	if (len > VALIDATE_USER_ID_MAX) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "%s: at most %d characters", field, VALIDATE_USER_ID_MAX);
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c <= ' ' || c >= 0x7F) {
			return err_set(e, ENRT_INVALID_ARGUMENT,
			    "%s: printable ASCII without spaces only "
			    "(character %zu)",
			    field, i + 1);
		}
	}
	return holds_secret(id, len) ? refuse_secret(field, e) : ENRT_OK;
}

enrt_status
validate_id(const char *field, const char *id, const char *prefix, err *e)
{
	if (id == NULL || id[0] == '\0') {
		return err_set(
		    e, ENRT_INVALID_ARGUMENT, "%s: required", field);
	}
	if (!format_id_check(id, prefix)) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "%s: not an id of the form %s followed by %d base62 "
		    "characters",
		    field, prefix, FORMAT_ID_BODY_LEN);
	}
	return ENRT_OK;
}

static bool
is_scope_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z') || c == ':' || c == '.' || c == '_' ||
	       c == '-';
}

bool
validate_scope(const char *scope)
{
	size_t len = scope == NULL ? 0 : strlen(scope);

	if (len == 0 || len > VALIDATE_SCOPE_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_scope_char(scope[i])) {
			return false;
		}
	}
	return true;
}

static bool
seen_before(const char **list, size_t n, const char *scope)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i], scope) == 0) {
			return true;
		}
	}
	return false;
}

static enrt_status
check_scope_count(
    const char *field, size_t n, size_t max, bool required, err *e)
{
	if (n == 0 && required) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "%s: at least one scope is required", field);
	}
	if (n > max) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "%s: at most %zu distinct scopes, got %zu", field, max, n);
	}
	return ENRT_OK;
}

enrt_status
validate_scopes(const char *field, char *const *in, size_t n, size_t max,
    bool required, const char ***out, size_t *n_out, err *e)
{
	const char **list;
	size_t kept = 0;

	/* Duplicates are merged, but a request may not carry many more. */
	if (n > 4 * max) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "%s: at most %zu scopes, got %zu", field, max, n);
	}
	for (size_t i = 0; i < n; i++) {
		if (!validate_scope(in[i])) {
			return err_set(e, ENRT_INVALID_ARGUMENT,
			    "%s: scope %zu must be 1 to %d of A-Z a-z 0-9 "
			    ": . _ -",
			    field, i + 1, VALIDATE_SCOPE_MAX);
		}
		if (holds_secret(in[i], strlen(in[i]))) {
			return err_set(e, ENRT_INVALID_ARGUMENT,
			    "%s: scope %zu holds a token or credential; "
			    "scopes are never secret",
			    field, i + 1);
		}
	}

	list = calloc(n == 0 ? 1 : n, sizeof(*list));
	if (list == NULL) {
		return err_set(e, ENRT_INTERNAL, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		if (!seen_before(list, kept, in[i])) {
			list[kept++] = in[i];
		}
	}
	if (check_scope_count(field, kept, max, required, e) != ENRT_OK) {
		free(list);
		return e->code;
	}
	*out = list;
	*n_out = kept;
	return ENRT_OK;
}

enrt_status
validate_page_size(bool has, uint32_t size, uint32_t *out, err *e)
{
	if (!has) {
		*out = VALIDATE_PAGE_DEFAULT;
		return ENRT_OK;
	}
	if (size < 1 || size > VALIDATE_PAGE_MAX) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "page_size: 1 to %d, got %u", VALIDATE_PAGE_MAX, size);
	}
	*out = size;
	return ENRT_OK;
}
