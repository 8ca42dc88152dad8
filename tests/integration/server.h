/*
 * A real enrtd for the integration tests, run as a child process on a
 * data directory of its own in a fresh temporary directory.
 *
 * The layout under the temporary directory (root):
 *
 *     root/enrt-data/        the --data directory
 *     root/enrt-data/enrt.sock   the ipc:// socket
 *     root/enrtd.log         the server's stdout and stderr
 *
 * A test may call server_add_tcp or server_add_tls, and set
 * insecure_tcp, between server_init and server_start.
 *
 * Every wait is bounded and polls: nothing here sleeps in place of
 * checking.  Functions return 0 on success and -1 on failure, after
 * printing to stderr what went wrong (with the end of the server's log
 * when the server is at fault), so that a test asserts on the result.
 */
#ifndef ENRT_TEST_SERVER_H
#define ENRT_TEST_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

#include "enrt.h"

#define SERVER_PATH_MAX  256
#define SERVER_URL_MAX   (SERVER_PATH_MAX + 16)
#define SERVER_EXTRA_MAX 8

typedef struct server {
	char root[64];              /* the temporary directory */
	char data[SERVER_PATH_MAX]; /* root/enrt-data */
	char log[SERVER_PATH_MAX];  /* root/enrtd.log */
	char ipc_url[SERVER_URL_MAX];
	char tcp_url[SERVER_URL_MAX]; /* "" without tcp */
	char tls_url[SERVER_URL_MAX]; /* "" without tls+tcp */
	const char *tcp_host;         /* for tcp_url; NULL: 127.0.0.1 */
	bool insecure_tcp;            /* start with --insecure-tcp */
	const char *tls_cert;         /* --tls-cert, with a tls_url */
	const char *tls_key;          /* --tls-key, with a tls_url */
	const char *tls_ca; /* what the start-up probe of tls_url trusts */
	char credential[ENRT_TOKEN_LEN + 1]; /* the admin credential */
	int flush_interval; /* seconds; 0: the server's default */
	char http[64];      /* --http HOST:PORT; "" for none */
	const char *extra[SERVER_EXTRA_MAX + 1]; /* more of enrtd's
	                                            arguments, NULL-ended */
	pid_t pid;                               /* 0 while not running */
} server;

/*
 * Makes the temporary directory and fills s; starts nothing.  With tcp,
 * the server will also listen on tcp://127.0.0.1 at a port that was free
 * when it was picked (never 7600).  flush_interval 0 leaves the
 * server's default.
 */
int server_init(server *s, bool tcp, int flush_interval);

/*
 * Makes the server listen on tcp://host (not 127.0.0.1, as server_init
 * would) at a free port.
 */
int server_add_tcp(server *s, const char *host);

/*
 * Makes the server also listen on tls+tcp://127.0.0.1 at a free port,
 * with the certificate and key given, and has the start-up probe check
 * the server's certificate against ca.
 */
int server_add_tls(
    server *s, const char *cert, const char *key, const char *ca);

/*
 * Makes the server also serve /healthz and /metrics (--http) on
 * 127.0.0.1 at a free port, written to s->http.
 */
int server_add_http(server *s);

/*
 * A port on 127.0.0.1 that was free when it was picked (never 7600), or
 * -1.
 */
int server_free_port(void);

/*
 * Starts $ENRT_BIN_DIR/enrtd on s->data, waits until admin.credential
 * is complete and the server answers on every URL, and reads the
 * credential into s->credential.  Also used to restart on the same
 * directory after server_stop or server_kill.
 */
int server_start(server *s);

/* SIGTERM, then waits for the exit; -1 unless the exit status is 0. */
int server_stop(server *s);

/* The same with another signal, such as SIGINT. */
int server_stop_with(server *s, int sig);

/* SIGKILL, then waits for the process to be gone. */
int server_kill(server *s);

/* Kills the server if it runs and removes the temporary directory. */
void server_destroy(server *s);

/*
 * Opens a libenrt client on url with s->credential (or credential when
 * it is not NULL) and a 10 second timeout.
 */
int server_client(const server *s, const char *url, const char *credential,
    enrt_client **client);

/*
 * Whether value introspects active through c: 1 or 0, or -1 (printed)
 * when the call fails.
 */
int server_active(enrt_client *c, const char *value);

/*
 * Whether an app of this name is among the first 1000 that c lists: 1
 * or 0, or -1 (printed) when the call fails.
 */
int server_app_named(enrt_client *c, const char *name);

/*
 * For cmocka tests: asserts that a libenrt call returned want, printing
 * the status and the message of the enrt_error e when it did not.
 */
#define assert_status(got, want, e)                                     \
	do {                                                            \
		enrt_status got_ = (got);                               \
		if (got_ != (want)) {                                   \
			print_error("%s: %s\n", enrt_status_name(got_), \
			    (e)->message);                              \
		}                                                       \
		assert_int_equal(got_, want);                           \
	} while (0)

/*
 * Reads a whole file into a malloc'd buffer (NUL-terminated, *len bytes
 * before the NUL).  Returns NULL when it cannot.
 */
char *server_read_file(const char *path, size_t *len);

#endif /* ENRT_TEST_SERVER_H */
