/*
 * Helpers that every subcommand of the enrt CLI uses: flag parsing,
 * error reports, reading the credential file and token values, opening
 * the client handle (and its view for --as), and collecting the pages of
 * a listing.
 *
 * Owns nothing between calls.  Runs on the CLI's only thread.  Secrets
 * are read with read(2), not stdio, so that no library buffer keeps a
 * copy that cannot be wiped.
 */
#include "cli.h"

#include <sodium.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A first line longer than this cannot be a credential. */
#define CREDENTIAL_MAX 128

/* ------------------------------------------------------------------ */
/* Errors and help                                                     */

static void
print_usage_line(FILE *out, const struct cli_command *cmd)
{
	fprintf(out, "usage: enrt [global flags] %s %s%s%s\n", cmd->group,
	    cmd->name, cmd->usage[0] != '\0' ? " " : "", cmd->usage);
}

int
cli_usage_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fputs("enrt: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);

	if (cli->command != NULL) {
		print_usage_line(stderr, cli->command);
	} else {
		fputs("usage: enrt [global flags] COMMAND [flags]; "
		      "see enrt --help\n",
		    stderr);
	}
	return CLI_EXIT_USAGE;
}

int
cli_status_error(const enrt_error *err)
{
	fprintf(
	    stderr, "%s: %s\n", enrt_status_name(err->status), err->message);
	return CLI_EXIT_STATUS;
}

int
cli_output_error(void)
{
	fprintf(stderr,
	    "%s: cannot render the reply (out of memory, or "
	    "text that is not UTF-8)\n",
	    enrt_status_name(ENRT_INTERNAL));
	return CLI_EXIT_STATUS;
}

int
cli_printed(bool printed)
{
	return printed ? EXIT_SUCCESS : cli_output_error();
}

int
cli_command_help(const struct cli_command *cmd)
{
	print_usage_line(stdout, cmd);
	printf("\n%s.\n", cmd->summary);
	if (cmd->details[0] != '\0') {
		printf("\n%s", cmd->details);
	}
	return EXIT_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Reading a line                                                      */

/*
 * Reads from fd up to the first newline, end of file or size - 1 bytes,
 * into buf, with read(2) so that no stdio buffer keeps a copy of a
 * secret.  *whole is false when the line went on past the buffer.
 * Returns 0 or an errno value.
 */
static int
read_line(int fd, char *buf, size_t size, size_t *len, bool *whole)
{
	char *newline = NULL;
	ssize_t n = 0;

	*len = 0;
	while (newline == NULL && *len < size - 1) {
		n = read(fd, buf + *len, size - 1 - *len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		newline = memchr(buf + *len, '\n', (size_t)n);
		*len += (size_t)n;
	}

	*whole = newline != NULL || *len < size - 1;
	if (newline != NULL) {
		*len = (size_t)(newline - buf) + 1;
	}
	buf[*len] = '\0';
	return n < 0 ? errno : 0;
}

/* Strips one trailing "\n" or "\r\n", and nothing else. */
static void
strip_newline(char *buf, size_t *len)
{
	if (*len > 0 && buf[*len - 1] == '\n') {
		buf[--*len] = '\0';
		if (*len > 0 && buf[*len - 1] == '\r') {
			buf[--*len] = '\0';
		}
	}
}

static int
credential_error(const char *path, const char *reason)
{
	fprintf(stderr,
	    "enrt: credential file %s: %s (give "
	    "--credential-file or set ENRT_CREDENTIAL_FILE)\n",
	    path, reason);
	return CLI_EXIT_STATUS;
}

static int
read_credential(const char *path, char buf[CREDENTIAL_MAX])
{
	size_t len = 0;
	bool whole;
	int fd;
	int rv;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		return credential_error(path, strerror(errno));
	}
	rv = read_line(fd, buf, CREDENTIAL_MAX, &len, &whole);
	close(fd);

	if (rv != 0) {
		return credential_error(path, strerror(rv));
	}
	if (!whole) {
		return credential_error(path, "its first line is too long");
	}
	strip_newline(buf, &len);
	if (!enrt_credential_check(buf, len)) {
		return credential_error(path,
		    "its first line is not a credential (enrc_ and 49 base62 "
		    "characters with a valid checksum)");
	}
	return CLI_PARSED;
}

static int
stdin_error(int rv)
{
	fprintf(
	    stderr, "enrt: cannot read standard input: %s\n", strerror(rv));
	return CLI_EXIT_STATUS;
}

int
cli_read_value(char buf[CLI_VALUE_MAX], size_t *len)
{
	bool whole;
	int rv;

	rv = read_line(STDIN_FILENO, buf, CLI_VALUE_MAX, len, &whole);
	if (rv != 0) {
		return stdin_error(rv);
	}
	strip_newline(buf, len);
	return CLI_PARSED;
}

/* Reads more of standard input once every byte read has been taken. */
static int
lines_fill(struct cli_lines *r)
{
	ssize_t n;

	r->start = r->end = 0;
	do {
		n = read(STDIN_FILENO, r->buf, sizeof(r->buf));
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return errno;
	}
	r->end = (size_t)n;
	r->eof = n == 0;
	return 0;
}

/*
 * Takes the buffered bytes up to the next newline (not kept), copying
 * into out what fits.  *newline says whether the line ended here.
 */
static void
lines_take(struct cli_lines *r, char *out, size_t *kept, bool *newline)
{
	char *start = r->buf + r->start;
	size_t avail = r->end - r->start;
	char *nl = memchr(start, '\n', avail);
	size_t n = nl != NULL ? (size_t)(nl - start) : avail;
	size_t room = CLI_VALUE_MAX - 1 - *kept;

	memcpy(out + *kept, start, n < room ? n : room);
	*kept += n < room ? n : room;
	r->start += n + (nl != NULL);
	*newline = nl != NULL;
}

int
cli_lines_next(
    struct cli_lines *r, char out[CLI_VALUE_MAX], size_t *len, bool *got)
{
	bool newline = false;
	size_t kept = 0;
	int rv;

	*got = false;
	while (!newline) {
		if (r->start == r->end && (rv = lines_fill(r)) != 0) {
			return stdin_error(rv);
		}
		if (r->eof) {
			break;
		}
		lines_take(r, out, &kept, &newline);
		*got = true;
	}

	if (newline && kept > 0 && kept < CLI_VALUE_MAX - 1 &&
	    out[kept - 1] == '\r') {
		kept--;
	}
	out[kept] = '\0';
	*len = kept;
	return CLI_PARSED;
}

void
cli_lines_clear(struct cli_lines *r)
{
	sodium_memzero(r, sizeof(*r));
}

/* ------------------------------------------------------------------ */
/* Connecting                                                          */

/* The TLS settings that go with the URL, or a usage error. */
static int
tls_options(struct cli *cli, enrt_options *options)
{
	bool tls = strncmp(cli->url, "tls+tcp://", 10) == 0;

	if (!tls && (cli->tls_ca_given || cli->tls_server_name != NULL)) {
		return cli_usage_error(cli,
		    "--tls-ca, --tls-server-name: only with a tls+tcp:// "
		    "--url");
	}
	if (tls && cli->tls_ca == NULL) {
		return cli_usage_error(cli,
		    "--tls-ca: required with a tls+tcp:// --url (or set "
		    "ENRT_TLS_CA)");
	}
	if (tls) {
		options->tls_ca_file = cli->tls_ca;
		options->tls_server_name = cli->tls_server_name;
	}
	return CLI_PARSED;
}

/* Calls go through the connection, or through a view acting for --as. */
static int
act_for_person(struct cli *cli)
{
	enrt_person person = {
	    .user_id = cli->as_user,
	    .display_name = cli->as_name,
	    .admin = cli->as_admin,
	};
	enrt_error err;

	if (cli->as_user == NULL) {
		cli->client = cli->conn;
		return CLI_PARSED;
	}
	if (enrt_client_as(cli->conn, &person, &cli->client, &err) !=
	    ENRT_OK) {
		return cli_status_error(&err);
	}
	return CLI_PARSED;
}

int
cli_connect(struct cli *cli)
{
	char credential[CREDENTIAL_MAX];
	enrt_options options = {0};
	enrt_error err;
	int rc;

	if ((rc = tls_options(cli, &options)) != CLI_PARSED) {
		return rc;
	}
	rc = read_credential(cli->credential_file, credential);
	if (rc != CLI_PARSED) {
		sodium_memzero(credential, sizeof(credential));
		return rc;
	}

	options.url = cli->url;
	options.credential = credential;
	options.timeout_ms = cli->timeout_ms;
	if (enrt_client_open(&cli->conn, &options, &err) != ENRT_OK) {
		rc = cli_status_error(&err);
	}
	sodium_memzero(credential, sizeof(credential));
	if (rc == CLI_PARSED) {
		rc = act_for_person(cli);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Flags                                                               */

#define CLI_OPTIONS_MAX 32

static bool
has_option(const struct option *opts, const char *name)
{
	for (const struct option *o = opts; o->name != NULL; o++) {
		if (strcmp(o->name, name) == 0) {
			return true;
		}
	}
	return false;
}

/*
 * The subcommand's options followed by the global ones, for getopt.  A
 * global flag that the subcommand has too is the subcommand's.
 */
static void
join_options(struct option *out, const struct option *opts)
{
	size_t n = 0;

	for (const struct option *o = opts; o->name != NULL; o++) {
		assert(o->val < CLI_GLOBAL_FLAG_BASE);
		out[n++] = *o;
	}
	for (const struct option *o = cli_global_options; o->name != NULL;
	     o++) {
		if (!has_option(opts, o->name)) {
			out[n++] = *o;
		}
	}
	assert(n < CLI_OPTIONS_MAX);
	memset(&out[n], 0, sizeof(out[n]));
}

/* Whether the usage shows the command's flag as "[--NAME VALUE]...". */
static bool
usage_repeats(const char *usage, const char *name)
{
	char opening[64];
	const char *at, *end;

	snprintf(opening, sizeof(opening), "[--%s ", name);
	if ((at = strstr(usage, opening)) == NULL) {
		return false;
	}
	end = strchr(at, ']');
	return end != NULL && strncmp(end, "]...", 4) == 0;
}

int
cli_note_flag(struct cli *cli, const struct option *opt)
{
	if (opt->has_arg == no_argument) {
		return CLI_PARSED;
	}
	if (cli->command != NULL && opt->val < CLI_GLOBAL_FLAG_BASE &&
	    usage_repeats(cli->command->usage, opt->name)) {
		return CLI_PARSED;
	}
	for (size_t i = 0; i < cli->n_given; i++) {
		if (cli->given[i] == opt->val) {
			return cli_usage_error(
			    cli, "--%s: given more than once", opt->name);
		}
	}
	if (cli->n_given == CLI_GIVEN_MAX) {
		return cli_usage_error(cli, "too many flags");
	}
	cli->given[cli->n_given++] = opt->val;
	return CLI_PARSED;
}

/* --name and --admin describe the person of --as. */
static int
check_person_flags(struct cli *cli)
{
	if (cli->as_user == NULL && (cli->as_name != NULL || cli->as_admin)) {
		return cli_usage_error(cli,
		    "--name and --admin describe the person given with --as "
		    "USER_ID");
	}
	return CLI_PARSED;
}

/*
 * Runs getopt_long over a subcommand's arguments (argv[0] is the
 * subcommand's name), calling on_flag for each flag of opts and applying
 * global flags wherever they stand.  Returns CLI_PARSED with optind at
 * the first positional argument, EXIT_SUCCESS after printing the help,
 * or CLI_EXIT_USAGE.
 */
int
cli_parse_flags(struct cli *cli, int argc, char **argv,
    const struct option *opts, cli_flag_fn on_flag, void *args)
{
	struct option all[CLI_OPTIONS_MAX];
	int flag, at;
	int rc;

	join_options(all, opts);
	optind = 0;
	opterr = 0;
	while ((flag = getopt_long(argc, argv, ":h", all, &at)) != -1) {
		if (flag == 'h') {
			return cli_command_help(cli->command);
		}
		if (flag == ':') {
			return cli_usage_error(
			    cli, "%s: needs a value", argv[optind - 1]);
		}
		if (flag == '?') {
			return cli_usage_error(
			    cli, "unknown flag %s", argv[optind - 1]);
		}
		if ((rc = cli_note_flag(cli, &all[at])) != CLI_PARSED) {
			return rc;
		}
		rc = flag >= CLI_GLOBAL_FLAG_BASE
		         ? cli_global_flag(cli, flag, optarg)
		         : on_flag(cli, args, flag, optarg);
		if (rc != CLI_PARSED) {
			return rc;
		}
	}
	return check_person_flags(cli);
}

/* Exactly n positional arguments must follow the flags. */
int
cli_expect_positional(
    struct cli *cli, int argc, char **argv, int n, const char *what)
{
	int got = argc - optind;

	if (got < n) {
		return cli_usage_error(cli, "missing %s", what);
	}
	if (got > n) {
		return cli_usage_error(
		    cli, "unexpected argument %s", argv[optind + n]);
	}
	return CLI_PARSED;
}

const struct option cli_help_only_options[] = {
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int
cli_no_flags(struct cli *cli, void *args, int flag, char *value)
{
	return cli_usage_error(cli, "unexpected flag");
}

/* A whole number from min to max, digits only. */
bool
cli_parse_number(
    const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long value;
	char *end;

	if (text[0] < '0' || text[0] > '9') {
		return false;
	}
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno != 0 || *end != '\0' || value < min || value > max) {
		return false;
	}
	*out = value;
	return true;
}

void
cli_list_clear(struct cli_list *l)
{
	free(l->text);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static size_t
count_items(const char *text)
{
	size_t n = 1;

	for (const char *p = text; *p != '\0'; p++) {
		n += *p == ',';
	}
	return n;
}

/*
 * Splits "a,b,c".  An empty list is allowed only when allow_empty; an
 * empty item ("a,,b", "a,") never is.  Returns false for a list that
 * breaks these rules, and *oom when memory ran out.
 */
static bool
list_parse(struct cli_list *l, const char *text, bool allow_empty, bool *oom)
{
	char *save = NULL;
	size_t n = count_items(text);

	cli_list_clear(l);
	*oom = false;
	if (text[0] == '\0') {
		return allow_empty;
	}
	if (text[0] == ',' || strstr(text, ",,") != NULL ||
	    text[strlen(text) - 1] == ',') {
		return false;
	}

	l->text = strdup(text);
	l->items = calloc(n, sizeof(*l->items));
	if (l->text == NULL || l->items == NULL) {
		*oom = true;
		return false;
	}
	for (char *s = strtok_r(l->text, ",", &save); s != NULL;
	     s = strtok_r(NULL, ",", &save)) {
		l->items[l->n++] = s;
	}
	return true;
}

int
cli_scopes_flag(
    struct cli *cli, struct cli_list *l, const char *text, bool allow_empty)
{
	bool oom;

	if (list_parse(l, text, allow_empty, &oom)) {
		return CLI_PARSED;
	}
	if (oom) {
		fprintf(stderr, "enrt: out of memory\n");
		return CLI_EXIT_STATUS;
	}
	return cli_usage_error(cli,
	    "--scopes: expected scopes separated by commas, none of them "
	    "empty%s",
	    allow_empty ? " (or '' for any scope)" : "");
}

/* ------------------------------------------------------------------ */
/* Following pages                                                     */

bool
cli_pages_add(struct cli_pages *p, void *page, const void *items, size_t n,
    size_t item_size)
{
	void **pages;
	const void **all;

	pages = realloc(p->pages, (p->n_pages + 1) * sizeof(*pages));
	if (pages == NULL) {
		return false;
	}
	p->pages = pages;
	all = realloc(p->items, (p->n_items + n + 1) * sizeof(*all));
	if (all == NULL) {
		return false;
	}
	p->items = all;

	p->pages[p->n_pages++] = page;
	for (size_t i = 0; i < n; i++) {
		all[p->n_items++] = (const char *)items + i * item_size;
	}
	return true;
}

void
cli_pages_clear(struct cli_pages *p)
{
	free(p->pages);
	free(p->items);
	memset(p, 0, sizeof(*p));
}

int
cli_check_cursor(const char *given, const char *next)
{
	if (given != NULL && next != NULL && strcmp(given, next) == 0) {
		fprintf(stderr,
		    "%s: the server returned the same page "
		    "cursor twice\n",
		    enrt_status_name(ENRT_INTERNAL));
		return CLI_EXIT_STATUS;
	}
	return CLI_PARSED;
}
