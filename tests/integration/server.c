/*
 * The integration tests' enrtd: forks and execs the built server on a
 * temporary data directory, waits for it by polling (the credential file
 * and a real request and reply on every URL), stops it with SIGTERM or
 * SIGKILL and removes what it left.  Runs on the test's main thread; the
 * child's stdout and stderr go to a log file beside the data directory,
 * so that the tests can read it and a failure can show its end.
 */
#define _GNU_SOURCE /* nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include "server.h"

#define START_TIMEOUT_MS 20000
#define STOP_TIMEOUT_MS  20000
#define PROBE_TIMEOUT_MS 1000
#define POLL_MS          20
#define START_TRIES      3
#define LOG_TAIL         4000
#define ARGS_MAX         32

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("server: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return -1;
}

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

/* The end of the server's log, where the reason for a failure is. */
static void
show_log_tail(const server *s)
{
	size_t len = 0;
	char *text = server_read_file(s->log, &len);

	if (text == NULL) {
		return;
	}
	fprintf(stderr, "--- end of %s ---\n%s\n---\n", s->log,
	    len > LOG_TAIL ? text + len - LOG_TAIL : text);
	free(text);
}

char *
server_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;

	if (f == NULL) {
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)size + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)size, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Setting up                                                          */

/*
 * A port the kernel just handed out is free unless another process takes
 * it before the server binds; server_start picks again if that happens.
 */
int
server_free_port(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;

	if (fd < 0) {
		return fail("socket: %s", strerror(errno));
	}
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&addr, &len) == 0) {
		port = ntohs(addr.sin_port);
	}
	close(fd);
	if (port <= 0 || port == 7600) {
		return fail("no free tcp port on 127.0.0.1");
	}
	return port;
}

static int
set_tcp_url(server *s)
{
	const char *host = s->tcp_host != NULL ? s->tcp_host : "127.0.0.1";
	int port = server_free_port();

	if (port < 0) {
		return -1;
	}
	snprintf(s->tcp_url, sizeof(s->tcp_url), "tcp://%s:%d", host, port);
	return 0;
}

static int
set_tls_url(server *s)
{
	int port = server_free_port();

	if (port < 0) {
		return -1;
	}
	snprintf(
	    s->tls_url, sizeof(s->tls_url), "tls+tcp://127.0.0.1:%d", port);
	return 0;
}

static int
set_http(server *s)
{
	int port = server_free_port();

	if (port < 0) {
		return -1;
	}
	snprintf(s->http, sizeof(s->http), "127.0.0.1:%d", port);
	return 0;
}

int
server_add_http(server *s)
{
	return set_http(s);
}

int
server_add_tcp(server *s, const char *host)
{
	s->tcp_host = host;
	return set_tcp_url(s);
}

int
server_add_tls(server *s, const char *cert, const char *key, const char *ca)
{
	s->tls_cert = cert;
	s->tls_key = key;
	s->tls_ca = ca;
	return set_tls_url(s);
}

/* New ports after a start that failed, perhaps on a port taken since. */
static bool
repick_ports(server *s)
{
	bool tcp = s->tcp_url[0] != '\0';
	bool tls = s->tls_url[0] != '\0';
	bool http = s->http[0] != '\0';

	if (!tcp && !tls && !http) {
		return false;
	}
	return (!tcp || set_tcp_url(s) == 0) &&
	       (!tls || set_tls_url(s) == 0) && (!http || set_http(s) == 0);
}

int
server_init(server *s, bool tcp, int flush_interval)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->root, sizeof(s->root), "/tmp/enrt-integ-XXXXXX");
	if (mkdtemp(s->root) == NULL) {
		return fail("mkdtemp: %s", strerror(errno));
	}

	snprintf(s->data, sizeof(s->data), "%s/enrt-data", s->root);
	snprintf(s->log, sizeof(s->log), "%s/enrtd.log", s->root);
	snprintf(
	    s->ipc_url, sizeof(s->ipc_url), "ipc://%s/enrt.sock", s->data);
	s->flush_interval = flush_interval;
	return tcp ? set_tcp_url(s) : 0;
}

/* ------------------------------------------------------------------ */
/* Starting                                                            */

typedef struct args {
	char *v[ARGS_MAX];
	char path[SERVER_PATH_MAX];
	char flush[16];
} args;

static int
make_args(const server *s, args *a)
{
	const char *bin = getenv("ENRT_BIN_DIR");
	size_t n = 0;

	if (bin == NULL || bin[0] == '\0') {
		return fail("ENRT_BIN_DIR is not set");
	}
	snprintf(a->path, sizeof(a->path), "%s/enrtd", bin);
	a->v[n++] = a->path;
	a->v[n++] = "--data";
	a->v[n++] = (char *)s->data;
	a->v[n++] = "--listen";
	a->v[n++] = (char *)s->ipc_url;
	if (s->tcp_url[0] != '\0') {
		a->v[n++] = "--listen";
		a->v[n++] = (char *)s->tcp_url;
	}
	if (s->insecure_tcp) {
		a->v[n++] = "--insecure-tcp";
	}
	if (s->tls_url[0] != '\0') {
		a->v[n++] = "--listen";
		a->v[n++] = (char *)s->tls_url;
		a->v[n++] = "--tls-cert";
		a->v[n++] = (char *)s->tls_cert;
		a->v[n++] = "--tls-key";
		a->v[n++] = (char *)s->tls_key;
	}
	if (s->flush_interval > 0) {
		snprintf(a->flush, sizeof(a->flush), "%d", s->flush_interval);
		a->v[n++] = "--flush-interval";
		a->v[n++] = a->flush;
	}
	if (s->http[0] != '\0') {
		a->v[n++] = "--http";
		a->v[n++] = (char *)s->http;
	}
	for (size_t i = 0; i < SERVER_EXTRA_MAX && s->extra[i] != NULL; i++) {
		a->v[n++] = (char *)s->extra[i];
	}
	a->v[n++] = "--log-level";
	a->v[n++] = "debug";
	a->v[n] = NULL;
	return 0;
}

/*
 * Between fork and exec only async-signal-safe calls are made.  The
 * server dies with the test's thread that started it, so that a test
 * that crashes leaves no server behind.
 */
static void
exec_child(const server *s, args *a)
{
	int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
	    dup2(fd, STDERR_FILENO) < 0) {
		_exit(126);
	}
	close(fd);
	execv(a->path, a->v);
	_exit(127);
}

static int
spawn(server *s)
{
	args a;
	pid_t pid;

	if (make_args(s, &a) != 0) {
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		return fail("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		exec_child(s, &a);
	}
	s->pid = pid;
	return 0;
}

/* True, with the credential read, once the file is complete. */
static bool
credential_ready(server *s)
{
	char path[SERVER_PATH_MAX + 32];
	size_t len = 0;
	char *text;
	bool ready;

	snprintf(path, sizeof(path), "%s/admin.credential", s->data);
	if ((text = server_read_file(path, &len)) == NULL) {
		return false;
	}
	ready = len == ENRT_TOKEN_LEN + 1 && text[ENRT_TOKEN_LEN] == '\n' &&
	        enrt_credential_check(text, ENRT_TOKEN_LEN);
	if (ready) {
		memcpy(s->credential, text, ENRT_TOKEN_LEN);
		s->credential[ENRT_TOKEN_LEN] = '\0';
	}
	free(text);
	return ready;
}

/*
 * Dials url, over TLS verifying the server against ca (nng's own TLS
 * settings then expect the URL's host as the certificate's name).
 */
static int
dial(nng_socket sock, const char *url, const char *ca)
{
	nng_dialer d;
	int rv;

	if (ca == NULL) {
		return nng_dial(sock, url, NULL, 0);
	}
	if ((rv = nng_dialer_create(&d, sock, url)) != 0 ||
	    (rv = nng_dialer_set_string(d, NNG_OPT_TLS_CA_FILE, ca)) != 0) {
		return rv;
	}
	return nng_dialer_start(d, 0);
}

/*
 * One request and one reply on url: an empty message, which the server
 * answers with an empty reply.  Any reply at all means it is serving.
 */
static bool
answers(const char *url, const char *ca)
{
	nng_socket sock;
	nng_msg *msg = NULL;
	bool ok = false;

	if (nng_req0_open(&sock) != 0) {
		return false;
	}
	nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, PROBE_TIMEOUT_MS);
	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, PROBE_TIMEOUT_MS);
	if (dial(sock, url, ca) == 0 && nng_msg_alloc(&msg, 0) == 0) {
		if (nng_sendmsg(sock, msg, 0) != 0) {
			nng_msg_free(msg);
		} else if (nng_recvmsg(sock, &msg, 0) == 0) {
			nng_msg_free(msg);
			ok = true;
		}
	}
	nng_close(sock);
	return ok;
}

static bool
serving(server *s)
{
	return credential_ready(s) && answers(s->ipc_url, NULL) &&
	       (s->tcp_url[0] == '\0' || answers(s->tcp_url, NULL)) &&
	       (s->tls_url[0] == '\0' || answers(s->tls_url, s->tls_ca));
}

static int
report_exit(server *s, int status)
{
	s->pid = 0;
	show_log_tail(s);
	if (WIFEXITED(status)) {
		return fail("enrtd exited with %d", WEXITSTATUS(status));
	}
	return fail("enrtd died of signal %d",
	    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* 1 when serving, 0 when the child exited (reaped), -1 on timeout. */
static int
wait_serving(server *s, int *status)
{
	int64_t deadline = now_ms() + START_TIMEOUT_MS;

	while (now_ms() < deadline) {
		if (waitpid(s->pid, status, WNOHANG) == s->pid) {
			return 0;
		}
		if (serving(s)) {
			return 1;
		}
		pause_ms(POLL_MS);
	}
	return -1;
}

int
server_start(server *s)
{
	int status = 0;
	int ready = 0;

	for (int try = 0; try < START_TRIES && ready == 0; try++) {
		if (try > 0 && !repick_ports(s)) {
			break;
		}
		if (spawn(s) != 0) {
			return -1;
		}
		ready = wait_serving(s, &status);
	}

	if (ready == 0) {
		return report_exit(s, status);
	}
	if (ready < 0) {
		show_log_tail(s);
		server_kill(s);
		return fail(
		    "enrtd did not serve within %d ms", START_TIMEOUT_MS);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Stopping                                                            */

/* Waits for the child up to timeout_ms; true with its status if gone. */
static bool
reap(server *s, int timeout_ms, int *status)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline) {
		if (waitpid(s->pid, status, WNOHANG) == s->pid) {
			s->pid = 0;
			return true;
		}
		pause_ms(POLL_MS);
	}
	return false;
}

int
server_stop(server *s)
{
	return server_stop_with(s, SIGTERM);
}

int
server_stop_with(server *s, int sig)
{
	int status = 0;

	if (s->pid <= 0) {
		return fail("stop: enrtd is not running");
	}
	kill(s->pid, sig);
	if (!reap(s, STOP_TIMEOUT_MS, &status)) {
		show_log_tail(s);
		server_kill(s);
		return fail("enrtd did not stop within %d ms of signal %d",
		    STOP_TIMEOUT_MS, sig);
	}

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		return report_exit(s, status);
	}
	return 0;
}

int
server_kill(server *s)
{
	int status = 0;

	if (s->pid <= 0) {
		return fail("kill: enrtd is not running");
	}
	kill(s->pid, SIGKILL);
	if (waitpid(s->pid, &status, 0) != s->pid) {
		return fail("waitpid: %s", strerror(errno));
	}
	s->pid = 0;
	return 0;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

void
server_destroy(server *s)
{
	if (s == NULL) {
		return;
	}
	if (s->pid > 0) {
		server_kill(s);
	}
	if (s->root[0] != '\0' &&
	    nftw(s->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		fail("cannot remove %s: %s", s->root, strerror(errno));
	}
}

int
server_client(const server *s, const char *url, const char *credential,
    enrt_client **client)
{
	enrt_options options = {
	    .url = url,
	    .credential = credential != NULL ? credential : s->credential,
	    .timeout_ms = 10000,
	};
	enrt_error err;

	if (enrt_client_open(client, &options, &err) != ENRT_OK) {
		return fail("client on %s: %s: %s", url,
		    enrt_status_name(err.status), err.message);
	}
	return 0;
}

int
server_active(enrt_client *c, const char *value)
{
	enrt_introspection *r = NULL;
	enrt_error e;
	int is;

	if (enrt_introspect(c, value, strlen(value), &r, &e) != ENRT_OK) {
		fprintf(stderr, "introspect: %s: %s\n",
		    enrt_status_name(e.status), e.message);
		return -1;
	}
	is = r->active ? 1 : 0;
	enrt_introspection_free(r);
	return is;
}

int
server_app_named(enrt_client *c, const char *name)
{
	enrt_app_page *page = NULL;
	enrt_error e;
	int found = 0;

	if (enrt_app_list(c, NULL, 1000, &page, &e) != ENRT_OK) {
		fprintf(stderr, "app list: %s: %s\n",
		    enrt_status_name(e.status), e.message);
		return -1;
	}
	for (size_t i = 0; i < page->n_apps; i++) {
		found |= strcmp(page->apps[i].name, name) == 0;
	}
	enrt_app_page_free(page);
	return found;
}
