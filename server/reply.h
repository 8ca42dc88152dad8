/*
 * Building reply messages whose every pointer is malloc'd, so that
 * protobuf_c_message_free_unpacked with the NULL allocator frees them
 * whole, as it frees decoded messages.
 *
 * Running out of memory here ends the process with a log line: a reply
 * that silently lost a field would be worse, and every caller would
 * otherwise need a path for a condition it cannot recover from.
 */
#ifndef ENRT_REPLY_H
#define ENRT_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "enrt.pb-c.h"
#include "store.h"

/* malloc that never returns NULL. */
void *reply_alloc(size_t size);

/* A copy of s, or NULL for NULL. */
char *reply_strdup(const char *s);

/* A copy of n strings: a new array of new strings. */
char **reply_strings(const char *const *v, size_t n);

/* Appends item to the malloc'd array *v of *n pointers. */
void reply_append(void ***v, size_t *n, void *item);

/* A new App message with a copy of every field of app. */
Enrt__V1__App *reply_app(const Enrt__V1__App *app);

/*
 * One page of a listing being filled by a store scan: the visitor for
 * each record calls reply_page_take, which copies the record into the
 * page, or answers STORE_STOP once the page is full so that the store
 * makes a cursor there.
 */
typedef struct reply_page {
	uint32_t limit;
	void ***items; /* the reply's repeated field */
	size_t *n_items;
	void *(*copy)(const void *record);
} reply_page;

/* STORE_CONTINUE after taking the record, STORE_STOP if full. */
store_visit reply_page_take(reply_page *page, const void *record);

/* Frees any message built here or decoded.  Accepts NULL. */
void reply_free(void *message);

#endif /* ENRT_REPLY_H */
