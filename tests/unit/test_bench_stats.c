/*
 * Tests of enrt-bench's bookkeeping: the latency histogram against
 * percentiles worked out by hand (exact below 128 ns, within 1/64
 * above), the tally's merging and error counts, the limit by count, and
 * the choice of requests against the mix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bench.h"

static bench_hist *
new_hist(void)
{
	bench_hist *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	return h;
}

/* |got - want| <= want / 64, the histogram's promise. */
static void
assert_close(uint64_t got, uint64_t want)
{
	uint64_t diff = got > want ? got - want : want - got;

	if (diff * 64 > want) {
		fail_msg("got %llu, want %llu within 1/64",
		    (unsigned long long)got, (unsigned long long)want);
	}
}

static void
empty_histogram_gives_zero(void **state)
{
	bench_hist *h = new_hist();

	assert_int_equal(bench_hist_percentile(h, 50), 0);
	assert_int_equal(bench_hist_percentile(h, 100), 0);
	free(h);
}

static void
small_values_are_exact(void **state)
{
	bench_hist *h = new_hist();

	for (uint64_t v = 1; v <= 100; v++) {
		bench_hist_record(h, v);
	}
	assert_int_equal(h->total, 100);
	assert_int_equal(bench_hist_percentile(h, 50), 50);
	assert_int_equal(bench_hist_percentile(h, 90), 90);
	assert_int_equal(bench_hist_percentile(h, 99), 99);
	assert_int_equal(bench_hist_percentile(h, 99.9), 100);
	assert_int_equal(bench_hist_percentile(h, 100), 100);
	assert_int_equal(h->max_ns, 100);
	free(h);
}

/* 1 to 1000 microseconds: the p-th percentile is p * 10 microseconds. */
static void
percentiles_of_a_uniform_spread_are_within_one_in_64(void **state)
{
	bench_hist *h = new_hist();

	for (uint64_t us = 1; us <= 1000; us++) {
		bench_hist_record(h, us * 1000);
	}
	assert_close(bench_hist_percentile(h, 50), 500000);
	assert_close(bench_hist_percentile(h, 90), 900000);
	assert_close(bench_hist_percentile(h, 99), 990000);
	assert_close(bench_hist_percentile(h, 99.9), 999000);
	assert_int_equal(h->max_ns, 1000000);
	free(h);
}

/* A percentile never reads above the largest value recorded. */
static void
percentile_never_exceeds_the_maximum(void **state)
{
	bench_hist *h = new_hist();

	bench_hist_record(h, 1000001);
	assert_true(bench_hist_percentile(h, 100) <= 1000001);
	assert_close(bench_hist_percentile(h, 100), 1000001);
	free(h);
}

static void
one_slow_request_in_a_thousand_shows_at_p999_only(void **state)
{
	bench_hist *h = new_hist();

	for (int i = 0; i < 999; i++) {
		bench_hist_record(h, 50000);
	}
	bench_hist_record(h, 80000000);
	assert_close(bench_hist_percentile(h, 99), 50000);
	assert_close(bench_hist_percentile(h, 99.9), 50000);
	assert_close(bench_hist_percentile(h, 99.95), 80000000);
	assert_int_equal(h->max_ns, 80000000);
	free(h);
}

static void
huge_values_land_in_the_last_bucket_with_an_exact_maximum(void **state)
{
	bench_hist *h = new_hist();
	uint64_t huge = UINT64_C(1) << 50;

	bench_hist_record(h, huge);
	assert_int_equal(h->counts[BENCH_HIST_BUCKETS - 1], 1);
	assert_int_equal(h->max_ns, huge);
	assert_true(bench_hist_percentile(h, 50) <= huge);
	free(h);
}

static void
merging_adds_counts_and_keeps_the_larger_maximum(void **state)
{
	bench_hist *a = new_hist();
	bench_hist *b = new_hist();

	for (uint64_t v = 1; v <= 50; v++) {
		bench_hist_record(a, v);
		bench_hist_record(b, v + 50);
	}
	bench_hist_merge(a, b);
	assert_int_equal(a->total, 100);
	assert_int_equal(a->max_ns, 100);
	assert_int_equal(bench_hist_percentile(a, 50), 50);
	assert_int_equal(bench_hist_percentile(a, 51), 51);
	free(a);
	free(b);
}

static void
tally_counts_errors_by_cause_and_keeps_the_first(void **state)
{
	bench_tally *a = calloc(1, sizeof(*a));
	bench_tally *b = calloc(1, sizeof(*b));

	assert_non_null(a);
	assert_non_null(b);
	bench_tally_ok(a, 10);
	bench_tally_fail(a, 20, BENCH_FAIL_STATUS, ENRT_PERMISSION_DENIED,
	    "caller may not");
	bench_tally_fail(
	    a, 30, BENCH_FAIL_TRANSPORT, ENRT_UNAVAILABLE, "late");
	bench_tally_fail(b, 40, BENCH_FAIL_ANSWER, ENRT_OK, "wrong");
	bench_tally_ok(b, 50);

	bench_tally_merge(a, b);
	assert_int_equal(a->ok, 2);
	assert_int_equal(bench_tally_errors(a), 3);
	assert_int_equal(a->failed[BENCH_FAIL_STATUS], 1);
	assert_int_equal(a->failed[BENCH_FAIL_TRANSPORT], 1);
	assert_int_equal(a->failed[BENCH_FAIL_ANSWER], 1);
	assert_int_equal(a->hist.total, 5);
	assert_true(a->has_error);
	assert_int_equal(a->first_error.status, ENRT_PERMISSION_DENIED);
	assert_string_equal(a->first_error.message, "caller may not");
	free(a);
	free(b);
}

/* An answer without a wrong is right; one with a wrong is its message. */
static void
tally_counts_an_answer_by_what_is_wrong_with_it(void **state)
{
	bench_tally *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	bench_tally_answer(t, 10, NULL);
	assert_int_equal(t->ok, 1);
	assert_false(t->has_error);

	bench_tally_answer(t, 20, "an active token was answered inactive");
	assert_int_equal(t->ok, 1);
	assert_int_equal(t->failed[BENCH_FAIL_ANSWER], 1);
	assert_int_equal(bench_tally_errors(t), 1);
	assert_int_equal(t->hist.total, 2);
	assert_true(t->has_error);
	assert_int_equal(t->first_error.status, ENRT_OK);
	assert_string_equal(
	    t->first_error.message, "an active token was answered inactive");
	free(t);
}

/* What each kind must be answered, and nothing for the right answer. */
static void
wrong_answer_says_which_way_it_is_wrong(void **state)
{
	assert_null(bench_wrong_answer(BENCH_ACTIVE, true));
	assert_null(bench_wrong_answer(BENCH_REVOKED, false));
	assert_null(bench_wrong_answer(BENCH_UNKNOWN, false));
	assert_null(bench_wrong_answer(BENCH_MALFORMED, false));
	assert_string_equal(bench_wrong_answer(BENCH_ACTIVE, false),
	    "an active token was answered inactive");
	for (int k = BENCH_UNKNOWN; k < BENCH_KINDS; k++) {
		assert_string_equal(bench_wrong_answer((bench_kind)k, true),
		    "an inactive token was answered active");
	}
}

static void
limit_by_count_lets_exactly_that_many_start(void **state)
{
	bench_config cfg = {.requests = 7};
	bench_limit limit;
	int taken = 0;

	bench_limit_init(&limit, &cfg);
	for (int i = 0; i < 20; i++) {
		taken += bench_limit_take(&limit);
	}
	assert_int_equal(taken, 7);
}

static void
limit_by_time_stops_once_the_deadline_has_passed(void **state)
{
	bench_config cfg = {.duration_s = 1};
	bench_limit limit;

	bench_limit_init(&limit, &cfg);
	assert_true(bench_limit_take(&limit));
	limit.deadline_ns = bench_now_ns() - 1;
	assert_false(bench_limit_take(&limit));
}

/* A pool of one value per kind, and the mix 70/10/10/10. */
static void
picks_follow_the_mix(void **state)
{
	static bench_value values[BENCH_KINDS];
	bench_config cfg = {
	    .op = BENCH_OP_INTROSPECT, .mix = {70, 10, 10, 10}};
	bench_pool pool = {0};
	bench_request rq;
	uint64_t rng = 12345;
	unsigned seen[BENCH_KINDS] = {0};
	size_t at = 0;

	for (int k = 0; k < BENCH_KINDS; k++) {
		pool.values[k] = &values[k];
		pool.n[k] = 1;
		for (unsigned i = 0; i < cfg.mix[k]; i++) {
			pool.table[at++] = (bench_kind)k;
		}
	}

	for (int i = 0; i < 100000; i++) {
		bench_pool_pick(&pool, &cfg, &rng, &rq);
		assert_false(rq.issue);
		assert_ptr_equal(rq.value, &values[rq.kind]);
		seen[rq.kind]++;
	}
	assert_in_range(seen[BENCH_ACTIVE], 69000, 71000);
	assert_in_range(seen[BENCH_UNKNOWN], 9500, 10500);
	assert_in_range(seen[BENCH_MALFORMED], 9500, 10500);
	assert_in_range(seen[BENCH_REVOKED], 9500, 10500);
}

static void
mixed_op_issues_its_share(void **state)
{
	static bench_value value;
	bench_config cfg = {
	    .op = BENCH_OP_MIXED, .issue_percent = 25, .mix = {100, 0, 0, 0}};
	bench_pool pool = {.values = {&value}, .n = {1}};
	bench_request rq;
	uint64_t rng = 777;
	unsigned issues = 0;

	for (int i = 0; i < 100000; i++) {
		bench_pool_pick(&pool, &cfg, &rng, &rq);
		issues += rq.issue;
	}
	assert_in_range(issues, 24000, 26000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(empty_histogram_gives_zero),
	    cmocka_unit_test(small_values_are_exact),
	    cmocka_unit_test(
	        percentiles_of_a_uniform_spread_are_within_one_in_64),
	    cmocka_unit_test(percentile_never_exceeds_the_maximum),
	    cmocka_unit_test(
	        one_slow_request_in_a_thousand_shows_at_p999_only),
	    cmocka_unit_test(
	        huge_values_land_in_the_last_bucket_with_an_exact_maximum),
	    cmocka_unit_test(merging_adds_counts_and_keeps_the_larger_maximum),
	    cmocka_unit_test(tally_counts_errors_by_cause_and_keeps_the_first),
	    cmocka_unit_test(tally_counts_an_answer_by_what_is_wrong_with_it),
	    cmocka_unit_test(wrong_answer_says_which_way_it_is_wrong),
	    cmocka_unit_test(limit_by_count_lets_exactly_that_many_start),
	    cmocka_unit_test(limit_by_time_stops_once_the_deadline_has_passed),
	    cmocka_unit_test(picks_follow_the_mix),
	    cmocka_unit_test(mixed_op_issues_its_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
