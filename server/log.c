/*
 * The log facade: one line per event on standard error or in a file, in
 * the form "TIME LEVEL event=NAME key=value ...".  Owns the current
 * level and the descriptor written to, both atomics, so any thread may
 * log or change the level at any time; the file is opened and closed on
 * the main thread, before and after the other threads run.
 *
 * Each line is formatted whole in a buffer on the caller's stack and then
 * handed to the kernel in one write(2), so that lines from different
 * threads never interleave.  Control characters in the fields are
 * replaced, so that no value can start a line of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LINE_MAX_LEN 2048
#define TRUNCATED    " log_truncated=true\n"

static atomic_int current_level = LOG_INFO;
static atomic_int out_fd = STDERR_FILENO;

static const char *const level_names[] = {
    [LOG_ERROR] = "error",
    [LOG_WARN] = "warn",
    [LOG_INFO] = "info",
    [LOG_DEBUG] = "debug",
};

#define LEVEL_COUNT (sizeof(level_names) / sizeof(level_names[0]))

void
log_set_level(log_level level)
{
	atomic_store_explicit(
	    &current_level, (int)level, memory_order_relaxed);
}

bool
log_parse_level(const char *name, log_level *level)
{
	size_t i;

	if (name == NULL || level == NULL) {
		return false;
	}
	for (i = 0; i < LEVEL_COUNT; i++) {
		if (strcmp(level_names[i], name) == 0) {
			*level = (log_level)i;
			return true;
		}
	}
	return false;
}

bool
log_enabled(log_level level)
{
	return (int)level <=
	       atomic_load_explicit(&current_level, memory_order_relaxed);
}

const char *
log_level_name(log_level level)
{
	return (size_t)level < LEVEL_COUNT ? level_names[level] : "unknown";
}

enrt_status
log_open_file(const char *path, err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "log file %s: cannot open: %s", path, strerror(errno));
	}
	log_close_file();
	atomic_store(&out_fd, fd);
	return ENRT_OK;
}

void
log_close_file(void)
{
	int fd = atomic_exchange(&out_fd, STDERR_FILENO);

	if (fd != STDERR_FILENO) {
		close(fd);
	}
}

/* Writes the time, level and event into buf; returns the length. */
static size_t
line_head(char *buf, size_t size, log_level level, const char *event)
{
	time_t now = time(NULL);
	struct tm tm;
	size_t n;
	int m;

	gmtime_r(&now, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);

	m = snprintf(buf + n, size - n, " %s event=%s", log_level_name(level),
	    event != NULL ? event : "unnamed");
	return m < 0 ? n : n + (size_t)m;
}

/* Replaces bytes below 0x20 and DEL, so the line stays one line. */
static void
replace_controls(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			s[i] = '?';
		}
	}
}

/* Hands the whole line to the kernel; retries only what it did not take. */
static void
write_line(const char *buf, size_t len)
{
	int fd = atomic_load_explicit(&out_fd, memory_order_relaxed);
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * Appends a space and the formatted fields after len bytes; returns the
 * new length, which is room or more when they did not fit.
 */
static size_t
append_fields(
    char *buf, size_t room, size_t len, const char *fields, va_list ap)
{
	char *at = buf + len + 1;
	int m;

	if (fields == NULL || fields[0] == '\0') {
		return len;
	}
	if (len + 1 >= room) {
		return room;
	}

	buf[len] = ' ';
	m = vsnprintf(at, room - len - 1, fields, ap);
	if (m <= 0) {
		return len; /* nothing to separate after all */
	}
	replace_controls(at, strnlen(at, room - len - 1));
	return len + 1 + (size_t)m;
}

/*
 * Ends the line in buf (size bytes) with a newline, or, when len says it
 * did not fit, cuts it and ends it with a mark.  Returns its length.
 */
static size_t
end_line(char *buf, size_t size, size_t len)
{
	if (len < size - 1) {
		buf[len] = '\n';
		return len + 1;
	}
	len = size - sizeof(TRUNCATED);
	memcpy(buf + len, TRUNCATED, sizeof(TRUNCATED) - 1);
	return len + sizeof(TRUNCATED) - 1;
}

void
log_write(log_level level, const char *event, const char *fields, ...)
{
	char buf[LINE_MAX_LEN];
	size_t room = sizeof(buf) - 1; /* keep one byte for the newline */
	size_t len;
	va_list ap;

	/* Direct callers get the same filter as the macros. */
	if (!log_enabled(level)) {
		return;
	}

	len = line_head(buf, room, level, event);
	va_start(ap, fields);
	len = append_fields(buf, room, len, fields, ap);
	va_end(ap);

	write_line(buf, end_line(buf, sizeof(buf), len));
}
