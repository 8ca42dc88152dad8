/*
 * The administrators' subcommands of the enrt CLI: callers (add, list,
 * revoke), users (list, set, delete) and the audit log (list).
 *
 * A new caller's credential is printed once and wiped with the reply
 * that held it.  Runs on the CLI's only thread.
 */
#include "cli.h"
#include "cli_print.h"
#include "cli_time.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	FLAG_NAME = 256,
	FLAG_ROLE,
	FLAG_APP,
	FLAG_ADMIN,
	FLAG_NO_ADMIN,
	FLAG_ENABLE,
	FLAG_DISABLE,
	FLAG_SINCE,
	FLAG_LIMIT,
};

/* The most events one run of audit list prints. */
#define LIMIT_MAX 1000000

/* The page size asked for while --limit leaves fewer rows than this. */
#define AUDIT_PAGE 100

/* Frees the pages of a listing; free_page frees one. */
static void
free_pages(struct cli_pages *p, void (*free_page)(void *))
{
	for (size_t i = 0; i < p->n_pages; i++) {
		free_page(p->pages[i]);
	}
	cli_pages_clear(p);
}

/* Flags, no positional argument, then a connection. */
static int
parse_and_connect(struct cli *cli, int argc, char **argv,
    const struct option *opts, cli_flag_fn on_flag, void *args, int n,
    const char *what)
{
	int rc;

	rc = cli_parse_flags(cli, argc, argv, opts, on_flag, args);
	if (rc == CLI_PARSED) {
		rc = cli_expect_positional(cli, argc, argv, n, what);
	}
	if (rc == CLI_PARSED) {
		rc = cli_connect(cli);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Callers                                                             */

struct add_args {
	const char *name;
	bool has_role;
	enrt_role role;
	const char **apps;
	size_t n_apps;
};

static int
role_flag(struct cli *cli, struct add_args *a, const char *text)
{
	if (!enrt_role_parse(text, &a->role)) {
		return cli_usage_error(
		    cli, "--role: expected introspect, portal or admin");
	}
	a->has_role = true;
	return CLI_PARSED;
}

static int
app_flag(struct add_args *a, const char *id)
{
	const char **apps = realloc(a->apps, (a->n_apps + 1) * sizeof(*apps));

	if (apps == NULL) {
		fprintf(stderr, "enrt: out of memory\n");
		return CLI_EXIT_STATUS;
	}
	a->apps = apps;
	a->apps[a->n_apps++] = id;
	return CLI_PARSED;
}

static int
add_flag(struct cli *cli, void *args, int flag, char *value)
{
	struct add_args *a = args;

	switch (flag) {
	case FLAG_NAME:
		a->name = value;
		return CLI_PARSED;
	case FLAG_ROLE:
		return role_flag(cli, a, value);
	case FLAG_APP:
		return app_flag(a, value);
	default:
		return cli_usage_error(cli, "unexpected flag");
	}
}

static const struct option add_options[] = {
    {"name", required_argument, NULL, FLAG_NAME},
    {"role", required_argument, NULL, FLAG_ROLE},
    {"app", required_argument, NULL, FLAG_APP},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int
check_add_args(struct cli *cli, const struct add_args *a)
{
	if (a->name == NULL) {
		return cli_usage_error(cli, "--name is required");
	}
	if (!a->has_role) {
		return cli_usage_error(cli, "--role is required");
	}
	if (a->n_apps > 0 && a->role != ENRT_ROLE_INTROSPECT) {
		return cli_usage_error(cli,
		    "--app: only an introspect caller is limited to apps");
	}
	return CLI_PARSED;
}

static int
add_caller(struct cli *cli, const struct add_args *a)
{
	enrt_caller_added *added = NULL;
	enrt_error err;
	int rc;

	if (enrt_caller_add(cli->client, a->name, a->role, a->apps, a->n_apps,
	        &added, &err) != ENRT_OK) {
		return cli_status_error(&err);
	}
	rc = cli_printed(cli_print_caller_added(added, cli->json));
	enrt_caller_added_free(added);
	return rc;
}

int
cli_caller_add(struct cli *cli, int argc, char **argv)
{
	struct add_args a = {0};
	int rc;

	rc = cli_parse_flags(cli, argc, argv, add_options, add_flag, &a);
	if (rc == CLI_PARSED) {
		rc = cli_expect_positional(cli, argc, argv, 0, "");
	}
	if (rc == CLI_PARSED) {
		rc = check_add_args(cli, &a);
	}
	if (rc == CLI_PARSED) {
		rc = cli_connect(cli);
	}

	if (rc == CLI_PARSED) {
		rc = add_caller(cli, &a);
	}
	free(a.apps);
	return rc;
}

static void
free_caller_page(void *page)
{
	enrt_caller_page_free(page);
}

static int
fetch_callers(struct cli *cli, struct cli_pages *p)
{
	const char *cursor = NULL;
	enrt_caller_page *page;
	enrt_error err;
	int rc = CLI_PARSED;

	do {
		if (enrt_caller_list(cli->client, cursor, 0, &page, &err) !=
		    ENRT_OK) {
			return cli_status_error(&err);
		}
		if (!cli_pages_add(p, page, page->callers, page->n_callers,
		        sizeof(enrt_caller))) {
			enrt_caller_page_free(page);
			return cli_output_error();
		}
		rc = cli_check_cursor(cursor, page->next_cursor);
		cursor = page->next_cursor;
	} while (rc == CLI_PARSED && cursor != NULL);
	return rc;
}

int
cli_caller_list(struct cli *cli, int argc, char **argv)
{
	struct cli_pages p = {0};
	int rc;

	rc = parse_and_connect(
	    cli, argc, argv, cli_help_only_options, cli_no_flags, NULL, 0, "");
	if (rc == CLI_PARSED) {
		rc = fetch_callers(cli, &p);
	}
	if (rc == CLI_PARSED) {
		rc = cli_printed(
		    cli_print_callers((const enrt_caller *const *)p.items,
		        p.n_items, cli->json));
	}
	free_pages(&p, free_caller_page);
	return rc;
}

int
cli_caller_revoke(struct cli *cli, int argc, char **argv)
{
	enrt_error err;
	int rc;

	rc = parse_and_connect(cli, argc, argv, cli_help_only_options,
	    cli_no_flags, NULL, 1, "CALLER_ID");
	if (rc != CLI_PARSED) {
		return rc;
	}
	if (enrt_caller_revoke(cli->client, argv[optind], &err) != ENRT_OK) {
		return cli_status_error(&err);
	}
	return cli_printed(cli_print_caller_revoked(argv[optind], cli->json));
}

/* ------------------------------------------------------------------ */
/* Users                                                               */

static void
free_user_page(void *page)
{
	enrt_user_page_free(page);
}

static int
fetch_users(struct cli *cli, struct cli_pages *p)
{
	const char *cursor = NULL;
	enrt_user_page *page;
	enrt_error err;
	int rc = CLI_PARSED;

	do {
		if (enrt_user_list(cli->client, cursor, 0, &page, &err) !=
		    ENRT_OK) {
			return cli_status_error(&err);
		}
		if (!cli_pages_add(p, page, page->users, page->n_users,
		        sizeof(enrt_user))) {
			enrt_user_page_free(page);
			return cli_output_error();
		}
		rc = cli_check_cursor(cursor, page->next_cursor);
		cursor = page->next_cursor;
	} while (rc == CLI_PARSED && cursor != NULL);
	return rc;
}

int
cli_user_list(struct cli *cli, int argc, char **argv)
{
	struct cli_pages p = {0};
	int rc;

	rc = parse_and_connect(
	    cli, argc, argv, cli_help_only_options, cli_no_flags, NULL, 0, "");
	if (rc == CLI_PARSED) {
		rc = fetch_users(cli, &p);
	}
	if (rc == CLI_PARSED) {
		rc = cli_printed(cli_print_users(
		    (const enrt_user *const *)p.items, p.n_items, cli->json));
	}
	free_pages(&p, free_user_page);
	return rc;
}

struct set_args {
	bool admin, no_admin;
	bool enable, disable;
};

static int
set_flag(struct cli *cli, void *args, int flag, char *value)
{
	struct set_args *a = args;

	switch (flag) {
	case FLAG_ADMIN:
		a->admin = true;
		return CLI_PARSED;
	case FLAG_NO_ADMIN:
		a->no_admin = true;
		return CLI_PARSED;
	case FLAG_ENABLE:
		a->enable = true;
		return CLI_PARSED;
	case FLAG_DISABLE:
		a->disable = true;
		return CLI_PARSED;
	default:
		return cli_usage_error(cli, "unexpected flag");
	}
}

static const struct option set_options[] = {
    {"admin", no_argument, NULL, FLAG_ADMIN},
    {"no-admin", no_argument, NULL, FLAG_NO_ADMIN},
    {"enable", no_argument, NULL, FLAG_ENABLE},
    {"disable", no_argument, NULL, FLAG_DISABLE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int
check_set_args(struct cli *cli, const struct set_args *a)
{
	if (a->admin && a->no_admin) {
		return cli_usage_error(
		    cli, "give --admin or --no-admin, not both");
	}
	if (a->enable && a->disable) {
		return cli_usage_error(
		    cli, "give --enable or --disable, not both");
	}
	if (!a->admin && !a->no_admin && !a->enable && !a->disable) {
		return cli_usage_error(
		    cli, "nothing to change: give at least one flag");
	}
	return CLI_PARSED;
}

static int
set_user(struct cli *cli, const char *id, const struct set_args *a)
{
	enrt_user *user = NULL;
	enrt_error err;
	int rc;

	if (enrt_user_set(cli->client, id, a->admin || a->no_admin, a->admin,
	        a->enable || a->disable, a->enable, &user, &err) != ENRT_OK) {
		return cli_status_error(&err);
	}
	rc = cli_printed(cli_print_user(user, cli->json));
	enrt_user_free(user);
	return rc;
}

int
cli_user_set(struct cli *cli, int argc, char **argv)
{
	struct set_args a = {0};
	int rc;

	rc = cli_parse_flags(cli, argc, argv, set_options, set_flag, &a);
	if (rc == CLI_PARSED) {
		rc = cli_expect_positional(cli, argc, argv, 1, "USER_ID");
	}
	if (rc == CLI_PARSED) {
		rc = check_set_args(cli, &a);
	}
	if (rc == CLI_PARSED) {
		rc = cli_connect(cli);
	}
	if (rc == CLI_PARSED) {
		rc = set_user(cli, argv[optind], &a);
	}
	return rc;
}

int
cli_user_delete(struct cli *cli, int argc, char **argv)
{
	uint32_t revoked = 0;
	enrt_error err;
	int rc;

	rc = parse_and_connect(cli, argc, argv, cli_help_only_options,
	    cli_no_flags, NULL, 1, "USER_ID");
	if (rc != CLI_PARSED) {
		return rc;
	}
	if (enrt_user_delete(cli->client, argv[optind], &revoked, &err) !=
	    ENRT_OK) {
		return cli_status_error(&err);
	}
	return cli_printed(
	    cli_print_user_deleted(argv[optind], revoked, cli->json));
}

/* ------------------------------------------------------------------ */
/* Audit                                                               */

struct audit_args {
	bool has_since;
	int64_t since;
	size_t limit; /* 0: every event */
};

static int
audit_flag(struct cli *cli, void *args, int flag, char *value)
{
	struct audit_args *a = args;
	unsigned long n;

	switch (flag) {
	case FLAG_SINCE:
		if (!cli_time_parse_since(
		        value, (int64_t)time(NULL), &a->since)) {
			return cli_usage_error(cli,
			    "--since: expected an RFC 3339 time "
			    "(2031-01-01T00:00:00Z or with an offset) or a "
			    "whole number of days, hours or minutes ago (30d, "
			    "12h, 45m)");
		}
		a->has_since = true;
		return CLI_PARSED;
	case FLAG_LIMIT:
		if (!cli_parse_number(value, 1, LIMIT_MAX, &n)) {
			return cli_usage_error(cli,
			    "--limit: expected a whole number from 1 to %d",
			    LIMIT_MAX);
		}
		a->limit = n;
		return CLI_PARSED;
	default:
		return cli_usage_error(cli, "unexpected flag");
	}
}

static const struct option audit_options[] = {
    {"since", required_argument, NULL, FLAG_SINCE},
    {"limit", required_argument, NULL, FLAG_LIMIT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void
free_audit_page(void *page)
{
	enrt_audit_page_free(page);
}

/* Small pages while the limit is near; the server's size otherwise. */
static uint32_t
audit_page_size(const struct audit_args *a, size_t have)
{
	if (a->limit == 0 || a->limit - have >= AUDIT_PAGE) {
		return 0;
	}
	return (uint32_t)(a->limit - have);
}

static bool
audit_done(
    const struct audit_args *a, const struct cli_pages *p, const char *cursor)
{
	return cursor == NULL || (a->limit > 0 && p->n_items >= a->limit);
}

static int
fetch_events(struct cli *cli, const struct audit_args *a, struct cli_pages *p)
{
	const char *cursor = NULL;
	enrt_audit_page *page;
	enrt_error err;
	int rc = CLI_PARSED;

	do {
		if (enrt_audit_list(cli->client, a->has_since, a->since,
		        cursor, audit_page_size(a, p->n_items), &page,
		        &err) != ENRT_OK) {
			return cli_status_error(&err);
		}
		if (!cli_pages_add(p, page, page->events, page->n_events,
		        sizeof(enrt_audit_event))) {
			enrt_audit_page_free(page);
			return cli_output_error();
		}
		rc = cli_check_cursor(cursor, page->next_cursor);
		cursor = page->next_cursor;
	} while (rc == CLI_PARSED && !audit_done(a, p, cursor));
	return rc;
}

int
cli_audit_list(struct cli *cli, int argc, char **argv)
{
	struct audit_args a = {0};
	struct cli_pages p = {0};
	size_t n;
	int rc;

	rc = parse_and_connect(
	    cli, argc, argv, audit_options, audit_flag, &a, 0, "");
	if (rc == CLI_PARSED) {
		rc = fetch_events(cli, &a, &p);
	}
	if (rc == CLI_PARSED) {
		n = a.limit > 0 && p.n_items > a.limit ? a.limit : p.n_items;
		rc = cli_printed(cli_print_events(
		    (const enrt_audit_event *const *)p.items, n, cli->json));
	}
	free_pages(&p, free_audit_page);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Backup                                                              */

int
cli_backup_create(struct cli *cli, int argc, char **argv)
{
	enrt_backup_info *info = NULL;
	enrt_error err;
	int rc;

	rc = parse_and_connect(
	    cli, argc, argv, cli_help_only_options, cli_no_flags, NULL, 0, "");
	if (rc != CLI_PARSED) {
		return rc;
	}
	if (enrt_backup(cli->client, &info, &err) != ENRT_OK) {
		return cli_status_error(&err);
	}
	rc = cli_printed(cli_print_backup(info, cli->json));
	enrt_backup_info_free(info);
	return rc;
}
