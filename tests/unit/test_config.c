/*
 * Tests of enrtd's settings: the defaults, the precedence of flags over
 * ENRTD_* variables over the INI file, listen as a list, every refusal
 * naming its file, line, key and rule, and --print-config, whose output
 * reads back as the same settings and holds nothing secret.  Each test
 * writes its INI file in a temporary directory and clears the ENRTD_*
 * variables first.
 */
#define _GNU_SOURCE /* open_memstream */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define ARGS_MAX 16

static const char *const variables[] = {"ENRTD_CONFIG", "ENRTD_DATA",
    "ENRTD_LISTEN", "ENRTD_LOG_LEVEL", "ENRTD_LOG_FILE",
    "ENRTD_FLUSH_INTERVAL", "ENRTD_MAP_SIZE", "ENRTD_CONTEXTS",
    "ENRTD_COMMIT_BATCH", "ENRTD_TLS_CERT", "ENRTD_TLS_KEY",
    "ENRTD_INSECURE_TCP", "ENRTD_HTTP"};

typedef struct fixture {
	char dir[64];
	char file[96];
	config cfg;
	err e;
} fixture;

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/enrt-config-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->file, sizeof(f->file), "%s/enrtd.conf", f->dir);
	for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++) {
		unsetenv(variables[i]);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	config_free(&f->cfg);
	unlink(f->file);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
write_file(const fixture *f, const char *text)
{
	FILE *out = fopen(f->file, "w");

	assert_non_null(out);
	assert_int_equal(fputs(text, out) >= 0, 1);
	assert_int_equal(fclose(out), 0);
}

/* Loads from "enrtd" and the NULL-ended flags after it. */
static enrt_status
load(fixture *f, ...)
{
	char *argv[ARGS_MAX] = {"enrtd"};
	int argc = 1;
	va_list ap;
	char *arg;

	va_start(ap, f);
	while ((arg = va_arg(ap, char *)) != NULL && argc < ARGS_MAX - 1) {
		argv[argc++] = arg;
	}
	va_end(ap);
	config_free(&f->cfg);
	return config_load(&f->cfg, argc, argv, &f->e);
}

static void
assert_refused(fixture *f, const char *expected)
{
	assert_int_equal(f->e.code, ENRT_INVALID_ARGUMENT);
	if (strstr(f->e.message, expected) == NULL) {
		fail_msg(
		    "message \"%s\" lacks \"%s\"", f->e.message, expected);
	}
}

/* The refusal of a file's text: "FILE:LINE: KEY: rule". */
static void
assert_file_refused(
    fixture *f, const char *text, int line, const char *key, const char *rule)
{
	char expected[256];

	write_file(f, text);
	assert_int_equal(
	    load(f, "--config", f->file, NULL), ENRT_INVALID_ARGUMENT);
	snprintf(expected, sizeof(expected), "%s:%d: %s: %s", f->file, line,
	    key, rule);
	assert_refused(f, expected);
}

static char *
printed(const config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	config_print(cfg, out);
	assert_int_equal(fclose(out), 0);
	return text;
}

/* ------------------------------------------------------------------ */

static void
config_defaults_without_any_source(void **state)
{
	fixture *f = *state;

	assert_int_equal(load(f, NULL), ENRT_OK);
	assert_string_equal(f->cfg.data, "enrt-data");
	assert_int_equal(f->cfg.n_urls, 0);
	assert_int_equal(f->cfg.log_level, LOG_INFO);
	assert_int_equal(f->cfg.flush_s, 60);
	assert_int_equal(f->cfg.map_mib, 1024);
	assert_int_equal(f->cfg.contexts, 64);
	assert_int_equal(f->cfg.retention_days, 30);
	assert_null(f->cfg.backup_dir);
	assert_int_equal(f->cfg.commit_batch, 256);
	assert_null(f->cfg.http);
	assert_null(f->cfg.log_file);
	assert_false(f->cfg.insecure_tcp);
	assert_int_equal(f->cfg.source[CONFIG_DATA], CONFIG_FROM_DEFAULT);
	assert_int_equal(f->cfg.action, CONFIG_SERVE);
}

static void
config_reads_every_setting_from_the_file(void **state)
{
	fixture *f = *state;

	write_file(f, "# a comment\n[enrtd]\ndata = /srv/enrt\n"
	              "listen = ipc:///srv/enrt/a.sock\n"
	              "    tcp://127.0.0.1:7700\n"
	              "log-level = debug\nlog-file = /var/log/enrtd.log\n"
	              "flush-interval = 5\nmap-size = 64\ncontexts = 8\n"
	              "commit-batch = 1\n"
	              "tls-cert = c.pem\ntls-key = k.pem\n"
	              "insecure-tcp = true\nhttp = [::1]:7601\n"
	              "retention-days = 0\nbackup-dir = /srv/backups\n");
	assert_int_equal(load(f, "--config", f->file, NULL), ENRT_OK);
	assert_int_equal(f->cfg.retention_days, 0);
	assert_string_equal(f->cfg.backup_dir, "/srv/backups");
	assert_string_equal(f->cfg.data, "/srv/enrt");
	assert_int_equal(f->cfg.n_urls, 2);
	assert_string_equal(f->cfg.urls[0], "ipc:///srv/enrt/a.sock");
	assert_string_equal(f->cfg.urls[1], "tcp://127.0.0.1:7700");
	assert_int_equal(f->cfg.log_level, LOG_DEBUG);
	assert_string_equal(f->cfg.log_file, "/var/log/enrtd.log");
	assert_int_equal(f->cfg.flush_s, 5);
	assert_int_equal(f->cfg.map_mib, 64);
	assert_int_equal(f->cfg.contexts, 8);
	assert_int_equal(f->cfg.commit_batch, 1);
	assert_string_equal(f->cfg.tls_cert, "c.pem");
	assert_string_equal(f->cfg.tls_key, "k.pem");
	assert_true(f->cfg.insecure_tcp);
	assert_string_equal(f->cfg.http, "[::1]:7601");
	assert_int_equal(f->cfg.source[CONFIG_HTTP], CONFIG_FROM_FILE);
}

static void
config_environment_beats_file_and_flag_beats_environment(void **state)
{
	fixture *f = *state;

	write_file(f, "[enrtd]\nflush-interval = 5\nmap-size = 64\n"
	              "contexts = 8\n");
	setenv("ENRTD_MAP_SIZE", "128", 1);
	setenv("ENRTD_CONTEXTS", "16", 1);
	assert_int_equal(
	    load(f, "--config", f->file, "--contexts", "32", NULL), ENRT_OK);
	assert_int_equal(f->cfg.flush_s, 5);
	assert_int_equal(f->cfg.map_mib, 128);
	assert_int_equal(f->cfg.contexts, 32);
	assert_int_equal(
	    f->cfg.source[CONFIG_FLUSH_INTERVAL], CONFIG_FROM_FILE);
	assert_int_equal(f->cfg.source[CONFIG_MAP_SIZE], CONFIG_FROM_ENV);
	assert_int_equal(f->cfg.source[CONFIG_CONTEXTS], CONFIG_FROM_FLAG);
}

static void
config_file_named_by_the_environment_is_read(void **state)
{
	fixture *f = *state;

	write_file(f, "[enrtd]\ndata = from-file\n");
	setenv("ENRTD_CONFIG", f->file, 1);
	assert_int_equal(load(f, NULL), ENRT_OK);
	assert_string_equal(f->cfg.data, "from-file");
	assert_string_equal(f->cfg.file, f->file);
}

static void
config_higher_source_replaces_the_listen_list(void **state)
{
	fixture *f = *state;

	write_file(f, "[enrtd]\nlisten = ipc:///a.sock\nlisten = ipc:///b\n");
	setenv("ENRTD_LISTEN", "tcp://127.0.0.1:1,tcp://127.0.0.1:2", 1);
	assert_int_equal(load(f, "--config", f->file, NULL), ENRT_OK);
	assert_int_equal(f->cfg.n_urls, 2);
	assert_string_equal(f->cfg.urls[0], "tcp://127.0.0.1:1");
	assert_string_equal(f->cfg.urls[1], "tcp://127.0.0.1:2");

	assert_int_equal(load(f, "--config", f->file, "--listen", "ipc:///c",
	                     "--listen", "ipc:///d", NULL),
	    ENRT_OK);
	assert_int_equal(f->cfg.n_urls, 2);
	assert_string_equal(f->cfg.urls[0], "ipc:///c");
	assert_string_equal(f->cfg.urls[1], "ipc:///d");
}

static void
config_file_listen_lines_add_up(void **state)
{
	fixture *f = *state;

	write_file(f, "[enrtd]\nlisten = ipc:///a.sock\n\tipc:///b.sock\n"
	              "listen = ipc:///c.sock\n");
	assert_int_equal(load(f, "--config", f->file, NULL), ENRT_OK);
	assert_int_equal(f->cfg.n_urls, 3);
	assert_string_equal(f->cfg.urls[2], "ipc:///c.sock");
}

static void
config_refuses_an_unknown_key(void **state)
{
	assert_file_refused(
	    *state, "[enrtd]\ndata = x\nport = 1\n", 3, "port", "unknown key");
}

static void
config_refuses_an_unknown_section(void **state)
{
	assert_file_refused(*state, "[enrtd]\ndata = x\n[extra]\n", 3,
	    "section", "unknown; the only section is [enrtd]");
}

static void
config_refuses_a_key_outside_the_section(void **state)
{
	assert_file_refused(*state, "data = x\n", 1, "data",
	    "outside a section; settings go under [enrtd]");
}

static void
config_refuses_bad_values_naming_the_rule(void **state)
{
	fixture *f = *state;

	assert_file_refused(f, "[enrtd]\nflush-interval = 61\n", 2,
	    "flush-interval",
	    "must be a whole number of seconds from 1 to 60");
	assert_file_refused(f, "[enrtd]\n\nmap-size = 1k\n", 3, "map-size",
	    "must be a whole number of MiB from 1 to 1048576");
	assert_file_refused(f, "[enrtd]\nretention-days = 36501\n", 2,
	    "retention-days",
	    "must be a whole number of days from 0 to 36500");
	assert_file_refused(f, "[enrtd]\ncontexts = 0\n", 2, "contexts",
	    "must be a whole number from 1 to 4096");
	assert_file_refused(f, "[enrtd]\nlog-level = loud\n", 2, "log-level",
	    "must be error, warn, info or debug");
	assert_file_refused(f, "[enrtd]\ninsecure-tcp = yes\n", 2,
	    "insecure-tcp", "must be true or false");
	assert_file_refused(
	    f, "[enrtd]\nhttp = ::1:80\n", 2, "http", "must be HOST:PORT");
	assert_file_refused(f, "[enrtd]\nhttp = localhost:0\n", 2, "http",
	    "must be HOST:PORT");
	assert_file_refused(
	    f, "[enrtd]\ndata =\n", 2, "data", "must not be empty");
}

static void
config_refuses_a_key_given_twice(void **state)
{
	assert_file_refused(
	    *state, "[enrtd]\ndata = a\ndata = b\n", 3, "data", "given twice");
}

static void
config_refuses_more_lines_for_a_single_value(void **state)
{
	assert_file_refused(*state, "[enrtd]\ndata = a\n    b\n", 3, "data",
	    "only listen takes more than one line");
}

static void
config_refuses_a_line_too_long(void **state)
{
	char text[400];

	snprintf(text, sizeof(text), "[enrtd]\ndata = %0300d\n", 0);
	assert_file_refused(*state, text, 2, "line", "longer than");
}

static void
config_refuses_a_malformed_line(void **state)
{
	fixture *f = *state;
	char expected[128];

	write_file(f, "[enrtd]\ndata = a\njust words\n");
	assert_int_equal(
	    load(f, "--config", f->file, NULL), ENRT_INVALID_ARGUMENT);
	snprintf(expected, sizeof(expected), "%s:3: not a [section]", f->file);
	assert_refused(f, expected);
}

static void
config_refuses_a_missing_file(void **state)
{
	fixture *f = *state;

	assert_int_equal(
	    load(f, "--config", f->file, NULL), ENRT_FAILED_PRECONDITION);
	assert_non_null(strstr(f->e.message, f->file));
}

static void
config_refusals_name_the_variable_or_flag(void **state)
{
	fixture *f = *state;

	setenv("ENRTD_FLUSH_INTERVALL", "5", 1);
	assert_int_equal(load(f, NULL), ENRT_INVALID_ARGUMENT);
	assert_refused(f, "ENRTD_FLUSH_INTERVALL: unknown variable");
	unsetenv("ENRTD_FLUSH_INTERVALL");

	setenv("ENRTD_FLUSH_INTERVAL", "0", 1);
	assert_int_equal(load(f, NULL), ENRT_INVALID_ARGUMENT);
	assert_refused(f, "ENRTD_FLUSH_INTERVAL: must be a whole number");
	unsetenv("ENRTD_FLUSH_INTERVAL");

	setenv("ENRTD_LISTEN", "ipc:///a,,ipc:///b", 1);
	assert_int_equal(load(f, NULL), ENRT_INVALID_ARGUMENT);
	assert_refused(f, "ENRTD_LISTEN: each URL must not be empty");
	unsetenv("ENRTD_LISTEN");

	assert_int_equal(
	    load(f, "--contexts", "5000", NULL), ENRT_INVALID_ARGUMENT);
	assert_refused(f, "--contexts: must be a whole number from 1 to 4096");
	setenv("ENRTD_COMMIT_BATCH", "0", 1);
	assert_int_equal(load(f, NULL), ENRT_INVALID_ARGUMENT);
	assert_refused(
	    f, "ENRTD_COMMIT_BATCH: must be a whole number from 1 to 1024");
	unsetenv("ENRTD_COMMIT_BATCH");
	assert_int_equal(
	    load(f, "--commit-batch", "1025", NULL), ENRT_INVALID_ARGUMENT);
	assert_refused(
	    f, "--commit-batch: must be a whole number from 1 to 1024");
	assert_int_equal(load(f, "--nope", NULL), ENRT_INVALID_ARGUMENT);
	assert_refused(f, "--nope: unknown flag");
	assert_int_equal(load(f, "--data", NULL), ENRT_INVALID_ARGUMENT);
	assert_refused(f, "--data: needs a value");
}

static void
config_print_reads_back_as_the_same_settings(void **state)
{
	fixture *f = *state;
	char *text;
	config first;

	setenv("ENRTD_HTTP", "127.0.0.1:7601", 1);
	assert_int_equal(
	    load(f, "--listen", "ipc:///a", "--listen", "tcp://127.0.0.1:9",
	        "--flush-interval", "3", "--insecure-tcp", NULL),
	    ENRT_OK);
	text = printed(&f->cfg);
	assert_non_null(strstr(text, "# from --flush-interval\n"
	                             "flush-interval = 3\n"));
	assert_non_null(strstr(text, "# from ENRTD_HTTP\nhttp = 127.0.0.1"));
	write_file(f, text);
	free(text);
	unsetenv("ENRTD_HTTP");

	first = f->cfg;
	memset(&f->cfg, 0, sizeof(f->cfg));
	assert_int_equal(load(f, "--config", f->file, NULL), ENRT_OK);
	assert_int_equal(f->cfg.n_urls, 2);
	assert_string_equal(f->cfg.urls[1], "tcp://127.0.0.1:9");
	assert_int_equal(f->cfg.flush_s, first.flush_s);
	assert_true(f->cfg.insecure_tcp);
	assert_string_equal(f->cfg.http, first.http);
	config_free(&first);
}

/* Files are named, never read: a key file's contents never show. */
static void
config_print_shows_no_secret(void **state)
{
	fixture *f = *state;
	const char *secret = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n";
	char *text;

	write_file(f, secret);
	assert_int_equal(
	    load(f, "--tls-key", f->file, "--tls-cert", f->file, NULL),
	    ENRT_OK);
	text = printed(&f->cfg);
	assert_null(strstr(text, "c2VjcmV0"));
	assert_null(strstr(text, "BEGIN"));
	assert_null(strstr(text, "enrc_"));
	assert_null(strstr(text, "enrt_"));
	assert_non_null(strstr(text, "tls-key = "));
	free(text);
}

static void
config_print_and_help_are_actions(void **state)
{
	fixture *f = *state;

	assert_int_equal(load(f, "--print-config", NULL), ENRT_OK);
	assert_int_equal(f->cfg.action, CONFIG_PRINT);
	assert_int_equal(load(f, "--help", NULL), ENRT_OK);
	assert_int_equal(f->cfg.action, CONFIG_HELP);
}

/* The example file documents every key, and each example value holds. */
static void
config_example_file_parses_with_every_line_uncommented(void **state)
{
	fixture *f = *state;
	size_t len = 0;
	char line[256];
	char *text = NULL;
	FILE *in = fopen(ENRT_EXAMPLE_CONFIG, "r");
	FILE *out = open_memstream(&text, &len);

	assert_non_null(in);
	assert_non_null(out);
	while (fgets(line, sizeof(line), in) != NULL) {
		/* "#key = value", or "#    URL" continuing a list */
		bool example =
		    line[0] == '#' &&
		    ((line[1] >= 'a' && line[1] <= 'z') ||
		        (strncmp(line + 1, "    ", 4) == 0 && line[5] != ' '));
		fputs(example ? line + 1 : line, out);
	}
	fclose(in);
	assert_int_equal(fclose(out), 0);
	write_file(f, text);
	free(text);

	assert_int_equal(load(f, "--config", f->file, NULL), ENRT_OK);
	for (int i = 0; i < CONFIG_SETTINGS; i++) {
		assert_int_equal(f->cfg.source[i], CONFIG_FROM_FILE);
	}
	assert_int_equal(f->cfg.n_urls, 2);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(config_defaults_without_any_source),
	    TEST(config_reads_every_setting_from_the_file),
	    TEST(config_environment_beats_file_and_flag_beats_environment),
	    TEST(config_file_named_by_the_environment_is_read),
	    TEST(config_higher_source_replaces_the_listen_list),
	    TEST(config_file_listen_lines_add_up),
	    TEST(config_refuses_an_unknown_key),
	    TEST(config_refuses_an_unknown_section),
	    TEST(config_refuses_a_key_outside_the_section),
	    TEST(config_refuses_bad_values_naming_the_rule),
	    TEST(config_refuses_a_key_given_twice),
	    TEST(config_refuses_more_lines_for_a_single_value),
	    TEST(config_refuses_a_line_too_long),
	    TEST(config_refuses_a_malformed_line),
	    TEST(config_refuses_a_missing_file),
	    TEST(config_refusals_name_the_variable_or_flag),
	    TEST(config_print_reads_back_as_the_same_settings),
	    TEST(config_print_shows_no_secret),
	    TEST(config_print_and_help_are_actions),
	    TEST(config_example_file_parses_with_every_line_uncommented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
