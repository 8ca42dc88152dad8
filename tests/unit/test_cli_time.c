/*
 * Tests of the CLI's time parsing and formatting: known answers checked
 * against `date -u -d ... +%s`, the rejections the CLI promises, and a
 * sweep that compares the formatter with the C library's gmtime_r.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli_time.h"

/* 2031-01-01T00:00:00Z, a "now" for the relative forms. */
#define NOW INT64_C(1924992000)

static void
expect_parse(const char *text, int64_t want)
{
	int64_t got = -1;

	if (!cli_time_parse(text, &got)) {
		fail_msg("rejected %s", text);
	}
	if (got != want) {
		fail_msg("%s: got %lld, want %lld", text, (long long)got,
		    (long long)want);
	}
}

static void
expect_reject(const char *text)
{
	int64_t got = 42;

	if (cli_time_parse(text, &got)) {
		fail_msg("accepted %s as %lld", text, (long long)got);
	}
	assert_int_equal(got, 42);
}

static void
expect_format(int64_t t, const char *want)
{
	char out[CLI_TIME_LEN];

	assert_true(cli_time_format(t, out));
	assert_string_equal(out, want);
}

static void
parse_gives_known_answers_in_utc(void **state)
{
	expect_parse("1970-01-01T00:00:00Z", 0);
	expect_parse("2038-01-19T03:14:07Z", INT64_C(2147483647));
	expect_parse("2038-01-19T03:14:08Z", INT64_C(2147483648));
	expect_parse("2106-02-07T06:28:15Z", INT64_C(4294967295));
	expect_parse("2106-02-07T06:28:16Z", INT64_C(4294967296));
	expect_parse("2031-01-01T00:00:00Z", NOW);
	expect_parse("2024-02-29T12:34:56Z", INT64_C(1709210096));
	expect_parse("1972-12-31T23:59:59Z", INT64_C(94694399));
	expect_parse("9999-12-31T23:59:59Z", INT64_C(253402300799));
}

static void
parse_moves_offsets_to_utc(void **state)
{
	expect_parse("2031-01-01T02:00:00+02:00", NOW);
	expect_parse("2030-12-31T19:00:00-05:00", NOW);
	expect_parse("2031-01-01T05:45:00+05:45", NOW);
	expect_parse("2031-01-01T00:00:00-00:00", NOW);
	expect_parse("2031-01-01T00:00:00+00:00", NOW);
	expect_parse("2030-12-31T00:01:00-23:59", NOW);
}

static void
parse_truncates_fractional_seconds(void **state)
{
	expect_parse("2031-01-01T00:00:00.999Z", NOW);
	expect_parse("2031-01-01T00:00:00.0Z", NOW);
	expect_parse("2031-01-01T02:00:00.123456789+02:00", NOW);
}

static void
parse_accepts_lower_case_t_and_z(void **state)
{
	expect_parse("2031-01-01t00:00:00z", NOW);
}

static void
parse_accepts_leap_days_only_in_leap_years(void **state)
{
	expect_parse("2000-02-29T00:00:00Z", INT64_C(951782400));
	expect_parse("2400-02-29T00:00:00Z", INT64_C(13574563200));
	expect_reject("2100-02-29T00:00:00Z");
	expect_reject("2031-02-29T00:00:00Z");
	expect_reject("2032-02-30T00:00:00Z");
}

static void
parse_rejects_days_past_the_end_of_the_month(void **state)
{
	expect_reject("2031-02-30T00:00:00Z");
	expect_reject("2031-04-31T00:00:00Z");
	expect_reject("2031-01-32T00:00:00Z");
	expect_reject("2031-01-00T00:00:00Z");
}

static void
parse_rejects_fields_out_of_range(void **state)
{
	expect_reject("2031-13-01T00:00:00Z");
	expect_reject("2031-00-01T00:00:00Z");
	expect_reject("2031-01-01T24:00:00Z");
	expect_reject("2031-01-01T23:60:00Z");
	expect_reject("2031-01-01T23:59:60Z");
	expect_reject("2031-01-01T00:00:00+24:00");
	expect_reject("2031-01-01T00:00:00+01:60");
}

static void
parse_rejects_years_outside_1970_to_9999(void **state)
{
	expect_reject("1969-12-31T23:59:59Z");
	expect_reject("0000-01-01T00:00:00Z");
	expect_reject("10000-01-01T00:00:00Z");
	expect_reject("1970-01-01T00:30:00+01:00");
	expect_reject("9999-12-31T23:59:59-00:01");
}

static void
parse_rejects_malformed_text(void **state)
{
	expect_reject("");
	expect_reject("2031-01-01");
	expect_reject("2031-01-01T00:00:00");
	expect_reject("2031-01-01 00:00:00Z");
	expect_reject("2031-1-01T00:00:00Z");
	expect_reject("2031-01-01T0:00:00Z");
	expect_reject("2031-01-01T00:00Z");
	expect_reject("2031-01-01T00:00:00.Z");
	expect_reject("2031-01-01T00:00:00Zjunk");
	expect_reject("2031-01-01T00:00:00+0200");
	expect_reject("2031-01-01T00:00:00+02");
	expect_reject(" 2031-01-01T00:00:00Z");
	expect_reject("+031-01-01T00:00:00Z");
	expect_reject("1924992000");
}

static void
expiry_accepts_never_without_an_instant(void **state)
{
	bool never = false;
	int64_t t = 7;

	assert_true(cli_time_parse_expiry("never", NOW, &never, &t));
	assert_true(never);
	assert_int_equal(t, 7);
}

static void
expiry_adds_relative_durations_to_now(void **state)
{
	bool never = true;
	int64_t t = 0;

	assert_true(cli_time_parse_expiry("30d", NOW, &never, &t));
	assert_false(never);
	assert_int_equal(t, NOW + 30 * 86400);
	assert_true(cli_time_parse_expiry("12h", NOW, &never, &t));
	assert_int_equal(t, NOW + 12 * 3600);
	assert_true(cli_time_parse_expiry("45m", NOW, &never, &t));
	assert_int_equal(t, NOW + 45 * 60);
	assert_true(cli_time_parse_expiry("1d", NOW, &never, &t));
	assert_int_equal(t, NOW + 86400);
}

static void
expiry_accepts_rfc3339_times(void **state)
{
	bool never = true;
	int64_t t = 0;

	assert_true(cli_time_parse_expiry(
	    "2038-01-19T05:14:08+02:00", NOW, &never, &t));
	assert_false(never);
	assert_int_equal(t, INT64_C(2147483648));
}

static void
expect_expiry_reject(const char *text)
{
	bool never = false;
	int64_t t = 0;

	if (cli_time_parse_expiry(text, NOW, &never, &t)) {
		fail_msg("accepted --expires %s", text);
	}
}

static void
expiry_rejects_other_forms(void **state)
{
	expect_expiry_reject("");
	expect_expiry_reject("0d");
	expect_expiry_reject("30");
	expect_expiry_reject("d");
	expect_expiry_reject("30s");
	expect_expiry_reject("30D");
	expect_expiry_reject("-5d");
	expect_expiry_reject("+5d");
	expect_expiry_reject("1.5d");
	expect_expiry_reject("5 d");
	expect_expiry_reject("Never");
	expect_expiry_reject("never ");
	expect_expiry_reject("2031-02-30T00:00:00Z");
}

static void
expiry_rejects_instants_past_year_9999(void **state)
{
	expect_expiry_reject("9999999999d");
	expect_expiry_reject("999999999d");
}

static void
expect_since_reject(const char *text)
{
	int64_t t = 42;

	if (cli_time_parse_since(text, NOW, &t)) {
		fail_msg("accepted %s as %lld", text, (long long)t);
	}
	assert_int_equal(t, 42);
}

static void
since_subtracts_relative_durations_from_now(void **state)
{
	int64_t t = 0;

	assert_true(cli_time_parse_since("1h", NOW, &t));
	assert_int_equal(t, NOW - 3600);
	assert_true(cli_time_parse_since("30d", NOW, &t));
	assert_int_equal(t, NOW - 30 * 86400);
	assert_true(cli_time_parse_since("45m", NOW, &t));
	assert_int_equal(t, NOW - 45 * 60);
	assert_true(cli_time_parse_since("22280d", NOW, &t));
	assert_int_equal(t, 0);
}

static void
since_accepts_rfc3339_times(void **state)
{
	int64_t t = 0;

	assert_true(cli_time_parse_since("2030-12-31T23:00:00Z", NOW, &t));
	assert_int_equal(t, NOW - 3600);
	assert_true(
	    cli_time_parse_since("2031-01-01T02:00:00+02:00", NOW, &t));
	assert_int_equal(t, NOW);
	/* A time after now is a fine start: it lists nothing yet. */
	assert_true(cli_time_parse_since("2032-01-01T00:00:00Z", NOW, &t));
	assert_int_equal(t, NOW + 365 * 86400);
}

static void
since_rejects_other_forms_and_times_before_1970(void **state)
{
	expect_since_reject("");
	expect_since_reject("0h");
	expect_since_reject("1");
	expect_since_reject("1s");
	expect_since_reject("-1h");
	expect_since_reject("never");
	expect_since_reject("yesterday");
	expect_since_reject("2031-02-30T00:00:00Z");
	expect_since_reject("22281d");
	expect_since_reject("999999999d");
}

static void
format_gives_known_answers(void **state)
{
	expect_format(0, "1970-01-01T00:00:00Z");
	expect_format(INT64_C(2147483647), "2038-01-19T03:14:07Z");
	expect_format(INT64_C(2147483648), "2038-01-19T03:14:08Z");
	expect_format(INT64_C(4294967295), "2106-02-07T06:28:15Z");
	expect_format(INT64_C(4294967296), "2106-02-07T06:28:16Z");
	expect_format(INT64_C(951782400), "2000-02-29T00:00:00Z");
	expect_format(INT64_C(13574563200), "2400-02-29T00:00:00Z");
	expect_format(INT64_C(94694399), "1972-12-31T23:59:59Z");
	expect_format(ENRT_TIME_MAX, "9999-12-31T23:59:59Z");
}

static void
format_rejects_instants_outside_the_range(void **state)
{
	char out[CLI_TIME_LEN] = "x";

	assert_false(cli_time_format(-1, out));
	assert_string_equal(out, "");
	assert_false(cli_time_format(ENRT_TIME_MAX + 1, out));
}

/* Steps of a little over a day and a half reach every month and time. */
static void
format_agrees_with_gmtime_and_parse_inverts_it(void **state)
{
	const int64_t step = 86400 + 43200 + 3601 + 7;
	char want[CLI_TIME_LEN];
	char got[CLI_TIME_LEN];
	struct tm tm;
	int64_t back;

	for (int64_t t = 0; t <= ENRT_TIME_MAX; t += step) {
		time_t tt = (time_t)t;

		assert_non_null(gmtime_r(&tt, &tm));
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		assert_true(cli_time_format(t, got));
		assert_string_equal(got, want);
		assert_true(cli_time_parse(got, &back));
		assert_int_equal(back, t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parse_gives_known_answers_in_utc),
	    cmocka_unit_test(parse_moves_offsets_to_utc),
	    cmocka_unit_test(parse_truncates_fractional_seconds),
	    cmocka_unit_test(parse_accepts_lower_case_t_and_z),
	    cmocka_unit_test(parse_accepts_leap_days_only_in_leap_years),
	    cmocka_unit_test(parse_rejects_days_past_the_end_of_the_month),
	    cmocka_unit_test(parse_rejects_fields_out_of_range),
	    cmocka_unit_test(parse_rejects_years_outside_1970_to_9999),
	    cmocka_unit_test(parse_rejects_malformed_text),
	    cmocka_unit_test(expiry_accepts_never_without_an_instant),
	    cmocka_unit_test(expiry_adds_relative_durations_to_now),
	    cmocka_unit_test(expiry_accepts_rfc3339_times),
	    cmocka_unit_test(expiry_rejects_other_forms),
	    cmocka_unit_test(expiry_rejects_instants_past_year_9999),
	    cmocka_unit_test(since_subtracts_relative_durations_from_now),
	    cmocka_unit_test(since_accepts_rfc3339_times),
	    cmocka_unit_test(since_rejects_other_forms_and_times_before_1970),
	    cmocka_unit_test(format_gives_known_answers),
	    cmocka_unit_test(format_rejects_instants_outside_the_range),
	    cmocka_unit_test(format_agrees_with_gmtime_and_parse_inverts_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
