/*
 * Reply building: deep copies into malloc'd messages.  Any thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reply.h"

void *
reply_alloc(size_t size)
{
	void *p = malloc(size == 0 ? 1 : size);

	if (p == NULL) {
		log_error("out_of_memory", "bytes=%zu", size);
		abort();
	}
	return p;
}

char *
reply_strdup(const char *s)
{
	size_t len;
	char *copy;

	if (s == NULL) {
		return NULL;
	}
	len = strlen(s);
	copy = reply_alloc(len + 1);
	memcpy(copy, s, len + 1);
	return copy;
}

char **
reply_strings(const char *const *v, size_t n)
{
	char **copy = reply_alloc(n * sizeof(*copy));

	for (size_t i = 0; i < n; i++) {
		copy[i] = reply_strdup(v[i]);
	}
	return copy;
}

void
reply_append(void ***v, size_t *n, void *item)
{
	void **grown = realloc(*v, (*n + 1) * sizeof(**v));

	if (grown == NULL) {
		log_error("out_of_memory", "items=%zu", *n + 1);
		abort();
	}
	grown[(*n)++] = item;
	*v = grown;
}

Enrt__V1__App *
reply_app(const Enrt__V1__App *app)
{
	Enrt__V1__App *copy = reply_alloc(sizeof(*copy));

	enrt__v1__app__init(copy);
	copy->id = reply_strdup(app->id);
	copy->name = reply_strdup(app->name);
	copy->system_user = reply_strdup(app->system_user);
	copy->allowed_scopes = reply_strings(
	    (const char *const *)app->allowed_scopes, app->n_allowed_scopes);
	copy->n_allowed_scopes = app->n_allowed_scopes;
	copy->has_policy = app->has_policy;
	copy->policy = app->policy;
	copy->has_max_lifetime_days = app->has_max_lifetime_days;
	copy->max_lifetime_days = app->max_lifetime_days;
	copy->has_enabled = app->has_enabled;
	copy->enabled = app->enabled;
	copy->has_created_at = app->has_created_at;
	copy->created_at = app->created_at;
	copy->has_updated_at = app->has_updated_at;
	copy->updated_at = app->updated_at;
	return copy;
}

store_visit
reply_page_take(reply_page *page, const void *record)
{
	if (*page->n_items == page->limit) {
		return STORE_STOP;
	}
	reply_append(page->items, page->n_items, page->copy(record));
	return STORE_CONTINUE;
}

void
reply_free(void *message)
{
	if (message != NULL) {
		protobuf_c_message_free_unpacked(message, NULL);
	}
}
