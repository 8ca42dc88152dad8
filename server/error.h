/*
 * The server's error: a status code from the one table in libenrt and a
 * message that names the field and the rule.  Functions that can refuse
 * take an err * and return its code, so a refusal is one statement:
 *
 *     return err_set(e, ENRT_INVALID_ARGUMENT, "scopes: at most %d", 32);
 */
#ifndef ENRT_ERROR_H
#define ENRT_ERROR_H

#include "enrt.h"

#define ERR_MESSAGE_MAX 256

typedef struct err {
	enrt_status code;
	char message[ERR_MESSAGE_MAX];
} err;

/* Sets code and message and returns code. */
enrt_status err_set(err *e, enrt_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* ENRT_ERROR_H */
