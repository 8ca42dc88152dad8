/*
 * Transport security against a real enrtd: a CA and a server certificate
 * for 127.0.0.1 and localhost are made with openssl in the test's
 * temporary directory, enrtd listens on tls+tcp://, and libenrt and the
 * enrt CLI talk to it.  Also the rule that plain tcp:// stays on
 * loopback unless enrtd is started with --insecure-tcp.
 *
 * The tests share one server (group setup) but for the one that needs
 * tcp:// on every interface.  Child processes (openssl, enrt, an enrtd
 * that must refuse to start) are run with fixed arguments and waited
 * for with a bound; their output goes to files in the temporary
 * directory.
 */
#define _GNU_SOURCE /* execvpe */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "enrt.h"
#include "server.h"

#define DAY           INT64_C(86400)
#define CHILD_WAIT_MS 60000
#define POLL_MS       20
#define SHORT_TIMEOUT 2000
#define ENV_MAX       256
#define TLS_PATH_MAX  (SERVER_PATH_MAX + 32)
#define COMMAND_ARGS  40
#define RUN_FAILED    (-1)

extern char **environ;

/* Evaluates got once; prints the error's message when it differs. */
/* Fails, showing the text, unless it holds the fixed string. */
#define assert_contains(text, part)                                    \
	do {                                                           \
		const char *text_ = (text);                            \
		if (text_ == NULL || strstr(text_, part) == NULL) {    \
			print_error("expected \"%s\" in:\n%s\n", part, \
			    text_ != NULL ? text_ : "(nothing)");      \
		}                                                      \
		assert_non_null(text_);                                \
		assert_non_null(strstr(text_, part));                  \
	} while (0)

typedef struct paths {
	char ca_cert[TLS_PATH_MAX];
	char ca_key[TLS_PATH_MAX];
	char other_ca_cert[TLS_PATH_MAX];
	char other_ca_key[TLS_PATH_MAX];
	char server_cert[TLS_PATH_MAX];
	char server_key[TLS_PATH_MAX];
	char server_csr[TLS_PATH_MAX];
	char server_ext[TLS_PATH_MAX];
	char credential_file[TLS_PATH_MAX];
	char out[TLS_PATH_MAX]; /* a child's standard output */
	char err[TLS_PATH_MAX]; /* a child's standard error */
} paths;

typedef struct fixture {
	server srv;
	paths p;
	enrt_client *tls; /* verifies against the right CA */
} fixture;

/* ------------------------------------------------------------------ */
/* Child processes                                                     */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
pause_ms(int ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};

	nanosleep(&ts, NULL);
}

/*
 * This process's environment without the CLI's ENRT_ variables, plus
 * ENRT_TLS_CA=ca when ca is not NULL.  Built before fork, since the
 * child of a process with threads may only make async-signal-safe calls.
 */
typedef struct env {
	char *v[ENV_MAX + 2];
	char ca[TLS_PATH_MAX + 16];
} env;

static void
make_env(env *e, const char *ca)
{
	size_t n = 0;

	for (char **p = environ; *p != NULL && n < ENV_MAX; p++) {
		if (strncmp(*p, "ENRT_", 5) != 0 ||
		    strncmp(*p, "ENRT_BIN_DIR=", 13) == 0) {
			e->v[n++] = *p;
		}
	}
	if (ca != NULL) {
		snprintf(e->ca, sizeof(e->ca), "ENRT_TLS_CA=%s", ca);
		e->v[n++] = e->ca;
	}
	e->v[n] = NULL;
}

static void
exec_child(const paths *p, char *const argv[], char *const envp[])
{
	int in = open("/dev/null", O_RDONLY);
	int out = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int err = open(p->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (in < 0 || out < 0 || err < 0 || dup2(in, STDIN_FILENO) < 0 ||
	    dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0) {
		_exit(126);
	}
	execvpe(argv[0], argv, envp);
	_exit(127);
}

/* The child's exit code, or RUN_FAILED if it died or outlived the wait. */
static int
wait_child(pid_t pid)
{
	int64_t deadline = now_ms() + CHILD_WAIT_MS;
	int status;

	while (now_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			return WIFEXITED(status) ? WEXITSTATUS(status)
			                         : RUN_FAILED;
		}
		pause_ms(POLL_MS);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	print_error(
	    "child %d did not exit within %d ms\n", (int)pid, CHILD_WAIT_MS);
	return RUN_FAILED;
}

/*
 * Runs argv (argv[0] looked up in PATH unless it has a slash) with
 * standard output and error in p->out and p->err; ENRT_TLS_CA is set to
 * ca_env when it is not NULL.  Returns the exit code.
 */
static int
run(const paths *p, const char *const argv[], const char *ca_env)
{
	env e;
	pid_t pid;

	make_env(&e, ca_env);
	fflush(NULL);
	if ((pid = fork()) < 0) {
		print_error("fork: %s\n", strerror(errno));
		return RUN_FAILED;
	}
	if (pid == 0) {
		exec_child(p, (char *const *)argv, e.v);
	}
	return wait_child(pid);
}

static char *
read_text(const char *path)
{
	size_t len = 0;

	return server_read_file(path, &len);
}

/* Runs argv and fails the test, showing its errors, unless it exits 0. */
static void
run_ok(const paths *p, const char *const argv[])
{
	int rc = run(p, argv, NULL);
	char *err;

	if (rc != 0) {
		err = read_text(p->err);
		print_error("%s exited with %d:\n%s\n", argv[0], rc,
		    err != NULL ? err : "");
		free(err);
	}
	assert_int_equal(rc, 0);
}

/* ------------------------------------------------------------------ */
/* Certificates                                                        */

static void
make_paths(paths *p, const char *root)
{
	snprintf(p->ca_cert, TLS_PATH_MAX, "%s/ca.crt", root);
	snprintf(p->ca_key, TLS_PATH_MAX, "%s/ca.key", root);
	snprintf(p->other_ca_cert, TLS_PATH_MAX, "%s/other-ca.crt", root);
	snprintf(p->other_ca_key, TLS_PATH_MAX, "%s/other-ca.key", root);
	snprintf(p->server_cert, TLS_PATH_MAX, "%s/server.crt", root);
	snprintf(p->server_key, TLS_PATH_MAX, "%s/server.key", root);
	snprintf(p->server_csr, TLS_PATH_MAX, "%s/server.csr", root);
	snprintf(p->server_ext, TLS_PATH_MAX, "%s/server.ext", root);
	snprintf(p->out, TLS_PATH_MAX, "%s/child.out", root);
	snprintf(p->err, TLS_PATH_MAX, "%s/child.err", root);
}

/* A self-signed CA on P-256, valid for two days. */
static void
make_ca(const paths *p, const char *cert, const char *key, const char *cn)
{
	const char *argv[] = {"openssl", "req", "-x509", "-newkey", "ec",
	    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
	    "-out", cert, "-days", "2", "-subj", cn, "-addext",
	    "basicConstraints=critical,CA:TRUE", "-addext",
	    "keyUsage=critical,keyCertSign,cRLSign", NULL};

	run_ok(p, argv);
}

/*
 * The names the server's certificate carries.  The mbed TLS 2 that nng
 * uses on Debian 12 matches the expected name only against DNS names,
 * so 127.0.0.1 is there as a DNS name as well as an address.
 */
static void
write_server_ext(const paths *p)
{
	FILE *f = fopen(p->server_ext, "w");

	assert_non_null(f);
	fputs("subjectAltName = DNS:localhost, DNS:127.0.0.1, "
	      "IP:127.0.0.1\n"
	      "basicConstraints = CA:FALSE\n"
	      "keyUsage = critical, digitalSignature\n"
	      "extendedKeyUsage = serverAuth\n",
	    f);
	assert_int_equal(fclose(f), 0);
}

static void
make_server_cert(const paths *p)
{
	const char *request[] = {"openssl", "req", "-newkey", "ec", "-pkeyopt",
	    "ec_paramgen_curve:P-256", "-nodes", "-keyout", p->server_key,
	    "-out", p->server_csr, "-subj", "/CN=localhost", NULL};
	const char *sign[] = {"openssl", "x509", "-req", "-in", p->server_csr,
	    "-CA", p->ca_cert, "-CAkey", p->ca_key, "-set_serial", "2",
	    "-days", "2", "-extfile", p->server_ext, "-out", p->server_cert,
	    NULL};

	run_ok(p, request);
	write_server_ext(p);
	run_ok(p, sign);
}

static void
make_certificates(paths *p)
{
	make_ca(p, p->ca_cert, p->ca_key, "/CN=enrt test CA");
	make_ca(p, p->other_ca_cert, p->other_ca_key, "/CN=another CA");
	make_server_cert(p);
}

/* ------------------------------------------------------------------ */
/* Clients                                                             */

static enrt_status
open_tls(const fixture *f, const char *ca, const char *name, int timeout_ms,
    enrt_client **client, enrt_error *e)
{
	enrt_options o = {
	    .url = f->srv.tls_url,
	    .credential = f->srv.credential,
	    .timeout_ms = timeout_ms,
	    .tls_ca_file = ca,
	    .tls_server_name = name,
	};

	return enrt_client_open(client, &o, e);
}

static enrt_app *
make_app(enrt_client *c, const char *name)
{
	enrt_app_params params = {
	    .name = name,
	    .set_policy = true,
	    .policy = ENRT_POLICY_AUTHENTICATED_USERS,
	    .system_user = "svc-tls",
	};
	enrt_app *app = NULL;
	enrt_error e;

	assert_status(enrt_app_create(c, &params, &app, &e), ENRT_OK, &e);
	assert_non_null(app);
	return app;
}

static const char *const read_scope[] = {"read"};

static enrt_issue_params
pat_params(const char *app_id)
{
	enrt_issue_params params = {
	    .app_id = app_id,
	    .kind = ENRT_KIND_PAT,
	    .has_expires_at = true,
	    .expires_at = (int64_t)time(NULL) + 30 * DAY,
	    .scopes = read_scope,
	    .n_scopes = 1,
	    .owner = "alice",
	};

	return params;
}

static size_t
count_tokens(enrt_client *c, const char *app_id)
{
	enrt_list_params params = {.app_id = app_id, .include_inactive = true};
	enrt_token_page *page = NULL;
	enrt_error e;
	size_t n;

	assert_status(enrt_list_tokens(c, &params, &page, &e), ENRT_OK, &e);
	assert_null(page->next_cursor);
	n = page->n_tokens;
	enrt_token_page_free(page);
	return n;
}

/* ------------------------------------------------------------------ */
/* Fixture                                                             */

static int
start_shared(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	enrt_error e;

	if (f == NULL || server_init(&f->srv, false, 0) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	make_paths(&f->p, f->srv.root);
	snprintf(f->p.credential_file, TLS_PATH_MAX, "%s/admin.credential",
	    f->srv.data);
	make_certificates(&f->p);

	if (server_add_tls(&f->srv, f->p.server_cert, f->p.server_key,
	        f->p.ca_cert) != 0 ||
	    server_start(&f->srv) != 0) {
		return -1;
	}
	if (open_tls(f, f->p.ca_cert, NULL, 0, &f->tls, &e) != ENRT_OK) {
		print_error("%s\n", e.message);
		return -1;
	}
	return 0;
}

static int
stop_shared(void **state)
{
	fixture *f = *state;
	int rc = 0;

	if (f == NULL) {
		return 0;
	}
	enrt_client_close(f->tls);
	if (f->srv.pid > 0) {
		rc = server_stop(&f->srv);
	}
	server_destroy(&f->srv);
	free(f);
	return rc;
}

/* ------------------------------------------------------------------ */
/* libenrt over tls+tcp://                                             */

static void
tls_round_trip_issues_and_introspects(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(f->tls, "tls round trip");
	enrt_issue_params params = pat_params(app->id);
	enrt_issued *issued = NULL;
	enrt_introspection *answer = NULL;
	enrt_error e;

	assert_status(enrt_issue(f->tls, &params, &issued, &e), ENRT_OK, &e);
	assert_true(enrt_token_check(issued->value, strlen(issued->value)));
	assert_status(enrt_introspect(f->tls, issued->value,
	                  strlen(issued->value), &answer, &e),
	    ENRT_OK, &e);

	assert_true(answer->active);
	assert_string_equal(answer->token_id, issued->token.id);
	assert_string_equal(answer->app_id, app->id);
	assert_string_equal(answer->subject, "alice");
	enrt_introspection_free(answer);
	enrt_issued_free(issued);
	enrt_app_free(app);
}

static void
tls_server_name_can_differ_from_the_url_host(void **state)
{
	fixture *f = *state;
	enrt_client *c = NULL;
	enrt_app_page *page = NULL;
	enrt_error e;

	assert_status(
	    open_tls(f, f->p.ca_cert, "localhost", 0, &c, &e), ENRT_OK, &e);
	assert_status(enrt_app_list(c, NULL, 0, &page, &e), ENRT_OK, &e);
	assert_non_null(page);
	enrt_app_page_free(page);
	enrt_client_close(c);
}

/* The request never leaves: the Issue is not carried out either. */
static void
wrong_ca_is_unavailable_and_never_answered(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(f->tls, "tls wrong ca");
	enrt_issue_params params = pat_params(app->id);
	enrt_issued *issued = NULL;
	enrt_client *c = NULL;
	enrt_error e;

	assert_status(
	    open_tls(f, f->p.other_ca_cert, NULL, SHORT_TIMEOUT, &c, &e),
	    ENRT_OK, &e);
	assert_status(
	    enrt_issue(c, &params, &issued, &e), ENRT_UNAVAILABLE, &e);
	assert_null(issued);
	assert_contains(e.message, "not connected");
	enrt_client_close(c);

	assert_int_equal(count_tokens(f->tls, app->id), 0);
	enrt_app_free(app);
}

static void
wrong_server_name_is_unavailable(void **state)
{
	fixture *f = *state;
	enrt_app_page *page = NULL;
	enrt_client *c = NULL;
	enrt_error e;

	assert_status(open_tls(f, f->p.ca_cert, "elsewhere.example",
	                  SHORT_TIMEOUT, &c, &e),
	    ENRT_OK, &e);
	assert_status(
	    enrt_app_list(c, NULL, 0, &page, &e), ENRT_UNAVAILABLE, &e);
	assert_null(page);
	assert_contains(e.message, "tls_server_name");
	enrt_client_close(c);
}

/*
 * The request limit holds over TLS as over ipc and tcp: a request of
 * 60 KiB is read and refused for what it says, one of 80 KiB is dropped
 * unread with the connection that sent it, and the client's other
 * connection goes on being served.
 */
static void
oversized_request_over_tls_is_dropped_and_others_served(void **state)
{
	fixture *f = *state;
	size_t len = 80 * 1024;
	char *name = malloc(len + 1);
	enrt_app_params params = {.name = name,
	    .set_policy = true,
	    .policy = ENRT_POLICY_AUTHENTICATED_USERS,
	    .system_user = "svc-tls"};
	enrt_client *c = NULL;
	enrt_app *app = NULL;
	enrt_error e;

	assert_non_null(name);
	memset(name, 'n', len);
	name[60 * 1024] = '\0';
	assert_status(open_tls(f, f->p.ca_cert, NULL, SHORT_TIMEOUT, &c, &e),
	    ENRT_OK, &e);
	assert_status(
	    enrt_app_create(c, &params, &app, &e), ENRT_INVALID_ARGUMENT, &e);
	assert_contains(e.message, "name: at most 128 bytes");

	name[60 * 1024] = 'n';
	name[len] = '\0';
	assert_status(
	    enrt_app_create(c, &params, &app, &e), ENRT_UNAVAILABLE, &e);
	assert_null(app);
	enrt_client_close(c);

	enrt_app_free(make_app(f->tls, "after an oversized request"));
	assert_int_equal(server_app_named(f->tls, name), 0);
	free(name);
}

static void
tls_without_ca_is_refused(void **state)
{
	fixture *f = *state;
	enrt_client *c = NULL;
	enrt_error e;

	assert_status(
	    open_tls(f, NULL, NULL, 0, &c, &e), ENRT_INVALID_ARGUMENT, &e);
	assert_null(c);
	assert_contains(e.message, "tls_ca_file");
	assert_contains(e.message, "tls+tcp://");
}

static void
unloadable_ca_file_is_refused_by_name(void **state)
{
	fixture *f = *state;
	char missing[TLS_PATH_MAX + 16];
	enrt_client *c = NULL;
	enrt_error e;

	snprintf(missing, sizeof(missing), "%s/no-such.crt", f->srv.root);
	assert_status(
	    open_tls(f, missing, NULL, 0, &c, &e), ENRT_INVALID_ARGUMENT, &e);
	assert_null(c);
	assert_contains(e.message, "tls_ca_file");
	assert_contains(e.message, missing);

	assert_status(open_tls(f, f->p.server_key, NULL, 0, &c, &e),
	    ENRT_INVALID_ARGUMENT, &e);
	assert_null(c);
	assert_contains(e.message, f->p.server_key);
}

static void
tls_fields_with_a_plain_url_are_refused(void **state)
{
	fixture *f = *state;
	enrt_options o = {
	    .url = f->srv.ipc_url,
	    .credential = f->srv.credential,
	    .tls_ca_file = f->p.ca_cert,
	};
	enrt_client *c = NULL;
	enrt_error e;

	assert_status(enrt_client_open(&c, &o, &e), ENRT_INVALID_ARGUMENT, &e);
	assert_null(c);
	assert_contains(e.message, "tls_ca_file");
}

/* ------------------------------------------------------------------ */
/* enrtd's rules for listening                                         */

/*
 * Starts enrtd on a data directory that must not come to exist, with
 * one more --listen URL and flags; it must exit 1 before serving, with
 * its reason on standard error.
 */
static char *
refused_start(fixture *f, const char *url, const char *const flags[])
{
	char bin[SERVER_PATH_MAX];
	char data[TLS_PATH_MAX];
	const char *argv[COMMAND_ARGS] = {
	    bin, "--data", data, "--listen", url};
	struct stat st;
	size_t n = 5;

	snprintf(bin, sizeof(bin), "%s/enrtd", getenv("ENRT_BIN_DIR"));
	snprintf(data, sizeof(data), "%s/refused-data", f->srv.root);
	for (size_t i = 0; flags != NULL && flags[i] != NULL; i++) {
		argv[n++] = flags[i];
	}

	assert_int_equal(run(&f->p, argv, NULL), 1);
	assert_int_equal(lstat(data, &st), -1);
	return read_text(f->p.err);
}

static void
enrtd_refuses_plain_tcp_beyond_loopback(void **state)
{
	fixture *f = *state;
	const char *const urls[] = {"tcp://0.0.0.0:%d", "tcp://*:%d",
	    "tcp://:%d", "tcp://[::]:%d", "tcp4://0.0.0.0:%d",
	    "tcp://192.0.2.1:%d", "tcp://127.0.0.1.example:%d"};
	int port = server_free_port();
	char url[64];
	char *err;

	assert_true(port > 0);
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		snprintf(url, sizeof(url), urls[i], port);
		err = refused_start(f, url, NULL);
		assert_contains(err, url);
		assert_contains(err, "only for loopback");
		assert_contains(err, "--insecure-tcp");
		free(err);
	}
}

/* A URL no client could reach, or one nng would refuse late. */
static void
enrtd_refuses_tcp_urls_without_one_port_or_with_a_path(void **state)
{
	fixture *f = *state;
	const char *const urls[] = {"tcp://127.0.0.1",
	    "tcp://127.0.0.1:", "tcp://127.0.0.1:0", "tcp://127.0.0.1:65536",
	    "tcp://127.0.0.1:7x", "tcp://127.0.0.1:+7600",
	    "tcp://127.0.0.1:07600", "tls+tcp://127.0.0.1"};
	char url[64];
	char *err;

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		err = refused_start(f, urls[i], NULL);
		assert_contains(err, urls[i]);
		assert_contains(err, "a port from 1 to 65535");
		free(err);
	}
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d/x", server_free_port());
	err = refused_start(f, url, NULL);
	assert_contains(err, "nothing may follow HOST:PORT");
	free(err);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d?x", server_free_port());
	err = refused_start(f, url, NULL);
	assert_contains(err, "nothing may follow HOST:PORT");
	free(err);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d#f", server_free_port());
	err = refused_start(f, url, NULL);
	assert_contains(err, "nothing may follow HOST:PORT");
	free(err);
}

static void
enrtd_refuses_tls_without_certificate(void **state)
{
	fixture *f = *state;
	const char *const key_only[] = {"--tls-key", f->p.server_key, NULL};
	char url[64];
	char *err;

	snprintf(
	    url, sizeof(url), "tls+tcp://127.0.0.1:%d", server_free_port());
	err = refused_start(f, url, NULL);
	assert_contains(err, "needs a certificate and a key");
	free(err);

	err = refused_start(f, url, key_only);
	assert_contains(err, "give both or neither");
	free(err);
}

/* A certificate or key that cannot be loaded is named, with nng's error. */
static void
enrtd_names_the_tls_file_it_cannot_load(void **state)
{
	fixture *f = *state;
	const char *const key_as_cert[] = {
	    "--tls-cert", f->p.server_key, "--tls-key", f->p.server_key, NULL};
	const char *const cert_as_key[] = {"--tls-cert", f->p.server_cert,
	    "--tls-key", f->p.server_cert, NULL};
	const char *const missing[] = {"--tls-cert", f->p.server_cert,
	    "--tls-key", "/nonexistent/server.key", NULL};
	char url[64];
	char *err;

	snprintf(
	    url, sizeof(url), "tls+tcp://127.0.0.1:%d", server_free_port());
	err = refused_start(f, url, key_as_cert);
	assert_contains(err, "--tls-cert");
	assert_contains(err, f->p.server_key);
	assert_contains(err, "nng: ");
	free(err);

	err = refused_start(f, url, cert_as_key);
	assert_contains(err, "--tls-key");
	assert_contains(err, f->p.server_cert);
	assert_contains(err, "nng: ");
	free(err);

	err = refused_start(f, url, missing);
	assert_contains(err, "/nonexistent/server.key");
	assert_contains(err, "No such file");
	free(err);
}

/* Loopback by name and anywhere in 127.0.0.0/8, without --insecure-tcp. */
static void
enrtd_serves_plain_tcp_on_loopback(void **state)
{
	const char *const hosts[] = {"localhost", "127.0.0.2"};
	server s;
	char *log;

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		assert_int_equal(server_init(&s, false, 0), 0);
		if (server_add_tcp(&s, hosts[i]) != 0 ||
		    server_start(&s) != 0) {
			server_destroy(&s);
			fail_msg("enrtd did not serve %s", s.tcp_url);
		}
		log = read_text(s.log);
		assert_contains(log, "event=listening url=tcp://");
		assert_null(strstr(log, "listening_in_clear"));
		free(log);
		assert_int_equal(server_stop(&s), 0);
		server_destroy(&s);
	}
}

static void
enrtd_serves_every_interface_with_insecure_tcp(void **state)
{
	server s;
	enrt_client *c = NULL;
	enrt_app_page *page = NULL;
	char url[SERVER_URL_MAX];
	char *log;
	enrt_error e;

	assert_int_equal(server_init(&s, false, 0), 0);
	s.insecure_tcp = true;
	if (server_add_tcp(&s, "0.0.0.0") != 0 || server_start(&s) != 0) {
		server_destroy(&s);
		fail_msg("enrtd did not serve %s", s.tcp_url);
	}

	log = read_text(s.log);
	assert_contains(log, "event=listening_in_clear url=tcp://0.0.0.0:");
	free(log);

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%s",
	    strrchr(s.tcp_url, ':') + 1);
	assert_int_equal(server_client(&s, url, NULL, &c), 0);
	assert_status(enrt_app_list(c, NULL, 0, &page, &e), ENRT_OK, &e);
	enrt_app_page_free(page);
	enrt_client_close(c);
	assert_int_equal(server_stop(&s), 0);
	server_destroy(&s);
}

/* ------------------------------------------------------------------ */
/* The CLI over tls+tcp://                                             */

static void
cli_path(char out[SERVER_PATH_MAX])
{
	snprintf(out, SERVER_PATH_MAX, "%s/enrt", getenv("ENRT_BIN_DIR"));
}

static void
cli_round_trip_over_tls(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(f->tls, "tls cli");
	char bin[SERVER_PATH_MAX];
	const char *before[] = {bin, "--url", f->srv.tls_url,
	    "--credential-file", f->p.credential_file, "--tls-ca",
	    f->p.ca_cert, "--json", "app", "show", app->id, NULL};
	const char *after[] = {bin, "app", "show", app->id, "--url",
	    f->srv.tls_url, "--tls-server-name", "localhost", "--tls-ca",
	    f->p.ca_cert, "--credential-file", f->p.credential_file, NULL};
	char *out;

	cli_path(bin);
	assert_int_equal(run(&f->p, before, NULL), 0);
	out = read_text(f->p.out);
	assert_contains(out, app->id);
	assert_contains(out, "\"tls cli\"");
	free(out);

	assert_int_equal(run(&f->p, after, NULL), 0);
	out = read_text(f->p.out);
	assert_contains(out, app->id);
	free(out);
	enrt_app_free(app);
}

static void
cli_takes_the_ca_from_the_environment(void **state)
{
	fixture *f = *state;
	char bin[SERVER_PATH_MAX];
	const char *argv[] = {bin, "--url", f->srv.tls_url,
	    "--credential-file", f->p.credential_file, "--timeout", "2000",
	    "app", "list", NULL};
	char *err;

	cli_path(bin);
	assert_int_equal(run(&f->p, argv, f->p.ca_cert), 0);

	assert_int_equal(run(&f->p, argv, f->p.other_ca_cert), 1);
	err = read_text(f->p.err);
	assert_contains(err, "UNAVAILABLE: ");
	free(err);
}

static void
cli_needs_a_ca_for_tls(void **state)
{
	fixture *f = *state;
	char bin[SERVER_PATH_MAX];
	const char *no_ca[] = {bin, "--url", f->srv.tls_url,
	    "--credential-file", f->p.credential_file, "app", "list", NULL};
	const char *plain[] = {bin, "--url", f->srv.ipc_url,
	    "--credential-file", f->p.credential_file, "app", "list",
	    "--tls-ca", f->p.ca_cert, NULL};
	char *err;

	cli_path(bin);
	assert_int_equal(run(&f->p, no_ca, NULL), 2);
	err = read_text(f->p.err);
	assert_contains(err, "--tls-ca: required");
	free(err);

	assert_int_equal(run(&f->p, plain, NULL), 2);
	err = read_text(f->p.err);
	assert_contains(err, "only with a tls+tcp:// --url");
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tls_round_trip_issues_and_introspects),
	    cmocka_unit_test(tls_server_name_can_differ_from_the_url_host),
	    cmocka_unit_test(wrong_ca_is_unavailable_and_never_answered),
	    cmocka_unit_test(wrong_server_name_is_unavailable),
	    cmocka_unit_test(tls_without_ca_is_refused),
	    cmocka_unit_test(unloadable_ca_file_is_refused_by_name),
	    cmocka_unit_test(tls_fields_with_a_plain_url_are_refused),
	    cmocka_unit_test(enrtd_refuses_plain_tcp_beyond_loopback),
	    cmocka_unit_test(
	        enrtd_refuses_tcp_urls_without_one_port_or_with_a_path),
	    cmocka_unit_test(enrtd_refuses_tls_without_certificate),
	    cmocka_unit_test(enrtd_names_the_tls_file_it_cannot_load),
	    cmocka_unit_test(enrtd_serves_plain_tcp_on_loopback),
	    cmocka_unit_test(enrtd_serves_every_interface_with_insecure_tcp),
	    cmocka_unit_test(cli_round_trip_over_tls),
	    cmocka_unit_test(cli_takes_the_ca_from_the_environment),
	    cmocka_unit_test(cli_needs_a_ca_for_tls),
	    /*
	     * Last: after the server drops a TLS connection, nng 1.5 can
	     * stall its reaper in this process, and every later close then
	     * waits out libenrt's bound (enrt_client_close).
	     */
	    cmocka_unit_test(
	        oversized_request_over_tls_is_dropped_and_others_served),
	};

	return cmocka_run_group_tests(tests, start_shared, stop_shared);
}
