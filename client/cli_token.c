/*
 * The token subcommands of the enrt CLI: issue, introspect (one token,
 * or a batch of them, one per line), revoke (by id, by value, or every
 * token of a user) and list.
 *
 * Token values only ever come from standard input, and the buffers that
 * held them are wiped before the subcommand returns.  Runs on the CLI's
 * only thread.
 */
#include "cli.h"
#include "cli_print.h"
#include "cli_time.h"

#include <sodium.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
	FLAG_APP = 256,
	FLAG_KIND,
	FLAG_EXPIRES,
	FLAG_SCOPES,
	FLAG_DESCRIPTION,
	FLAG_OWNER,
	FLAG_VALUE,
	FLAG_ALL,
	FLAG_BATCH,
	FLAG_USER,
};

#define EXPIRES_RULE                                                          \
	"expected an RFC 3339 time (2031-01-01T00:00:00Z or with an offset "  \
	"such as +02:00), a whole number of days, hours or minutes from now " \
	"(30d, 12h, 45m) or never"

struct issue_args {
	enrt_issue_params params;
	struct cli_list scopes;
	bool has_kind;
	bool has_expires;
};

static int
kind_flag(struct cli *cli, struct issue_args *a, const char *text)
{
	if (strcmp(text, "pat") == 0) {
		a->params.kind = ENRT_KIND_PAT;
	} else if (strcmp(text, "sat") == 0) {
		a->params.kind = ENRT_KIND_SAT;
	} else {
		return cli_usage_error(cli, "--kind: expected pat or sat");
	}
	a->has_kind = true;
	return CLI_PARSED;
}

static int
expires_flag(struct cli *cli, struct issue_args *a, const char *text)
{
	bool never;

	if (!cli_time_parse_expiry(
	        text, (int64_t)time(NULL), &never, &a->params.expires_at)) {
		return cli_usage_error(cli, "--expires: %s", EXPIRES_RULE);
	}
	a->params.has_expires_at = !never;
	a->has_expires = true;
	return CLI_PARSED;
}

static int
issue_flag(struct cli *cli, void *args, int flag, char *value)
{
	struct issue_args *a = args;

	switch (flag) {
	case FLAG_APP:
		a->params.app_id = value;
		return CLI_PARSED;
	case FLAG_KIND:
		return kind_flag(cli, a, value);
	case FLAG_EXPIRES:
		return expires_flag(cli, a, value);
	case FLAG_SCOPES:
		return cli_scopes_flag(cli, &a->scopes, value, false);
	case FLAG_DESCRIPTION:
		a->params.description = value;
		return CLI_PARSED;
	case FLAG_OWNER:
		a->params.owner = value;
		return CLI_PARSED;
	default:
		return cli_usage_error(cli, "unexpected flag");
	}
}

static const struct option issue_options[] = {
    {"app", required_argument, NULL, FLAG_APP},
    {"kind", required_argument, NULL, FLAG_KIND},
    {"expires", required_argument, NULL, FLAG_EXPIRES},
    {"scopes", required_argument, NULL, FLAG_SCOPES},
    {"description", required_argument, NULL, FLAG_DESCRIPTION},
    {"owner", required_argument, NULL, FLAG_OWNER},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int
check_issue_args(struct cli *cli, const struct issue_args *a)
{
	if (a->params.app_id == NULL) {
		return cli_usage_error(cli, "--app is required");
	}
	if (!a->has_kind) {
		return cli_usage_error(cli, "--kind is required");
	}
	if (!a->has_expires) {
		return cli_usage_error(cli, "--expires is required");
	}
	if (a->scopes.n == 0) {
		return cli_usage_error(cli, "--scopes is required");
	}
	if (a->params.owner != NULL && a->params.kind == ENRT_KIND_SAT) {
		return cli_usage_error(
		    cli, "--owner: only a pat has an owner");
	}
	return CLI_PARSED;
}

int
cli_token_issue(struct cli *cli, int argc, char **argv)
{
	struct issue_args a = {0};
	enrt_issued *issued = NULL;
	enrt_error err;
	int rc;

	rc = cli_parse_flags(cli, argc, argv, issue_options, issue_flag, &a);
	if (rc == CLI_PARSED) {
		rc = cli_expect_positional(cli, argc, argv, 0, "");
	}
	if (rc == CLI_PARSED) {
		rc = check_issue_args(cli, &a);
	}
	if (rc == CLI_PARSED) {
		rc = cli_connect(cli);
	}

	if (rc == CLI_PARSED) {
		a.params.scopes = (const char *const *)a.scopes.items;
		a.params.n_scopes = a.scopes.n;
		if (enrt_issue(cli->client, &a.params, &issued, &err) !=
		    ENRT_OK) {
			rc = cli_status_error(&err);
		} else {
			rc = cli_printed(cli_print_issued(issued, cli->json));
		}
	}
	enrt_issued_free(issued);
	cli_list_clear(&a.scopes);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Introspect                                                          */

/* Up to ENRT_BATCH_MAX lines of standard input, wiped when done. */
struct batch {
	char (*values)[CLI_VALUE_MAX];
	const char *ptrs[ENRT_BATCH_MAX];
	size_t lens[ENRT_BATCH_MAX];
	size_t n;
};

/* Reads the next lines into b; fewer than ENRT_BATCH_MAX at the end. */
static int
read_batch(struct cli_lines *lines, struct batch *b)
{
	bool got = true;
	int rc = CLI_PARSED;

	b->n = 0;
	while (rc == CLI_PARSED && got && b->n < ENRT_BATCH_MAX) {
		rc = cli_lines_next(
		    lines, b->values[b->n], &b->lens[b->n], &got);
		if (rc == CLI_PARSED && got) {
			b->ptrs[b->n] = b->values[b->n];
			b->n++;
		}
	}
	return rc;
}

static int
answer_batch(struct cli *cli, const struct batch *b)
{
	enrt_introspection_batch *answers = NULL;
	enrt_error err;
	int rc = CLI_PARSED;

	if (cli->client == NULL && (rc = cli_connect(cli)) != CLI_PARSED) {
		return rc;
	}
	if (enrt_introspect_batch(cli->client, b->ptrs, b->lens, b->n,
	        &answers, &err) != ENRT_OK) {
		return cli_status_error(&err);
	}

	for (size_t i = 0; rc == CLI_PARSED && i < answers->n_answers; i++) {
		if (!cli_print_introspection(&answers->answers[i])) {
			rc = cli_output_error();
		}
	}
	enrt_introspection_batch_free(answers);
	return rc;
}

/* One request per ENRT_BATCH_MAX lines, answers printed as they come. */
static int
run_batches(struct cli *cli, struct cli_lines *lines, struct batch *b)
{
	int rc;

	do {
		rc = read_batch(lines, b);
		if (rc == CLI_PARSED && b->n > 0) {
			rc = answer_batch(cli, b);
		}
	} while (rc == CLI_PARSED && b->n == ENRT_BATCH_MAX);
	return rc == CLI_PARSED ? EXIT_SUCCESS : rc;
}

static int
introspect_batches(struct cli *cli)
{
	struct cli_lines *lines = calloc(1, sizeof(*lines));
	struct batch b = {0};
	int rc;

	b.values = calloc(ENRT_BATCH_MAX, sizeof(*b.values));
	if (lines == NULL || b.values == NULL) {
		fprintf(stderr, "enrt: out of memory\n");
		rc = CLI_EXIT_STATUS;
	} else {
		rc = run_batches(cli, lines, &b);
	}

	if (b.values != NULL) {
		sodium_memzero(b.values, ENRT_BATCH_MAX * sizeof(*b.values));
	}
	free(b.values);
	if (lines != NULL) {
		cli_lines_clear(lines);
	}
	free(lines);
	return rc;
}

static int
introspect_flag(struct cli *cli, void *args, int flag, char *value)
{
	*(bool *)args = true;
	return CLI_PARSED;
}

static const struct option introspect_options[] = {
    {"batch", no_argument, NULL, FLAG_BATCH},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int
cli_token_introspect(struct cli *cli, int argc, char **argv)
{
	char value[CLI_VALUE_MAX];
	size_t len = 0;
	enrt_introspection *result = NULL;
	bool batch = false;
	enrt_error err;
	int rc;

	rc = cli_parse_flags(
	    cli, argc, argv, introspect_options, introspect_flag, &batch);
	if (rc == CLI_PARSED) {
		rc = cli_expect_positional(cli, argc, argv, 0, "");
	}
	if (rc == CLI_PARSED && batch) {
		return introspect_batches(cli);
	}
	if (rc == CLI_PARSED) {
		rc = cli_read_value(value, &len);
	}
	/* Not of the form of a token: inactive, no server needed. */
	if (rc == CLI_PARSED && !enrt_token_check(value, len)) {
		enrt_introspection inactive = {.active = false};

		rc = cli_printed(cli_print_introspection(&inactive));
	}
	if (rc == CLI_PARSED) {
		rc = cli_connect(cli);
	}

	if (rc == CLI_PARSED) {
		if (enrt_introspect(cli->client, value, len, &result, &err) !=
		    ENRT_OK) {
			rc = cli_status_error(&err);
		} else {
			rc = cli_printed(cli_print_introspection(result));
		}
	}
	sodium_memzero(value, sizeof(value));
	enrt_introspection_free(result);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Revoke                                                              */

struct revoke_args {
	bool by_value;
	const char *user;
};

static int
revoke_flag(struct cli *cli, void *args, int flag, char *value)
{
	struct revoke_args *a = args;

	switch (flag) {
	case FLAG_VALUE:
		a->by_value = true;
		return CLI_PARSED;
	case FLAG_USER:
		a->user = value;
		return CLI_PARSED;
	default:
		return cli_usage_error(cli, "unexpected flag");
	}
}

static const struct option revoke_options[] = {
    {"value", no_argument, NULL, FLAG_VALUE},
    {"user", required_argument, NULL, FLAG_USER},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int
revoke_by_value(struct cli *cli)
{
	char value[CLI_VALUE_MAX];
	size_t len = 0;
	enrt_error err;
	int rc;

	rc = cli_read_value(value, &len);
	if (rc == CLI_PARSED && !enrt_token_check(value, len)) {
		rc = cli_usage_error(cli,
		    "--value: standard input does not hold a token (enrt_ and "
		    "49 base62 characters with a valid checksum)");
	}
	if (rc == CLI_PARSED) {
		rc = cli_connect(cli);
	}
	if (rc == CLI_PARSED &&
	    enrt_revoke_value(cli->client, value, len, &err) != ENRT_OK) {
		rc = cli_status_error(&err);
	}
	sodium_memzero(value, sizeof(value));
	return rc;
}

static int
revoke_by_id(struct cli *cli, const char *id)
{
	enrt_error err;
	int rc;

	if ((rc = cli_connect(cli)) != CLI_PARSED) {
		return rc;
	}
	if (enrt_revoke_id(cli->client, id, &err) != ENRT_OK) {
		return cli_status_error(&err);
	}
	return CLI_PARSED;
}

/* Offboarding: every token of one user. */
static int
revoke_user(struct cli *cli, const char *user)
{
	uint32_t revoked = 0;
	enrt_error err;
	int rc;

	if ((rc = cli_connect(cli)) != CLI_PARSED) {
		return rc;
	}
	if (enrt_revoke_user(cli->client, user, &revoked, &err) != ENRT_OK) {
		return cli_status_error(&err);
	}
	return cli_printed(cli_print_revoked_user(user, revoked, cli->json));
}

static int
check_revoke_args(
    struct cli *cli, const struct revoke_args *a, int argc, char **argv)
{
	if (a->by_value && a->user != NULL) {
		return cli_usage_error(
		    cli, "give --value or --user, not both");
	}
	return cli_expect_positional(cli, argc, argv,
	    a->by_value || a->user != NULL ? 0 : 1,
	    "TOKEN_ID (or --value to read the token from standard "
	    "input)");
}

int
cli_token_revoke(struct cli *cli, int argc, char **argv)
{
	struct revoke_args a = {0};
	const char *id = NULL;
	int rc;

	rc = cli_parse_flags(cli, argc, argv, revoke_options, revoke_flag, &a);
	if (rc == CLI_PARSED) {
		rc = check_revoke_args(cli, &a, argc, argv);
	}
	if (rc != CLI_PARSED) {
		return rc;
	}

	if (a.user != NULL) {
		return revoke_user(cli, a.user);
	}
	if (a.by_value) {
		rc = revoke_by_value(cli);
	} else {
		id = argv[optind];
		rc = revoke_by_id(cli, id);
	}
	if (rc != CLI_PARSED) {
		return rc;
	}
	return cli_printed(cli_print_revoked(id, cli->json));
}

/* ------------------------------------------------------------------ */
/* List                                                                */

static int
list_flag(struct cli *cli, void *args, int flag, char *value)
{
	enrt_list_params *p = args;

	switch (flag) {
	case FLAG_APP:
		p->app_id = value;
		return CLI_PARSED;
	case FLAG_OWNER:
		p->owner = value;
		return CLI_PARSED;
	case FLAG_ALL:
		p->include_inactive = true;
		return CLI_PARSED;
	default:
		return cli_usage_error(cli, "unexpected flag");
	}
}

static const struct option list_options[] = {
    {"app", required_argument, NULL, FLAG_APP},
    {"owner", required_argument, NULL, FLAG_OWNER},
    {"all", no_argument, NULL, FLAG_ALL},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int
fetch_tokens(struct cli *cli, enrt_list_params *params, struct cli_pages *p)
{
	enrt_token_page *page;
	enrt_error err;
	int rc = CLI_PARSED;

	params->cursor = NULL;
	do {
		if (enrt_list_tokens(cli->client, params, &page, &err) !=
		    ENRT_OK) {
			return cli_status_error(&err);
		}
		if (!cli_pages_add(p, page, page->tokens, page->n_tokens,
		        sizeof(enrt_token))) {
			enrt_token_page_free(page);
			return cli_output_error();
		}
		rc = cli_check_cursor(params->cursor, page->next_cursor);
		params->cursor = page->next_cursor;
	} while (rc == CLI_PARSED && params->cursor != NULL);
	return rc;
}

int
cli_token_list(struct cli *cli, int argc, char **argv)
{
	enrt_list_params params = {0};
	struct cli_pages p = {0};
	int rc;

	rc =
	    cli_parse_flags(cli, argc, argv, list_options, list_flag, &params);
	if (rc == CLI_PARSED) {
		rc = cli_expect_positional(cli, argc, argv, 0, "");
	}
	if (rc == CLI_PARSED) {
		rc = cli_connect(cli);
	}
	if (rc == CLI_PARSED) {
		rc = fetch_tokens(cli, &params, &p);
	}

	if (rc == CLI_PARSED) {
		rc = cli_printed(cli_print_tokens(
		    (const enrt_token *const *)p.items, p.n_items, cli->json));
	}
	for (size_t i = 0; i < p.n_pages; i++) {
		enrt_token_page_free(p.pages[i]);
	}
	cli_pages_clear(&p);
	return rc;
}
