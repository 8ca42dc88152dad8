/*
 * Output of the enrt CLI: JSON documents built with jansson, and the
 * human forms, tables whose columns are as wide as their widest cell.
 *
 * Owns nothing between calls.  Runs on the CLI's only thread.  The
 * documents that hold a secret (the replies to an issue and to adding a
 * caller) are wiped before they are freed.
 */
#include "cli_print.h"
#include "cli_time.h"

#include <jansson.h>
#include <sodium.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_WIDTH 14

/* ------------------------------------------------------------------ */
/* Small pieces                                                        */

/*
 * A time the CLI cannot write as RFC 3339 (before 1970 or after 9999)
 * only comes from a faulty server; it is shown as its number of seconds
 * rather than hidden.
 */
static void
format_time(int64_t t, char out[CLI_TIME_LEN])
{
	if (!cli_time_format(t, out)) {
		snprintf(out, CLI_TIME_LEN, "%" PRId64, t);
	}
}

/* The n strings of v joined by sep; "" when there are none. */
static char *
join(char *const *v, size_t n, char sep)
{
	size_t len = 1;
	char *out;
	char *p;

	for (size_t i = 0; i < n; i++) {
		len += strlen(v[i]) + 1;
	}
	if ((out = malloc(len)) == NULL) {
		return NULL;
	}

	p = out;
	for (size_t i = 0; i < n; i++) {
		size_t part = strlen(v[i]);

		if (i > 0) {
			*p++ = sep;
		}
		memcpy(p, v[i], part);
		p += part;
	}
	*p = '\0';
	return out;
}

static const char *
or_dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

static void
print_line(const char *key, const char *value)
{
	printf("%-*s %s\n", KEY_WIDTH, key, value);
}

static void
print_time_line(const char *key, bool has, int64_t t, const char *none)
{
	char text[CLI_TIME_LEN];

	if (!has) {
		print_line(key, none);
		return;
	}
	format_time(t, text);
	print_line(key, text);
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */

static json_t *
json_text(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
json_time(bool has, int64_t t)
{
	char text[CLI_TIME_LEN];

	if (!has) {
		return json_null();
	}
	format_time(t, text);
	return json_string(text);
}

static json_t *
json_strings(char *const *v, size_t n)
{
	json_t *array = json_array();

	for (size_t i = 0; array != NULL && i < n; i++) {
		if (json_array_append_new(array, json_string(v[i])) != 0) {
			json_decref(array);
			return NULL;
		}
	}
	return array;
}

/* Prints doc on one line and frees it; false if there is no doc. */
static bool
print_json(json_t *doc)
{
	char *text;

	if (doc == NULL) {
		return false;
	}
	text = json_dumps(doc, 0);
	json_decref(doc);
	if (text == NULL) {
		return false;
	}

	puts(text);
	free(text);
	return true;
}

/* A list of documents becomes one array; NULL if any is missing. */
static json_t *
json_list(json_t *(*make)(const void *), const void *const *items, size_t n)
{
	json_t *array = json_array();

	for (size_t i = 0; array != NULL && i < n; i++) {
		if (json_array_append_new(array, make(items[i])) != 0) {
			json_decref(array);
			return NULL;
		}
	}
	return array;
}

/* ------------------------------------------------------------------ */
/* Tables                                                              */

/* Rows of strdup'ed cells, row after row; row 0 is the header. */
struct table {
	size_t cols;
	size_t rows;
	char **cells;
	bool failed; /* a cell could not be stored */
};

static void
table_add(struct table *t, const char *const *row)
{
	char **cells;

	if (t->failed) {
		return;
	}
	cells = realloc(t->cells, (t->rows + 1) * t->cols * sizeof(*cells));
	if (cells == NULL) {
		t->failed = true;
		return;
	}

	t->cells = cells;
	cells += t->rows * t->cols;
	t->rows++;
	for (size_t c = 0; c < t->cols; c++) {
		cells[c] = strdup(row[c] != NULL ? row[c] : "");
		t->failed = t->failed || cells[c] == NULL;
	}
}

static size_t
column_width(const struct table *t, size_t col)
{
	size_t width = 0;

	for (size_t r = 0; r < t->rows; r++) {
		size_t len = strlen(t->cells[r * t->cols + col]);

		width = len > width ? len : width;
	}
	return width;
}

/* The last column is not padded: it may hold free text. */
static void
print_row(char *const *cells, const size_t *widths, size_t cols)
{
	for (size_t c = 0; c + 1 < cols; c++) {
		printf("%-*s  ", (int)widths[c], cells[c]);
	}
	printf("%s\n", cells[cols - 1]);
}

static bool
table_print(const struct table *t)
{
	size_t *widths = calloc(t->cols, sizeof(*widths));

	if (widths == NULL) {
		return false;
	}
	for (size_t c = 0; c < t->cols; c++) {
		widths[c] = column_width(t, c);
	}

	for (size_t r = 0; r < t->rows; r++) {
		print_row(t->cells + r * t->cols, widths, t->cols);
	}
	free(widths);
	return true;
}

static void
table_free(struct table *t)
{
	for (size_t i = 0; i < t->rows * t->cols; i++) {
		free(t->cells[i]);
	}
	free(t->cells);
}

static bool
table_finish(struct table *t)
{
	bool ok = !t->failed && table_print(t);

	table_free(t);
	return ok;
}

/* ------------------------------------------------------------------ */
/* Apps                                                                */

static json_t *
app_json(const void *item)
{
	const enrt_app *a = item;
	json_t *days = a->unlimited_lifetime
	                   ? json_null()
	                   : json_integer(a->max_lifetime_days);

	return json_pack("{s:o, s:o, s:s, s:o, s:o, s:o, s:b, s:o, s:o}", "id",
	    json_text(a->id), "name", json_text(a->name), "policy",
	    enrt_policy_name(a->policy), "system_user",
	    json_text(a->system_user), "allowed_scopes",
	    json_strings(a->allowed_scopes, a->n_allowed_scopes),
	    "max_lifetime_days", days, "enabled", (int)a->enabled, "created",
	    json_time(true, a->created_at), "updated",
	    json_time(true, a->updated_at));
}

static void
lifetime_text(const enrt_app *a, char *out, size_t size)
{
	if (a->unlimited_lifetime) {
		snprintf(out, size, "unlimited");
	} else {
		snprintf(out, size, "%" PRIu32 " days", a->max_lifetime_days);
	}
}

bool
cli_print_app(const enrt_app *app, bool json)
{
	char lifetime[32];
	char *scopes;

	if (json) {
		return print_json(app_json(app));
	}
	scopes = join(app->allowed_scopes, app->n_allowed_scopes, ',');
	if (scopes == NULL) {
		return false;
	}

	lifetime_text(app, lifetime, sizeof(lifetime));
	print_line("id:", or_dash(app->id));
	print_line("name:", or_dash(app->name));
	print_line("policy:", enrt_policy_name(app->policy));
	print_line("system_user:", or_dash(app->system_user));
	print_line("scopes:", scopes[0] != '\0' ? scopes : "(any)");
	print_line("max_lifetime:", lifetime);
	print_line("enabled:", app->enabled ? "yes" : "no");
	print_time_line("created:", true, app->created_at, "-");
	print_time_line("updated:", true, app->updated_at, "-");
	free(scopes);
	return true;
}

static void
add_app_row(struct table *t, const enrt_app *a)
{
	char lifetime[32];
	char *scopes = join(a->allowed_scopes, a->n_allowed_scopes, ',');
	const char *row[] = {a->id, a->name, enrt_policy_name(a->policy),
	    a->system_user, lifetime, a->enabled ? "yes" : "no",
	    scopes != NULL && scopes[0] != '\0' ? scopes : "(any)"};

	lifetime_text(a, lifetime, sizeof(lifetime));
	t->failed = t->failed || scopes == NULL;
	table_add(t, row);
	free(scopes);
}

bool
cli_print_apps(const enrt_app *const *apps, size_t n, bool json)
{
	static const char *const header[] = {"ID", "NAME", "POLICY",
	    "SYSTEM USER", "MAX LIFETIME", "ENABLED", "SCOPES"};
	struct table t = {.cols = 7};

	if (json) {
		return print_json(
		    json_list(app_json, (const void *const *)apps, n));
	}
	table_add(&t, header);
	for (size_t i = 0; i < n; i++) {
		add_app_row(&t, apps[i]);
	}
	return table_finish(&t);
}

/* ------------------------------------------------------------------ */
/* Tokens                                                              */

/* Wipes the secret under key inside the document before it is freed. */
static void
wipe_secret(json_t *doc, const char *key)
{
	json_t *value = json_object_get(doc, key);

	if (json_is_string(value)) {
		sodium_memzero((char *)json_string_value(value),
		    json_string_length(value));
	}
}

/* print_json for a document that holds a secret under key. */
static bool
print_secret_json(json_t *doc, const char *key)
{
	char *text;

	if (doc == NULL) {
		return false;
	}
	text = json_dumps(doc, 0);
	wipe_secret(doc, key);
	json_decref(doc);
	if (text == NULL) {
		return false;
	}

	puts(text);
	sodium_memzero(text, strlen(text));
	free(text);
	return true;
}

static bool
print_issued_json(const enrt_issued *issued)
{
	const enrt_token *t = &issued->token;
	json_t *doc;

	doc = json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:o}", "token",
	    issued->value, "id", json_text(t->id), "kind",
	    enrt_kind_name(t->kind), "app_id", json_text(t->app_id), "owner",
	    json_text(t->owner), "scopes",
	    json_strings(t->scopes, t->n_scopes), "expires",
	    json_time(t->has_expires_at, t->expires_at));
	return print_secret_json(doc, "token");
}

bool
cli_print_issued(const enrt_issued *issued, bool json)
{
	const enrt_token *t = &issued->token;
	char *scopes;

	if (json) {
		return print_issued_json(issued);
	}
	if ((scopes = join(t->scopes, t->n_scopes, ',')) == NULL) {
		return false;
	}

	puts(issued->value);
	print_line("id:", or_dash(t->id));
	print_line("kind:", enrt_kind_name(t->kind));
	print_line("app:", or_dash(t->app_id));
	print_line("owner:", or_dash(t->owner));
	print_line("scopes:", scopes);
	print_time_line("expires:", t->has_expires_at, t->expires_at, "never");
	free(scopes);
	return true;
}

static json_t *
active_json(const enrt_introspection *r)
{
	char *scope = join(r->scopes, r->n_scopes, ' ');
	json_t *doc = NULL;

	if (scope != NULL) {
		doc = json_pack("{s:b, s:o, s:s, s:o, s:o, s:s, s:I}",
		    "active", 1, "token_id", json_text(r->token_id), "kind",
		    enrt_kind_name(r->kind), "app_id", json_text(r->app_id),
		    "sub", json_text(r->subject), "scope", scope, "iat",
		    (json_int_t)r->issued_at);
	}
	free(scope);

	if (doc != NULL && r->has_expires_at &&
	    json_object_set_new(doc, "exp", json_integer(r->expires_at)) !=
	        0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

bool
cli_print_introspection(const enrt_introspection *result)
{
	if (!result->active) {
		return print_json(json_pack("{s:b}", "active", 0));
	}
	return print_json(active_json(result));
}

static json_t *
token_json(const void *item)
{
	const enrt_token *t = item;

	return json_pack(
	    "{s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}", "id",
	    json_text(t->id), "kind", enrt_kind_name(t->kind), "app_id",
	    json_text(t->app_id), "app_name", json_text(t->app_name), "owner",
	    json_text(t->owner), "description", json_text(t->description),
	    "scopes", json_strings(t->scopes, t->n_scopes), "created",
	    json_time(true, t->created_at), "expires",
	    json_time(t->has_expires_at, t->expires_at), "last_used",
	    json_time(t->has_last_used_at, t->last_used_at), "state",
	    enrt_state_name(t->state));
}

static void
add_token_row(struct table *table, const enrt_token *t)
{
	char created[CLI_TIME_LEN];
	char expires[CLI_TIME_LEN] = "never";
	char used[CLI_TIME_LEN] = "-";
	char *scopes = join(t->scopes, t->n_scopes, ',');
	const char *row[] = {t->id, enrt_kind_name(t->kind),
	    or_dash(t->app_name != NULL ? t->app_name : t->app_id),
	    or_dash(t->owner), enrt_state_name(t->state), created, expires,
	    used, scopes, or_dash(t->description)};

	format_time(t->created_at, created);
	if (t->has_expires_at) {
		format_time(t->expires_at, expires);
	}
	if (t->has_last_used_at) {
		format_time(t->last_used_at, used);
	}
	table->failed = table->failed || scopes == NULL;
	table_add(table, row);
	free(scopes);
}

bool
cli_print_tokens(const enrt_token *const *tokens, size_t n, bool json)
{
	static const char *const header[] = {"ID", "KIND", "APP", "OWNER",
	    "STATE", "CREATED", "EXPIRES", "LAST USED", "SCOPES",
	    "DESCRIPTION"};
	struct table t = {.cols = 10};

	if (json) {
		return print_json(
		    json_list(token_json, (const void *const *)tokens, n));
	}
	table_add(&t, header);
	for (size_t i = 0; i < n; i++) {
		add_token_row(&t, tokens[i]);
	}
	return table_finish(&t);
}

bool
cli_print_revoked(const char *id, bool json)
{
	if (json && id != NULL) {
		return print_json(
		    json_pack("{s:b, s:s}", "revoked", 1, "id", id));
	}
	if (json) {
		return print_json(json_pack("{s:b}", "revoked", 1));
	}
	if (id != NULL) {
		return printf("revoked %s\n", id) >= 0;
	}
	return printf("revoked the token, if there was one\n") >= 0;
}

bool
cli_print_revoked_user(const char *user_id, uint32_t revoked, bool json)
{
	if (json) {
		return print_json(json_pack("{s:s, s:I}", "user_id", user_id,
		    "revoked", (json_int_t)revoked));
	}
	return printf("revoked %" PRIu32 " token%s of %s\n", revoked,
	           revoked == 1 ? "" : "s", user_id) >= 0;
}

/* ------------------------------------------------------------------ */
/* Callers                                                             */

static json_t *
caller_json(const void *item)
{
	const enrt_caller *c = item;

	return json_pack("{s:o, s:o, s:s, s:o, s:o, s:o}", "id",
	    json_text(c->id), "name", json_text(c->name), "role",
	    enrt_role_name(c->role), "app_ids",
	    json_strings(c->app_ids, c->n_app_ids), "created",
	    json_time(true, c->created_at), "revoked",
	    json_time(c->revoked, c->revoked_at));
}

/* An introspect caller without apps sees them all; others see none. */
static const char *
apps_text(const enrt_caller *c, const char *joined)
{
	if (c->role != ENRT_ROLE_INTROSPECT) {
		return "-";
	}
	return joined[0] != '\0' ? joined : "(all)";
}

static bool
print_added_json(const enrt_caller_added *added)
{
	const enrt_caller *c = &added->caller;
	json_t *doc;

	doc = json_pack("{s:s, s:o, s:o, s:s, s:o, s:o}", "credential",
	    added->credential, "id", json_text(c->id), "name",
	    json_text(c->name), "role", enrt_role_name(c->role), "app_ids",
	    json_strings(c->app_ids, c->n_app_ids), "created",
	    json_time(true, c->created_at));
	return print_secret_json(doc, "credential");
}

bool
cli_print_caller_added(const enrt_caller_added *added, bool json)
{
	const enrt_caller *c = &added->caller;
	char *apps;

	if (json) {
		return print_added_json(added);
	}
	if ((apps = join(c->app_ids, c->n_app_ids, ',')) == NULL) {
		return false;
	}

	puts(added->credential);
	print_line("id:", or_dash(c->id));
	print_line("name:", or_dash(c->name));
	print_line("role:", enrt_role_name(c->role));
	print_line("apps:", apps_text(c, apps));
	print_time_line("created:", true, c->created_at, "-");
	free(apps);
	return true;
}

static void
add_caller_row(struct table *t, const enrt_caller *c)
{
	char created[CLI_TIME_LEN];
	char revoked[CLI_TIME_LEN] = "-";
	char *apps = join(c->app_ids, c->n_app_ids, ',');
	const char *row[] = {c->id, or_dash(c->name), enrt_role_name(c->role),
	    created, revoked, apps != NULL ? apps_text(c, apps) : NULL};

	format_time(c->created_at, created);
	if (c->revoked) {
		format_time(c->revoked_at, revoked);
	}
	t->failed = t->failed || apps == NULL;
	table_add(t, row);
	free(apps);
}

bool
cli_print_callers(const enrt_caller *const *callers, size_t n, bool json)
{
	static const char *const header[] = {
	    "ID", "NAME", "ROLE", "CREATED", "REVOKED", "APPS"};
	struct table t = {.cols = 6};

	if (json) {
		return print_json(
		    json_list(caller_json, (const void *const *)callers, n));
	}
	table_add(&t, header);
	for (size_t i = 0; i < n; i++) {
		add_caller_row(&t, callers[i]);
	}
	return table_finish(&t);
}

bool
cli_print_caller_revoked(const char *id, bool json)
{
	if (json) {
		return print_json(
		    json_pack("{s:b, s:s}", "revoked", 1, "id", id));
	}
	return printf("revoked caller %s\n", id) >= 0;
}

/* ------------------------------------------------------------------ */
/* Users                                                               */

static json_t *
user_json(const void *item)
{
	const enrt_user *u = item;

	return json_pack("{s:o, s:o, s:b, s:b, s:o, s:o}", "id",
	    json_text(u->id), "display_name", json_text(u->display_name),
	    "admin", (int)u->admin, "enabled", (int)u->enabled, "created",
	    json_time(true, u->created_at), "last_seen",
	    json_time(u->has_last_seen_at, u->last_seen_at));
}

bool
cli_print_user(const enrt_user *user, bool json)
{
	if (json) {
		return print_json(user_json(user));
	}
	print_line("id:", or_dash(user->id));
	print_line("display_name:", or_dash(user->display_name));
	print_line("admin:", user->admin ? "yes" : "no");
	print_line("enabled:", user->enabled ? "yes" : "no");
	print_time_line("created:", true, user->created_at, "-");
	print_time_line(
	    "last_seen:", user->has_last_seen_at, user->last_seen_at, "never");
	return true;
}

static void
add_user_row(struct table *t, const enrt_user *u)
{
	char created[CLI_TIME_LEN];
	char seen[CLI_TIME_LEN] = "never";
	const char *row[] = {u->id, u->admin ? "yes" : "no",
	    u->enabled ? "yes" : "no", created, seen,
	    or_dash(u->display_name)};

	format_time(u->created_at, created);
	if (u->has_last_seen_at) {
		format_time(u->last_seen_at, seen);
	}
	table_add(t, row);
}

bool
cli_print_users(const enrt_user *const *users, size_t n, bool json)
{
	static const char *const header[] = {
	    "ID", "ADMIN", "ENABLED", "CREATED", "LAST SEEN", "NAME"};
	struct table t = {.cols = 6};

	if (json) {
		return print_json(
		    json_list(user_json, (const void *const *)users, n));
	}
	table_add(&t, header);
	for (size_t i = 0; i < n; i++) {
		add_user_row(&t, users[i]);
	}
	return table_finish(&t);
}

bool
cli_print_user_deleted(const char *id, uint32_t revoked, bool json)
{
	if (json) {
		return print_json(json_pack("{s:s, s:b, s:I}", "id", id,
		    "deleted", 1, "revoked", (json_int_t)revoked));
	}
	return printf("deleted %s, revoked %" PRIu32 " token%s\n", id, revoked,
	           revoked == 1 ? "" : "s") >= 0;
}

bool
cli_print_backup(const enrt_backup_info *info, bool json)
{
	if (json) {
		return print_json(json_pack("{s:o, s:o, s:I, s:o}", "name",
		    json_text(info->name), "path", json_text(info->path),
		    "bytes", (json_int_t)info->bytes, "created_at",
		    json_time(true, info->created_at)));
	}
	return printf("%s\n", or_dash(info->path)) >= 0;
}

/* ------------------------------------------------------------------ */
/* Audit                                                               */

static json_t *
event_json(const void *item)
{
	const enrt_audit_event *ev = item;

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:s}", "time",
	    json_time(true, ev->time), "caller_id", json_text(ev->caller_id),
	    "acting_user", json_text(ev->acting_user), "action",
	    json_text(ev->action), "target_id", json_text(ev->target_id),
	    "outcome", enrt_status_name(ev->outcome));
}

static void
add_event_row(struct table *t, const enrt_audit_event *ev)
{
	char when[CLI_TIME_LEN];
	const char *row[] = {when, or_dash(ev->caller_id),
	    or_dash(ev->acting_user), or_dash(ev->action),
	    or_dash(ev->target_id), enrt_status_name(ev->outcome)};

	format_time(ev->time, when);
	table_add(t, row);
}

bool
cli_print_events(const enrt_audit_event *const *events, size_t n, bool json)
{
	static const char *const header[] = {
	    "TIME", "CALLER", "ACTING USER", "ACTION", "TARGET", "OUTCOME"};
	struct table t = {.cols = 6};

	if (json) {
		return print_json(
		    json_list(event_json, (const void *const *)events, n));
	}
	table_add(&t, header);
	for (size_t i = 0; i < n; i++) {
		add_event_row(&t, events[i]);
	}
	return table_finish(&t);
}
