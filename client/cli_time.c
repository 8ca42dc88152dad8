/*
 * Time parsing and formatting for the enrt CLI.
 *
 * The calendar arithmetic is done here rather than with timegm and
 * gmtime, because timegm quietly turns 2031-02-30 into 2031-03-02 and the
 * CLI must refuse such a date instead.  Pure functions, no state; any
 * thread may call them.
 */
#include "cli_time.h"

#include <string.h>

#define SECONDS_PER_DAY 86400
#define MIN_YEAR        1970
#define MAX_YEAR        9999

/* Days before the first of each month in a common year. */
static const int days_before_month[12] = {
    0,
    31,
    59,
    90,
    120,
    151,
    181,
    212,
    243,
    273,
    304,
    334,
};

static bool
is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
days_in_month(int year, int month)
{
	static const int days[12] = {
	    31,
	    28,
	    31,
	    30,
	    31,
	    30,
	    31,
	    31,
	    30,
	    31,
	    30,
	    31,
	};

	return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

/* Leap years in 1..year-1, by the Gregorian rule. */
static int64_t
leap_years_before(int year)
{
	int64_t y = year - 1;

	return y / 4 - y / 100 + y / 400;
}

/* Days from 1970-01-01 to the first of January of year. */
static int64_t
days_before_year(int year)
{
	return 365 * (int64_t)(year - MIN_YEAR) + leap_years_before(year) -
	       leap_years_before(MIN_YEAR);
}

/* Days from 1970-01-01 to a date already known to be valid. */
static int64_t
days_from_date(int year, int month, int day)
{
	int64_t days = days_before_year(year) + days_before_month[month - 1];

	if (month > 2 && is_leap(year)) {
		days++;
	}
	return days + day - 1;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

/* Reads exactly n decimal digits at *p and moves *p past them. */
static bool
read_digits(const char **p, int n, int *out)
{
	int value = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9') {
			return false;
		}
		value = value * 10 + (c - '0');
	}
	*p += n;
	*out = value;
	return true;
}

static bool
read_char(const char **p, char lower, char upper)
{
	if (**p != lower && **p != upper) {
		return false;
	}
	(*p)++;
	return true;
}

static bool
read_date(const char **p, int *year, int *month, int *day)
{
	if (!read_digits(p, 4, year) || !read_char(p, '-', '-') ||
	    !read_digits(p, 2, month) || !read_char(p, '-', '-') ||
	    !read_digits(p, 2, day)) {
		return false;
	}
	if (*year < MIN_YEAR || *year > MAX_YEAR || *month < 1 ||
	    *month > 12) {
		return false;
	}
	return *day >= 1 && *day <= days_in_month(*year, *month);
}

/*
 * A leap second (":60") is refused: Unix time has no name for it, and
 * an expiry one second either way of it gains nothing.
 */
static bool
read_clock(const char **p, int *seconds)
{
	int hour;
	int minute;
	int second;

	if (!read_digits(p, 2, &hour) || !read_char(p, ':', ':') ||
	    !read_digits(p, 2, &minute) || !read_char(p, ':', ':') ||
	    !read_digits(p, 2, &second)) {
		return false;
	}
	if (hour > 23 || minute > 59 || second > 59) {
		return false;
	}
	*seconds = hour * 3600 + minute * 60 + second;
	return true;
}

/* "." and at least one digit, all dropped; or nothing at all. */
static bool
skip_fraction(const char **p)
{
	if (**p != '.') {
		return true;
	}
	(*p)++;
	if (**p < '0' || **p > '9') {
		return false;
	}
	while (**p >= '0' && **p <= '9') {
		(*p)++;
	}
	return true;
}

/* "Z", or "+HH:MM" / "-HH:MM"; the seconds to add to reach UTC. */
static bool
read_offset(const char **p, int *to_utc)
{
	int sign;
	int hour;
	int minute;

	if (read_char(p, 'z', 'Z')) {
		*to_utc = 0;
		return true;
	}
	if (**p != '+' && **p != '-') {
		return false;
	}
	sign = **p == '+' ? -1 : 1;
	(*p)++;

	if (!read_digits(p, 2, &hour) || !read_char(p, ':', ':') ||
	    !read_digits(p, 2, &minute) || hour > 23 || minute > 59) {
		return false;
	}
	*to_utc = sign * (hour * 3600 + minute * 60);
	return true;
}

bool
cli_time_parse(const char *text, int64_t *out)
{
	const char *p = text;
	int year, month, day;
	int seconds;
	int to_utc;
	int64_t t;

	if (!read_date(&p, &year, &month, &day) || !read_char(&p, 't', 'T') ||
	    !read_clock(&p, &seconds) || !skip_fraction(&p) ||
	    !read_offset(&p, &to_utc) || *p != '\0') {
		return false;
	}

	t = days_from_date(year, month, day) * SECONDS_PER_DAY + seconds +
	    to_utc;
	if (t < 0 || t > ENRT_TIME_MAX) {
		return false;
	}
	*out = t;
	return true;
}

static int64_t
unit_seconds(char unit)
{
	switch (unit) {
	case 'd':
		return SECONDS_PER_DAY;
	case 'h':
		return 3600;
	case 'm':
		return 60;
	default:
		return 0;
	}
}

/*
 * A duration: 1 to 9 digits then one unit letter, at least 1 (at most
 * 999999999 days), in seconds.
 */
static bool
parse_duration(const char *text, int64_t *out)
{
	size_t len = strlen(text);
	int64_t count = 0;
	int64_t unit;

	if (len < 2 || len > 10 || (unit = unit_seconds(text[len - 1])) == 0) {
		return false;
	}
	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] < '0' || text[i] > '9') {
			return false;
		}
		count = count * 10 + (text[i] - '0');
	}
	if (count < 1) {
		return false;
	}
	*out = count * unit;
	return true;
}

static bool
parse_relative(const char *text, int64_t now, int64_t *out)
{
	int64_t secs;

	if (!parse_duration(text, &secs) || now < 0 ||
	    secs > ENRT_TIME_MAX - now) {
		return false;
	}
	*out = now + secs;
	return true;
}

bool
cli_time_parse_expiry(const char *text, int64_t now, bool *never, int64_t *out)
{
	if (strcmp(text, "never") == 0) {
		*never = true;
		return true;
	}
	if (parse_relative(text, now, out) || cli_time_parse(text, out)) {
		*never = false;
		return true;
	}
	return false;
}

bool
cli_time_parse_since(const char *text, int64_t now, int64_t *out)
{
	int64_t secs;

	if (parse_duration(text, &secs)) {
		if (now < 0 || now > ENRT_TIME_MAX || secs > now) {
			return false;
		}
		*out = now - secs;
		return true;
	}
	return cli_time_parse(text, out);
}

/* ------------------------------------------------------------------ */
/* Formatting                                                          */

/* The year holding day number days (days since 1970-01-01, >= 0). */
static int
year_of_day(int64_t days)
{
	int year = MIN_YEAR + (int)(days / 366);

	while (days_before_year(year + 1) <= days) {
		year++;
	}
	return year;
}

/* The month of year holding day number days. */
static int
month_of_day(int year, int64_t days)
{
	int month = 12;

	while (days_from_date(year, month, 1) > days) {
		month--;
	}
	return month;
}

/* Writes value as exactly width decimal digits, zero padded. */
static void
put_digits(char *p, int value, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + value % 10);
		value /= 10;
	}
}

bool
cli_time_format(int64_t t, char out[CLI_TIME_LEN])
{
	int64_t days = t / SECONDS_PER_DAY;
	int secs = (int)(t % SECONDS_PER_DAY);
	int year, month;

	out[0] = '\0';
	if (t < 0 || t > ENRT_TIME_MAX) {
		return false;
	}

	year = year_of_day(days);
	month = month_of_day(year, days);
	memcpy(out, "YYYY-MM-DDTHH:MM:SSZ", CLI_TIME_LEN);
	put_digits(out, year, 4);
	put_digits(out + 5, month, 2);
	put_digits(
	    out + 8, (int)(days - days_from_date(year, month, 1)) + 1, 2);
	put_digits(out + 11, secs / 3600, 2);
	put_digits(out + 14, secs / 60 % 60, 2);
	put_digits(out + 17, secs % 60, 2);
	return true;
}
