/*
 * Tests of the counters and their Prometheus text: a request lands in
 * its operation, status and latency bucket (known answers, buckets
 * cumulative), answers count by cause, names come from the namers, and
 * many threads counting at once lose nothing.  The counters are
 * process-wide, so each test uses operations of its own.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

#define THREADS    8
#define PER_THREAD 10000

static const char *
op_name(unsigned op)
{
	static const char *const names[] = {"none", "One", "Two", "Many"};

	return op < 4 ? names[op] : NULL;
}

static const char *
cause_name(unsigned cause)
{
	static const char *const names[] = {"active", "revoked"};

	return cause < 2 ? names[cause] : NULL;
}

static char *
written(void)
{
	metrics_text t = {0};

	metrics_write(&t, op_name, cause_name);
	assert_false(t.failed);
	return t.buf;
}

static void
assert_line(const char *text, const char *line)
{
	if (strstr(text, line) == NULL) {
		fail_msg("missing line: %s", line);
	}
}

static void
request_lands_in_its_status_and_bucket(void **state)
{
	char *text;

	(void)state;
	metrics_request(1, ENRT_OK, 300);
	metrics_request(1, ENRT_NOT_FOUND, 50);
	text = written();
	assert_line(
	    text, "enrtd_requests_total{op=\"One\",status=\"OK\"} 1\n");
	assert_line(
	    text, "enrtd_requests_total{op=\"One\",status=\"NOT_FOUND\"} 1\n");
	assert_line(text, "enrtd_request_duration_seconds_bucket{op=\"One\","
	                  "le=\"5e-05\"} 1\n");
	assert_line(text, "enrtd_request_duration_seconds_bucket{op=\"One\","
	                  "le=\"0.00025\"} 1\n");
	assert_line(text, "enrtd_request_duration_seconds_bucket{op=\"One\","
	                  "le=\"0.0005\"} 2\n");
	assert_line(text, "enrtd_request_duration_seconds_bucket{op=\"One\","
	                  "le=\"+Inf\"} 2\n");
	assert_line(
	    text, "enrtd_request_duration_seconds_sum{op=\"One\"} 0.000350\n");
	assert_line(
	    text, "enrtd_request_duration_seconds_count{op=\"One\"} 2\n");
	assert_null(strstr(text, "op=\"Two\",status=\"NOT_FOUND\""));
	free(text);
}

static void
slow_request_lands_past_the_last_bound(void **state)
{
	char *text;

	(void)state;
	metrics_request(2, ENRT_OK, 10000000);
	text = written();
	assert_line(text, "enrtd_request_duration_seconds_bucket{op=\"Two\","
	                  "le=\"2.5\"} 0\n");
	assert_line(text, "enrtd_request_duration_seconds_bucket{op=\"Two\","
	                  "le=\"+Inf\"} 1\n");
	free(text);
}

static void
answers_count_by_cause(void **state)
{
	char *text;

	(void)state;
	metrics_answer(0);
	metrics_answer(1);
	metrics_answer(1);
	metrics_answer(999); /* out of range: ignored */
	text = written();
	assert_line(text, "enrtd_introspect_answers_total{active=\"true\","
	                  "cause=\"active\"} 1\n");
	assert_line(text, "enrtd_introspect_answers_total{active=\"false\","
	                  "cause=\"revoked\"} 2\n");
	free(text);
}

static void
flushes_count_by_result(void **state)
{
	char *text;

	(void)state;
	metrics_flush(true);
	metrics_flush(false);
	text = written();
	assert_line(text, "enrtd_last_used_flushes_total{result=\"ok\"} 1\n");
	assert_line(
	    text, "enrtd_last_used_flushes_total{result=\"failed\"} 1\n");
	assert_line(text, "enrtd_last_used_flush_lag_seconds ");
	free(text);
}

static void *
count_many(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		metrics_request(3, ENRT_OK, 1);
	}
	return NULL;
}

static void
threads_counting_at_once_lose_nothing(void **state)
{
	pthread_t threads[THREADS];
	char expected[128];
	char *text;

	(void)state;
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(
		    pthread_create(&threads[i], NULL, count_many, NULL), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(threads[i], NULL);
	}
	text = written();
	snprintf(expected, sizeof(expected),
	    "enrtd_requests_total{op=\"Many\",status=\"OK\"} %d\n",
	    THREADS * PER_THREAD);
	assert_line(text, expected);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(request_lands_in_its_status_and_bucket),
	    cmocka_unit_test(slow_request_lands_past_the_last_bound),
	    cmocka_unit_test(answers_count_by_cause),
	    cmocka_unit_test(flushes_count_by_result),
	    cmocka_unit_test(threads_counting_at_once_lose_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
