/*
 * enrt: the command-line client of enrtd.
 *
 * main parses the global flags, looks the subcommand up in the table
 * below and hands it the rest of the arguments; the subcommands live in
 * cli_app.c, cli_token.c and cli_admin.c (callers, users, audit), the
 * helpers they share in cli_util.c, and the output in cli_print.c.
 * Exit status: 0 on success; 1 with "STATUS: message" on standard error
 * when the server or the library answers with an error; 2 with a usage
 * line on standard error for bad arguments.
 *
 * Single-threaded.  A run owns one client handle, and with --as a view
 * of it, both closed here.  Token values are only ever read from
 * standard input, never from the command line, so that they do not show
 * in the process list.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_URL             "ipc://enrt-data/enrt.sock"
#define DEFAULT_CREDENTIAL_FILE "enrt-data/admin.credential"
#define TIMEOUT_MAX_MS          3600000

static const struct cli_command commands[];

/* ------------------------------------------------------------------ */
/* Help                                                                */

static void
print_command_list(const char *group)
{
	for (const struct cli_command *c = commands; c->group != NULL; c++) {
		if (group == NULL || strcmp(c->group, group) == 0) {
			char name[32];

			snprintf(
			    name, sizeof(name), "%s %s", c->group, c->name);
			printf("  %-18s %s\n", name, c->summary);
		}
	}
}

static int
print_global_help(void)
{
	printf("usage: enrt [global flags] COMMAND [flags]\n\n"
	       "Global flags, before or after the command:\n"
	       "  --url URL               enrtd's address: ipc://, tcp:// "
	       "or tls+tcp://\n"
	       "                          default: $ENRT_URL, else\n"
	       "                          %s\n"
	       "  --credential-file FILE  file whose first line is the "
	       "caller's credential\n"
	       "                          default: $ENRT_CREDENTIAL_FILE, "
	       "else\n"
	       "                          %s\n"
	       "  --json                  print JSON for scripts\n"
	       "  --timeout MS            time allowed for each request "
	       "(default 10000)\n"
	       "  --tls-ca FILE           PEM CA certificates that enrtd's "
	       "certificate must\n"
	       "                          chain to; required with tls+tcp://\n"
	       "                          default: $ENRT_TLS_CA\n"
	       "  --tls-server-name NAME  the name enrtd's certificate must "
	       "carry\n"
	       "                          default: the host in the URL\n"
	       "  --as USER_ID            act for this person in every call "
	       "(portal callers)\n"
	       "  --name DISPLAY          the person's display name (with "
	       "--as)\n"
	       "  --admin                 the person is an administrator "
	       "(with --as)\n"
	       "  --version               print enrt's version (also: enrt "
	       "version)\n"
	       "  --help                  print this help\n\n"
	       "Where a command has a flag of the same name (app create "
	       "--name, user set\n"
	       "--admin), after the command it is the command's: give the "
	       "person's --name\n"
	       "and --admin before the command there.\n\n"
	       "Commands:\n",
	    DEFAULT_URL, DEFAULT_CREDENTIAL_FILE);
	print_command_list(NULL);
	printf("\nRun 'enrt COMMAND --help' for a command's flags.\n");
	return EXIT_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* The table of subcommands                                            */

static const struct cli_command commands[] = {
    {"app", "create",
        "--name NAME --policy POLICY --system-user USER_ID "
        "[--scopes a,b,...] [--max-lifetime DAYS|unlimited]",
        "Create a trusted app and print its id",
        "  --name NAME                 the app's name\n"
        "  --policy POLICY             who may issue tokens: None, "
        "AuthenticatedUsers\n"
        "                              or AdministratorsOnly\n"
        "  --system-user USER_ID       the user its service tokens act "
        "as\n"
        "  --scopes a,b,...            the scopes its tokens may carry "
        "(default: any)\n"
        "  --max-lifetime DAYS         the longest lifetime of its "
        "tokens (default 365),\n"
        "                              or unlimited\n",
        cli_app_create},
    {"app", "update",
        "APP_ID [--name NAME] [--policy POLICY] [--system-user USER_ID] "
        "[--scopes a,b,...] [--max-lifetime DAYS|unlimited] "
        "[--enable|--disable]",
        "Change the given fields of an app and print it",
        "  --name, --policy, --system-user, --max-lifetime: as for "
        "app create\n"
        "  --scopes a,b,...            the allowed scopes; '' allows any "
        "scope\n"
        "  --enable, --disable         switch all of the app's tokens "
        "on or off\n",
        cli_app_update},
    {"app", "show", "APP_ID", "Print one app", "", cli_app_show},
    {"app", "list", "[--eligible]", "Print every app",
        "  --eligible                  only the apps in which the person "
        "of --as may\n"
        "                              issue a pat\n",
        cli_app_list},
    {"token", "issue",
        "--app APP_ID --kind pat|sat --expires TIME --scopes a,b,... "
        "[--description TEXT] [--owner USER_ID]",
        "Issue a token and print its value once, then its metadata",
        "  --app APP_ID                the app the token belongs to\n"
        "  --kind pat|sat              a personal or a service access "
        "token\n"
        "  --expires TIME              2031-01-01T00:00:00Z (any RFC "
        "3339 offset), 30d,\n"
        "                              12h, 45m from now, or never "
        "(apps with an\n"
        "                              unlimited lifetime only)\n"
        "  --scopes a,b,...            the token's scopes\n"
        "  --description TEXT          a note for listings\n"
        "  --owner USER_ID             the owner of a pat issued by an "
        "admin\n",
        cli_token_issue},
    {"token", "introspect", "< TOKEN | --batch < TOKENS",
        "Read a token from standard input and print whether it is "
        "active, as JSON",
        "  --batch                     read one token per line, print one "
        "answer per\n"
        "                              line, in order (up to 128 per "
        "request)\n",
        cli_token_introspect},
    {"token", "revoke", "TOKEN_ID | --value < TOKEN | --user USER_ID",
        "Revoke a token by id or by value, or every token of a user",
        "  --value                     read the token's value from "
        "standard input\n"
        "  --user USER_ID              revoke every token of this user "
        "and print how\n"
        "                              many\n",
        cli_token_revoke},
    {"token", "list", "[--app APP_ID] [--owner USER_ID] [--all]",
        "List tokens (your own, or an app's with --app)",
        "  --app APP_ID                the tokens of this app\n"
        "  --owner USER_ID             the tokens of this owner\n"
        "  --all                       expired and revoked tokens too\n",
        cli_token_list},
    {"caller", "add",
        "--name NAME --role introspect|portal|admin [--app APP_ID]...",
        "Add a caller and print its credential once, then its metadata",
        "  --name NAME                 the caller's name\n"
        "  --role ROLE                 introspect, portal or admin\n"
        "  --app APP_ID                an introspect caller sees only "
        "the tokens of\n"
        "                              these apps (repeat for more)\n",
        cli_caller_add},
    {"caller", "list", "", "Print every caller, never a credential", "",
        cli_caller_list},
    {"caller", "revoke", "CALLER_ID", "Revoke a caller's credential for good",
        "", cli_caller_revoke},
    {"user", "list", "", "Print every user", "", cli_user_list},
    {"user", "set", "USER_ID [--admin|--no-admin] [--enable|--disable]",
        "Change a user's flags and print the user",
        "  --admin, --no-admin         make the user an administrator, "
        "or not\n"
        "  --enable, --disable         switch the user's tokens and "
        "portal calls on\n"
        "                              or off\n",
        cli_user_set},
    {"user", "delete", "USER_ID",
        "Delete a user, revoke their tokens and print how many", "",
        cli_user_delete},
    {"audit", "list", "[--since TIME] [--limit N]",
        "Print the audit log, oldest first",
        "  --since TIME                from 2031-01-01T00:00:00Z (any RFC "
        "3339 offset),\n"
        "                              or 30d, 12h, 45m ago\n"
        "  --limit N                   print at most N events\n",
        cli_audit_list},
    {"backup", "create", "",
        "Have enrtd write a hot backup into its backup-dir; print its "
        "path",
        "", cli_backup_create},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

static bool
known_group(const char *group)
{
	for (const struct cli_command *c = commands; c->group != NULL; c++) {
		if (strcmp(c->group, group) == 0) {
			return true;
		}
	}
	return false;
}

static const struct cli_command *
find_command(const char *group, const char *name)
{
	for (const struct cli_command *c = commands; c->group != NULL; c++) {
		if (strcmp(c->group, group) == 0 &&
		    strcmp(c->name, name) == 0) {
			return c;
		}
	}
	return NULL;
}

static bool
is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

static int
group_help(const char *group)
{
	printf("usage: enrt [global flags] %s COMMAND [flags]\n\n"
	       "Commands:\n",
	    group);
	print_command_list(group);
	return EXIT_SUCCESS;
}

static int
print_version(void)
{
	printf("enrt %s\n", ENRT_VERSION);
	return EXIT_SUCCESS;
}

/* argv[0] is the group ("app", "token"), argv[1] the command's name. */
static int
dispatch(struct cli *cli, int argc, char **argv)
{
	if (argc == 0) {
		return cli_usage_error(cli, "missing command");
	}
	if (strcmp(argv[0], "version") == 0) {
		return argc == 1 ? print_version()
		                 : cli_usage_error(cli, "version takes no "
		                                        "arguments");
	}
	if (!known_group(argv[0])) {
		return cli_usage_error(cli, "unknown command %s", argv[0]);
	}
	if (argc == 1) {
		return cli_usage_error(cli,
		    "missing %s command: %s --help lists "
		    "them",
		    argv[0], argv[0]);
	}
	if (is_help(argv[1])) {
		return group_help(argv[0]);
	}

	cli->command = find_command(argv[0], argv[1]);
	if (cli->command == NULL) {
		return cli_usage_error(
		    cli, "unknown command %s %s", argv[0], argv[1]);
	}
	return cli->command->run(cli, argc - 1, argv + 1);
}

/* ------------------------------------------------------------------ */
/* Global flags                                                        */

/* Apart from the subcommands' flag values, so that both can be mixed. */
enum {
	GLOBAL_URL = CLI_GLOBAL_FLAG_BASE,
	GLOBAL_CREDENTIAL_FILE,
	GLOBAL_JSON,
	GLOBAL_TIMEOUT,
	GLOBAL_TLS_CA,
	GLOBAL_TLS_SERVER_NAME,
	GLOBAL_AS,
	GLOBAL_NAME,
	GLOBAL_ADMIN,
};

const struct option cli_global_options[] = {
    {"url", required_argument, NULL, GLOBAL_URL},
    {"credential-file", required_argument, NULL, GLOBAL_CREDENTIAL_FILE},
    {"json", no_argument, NULL, GLOBAL_JSON},
    {"timeout", required_argument, NULL, GLOBAL_TIMEOUT},
    {"tls-ca", required_argument, NULL, GLOBAL_TLS_CA},
    {"tls-server-name", required_argument, NULL, GLOBAL_TLS_SERVER_NAME},
    {"as", required_argument, NULL, GLOBAL_AS},
    {"name", required_argument, NULL, GLOBAL_NAME},
    {"admin", no_argument, NULL, GLOBAL_ADMIN},
    {NULL, 0, NULL, 0},
};

static const struct option global_options_with_help[] = {
    {"url", required_argument, NULL, GLOBAL_URL},
    {"credential-file", required_argument, NULL, GLOBAL_CREDENTIAL_FILE},
    {"json", no_argument, NULL, GLOBAL_JSON},
    {"timeout", required_argument, NULL, GLOBAL_TIMEOUT},
    {"tls-ca", required_argument, NULL, GLOBAL_TLS_CA},
    {"tls-server-name", required_argument, NULL, GLOBAL_TLS_SERVER_NAME},
    {"as", required_argument, NULL, GLOBAL_AS},
    {"name", required_argument, NULL, GLOBAL_NAME},
    {"admin", no_argument, NULL, GLOBAL_ADMIN},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* An empty variable counts as unset. */
static const char *
env_or(const char *name, const char *fallback)
{
	const char *value = getenv(name);

	return value != NULL && value[0] != '\0' ? value : fallback;
}

/* The library checks the scheme too; here a bad flag is a usage error. */
static int
url_flag(struct cli *cli, const char *value)
{
	if (strncmp(value, "ipc://", 6) != 0 &&
	    strncmp(value, "tcp://", 6) != 0 &&
	    strncmp(value, "tls+tcp://", 10) != 0) {
		return cli_usage_error(cli,
		    "--url: must start with ipc://, tcp:// or tls+tcp://");
	}
	cli->url = value;
	return CLI_PARSED;
}

static int
tls_flag(struct cli *cli, int flag, const char *value)
{
	if (value[0] == '\0') {
		return cli_usage_error(cli, "%s: must not be empty",
		    flag == GLOBAL_TLS_CA ? "--tls-ca" : "--tls-server-name");
	}
	if (flag == GLOBAL_TLS_CA) {
		cli->tls_ca = value;
		cli->tls_ca_given = true;
	} else {
		cli->tls_server_name = value;
	}
	return CLI_PARSED;
}

/* The server checks the rest of the user id's form. */
static int
as_flag(struct cli *cli, const char *value)
{
	if (value[0] == '\0') {
		return cli_usage_error(cli, "--as: expected a user id");
	}
	cli->as_user = value;
	return CLI_PARSED;
}

int
cli_global_flag(struct cli *cli, int flag, char *value)
{
	unsigned long ms;

	switch (flag) {
	case GLOBAL_AS:
		return as_flag(cli, value);
	case GLOBAL_NAME:
		cli->as_name = value;
		return CLI_PARSED;
	case GLOBAL_ADMIN:
		cli->as_admin = true;
		return CLI_PARSED;
	case GLOBAL_URL:
		return url_flag(cli, value);
	case GLOBAL_CREDENTIAL_FILE:
		cli->credential_file = value;
		return CLI_PARSED;
	case GLOBAL_JSON:
		cli->json = true;
		return CLI_PARSED;
	case GLOBAL_TIMEOUT:
		if (!cli_parse_number(value, 1, TIMEOUT_MAX_MS, &ms)) {
			return cli_usage_error(cli,
			    "--timeout: expected a whole number of "
			    "milliseconds from 1 to %d",
			    TIMEOUT_MAX_MS);
		}
		cli->timeout_ms = (int)ms;
		return CLI_PARSED;
	case GLOBAL_TLS_CA:
	case GLOBAL_TLS_SERVER_NAME:
		return tls_flag(cli, flag, value);
	default:
		return cli_usage_error(cli, "unexpected flag");
	}
}

/* Global flags stop at the first argument that is not one ("+"). */
static int
parse_globals(struct cli *cli, int argc, char **argv)
{
	int flag, at;
	int rc;

	cli->url = env_or("ENRT_URL", DEFAULT_URL);
	cli->credential_file =
	    env_or("ENRT_CREDENTIAL_FILE", DEFAULT_CREDENTIAL_FILE);
	cli->tls_ca = env_or("ENRT_TLS_CA", NULL);
	opterr = 0;
	while ((flag = getopt_long(
	            argc, argv, "+:h", global_options_with_help, &at)) != -1) {
		if (flag == 'h') {
			return print_global_help();
		}
		if (flag == 'V') {
			return print_version();
		}
		if (flag == ':') {
			return cli_usage_error(
			    cli, "%s: needs a value", argv[optind - 1]);
		}
		if (flag == '?') {
			return cli_usage_error(
			    cli, "unknown flag %s", argv[optind - 1]);
		}
		rc = cli_note_flag(cli, &global_options_with_help[at]);
		if (rc != CLI_PARSED) {
			return rc;
		}
		if ((rc = cli_global_flag(cli, flag, optarg)) != CLI_PARSED) {
			return rc;
		}
	}
	return CLI_PARSED;
}

/* Output that could not be written is a failure too. */
static int
finish_output(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "enrt: cannot write to standard output: %s\n",
		    strerror(errno));
		return rc == EXIT_SUCCESS ? CLI_EXIT_STATUS : rc;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli cli = {0};
	int rc;

	rc = parse_globals(&cli, argc, argv);
	if (rc == CLI_PARSED) {
		rc = dispatch(&cli, argc - optind, argv + optind);
	}
	if (cli.client != cli.conn) {
		enrt_client_close(cli.client);
	}
	enrt_client_close(cli.conn);
	return finish_output(rc);
}
