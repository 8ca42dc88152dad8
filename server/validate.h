/*
 * Field rules shared by every operation.  Each check names the field it
 * was given in its message, so that a refusal tells the person which
 * field broke which rule.  A value is never copied into a message when
 * it could be a secret.
 */
#ifndef ENRT_VALIDATE_H
#define ENRT_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define VALIDATE_SCOPE_MAX       64
#define VALIDATE_SCOPES_MAX      32
#define VALIDATE_APP_SCOPES_MAX  256
#define VALIDATE_DESCRIPTION_MAX 256
#define VALIDATE_NAME_MAX        128
#define VALIDATE_USER_ID_MAX     128
#define VALIDATE_PAGE_DEFAULT    100
#define VALIDATE_PAGE_MAX        1000

/*
 * Valid UTF-8 of at most max bytes with no control character (C0, DEL
 * or C1) and nothing of the form of a token or credential.  NULL or ""
 * is refused when required, accepted otherwise.
 */
enrt_status validate_text(
    const char *field, const char *text, size_t max, bool required, err *e);

/*
 * A name people tell things apart by (an app's, a caller's): text as
 * validate_text takes it, required, at most VALIDATE_NAME_MAX bytes, and
 * not blank, neither spaces alone nor with spaces around it.
 */
enrt_status validate_name(const char *field, const char *name, err *e);

/*
 * 1 to 128 printable ASCII characters other than space, and not of the
 * form of a token or credential.
 */
enrt_status validate_user_id(const char *field, const char *id, err *e);

/* A public id of the given prefix, such as "app_" or "tok_". */
enrt_status validate_id(
    const char *field, const char *id, const char *prefix, err *e);

/* [A-Za-z0-9:._-]{1,64} */
bool validate_scope(const char *scope);

/*
 * Checks n scopes (at most max distinct ones, at least one when
 * required) and writes into *out a malloc'd array of the distinct ones in
 * first-seen order, pointing into in.  The caller frees *out (not the
 * strings).
 */
enrt_status validate_scopes(const char *field, char *const *in, size_t n,
    size_t max, bool required, const char ***out, size_t *n_out, err *e);

/* A page size: absent means the default; 1 to VALIDATE_PAGE_MAX. */
enrt_status validate_page_size(bool has, uint32_t size, uint32_t *out, err *e);

#endif /* ENRT_VALIDATE_H */
