/*
 * enrt-bench's command line: flags into a bench_config, each checked
 * against its rule, with a message that names the flag when it breaks
 * one.  Runs once, on the main thread, before anything else; owns
 * nothing (the config points into argv and the environment).
 */
#include "bench.h"

#include <assert.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_URL             "ipc://enrt-data/enrt.sock"
#define DEFAULT_CREDENTIAL_FILE "enrt-data/admin.credential"
#define DEFAULT_CONCURRENCY     16
#define DEFAULT_CONNECTIONS     2
#define DEFAULT_DURATION_S      10
#define DEFAULT_TOKENS          1000
#define DEFAULT_ISSUE_PERCENT   10

enum {
	OPT_URL = 1,
	OPT_CREDENTIAL_FILE,
	OPT_OP,
	OPT_CONCURRENCY,
	OPT_CONNECTIONS,
	OPT_CLIENT,
	OPT_DURATION,
	OPT_REQUESTS,
	OPT_TOKENS,
	OPT_MIX,
	OPT_ISSUE_PERCENT,
	OPT_JSON,
	OPT_BATCH,
};

static const struct option options[] = {
    {"url", required_argument, NULL, OPT_URL},
    {"credential-file", required_argument, NULL, OPT_CREDENTIAL_FILE},
    {"op", required_argument, NULL, OPT_OP},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"connections", required_argument, NULL, OPT_CONNECTIONS},
    {"client", required_argument, NULL, OPT_CLIENT},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"requests", required_argument, NULL, OPT_REQUESTS},
    {"tokens", required_argument, NULL, OPT_TOKENS},
    {"mix", required_argument, NULL, OPT_MIX},
    {"issue-percent", required_argument, NULL, OPT_ISSUE_PERCENT},
    {"json", required_argument, NULL, OPT_JSON},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *const op_names[] = {
    [BENCH_OP_INTROSPECT] = "introspect",
    [BENCH_OP_ISSUE] = "issue",
    [BENCH_OP_MIXED] = "mixed",
    [BENCH_OP_ECHO] = "echo",
};

static const char *const client_names[] = {
    [BENCH_CLIENT_ASYNC] = "async",
    [BENCH_CLIENT_THREADS] = "threads",
};

static const char *const kind_names[] = {
    [BENCH_ACTIVE] = "active",
    [BENCH_UNKNOWN] = "unknown",
    [BENCH_MALFORMED] = "malformed",
    [BENCH_REVOKED] = "revoked",
};

const char *
bench_op_name(bench_op op)
{
	return op_names[op];
}

const char *
bench_client_name(bench_client client)
{
	return client_names[client];
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: enrt-bench [flags]\n"
	    "Puts Introspect or Issue load on a running enrtd and prints "
	    "requests per\nsecond, errors and latency percentiles.\n\n"
	    "  --url URL             the server (default $ENRT_URL, else\n"
	    "                        %s)\n"
	    "  --credential-file F   an admin credential (default\n"
	    "                        $ENRT_CREDENTIAL_FILE, else %s)\n"
	    "  --op OP               introspect (default), issue, mixed, or "
	    "echo:\n"
	    "                        Introspect to enrt-bench-echo, no "
	    "set-up\n"
	    "  --concurrency N       requests in flight, 1 to %d "
	    "(default %d)\n"
	    "  --duration S          seconds to run, 1 to %d (default %d)\n"
	    "  --requests N          or the number of requests to make\n"
	    "  --tokens N            tokens issued into a new app first, 1 "
	    "to %d\n"
	    "                        (default %d), a share revoked as --mix "
	    "says\n"
	    "  --mix SPEC            percent of each kind of token, summing "
	    "to 100\n"
	    "                        (default active=70,unknown=10,"
	    "malformed=10,revoked=10)\n"
	    "  --issue-percent P     --op mixed: percent of Issue requests "
	    "(default %d)\n"
	    "  --batch N             --op introspect: N tokens, 1 to %d, "
	    "per IntrospectBatch\n"
	    "                        request (default: single Introspects)\n"
	    "  --client KIND         async (default): nng contexts and "
	    "callbacks; threads:\n"
	    "                        a thread per request in flight, "
	    "blocking libenrt calls\n"
	    "  --connections N       sockets or client handles, 1 to %d and "
	    "at most the\n"
	    "                        concurrency (default %d)\n"
	    "  --json FILE           also write the result as JSON (- for "
	    "standard output)\n"
	    "  --help                show this help\n",
	    DEFAULT_URL, DEFAULT_CREDENTIAL_FILE, BENCH_CONCURRENCY_MAX,
	    DEFAULT_CONCURRENCY, BENCH_DURATION_MAX, DEFAULT_DURATION_S,
	    BENCH_TOKENS_MAX, DEFAULT_TOKENS, DEFAULT_ISSUE_PERCENT,
	    BENCH_BATCH_MAX, BENCH_CONNECTIONS_MAX, DEFAULT_CONNECTIONS);
}

static int
bad_flag(const char *flag, const char *rule)
{
	fprintf(stderr, "enrt-bench: %s: %s\n", flag, rule);
	fputs("usage: enrt-bench [flags]; see enrt-bench --help\n", stderr);
	return BENCH_ARGS_BAD;
}

/* The flags' enum values are their places in options[], plus one. */
static int
bad_empty(int opt)
{
	char flag[32];

	snprintf(flag, sizeof(flag), "--%s", options[opt - 1].name);
	return bad_flag(flag, "must not be empty");
}

/* A decimal whole number from min to max and nothing else. */
static bool
parse_number(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (text[0] < '0' || text[0] > '9') {
		return false;
	}
	v = strtoull(text, &end, 10);
	if (*end != '\0' || v == ULLONG_MAX || v < min || v > max) {
		return false;
	}
	*out = v;
	return true;
}

static bool
parse_unsigned(const char *text, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;

	if (!parse_number(text, min, max, &v)) {
		return false;
	}
	*out = (unsigned)v;
	return true;
}

static bool
parse_name(const char *text, const char *const *names, int n, int *out)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(text, names[i]) == 0) {
			*out = i;
			return true;
		}
	}
	return false;
}

/* One "kind=percent" item of --mix; each kind at most once. */
static bool
parse_mix_item(char *item, unsigned mix[BENCH_KINDS], bool seen[BENCH_KINDS])
{
	char *eq = strchr(item, '=');
	int kind;

	if (eq == NULL) {
		return false;
	}
	*eq = '\0';
	if (!parse_name(item, kind_names, BENCH_KINDS, &kind) || seen[kind]) {
		return false;
	}
	seen[kind] = true;
	return parse_unsigned(eq + 1, 0, 100, &mix[kind]);
}

/*
 * "active=70,unknown=10,malformed=10,revoked=10": kinds left out are 0,
 * and the percentages must add up to 100.
 */
static int
parse_mix(const char *text, unsigned mix[BENCH_KINDS])
{
	char copy[256];
	bool seen[BENCH_KINDS] = {false};
	char *item, *save = NULL;
	unsigned sum = 0;

	if (strlen(text) >= sizeof(copy)) {
		return bad_flag("--mix", "is too long");
	}
	strcpy(copy, text);
	memset(mix, 0, sizeof(unsigned) * BENCH_KINDS);
	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		if (!parse_mix_item(item, mix, seen)) {
			return bad_flag("--mix",
			    "must be KIND=PERCENT items separated by commas, "
			    "each kind (active, unknown, malformed, revoked) "
			    "at most once, each percent from 0 to 100");
		}
	}

	for (int i = 0; i < BENCH_KINDS; i++) {
		sum += mix[i];
	}
	if (sum != 100) {
		return bad_flag("--mix", "the percentages must add up to 100");
	}
	return BENCH_ARGS_OK;
}

/* The flags that take a whole number, with their bounds and rule. */
typedef struct count_flag {
	int opt;
	const char *name;
	uint64_t min, max;
	const char *rule;
} count_flag;

static const count_flag count_flags[] = {
    {OPT_CONCURRENCY, "--concurrency", 1, BENCH_CONCURRENCY_MAX,
        "must be a whole number from 1 to 1024"},
    {OPT_CONNECTIONS, "--connections", 1, BENCH_CONNECTIONS_MAX,
        "must be a whole number from 1 to 64"},
    {OPT_DURATION, "--duration", 1, BENCH_DURATION_MAX,
        "must be a whole number of seconds from 1 to 86400"},
    {OPT_REQUESTS, "--requests", 1, UINT64_C(1) << 40,
        "must be a whole number from 1 to 2^40"},
    {OPT_TOKENS, "--tokens", 1, BENCH_TOKENS_MAX,
        "must be a whole number from 1 to 1000000"},
    {OPT_ISSUE_PERCENT, "--issue-percent", 0, 100,
        "must be a whole number from 0 to 100"},
    {OPT_BATCH, "--batch", 1, BENCH_BATCH_MAX,
        "must be a whole number of tokens per request from 1 to 128"},
};

/* v is within the flag's bounds, which all fit their fields. */
static void
store_count(bench_config *cfg, int opt, uint64_t v)
{
	switch (opt) {
	case OPT_CONCURRENCY:
		cfg->concurrency = (unsigned)v;
		break;
	case OPT_CONNECTIONS:
		cfg->connections = (unsigned)v;
		break;
	case OPT_DURATION:
		cfg->duration_s = (unsigned)v;
		break;
	case OPT_REQUESTS:
		cfg->requests = v;
		break;
	case OPT_TOKENS:
		cfg->tokens = (unsigned)v;
		break;
	case OPT_ISSUE_PERCENT:
		cfg->issue_percent = (unsigned)v;
		break;
	case OPT_BATCH:
		cfg->batch = (unsigned)v;
		break;
	}
}

static int
parse_count_flag(int opt, const char *arg, bench_config *cfg)
{
	const size_t n = sizeof(count_flags) / sizeof(count_flags[0]);
	const count_flag *f;
	uint64_t v;

	for (f = count_flags; f < count_flags + n && f->opt != opt; f++) {
	}
	assert(f < count_flags + n);

	if (!parse_number(arg, f->min, f->max, &v)) {
		return bad_flag(f->name, f->rule);
	}
	store_count(cfg, opt, v);
	return BENCH_ARGS_OK;
}

static int
parse_text_flag(int opt, const char *arg, bench_config *cfg)
{
	int v;

	if (arg[0] == '\0') {
		return bad_empty(opt);
	}
	switch (opt) {
	case OPT_URL:
		cfg->url = arg;
		return BENCH_ARGS_OK;
	case OPT_CREDENTIAL_FILE:
		cfg->credential_file = arg;
		return BENCH_ARGS_OK;
	case OPT_JSON:
		cfg->json_path = arg;
		return BENCH_ARGS_OK;
	case OPT_OP:
		if (!parse_name(arg, op_names, 4, &v)) {
			return bad_flag("--op",
			    "must be introspect, issue, mixed or echo");
		}
		cfg->op = (bench_op)v;
		return BENCH_ARGS_OK;
	case OPT_CLIENT:
		if (!parse_name(arg, client_names, 2, &v)) {
			return bad_flag(
			    "--client", "must be async or threads");
		}
		cfg->client = (bench_client)v;
		return BENCH_ARGS_OK;
	case OPT_MIX:
		return parse_mix(arg, cfg->mix);
	}
	return parse_count_flag(opt, arg, cfg);
}

static int
parse_flag(int opt, char **argv, bench_config *cfg)
{
	switch (opt) {
	case 'h':
		usage(stdout);
		return BENCH_ARGS_HELP;
	case ':':
		return bad_flag(argv[optind - 1], "needs a value");
	case '?':
		return bad_flag(argv[optind - 1], "unknown flag");
	}
	return parse_text_flag(opt, optarg, cfg);
}

static const char *
env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? v : fallback;
}

static void
set_defaults(bench_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->url = env_or("ENRT_URL", DEFAULT_URL);
	cfg->credential_file =
	    env_or("ENRT_CREDENTIAL_FILE", DEFAULT_CREDENTIAL_FILE);
	cfg->op = BENCH_OP_INTROSPECT;
	cfg->client = BENCH_CLIENT_ASYNC;
	cfg->concurrency = DEFAULT_CONCURRENCY;
	cfg->tokens = DEFAULT_TOKENS;
	cfg->issue_percent = DEFAULT_ISSUE_PERCENT;
	cfg->mix[BENCH_ACTIVE] = 70;
	cfg->mix[BENCH_UNKNOWN] = 10;
	cfg->mix[BENCH_MALFORMED] = 10;
	cfg->mix[BENCH_REVOKED] = 10;
}

/* What no single flag can check: flags that go together or exclude. */
static int
check_together(bench_config *cfg, bool connections_given)
{
	if (cfg->duration_s > 0 && cfg->requests > 0) {
		return bad_flag(
		    "--duration, --requests", "give one, not both");
	}
	if (cfg->duration_s == 0 && cfg->requests == 0) {
		cfg->duration_s = DEFAULT_DURATION_S;
	}
	if (!connections_given) {
		cfg->connections = cfg->concurrency < DEFAULT_CONNECTIONS
		                       ? cfg->concurrency
		                       : DEFAULT_CONNECTIONS;
	}
	if (cfg->mix[BENCH_ACTIVE] > 0 && cfg->mix[BENCH_REVOKED] > 0 &&
	    cfg->tokens < 2) {
		return bad_flag("--tokens",
		    "must be at least 2 when the mix has both active and "
		    "revoked tokens");
	}
	if (cfg->connections > cfg->concurrency) {
		return bad_flag(
		    "--connections", "must not be more than --concurrency");
	}
	if (cfg->batch > 0 && cfg->op != BENCH_OP_INTROSPECT) {
		return bad_flag("--batch", "works only with --op introspect");
	}
	return BENCH_ARGS_OK;
}

int
bench_args_parse(bench_config *cfg, int argc, char **argv)
{
	bool connections_given = false;
	int opt, rc;

	set_defaults(cfg);
	optind =
	    0; /* glibc: start afresh, as the unit tests parse many times */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if ((rc = parse_flag(opt, argv, cfg)) != BENCH_ARGS_OK) {
			return rc;
		}
		connections_given |= opt == OPT_CONNECTIONS;
	}
	if (optind < argc) {
		return bad_flag(argv[optind], "unexpected argument");
	}
	return check_together(cfg, connections_given);
}
