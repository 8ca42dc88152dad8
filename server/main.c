/*
 * enrtd: reads its flags, opens and locks the data directory and the
 * store, starts the last-used flusher, the writer, the purge and the
 * transport, and serves until SIGINT or SIGTERM; then drains the requests
 * in progress (the transport first, while the writer still commits the
 * changes they wait for), stops the writer and the purge, flushes
 * last-used times and closes the store.  "enrtd backup" and "enrtd
 * restore" run a command of command.c instead.
 *
 * The main thread owns every long-lived object here and does nothing but
 * start, wait for a signal, and stop.  The signals are blocked before any
 * thread exists, so that every thread (the flusher, nng's) inherits the
 * mask and only sigwait on this thread ever sees them.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <nng/nng.h>
#include <protobuf-c/protobuf-c.h>
#include <sodium.h>

#include "command.h"
#include "config.h"
#include "datadir.h"
#include "format.h"
#include "http.h"
#include "lastused.h"
#include "log.h"
#include "memo.h"
#include "purge.h"
#include "rpc.h"
#include "rules.h"
#include "store.h"
#include "transport.h"
#include "writer.h"

#define STORE_DIR       "store"
#define CREDENTIAL_NAME "admin.credential"
#define IPC_URL_MAX     (DATADIR_PATH_MAX + 8)
#define PURGE_EVERY_MS  (3600 * 1000L)
#define DAY_S           86400

typedef struct server {
	config cfg;
	const char *urls[CONFIG_URLS_MAX]; /* the config's, or the defaults */
	size_t n_urls;
	sigset_t signals;
	char ipc_url[IPC_URL_MAX];
	uint8_t key[DATADIR_KEY_LEN];
	int lock; /* the data directory's, while serving; -1 before */
	store *store;
	lastused *lastused;
	purge *purge;
	writer *writer;
	memo *credentials;
	rules rules;
	transport *transport;
	http *http;
} server;

/* Reads the settings; exits for --help, --version and refusals. */
static void
load_config(config *cfg, int argc, char *argv[])
{
	err e;

	if (config_load(cfg, argc, argv, &e) != ENRT_OK) {
		fprintf(stderr, "enrtd: %s\n", e.message);
		if (e.code == ENRT_INVALID_ARGUMENT && cfg->file == NULL) {
			config_usage(stderr);
		}
		config_free(cfg);
		exit(2);
	}
	if (cfg->action == CONFIG_HELP) {
		config_usage(stdout);
		exit(0);
	}
	if (cfg->action == CONFIG_VERSION) {
		printf("enrtd %s\n", ENRTD_VERSION);
		exit(0);
	}
	if (cfg->action == CONFIG_PRINT) {
		config_print(cfg, stdout);
		config_free(cfg);
		exit(0);
	}
}

/* The log's level and file, before anything is logged. */
static bool
start_log(const config *cfg)
{
	err e;

	log_set_level(cfg->log_level);
	if (cfg->log_file != NULL &&
	    log_open_file(cfg->log_file, &e) != ENRT_OK) {
		fprintf(stderr, "enrtd: %s\n", e.message);
		return false;
	}
	return true;
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

/* The configured URLs, or ipc://DIR/enrt.sock and tcp://127.0.0.1:7600. */
static bool
choose_urls(server *srv)
{
	char path[DATADIR_PATH_MAX];
	err e;

	for (size_t i = 0; i < srv->cfg.n_urls; i++) {
		srv->urls[srv->n_urls++] = srv->cfg.urls[i];
	}
	if (srv->n_urls > 0) {
		return true;
	}
	if (datadir_path(srv->cfg.data, CONFIG_SOCKET_NAME, path, &e) !=
	    ENRT_OK) {
		return failed("listen", e.message);
	}
	snprintf(srv->ipc_url, sizeof(srv->ipc_url), "ipc://%s", path);
	srv->urls[0] = srv->ipc_url;
	srv->urls[1] = CONFIG_DEFAULT_TCP;
	srv->n_urls = 2;
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
	if (datadir_lock(srv->cfg.data, &srv->lock, &e) != ENRT_OK) {
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
	srv->rules.data_dir = srv->cfg.data;
	srv->rules.backup_dir = srv->cfg.backup_dir;
	return true;
}

static bool
start_memo(server *srv)
{
	enrt_status st;

	if ((st = memo_new(&srv->credentials)) != ENRT_OK) {
		return failed_status("credential_memo", st);
	}
	srv->rules.credentials = srv->credentials;
	return true;
}

static bool
start_purge(server *srv)
{
	purge_options po = {
	    .retention_s = (int64_t)srv->cfg.retention_days * DAY_S,
	    .interval_ms = PURGE_EVERY_MS,
	};
	enrt_status st;

	if ((st = purge_start(&srv->purge, srv->store, &po)) != ENRT_OK) {
		return failed_status("purge", st);
	}
	return true;
}

static bool
start_writer(server *srv)
{
	enrt_status st;
	unsigned batch = (unsigned)srv->cfg.commit_batch;

	if ((st = writer_start(&srv->writer, srv->store, batch)) != ENRT_OK) {
		return failed_status("writer", st);
	}
	srv->rules.writer = srv->writer;
	return true;
}

static void
answer(void *req, uint8_t *out, size_t len)
{
	transport_reply(req, out, len);
}

/* The transport's handler: rules in arg, the reply whenever it is made. */
static void
serve(void *arg, transport_request *req, const uint8_t *in, size_t len)
{
	rpc_serve(arg, in, len, answer, req);
}

static transport_options
transport_config(server *srv)
{
	transport_options to = {
	    .urls = srv->urls,
	    .n_urls = srv->n_urls,
	    .contexts = (unsigned)srv->cfg.contexts,
	    .tls_cert_file = srv->cfg.tls_cert,
	    .tls_key_file = srv->cfg.tls_key,
	    .insecure_tcp = srv->cfg.insecure_tcp,
	    .handler = serve,
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

/*
 * The HTTP listener follows the rule of tcp://: loopback only, unless
 * --insecure-tcp.  The transport's own check judges it.
 */
static bool
check_http(server *srv)
{
	char url[IPC_URL_MAX];
	const char *urls[1] = {url};
	transport_options to = transport_config(srv);
	err e;

	if (srv->cfg.http == NULL) {
		return true;
	}
	snprintf(url, sizeof(url), "tcp://%s", srv->cfg.http);
	to.urls = urls;
	to.n_urls = 1;
	to.tls_cert_file = to.tls_key_file = NULL;
	if (transport_check(&to, &e) != ENRT_OK) {
		return failed("http", e.message);
	}
	return true;
}

static bool
start_http(server *srv)
{
	http_options ho = {.address = srv->cfg.http, .rules = &srv->rules};
	err e;

	if (srv->cfg.http == NULL) {
		return true;
	}
	if (http_start(&srv->http, &ho, &e) != ENRT_OK) {
		return failed("http", e.message);
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
	return init_process(srv) && choose_urls(srv) && check_transport(srv) &&
	       check_http(srv) && open_data(srv) && start_lastused(srv) &&
	       start_memo(srv) && start_writer(srv) && bootstrap(srv) &&
	       start_purge(srv) && start_transport(srv) && start_http(srv);
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

/*
 * Reverse order of starting; each step accepts what was never made.  The
 * writer stops between the transport's drain and its close, so that the
 * Issues and Revokes it still commits are answered.  Returns false when
 * the transport's socket could not be closed (see transport_stop).
 */
static bool
stop_server(server *srv)
{
	bool closed;

	http_stop(srv->http);
	transport_drain(srv->transport);
	writer_stop(srv->writer);
	closed = transport_stop(srv->transport);
	purge_stop(srv->purge);
	lastused_stop(srv->lastused);
	memo_free(srv->credentials);
	store_close(srv->store);
	datadir_unlock(srv->lock);
	sodium_memzero(srv->key, sizeof(srv->key));
	sodium_memzero(&srv->rules, sizeof(srv->rules));
	return closed;
}

/* The start and stop lines name the libraries' versions in use. */
static void
log_versions(const char *event, const server *srv)
{
	int major, minor, patch;

	mdb_version(&major, &minor, &patch);
	log_info(event,
	    "data=%s version=%s nng=%s lmdb=%d.%d.%d sodium=%s protobuf_c=%s",
	    srv->cfg.data, ENRTD_VERSION, nng_version(), major, minor, patch,
	    sodium_version_string(), protobuf_c_version());
}

int
main(int argc, char *argv[])
{
	static server srv = {.lock = -1};
	int status = 0;
	bool closed;

	if (argc > 1 && command_is(argv[1])) {
		return command_run(argc - 1, argv + 1);
	}
	load_config(&srv.cfg, argc, argv);
	if (!start_log(&srv.cfg)) {
		config_free(&srv.cfg);
		return 1;
	}
	if (start_server(&srv)) {
		log_versions("server_started", &srv);
		wait_for_stop(&srv.signals);
	} else {
		status = 1;
	}
	closed = stop_server(&srv);
	if (status == 0) {
		log_versions("server_stopped", &srv);
	}
	log_close_file();
	config_free(&srv.cfg);
	if (!closed) {
		_exit(status); /* nng's own exit handlers would wait for it */
	}
	return status;
}
