/*
 * /healthz and /metrics of a real enrtd started with --http on a free
 * loopback port: requests made through libenrt move the counters, every
 * line of /metrics parses as Prometheus text, no label or value shows a
 * token, credential or caller, and an HTTP address off loopback is
 * refused without --insecure-tcp.  HTTP is spoken over a plain socket,
 * one GET per connection.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "enrt.h"
#include "server.h"

#define DAY          INT64_C(86400)
#define RESPONSE_MAX (1 << 20)
#define READY_TRIES  250
#define POLL_MS      20

typedef struct fixture {
	server srv;
	enrt_client *client;
} fixture;

typedef struct response {
	int status;
	char *body; /* NUL-terminated */
	size_t len;
} response;

/* ------------------------------------------------------------------ */
/* HTTP over a plain socket                                            */

static int
connect_to(const char *hostport)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	struct timeval tv = {.tv_sec = 10};
	const char *colon = strrchr(hostport, ':');
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || colon == NULL) {
		return -1;
	}
	addr.sin_port = htons((uint16_t)atoi(colon + 1));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The body's length when the headers and the whole body are in buf. */
static bool
complete(const char *buf, size_t len, size_t *head)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	const char *cl;

	if (end == NULL) {
		return false;
	}
	*head = (size_t)(end - buf) + 4;
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl == NULL || cl > end) {
		return false;
	}
	return len - *head >= strtoul(cl + 17, NULL, 10);
}

/* GET path; status -1 when no full response came. */
static response
get(const char *hostport, const char *path)
{
	response r = {.status = -1};
	char *buf = calloc(1, RESPONSE_MAX + 1);
	char request[256];
	size_t len = 0, head = 0;
	ssize_t n = 1;
	int fd = connect_to(hostport);

	snprintf(request, sizeof(request),
	    "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path,
	    hostport);
	if (fd < 0 || buf == NULL ||
	    write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
		goto out;
	}
	while (n > 0 && len < RESPONSE_MAX && !complete(buf, len, &head)) {
		n = read(fd, buf + len, RESPONSE_MAX - len);
		len += n > 0 ? (size_t)n : 0;
	}
	if (complete(buf, len, &head) &&
	    sscanf(buf, "HTTP/1.1 %d", &r.status) == 1) {
		r.len = len - head;
		r.body = strndup(buf + head, r.len);
	}
out:
	if (fd >= 0) {
		close(fd);
	}
	free(buf);
	return r;
}

/* The server starts HTTP after its sockets: wait until it answers. */
static int
wait_http(const char *hostport)
{
	struct timespec pause = {.tv_nsec = POLL_MS * 1000000L};
	response r;

	for (int i = 0; i < READY_TRIES; i++) {
		r = get(hostport, "/healthz");
		free(r.body);
		if (r.status == 200) {
			return 0;
		}
		nanosleep(&pause, NULL);
	}
	return -1;
}

/* The value of the sample "series" (name and labels, exactly), or -1. */
static double
sample(const char *body, const char *series)
{
	size_t len = strlen(series);
	const char *at = body;

	while ((at = strstr(at, series)) != NULL) {
		if ((at == body || at[-1] == '\n') && at[len] == ' ') {
			return strtod(at + len + 1, NULL);
		}
		at += len;
	}
	return -1;
}

static double
scrape(fixture *f, const char *series)
{
	response r = get(f->srv.http, "/metrics");
	double v;

	assert_int_equal(r.status, 200);
	v = sample(r.body, series);
	free(r.body);
	return v;
}

/* ------------------------------------------------------------------ */
/* Prometheus text                                                     */

static bool
name_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':' ||
	       (!first && isdigit((unsigned char)c));
}

/* name{key="value",...}: returns the end of the labels, or NULL. */
static const char *
parse_labels(const char *p)
{
	if (*p != '{') {
		return p;
	}
	p++;
	while (*p != '}') {
		if (!name_char(*p, true)) {
			return NULL;
		}
		while (name_char(*p, false)) {
			p++;
		}
		if (p[0] != '=' || p[1] != '"') {
			return NULL;
		}
		for (p += 2; *p != '"'; p++) {
			if (*p == '\0' || *p == '\n' || *p == '\\') {
				return NULL;
			}
		}
		p++;
		if (*p == ',') {
			p++;
		} else if (*p != '}') {
			return NULL;
		}
	}
	return p + 1;
}

static bool
sample_line(const char *line)
{
	const char *p = line;
	char *end;

	if (!name_char(*p, true)) {
		return false;
	}
	while (name_char(*p, false)) {
		p++;
	}
	if ((p = parse_labels(p)) == NULL || *p != ' ') {
		return false;
	}
	if (strcmp(p + 1, "+Inf") == 0) {
		return true;
	}
	strtod(p + 1, &end);
	return end != p + 1 && *end == '\0';
}

static bool
comment_line(const char *line)
{
	return strncmp(line, "# HELP ", 7) == 0 ||
	       strncmp(line, "# TYPE ", 7) == 0;
}

static void
assert_prometheus_text(char *body)
{
	char *save = NULL;
	int lines = 0;

	assert_true(body[strlen(body) - 1] == '\n');
	for (char *line = strtok_r(body, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!comment_line(line) && !sample_line(line)) {
			fail_msg("not Prometheus text: \"%s\"", line);
		}
		lines++;
	}
	assert_true(lines > 20);
}

/* ------------------------------------------------------------------ */
/* Fixture                                                             */

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || server_init(&f->srv, false, 1) != 0 ||
	    server_add_http(&f->srv) != 0 || server_start(&f->srv) != 0 ||
	    wait_http(f->srv.http) != 0 ||
	    server_client(&f->srv, f->srv.ipc_url, NULL, &f->client) != 0) {
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	enrt_client_close(f->client);
	server_destroy(&f->srv);
	free(f);
	return 0;
}

static const char *const read_scope[] = {"read"};

static enrt_app *
make_app(enrt_client *c, const char *name)
{
	enrt_app_params p = {
	    .name = name,
	    .set_policy = true,
	    .policy = ENRT_POLICY_AUTHENTICATED_USERS,
	    .system_user = "svc-metrics",
	};
	enrt_app *app = NULL;
	enrt_error e;

	assert_int_equal(enrt_app_create(c, &p, &app, &e), ENRT_OK);
	return app;
}

static enrt_issued *
issue(enrt_client *c, const char *app_id)
{
	enrt_issue_params p = {
	    .app_id = app_id,
	    .kind = ENRT_KIND_PAT,
	    .has_expires_at = true,
	    .expires_at = (int64_t)time(NULL) + 30 * DAY,
	    .scopes = read_scope,
	    .n_scopes = 1,
	    .owner = "alice",
	};
	enrt_issued *issued = NULL;
	enrt_error e;

	assert_int_equal(enrt_issue(c, &p, &issued, &e), ENRT_OK);
	return issued;
}

static bool
introspect_active(enrt_client *c, const char *value)
{
	enrt_introspection *answer = NULL;
	enrt_error e;
	bool active;

	assert_int_equal(
	    enrt_introspect(c, value, strlen(value), &answer, &e), ENRT_OK);
	active = answer->active;
	enrt_introspection_free(answer);
	return active;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */

static void
healthz_answers_ok_while_the_store_answers(void **state)
{
	fixture *f = *state;
	response r = get(f->srv.http, "/healthz");

	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	free(r.body);
}

static void
unknown_path_is_not_found(void **state)
{
	fixture *f = *state;
	response r = get(f->srv.http, "/tokens");

	assert_int_equal(r.status, 404);
	free(r.body);
}

#define INTROSPECT_OK "enrtd_requests_total{op=\"Introspect\",status=\"OK\"}"
#define ISSUE_OK      "enrtd_requests_total{op=\"Issue\",status=\"OK\"}"
#define ACTIVE \
	"enrtd_introspect_answers_total{active=\"true\",cause=\"active\"}"
#define REVOKED \
	"enrtd_introspect_answers_total{active=\"false\",cause=\"revoked\"}"
#define LATENCY_COUNT "enrtd_request_duration_seconds_count{op=\"Introspect\"}"
#define PAT_ACTIVE    "enrtd_tokens{kind=\"pat\",state=\"active\"}"
#define PAT_REVOKED   "enrtd_tokens{kind=\"pat\",state=\"revoked\"}"

static void
metrics_count_requests_answers_and_tokens(void **state)
{
	fixture *f = *state;
	double introspects = scrape(f, INTROSPECT_OK);
	double issues = scrape(f, ISSUE_OK);
	double active = scrape(f, ACTIVE);
	double revoked = scrape(f, REVOKED);
	double latency = scrape(f, LATENCY_COUNT);
	enrt_app *app = make_app(f->client, "Counted");
	enrt_issued *kept = issue(f->client, app->id);
	enrt_issued *gone = issue(f->client, app->id);
	enrt_error e;

	assert_true(introspects >= 0 && issues >= 0 && active >= 0);
	assert_int_equal(
	    enrt_revoke_id(f->client, gone->token.id, &e), ENRT_OK);
	assert_true(introspect_active(f->client, kept->value));
	assert_false(introspect_active(f->client, gone->value));

	assert_true(scrape(f, INTROSPECT_OK) == introspects + 2);
	assert_true(scrape(f, ISSUE_OK) == issues + 2);
	assert_true(scrape(f, ACTIVE) == active + 1);
	assert_true(scrape(f, REVOKED) == revoked + 1);
	assert_true(scrape(f, LATENCY_COUNT) == latency + 2);
	assert_true(scrape(f, PAT_ACTIVE) == 1);
	assert_true(scrape(f, PAT_REVOKED) == 1);
	enrt_issued_free(kept);
	enrt_issued_free(gone);
	enrt_app_free(app);
}

static void
metrics_show_store_use_and_flushes(void **state)
{
	fixture *f = *state;
	struct timespec pause = {.tv_nsec = 100 * 1000000L};
	int tries = 0;

	assert_true(scrape(f, "enrtd_store_used_bytes") > 0);
	assert_true(
	    scrape(f, "enrtd_store_map_bytes") == 1024.0 * 1024 * 1024);
	/* One flush a second (--flush-interval 1): wait for the first. */
	while (scrape(f, "enrtd_last_used_flushes_total{result=\"ok\"}") < 1 &&
	       tries++ < 300) {
		nanosleep(&pause, NULL);
	}
	assert_true(
	    scrape(f, "enrtd_last_used_flushes_total{result=\"ok\"}") >= 1);
	assert_true(scrape(f, "enrtd_last_used_flush_lag_seconds") >= 0);
}

static void
metrics_parse_and_carry_no_secret(void **state)
{
	fixture *f = *state;
	enrt_app *app = make_app(f->client, "Scraped");
	enrt_issued *issued = issue(f->client, app->id);
	response r;

	assert_true(introspect_active(f->client, issued->value));
	r = get(f->srv.http, "/metrics");
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, issued->value));
	assert_null(strstr(r.body, issued->token.id));
	assert_null(strstr(r.body, f->srv.credential));
	assert_null(strstr(r.body, "enrt_"));
	assert_null(strstr(r.body, "enrc_"));
	assert_null(strstr(r.body, "cal_"));
	assert_null(strstr(r.body, "alice"));
	assert_prometheus_text(r.body);
	free(r.body);
	enrt_issued_free(issued);
	enrt_app_free(app);
}

/* enrtd with these flags after --data and --listen; its exit status. */
static int
run_enrtd(const char *dir, const char *http, bool insecure)
{
	char path[SERVER_PATH_MAX], data[SERVER_PATH_MAX], url[SERVER_URL_MAX];
	char *argv[12];
	int n = 0, status = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/enrtd", getenv("ENRT_BIN_DIR"));
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(url, sizeof(url), "ipc://%s/s.sock", dir);
	argv[n++] = path;
	argv[n++] = "--data";
	argv[n++] = data;
	argv[n++] = "--listen";
	argv[n++] = url;
	argv[n++] = "--http";
	argv[n++] = (char *)http;
	if (insecure) {
		argv[n++] = "--insecure-tcp";
	}
	argv[n] = NULL;
	if ((pid = fork()) == 0) {
		execv(path, argv);
		_exit(127);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
http_off_loopback_is_refused_before_the_data_directory(void **state)
{
	fixture *f = *state;
	char data[SERVER_PATH_MAX];
	struct stat st;

	assert_int_equal(run_enrtd(f->srv.root, "0.0.0.0:1", false), 1);
	snprintf(data, sizeof(data), "%s/data", f->srv.root);
	assert_int_equal(stat(data, &st), -1);
	assert_int_equal(run_enrtd(f->srv.root, "127.0.0.1:0", false), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(healthz_answers_ok_while_the_store_answers),
	    cmocka_unit_test(unknown_path_is_not_found),
	    cmocka_unit_test(metrics_count_requests_answers_and_tokens),
	    cmocka_unit_test(metrics_show_store_use_and_flushes),
	    cmocka_unit_test(metrics_parse_and_carry_no_secret),
	    cmocka_unit_test(
	        http_off_loopback_is_refused_before_the_data_directory),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
