/*
 * The ipc listener watch (see ipcwatch.h for why it exists).  Each watch
 * owns one thread that sleeps on a condition variable between probes, so
 * that stopping it is prompt; the thread is the only one that touches
 * the listener after ipcwatch_start.
 */
#include "ipcwatch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nng/protocol/reqrep0/req.h>

#include "clock.h"
#include "log.h"

#define PROBE_EVERY_MS     500
#define PROBE_TIMEOUT_SECS 1
#define SILENT_PROBES_MAX  2
#define IPC_SCHEME         "ipc://"

struct ipcwatch {
	nng_socket sock;
	nng_listener listener; /* the thread's alone */
	char url[512];

	pthread_t thread;
	pthread_mutex_t mtx;
	pthread_cond_t wake;
	bool stopping; /* mtx */
};

/* A unix socket connected to path, with timeouts; -1 if none answers. */
static int
connect_path(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = PROBE_TIMEOUT_SECS};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path) ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool
send_all(int fd, const uint8_t *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len;
}

static bool
recv_all(int fd, uint8_t *buf, size_t len)
{
	return recv(fd, buf, len, MSG_WAITALL) == (ssize_t)len;
}

/* Exchanges SP greetings as a req0 peer. */
static bool
greet(int fd)
{
	static const uint8_t hello[8] = {0, 'S', 'P', 0, 0, NNG_REQ0_SELF};
	uint8_t peer[8];

	return send_all(fd, hello, sizeof(hello)) &&
	       recv_all(fd, peer, sizeof(peer)) &&
	       memcmp(peer, "\0SP\0", 4) == 0;
}

/*
 * Sends one ping (a request with an empty body, which the transport
 * answers itself) and reads the reply's frame and request id.  nng's ipc
 * frames are a type byte (1) and a 64-bit big-endian length; a req0 message
 * starts with its 32-bit request id, high bit set, which the reply carries
 * back.
 */
static bool
round_trip(int fd)
{
	static const uint8_t request[13] = {
	    1, 0, 0, 0, 0, 0, 0, 0, 4, 0x80, 'e', 'n', 'w'};
	uint8_t frame[9], id[4];

	return send_all(fd, request, sizeof(request)) &&
	       recv_all(fd, frame, sizeof(frame)) && frame[0] == 1 &&
	       recv_all(fd, id, sizeof(id)) && memcmp(id, request + 9, 4) == 0;
}

ipcwatch_probe
ipcwatch_probe_path(const char *path)
{
	ipcwatch_probe result = IPCWATCH_SILENT;
	int fd = connect_path(path);

	if (fd < 0) {
		return IPCWATCH_NOBODY;
	}
	if (greet(fd) && round_trip(fd)) {
		result = IPCWATCH_SERVED;
	}
	close(fd);
	return result;
}

bool
ipcwatch_needed(void)
{
	int major = 0;
	int minor = 0;

	if (sscanf(nng_version(), "%d.%d", &major, &minor) != 2) {
		return true;
	}
	return major < 1 || (major == 1 && minor < 6);
}

/* Sleeps until the next probe; false once the watch is stopping. */
static bool
wait_next(ipcwatch *w)
{
	struct timespec at;
	bool stopping;

	clock_deadline(&at, PROBE_EVERY_MS);

	pthread_mutex_lock(&w->mtx);
	if (!w->stopping) {
		pthread_cond_timedwait(&w->wake, &w->mtx, &at);
	}
	stopping = w->stopping;
	pthread_mutex_unlock(&w->mtx);
	return !stopping;
}

static void
relisten(ipcwatch *w)
{
	int rv;

	nng_listener_close(w->listener);
	rv = nng_listen(w->sock, w->url, &w->listener, 0);
	if (rv != 0) {
		log_error("ipc_listener_lost", "url=%s error=\"%s\"", w->url,
		    nng_strerror(rv));
		return;
	}
	log_warn("ipc_listener_restarted",
	    "url=%s reason=\"it stopped "
	    "accepting (nng issue 1518)\"",
	    w->url);
}

static void *
watch(void *arg)
{
	ipcwatch *w = arg;
	const char *path = w->url + strlen(IPC_SCHEME);
	int silent = 0;

	while (wait_next(w)) {
		if (ipcwatch_probe_path(path) == IPCWATCH_SERVED) {
			silent = 0;
		} else if (++silent >= SILENT_PROBES_MAX) {
			relisten(w);
			silent = 0;
		}
	}
	return NULL;
}

enrt_status
ipcwatch_start(
    ipcwatch **out, nng_socket sock, const char *url, nng_listener l, err *e)
{
	ipcwatch *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (w == NULL || strlen(url) >= sizeof(w->url)) {
		free(w);
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "listen %s: cannot watch this URL", url);
	}
	w->sock = sock;
	w->listener = l;
	snprintf(w->url, sizeof(w->url), "%s", url);
	pthread_mutex_init(&w->mtx, NULL);
	clock_cond_init(&w->wake);

	if (pthread_create(&w->thread, NULL, watch, w) != 0) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->mtx);
		free(w);
		return err_set(e, ENRT_INTERNAL,
		    "listen %s: cannot start the listener watch", url);
	}
	*out = w;
	return ENRT_OK;
}

void
ipcwatch_stop(ipcwatch *w)
{
	if (w == NULL) {
		return;
	}
	pthread_mutex_lock(&w->mtx);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mtx);

	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->mtx);
	free(w);
}
