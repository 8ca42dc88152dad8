/*
 * enrtd's settings from their four sources: the built-in defaults, an INI
 * file read with inih, ENRTD_* variables and flags, applied in that
 * order so that each overrides the ones before it.  The flags are read
 * first (one of them names the file) but applied last.
 *
 * One table lists every setting with its name, variable, kind and rule;
 * every source goes through apply(), so that a value is judged the same
 * way wherever it comes from and a refusal always names its origin.
 *
 * Owns the strings of the config it fills.  Main thread only: getopt and
 * inih's options are process-wide.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "config.h"
#include "transport.h"
#include "writer.h"

#define SECTION     "enrtd"
#define WHERE_MAX   (ERR_MESSAGE_MAX / 2)
#define OPT_SETTING 256 /* a setting's flag is OPT_SETTING + its id */

enum {
	OPT_CONFIG = OPT_SETTING + CONFIG_SETTINGS,
	OPT_PRINT,
	OPT_VERSION,
};

typedef enum kind {
	KIND_TEXT,
	KIND_URL,
	KIND_LEVEL,
	KIND_NUMBER,
	KIND_BOOL,
	KIND_HOSTPORT,
} kind;

typedef struct setting {
	const char *name; /* flag and key */
	const char *env;
	kind kind;
	unsigned long min, max; /* KIND_NUMBER */
	const char *rule;
} setting;

static const setting settings[CONFIG_SETTINGS] = {
    [CONFIG_DATA] = {"data", "ENRTD_DATA", KIND_TEXT, 0, 0,
        "must not be empty"},
    [CONFIG_LISTEN] = {"listen", "ENRTD_LISTEN", KIND_URL, 0, 0,
        "each URL must not be empty, and at most 16 are taken"},
    [CONFIG_LOG_LEVEL] = {"log-level", "ENRTD_LOG_LEVEL", KIND_LEVEL, 0, 0,
        "must be error, warn, info or debug"},
    [CONFIG_LOG_FILE] = {"log-file", "ENRTD_LOG_FILE", KIND_TEXT, 0, 0,
        "must not be empty"},
    [CONFIG_FLUSH_INTERVAL] = {"flush-interval", "ENRTD_FLUSH_INTERVAL",
        KIND_NUMBER, 1, 60, "must be a whole number of seconds from 1 to 60"},
    [CONFIG_MAP_SIZE] = {"map-size", "ENRTD_MAP_SIZE", KIND_NUMBER, 1,
        1024UL * 1024, "must be a whole number of MiB from 1 to 1048576"},
    [CONFIG_CONTEXTS] = {"contexts", "ENRTD_CONTEXTS", KIND_NUMBER, 1,
        TRANSPORT_CONTEXTS_MAX, "must be a whole number from 1 to 4096"},
    [CONFIG_COMMIT_BATCH] = {"commit-batch", "ENRTD_COMMIT_BATCH", KIND_NUMBER,
        1, WRITER_BATCH_MAX, "must be a whole number from 1 to 1024"},
    [CONFIG_TLS_CERT] = {"tls-cert", "ENRTD_TLS_CERT", KIND_TEXT, 0, 0,
        "must not be empty"},
    [CONFIG_TLS_KEY] = {"tls-key", "ENRTD_TLS_KEY", KIND_TEXT, 0, 0,
        "must not be empty"},
    [CONFIG_INSECURE_TCP] = {"insecure-tcp", "ENRTD_INSECURE_TCP", KIND_BOOL,
        0, 0, "must be true or false"},
    [CONFIG_HTTP] = {"http", "ENRTD_HTTP", KIND_HOSTPORT, 0, 0,
        "must be HOST:PORT (an IPv6 address in brackets), PORT from 1 "
        "to 65535"},
    [CONFIG_RETENTION_DAYS] = {"retention-days", "ENRTD_RETENTION_DAYS",
        KIND_NUMBER, 0, 36500,
        "must be a whole number of days from 0 to 36500"},
    [CONFIG_BACKUP_DIR] = {"backup-dir", "ENRTD_BACKUP_DIR", KIND_TEXT, 0, 0,
        "must not be empty"},
};

static const struct option options[] = {
    {"data", required_argument, NULL, OPT_SETTING + CONFIG_DATA},
    {"listen", required_argument, NULL, OPT_SETTING + CONFIG_LISTEN},
    {"log-level", required_argument, NULL, OPT_SETTING + CONFIG_LOG_LEVEL},
    {"log-file", required_argument, NULL, OPT_SETTING + CONFIG_LOG_FILE},
    {"flush-interval", required_argument, NULL,
        OPT_SETTING + CONFIG_FLUSH_INTERVAL},
    {"map-size", required_argument, NULL, OPT_SETTING + CONFIG_MAP_SIZE},
    {"contexts", required_argument, NULL, OPT_SETTING + CONFIG_CONTEXTS},
    {"commit-batch", required_argument, NULL,
        OPT_SETTING + CONFIG_COMMIT_BATCH},
    {"tls-cert", required_argument, NULL, OPT_SETTING + CONFIG_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_SETTING + CONFIG_TLS_KEY},
    {"insecure-tcp", no_argument, NULL, OPT_SETTING + CONFIG_INSECURE_TCP},
    {"http", required_argument, NULL, OPT_SETTING + CONFIG_HTTP},
    {"retention-days", required_argument, NULL,
        OPT_SETTING + CONFIG_RETENTION_DAYS},
    {"backup-dir", required_argument, NULL, OPT_SETTING + CONFIG_BACKUP_DIR},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"print-config", no_argument, NULL, OPT_PRINT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* A flag of a setting, kept until the file and variables are applied. */
typedef struct flag {
	config_setting id;
	const char *value;
} flag;

/* ------------------------------------------------------------------ */
/* Values                                                              */

static char **
text_field(config *cfg, config_setting id)
{
	switch (id) {
	case CONFIG_DATA:
		return &cfg->data;
	case CONFIG_LOG_FILE:
		return &cfg->log_file;
	case CONFIG_TLS_CERT:
		return &cfg->tls_cert;
	case CONFIG_TLS_KEY:
		return &cfg->tls_key;
	case CONFIG_HTTP:
		return &cfg->http;
	case CONFIG_BACKUP_DIR:
		return &cfg->backup_dir;
	default:
		return NULL;
	}
}

static unsigned long *
number_field(config *cfg, config_setting id)
{
	switch (id) {
	case CONFIG_FLUSH_INTERVAL:
		return &cfg->flush_s;
	case CONFIG_MAP_SIZE:
		return &cfg->map_mib;
	case CONFIG_RETENTION_DAYS:
		return &cfg->retention_days;
	case CONFIG_COMMIT_BATCH:
		return &cfg->commit_batch;
	default:
		return &cfg->contexts;
	}
}

/* A decimal whole number from min to max, and nothing else. */
static bool
parse_number(
    const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (text[0] < '0' || text[0] > '9') {
		return false;
	}
	errno = 0;
	v = strtoul(text, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max) {
		return false;
	}
	*out = v;
	return true;
}

/* HOST:PORT; a host with a ':' in it is an IPv6 address in brackets. */
static bool
valid_hostport(const char *text)
{
	const char *colon = strrchr(text, ':');
	size_t host_len;
	unsigned long port;

	if (colon == NULL || !parse_number(colon + 1, 1, 65535, &port)) {
		return false;
	}
	host_len = (size_t)(colon - text);
	if (host_len == 0) {
		return false;
	}
	if (text[0] == '[') {
		return host_len > 2 && text[host_len - 1] == ']';
	}
	return memchr(text, ':', host_len) == NULL &&
	       memchr(text, ']', host_len) == NULL;
}

static enrt_status
set_text(char **field, const char *value)
{
	char *copy;

	if (value[0] == '\0') {
		return ENRT_INVALID_ARGUMENT;
	}
	if ((copy = strdup(value)) == NULL) {
		return ENRT_RESOURCE_EXHAUSTED;
	}
	free(*field);
	*field = copy;
	return ENRT_OK;
}

static enrt_status
add_url(config *cfg, const char *url)
{
	if (url[0] == '\0' || cfg->n_urls == CONFIG_URLS_MAX) {
		return ENRT_INVALID_ARGUMENT;
	}
	if ((cfg->urls[cfg->n_urls] = strdup(url)) == NULL) {
		return ENRT_RESOURCE_EXHAUSTED;
	}
	cfg->n_urls++;
	return ENRT_OK;
}

static void
clear_urls(config *cfg)
{
	for (size_t i = 0; i < cfg->n_urls; i++) {
		free(cfg->urls[i]);
		cfg->urls[i] = NULL;
	}
	cfg->n_urls = 0;
}

static enrt_status
set_bool(bool *field, const char *value)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
		*field = value[0] == 't';
		return ENRT_OK;
	}
	return ENRT_INVALID_ARGUMENT;
}

/* Judges value by the setting's kind and stores it. */
static enrt_status
set_value(config *cfg, config_setting id, const char *value)
{
	const setting *s = &settings[id];

	switch (s->kind) {
	case KIND_URL:
		return add_url(cfg, value);
	case KIND_LEVEL:
		return log_parse_level(value, &cfg->log_level)
		           ? ENRT_OK
		           : ENRT_INVALID_ARGUMENT;
	case KIND_NUMBER:
		return parse_number(
		           value, s->min, s->max, number_field(cfg, id))
		           ? ENRT_OK
		           : ENRT_INVALID_ARGUMENT;
	case KIND_BOOL:
		return set_bool(&cfg->insecure_tcp, value);
	case KIND_HOSTPORT:
		if (!valid_hostport(value)) {
			return ENRT_INVALID_ARGUMENT;
		}
		return set_text(text_field(cfg, id), value);
	default:
		return set_text(text_field(cfg, id), value);
	}
}

/*
 * Applies one value from one source; where names the origin for an
 * error ("FILE:LINE: key", "ENRTD_X" or "--flag").  A list given by a
 * higher source replaces the lower one's; within the file a setting
 * other than listen may appear once.
 */
static enrt_status
apply(config *cfg, config_setting id, const char *value, config_source from,
    const char *where, err *e)
{
	enrt_status st;

	if (from == CONFIG_FROM_FILE && cfg->source[id] == from &&
	    id != CONFIG_LISTEN) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "%s: given twice; each key but listen appears once",
		    where);
	}
	if (id == CONFIG_LISTEN && cfg->source[id] != from) {
		clear_urls(cfg);
	}
	st = set_value(cfg, id, value);
	if (st == ENRT_RESOURCE_EXHAUSTED) {
		return err_set(e, st, "%s: out of memory", where);
	}
	if (st != ENRT_OK) {
		return err_set(e, st, "%s: %s", where, settings[id].rule);
	}
	cfg->source[id] = from;
	return ENRT_OK;
}

static bool
find_setting(const char *name, config_setting *id)
{
	for (int i = 0; i < CONFIG_SETTINGS; i++) {
		if (strcmp(settings[i].name, name) == 0) {
			*id = (config_setting)i;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* The INI file                                                        */

typedef struct parse {
	config *cfg;
	err *e;
	const char *path;
	FILE *f;
	int line;
	bool indented; /* the line just read continues the key above */
	bool failed;   /* e holds the reason */
} parse;

static void
file_error(parse *p, const char *what, const char *rule)
{
	p->failed = true;
	err_set(p->e, ENRT_INVALID_ARGUMENT, "%s:%d: %s: %s", p->path, p->line,
	    what, rule);
}

/* The first byte after leading blanks. */
static const char *
skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t') {
		s++;
	}
	return s;
}

/*
 * inih does not report a section that holds no key, so a section line
 * is judged here, as it is read.  Returns false to stop.
 */
static bool
check_section(parse *p, const char *line)
{
	const char *end = strchr(line, ']');
	size_t len;

	if (end == NULL) {
		return true; /* inih reports the malformed line */
	}
	len = (size_t)(end - line - 1);
	if (len == strlen(SECTION) && strncmp(line + 1, SECTION, len) == 0) {
		return true;
	}
	file_error(p, "section", "unknown; the only section is [" SECTION "]");
	return false;
}

/* inih's line source: counts lines, refuses one too long for its buffer. */
static char *
read_line(char *buf, int size, void *arg)
{
	parse *p = arg;
	const char *start;
	size_t len;
	int next;

	if (p->failed || fgets(buf, size, p->f) == NULL) {
		return NULL;
	}
	p->line++;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] != '\n' && (next = getc(p->f)) != EOF) {
		file_error(p, "line", "longer than inih's limit of 200 bytes");
		return NULL;
	}
	start = skip_blanks(buf);
	p->indented = start != buf && *start != '\n' && *start != '\r' &&
	              *start != '\0' && *start != '#' && *start != ';';
	if (*start == '[' && !check_section(p, start)) {
		return NULL;
	}
	return buf;
}

static int
on_key(void *arg, const char *section, const char *name, const char *value)
{
	parse *p = arg;
	char where[WHERE_MAX];
	config_setting id;

	if (strcmp(section, SECTION) != 0) {
		file_error(p, name,
		    "outside a section; settings go under [" SECTION "]");
		return 0;
	}
	if (!find_setting(name, &id)) {
		file_error(p, name, "unknown key");
		return 0;
	}
	if (p->indented && id != CONFIG_LISTEN) {
		file_error(p, name,
		    "only listen takes more than one line (an indented line "
		    "continues the key above it; start a key at the "
		    "beginning of its line)");
		return 0;
	}
	snprintf(where, sizeof(where), "%s:%d: %s", p->path, p->line, name);
	if (apply(p->cfg, id, value, CONFIG_FROM_FILE, where, p->e) !=
	    ENRT_OK) {
		p->failed = true;
		return 0;
	}
	return 1;
}

/* inih's own options: values keep any ';', the first error stops. */
static void
set_inih_options(void)
{
	ini_allow_inline_comments = false;
	ini_allow_multiline = true;
	ini_allow_no_value = false;
	ini_stop_on_first_error = true;
}

static enrt_status
read_file(config *cfg, const char *path, err *e)
{
	parse p = {.cfg = cfg, .e = e, .path = path};
	int rv;

	if ((p.f = fopen(path, "r")) == NULL) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "%s: cannot read: %s", path, strerror(errno));
	}
	set_inih_options();
	rv = ini_parse_stream(read_line, &p, on_key, &p);
	if (!p.failed && ferror(p.f)) {
		err_set(e, ENRT_FAILED_PRECONDITION, "%s: cannot read: %s",
		    path, strerror(errno));
		p.failed = true;
	}
	fclose(p.f);
	if (p.failed) {
		return e->code;
	}
	if (rv != 0) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "%s:%d: not a [section], a key = value line or a comment",
		    path, rv);
	}
	return ENRT_OK;
}

/* ------------------------------------------------------------------ */
/* Environment and flags                                               */

/* ENRTD_LISTEN holds URLs separated by commas. */
static enrt_status
apply_env_list(config *cfg, const char *name, const char *value, err *e)
{
	char *copy = strdup(value);
	char *rest = copy;
	char *url;
	enrt_status st = ENRT_OK;

	if (copy == NULL) {
		return err_set(
		    e, ENRT_RESOURCE_EXHAUSTED, "%s: out of memory", name);
	}
	do {
		url = strsep(&rest, ",");
		st = apply(cfg, CONFIG_LISTEN, url, CONFIG_FROM_ENV, name, e);
	} while (st == ENRT_OK && rest != NULL);
	free(copy);
	return st;
}

static bool
is_setting_variable(const char *name, size_t len)
{
	for (int i = 0; i < CONFIG_SETTINGS; i++) {
		if (strlen(settings[i].env) == len &&
		    strncmp(settings[i].env, name, len) == 0) {
			return true;
		}
	}
	return len == strlen("ENRTD_CONFIG") &&
	       strncmp(name, "ENRTD_CONFIG", len) == 0;
}

/*
 * A misspelt variable (ENRTD_FLUSH_INTERVALL) would otherwise leave its
 * setting at the default without a word, as an unknown key in the file
 * would.
 */
static enrt_status
check_env_names(err *e)
{
	extern char **environ;

	for (char **v = environ; *v != NULL; v++) {
		size_t len = strcspn(*v, "=");

		if (strncmp(*v, "ENRTD_", 6) == 0 &&
		    !is_setting_variable(*v, len)) {
			return err_set(e, ENRT_INVALID_ARGUMENT,
			    "%.*s: unknown variable; enrtd --help lists the "
			    "settings",
			    (int)len, *v);
		}
	}
	return ENRT_OK;
}

static enrt_status
apply_env(config *cfg, err *e)
{
	const char *value;
	enrt_status st = check_env_names(e);

	for (int i = 0; i < CONFIG_SETTINGS && st == ENRT_OK; i++) {
		if ((value = getenv(settings[i].env)) == NULL) {
			continue;
		}
		if (i == CONFIG_LISTEN) {
			st = apply_env_list(cfg, settings[i].env, value, e);
		} else {
			st = apply(cfg, (config_setting)i, value,
			    CONFIG_FROM_ENV, settings[i].env, e);
		}
	}
	return st;
}

static enrt_status
apply_flags(config *cfg, const flag *flags, size_t n, err *e)
{
	char where[WHERE_MAX];
	enrt_status st = ENRT_OK;

	for (size_t i = 0; i < n && st == ENRT_OK; i++) {
		snprintf(
		    where, sizeof(where), "--%s", settings[flags[i].id].name);
		st = apply(cfg, flags[i].id, flags[i].value, CONFIG_FROM_FLAG,
		    where, e);
	}
	return st;
}

/* The flags' own errors, which getopt reports as ':' and '?'. */
static enrt_status
bad_flag(int opt, char *const argv[], err *e)
{
	const char *arg = argv[optind - 1];

	if (opt == ':') {
		return err_set(
		    e, ENRT_INVALID_ARGUMENT, "%s: needs a value", arg);
	}
	return err_set(e, ENRT_INVALID_ARGUMENT, "%s: unknown flag", arg);
}

static void
note_flag(config *cfg, int opt, flag *flags, size_t *n, const char **file)
{
	switch (opt) {
	case 'h':
		cfg->action = CONFIG_HELP;
		break;
	case OPT_VERSION:
		cfg->action = CONFIG_VERSION;
		break;
	case OPT_PRINT:
		cfg->action = CONFIG_PRINT;
		break;
	case OPT_CONFIG:
		*file = optarg;
		break;
	default:
		flags[*n].id = (config_setting)(opt - OPT_SETTING);
		flags[(*n)++].value = optarg != NULL ? optarg : "true";
	}
}

/* Reads argv into flags (argc entries) and the file's name. */
static enrt_status
read_flags(config *cfg, int argc, char *const argv[], flag *flags, size_t *n,
    const char **file, err *e)
{
	int opt;

	optind = 0; /* glibc: start afresh, also on a second call */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == ':' || opt == '?') {
			return bad_flag(opt, argv, e);
		}
		note_flag(cfg, opt, flags, n, file);
	}
	if (optind < argc) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "%s: unexpected argument", argv[optind]);
	}
	return ENRT_OK;
}

static enrt_status
set_defaults(config *cfg, err *e)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = LOG_INFO;
	cfg->flush_s = 60;
	cfg->map_mib = 1024;
	cfg->contexts = 64;
	cfg->retention_days = 30;
	cfg->commit_batch = CONFIG_DEFAULT_BATCH;
	if ((cfg->data = strdup(CONFIG_DEFAULT_DATA)) == NULL) {
		return err_set(e, ENRT_RESOURCE_EXHAUSTED, "out of memory");
	}
	return ENRT_OK;
}

/* --config, else ENRTD_CONFIG, else no file. */
static enrt_status
load_file(config *cfg, const char *file, err *e)
{
	if (file == NULL && (file = getenv("ENRTD_CONFIG")) == NULL) {
		return ENRT_OK;
	}
	if (file[0] == '\0') {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "--config, ENRTD_CONFIG: must not be empty");
	}
	if ((cfg->file = strdup(file)) == NULL) {
		return err_set(e, ENRT_RESOURCE_EXHAUSTED, "out of memory");
	}
	return read_file(cfg, file, e);
}

enrt_status
config_load(config *cfg, int argc, char *const argv[], err *e)
{
	const char *file = NULL;
	size_t n = 0;
	flag *flags;
	enrt_status st;

	if ((st = set_defaults(cfg, e)) != ENRT_OK) {
		return st;
	}
	if ((flags = calloc((size_t)argc + 1, sizeof(*flags))) == NULL) {
		return err_set(e, ENRT_RESOURCE_EXHAUSTED, "out of memory");
	}
	st = read_flags(cfg, argc, argv, flags, &n, &file, e);
	if (st == ENRT_OK && cfg->action != CONFIG_HELP &&
	    cfg->action != CONFIG_VERSION) {
		if ((st = load_file(cfg, file, e)) == ENRT_OK &&
		    (st = apply_env(cfg, e)) == ENRT_OK) {
			st = apply_flags(cfg, flags, n, e);
		}
	}
	free(flags);
	return st;
}

/* ------------------------------------------------------------------ */
/* Printing                                                            */

static void
print_source(const config *cfg, config_setting id, FILE *f)
{
	switch (cfg->source[id]) {
	case CONFIG_FROM_FILE:
		fprintf(f, "# from %s\n", cfg->file);
		break;
	case CONFIG_FROM_ENV:
		fprintf(f, "# from %s\n", settings[id].env);
		break;
	case CONFIG_FROM_FLAG:
		fprintf(f, "# from --%s\n", settings[id].name);
		break;
	default:
		fprintf(f, "# default\n");
	}
}

static void
print_urls(const config *cfg, FILE *f)
{
	const char *data = cfg->data;
	const char *slash = data[strlen(data) - 1] == '/' ? "" : "/";

	if (cfg->n_urls == 0) {
		fprintf(f, "listen = ipc://%s%s%s\n    %s\n", data, slash,
		    CONFIG_SOCKET_NAME, CONFIG_DEFAULT_TCP);
		return;
	}
	fprintf(f, "listen = %s\n", cfg->urls[0]);
	for (size_t i = 1; i < cfg->n_urls; i++) {
		fprintf(f, "    %s\n", cfg->urls[i]);
	}
}

static void
print_value(const config *cfg, config_setting id, FILE *f)
{
	const char *name = settings[id].name;
	char **text;

	switch (settings[id].kind) {
	case KIND_URL:
		print_urls(cfg, f);
		return;
	case KIND_LEVEL:
		fprintf(f, "%s = %s\n", name, log_level_name(cfg->log_level));
		return;
	case KIND_NUMBER:
		fprintf(
		    f, "%s = %lu\n", name, *number_field((config *)cfg, id));
		return;
	case KIND_BOOL:
		fprintf(f, "%s = %s\n", name,
		    cfg->insecure_tcp ? "true" : "false");
		return;
	default:
		text = text_field((config *)cfg, id);
		if (*text == NULL) {
			fprintf(f, "# %s: not set\n", name);
		} else {
			fprintf(f, "%s = %s\n", name, *text);
		}
	}
}

void
config_print(const config *cfg, FILE *f)
{
	fprintf(f, "# enrtd's effective settings: flags over ENRTD_* "
	           "variables over\n# the --config file over the defaults."
	           "\n[" SECTION "]\n");
	for (int i = 0; i < CONFIG_SETTINGS; i++) {
		print_source(cfg, (config_setting)i, f);
		print_value(cfg, (config_setting)i, f);
	}
}

void
config_usage(FILE *f)
{
	fprintf(f,
	    "usage: enrtd [options]\n"
	    "  --config FILE           INI file of settings (or "
	    "ENRTD_CONFIG)\n"
	    "  --print-config          show the effective settings and exit\n"
	    "  --data DIR              data directory (default %s)\n"
	    "  --listen URL            ipc://, tcp:// or tls+tcp:// URL; "
	    "repeat for more\n"
	    "                          (default ipc://DIR/%s and %s)\n"
	    "  --log-level LEVEL       error, warn, info (default) or debug\n"
	    "  --log-file FILE         append the log to FILE (default: "
	    "standard error)\n"
	    "  --flush-interval SECS   last-used write interval, 1 to 60 "
	    "(default 60)\n"
	    "  --map-size MIB          LMDB map size, 1 to 1048576 "
	    "(default 1024)\n"
	    "  --contexts N            requests served at once, 1 to 4096 "
	    "(default 64)\n"
	    "  --commit-batch N        Issues and Revokes per durable commit, "
	    "at most,\n"
	    "                          1 to 1024 (default 256; 1: a commit "
	    "each)\n"
	    "  --tls-cert FILE         PEM certificate (and chain) for "
	    "tls+tcp:// URLs\n"
	    "  --tls-key FILE          PEM private key of that certificate, "
	    "not encrypted\n"
	    "  --insecure-tcp          allow tcp:// (and --http) on addresses "
	    "other than\n"
	    "                          loopback (credentials then cross the "
	    "network in clear)\n"
	    "  --http HOST:PORT        serve /healthz and /metrics over HTTP "
	    "(default: off)\n"
	    "  --retention-days DAYS   keep expired and revoked tokens this "
	    "long, 0 to 36500\n"
	    "                          (default 30), then purge them\n"
	    "  --backup-dir DIR        where the Backup operation writes "
	    "(default: none,\n"
	    "                          and Backup is refused)\n"
	    "  --help                  show this help\n"
	    "  --version               show the version\n"
	    "Each setting is also ENRTD_NAME in the environment and NAME in "
	    "the [enrtd]\nsection of the --config file; flags win over the "
	    "environment, which wins\nover the file.\n"
	    "\nCommands, instead of serving:\n"
	    "  enrtd backup [--data DIR] [--config FILE] OUT\n"
	    "                          write a hot, compacted copy of DIR "
	    "into OUT\n"
	    "  enrtd restore [--data DIR] [--config FILE] [--replace] "
	    "BACKUP\n"
	    "                          put BACKUP in place of DIR's store\n",
	    CONFIG_DEFAULT_DATA, CONFIG_SOCKET_NAME, CONFIG_DEFAULT_TCP);
}

void
config_free(config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	clear_urls(cfg);
	free(cfg->data);
	free(cfg->log_file);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->http);
	free(cfg->backup_dir);
	free(cfg->file);
	memset(cfg, 0, sizeof(*cfg));
}
