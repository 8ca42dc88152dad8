/*
 * Durability across kill -9 (DESIGN section 9): a real enrtd under Issue,
 * Revoke and Introspect load from a few threads, each with a client of
 * its own over ipc:// or tcp://, is killed with SIGKILL at a random
 * moment, several times, and started again on the same data directory.
 *
 * The threads keep a ledger of what the server acknowledged.  After each
 * restart, which itself shows that the store opens with no repair step:
 *
 *   - every token whose Issue was acknowledged is listed, and
 *     introspects active, unless a Revoke of it was acknowledged;
 *   - every acknowledged Revoke holds: listed revoked, inactive;
 *   - a request whose reply never came may or may not have been carried
 *     out, and nothing is asserted about it, except that the restart
 *     settles it for good: a token it made, or a revocation it made, is
 *     still there after every later restart, and there are never more
 *     tokens than acknowledged Issues and Issues left without a reply;
 *   - last-used times may lag (uses not yet flushed die with the
 *     server), but never go backwards: the time listed first after each
 *     restart, before anything new is used, is never older than the one
 *     listed first after the restart before.
 *
 * A second test stops the server cleanly instead, and then every last-used
 * time that was listed before the stop, unflushed ones included, must
 * be listed the same after the restart.
 *
 * The seed of the random moments is printed, and ENRT_CRASH_SEED repeats
 * a run.  Load threads only record; assertions run on cmocka's thread.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "enrt.h"
#include "format.h"
#include "server.h"

#define ROUNDS        5
#define WORKERS       3
#define TOKENS_MAX    6000
#define PHANTOMS_MAX  256
#define LOAD_MIN_MS   150
#define LOAD_SPAN_MS  2200
#define CALL_MS       5000
#define FLUSH_SECONDS 1
#define PAGE_SIZE     1000
#define CLEAN_TOKENS  6
#define ID_LEN        FORMAT_ID_MAX
#define FAILURE_LEN   (64 + ENRT_ERROR_MESSAGE_MAX)

/* One token whose Issue was acknowledged, and what became of it. */
typedef struct record {
	char value[ENRT_TOKEN_LEN + 1];
	char id[ID_LEN];
	bool revoked;        /* a Revoke was acknowledged, or seen to hold */
	bool revoke_unknown; /* a Revoke got no reply */
	bool has_floor;      /* a last-used time was listed after a restart */
	int64_t floor;
} record;

/* What the server acknowledged; mtx guards everything below it. */
typedef struct ledger {
	pthread_mutex_t mtx;
	record records[TOKENS_MAX];
	size_t n;
	unsigned unanswered_issues;
	char phantoms[PHANTOMS_MAX][ID_LEN]; /* tokens of unanswered Issues */
	size_t n_phantoms;
	unsigned failures;
	char failure[FAILURE_LEN]; /* the first unexpected answer */
} ledger;

typedef struct fixture {
	server srv;
	char app_id[ID_LEN];
	ledger book;
	unsigned seed;
	int stop; /* tells the load threads to finish */
} fixture;

typedef struct worker {
	fixture *f;
	pthread_t thread;
	enrt_client *client;
	unsigned seed;
} worker;

static const char *const scopes[] = {"crash:test"};

/* ------------------------------------------------------------------ */
/* The ledger                                                          */

static void
note_failure(ledger *b, const char *what, enrt_status st, const char *msg)
{
	pthread_mutex_lock(&b->mtx);
	if (b->failures++ == 0) {
		snprintf(b->failure, sizeof(b->failure), "%s: %s: %s", what,
		    enrt_status_name(st), msg);
	}
	pthread_mutex_unlock(&b->mtx);
}

/* UNAVAILABLE is what a killed server gives; anything else is a bug. */
static bool
lost_reply(ledger *b, const char *what, enrt_status st, const enrt_error *e)
{
	if (st != ENRT_UNAVAILABLE) {
		note_failure(b, what, st, e->message);
	}
	return st == ENRT_UNAVAILABLE;
}

static void
record_issued(ledger *b, const enrt_issued *t)
{
	record *r;

	pthread_mutex_lock(&b->mtx);
	if (b->n < TOKENS_MAX) {
		r = &b->records[b->n++];
		memset(r, 0, sizeof(*r));
		snprintf(r->value, sizeof(r->value), "%s", t->value);
		snprintf(r->id, sizeof(r->id), "%s", t->token.id);
	}
	pthread_mutex_unlock(&b->mtx);
}

/*
 * Each thread has at most one Issue in flight, so a token acknowledged
 * always finds a record free.
 */
static bool
room_for_issue(ledger *b)
{
	bool room;

	pthread_mutex_lock(&b->mtx);
	room = b->n + WORKERS <= TOKENS_MAX;
	pthread_mutex_unlock(&b->mtx);
	return room;
}

/* A random record that was not revoked; false when there is none. */
static bool
pick(ledger *b, unsigned *seed, record *out, size_t *index)
{
	bool found = false;

	pthread_mutex_lock(&b->mtx);
	for (int tries = 0; tries < 8 && b->n > 0 && !found; tries++) {
		*index = (size_t)rand_r(seed) % b->n;
		found = !b->records[*index].revoked;
	}
	if (found) {
		*out = b->records[*index];
	}
	pthread_mutex_unlock(&b->mtx);
	return found;
}

/* ------------------------------------------------------------------ */
/* Load                                                                */

static void
issue_one(worker *w)
{
	enrt_issue_params p = {
	    .app_id = w->f->app_id,
	    .kind = ENRT_KIND_SAT,
	    .has_expires_at = false,
	    .scopes = scopes,
	    .n_scopes = 1,
	};
	ledger *b = &w->f->book;
	enrt_issued *t = NULL;
	enrt_error e;
	enrt_status st;

	if (!room_for_issue(b)) {
		return;
	}
	st = enrt_issue(w->client, &p, &t, &e);
	if (st == ENRT_OK) {
		record_issued(b, t);
	} else if (lost_reply(b, "issue", st, &e)) {
		pthread_mutex_lock(&b->mtx);
		b->unanswered_issues++;
		pthread_mutex_unlock(&b->mtx);
	}
	enrt_issued_free(t);
}

static void
revoke_one(worker *w)
{
	ledger *b = &w->f->book;
	record r;
	size_t i = 0;
	enrt_error e;
	enrt_status st;

	if (!pick(b, &w->seed, &r, &i)) {
		return;
	}
	st = enrt_revoke_id(w->client, r.id, &e);
	if (st == ENRT_OK || lost_reply(b, "revoke", st, &e)) {
		pthread_mutex_lock(&b->mtx);
		b->records[i].revoked |= st == ENRT_OK;
		b->records[i].revoke_unknown |= st != ENRT_OK;
		pthread_mutex_unlock(&b->mtx);
	}
}

/* A use, so that last-used flushes are under way when the kill comes. */
static void
introspect_one(worker *w)
{
	enrt_introspection *answer = NULL;
	ledger *b = &w->f->book;
	record r;
	size_t i = 0;
	enrt_error e;
	enrt_status st;

	if (!pick(b, &w->seed, &r, &i)) {
		return;
	}
	st = enrt_introspect(w->client, r.value, ENRT_TOKEN_LEN, &answer, &e);
	if (st != ENRT_OK) {
		lost_reply(b, "introspect", st, &e);
	}
	enrt_introspection_free(answer);
}

static void *
load(void *arg)
{
	worker *w = arg;

	while (!__atomic_load_n(&w->f->stop, __ATOMIC_ACQUIRE)) {
		switch (rand_r(&w->seed) % 4) {
		case 0:
			revoke_one(w);
			break;
		case 1:
			introspect_one(w);
			break;
		default:
			issue_one(w);
			break;
		}
	}
	/* Here, so that the threads' closes wait out their grace at once. */
	enrt_client_close(w->client);
	return NULL;
}

static void
open_client(fixture *f, const char *url, enrt_client **client)
{
	enrt_options options = {
	    .url = url,
	    .credential = f->srv.credential,
	    .timeout_ms = CALL_MS,
	};
	enrt_error e;

	assert_status(enrt_client_open(client, &options, &e), ENRT_OK, &e);
}

static void
start_load(fixture *f, worker *w)
{
	__atomic_store_n(&f->stop, 0, __ATOMIC_RELEASE);
	for (int i = 0; i < WORKERS; i++) {
		w[i].f = f;
		w[i].seed = f->seed + (unsigned)i * 7919u;
		open_client(f, i % 2 == 0 ? f->srv.ipc_url : f->srv.tcp_url,
		    &w[i].client);
		assert_int_equal(
		    pthread_create(&w[i].thread, NULL, load, &w[i]), 0);
	}
}

/*
 * Kills the server with the threads' requests in flight.  The threads are
 * told to stop first, so that none starts a request the dead server
 * would keep waiting until its timeout; what they have sent fails at
 * once, when the connection drops.
 */
static void
kill_under_load(fixture *f, worker *w)
{
	__atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(server_kill(&f->srv), 0);
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(w[i].thread, NULL);
	}
}

static void
pause_ms(long ms)
{
	struct timespec ts = {
	    .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ */
/* Checking after a restart                                            */

/* Every token of the app, inactive ones too, page by page. */
static enrt_token_page **
list_all(enrt_client *c, const char *app_id, size_t *n_pages)
{
	enrt_token_page **pages = NULL;
	char *cursor = NULL;
	enrt_error e;

	*n_pages = 0;
	do {
		enrt_list_params p = {.app_id = app_id,
		    .include_inactive = true,
		    .page_size = PAGE_SIZE,
		    .cursor = cursor};

		pages = realloc(pages, (*n_pages + 1) * sizeof(*pages));
		assert_non_null(pages);
		assert_status(enrt_list_tokens(c, &p, &pages[*n_pages], &e),
		    ENRT_OK, &e);
		cursor = pages[*n_pages]->next_cursor;
		(*n_pages)++;
	} while (cursor != NULL);
	return pages;
}

static void
free_pages(enrt_token_page **pages, size_t n_pages)
{
	for (size_t i = 0; i < n_pages; i++) {
		enrt_token_page_free(pages[i]);
	}
	free(pages);
}

static const enrt_token *
find(enrt_token_page **pages, size_t n_pages, const char *id)
{
	for (size_t i = 0; i < n_pages; i++) {
		for (size_t k = 0; k < pages[i]->n_tokens; k++) {
			if (strcmp(pages[i]->tokens[k].id, id) == 0) {
				return &pages[i]->tokens[k];
			}
		}
	}
	return NULL;
}

static bool
in_ledger(const ledger *b, const char *id)
{
	for (size_t i = 0; i < b->n; i++) {
		if (strcmp(b->records[i].id, id) == 0) {
			return true;
		}
	}
	return false;
}

/* A listed state must be what the ledger allows. */
static void
check_state(record *r, const enrt_token *row)
{
	if (row->state == ENRT_STATE_REVOKED && r->revoke_unknown) {
		r->revoked = true; /* the Revoke was carried out after all */
	}
	r->revoke_unknown = false; /* a restart settles it either way */
	if (row->state !=
	    (r->revoked ? ENRT_STATE_REVOKED : ENRT_STATE_ACTIVE)) {
		print_error("%s: listed %s, expected %s\n", r->id,
		    enrt_state_name(row->state),
		    r->revoked ? "revoked" : "active");
	}
	assert_int_equal(
	    row->state, r->revoked ? ENRT_STATE_REVOKED : ENRT_STATE_ACTIVE);
}

/* The first listing after a restart holds only what was written. */
static void
check_floor(record *r, const enrt_token *row)
{
	if (r->has_floor && !row->has_last_used_at) {
		print_error("%s: last used %lld, now never\n", r->id,
		    (long long)r->floor);
	}
	if (r->has_floor) {
		assert_true(row->has_last_used_at);
		if (row->last_used_at < r->floor) {
			print_error("%s: last used went from %lld to %lld\n",
			    r->id, (long long)r->floor,
			    (long long)row->last_used_at);
		}
		assert_true(row->last_used_at >= r->floor);
	}
	r->has_floor = row->has_last_used_at;
	r->floor = row->last_used_at;
}

static void
check_record(record *r, enrt_token_page **pages, size_t n_pages)
{
	const enrt_token *row = find(pages, n_pages, r->id);

	if (row == NULL) {
		print_error("acknowledged token %s is gone\n", r->id);
	}
	assert_non_null(row);
	check_state(r, row);
	check_floor(r, row);
}

/* Tokens of unanswered Issues: never more than those, and they stay. */
static void
check_phantoms(ledger *b, enrt_token_page **pages, size_t n_pages)
{
	size_t listed = 0;

	for (size_t i = 0; i < b->n_phantoms; i++) {
		if (find(pages, n_pages, b->phantoms[i]) == NULL) {
			print_error("token %s of an unanswered Issue is "
			            "gone\n",
			    b->phantoms[i]);
		}
		assert_non_null(find(pages, n_pages, b->phantoms[i]));
	}
	b->n_phantoms = 0;
	for (size_t i = 0; i < n_pages; i++) {
		for (size_t k = 0; k < pages[i]->n_tokens; k++) {
			const char *id = pages[i]->tokens[k].id;

			if (in_ledger(b, id)) {
				continue;
			}
			if (++listed > b->unanswered_issues) {
				print_error("%zu unknown tokens listed, %u "
				            "issues unanswered\n",
				    listed, b->unanswered_issues);
			}
			assert_true(listed <= b->unanswered_issues);
			assert_true(b->n_phantoms < PHANTOMS_MAX);
			snprintf(
			    b->phantoms[b->n_phantoms++], ID_LEN, "%s", id);
		}
	}
}

static void
check_introspect(enrt_client *c, const record *r)
{
	enrt_introspection *answer = NULL;
	enrt_error e;

	assert_status(
	    enrt_introspect(c, r->value, ENRT_TOKEN_LEN, &answer, &e), ENRT_OK,
	    &e);
	if (answer->active == r->revoked) {
		print_error("%s: introspects %s, expected %s\n", r->id,
		    answer->active ? "active" : "inactive",
		    r->revoked ? "inactive" : "active");
	}
	assert_true(answer->active != r->revoked);
	if (answer->active) {
		assert_string_equal(answer->token_id, r->id);
	}
	enrt_introspection_free(answer);
}

/*
 * Runs on a server that was just started and has served nothing: the
 * listing comes first, so that its last-used times are the written ones.
 */
static void
check_after_restart(fixture *f)
{
	enrt_token_page **pages;
	enrt_client *c;
	size_t n_pages;
	ledger *b = &f->book;

	assert_int_equal(b->failures, 0);
	open_client(f, f->srv.ipc_url, &c);
	pages = list_all(c, f->app_id, &n_pages);
	for (size_t i = 0; i < b->n; i++) {
		check_record(&b->records[i], pages, n_pages);
	}
	check_phantoms(b, pages, n_pages);
	free_pages(pages, n_pages);

	for (size_t i = 0; i < b->n; i++) {
		check_introspect(c, &b->records[i]);
	}
	enrt_client_close(c);
}

/* ------------------------------------------------------------------ */
/* Set-up                                                              */

static void
create_app(fixture *f)
{
	enrt_app_params p = {
	    .name = "crash test",
	    .set_policy = true,
	    .policy = ENRT_POLICY_AUTHENTICATED_USERS,
	    .system_user = "svc-crash",
	    .set_max_lifetime = true,
	    .unlimited_lifetime = true,
	};
	enrt_client *c;
	enrt_app *app = NULL;
	enrt_error e;

	open_client(f, f->srv.ipc_url, &c);
	assert_status(enrt_app_create(c, &p, &app, &e), ENRT_OK, &e);
	snprintf(f->app_id, sizeof(f->app_id), "%s", app->id);
	enrt_app_free(app);
	enrt_client_close(c);
}

static unsigned
choose_seed(void)
{
	const char *given = getenv("ENRT_CRASH_SEED");
	unsigned seed = given != NULL ? (unsigned)strtoul(given, NULL, 10)
	                              : (unsigned)time(NULL);

	printf("crash test seed %u (ENRT_CRASH_SEED repeats it)\n", seed);
	return seed;
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		return -1;
	}
	if (server_init(&f->srv, true, FLUSH_SECONDS) != 0 ||
	    server_start(&f->srv) != 0) {
		server_destroy(&f->srv);
		free(f);
		return -1;
	}
	pthread_mutex_init(&f->book.mtx, NULL);
	f->seed = choose_seed();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	server_destroy(&f->srv);
	pthread_mutex_destroy(&f->book.mtx);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */

static size_t
count_floors(const ledger *b)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n; i++) {
		n += b->records[i].has_floor;
	}
	return n;
}

static void
acknowledged_work_survives_kill_9_under_load(void **state)
{
	fixture *f = *state;
	worker w[WORKERS];

	create_app(f);
	for (int round = 0; round < ROUNDS; round++) {
		long wait = LOAD_MIN_MS + rand_r(&f->seed) % LOAD_SPAN_MS;

		start_load(f, w);
		pause_ms(wait);
		kill_under_load(f, w);

		assert_int_equal(server_start(&f->srv), 0);
		check_after_restart(f);
		printf("round %d: killed after %ld ms; %zu tokens "
		       "acknowledged, %zu with a written last use; %u "
		       "issues unanswered, %zu of them carried out\n",
		    round + 1, wait, f->book.n, count_floors(&f->book),
		    f->book.unanswered_issues, f->book.n_phantoms);
	}
	assert_true(f->book.n > 0);
}

/* Issues n tokens, uses each once, and lists them with their times. */
static enrt_token_page **
issue_and_use(fixture *f, enrt_client *c, size_t *n_pages)
{
	enrt_issue_params p = {.app_id = f->app_id,
	    .kind = ENRT_KIND_SAT,
	    .scopes = scopes,
	    .n_scopes = 1};
	enrt_introspection *answer;
	enrt_issued *t;
	enrt_error e;

	for (int i = 0; i < CLEAN_TOKENS; i++) {
		assert_status(enrt_issue(c, &p, &t, &e), ENRT_OK, &e);
		assert_status(
		    enrt_introspect(c, t->value, ENRT_TOKEN_LEN, &answer, &e),
		    ENRT_OK, &e);
		assert_true(answer->active);
		enrt_introspection_free(answer);
		enrt_issued_free(t);
	}
	return list_all(c, f->app_id, n_pages);
}

static void
clean_stop_keeps_every_last_used_time_shown(void **state)
{
	fixture *f = *state;
	enrt_token_page **before, **after;
	size_t n_before, n_after, used = 0;
	enrt_client *c;

	create_app(f);
	open_client(f, f->srv.ipc_url, &c);
	before = issue_and_use(f, c, &n_before);
	enrt_client_close(c);

	assert_int_equal(server_stop(&f->srv), 0);
	assert_int_equal(server_start(&f->srv), 0);
	open_client(f, f->srv.ipc_url, &c);
	after = list_all(c, f->app_id, &n_after);
	for (size_t i = 0; i < n_before; i++) {
		for (size_t k = 0; k < before[i]->n_tokens; k++) {
			const enrt_token *was = &before[i]->tokens[k];
			const enrt_token *now = find(after, n_after, was->id);

			assert_non_null(now);
			assert_true(was->has_last_used_at);
			assert_true(now->has_last_used_at);
			assert_int_equal(now->last_used_at, was->last_used_at);
			used++;
		}
	}
	assert_int_equal(used, CLEAN_TOKENS);
	free_pages(before, n_before);
	free_pages(after, n_after);
	enrt_client_close(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        acknowledged_work_survives_kill_9_under_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        clean_stop_keeps_every_last_used_time_shown, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
