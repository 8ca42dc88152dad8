/*
 * enrt-bench's output: the result for people on standard output, and
 * the same figures as one JSON object (through jansson) for scripts.
 * Runs on the main thread after the load; owns nothing.
 *
 * Percentiles are printed in microseconds with one decimal: the
 * histogram is exact to within 1/64 of a value, so more digits would
 * claim a precision the figures do not have.
 */
#include "bench.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

typedef struct figures {
	uint64_t requests;
	uint64_t errors;
	double rps;
	double tps; /* tokens asked about (or issued) per second */
	double p50, p90, p99, p999, max; /* microseconds */
} figures;

static double
percentile_us(const bench_hist *h, double p)
{
	return (double)bench_hist_percentile(h, p) / 1000.0;
}

/* Rounded to 0.1 so that the JSON says no more than the text does. */
static double
tenths(double v)
{
	return (double)(int64_t)(v * 10.0 + 0.5) / 10.0;
}

static void
compute(const bench_config *cfg, const bench_result *r, figures *f)
{
	const bench_hist *h = &r->tally.hist;

	f->requests = r->tally.ok + bench_tally_errors(&r->tally);
	f->errors = bench_tally_errors(&r->tally);
	f->rps = r->seconds > 0 ? (double)f->requests / r->seconds : 0;
	f->tps = f->rps * bench_tokens_per_request(cfg);
	f->p50 = tenths(percentile_us(h, 50));
	f->p90 = tenths(percentile_us(h, 90));
	f->p99 = tenths(percentile_us(h, 99));
	f->p999 = tenths(percentile_us(h, 99.9));
	f->max = tenths((double)h->max_ns / 1000.0);
}

static void
print_setting(FILE *out, const bench_config *cfg)
{
	fprintf(out, "%s on %s: %u in flight, %s client, %u connection%s",
	    bench_op_name(cfg->op), cfg->url, cfg->concurrency,
	    bench_client_name(cfg->client), cfg->connections,
	    cfg->connections == 1 ? "" : "s");
	if (cfg->op != BENCH_OP_ISSUE) {
		fprintf(out,
		    ", mix active=%u unknown=%u malformed=%u revoked=%u",
		    cfg->mix[BENCH_ACTIVE], cfg->mix[BENCH_UNKNOWN],
		    cfg->mix[BENCH_MALFORMED], cfg->mix[BENCH_REVOKED]);
	}
	if (cfg->op == BENCH_OP_MIXED) {
		fprintf(out, ", %u%% Issue", cfg->issue_percent);
	}
	if (cfg->batch > 0) {
		fprintf(out, ", %u tokens per IntrospectBatch", cfg->batch);
	}
	fputc('\n', out);
}

static void
print_errors(FILE *out, const bench_tally *t)
{
	fprintf(out,
	    "errors:       %llu (no reply %llu, error status %llu, wrong "
	    "answer %llu)\n",
	    (unsigned long long)bench_tally_errors(t),
	    (unsigned long long)t->failed[BENCH_FAIL_TRANSPORT],
	    (unsigned long long)t->failed[BENCH_FAIL_STATUS],
	    (unsigned long long)t->failed[BENCH_FAIL_ANSWER]);
	if (t->has_error) {
		fprintf(out, "first error:  %s: %s\n",
		    t->first_error.status == ENRT_OK
		        ? "wrong answer"
		        : enrt_status_name(t->first_error.status),
		    t->first_error.message);
	}
}

void
bench_report_print(
    FILE *out, const bench_config *cfg, const bench_result *result)
{
	figures f;

	compute(cfg, result, &f);
	print_setting(out, cfg);
	fprintf(out, "requests:     %llu in %.2f s\n",
	    (unsigned long long)f.requests, result->seconds);
	fprintf(out, "throughput:   %.0f requests per second\n", f.rps);
	if (cfg->batch > 0) {
		fprintf(out, "tokens:       %.0f per second\n", f.tps);
	}
	print_errors(out, &result->tally);
	fprintf(out,
	    "latency (us): p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  "
	    "max %.1f\n",
	    f.p50, f.p90, f.p99, f.p999, f.max);
}

static json_t *
to_json(const bench_config *cfg, const bench_result *result)
{
	figures f;

	compute(cfg, result, &f);
	return json_pack(
	    "{s:f, s:f, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f}",
	    "requests_per_second", tenths(f.rps), "tokens_per_second",
	    tenths(f.tps), "tokens_per_request",
	    (json_int_t)bench_tokens_per_request(cfg), "errors",
	    (json_int_t)f.errors, "requests", (json_int_t)f.requests,
	    "seconds", result->seconds, "p50_us", f.p50, "p90_us", f.p90,
	    "p99_us", f.p99, "p999_us", f.p999, "max_us", f.max);
}

static bool
json_failed(enrt_error *err, const char *path, const char *why)
{
	err->status = ENRT_INTERNAL;
	snprintf(
	    err->message, sizeof(err->message), "--json %s: %s", path, why);
	return false;
}

/* The object and a newline to f; false if anything fails. */
static bool
dump(json_t *obj, FILE *f)
{
	size_t flags =
	    JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12);

	return json_dumpf(obj, f, flags) == 0 && fputc('\n', f) != EOF;
}

bool
bench_report_json(
    const bench_config *cfg, const bench_result *result, enrt_error *err)
{
	const char *path = cfg->json_path;
	bool to_stdout = strcmp(path, "-") == 0;
	json_t *obj;
	FILE *f;
	bool ok;

	f = to_stdout ? stdout : fopen(path, "w");
	if (f == NULL) {
		return json_failed(err, path, strerror(errno));
	}
	if ((obj = to_json(cfg, result)) == NULL) {
		ok = false;
		errno = ENOMEM;
	} else {
		ok = dump(obj, f);
	}
	json_decref(obj);

	if (!to_stdout && fclose(f) != 0) {
		ok = false;
	}
	if (!ok) {
		return json_failed(err, path, strerror(errno));
	}
	return true;
}
