/*
 * The server's error value: a status and a message in a fixed buffer, so
 * that refusing never allocates and never fails.  Owns nothing; each err
 * belongs to the one request (and thread) that fills it.
 */
#include <stdarg.h>
#include <stdio.h>

#include "error.h"

enrt_status
err_set(err *e, enrt_status code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (e == NULL) {
		return code;
	}
	e->code = code;

	/* A message longer than the buffer is cut, still terminated. */
	va_start(ap, fmt);
	n = vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);

	if (n < 0) {
		snprintf(e->message, sizeof(e->message), "%s (no message)",
		    enrt_status_name(code));
	}
	return code;
}
