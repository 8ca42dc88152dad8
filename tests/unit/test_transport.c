/*
 * The transport against real nng req0 clients over ipc:// in a temporary
 * directory: replies reach the right client under concurrency, oversized
 * and dropped requests get no reply while others are served, replies
 * given later from other threads reach their clients (and wait for no
 * thread meanwhile), stopping lets requests in progress finish, and
 * listening fails cleanly.
 *
 * Client threads never call cmocka's assertions (they are not thread
 * safe); they record what they saw and the main thread asserts.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "transport.h"

#define REPLY_PREFIX  "re:"
#define CLIENTS       8
#define ROUNDS        40
#define LONG_WAIT_MS  10000
#define SHORT_WAIT_MS 500

#define HELD_MAX 32

/* A reply the handler keeps back, to give later from another thread. */
typedef struct held {
	transport_request *req;
	uint8_t *out;
	size_t len;
} held;

typedef struct harness {
	char dir[64];
	char url[160];
	char path[128];
	transport *t;
	unsigned contexts; /* 0: 4 */

	pthread_mutex_t mtx;
	pthread_cond_t cond;
	int entered;       /* handler calls begun */
	unsigned delay_ms; /* how long each handler call takes */
	bool defer;        /* keep replies back in held */
	bool answer_aside; /* reply from another thread before returning */
	held held[HELD_MAX];
	int n_held;
} harness;

/* The echo of in: REPLY_PREFIX and the request's bytes. */
static uint8_t *
echo_of(const uint8_t *in, size_t len, size_t *out_len)
{
	size_t plen = strlen(REPLY_PREFIX);
	uint8_t *out = malloc(plen + len);

	if (out != NULL) {
		memcpy(out, REPLY_PREFIX, plen);
		memcpy(out + plen, in, len);
	}
	*out_len = plen + len;
	return out;
}

static void
hold(harness *h, transport_request *req, uint8_t *out, size_t len)
{
	pthread_mutex_lock(&h->mtx);
	h->held[h->n_held++] = (held){req, out, len};
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->mtx);
}

static void *
answer_main(void *arg)
{
	held *r = arg;

	transport_reply(r->req, r->out, r->len);
	return NULL;
}

/*
 * Answers on a thread of its own, and returns only once that thread has,
 * so that the reply comes while the handler still runs.
 */
static void
answer_aside(transport_request *req, uint8_t *out, size_t len)
{
	held r = {req, out, len};
	pthread_t thread;

	if (pthread_create(&thread, NULL, answer_main, &r) != 0) {
		transport_reply(req, out, len);
		return;
	}
	pthread_join(thread, NULL);
}

/*
 * Echoes with a prefix; drops requests that start with "drop"; keeps
 * the reply back when deferring.
 */
static void
echo(void *arg, transport_request *req, const uint8_t *in, size_t len)
{
	harness *h = arg;
	uint8_t *out;
	size_t out_len;

	pthread_mutex_lock(&h->mtx);
	h->entered++;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->mtx);
	if (h->delay_ms > 0) {
		usleep(h->delay_ms * 1000);
	}

	if (len >= 4 && memcmp(in, "drop", 4) == 0) {
		transport_reply(req, NULL, 0);
		return;
	}
	out = echo_of(in, len, &out_len);
	if (h->defer) {
		hold(h, req, out, out_len);
	} else if (h->answer_aside) {
		answer_aside(req, out, out_len);
	} else {
		transport_reply(req, out, out_len);
	}
}

/* Gives every reply held back so far, from this thread. */
static int
release(harness *h)
{
	held batch[HELD_MAX];
	int n, i;

	pthread_mutex_lock(&h->mtx);
	n = h->n_held;
	memcpy(batch, h->held, sizeof(batch[0]) * (size_t)n);
	h->n_held = 0;
	pthread_mutex_unlock(&h->mtx);

	for (i = 0; i < n; i++) {
		transport_reply(batch[i].req, batch[i].out, batch[i].len);
	}
	return n;
}

static int
entered(harness *h)
{
	int n;

	pthread_mutex_lock(&h->mtx);
	n = h->entered;
	pthread_mutex_unlock(&h->mtx);
	return n;
}

static enrt_status
start(harness *h, size_t max_request, err *e)
{
	const char *urls[] = {h->url};
	transport_options o = {
	    .urls = urls,
	    .n_urls = 1,
	    .contexts = h->contexts ? h->contexts : 4,
	    .max_request = max_request,
	    .handler = echo,
	    .arg = h,
	};

	return transport_start(&h->t, &o, e);
}

static int
setup(void **state)
{
	harness *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	strcpy(h->dir, "/tmp/enrt-transport-XXXXXX");
	assert_non_null(mkdtemp(h->dir));
	snprintf(h->path, sizeof(h->path), "%s/s.sock", h->dir);
	snprintf(h->url, sizeof(h->url), "ipc://%s", h->path);
	pthread_mutex_init(&h->mtx, NULL);
	pthread_cond_init(&h->cond, NULL);
	*state = h;
	return 0;
}

static int
teardown(void **state)
{
	harness *h = *state;

	transport_stop(h->t);
	unlink(h->path);
	rmdir(h->dir);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->mtx);
	free(h);
	return 0;
}

static int
client_open(nng_socket *s, const char *url, int timeout_ms)
{
	int rv;

	if ((rv = nng_req0_open(s)) != 0) {
		return rv;
	}
	nng_socket_set_ms(*s, NNG_OPT_RECVTIMEO, timeout_ms);
	nng_socket_set_ms(*s, NNG_OPT_RECONNMINT, 10);
	if ((rv = nng_dial(*s, url, NULL, 0)) != 0) {
		nng_close(*s);
	}
	return rv;
}

/*
 * Sends len bytes and checks that the reply is REPLY_PREFIX and those
 * bytes.  Returns nng's error, or -1 for a wrong reply.
 */
static int
round_trip(nng_socket s, const void *req, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	size_t plen = strlen(REPLY_PREFIX);
	int rv;

	if ((rv = nng_send(s, (void *)req, len, 0)) != 0 ||
	    (rv = nng_recv(s, &buf, &n, NNG_FLAG_ALLOC)) != 0) {
		return rv;
	}
	if (n != plen + len || memcmp(buf, REPLY_PREFIX, plen) != 0 ||
	    memcmp(buf + plen, req, len) != 0) {
		rv = -1;
	}
	nng_free(buf, n);
	return rv;
}

/* One request on a fresh connection; nng's error, -1 for a bad reply. */
static int
one_request(const char *url, const void *req, size_t len, int timeout_ms)
{
	nng_socket s;
	int rv;

	if ((rv = client_open(&s, url, timeout_ms)) != 0) {
		return rv;
	}
	rv = round_trip(s, req, len);
	nng_close(s);
	return rv;
}

typedef struct client_job {
	const harness *h;
	int id;
	int failures; /* wrong or missing replies */
	int first_error;
} client_job;

static void *
client_main(void *arg)
{
	client_job *job = arg;
	char req[64];
	nng_socket s;
	int i;
	int rv;

	if ((rv = client_open(&s, job->h->url, LONG_WAIT_MS)) != 0) {
		job->failures = ROUNDS;
		job->first_error = rv;
		return NULL;
	}
	for (i = 0; i < ROUNDS; i++) {
		int n = snprintf(
		    req, sizeof(req), "client %d request %d", job->id, i);

		if ((rv = round_trip(s, req, (size_t)n)) != 0) {
			job->first_error =
			    job->failures++ ? job->first_error : rv;
		}
	}
	nng_close(s);
	return NULL;
}

static void
serves_every_client_its_own_replies(void **state)
{
	harness *h = *state;
	pthread_t threads[CLIENTS];
	client_job jobs[CLIENTS];
	err e = {0};
	int i;

	assert_int_equal(start(h, 0, &e), ENRT_OK);
	for (i = 0; i < CLIENTS; i++) {
		jobs[i] = (client_job){.h = h, .id = i};
		assert_int_equal(
		    pthread_create(&threads[i], NULL, client_main, &jobs[i]),
		    0);
	}
	for (i = 0; i < CLIENTS; i++) {
		pthread_join(threads[i], NULL);
	}

	for (i = 0; i < CLIENTS; i++) {
		assert_int_equal(jobs[i].first_error, 0);
		assert_int_equal(jobs[i].failures, 0);
	}
	assert_int_equal(entered(h), CLIENTS * ROUNDS);
}

static bool
io_all(int fd, void *buf, size_t len, bool out)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = out ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
		if (n <= 0) {
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/*
 * A connection that speaks nng's ipc wire by hand, so that an oversized
 * request can be sent without a req socket's retries: an 8-byte greeting
 * each way (0, 'S', 'P', 0, protocol, 0, 0), then frames of a type byte
 * (1), a 64-bit big-endian length, and the message.
 */
static int
raw_open(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = LONG_WAIT_MS / 1000};
	uint8_t hello[8] = {0, 'S', 'P', 0, 0, NNG_REQ0_SELF, 0, 0};
	uint8_t peer[8];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	strcpy(sun.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	assert_true(io_all(fd, hello, sizeof(hello), true));
	assert_true(io_all(fd, peer, sizeof(peer), false));
	assert_int_equal(peer[5], NNG_REP0_SELF);
	return fd;
}

/* Sends body as one request, behind a request id as req0 frames it. */
static bool
raw_send(int fd, const void *body, size_t len)
{
	uint8_t head[1 + 8 + 4] = {1};
	uint64_t frame = len + 4;
	int i;

	for (i = 0; i < 8; i++) {
		head[1 + i] = (uint8_t)(frame >> (56 - 8 * i));
	}
	head[9] = 0x80; /* request id 0x80000001 */
	head[12] = 0x01;
	return io_all(fd, head, sizeof(head), true) &&
	       io_all(fd, (void *)body, len, true);
}

/* True when the server closed the connection rather than answer. */
static bool
raw_closed(int fd)
{
	uint8_t b;
	ssize_t n = recv(fd, &b, 1, 0);

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void
drops_oversized_request_and_serves_others(void **state)
{
	harness *h = *state;
	size_t big_len = 4096;
	char *big = calloc(1, big_len);
	nng_socket s;
	err e = {0};
	int fd;

	assert_non_null(big);
	assert_int_equal(start(h, 1024, &e), ENRT_OK);
	assert_int_equal(client_open(&s, h->url, LONG_WAIT_MS), 0);
	assert_int_equal(round_trip(s, "before", 6), 0);

	fd = raw_open(h->path);
	assert_true(raw_send(fd, big, big_len) || raw_closed(fd));
	assert_true(raw_closed(fd));
	close(fd);

	assert_int_equal(round_trip(s, "after", 5), 0);
	assert_int_equal(entered(h), 2);
	nng_close(s);
	free(big);
}

static void
default_limit_admits_60_kib_and_drops_65_kib(void **state)
{
	harness *h = *state;
	size_t len = 65 * 1024;
	char *req = malloc(len);
	err e = {0};
	int fd;

	assert_non_null(req);
	memset(req, 'x', len);
	assert_int_equal(start(h, 0, &e), ENRT_OK);
	assert_int_equal(one_request(h->url, req, 60 * 1024, LONG_WAIT_MS), 0);

	fd = raw_open(h->path);
	assert_true(raw_send(fd, req, len) || raw_closed(fd));
	assert_true(raw_closed(fd));
	close(fd);
	assert_int_equal(entered(h), 1);
	free(req);
}

/*
 * The limit is on the whole message as nng frames it, the 4-byte request
 * id that req0 puts before the body included: a body of 64 KiB less 4
 * bytes is the largest one served.
 */
static void
default_limit_holds_the_request_id_too(void **state)
{
	harness *h = *state;
	size_t largest = 64 * 1024 - 4;
	char *req = malloc(largest + 1);
	err e = {0};
	int fd;

	assert_non_null(req);
	memset(req, 'y', largest + 1);
	assert_int_equal(start(h, 0, &e), ENRT_OK);
	assert_int_equal(one_request(h->url, req, largest, LONG_WAIT_MS), 0);

	fd = raw_open(h->path);
	assert_true(raw_send(fd, req, largest + 1) || raw_closed(fd));
	assert_true(raw_closed(fd));
	close(fd);
	assert_int_equal(entered(h), 1);
	free(req);
}

static void
handler_refusal_sends_no_reply(void **state)
{
	harness *h = *state;
	nng_socket s;
	err e = {0};

	assert_int_equal(start(h, 0, &e), ENRT_OK);
	assert_int_equal(client_open(&s, h->url, SHORT_WAIT_MS), 0);

	assert_int_equal(round_trip(s, "drop me", 7), NNG_ETIMEDOUT);
	assert_int_equal(round_trip(s, "keep me", 7), 0);
	assert_int_equal(entered(h), 2);
	nng_close(s);
}

typedef struct slow_job {
	const char *url;
	int result;
} slow_job;

static void *
slow_main(void *arg)
{
	slow_job *job = arg;

	job->result = one_request(job->url, "slow", 4, LONG_WAIT_MS);
	return NULL;
}

/* Waits until *count reaches n, or a generous failsafe. */
static int
wait_for(harness *h, const int *count, int n)
{
	struct timespec deadline;
	int seen;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += LONG_WAIT_MS / 1000;
	pthread_mutex_lock(&h->mtx);
	while (*count < n &&
	       pthread_cond_timedwait(&h->cond, &h->mtx, &deadline) == 0) {
	}
	seen = *count;
	pthread_mutex_unlock(&h->mtx);
	return seen;
}

/* Waits until n handler calls have begun. */
static int
wait_entered(harness *h, int n)
{
	return wait_for(h, &h->entered, n);
}

/* Starts n clients of one request each. */
static void
start_slow_clients(harness *h, pthread_t *threads, slow_job *jobs, int n)
{
	for (int i = 0; i < n; i++) {
		jobs[i] = (slow_job){.url = h->url, .result = 1};
		assert_int_equal(
		    pthread_create(&threads[i], NULL, slow_main, &jobs[i]), 0);
	}
}

static void
join_slow_clients(pthread_t *threads, slow_job *jobs, int n)
{
	for (int i = 0; i < n; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(jobs[i].result, 0);
	}
}

/*
 * More requests wait for their replies at once than nng has threads:
 * a request that waits holds none.
 */
static void
waiting_requests_hold_no_thread(void **state)
{
	harness *h = *state;
	pthread_t threads[HELD_MAX];
	slow_job jobs[HELD_MAX];
	err e = {0};

	h->defer = true;
	h->contexts = HELD_MAX;
	assert_int_equal(start(h, 0, &e), ENRT_OK);
	start_slow_clients(h, threads, jobs, HELD_MAX);
	assert_int_equal(wait_for(h, &h->n_held, HELD_MAX), HELD_MAX);

	assert_int_equal(release(h), HELD_MAX);
	join_slow_clients(threads, jobs, HELD_MAX);
}

static void
reply_given_while_the_handler_runs_is_sent(void **state)
{
	harness *h = *state;
	err e = {0};

	h->answer_aside = true;
	assert_int_equal(start(h, 0, &e), ENRT_OK);
	assert_int_equal(one_request(h->url, "aside", 5, LONG_WAIT_MS), 0);
	assert_int_equal(one_request(h->url, "again", 5, LONG_WAIT_MS), 0);
}

static void *
release_later(void *arg)
{
	harness *h = arg;

	usleep(200 * 1000);
	release(h);
	return NULL;
}

static void
stop_waits_for_replies_given_later(void **state)
{
	harness *h = *state;
	pthread_t threads[2], releaser;
	slow_job jobs[2];
	err e = {0};

	h->defer = true;
	assert_int_equal(start(h, 0, &e), ENRT_OK);
	start_slow_clients(h, threads, jobs, 2);
	assert_int_equal(wait_for(h, &h->n_held, 2), 2);

	assert_int_equal(pthread_create(&releaser, NULL, release_later, h), 0);
	transport_stop(h->t);
	h->t = NULL;
	pthread_join(releaser, NULL);
	join_slow_clients(threads, jobs, 2);
}

static void
stop_lets_requests_in_progress_reply(void **state)
{
	harness *h = *state;
	pthread_t threads[2];
	slow_job jobs[2];
	struct stat st;
	err e = {0};
	int i;

	h->delay_ms = 300;
	assert_int_equal(start(h, 0, &e), ENRT_OK);
	for (i = 0; i < 2; i++) {
		jobs[i] = (slow_job){.url = h->url, .result = 1};
		assert_int_equal(
		    pthread_create(&threads[i], NULL, slow_main, &jobs[i]), 0);
	}
	assert_int_equal(wait_entered(h, 2), 2);

	transport_stop(h->t);
	h->t = NULL;
	for (i = 0; i < 2; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(jobs[i].result, 0);
	}
	assert_int_equal(lstat(h->path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void
stopped_transport_answers_nobody(void **state)
{
	harness *h = *state;
	err e = {0};

	assert_int_equal(start(h, 0, &e), ENRT_OK);
	assert_int_equal(one_request(h->url, "up", 2, LONG_WAIT_MS), 0);
	transport_stop(h->t);
	h->t = NULL;

	assert_int_not_equal(one_request(h->url, "down", 4, SHORT_WAIT_MS), 0);
}

static void
second_listener_on_a_live_path_fails_and_first_keeps_serving(void **state)
{
	harness *h = *state;
	transport *first;
	err e = {0};

	assert_int_equal(start(h, 0, &e), ENRT_OK);
	first = h->t;
	h->t = NULL;

	assert_int_equal(start(h, 0, &e), ENRT_UNAVAILABLE);
	assert_null(h->t);
	assert_non_null(strstr(e.message, h->url));
	assert_non_null(strstr(e.message, "another server"));
	assert_int_equal(one_request(h->url, "still", 5, LONG_WAIT_MS), 0);
	h->t = first;
}

static void
failed_start_leaves_nothing_listening(void **state)
{
	harness *h = *state;
	const char *urls[] = {h->url, "nope://nowhere"};
	transport_options o = {
	    .urls = urls, .n_urls = 2, .handler = echo, .arg = h};
	struct stat st;
	err e = {0};

	assert_int_equal(
	    transport_start(&h->t, &o, &e), ENRT_INVALID_ARGUMENT);
	assert_null(h->t);
	assert_non_null(strstr(e.message, "nope://nowhere"));
	assert_int_equal(lstat(h->path, &st), -1);
	assert_int_not_equal(one_request(h->url, "x", 1, SHORT_WAIT_MS), 0);
}

static void
refuses_ipc_path_that_is_a_regular_file(void **state)
{
	harness *h = *state;
	struct stat st;
	FILE *f = fopen(h->path, "w");
	err e = {0};

	assert_non_null(f);
	fclose(f);

	assert_int_equal(start(h, 0, &e), ENRT_FAILED_PRECONDITION);
	assert_non_null(strstr(e.message, h->url));
	assert_non_null(strstr(e.message, "not a socket"));
	assert_int_equal(lstat(h->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

/* A socket file whose server is gone, as a crash leaves it. */
static void
make_stale_socket(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	strcpy(sun.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
}

static void
replaces_stale_ipc_socket_file(void **state)
{
	harness *h = *state;
	struct stat st;
	err e = {0};

	make_stale_socket(h->path);
	assert_int_equal(lstat(h->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));

	assert_int_equal(start(h, 0, &e), ENRT_OK);
	assert_int_equal(one_request(h->url, "fresh", 5, LONG_WAIT_MS), 0);
}

static void
rejects_options_without_urls_or_handler(void **state)
{
	harness *h = *state;
	const char *urls[] = {h->url};
	transport_options none = {.handler = echo};
	transport_options no_handler = {.urls = urls, .n_urls = 1};
	transport_options too_many = {.urls = urls,
	    .n_urls = 1,
	    .handler = echo,
	    .contexts = TRANSPORT_CONTEXTS_MAX + 1};
	err e = {0};

	assert_int_equal(
	    transport_start(&h->t, &none, &e), ENRT_INVALID_ARGUMENT);
	assert_non_null(strstr(e.message, "urls"));
	assert_int_equal(
	    transport_start(&h->t, &no_handler, &e), ENRT_INVALID_ARGUMENT);
	assert_non_null(strstr(e.message, "handler"));
	assert_int_equal(
	    transport_start(&h->t, &too_many, &e), ENRT_INVALID_ARGUMENT);
	assert_non_null(strstr(e.message, "contexts"));
	assert_null(h->t);
}

static void
stop_accepts_null(void **state)
{
	transport_stop(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        serves_every_client_its_own_replies, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        drops_oversized_request_and_serves_others, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        default_limit_admits_60_kib_and_drops_65_kib, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        default_limit_holds_the_request_id_too, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        handler_refusal_sends_no_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        stop_lets_requests_in_progress_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        stopped_transport_answers_nobody, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        waiting_requests_hold_no_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        reply_given_while_the_handler_runs_is_sent, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        stop_waits_for_replies_given_later, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        second_listener_on_a_live_path_fails_and_first_keeps_serving,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        failed_start_leaves_nothing_listening, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        refuses_ipc_path_that_is_a_regular_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        replaces_stale_ipc_socket_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        rejects_options_without_urls_or_handler, setup, teardown),
	    cmocka_unit_test(stop_accepts_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
