/*
 * Hostile connections against a real enrtd while valid clients work
 * (DESIGN section 9).  Over tcp:// on 127.0.0.1 only, a few threads open
 * a bounded number of connections and, in turn, send bytes that are no
 * SP greeting, hang up inside the greeting or just after it, announce a
 * message of a terabyte, send a message larger than the server takes,
 * and send well-framed messages of random bytes; a set of greeted
 * connections sits idle throughout.  Meanwhile two libenrt clients, one
 * over ipc:// and one over tcp://, issue, introspect and list.
 *
 * Every valid request must succeed with the right answer; every framed
 * message of garbage must get a refusal (INVALID_ARGUMENT, or
 * UNAUTHENTICATED when the bytes happen to decode as a request); no
 * oversized message may get a reply; and the server must go on serving
 * and stop cleanly afterwards.  Garbage goes over tcp:// only: on nng
 * before 1.6 a hang-up inside the greeting stops an ipc:// listener for
 * up to two seconds (README, "Known limitations").
 *
 * The flood threads and the client threads only count and record; the
 * assertions run on cmocka's thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "enrt.h"
#include "enrt.pb-c.h"
#include "format.h"
#include "server.h"

#define FLOODERS        4
#define FLOOD_ROUNDS    40 /* per flooder; each round is every attack */
#define IDLE_CONNS      32
#define FRAMED_PER_CONN 4
#define GARBAGE_MAX     2048
#define OVERSIZED       (80 * 1024) /* the server takes 64 KiB */
#define VALID_MIN       40          /* calls per client, at the least */
#define VALID_MAX       20000
#define SOCKET_TIMEOUT  10 /* seconds; only so that nothing hangs */
#define FAILURE_LEN     256
#define REQUEST_ID      0x80000001u
#define FRAME_HEADER    8
#define GREETING_LEN    8

/* Evaluates got once; prints the error's message when it differs. */
/* Counts of one side's work; mtx guards everything below it. */
typedef struct tally {
	pthread_mutex_t mtx;
	unsigned done;     /* valid calls, or framed messages sent */
	unsigned answered; /* framed messages answered with a refusal */
	unsigned failures;
	char failure[FAILURE_LEN]; /* the first thing that went wrong */
} tally;

typedef struct fixture {
	server srv;
	struct sockaddr_in addr; /* the tcp listener */
	char app_id[FORMAT_ID_MAX];
	char token[ENRT_TOKEN_LEN + 1]; /* active for the whole test */
	tally valid;
	tally flood;
	int flood_over;
} fixture;

typedef struct flooder {
	fixture *f;
	pthread_t thread;
	unsigned seed;
} flooder;

typedef struct client_thread {
	fixture *f;
	pthread_t thread;
	const char *url;
} client_thread;

static const char *const scopes[] = {"flood:test"};

static void fail_tally(tally *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail_tally(tally *t, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&t->mtx);
	if (t->failures++ == 0) {
		va_start(ap, fmt);
		vsnprintf(t->failure, sizeof(t->failure), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&t->mtx);
}

static void
count(tally *t, unsigned done, unsigned answered)
{
	pthread_mutex_lock(&t->mtx);
	t->done += done;
	t->answered += answered;
	pthread_mutex_unlock(&t->mtx);
}

/* ------------------------------------------------------------------ */
/* Raw connections                                                     */

/* A tcp connection to the server, or -1 (recorded as a failure). */
static int
connect_raw(fixture *f)
{
	struct timeval limit = {.tv_sec = SOCKET_TIMEOUT};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		fail_tally(&f->flood, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	if (connect(fd, (struct sockaddr *)&f->addr, sizeof(f->addr)) != 0) {
		fail_tally(&f->flood, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static bool
send_all(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len;
}

static bool
recv_all(int fd, void *buf, size_t len)
{
	return len == 0 || recv(fd, buf, len, MSG_WAITALL) == (ssize_t)len;
}

/* Our greeting as a req peer, and the server's as a rep peer. */
static bool
greet(int fd)
{
	static const uint8_t hello[GREETING_LEN] = {
	    0, 'S', 'P', 0, 0, NNG_REQ0_SELF, 0, 0};
	uint8_t peer[GREETING_LEN];

	return send_all(fd, hello, sizeof(hello)) &&
	       recv_all(fd, peer, sizeof(peer)) && peer[1] == 'S' &&
	       peer[5] == NNG_REP0_SELF;
}

static int
greeted(fixture *f)
{
	int fd = connect_raw(f);

	if (fd >= 0 && !greet(fd)) {
		fail_tally(&f->flood, "the server did not greet");
		close(fd);
		return -1;
	}
	return fd;
}

static void
put_be64(uint8_t *out, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
get_be64(const uint8_t *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v = v << 8 | in[i];
	}
	return v;
}

static void
random_bytes(uint8_t *buf, size_t len, unsigned *seed)
{
	for (size_t i = 0; i < len; i++) {
		buf[i] = (uint8_t)rand_r(seed);
	}
}

/* ------------------------------------------------------------------ */
/* Attacks                                                             */

/* Bytes that are no greeting at all. */
static void
send_noise(fixture *f, unsigned *seed)
{
	uint8_t noise[512];
	size_t len = 1 + (size_t)rand_r(seed) % sizeof(noise);
	int fd = connect_raw(f);

	if (fd < 0) {
		return;
	}
	random_bytes(noise, len, seed);
	send_all(fd, noise, len);
	close(fd);
}

/* Hangs up after part of the greeting, or right after all of it. */
static void
hang_up_in_greeting(fixture *f, unsigned *seed)
{
	static const uint8_t hello[GREETING_LEN] = {
	    0, 'S', 'P', 0, 0, NNG_REQ0_SELF, 0, 0};
	int fd = connect_raw(f);

	if (fd < 0) {
		return;
	}
	send_all(fd, hello, (size_t)rand_r(seed) % (GREETING_LEN + 1));
	close(fd);
}

/* True when the connection ends with no message from the server. */
static bool
no_reply(int fd)
{
	uint8_t byte;

	return recv(fd, &byte, 1, 0) <= 0;
}

/* A frame header that announces a terabyte, and then a few bytes. */
static void
announce_huge(fixture *f)
{
	uint8_t frame[FRAME_HEADER + 16] = {0};
	int fd = greeted(f);

	if (fd < 0) {
		return;
	}
	put_be64(frame, UINT64_C(1) << 40);
	send_all(fd, frame, sizeof(frame));
	if (!no_reply(fd)) {
		fail_tally(&f->flood, "a terabyte announced got a reply");
	}
	close(fd);
}

/* A whole message larger than the server takes. */
static void
send_oversized(fixture *f)
{
	uint8_t *frame = calloc(1, FRAME_HEADER + OVERSIZED);
	int fd = greeted(f);

	if (fd >= 0 && frame != NULL) {
		put_be64(frame, OVERSIZED);
		memset(frame + FRAME_HEADER, 0x0a, 4);
		send_all(fd, frame, FRAME_HEADER + OVERSIZED);
		if (!no_reply(fd)) {
			fail_tally(&f->flood, "an oversized message got a "
			                      "reply");
		}
	}
	if (fd >= 0) {
		close(fd);
	}
	free(frame);
}

/* One framed request: the request id, then len random bytes. */
static bool
send_garbage_frame(int fd, unsigned *seed)
{
	uint8_t frame[FRAME_HEADER + 4 + GARBAGE_MAX];
	size_t len = 1 + (size_t)rand_r(seed) % GARBAGE_MAX;

	put_be64(frame, 4 + len);
	frame[8] = (uint8_t)(REQUEST_ID >> 24);
	frame[9] = frame[10] = 0;
	frame[11] = (uint8_t)REQUEST_ID;
	random_bytes(frame + FRAME_HEADER + 4, len, seed);
	return send_all(fd, frame, FRAME_HEADER + 4 + len);
}

/* Reads one reply frame; true when it is a refusal of garbage. */
static bool
read_refusal(int fd)
{
	uint8_t header[FRAME_HEADER + 4], body[1024];
	Enrt__V1__Reply *reply;
	uint64_t len;
	bool refused;

	if (!recv_all(fd, header, sizeof(header))) {
		return false;
	}
	len = get_be64(header) - 4;
	if (get_be64(header) < 4 || len > sizeof(body) ||
	    !recv_all(fd, body, (size_t)len)) {
		return false;
	}
	reply = enrt__v1__reply__unpack(NULL, (size_t)len, body);
	refused = reply != NULL && reply->message != NULL &&
	          (reply->status == ENRT__V1__STATUS__INVALID_ARGUMENT ||
	              reply->status == ENRT__V1__STATUS__UNAUTHENTICATED);
	enrt__v1__reply__free_unpacked(reply, NULL);
	return refused;
}

/* Framed messages of random bytes, each answered before the next. */
static void
send_framed_garbage(fixture *f, unsigned *seed)
{
	unsigned sent = 0, refused = 0;
	int fd = greeted(f);

	if (fd < 0) {
		return;
	}
	for (int i = 0; i < FRAMED_PER_CONN; i++) {
		if (!send_garbage_frame(fd, seed)) {
			break;
		}
		sent++;
		refused += read_refusal(fd);
	}
	close(fd);
	count(&f->flood, sent, refused);
}

static void *
flood(void *arg)
{
	flooder *fl = arg;

	for (int i = 0; i < FLOOD_ROUNDS; i++) {
		send_noise(fl->f, &fl->seed);
		hang_up_in_greeting(fl->f, &fl->seed);
		send_framed_garbage(fl->f, &fl->seed);
		announce_huge(fl->f);
		if (i % 8 == 0) {
			send_oversized(fl->f);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Valid clients                                                       */

static bool
introspects_active(enrt_client *c, const char *value, tally *t)
{
	enrt_introspection *answer = NULL;
	enrt_error e;
	bool active = false;

	if (enrt_introspect(c, value, ENRT_TOKEN_LEN, &answer, &e) !=
	    ENRT_OK) {
		fail_tally(t, "introspect: %s: %s", enrt_status_name(e.status),
		    e.message);
	} else if (!(active = answer->active)) {
		fail_tally(t, "introspect: an active token answered inactive");
	}
	enrt_introspection_free(answer);
	return active;
}

/* Issues a token and introspects it: two calls. */
static void
issue_and_check(fixture *f, enrt_client *c)
{
	enrt_issue_params p = {.app_id = f->app_id,
	    .kind = ENRT_KIND_SAT,
	    .scopes = scopes,
	    .n_scopes = 1};
	enrt_issued *t = NULL;
	enrt_error e;

	if (enrt_issue(c, &p, &t, &e) != ENRT_OK) {
		fail_tally(&f->valid, "issue: %s: %s",
		    enrt_status_name(e.status), e.message);
		return;
	}
	introspects_active(c, t->value, &f->valid);
	enrt_issued_free(t);
}

static void
list_apps(fixture *f, enrt_client *c)
{
	enrt_app_page *page = NULL;
	enrt_error e;

	if (enrt_app_list(c, NULL, 0, &page, &e) != ENRT_OK) {
		fail_tally(&f->valid, "list apps: %s: %s",
		    enrt_status_name(e.status), e.message);
	} else if (page->n_apps == 0) {
		fail_tally(&f->valid, "list apps: the app is missing");
	}
	enrt_app_page_free(page);
}

/* Works until the flood is over, VALID_MIN calls at the least. */
static void *
work(void *arg)
{
	client_thread *ct = arg;
	fixture *f = ct->f;
	unsigned calls = 0;
	enrt_client *c;

	if (server_client(&f->srv, ct->url, NULL, &c) != 0) {
		fail_tally(&f->valid, "cannot open a client on %s", ct->url);
		return NULL;
	}
	while (calls < VALID_MAX &&
	       (calls < VALID_MIN ||
	           !__atomic_load_n(&f->flood_over, __ATOMIC_ACQUIRE))) {
		introspects_active(c, f->token, &f->valid);
		issue_and_check(f, c);
		list_apps(f, c);
		calls += 4;
	}
	enrt_client_close(c);
	count(&f->valid, calls, 0);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Set-up                                                              */

static void
make_app_and_token(fixture *f, enrt_client *c)
{
	enrt_app_params p = {
	    .name = "flood test",
	    .set_policy = true,
	    .policy = ENRT_POLICY_AUTHENTICATED_USERS,
	    .system_user = "svc-flood",
	    .set_max_lifetime = true,
	    .unlimited_lifetime = true,
	};
	enrt_issue_params ip = {
	    .kind = ENRT_KIND_SAT, .scopes = scopes, .n_scopes = 1};
	enrt_app *app = NULL;
	enrt_issued *t = NULL;
	enrt_error e;

	assert_status(enrt_app_create(c, &p, &app, &e), ENRT_OK, &e);
	snprintf(f->app_id, sizeof(f->app_id), "%s", app->id);
	enrt_app_free(app);
	ip.app_id = f->app_id;
	assert_status(enrt_issue(c, &ip, &t, &e), ENRT_OK, &e);
	snprintf(f->token, sizeof(f->token), "%s", t->value);
	enrt_issued_free(t);
}

/* The loopback address and port of s->tcp_url. */
static int
tcp_address(const server *s, struct sockaddr_in *addr)
{
	const char *colon = strrchr(s->tcp_url, ':');

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr->sin_port = htons((uint16_t)atoi(colon + 1));
	return strncmp(s->tcp_url, "tcp://127.0.0.1:", 16) == 0 ? 0 : -1;
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	if (server_init(&f->srv, true, 0) != 0 || server_start(&f->srv) != 0 ||
	    tcp_address(&f->srv, &f->addr) != 0) {
		server_destroy(&f->srv);
		free(f);
		return -1;
	}
	pthread_mutex_init(&f->valid.mtx, NULL);
	pthread_mutex_init(&f->flood.mtx, NULL);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	server_destroy(&f->srv);
	pthread_mutex_destroy(&f->valid.mtx);
	pthread_mutex_destroy(&f->flood.mtx);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The test                                                            */

static void
open_idle(fixture *f, int *idle)
{
	for (int i = 0; i < IDLE_CONNS; i++) {
		idle[i] = greeted(f);
	}
}

static void
close_idle(const int *idle)
{
	for (int i = 0; i < IDLE_CONNS; i++) {
		if (idle[i] >= 0) {
			close(idle[i]);
		}
	}
}

static void
run_flood(fixture *f)
{
	client_thread clients[2] = {
	    {.f = f, .url = f->srv.ipc_url}, {.f = f, .url = f->srv.tcp_url}};
	flooder fl[FLOODERS];
	int idle[IDLE_CONNS];

	open_idle(f, idle);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_create(&clients[i].thread, NULL, work,
		                     &clients[i]),
		    0);
	}
	for (int i = 0; i < FLOODERS; i++) {
		fl[i] = (flooder){.f = f, .seed = 7u + (unsigned)i};
		assert_int_equal(
		    pthread_create(&fl[i].thread, NULL, flood, &fl[i]), 0);
	}

	for (int i = 0; i < FLOODERS; i++) {
		pthread_join(fl[i].thread, NULL);
	}
	__atomic_store_n(&f->flood_over, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++) {
		pthread_join(clients[i].thread, NULL);
	}
	close_idle(idle);
}

static void
check_tally(const char *side, const tally *t)
{
	if (t->failures > 0) {
		print_error("%s: %u failures, the first: %s\n", side,
		    t->failures, t->failure);
	}
	assert_int_equal(t->failures, 0);
}

static void
valid_clients_work_through_a_flood_of_garbage(void **state)
{
	fixture *f = *state;
	enrt_client *c;

	assert_int_equal(server_client(&f->srv, f->srv.ipc_url, NULL, &c), 0);
	make_app_and_token(f, c);
	run_flood(f);

	check_tally("valid clients", &f->valid);
	check_tally("flood", &f->flood);
	assert_true(f->valid.done >= 2 * VALID_MIN);
	assert_true(f->flood.done > 0);
	assert_int_equal(f->flood.answered, f->flood.done);
	printf("%u valid calls succeeded; %u framed garbage messages, each "
	       "refused\n",
	    f->valid.done, f->flood.done);

	assert_true(introspects_active(c, f->token, &f->valid));
	enrt_client_close(c);
	assert_int_equal(server_stop(&f->srv), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        valid_clients_work_through_a_flood_of_garbage, setup,
	        teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
