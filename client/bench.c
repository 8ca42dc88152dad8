/*
 * enrt-bench: puts Introspect and Issue load on a running enrtd and
 * reports requests per second, errors and latency percentiles.
 *
 * The main thread reads the flags and the admin credential, sets up the
 * pool of tokens (bench_pool), hands the run to one of the two drivers
 * (bench_async or bench_threads), and prints the result (bench_report).
 * Exit status: 0 when the run was made (errors are figures in the
 * report, not a failure of the tool), 1 when it could not be set up or
 * started, 2 for bad flags.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_SETUP 1
#define EXIT_USAGE 2

/* More than a credential and its newline: the file holds something else. */
#define CREDENTIAL_READ_MAX 128

static int
failed(const enrt_error *err)
{
	fprintf(stderr, "enrt-bench: %s: %s\n", enrt_status_name(err->status),
	    err->message);
	return EXIT_SETUP;
}

static enrt_status
credential_failed(enrt_error *err, const char *path, const char *why)
{
	err->status = ENRT_INVALID_ARGUMENT;
	snprintf(err->message, sizeof(err->message),
	    "--credential-file %s: %s", path, why);
	return err->status;
}

/* Reads up to size - 1 bytes with read(2), so that no stdio buffer
 * keeps a copy of the credential. */
static ssize_t
read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -1;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

/* The file's first line, which must be an enrc_ credential. */
static enrt_status
read_credential(const char *path, bench_pool *pool, enrt_error *err)
{
	char buf[CREDENTIAL_READ_MAX];
	ssize_t n;
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		return credential_failed(err, path, strerror(errno));
	}
	n = read_all(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		return credential_failed(err, path, strerror(errno));
	}

	len = strcspn(buf, "\r\n");
	if (!enrt_credential_check(buf, len)) {
		sodium_memzero(buf, sizeof(buf));
		return credential_failed(
		    err, path, "the first line is not an enrc_ credential");
	}
	memcpy(pool->credential, buf, len);
	pool->credential[len] = '\0';
	sodium_memzero(buf, sizeof(buf));
	return ENRT_OK;
}

static enrt_status
set_up(const bench_config *cfg, bench_pool *pool, enrt_error *err)
{
	enrt_status status;

	if (cfg->op == BENCH_OP_ECHO) {
		return bench_pool_local(pool, cfg, err);
	}
	status = read_credential(cfg->credential_file, pool, err);
	if (status == ENRT_OK) {
		status = bench_pool_setup(pool, cfg, err);
	}
	return status;
}

static enrt_status
run(const bench_config *cfg, const bench_pool *pool, bench_result *result,
    enrt_error *err)
{
	if (cfg->client == BENCH_CLIENT_THREADS) {
		return bench_threads_run(cfg, pool, result, err);
	}
	return bench_async_run(cfg, pool, result, err);
}

int
main(int argc, char **argv)
{
	static bench_pool pool;
	static bench_result result;
	bench_config cfg;
	enrt_error err;
	int rc;

	if ((rc = bench_args_parse(&cfg, argc, argv)) != BENCH_ARGS_OK) {
		return rc == BENCH_ARGS_HELP ? EXIT_SUCCESS : EXIT_USAGE;
	}
	if (sodium_init() < 0) {
		fputs(
		    "enrt-bench: INTERNAL: libsodium cannot start\n", stderr);
		return EXIT_SETUP;
	}

	rc = EXIT_SUCCESS;
	if (set_up(&cfg, &pool, &err) != ENRT_OK ||
	    run(&cfg, &pool, &result, &err) != ENRT_OK) {
		rc = failed(&err);
	} else {
		bench_report_print(stdout, &cfg, &result);
		if (cfg.json_path != NULL &&
		    !bench_report_json(&cfg, &result, &err)) {
			rc = failed(&err);
		}
	}
	bench_pool_free(&pool);
	return rc;
}
