/*
 * Tests of the log facade.  Standard error is pointed at a temporary file
 * around each test, and the lines that land there are read back: their
 * form, the level filter, the replacing of control characters, the cut of
 * an over-long line, and whole lines from many threads at once.
 */
#define _GNU_SOURCE /* timegm */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

#define CAPTURE_MAX      (1 << 20)
#define THREADS          8
#define LINES_PER_THREAD 200

typedef struct capture {
	char path[64];
	int fd;    /* the temporary file */
	int saved; /* the real standard error */
	char text[CAPTURE_MAX];
	size_t len;
} capture;

static int
start_capture(void **state)
{
	capture *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "/tmp/enrt-log-XXXXXX");
	c->fd = mkstemp(c->path);
	c->saved = dup(STDERR_FILENO);
	if (c->fd < 0 || c->saved < 0 || dup2(c->fd, STDERR_FILENO) < 0) {
		free(c);
		return -1;
	}
	log_set_level(LOG_INFO);
	*state = c;
	return 0;
}

/* Puts standard error back and reads what was written. */
static void
stop_capture(capture *c)
{
	ssize_t n;

	dup2(c->saved, STDERR_FILENO);
	lseek(c->fd, 0, SEEK_SET);
	n = read(c->fd, c->text, sizeof(c->text) - 1);
	assert_true(n >= 0);
	c->len = (size_t)n;
	c->text[c->len] = '\0';
}

static int
end_capture(void **state)
{
	capture *c = *state;

	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	close(c->fd);
	unlink(c->path);
	free(c);
	log_set_level(LOG_INFO);
	return 0;
}

static size_t
count_lines(const char *text)
{
	size_t n = 0;

	for (; *text != '\0'; text++) {
		n += *text == '\n';
	}
	return n;
}

/* ---- levels ---- */

static void
info_is_the_default_level(void **state)
{
	assert_true(log_enabled(LOG_ERROR));
	assert_true(log_enabled(LOG_INFO));
	assert_false(log_enabled(LOG_DEBUG));
}

static void
parse_level_takes_the_four_names(void **state)
{
	const char *names[] = {"error", "warn", "info", "debug"};
	log_level level;
	int i;

	for (i = 0; i < 4; i++) {
		assert_true(log_parse_level(names[i], &level));
		assert_int_equal(level, i);
	}
	assert_false(log_parse_level("INFO", &level));
	assert_false(log_parse_level("warning", &level));
	assert_false(log_parse_level("", &level));
	assert_false(log_parse_level(NULL, &level));
}

static void
set_level_moves_the_filter(void **state)
{
	log_set_level(LOG_ERROR);
	assert_true(log_enabled(LOG_ERROR));
	assert_false(log_enabled(LOG_WARN));
	log_set_level(LOG_DEBUG);
	assert_true(log_enabled(LOG_DEBUG));
}

/* ---- lines ---- */

static void
line_has_time_level_event_and_fields(void **state)
{
	capture *c = *state;
	time_t before, after, stamp;
	struct tm tm;
	char *rest;

	before = time(NULL);
	log_info("server_started", "url=%s port=%d", "tcp://127.0.0.1", 7600);
	after = time(NULL);
	stop_capture(c);

	memset(&tm, 0, sizeof(tm));
	rest = strptime(c->text, "%Y-%m-%dT%H:%M:%SZ", &tm);
	assert_non_null(rest);
	assert_int_equal(rest - c->text, 20);
	stamp = timegm(&tm);
	assert_true(stamp >= before && stamp <= after);
	assert_string_equal(rest,
	    " info event=server_started url=tcp://127.0.0.1 port=7600\n");
}

static void
line_without_fields_ends_after_event(void **state)
{
	capture *c = *state;

	log_warn("map_nearly_full", NULL);
	log_error("store_failed", "%s", "");
	stop_capture(c);

	assert_int_equal(count_lines(c->text), 2);
	assert_non_null(strstr(c->text, " warn event=map_nearly_full\n"));
	assert_non_null(strstr(c->text, " error event=store_failed\n"));
}

static void
lines_below_the_level_are_not_written(void **state)
{
	capture *c = *state;

	log_debug("inactive_cause", "token_id=%s", "tok_1");
	log_write(LOG_DEBUG, "inactive_cause", "token_id=%s", "tok_2");
	log_set_level(LOG_DEBUG);
	log_debug("inactive_cause", "token_id=%s", "tok_3");
	stop_capture(c);

	assert_int_equal(count_lines(c->text), 1);
	assert_null(strstr(c->text, "tok_1"));
	assert_null(strstr(c->text, "tok_2"));
	assert_non_null(strstr(c->text, " debug event=inactive_cause "
	                                "token_id=tok_3\n"));
}

static void
control_characters_cannot_start_a_line(void **state)
{
	capture *c = *state;

	log_info("app_created", "name=%s", "evil\n2026-01-01T00:00:00Z\r\x1b");
	stop_capture(c);

	assert_int_equal(count_lines(c->text), 1);
	assert_non_null(strstr(c->text, "name=evil?2026-01-01T00:00:00Z??\n"));
}

static void
long_line_is_cut_and_marked(void **state)
{
	capture *c = *state;
	char *value = malloc(5000);

	assert_non_null(value);
	memset(value, 'v', 4999);
	value[4999] = '\0';
	log_info("big", "value=%s", value);
	free(value);
	stop_capture(c);

	assert_int_equal(count_lines(c->text), 1);
	assert_int_equal(c->len, 2047);
	assert_string_equal(c->text + c->len - 20, " log_truncated=true\n");
}

static void *
write_lines(void *arg)
{
	int id = (int)(intptr_t)arg;
	int i;

	for (i = 0; i < LINES_PER_THREAD; i++) {
		log_info("bench", "thread=%d line=%d pad=%0300d", id, i, 0);
	}
	return NULL;
}

/* Every line must come out whole: same length, right start and end. */
static void
lines_from_many_threads_stay_whole(void **state)
{
	capture *c = *state;
	pthread_t threads[THREADS];
	size_t lines = 0;
	char *line, *save = NULL;
	int i;

	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_create(&threads[i], NULL, write_lines,
		                     (void *)(intptr_t)i),
		    0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(threads[i], NULL);
	}
	stop_capture(c);

	for (line = strtok_r(c->text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		assert_non_null(strstr(line, " info event=bench thread="));
		assert_int_equal(line[strlen(line) - 1], '0');
		assert_int_equal(strspn(strstr(line, "pad=") + 4, "0"), 300);
		lines++;
	}
	assert_int_equal(lines, THREADS * LINES_PER_THREAD);
}

/* A log file takes the lines, appended; standard error gets none. */
static void
log_file_takes_the_lines(void **state)
{
	char path[] = "/tmp/enrt-logfile-XXXXXX";
	size_t len = 0;
	char text[512];
	err e;
	FILE *in;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "before\n", 7), 7);
	close(fd);

	log_set_level(LOG_INFO);
	assert_int_equal(log_open_file(path, &e), ENRT_OK);
	log_info("to_file", "n=%d", 1);
	log_close_file();

	in = fopen(path, "r");
	assert_non_null(in);
	len = fread(text, 1, sizeof(text) - 1, in);
	fclose(in);
	unlink(path);
	text[len] = '\0';
	assert_int_equal(strncmp(text, "before\n", 7), 0);
	assert_non_null(strstr(text + 7, " info event=to_file n=1\n"));
}

static void
log_file_that_cannot_open_is_named(void **state)
{
	err e;

	(void)state;
	assert_int_equal(log_open_file("/nonexistent-dir/enrtd.log", &e),
	    ENRT_FAILED_PRECONDITION);
	assert_non_null(strstr(e.message, "/nonexistent-dir/enrtd.log"));
}

#define TEST(name) \
	cmocka_unit_test_setup_teardown(name, start_capture, end_capture)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(info_is_the_default_level),
	    cmocka_unit_test(parse_level_takes_the_four_names),
	    cmocka_unit_test(log_file_takes_the_lines),
	    cmocka_unit_test(log_file_that_cannot_open_is_named),
	    TEST(set_level_moves_the_filter),
	    TEST(line_has_time_level_event_and_fields),
	    TEST(line_without_fields_ends_after_event),
	    TEST(lines_below_the_level_are_not_written),
	    TEST(control_characters_cannot_start_a_line),
	    TEST(long_line_is_cut_and_marked),
	    TEST(lines_from_many_threads_stay_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
