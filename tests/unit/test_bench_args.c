/*
 * Tests of enrt-bench's flags: the defaults, what each flag sets, and
 * the refusals, each of which must name the flag on standard error.
 * Standard error is sent to a temporary file to read it back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define ARGS_MAX 32

/* Parses the words of line (split at spaces) after "enrt-bench". */
static int
parse(bench_config *cfg, const char *line, char *err_out, size_t err_size)
{
	char copy[512];
	char *argv[ARGS_MAX + 2] = {"enrt-bench"};
	int argc = 1, saved, rc;
	FILE *err = tmpfile();
	size_t n;

	assert_non_null(err);
	snprintf(copy, sizeof(copy), "%s", line);
	for (char *w = strtok(copy, " "); w != NULL; w = strtok(NULL, " ")) {
		assert_true(argc <= ARGS_MAX);
		argv[argc++] = w;
	}

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fileno(err), STDERR_FILENO);
	rc = bench_args_parse(cfg, argc, argv);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);

	rewind(err);
	n = fread(err_out, 1, err_size - 1, err);
	err_out[n] = '\0';
	fclose(err);
	return rc;
}

static void
expect_ok(bench_config *cfg, const char *line)
{
	char err[1024];

	if (parse(cfg, line, err, sizeof(err)) != BENCH_ARGS_OK) {
		fail_msg("refused \"%s\": %s", line, err);
	}
}

/*
 * Refused with exit status 2 and a message that names the flag and,
 * when rule is not NULL, says the rule.
 */
static void
expect_refused_because(const char *line, const char *flag, const char *rule)
{
	bench_config cfg;
	char err[1024];
	int rc = parse(&cfg, line, err, sizeof(err));

	if (rc != BENCH_ARGS_BAD) {
		fail_msg("\"%s\": got %d, want BENCH_ARGS_BAD", line, rc);
	}
	if (strstr(err, flag) == NULL) {
		fail_msg(
		    "\"%s\": message does not name %s: %s", line, flag, err);
	}
	if (rule != NULL && strstr(err, rule) == NULL) {
		fail_msg("\"%s\": message does not say \"%s\": %s", line, rule,
		    err);
	}
}

static void
expect_refused(const char *line, const char *flag)
{
	expect_refused_because(line, flag, NULL);
}

static void
defaults_are_introspect_for_ten_seconds_with_the_standard_mix(void **state)
{
	bench_config cfg;

	unsetenv("ENRT_URL");
	unsetenv("ENRT_CREDENTIAL_FILE");
	expect_ok(&cfg, "");
	assert_string_equal(cfg.url, "ipc://enrt-data/enrt.sock");
	assert_string_equal(cfg.credential_file, "enrt-data/admin.credential");
	assert_int_equal(cfg.op, BENCH_OP_INTROSPECT);
	assert_int_equal(cfg.client, BENCH_CLIENT_ASYNC);
	assert_int_equal(cfg.duration_s, 10);
	assert_int_equal(cfg.requests, 0);
	assert_int_equal(cfg.concurrency, 16);
	assert_int_equal(cfg.tokens, 1000);
	assert_int_equal(cfg.mix[BENCH_ACTIVE], 70);
	assert_int_equal(cfg.mix[BENCH_UNKNOWN], 10);
	assert_int_equal(cfg.mix[BENCH_MALFORMED], 10);
	assert_int_equal(cfg.mix[BENCH_REVOKED], 10);
	assert_int_equal(cfg.batch, 0);
	assert_int_equal(bench_tokens_per_request(&cfg), 1);
	assert_null(cfg.json_path);
}

static void
environment_supplies_url_and_credential_file(void **state)
{
	bench_config cfg;

	setenv("ENRT_URL", "tcp://127.0.0.1:9", 1);
	setenv("ENRT_CREDENTIAL_FILE", "/x/cred", 1);
	expect_ok(&cfg, "");
	assert_string_equal(cfg.url, "tcp://127.0.0.1:9");
	assert_string_equal(cfg.credential_file, "/x/cred");
	expect_ok(&cfg, "--url ipc:///y");
	assert_string_equal(cfg.url, "ipc:///y");
	unsetenv("ENRT_URL");
	unsetenv("ENRT_CREDENTIAL_FILE");
}

static void
flags_set_their_fields(void **state)
{
	bench_config cfg;

	expect_ok(&cfg, "--op mixed --client threads --concurrency 64 "
	                "--connections 4 --requests 500 --tokens 20 "
	                "--mix active=50,revoked=50 --issue-percent 5 "
	                "--json out.json");
	assert_int_equal(cfg.op, BENCH_OP_MIXED);
	assert_int_equal(cfg.client, BENCH_CLIENT_THREADS);
	assert_int_equal(cfg.concurrency, 64);
	assert_int_equal(cfg.connections, 4);
	assert_int_equal(cfg.requests, 500);
	assert_int_equal(cfg.duration_s, 0);
	assert_int_equal(cfg.tokens, 20);
	assert_int_equal(cfg.mix[BENCH_ACTIVE], 50);
	assert_int_equal(cfg.mix[BENCH_UNKNOWN], 0);
	assert_int_equal(cfg.mix[BENCH_MALFORMED], 0);
	assert_int_equal(cfg.mix[BENCH_REVOKED], 50);
	assert_int_equal(cfg.issue_percent, 5);
	assert_string_equal(cfg.json_path, "out.json");
}

static void
connections_default_to_no_more_than_the_concurrency(void **state)
{
	bench_config cfg;

	expect_ok(&cfg, "--concurrency 1");
	assert_int_equal(cfg.connections, 1);
}

static void
batch_sets_the_tokens_per_request_from_1_to_128(void **state)
{
	bench_config cfg;

	expect_ok(&cfg, "--batch 32");
	assert_int_equal(cfg.batch, 32);
	assert_int_equal(bench_tokens_per_request(&cfg), 32);
	expect_ok(&cfg, "--op introspect --batch 1 --client threads");
	assert_int_equal(cfg.batch, 1);
	assert_int_equal(cfg.client, BENCH_CLIENT_THREADS);
	expect_ok(&cfg, "--batch 128");
	assert_int_equal(cfg.batch, 128);
}

static void
refuses_a_batch_out_of_range_or_for_another_op(void **state)
{
	const char *range = "from 1 to 128";
	const char *op = "only with --op introspect";

	expect_refused_because("--batch 0", "--batch", range);
	expect_refused_because("--batch 129", "--batch", range);
	expect_refused_because("--batch 32x", "--batch", range);
	expect_refused_because("--batch -1", "--batch", range);
	expect_refused_because("--batch", "--batch", "needs a value");
	expect_refused_because("--op issue --batch 8", "--batch", op);
	expect_refused_because("--op mixed --batch 8", "--batch", op);
	expect_refused_because("--op echo --batch 8", "--batch", op);
}

static void
refuses_unknown_flags_and_stray_words(void **state)
{
	expect_refused("--bogus", "--bogus");
	expect_refused("--url", "--url");
	expect_refused("stray", "stray");
}

static void
refuses_numbers_out_of_range(void **state)
{
	expect_refused("--concurrency 0", "--concurrency");
	expect_refused("--concurrency 1025", "--concurrency");
	expect_refused("--concurrency 8x", "--concurrency");
	expect_refused("--concurrency -1", "--concurrency");
	expect_refused("--connections 65", "--connections");
	expect_refused("--duration 0", "--duration");
	expect_refused("--requests 0", "--requests");
	expect_refused("--tokens 0", "--tokens");
	expect_refused("--issue-percent 101", "--issue-percent");
}

static void
refuses_names_it_does_not_know(void **state)
{
	expect_refused("--op revoke", "--op");
	expect_refused("--client fibers", "--client");
}

static void
refuses_a_mix_that_does_not_add_up(void **state)
{
	expect_refused("--mix active=70,unknown=10", "--mix");
	expect_refused("--mix active=70,unknown=40,revoked=-10", "--mix");
	expect_refused("--mix active=50,active=50", "--mix");
	expect_refused("--mix stale=100", "--mix");
	expect_refused("--mix active", "--mix");
}

static void
refuses_flags_that_exclude_each_other(void **state)
{
	expect_refused("--duration 5 --requests 10", "--requests");
	expect_refused("--concurrency 2 --connections 3", "--connections");
	expect_refused("--tokens 1", "--tokens");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        defaults_are_introspect_for_ten_seconds_with_the_standard_mix),
	    cmocka_unit_test(environment_supplies_url_and_credential_file),
	    cmocka_unit_test(flags_set_their_fields),
	    cmocka_unit_test(
	        connections_default_to_no_more_than_the_concurrency),
	    cmocka_unit_test(batch_sets_the_tokens_per_request_from_1_to_128),
	    cmocka_unit_test(refuses_a_batch_out_of_range_or_for_another_op),
	    cmocka_unit_test(refuses_unknown_flags_and_stray_words),
	    cmocka_unit_test(refuses_numbers_out_of_range),
	    cmocka_unit_test(refuses_names_it_does_not_know),
	    cmocka_unit_test(refuses_a_mix_that_does_not_add_up),
	    cmocka_unit_test(refuses_flags_that_exclude_each_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
