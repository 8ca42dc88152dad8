/*
 * The app subcommands of the enrt CLI: create, update, show and list
 * (every app, or those where the person of --as may issue a PAT).
 *
 * Each parses its flags into the fields of enrt_app_params, calls
 * libenrt and prints the app or apps.  Runs on the CLI's only thread.
 */
#include "cli.h"
#include "cli_print.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	FLAG_NAME = 256,
	FLAG_POLICY,
	FLAG_SYSTEM_USER,
	FLAG_SCOPES,
	FLAG_MAX_LIFETIME,
	FLAG_ENABLE,
	FLAG_DISABLE,
	FLAG_ELIGIBLE,
};

struct app_args {
	enrt_app_params params;
	struct cli_list scopes;
	bool enable;
	bool disable;
};

static int
lifetime_flag(struct cli *cli, enrt_app_params *p, const char *text)
{
	unsigned long days;

	p->set_max_lifetime = true;
	if (strcmp(text, "unlimited") == 0) {
		p->unlimited_lifetime = true;
		return CLI_PARSED;
	}
	/* The server holds the number to its own limit and names it. */
	if (!cli_parse_number(text, 1, UINT32_MAX, &days)) {
		return cli_usage_error(cli,
		    "--max-lifetime: expected a whole number of days, or "
		    "unlimited");
	}
	p->unlimited_lifetime = false;
	p->max_lifetime_days = (uint32_t)days;
	return CLI_PARSED;
}

static int
policy_flag(struct cli *cli, enrt_app_params *p, const char *text)
{
	if (!enrt_policy_parse(text, &p->policy)) {
		return cli_usage_error(cli,
		    "--policy: expected None, AuthenticatedUsers or "
		    "AdministratorsOnly");
	}
	p->set_policy = true;
	return CLI_PARSED;
}

static int
app_flag(struct cli *cli, void *args, int flag, char *value)
{
	struct app_args *a = args;

	switch (flag) {
	case FLAG_NAME:
		a->params.name = value;
		return CLI_PARSED;
	case FLAG_POLICY:
		return policy_flag(cli, &a->params, value);
	case FLAG_SYSTEM_USER:
		a->params.system_user = value;
		return CLI_PARSED;
	case FLAG_SCOPES:
		a->params.set_allowed_scopes = true;
		return cli_scopes_flag(cli, &a->scopes, value, true);
	case FLAG_MAX_LIFETIME:
		return lifetime_flag(cli, &a->params, value);
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

static const struct option app_create_options[] = {
    {"name", required_argument, NULL, FLAG_NAME},
    {"policy", required_argument, NULL, FLAG_POLICY},
    {"system-user", required_argument, NULL, FLAG_SYSTEM_USER},
    {"scopes", required_argument, NULL, FLAG_SCOPES},
    {"max-lifetime", required_argument, NULL, FLAG_MAX_LIFETIME},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const struct option app_update_options[] = {
    {"name", required_argument, NULL, FLAG_NAME},
    {"policy", required_argument, NULL, FLAG_POLICY},
    {"system-user", required_argument, NULL, FLAG_SYSTEM_USER},
    {"scopes", required_argument, NULL, FLAG_SCOPES},
    {"max-lifetime", required_argument, NULL, FLAG_MAX_LIFETIME},
    {"enable", no_argument, NULL, FLAG_ENABLE},
    {"disable", no_argument, NULL, FLAG_DISABLE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void
finish_app_args(struct app_args *a)
{
	a->params.allowed_scopes = (const char *const *)a->scopes.items;
	a->params.n_allowed_scopes = a->scopes.n;
	a->params.set_enabled = a->enable || a->disable;
	a->params.enabled = a->enable;
}

static int
check_create_args(struct cli *cli, const struct app_args *a)
{
	if (a->params.name == NULL) {
		return cli_usage_error(cli, "--name is required");
	}
	if (!a->params.set_policy) {
		return cli_usage_error(cli, "--policy is required");
	}
	if (a->params.system_user == NULL) {
		return cli_usage_error(cli, "--system-user is required");
	}
	return CLI_PARSED;
}

static int
check_update_args(struct cli *cli, const struct app_args *a)
{
	const enrt_app_params *p = &a->params;

	if (a->enable && a->disable) {
		return cli_usage_error(
		    cli, "give --enable or --disable, not both");
	}
	if (p->name == NULL && !p->set_policy && p->system_user == NULL &&
	    !p->set_allowed_scopes && !p->set_max_lifetime && !a->enable &&
	    !a->disable) {
		return cli_usage_error(
		    cli, "nothing to change: give at least one flag");
	}
	return CLI_PARSED;
}

/* Prints an app reply: the whole app, or its id alone. */
static int
app_result(struct cli *cli, enrt_status status, const enrt_error *err,
    enrt_app *app, bool id_only)
{
	bool printed;

	if (status != ENRT_OK) {
		return cli_status_error(err);
	}
	if (id_only && !cli->json) {
		printed = printf("%s\n", app->id != NULL ? app->id : "") >= 0;
	} else {
		printed = cli_print_app(app, cli->json);
	}
	enrt_app_free(app);
	return cli_printed(printed);
}

int
cli_app_create(struct cli *cli, int argc, char **argv)
{
	struct app_args a = {0};
	enrt_app *app = NULL;
	enrt_status status;
	enrt_error err;
	int rc;

	rc =
	    cli_parse_flags(cli, argc, argv, app_create_options, app_flag, &a);
	if (rc == CLI_PARSED) {
		rc = cli_expect_positional(cli, argc, argv, 0, "");
	}
	if (rc == CLI_PARSED) {
		rc = check_create_args(cli, &a);
	}
	if (rc == CLI_PARSED) {
		rc = cli_connect(cli);
	}

	if (rc == CLI_PARSED) {
		finish_app_args(&a);
		status = enrt_app_create(cli->client, &a.params, &app, &err);
		rc = app_result(cli, status, &err, app, true);
	}
	cli_list_clear(&a.scopes);
	return rc;
}

int
cli_app_update(struct cli *cli, int argc, char **argv)
{
	struct app_args a = {0};
	enrt_app *app = NULL;
	enrt_status status;
	enrt_error err;
	int rc;

	rc =
	    cli_parse_flags(cli, argc, argv, app_update_options, app_flag, &a);
	if (rc == CLI_PARSED) {
		rc = cli_expect_positional(cli, argc, argv, 1, "APP_ID");
	}
	if (rc == CLI_PARSED) {
		rc = check_update_args(cli, &a);
	}
	if (rc == CLI_PARSED) {
		rc = cli_connect(cli);
	}

	if (rc == CLI_PARSED) {
		finish_app_args(&a);
		status = enrt_app_update(
		    cli->client, argv[optind], &a.params, &app, &err);
		rc = app_result(cli, status, &err, app, false);
	}
	cli_list_clear(&a.scopes);
	return rc;
}

int
cli_app_show(struct cli *cli, int argc, char **argv)
{
	enrt_app *app = NULL;
	enrt_status status;
	enrt_error err;
	int rc;

	rc = cli_parse_flags(
	    cli, argc, argv, cli_help_only_options, cli_no_flags, NULL);
	if (rc == CLI_PARSED) {
		rc = cli_expect_positional(cli, argc, argv, 1, "APP_ID");
	}
	if (rc == CLI_PARSED) {
		rc = cli_connect(cli);
	}

	if (rc == CLI_PARSED) {
		status = enrt_app_get(cli->client, argv[optind], &app, &err);
		rc = app_result(cli, status, &err, app, false);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Listing                                                             */

static enrt_status
list_page(struct cli *cli, bool eligible, const char *cursor,
    enrt_app_page **page, enrt_error *err)
{
	if (eligible) {
		return enrt_app_list_eligible(
		    cli->client, cursor, 0, page, err);
	}
	return enrt_app_list(cli->client, cursor, 0, page, err);
}

static int
fetch_apps(struct cli *cli, bool eligible, struct cli_pages *p)
{
	const char *cursor = NULL;
	enrt_app_page *page;
	enrt_error err;
	int rc = CLI_PARSED;

	do {
		if (list_page(cli, eligible, cursor, &page, &err) != ENRT_OK) {
			return cli_status_error(&err);
		}
		if (!cli_pages_add(
		        p, page, page->apps, page->n_apps, sizeof(enrt_app))) {
			enrt_app_page_free(page);
			return cli_output_error();
		}
		rc = cli_check_cursor(cursor, page->next_cursor);
		cursor = page->next_cursor;
	} while (rc == CLI_PARSED && cursor != NULL);
	return rc;
}

static int
list_flag(struct cli *cli, void *args, int flag, char *value)
{
	*(bool *)args = true;
	return CLI_PARSED;
}

static const struct option app_list_options[] = {
    {"eligible", no_argument, NULL, FLAG_ELIGIBLE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int
cli_app_list(struct cli *cli, int argc, char **argv)
{
	struct cli_pages p = {0};
	bool eligible = false;
	int rc;

	rc = cli_parse_flags(
	    cli, argc, argv, app_list_options, list_flag, &eligible);
	if (rc == CLI_PARSED) {
		rc = cli_expect_positional(cli, argc, argv, 0, "");
	}
	if (rc == CLI_PARSED) {
		rc = cli_connect(cli);
	}
	if (rc == CLI_PARSED) {
		rc = fetch_apps(cli, eligible, &p);
	}

	if (rc == CLI_PARSED) {
		rc = cli_printed(cli_print_apps(
		    (const enrt_app *const *)p.items, p.n_items, cli->json));
	}
	for (size_t i = 0; i < p.n_pages; i++) {
		enrt_app_page_free(p.pages[i]);
	}
	cli_pages_clear(&p);
	return rc;
}
