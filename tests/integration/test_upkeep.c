/*
 * The store's limits and upkeep against a real enrtd through libenrt: a
 * map that fills up, the Backup operation, the purge of old tokens, and
 * the data directory's lock.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "enrt.h"
#include "server.h"

#define DAY        INT64_C(86400)
#define ISSUES_MAX 20000 /* a 1 MiB map is full long before */
#define WAIT_MS    20000

typedef struct fixture {
	server srv;
	enrt_client *admin;
	char *app;
	char backups[SERVER_PATH_MAX + 16];
} fixture;

/* The issued tokens of a test, in order. */
typedef struct issued_list {
	char **ids;
	char **values;
	size_t n;
} issued_list;

/* ------------------------------------------------------------------ */
/* Set-up                                                              */

static int
fixture_new(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || server_init(&f->srv, false, 0) != 0) {
		return -1;
	}
	snprintf(f->backups, sizeof(f->backups), "%s/backups", f->srv.root);
	*state = f;
	return 0;
}

static void
connect_admin(fixture *f)
{
	enrt_app_params p = {.name = "upkeep",
	    .set_policy = true,
	    .policy = ENRT_POLICY_AUTHENTICATED_USERS,
	    .system_user = "svc"};
	enrt_app *made = NULL;
	enrt_error e;

	assert_int_equal(
	    server_client(&f->srv, f->srv.ipc_url, NULL, &f->admin), 0);
	if (f->app != NULL) {
		return;
	}
	assert_status(enrt_app_create(f->admin, &p, &made, &e), ENRT_OK, &e);
	f->app = strdup(made->id);
	enrt_app_free(made);
}

static void
start(fixture *f)
{
	assert_int_equal(server_start(&f->srv), 0);
	connect_admin(f);
}

static void
stop(fixture *f)
{
	enrt_client_close(f->admin);
	f->admin = NULL;
	assert_int_equal(server_stop(&f->srv), 0);
}

static void
teardown_copy(fixture *f)
{
	enrt_client_close(f->admin);
	server_destroy(&f->srv);
	free(f->app);
}

static int
teardown(void **state)
{
	fixture *f = *state;

	teardown_copy(f);
	free(f);
	return 0;
}

static void
issued_free(issued_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->ids[i]);
		free(l->values[i]);
	}
	free(l->ids);
	free(l->values);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static enrt_status
issue(fixture *f, int64_t expires_at, issued_list *l, enrt_error *e)
{
	static const char *const scopes[] = {"read"};
	enrt_issue_params p = {.app_id = f->app,
	    .kind = ENRT_KIND_PAT,
	    .has_expires_at = true,
	    .expires_at = expires_at,
	    .scopes = scopes,
	    .n_scopes = 1,
	    .description = "filling the store up, one token at a time",
	    .owner = "alice"};
	enrt_issued *made = NULL;
	enrt_status rc;

	rc = enrt_issue(f->admin, &p, &made, e);
	if (rc != ENRT_OK) {
		assert_null(made);
		return rc;
	}
	l->ids = realloc(l->ids, (l->n + 1) * sizeof(*l->ids));
	l->values = realloc(l->values, (l->n + 1) * sizeof(*l->values));
	assert_non_null(l->ids);
	assert_non_null(l->values);
	l->ids[l->n] = strdup(made->token.id);
	l->values[l->n++] = strdup(made->value);
	enrt_issued_free(made);
	return ENRT_OK;
}

static bool
active(fixture *f, const char *value)
{
	int is = server_active(f->admin, value);

	assert_true(is >= 0);
	return is == 1;
}

/* Every token the app lists, expired and revoked ones too. */
static size_t
listed(fixture *f, const char *id, bool *found)
{
	enrt_list_params p = {
	    .app_id = f->app, .include_inactive = true, .page_size = 500};
	enrt_token_page *page = NULL;
	char *cursor = NULL;
	size_t n = 0;
	enrt_error e;

	*found = false;
	do {
		p.cursor = cursor;
		assert_status(
		    enrt_list_tokens(f->admin, &p, &page, &e), ENRT_OK, &e);
		for (size_t i = 0; i < page->n_tokens; i++) {
			*found =
			    *found || (id != NULL &&
			                  strcmp(page->tokens[i].id, id) == 0);
		}
		n += page->n_tokens;
		free(cursor);
		cursor = page->next_cursor ? strdup(page->next_cursor) : NULL;
		enrt_token_page_free(page);
	} while (cursor != NULL);
	return n;
}

/* How many audit events name target (NULL: any) with action. */
static size_t
events(fixture *f, const char *action, const char *target)
{
	enrt_audit_page *page = NULL;
	char *cursor = NULL;
	size_t n = 0;
	enrt_error e;

	do {
		assert_status(enrt_audit_list(
		                  f->admin, false, 0, cursor, 500, &page, &e),
		    ENRT_OK, &e);
		for (size_t i = 0; i < page->n_events; i++) {
			const enrt_audit_event *ev = &page->events[i];

			n += strcmp(ev->action, action) == 0 &&
			     ev->outcome == ENRT_OK &&
			     (target == NULL ||
			         (ev->target_id != NULL &&
			             strcmp(ev->target_id, target) == 0));
		}
		free(cursor);
		cursor = page->next_cursor ? strdup(page->next_cursor) : NULL;
		enrt_audit_page_free(page);
	} while (cursor != NULL);
	return n;
}

static int64_t
now(void)
{
	return (int64_t)time(NULL);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------ */
/* A full map                                                          */

static void
a_full_map_refuses_issue_and_keeps_reads_until_a_bigger_map(void **state)
{
	fixture *f = *state;
	const char *flags[] = {"--map-size", "1", NULL};
	issued_list l = {0};
	enrt_status rc = ENRT_OK;
	enrt_error e;
	bool found;

	memcpy(f->srv.extra, flags, sizeof(flags));
	start(f);
	while (rc == ENRT_OK && l.n < ISSUES_MAX) {
		rc = issue(f, now() + 30 * DAY, &l, &e);
	}
	assert_int_equal(rc, ENRT_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(e.message, "map-size"));
	assert_non_null(strstr(e.message, "nothing was written"));
	assert_true(l.n > 10);
	print_message("%zu Issues filled a 1 MiB map\n", l.n);

	/* Issue stops with room left for revocations: a leaked token can
	 * still be taken away.  The first token is its target; the checks
	 * below look at the others. */
	assert_status(enrt_revoke_id(f->admin, l.ids[0], &e), ENRT_OK, &e);
	assert_false(active(f, l.values[0]));

	/* Reads go on, and show exactly what was acknowledged. */
	assert_true(active(f, l.values[1]));
	assert_true(active(f, l.values[l.n - 1]));
	assert_int_equal(listed(f, NULL, &found), l.n);
	assert_int_equal(events(f, "issue", NULL), l.n);
	stop(f);

	/* A larger map on the same directory keeps everything. */
	f->srv.extra[1] = "8";
	start(f);
	assert_int_equal(listed(f, l.ids[l.n - 1], &found), l.n);
	assert_true(found);
	assert_true(active(f, l.values[1]));
	assert_true(active(f, l.values[l.n - 1]));
	assert_status(issue(f, now() + 30 * DAY, &l, &e), ENRT_OK, &e);
	assert_true(active(f, l.values[l.n - 1]));
	stop(f);
	issued_free(&l);
}

/* ------------------------------------------------------------------ */
/* Backup                                                              */

static void
assert_private_file(const char *dir, const char *name)
{
	char path[SERVER_PATH_MAX * 2];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void
backup_writes_a_new_directory_in_the_backup_dir(void **state)
{
	fixture *f = *state;
	const char *flags[] = {"--backup-dir", f->backups, NULL};
	enrt_backup_info *one = NULL, *two = NULL;
	enrt_error e;

	memcpy(f->srv.extra, flags, sizeof(flags));
	start(f);
	assert_status(enrt_backup(f->admin, &one, &e), ENRT_OK, &e);
	assert_status(enrt_backup(f->admin, &two, &e), ENRT_OK, &e);

	assert_int_equal(strncmp(one->name, "enrt-backup-", 12), 0);
	assert_string_not_equal(one->name, two->name);
	assert_int_equal(
	    strncmp(one->path, f->backups, strlen(f->backups)), 0);
	assert_string_equal(one->path + strlen(f->backups) + 1, one->name);
	assert_true(one->bytes > 0);
	assert_true(one->created_at > now() - 60);
	assert_private_file(one->path, "store/data.mdb");
	assert_private_file(one->path, "digest.key");
	assert_private_file(one->path, "admin.credential");
	assert_int_equal(events(f, "backup", one->name), 1);
	enrt_backup_info_free(one);
	enrt_backup_info_free(two);
	stop(f);
}

static void
backup_is_refused_without_a_backup_dir_and_for_non_admins(void **state)
{
	fixture *f = *state;
	enrt_caller_added *portal = NULL;
	enrt_client *c = NULL, *bob = NULL;
	enrt_person person = {.user_id = "bob", .admin = true};
	enrt_backup_info *info = (enrt_backup_info *)1;
	enrt_error e;

	start(f);
	assert_int_equal(
	    enrt_backup(f->admin, &info, &e), ENRT_FAILED_PRECONDITION);
	assert_null(info);
	assert_non_null(strstr(e.message, "backup-dir"));

	assert_status(enrt_caller_add(f->admin, "portal", ENRT_ROLE_PORTAL,
	                  NULL, 0, &portal, &e),
	    ENRT_OK, &e);
	assert_int_equal(
	    server_client(&f->srv, f->srv.ipc_url, portal->credential, &c), 0);
	assert_status(enrt_client_as(c, &person, &bob, &e), ENRT_OK, &e);
	assert_int_equal(enrt_backup(bob, &info, &e), ENRT_PERMISSION_DENIED);
	enrt_client_close(bob);
	enrt_client_close(c);
	enrt_caller_added_free(portal);
	stop(f);
}

/* Issues tokens one after another until told to stop. */
typedef struct load {
	fixture *f;
	issued_list l; /* the thread's own until joined */
	atomic_size_t acked;
	atomic_bool stop;
	enrt_status failed; /* ENRT_OK while every Issue succeeds */
} load;

static void *
issue_until_stopped(void *arg)
{
	load *ld = arg;
	enrt_error e;

	while (!atomic_load(&ld->stop) && ld->failed == ENRT_OK) {
		ld->failed = issue(ld->f, now() + 30 * DAY, &ld->l, &e);
		atomic_store(&ld->acked, ld->l.n);
	}
	return NULL;
}

static void
wait_for_acks(load *ld, size_t n)
{
	for (long waited = 0; atomic_load(&ld->acked) < n; waited += 5) {
		assert_true(waited < WAIT_MS);
		sleep_ms(5);
	}
}

/* A server on a copy of path, restored by enrtd restore. */
static void
start_restored(fixture *copy, const char *app, const char *path)
{
	char cmd[SERVER_PATH_MAX * 4];

	assert_int_equal(server_init(&copy->srv, false, 0), 0);
	snprintf(cmd, sizeof(cmd),
	    "'%s/enrtd' restore --data '%s' '%s' >/dev/null",
	    getenv("ENRT_BIN_DIR"), copy->srv.data, path);
	assert_int_equal(system(cmd), 0);
	copy->app = strdup(app);
	start(copy);
}

static void
a_backup_taken_under_load_holds_what_was_acknowledged_before_it(void **state)
{
	fixture *f = *state, copy = {0};
	const char *flags[] = {"--backup-dir", f->backups, NULL};
	load ld = {.f = f};
	enrt_backup_info *info = NULL;
	size_t before, after, n;
	pthread_t thread;
	enrt_error e;
	bool found;

	memcpy(f->srv.extra, flags, sizeof(flags));
	start(f);
	assert_int_equal(
	    pthread_create(&thread, NULL, issue_until_stopped, &ld), 0);
	wait_for_acks(&ld, 20);
	before = atomic_load(&ld.acked);
	assert_status(enrt_backup(f->admin, &info, &e), ENRT_OK, &e);
	after = atomic_load(&ld.acked);
	wait_for_acks(&ld, after + 20);
	atomic_store(&ld.stop, true);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_status(ld.failed, ENRT_OK, &e);
	stop(f);

	/* Everything acknowledged before the backup began is in it; what
	 * is in it came with its audit event, from one snapshot. */
	start_restored(&copy, f->app, info->path);
	n = listed(&copy, ld.l.ids[before - 1], &found);
	assert_true(found);
	assert_true(n >= before && n <= after + 1);
	assert_int_equal(events(&copy, "issue", NULL), n);
	assert_true(active(&copy, ld.l.values[0]));
	assert_true(active(&copy, ld.l.values[n - 1]));
	assert_false(active(&copy, ld.l.values[ld.l.n - 1]));
	stop(&copy);
	teardown_copy(&copy);
	enrt_backup_info_free(info);
	issued_free(&ld.l);
}

/* ------------------------------------------------------------------ */
/* Purge                                                               */

/* Waits for the purge that starts with the server to remove id. */
static bool
purged(fixture *f, const char *id)
{
	bool found = true;

	for (long waited = 0; found && waited < WAIT_MS; waited += 50) {
		listed(f, id, &found);
		if (found) {
			sleep_ms(50);
		}
	}
	return !found;
}

static void
a_revoked_token_is_purged_and_its_audit_events_stay(void **state)
{
	fixture *f = *state;
	const char *flags[] = {"--retention-days", "0", NULL};
	issued_list l = {0};
	enrt_error e;
	bool found;

	memcpy(f->srv.extra, flags, sizeof(flags));
	start(f);
	assert_status(issue(f, now() + 30 * DAY, &l, &e), ENRT_OK, &e);
	assert_status(issue(f, now() + 30 * DAY, &l, &e), ENRT_OK, &e);
	assert_status(enrt_revoke_id(f->admin, l.ids[0], &e), ENRT_OK, &e);
	stop(f);

	/* The sweep runs as the server starts. */
	start(f);
	assert_true(purged(f, l.ids[0]));
	assert_false(active(f, l.values[0]));
	assert_int_equal(listed(f, l.ids[1], &found), 1);
	assert_true(found);
	assert_true(active(f, l.values[1]));
	assert_int_equal(events(f, "issue", l.ids[0]), 1);
	assert_int_equal(events(f, "revoke", l.ids[0]), 1);
	assert_int_equal(
	    enrt_revoke_id(f->admin, l.ids[0], &e), ENRT_NOT_FOUND);
	stop(f);
	issued_free(&l);
}

/* ------------------------------------------------------------------ */
/* The lock                                                            */

static void
a_second_server_on_the_same_directory_is_refused(void **state)
{
	fixture *f = *state;
	char bin[SERVER_PATH_MAX], cmd[SERVER_PATH_MAX * 4];
	int status;

	start(f);
	snprintf(bin, sizeof(bin), "%s/enrtd", getenv("ENRT_BIN_DIR"));
	snprintf(cmd, sizeof(cmd),
	    "'%s' --data '%s' --listen 'ipc://%s/second.sock' "
	    "2>'%s/second.log'",
	    bin, f->srv.data, f->srv.root, f->srv.root);
	status = system(cmd);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	snprintf(cmd, sizeof(cmd), "grep -q 'another enrtd' '%s/second.log'",
	    f->srv.root);
	assert_int_equal(system(cmd), 0);
	stop(f);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_new, teardown)
	const struct CMUnitTest tests[] = {
	    T(a_full_map_refuses_issue_and_keeps_reads_until_a_bigger_map),
	    T(backup_writes_a_new_directory_in_the_backup_dir),
	    T(backup_is_refused_without_a_backup_dir_and_for_non_admins),
	    T(a_backup_taken_under_load_holds_what_was_acknowledged_before_it),
	    T(a_revoked_token_is_purged_and_its_audit_events_stay),
	    T(a_second_server_on_the_same_directory_is_refused),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
