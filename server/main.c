/*
 * enrtd: reads its flags, opens the data directory and the store, starts
 * the last-used flusher and the transport, and serves until SIGINT or
 * SIGTERM; then drains the requests in progress, flushes last-used times
 * and closes the store.
 *
 * The main thread owns every long-lived object here and does nothing but
 * start, wait for a signal, and stop.  The signals are blocked before any
 * thread exists, so that every thread (the flusher, nng's) inherits the
 * mask and only sigwait on this thread ever sees them.
 */
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "datadir.h"
#include "format.h"
#include "lastused.h"
#include "log.h"
#include "rpc.h"
#include "rules.h"
#include "store.h"
#include "transport.h"

#define DEFAULT_DATA    "enrt-data"
#define DEFAULT_TCP     "tcp://127.0.0.1:7600"
#define SOCKET_NAME     "enrt.sock"
#define STORE_DIR       "store"
#define CREDENTIAL_NAME "admin.credential"
#define URLS_MAX        16
#define FLUSH_MIN_S     1
#define FLUSH_MAX_S     60
#define MAP_MIN_MIB     1
#define MAP_MAX_MIB     (1024UL * 1024) /* 1 TiB */
#define IPC_URL_MAX     (DATADIR_PATH_MAX + 8)

typedef struct config {
	const char *data;
	const char *urls[URLS_MAX];
	size_t n_urls;
	unsigned long flush_s;
	unsigned long map_mib;  /* 0: the store's default */
	unsigned long contexts; /* 0: the transport's default */
	const char *tls_cert;   /* NULL: none */
	const char *tls_key;    /* NULL: none */
	bool insecure_tcp;
} config;

typedef struct server {
	config cfg;
	sigset_t signals;
	char ipc_url[IPC_URL_MAX];
	uint8_t key[DATADIR_KEY_LEN];
	store *store;
	lastused *lastused;
	rules rules;
	transport *transport;
} server;

enum {
	OPT_DATA = 1,
	OPT_LISTEN,
	OPT_LOG_LEVEL,
	OPT_FLUSH,
	OPT_MAP_SIZE,
	OPT_CONTEXTS,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_INSECURE_TCP,
	OPT_VERSION,
};

static const struct option options[] = {
    {"data", required_argument, NULL, OPT_DATA},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"flush-interval", required_argument, NULL, OPT_FLUSH},
    {"map-size", required_argument, NULL, OPT_MAP_SIZE},
    {"contexts", required_argument, NULL, OPT_CONTEXTS},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"insecure-tcp", no_argument, NULL, OPT_INSECURE_TCP},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: enrtd [options]\n"
	    "  --data DIR              data directory (default %s)\n"
	    "  --listen URL            ipc://, tcp:// or tls+tcp:// URL; "
	    "repeat for more\n"
	    "                          (default ipc://DIR/%s and %s)\n"
	    "  --log-level LEVEL       error, warn, info (default) or debug\n"
	    "  --flush-interval SECS   last-used write interval, %d to %d "
	    "(default %d)\n"
	    "  --map-size MIB          LMDB map size, %d to %lu "
	    "(default 1024)\n"
	    "  --contexts N            requests served at once, 1 to %d "
	    "(default 64)\n"
	    "  --tls-cert FILE         PEM certificate (and chain) for "
	    "tls+tcp:// URLs\n"
	    "  --tls-key FILE          PEM private key of that certificate, "
	    "not encrypted\n"
	    "  --insecure-tcp          allow tcp:// on addresses other than "
	    "loopback\n"
	    "                          (credentials then cross the network "
	    "in clear)\n"
	    "  --help                  show this help\n"
	    "  --version               show the version\n",
	    DEFAULT_DATA, SOCKET_NAME, DEFAULT_TCP, FLUSH_MIN_S, FLUSH_MAX_S,
	    FLUSH_MAX_S, MAP_MIN_MIB, MAP_MAX_MIB, TRANSPORT_CONTEXTS_MAX);
}

static _Noreturn void
bad_flag(const char *flag, const char *rule)
{
	fprintf(stderr, "enrtd: %s: %s\n", flag, rule);
	usage(stderr);
	exit(2);
}

/* A decimal whole number from min to max, nothing else; exits if not. */
static unsigned long
parse_number(const char *flag, const char *text, unsigned long min,
    unsigned long max, const char *rule)
{
	unsigned long v;
	char *end;

	if (text[0] < '0' || text[0] > '9') {
		bad_flag(flag, rule);
	}
	v = strtoul(text, &end, 10);
	if (*end != '\0' || v == ULONG_MAX || v < min || v > max) {
		bad_flag(flag, rule);
	}
	return v;
}

static void
add_url(config *cfg, const char *url)
{
	if (url[0] == '\0') {
		bad_flag("--listen", "must not be empty");
	}
	if (cfg->n_urls == URLS_MAX) {
		bad_flag("--listen", "may be given at most 16 times");
	}
	cfg->urls[cfg->n_urls++] = url;
}

static const char *
non_empty(const char *flag, const char *arg)
{
	if (arg[0] == '\0') {
		bad_flag(flag, "must not be empty");
	}
	return arg;
}

static void
set_log_level(const char *name)
{
	log_level level;

	if (!log_parse_level(name, &level)) {
		bad_flag("--log-level", "must be error, warn, info or debug");
	}
	log_set_level(level);
}

static void
apply_option(config *cfg, int opt, const char *arg)
{
	switch (opt) {
	case OPT_DATA:
		cfg->data = non_empty("--data", arg);
		break;
	case OPT_LISTEN:
		add_url(cfg, arg);
		break;
	case OPT_LOG_LEVEL:
		set_log_level(arg);
		break;
	case OPT_FLUSH:
		cfg->flush_s = parse_number("--flush-interval", arg,
		    FLUSH_MIN_S, FLUSH_MAX_S,
		    "must be a whole number of seconds from 1 to 60");
		break;
	case OPT_MAP_SIZE:
		cfg->map_mib =
		    parse_number("--map-size", arg, MAP_MIN_MIB, MAP_MAX_MIB,
		        "must be a whole number of MiB from 1 to 1048576");
		break;
	case OPT_CONTEXTS:
		cfg->contexts =
		    parse_number("--contexts", arg, 1, TRANSPORT_CONTEXTS_MAX,
		        "must be a whole number from 1 to 4096");
		break;
	case OPT_TLS_CERT:
		cfg->tls_cert = non_empty("--tls-cert", arg);
		break;
	case OPT_TLS_KEY:
		cfg->tls_key = non_empty("--tls-key", arg);
		break;
	case OPT_INSECURE_TCP:
		cfg->insecure_tcp = true;
		break;
	}
}

/* Handles --help, --version and the flags' own errors; exits for them. */
static void
apply_special(int opt, char *const argv[])
{
	switch (opt) {
	case 'h':
		usage(stdout);
		exit(0);
	case OPT_VERSION:
		printf("enrtd %s\n", ENRTD_VERSION);
		exit(0);
	case ':':
		bad_flag(argv[optind - 1], "needs a value");
	case '?':
		bad_flag(argv[optind - 1], "unknown flag");
	}
}

static void
parse_args(int argc, char *argv[], config *cfg)
{
	int opt;

	cfg->data = DEFAULT_DATA;
	cfg->flush_s = FLUSH_MAX_S;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		apply_special(opt, argv);
		apply_option(cfg, opt, optarg);
	}
	if (optind < argc) {
		bad_flag(argv[optind], "unexpected argument");
	}
}

static bool
failed(const char *step, const char *message)
{
	log_error("startup_failed", "step=%s error=\"%s\"", step, message);
	return false;
}

static bool
failed_status(const char *step, enrt_status st)
{
	return failed(step, enrt_status_name(st));
}

/* ipc://DIR/enrt.sock and tcp://127.0.0.1:7600 unless --listen was given. */
static bool
default_urls(server *srv)
{
	char path[DATADIR_PATH_MAX];
	err e;

	if (srv->cfg.n_urls > 0) {
		return true;
	}
	if (datadir_path(srv->cfg.data, SOCKET_NAME, path, &e) != ENRT_OK) {
		return failed("listen", e.message);
	}
	snprintf(srv->ipc_url, sizeof(srv->ipc_url), "ipc://%s", path);
	srv->cfg.urls[0] = srv->ipc_url;
	srv->cfg.urls[1] = DEFAULT_TCP;
	srv->cfg.n_urls = 2;
	return true;
}

static bool
open_store(server *srv)
{
	store_options so = {.map_size = (size_t)srv->cfg.map_mib << 20};
	char path[DATADIR_PATH_MAX];
	enrt_status st;
	err e;

	if (datadir_path(srv->cfg.data, STORE_DIR, path, &e) != ENRT_OK) {
		return failed("store", e.message);
	}
	if ((st = store_open(&srv->store, path, &so)) != ENRT_OK) {
		return failed_status("store", st);
	}
	return true;
}

static bool
open_data(server *srv)
{
	err e;

	if (datadir_prepare(srv->cfg.data, &e) != ENRT_OK) {
		return failed("data_directory", e.message);
	}
	if (datadir_load_key(srv->cfg.data, srv->key, &e) != ENRT_OK) {
		return failed("digest_key", e.message);
	}
	return open_store(srv);
}

static bool
file_exists(const char *dir, const char *name)
{
	char path[DATADIR_PATH_MAX];
	struct stat st;
	err e;

	if (datadir_path(dir, name, path, &e) != ENRT_OK) {
		return false;
	}
	return lstat(path, &st) == 0;
}

/*
 * A store without callers beside an old admin.credential (the store was
 * wiped, the file kept) would make a new credential that cannot be
 * written out, leaving nobody able to call.  Refuse before that.
 */
static bool
bootstrap_possible(server *srv)
{
	store_txn *txn;
	size_t callers = 0;
	enrt_status st;

	if (!file_exists(srv->cfg.data, CREDENTIAL_NAME)) {
		return true;
	}
	if ((st = store_begin_read(srv->store, &txn)) != ENRT_OK) {
		return failed_status("bootstrap", st);
	}
	st = store_caller_count(txn, &callers);
	store_abort(txn);
	if (st != ENRT_OK) {
		return failed_status("bootstrap", st);
	}
	if (callers == 0) {
		return failed("bootstrap",
		    "the store has no caller but " CREDENTIAL_NAME
		    " exists; move it away to make a new one");
	}
	return true;
}

/* Writes a first admin credential when the store has no caller. */
static bool
bootstrap(server *srv)
{
	char credential[FORMAT_SECRET_LEN + 1] = "";
	char path[DATADIR_PATH_MAX];
	bool ok = true;
	err e;

	if (!bootstrap_possible(srv)) {
		return false;
	}
	if (rules_bootstrap(
	        &srv->rules, (int64_t)time(NULL), credential, &e) != ENRT_OK) {
		ok = failed("bootstrap", e.message);
	} else if (credential[0] != '\0' &&
	           datadir_write_credential(
	               srv->cfg.data, credential, path, &e) != ENRT_OK) {
		ok = failed("bootstrap", e.message);
	} else if (credential[0] != '\0') {
		log_info("bootstrap_credential", "path=%s", path);
	}
	sodium_memzero(credential, sizeof(credential));
	return ok;
}

static bool
start_lastused(server *srv)
{
	enrt_status st;
	int ms = (int)srv->cfg.flush_s * 1000;

	if ((st = lastused_start(&srv->lastused, srv->store, ms)) != ENRT_OK) {
		return failed_status("last_used", st);
	}
	rules_init(&srv->rules, srv->store, srv->lastused, srv->key);
	return true;
}

static transport_options
transport_config(server *srv)
{
	transport_options to = {
	    .urls = srv->cfg.urls,
	    .n_urls = srv->cfg.n_urls,
	    .contexts = (unsigned)srv->cfg.contexts,
	    .tls_cert_file = srv->cfg.tls_cert,
	    .tls_key_file = srv->cfg.tls_key,
	    .insecure_tcp = srv->cfg.insecure_tcp,
	    .handler = rpc_handle,
	    .arg = &srv->rules,
	};

	return to;
}

/*
 * Before the data directory is touched: a URL the rules refuse, or a
 * certificate or key that cannot be loaded.
 */
static bool
check_transport(server *srv)
{
	transport_options to = transport_config(srv);
	err e;

	if (transport_check(&to, &e) != ENRT_OK) {
		return failed("listen", e.message);
	}
	return true;
}

static bool
start_transport(server *srv)
{
	transport_options to = transport_config(srv);
	err e;

	if (transport_start(&srv->transport, &to, &e) != ENRT_OK) {
		return failed("listen", e.message);
	}
	return true;
}

static bool
init_process(server *srv)
{
	int rv;

	if (sodium_init() < 0) {
		return failed("sodium", "libsodium failed to initialise");
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&srv->signals);
	sigaddset(&srv->signals, SIGINT);
	sigaddset(&srv->signals, SIGTERM);
	sigaddset(&srv->signals, SIGHUP);
	if ((rv = pthread_sigmask(SIG_BLOCK, &srv->signals, NULL)) != 0) {
		return failed("signals", strerror(rv));
	}
	return true;
}

static bool
start_server(server *srv)
{
	return init_process(srv) && default_urls(srv) &&
	       check_transport(srv) && open_data(srv) && start_lastused(srv) &&
	       bootstrap(srv) && start_transport(srv);
}

/* SIGHUP has no meaning yet; it is noted and otherwise ignored. */
static void
wait_for_stop(const sigset_t *signals)
{
	int sig = SIGHUP;

	while (sig == SIGHUP) {
		if (sigwait(signals, &sig) != 0) {
			sig = SIGTERM;
		} else if (sig == SIGHUP) {
			log_info("signal_ignored", "signal=SIGHUP");
		}
	}
	log_info("server_stopping", "signal=%s",
	    sig == SIGINT ? "SIGINT" : "SIGTERM");
}

/* Reverse order of starting; each step accepts what was never made. */
static void
stop_server(server *srv)
{
	transport_stop(srv->transport);
	lastused_stop(srv->lastused);
	store_close(srv->store);
	sodium_memzero(srv->key, sizeof(srv->key));
	sodium_memzero(&srv->rules, sizeof(srv->rules));
}

int
main(int argc, char *argv[])
{
	static server srv;

	parse_args(argc, argv, &srv.cfg);
	if (!start_server(&srv)) {
		stop_server(&srv);
		return 1;
	}
	log_info("server_started", "data=%s version=%s", srv.cfg.data,
	    ENRTD_VERSION);

	wait_for_stop(&srv.signals);
	stop_server(&srv);
	log_info("server_stopped", NULL);
	return 0;
}
