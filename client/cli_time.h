/*
 * Times as the enrt CLI reads and writes them.  Instants are Unix seconds
 * from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z; text is RFC 3339.
 */
#ifndef ENRT_CLI_TIME_H
#define ENRT_CLI_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include "enrt.h"

/* "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define CLI_TIME_LEN 21

/*
 * Parses an RFC 3339 date-time, "2031-01-01T00:00:00Z" or with an offset
 * such as "+02:00", into Unix seconds (UTC).  Fractional seconds are
 * allowed and dropped.  Every field is range-checked (no 2031-02-30, no
 * leap second 60); the year must be 1970..9999 and so must the instant
 * once moved to UTC.  Returns false, leaving *out alone, on anything
 * else.
 */
bool cli_time_parse(const char *text, int64_t *out);

/*
 * Parses the value of --expires: an RFC 3339 date-time as above, a whole
 * number of days, hours or minutes from now ("30d", "12h", "45m", at
 * least 1), or "never".  For "never" sets *never and leaves *out alone;
 * otherwise clears *never and sets *out.  Returns false on anything else
 * or when the instant would pass ENRT_TIME_MAX.
 */
bool cli_time_parse_expiry(
    const char *text, int64_t now, bool *never, int64_t *out);

/*
 * Parses the value of --since: an RFC 3339 date-time as above, or a
 * whole number of days, hours or minutes before now ("30d", "1h",
 * "45m", at least 1).  Returns false, leaving *out alone, on anything
 * else or when the instant would fall before 1970.
 */
bool cli_time_parse_since(const char *text, int64_t now, int64_t *out);

/*
 * Writes t as "YYYY-MM-DDTHH:MM:SSZ" into out.  Returns false, writing
 * an empty string, when t is before 1970 or after ENRT_TIME_MAX.
 */
bool cli_time_format(int64_t t, char out[CLI_TIME_LEN]);

#endif /* ENRT_CLI_TIME_H */
