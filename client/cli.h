/*
 * What the parts of the enrt CLI share: the state of one run, the
 * subcommand table's entries, and the helpers every subcommand uses to
 * parse its flags, connect and report errors.
 *
 * Every helper that can end the run returns CLI_PARSED to carry on or
 * the exit status to end with: 0, CLI_EXIT_STATUS (an error status from
 * the server or the library, "STATUS: message" on standard error) or
 * CLI_EXIT_USAGE (bad arguments, with a usage line).
 */
#ifndef ENRT_CLI_H
#define ENRT_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "enrt.h"

#define CLI_EXIT_STATUS 1
#define CLI_EXIT_USAGE  2
#define CLI_PARSED      (-1)

/* A line on standard input this long cannot be a token. */
#define CLI_VALUE_MAX 1024

struct cli;

struct cli_command {
	const char *group;
	const char *name;
	const char *usage;   /* the arguments after "enrt GROUP NAME" */
	const char *summary; /* one line for the list of commands */
	const char *details; /* the flags, for --help */
	int (*run)(struct cli *cli, int argc, char **argv);
};

/* How many flags with a value one command line may hold. */
#define CLI_GIVEN_MAX 64

/* One run of the CLI. */
struct cli {
	const char *url;
	const char *credential_file;
	bool json;
	int timeout_ms;              /* 0: the library's default */
	const char *tls_ca;          /* NULL: none; from $ENRT_TLS_CA too */
	bool tls_ca_given;           /* by --tls-ca, not the environment */
	const char *tls_server_name; /* NULL: the URL's host */
	const char *as_user;         /* --as: the person every call acts for */
	const char *as_name;
	bool as_admin;
	const struct cli_command *command;
	int given[CLI_GIVEN_MAX]; /* the values of flags given so far */
	size_t n_given;
	enrt_client *conn;   /* opened by cli_connect, closed by main */
	enrt_client *client; /* what calls go through: conn, or its view */
};

/* The subcommands; argv[0] is the subcommand's name. */
int cli_app_create(struct cli *cli, int argc, char **argv);
int cli_app_update(struct cli *cli, int argc, char **argv);
int cli_app_show(struct cli *cli, int argc, char **argv);
int cli_app_list(struct cli *cli, int argc, char **argv);
int cli_token_issue(struct cli *cli, int argc, char **argv);
int cli_token_introspect(struct cli *cli, int argc, char **argv);
int cli_token_revoke(struct cli *cli, int argc, char **argv);
int cli_token_list(struct cli *cli, int argc, char **argv);
int cli_caller_add(struct cli *cli, int argc, char **argv);
int cli_caller_list(struct cli *cli, int argc, char **argv);
int cli_caller_revoke(struct cli *cli, int argc, char **argv);
int cli_user_list(struct cli *cli, int argc, char **argv);
int cli_user_set(struct cli *cli, int argc, char **argv);
int cli_user_delete(struct cli *cli, int argc, char **argv);
int cli_audit_list(struct cli *cli, int argc, char **argv);
int cli_backup_create(struct cli *cli, int argc, char **argv);

/*
 * The global flags (--url, --credential-file, --json, --timeout,
 * --tls-ca, --tls-server-name, --as, --name, --admin), which every
 * subcommand accepts too, after its name, unless it has a flag of the
 * same name: after "app create", --name is the app's.  Their values
 * start at CLI_GLOBAL_FLAG_BASE; subcommands' own values stay below it.
 */
#define CLI_GLOBAL_FLAG_BASE 1000
extern const struct option cli_global_options[];

/*
 * Refuses a flag with a value given a second time, which would otherwise
 * silently replace the first, unless the command's usage shows it as
 * repeatable ("[--app APP_ID]...").  CLI_PARSED or a usage error.
 */
int cli_note_flag(struct cli *cli, const struct option *opt);

/* Applies one global flag; CLI_PARSED or a usage error. */
int cli_global_flag(struct cli *cli, int flag, char *value);

/*
 * Prints "enrt: " and the message, then the command's usage line (or a
 * pointer to --help before a command is known), on standard error.
 * Returns CLI_EXIT_USAGE.
 */
int cli_usage_error(const struct cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "STATUS: message" on standard error; returns CLI_EXIT_STATUS. */
int cli_status_error(const enrt_error *err);

/* Reports a reply that could not be printed; returns CLI_EXIT_STATUS. */
int cli_output_error(void);

/* 0 when the reply was printed, else cli_output_error(). */
int cli_printed(bool printed);

/* Prints the command's usage and flags on standard output; returns 0. */
int cli_command_help(const struct cli_command *cmd);

/* Called for each flag: its getopt value and its argument, if any. */
typedef int (*cli_flag_fn)(struct cli *cli, void *args, int flag, char *value);

/*
 * Parses a subcommand's flags with getopt_long; --help and -h print the
 * help.  Then checks the global flags as a whole (--name and --admin
 * need --as).  Returns CLI_PARSED with optind at the first positional
 * argument, 0 after the help, or CLI_EXIT_USAGE.
 */
int cli_parse_flags(struct cli *cli, int argc, char **argv,
    const struct option *opts, cli_flag_fn on_flag, void *args);

/* Options and handler of a subcommand that has no flag but --help. */
extern const struct option cli_help_only_options[];
int cli_no_flags(struct cli *cli, void *args, int flag, char *value);

/* Exactly n positional arguments, named what, must follow the flags. */
int cli_expect_positional(
    struct cli *cli, int argc, char **argv, int n, const char *what);

/* A whole number from min to max, digits only. */
bool cli_parse_number(const char *text, unsigned long min, unsigned long max,
    unsigned long *out);

/* A comma-separated list, split in a copy of its own. */
struct cli_list {
	char *text;
	char **items;
	size_t n;
};

void cli_list_clear(struct cli_list *l);

/*
 * Parses the value of --scopes into l: names separated by commas, none
 * empty; "" (no scope at all) only when allow_empty.
 */
int cli_scopes_flag(
    struct cli *cli, struct cli_list *l, const char *text, bool allow_empty);

/*
 * Reads the credential file and opens cli->conn; cli->client is conn,
 * or with --as a view of it that acts for that person.  The credential
 * is wiped once the library holds its own copy.  A tls+tcp:// URL needs
 * a CA file; --tls-ca and --tls-server-name with any other URL are a
 * usage error, while $ENRT_TLS_CA is then left unused.
 */
int cli_connect(struct cli *cli);

/*
 * Reads a token's value from standard input: up to the first newline,
 * one trailing "\n" or "\r\n" stripped and nothing else.
 */
int cli_read_value(char buf[CLI_VALUE_MAX], size_t *len);

/*
 * Standard input read line by line with read(2), as cli_read_value
 * reads one line; buf may hold secrets and is wiped by cli_lines_clear.
 */
struct cli_lines {
	char buf[4096];
	size_t start, end; /* the bytes read but not yet taken */
	bool eof;
};

/*
 * The next line into out: *got false at the end of input.  One
 * trailing "\n" or "\r\n" is stripped; a line longer than
 * CLI_VALUE_MAX - 1 bytes keeps that many (it cannot be a token) and
 * the rest of it is skipped.
 */
int cli_lines_next(
    struct cli_lines *r, char out[CLI_VALUE_MAX], size_t *len, bool *got);

void cli_lines_clear(struct cli_lines *r);

/* The pages of a listing, and the items of all of them in order. */
struct cli_pages {
	void **pages;
	size_t n_pages;
	const void **items;
	size_t n_items;
};

/* Adds a page and its n items of item_size bytes; false without memory. */
bool cli_pages_add(struct cli_pages *p, void *page, const void *items,
    size_t n, size_t item_size);

/* Frees the arrays; the pages themselves are the caller's to free. */
void cli_pages_clear(struct cli_pages *p);

/* Ends a listing whose server hands back the cursor it was given. */
int cli_check_cursor(const char *given, const char *next);

#endif /* ENRT_CLI_H */
