/*
 * The restore of a backup into a data directory.  Runs on the main
 * thread for enrtd restore and owns nothing between calls.
 *
 * The steps, each of which leaves the directory usable if the process
 * dies after it:
 *
 *   1. data_dir/store.restoring-RANDOM gets a copy of the backup's store,
 *      the current store's audit events the backup lacks and their
 *      revocations, and the restore's own event; it is then synced.  A
 *      leftover of this step holds nothing but that copy.
 *   2. It is renamed data_dir/store.before-restore-TIME-RANDOM.
 *   3. That name and data_dir/store are exchanged (RENAME_EXCHANGE): the
 *      restored store is in place and the old one has the name that
 *      says what it is.  With no old store, step 1's directory is
 *      renamed to store and steps 2 and 3 are not needed.
 *
 * A failure before step 3 removes what this run made, the data
 * directory itself included when the run created it.
 */
#define _GNU_SOURCE /* renameat2 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "layout.h"
#include "restore.h"
#include "store.h"

#define EVENT_PAGE 256
#define MAP_SLACK  ((size_t)256 << 20)
#define MIB(bytes) ((unsigned long long)((bytes) >> 20))

typedef struct restore {
	const restore_request *req;
	restore_report *report;
	layout backup; /* req->from */
	layout live;   /* data_dir/store, which may be missing */
	layout staged; /* data_dir/store.restoring-*, built here */
	size_t map_size;
	bool has_store;
	bool needs_key; /* data_dir has no key yet */
	bool needs_credential;
	bool made_dir;  /* data_dir, by this run */
	bool made_lock; /* data_dir/enrtd.lock, by this run */
	bool placed;    /* the restored store is data_dir/store */
	int lock;
	store *fresh; /* the staged store, open while replaying */
	store *old;   /* the live store, when there is one */
} restore;

/* ------------------------------------------------------------------ */
/* The backup and the directory                                        */

static enrt_status
not_a_backup(const restore *x, const char *why, err *e)
{
	return err_set(e, ENRT_FAILED_PRECONDITION,
	    "%s: not a backup (%s; a backup has store/data.mdb and "
	    "digest.key)",
	    x->req->from, why);
}

static enrt_status
check_backup(restore *x, uint8_t key[DATADIR_KEY_LEN], err *e)
{
	enrt_status rc;

	if (x->req->from[0] == '\0') {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "BACKUP: must name a backup directory, not be empty");
	}
	if (layout_of(x->req->from, false, &x->backup, e) != ENRT_OK) {
		return e->code;
	}
	rc = datadir_read_key(x->req->from, key, e);
	if (rc == ENRT_NOT_FOUND) {
		return not_a_backup(x, "it has no digest.key", e);
	}
	if (rc == ENRT_OK && !layout_exists(x->backup.data)) {
		return not_a_backup(x, "it has no store/data.mdb", e);
	}
	return rc;
}

/* The backup's key must be the directory's, or the directory has none. */
static enrt_status
check_key(restore *x, const uint8_t key[DATADIR_KEY_LEN], err *e)
{
	uint8_t mine[DATADIR_KEY_LEN];
	enrt_status rc;

	rc = datadir_read_key(x->req->data_dir, mine, e);
	x->needs_key = rc == ENRT_NOT_FOUND;
	if (rc == ENRT_OK && sodium_memcmp(mine, key, DATADIR_KEY_LEN) != 0) {
		rc = err_set(e, ENRT_FAILED_PRECONDITION,
		    "%s: its digest key is not %s's: the backup is of "
		    "another data directory; restore it into an empty one",
		    x->req->from, x->req->data_dir);
	}
	sodium_memzero(mine, sizeof(mine));
	return x->needs_key ? ENRT_OK : rc;
}

/* The directory, made when missing, and its lock, noting what is new. */
static enrt_status
take_dir(restore *x, err *e)
{
	char path[DATADIR_PATH_MAX];
	const char *dir = x->req->data_dir;

	x->made_dir = !layout_exists(dir);
	if (datadir_make_dir(dir, e) != ENRT_OK ||
	    datadir_path(dir, DATADIR_LOCK, path, e) != ENRT_OK) {
		return e->code;
	}
	x->made_lock = !layout_exists(path);
	return datadir_lock(dir, &x->lock, e);
}

static enrt_status
check_target(restore *x, err *e)
{
	char path[DATADIR_PATH_MAX];
	const char *dir = x->req->data_dir;

	if (take_dir(x, e) != ENRT_OK ||
	    datadir_path(dir, DATADIR_STORE, path, e) != ENRT_OK ||
	    layout_of(path, true, &x->live, e) != ENRT_OK ||
	    datadir_path(dir, DATADIR_CREDENTIAL, path, e) != ENRT_OK) {
		return e->code;
	}
	x->needs_credential = !layout_exists(path);
	x->has_store = layout_exists(x->live.data);
	if (x->has_store && !x->req->replace) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "%s: holds a store; give --replace to put the backup in "
		    "its place (the current store is kept beside it, and "
		    "its revocations are carried over)",
		    dir);
	}
	return ENRT_OK;
}

/*
 * Every event carried over is one of the current store's, so the
 * restored store grows by less than the current one's size: room for
 * both, never less than the server's own map-size.
 */
static size_t
staged_map_size(const restore *x)
{
	size_t need = (size_t)layout_file_size(x->backup.data) + MAP_SLACK;

	if (x->has_store) {
		need += (size_t)layout_file_size(x->live.data);
	}
	return need < x->req->map_size ? x->req->map_size : need;
}

static enrt_status
stage(restore *x, err *e)
{
	char path[DATADIR_PATH_MAX];
	store_options so = {0};
	enrt_status rc;

	if (layout_temp_name(x->live.root, "restoring", path, e) != ENRT_OK ||
	    layout_of(path, true, &x->staged, e) != ENRT_OK ||
	    layout_make_dir(path, e) != ENRT_OK) {
		x->staged.root[0] = '\0';
		return e->code;
	}
	rc = layout_copy_file(x->backup.data, x->staged.data, e);
	if (rc != ENRT_OK) {
		return rc;
	}

	so.map_size = x->map_size = staged_map_size(x);
	rc = store_open(&x->fresh, x->staged.root, &so);
	if (rc == ENRT_FAILED_PRECONDITION) {
		return err_set(e, rc,
		    "%s: its store was written by a newer enrtd, whose "
		    "schema this one does not read; restore it with that "
		    "version",
		    x->req->from);
	}
	if (rc != ENRT_OK) {
		return not_a_backup(x,
		    "its store/data.mdb does not open as a store; the line "
		    "logged before this one has the cause",
		    e);
	}
	return ENRT_OK;
}

/* ------------------------------------------------------------------ */
/* Writing the restored store                                          */

static enrt_status
staged_failed(const restore *x, enrt_status rc, const char *what, err *e)
{
	if (rc == ENRT_RESOURCE_EXHAUSTED) {
		return err_set(e, rc,
		    "the restored store (%s) outgrew its map of %llu MiB "
		    "while %s; nothing in %s changed; set a larger map-size "
		    "(--map-size or the configuration) and restore again",
		    x->staged.root, MIB(x->map_size), what, x->req->data_dir);
	}
	return err_set(e, rc,
	    "the restored store (%s) could not be written while %s (%s); "
	    "nothing in %s changed",
	    x->staged.root, what, enrt_status_name(rc), x->req->data_dir);
}

/* Commits t, or aborts it when it holds nothing to write. */
static enrt_status
commit_staged(
    const restore *x, store_txn *t, bool empty, const char *what, err *e)
{
	enrt_status rc = store_status(t);

	if (rc != ENRT_OK || empty) {
		store_abort(t);
		return rc == ENRT_OK ? rc : staged_failed(x, rc, what, e);
	}
	rc = store_commit(t);
	return rc == ENRT_OK ? rc : staged_failed(x, rc, what, e);
}

static enrt_status
begin_staged(const restore *x, store_txn **t, const char *what, err *e)
{
	enrt_status rc = store_begin_write(x->fresh, t);

	return rc == ENRT_OK ? rc : staged_failed(x, rc, what, e);
}

/* ------------------------------------------------------------------ */
/* Carrying the current store's events over                            */

typedef struct carrier {
	store_txn *t;         /* on the restored store */
	uint64_t backup_last; /* the backup's last sequence */
	size_t seen;
	size_t carried; /* on this page */
	restore_report *report;
} carrier;

/* A revocation again; idempotent, so one already there counts nothing. */
static uint64_t
mark_revoked(protobuf_c_boolean *has, int64_t *at, int64_t when)
{
	if (*has) {
		return 0;
	}
	*has = true;
	*at = when;
	return 1;
}

static uint64_t
revoke_token(store_txn *t, const store_event *ev)
{
	uint8_t digest[STORE_DIGEST_LEN];
	store_token *tok;
	uint64_t n;

	if (store_token_by_id(t, ev->target_id, &tok, digest) != ENRT_OK) {
		return 0; /* not in the backup: gone with it */
	}
	n = mark_revoked(&tok->has_revoked_at, &tok->revoked_at, ev->time);
	if (n != 0) {
		store_token_update(t, digest, tok);
	}
	store_free(tok);
	return n;
}

static uint64_t
revoke_caller(store_txn *t, const store_event *ev)
{
	uint8_t digest[STORE_DIGEST_LEN];
	store_caller *c;
	uint64_t n;

	if (store_caller_by_id(t, ev->target_id, &c, digest) != ENRT_OK) {
		return 0;
	}
	n = mark_revoked(&c->has_revoked_at, &c->revoked_at, ev->time);
	if (n != 0) {
		store_caller_update(t, digest, c);
	}
	store_free(c);
	return n;
}

static uint64_t
delete_user(store_txn *t, const store_event *ev)
{
	store_user *u;

	if (store_user_get(t, ev->target_id, &u) != ENRT_OK) {
		return 0;
	}
	store_free(u);
	store_user_delete(t, ev->target_id);
	return 1;
}

/*
 * The final changes among the actions the audit log names (rules.c,
 * callers.c, users.c): a user's deletion revoked each of their tokens
 * with an event of its own.  Reversible changes (a user disabled, an
 * app switched off) are not carried: their events do not say what
 * changed, so the backup's state of them stands.
 */
static void
carry_out(carrier *c, const store_event *ev)
{
	if (ev->outcome != ENRT__V1__STATUS__OK || ev->action == NULL ||
	    ev->target_id == NULL) {
		return;
	}
	if (strcmp(ev->action, "revoke") == 0) {
		c->report->revoked += revoke_token(c->t, ev);
	} else if (strcmp(ev->action, "caller_revoke") == 0) {
		c->report->revoked += revoke_caller(c->t, ev);
	} else if (strcmp(ev->action, "user_delete") == 0) {
		c->report->deleted += delete_user(c->t, ev);
	}
}

/*
 * Only the backup's own events have a sequence up to backup_last in the
 * restored store (what is carried gets later ones), so an event the
 * backup holds is one of those with the same contents.
 */
static bool
held_by_backup(carrier *c, const store_event *ev)
{
	return ev->has_sequence && ev->sequence <= c->backup_last &&
	       store_event_held(c->t, ev) == ENRT_OK;
}

static store_visit
carry(void *arg, const store_event *ev)
{
	carrier *c = arg;

	if (c->seen++ == EVENT_PAGE) {
		return STORE_STOP;
	}
	if (held_by_backup(c, ev)) {
		return STORE_CONTINUE;
	}
	store_event_append(c->t, ev);
	carry_out(c, ev);
	c->carried++;
	return STORE_CONTINUE;
}

/* One page of the old store's events into one transaction. */
static enrt_status
carry_page(restore *x, carrier *c, char *cursor, err *e)
{
	char next[STORE_CURSOR_MAX];
	store_txn *old;
	enrt_status rc;

	if ((rc = store_begin_read(x->old, &old)) != ENRT_OK) {
		return err_set(e, rc, "%s: cannot be read", x->live.root);
	}
	if ((rc = begin_staged(x, &c->t, "carrying events over", e)) !=
	    ENRT_OK) {
		store_abort(old);
		return rc;
	}
	c->seen = c->carried = 0;
	rc = store_event_scan(
	    old, INT64_MIN, cursor[0] == '\0' ? NULL : cursor, carry, c, next);
	store_abort(old);
	if (rc != ENRT_OK) {
		store_abort(c->t);
		return err_set(
		    e, rc, "%s: its audit log cannot be read", x->live.root);
	}
	rc =
	    commit_staged(x, c->t, c->carried == 0, "carrying events over", e);
	if (rc == ENRT_OK) {
		c->report->events += c->carried;
		strcpy(cursor, next);
	}
	return rc;
}

static enrt_status
backup_sequence(restore *x, uint64_t *last, err *e)
{
	store_txn *t;
	enrt_status rc;

	if ((rc = store_begin_read(x->fresh, &t)) == ENRT_OK) {
		rc = store_event_last(t, last);
		store_abort(t);
	}
	return rc == ENRT_OK
	           ? rc
	           : err_set(e, rc, "%s: cannot be read", x->req->from);
}

static enrt_status
carry_over(restore *x, err *e)
{
	char cursor[STORE_CURSOR_MAX] = "";
	carrier c = {.report = x->report};
	enrt_status rc;

	if ((rc = backup_sequence(x, &c.backup_last, e)) != ENRT_OK) {
		return rc;
	}
	if ((rc = store_open(&x->old, x->live.root, NULL)) != ENRT_OK) {
		return err_set(e, rc,
		    "%s: the current store does not open, so its "
		    "revocations cannot be carried over; move it away to "
		    "restore without them",
		    x->live.root);
	}
	do {
		rc = carry_page(x, &c, cursor, e);
	} while (rc == ENRT_OK && cursor[0] != '\0');
	return rc;
}

/* The restore itself goes into the restored store's audit log. */
static enrt_status
note_restore(restore *x, err *e)
{
	const char *name = strrchr(x->req->from, '/');
	store_event ev = ENRT__V1__AUDIT_EVENT__INIT;
	store_txn *t;
	enrt_status rc;

	name = name != NULL && name[1] != '\0' ? name + 1 : x->req->from;
	ev.has_time = true;
	ev.time = (int64_t)time(NULL);
	ev.caller_id = "enrtd";
	ev.action = "restore";
	ev.target_id = (char *)name;
	ev.has_outcome = true;
	ev.outcome = ENRT__V1__STATUS__OK;
	if ((rc = begin_staged(x, &t, "noting the restore", e)) != ENRT_OK) {
		return rc;
	}
	store_event_append(t, &ev);
	return commit_staged(x, t, false, "noting the restore", e);
}

/* ------------------------------------------------------------------ */
/* Putting it in place                                                 */

static void
close_stores(restore *x)
{
	char lock[DATADIR_PATH_MAX];
	err ignored;

	store_close(x->fresh);
	store_close(x->old);
	x->fresh = x->old = NULL;
	if (x->staged.root[0] != '\0' &&
	    datadir_path(x->staged.root, STORE_LOCK_FILE, lock, &ignored) ==
	        ENRT_OK) {
		unlink(lock); /* this process's; the server makes its own */
	}
}

static enrt_status
copy_secrets(restore *x, err *e)
{
	const char *dir = x->req->data_dir;
	enrt_status rc = ENRT_OK;

	if (x->needs_key) {
		rc = datadir_copy_file(x->req->from, dir, DATADIR_KEY_NAME, e);
	}
	if (rc == ENRT_OK && x->needs_credential) {
		rc = datadir_copy_file(
		    x->req->from, dir, DATADIR_CREDENTIAL, e);
		rc = rc == ENRT_NOT_FOUND ? ENRT_OK : rc;
	}
	return rc;
}

/* What copy_secrets made, when the restore stops after it. */
static void
remove_secrets(const restore *x)
{
	char path[DATADIR_PATH_MAX];
	err ignored;

	if (x->needs_key && datadir_path(x->req->data_dir, DATADIR_KEY_NAME,
	                        path, &ignored) == ENRT_OK) {
		unlink(path);
	}
	if (x->needs_credential &&
	    datadir_path(x->req->data_dir, DATADIR_CREDENTIAL, path,
	        &ignored) == ENRT_OK) {
		unlink(path);
	}
}

static enrt_status
rename_failed(const char *from, const char *to, err *e)
{
	return err_set(e, ENRT_INTERNAL, "%s: cannot be renamed %s: %s", from,
	    to, strerror(errno));
}

/* Step 2: the staged store takes the name the old one will keep. */
static enrt_status
name_for_old(restore *x, err *e)
{
	char when[LAYOUT_STAMP_LEN], what[LAYOUT_STAMP_LEN + 16];
	char kept[DATADIR_PATH_MAX];

	layout_stamp((int64_t)time(NULL), when);
	snprintf(what, sizeof(what), "before-restore-%s", when);
	if (layout_temp_name(x->live.root, what, kept, e) != ENRT_OK) {
		return e->code;
	}
	if (renameat2(AT_FDCWD, x->staged.root, AT_FDCWD, kept,
	        RENAME_NOREPLACE) != 0) {
		return rename_failed(x->staged.root, kept, e);
	}
	layout_of(kept, true, &x->staged, e);
	return datadir_sync(x->req->data_dir, e);
}

/* Step 3, or the one rename when there is no store to keep. */
static enrt_status
put_in_place(restore *x, err *e)
{
	unsigned how = x->has_store ? RENAME_EXCHANGE : RENAME_NOREPLACE;
	layout empty;

	if (!x->has_store && layout_exists(x->live.root)) {
		how = RENAME_EXCHANGE; /* a store directory with no store */
	}
	if (renameat2(AT_FDCWD, x->staged.root, AT_FDCWD, x->live.root, how) !=
	    0) {
		return rename_failed(x->staged.root, x->live.root, e);
	}
	if (x->has_store) {
		x->report->replaced = true;
		snprintf(x->report->kept, sizeof(x->report->kept), "%s",
		    x->staged.root);
	} else if (how == RENAME_EXCHANGE &&
	           layout_of(x->staged.root, true, &empty, e) == ENRT_OK) {
		layout_remove(&empty);
	}
	x->placed = true;
	return ENRT_OK;
}

static enrt_status
swap_in(restore *x, err *e)
{
	enrt_status rc;

	close_stores(x);
	if ((rc = datadir_sync(x->staged.root, e)) != ENRT_OK ||
	    (rc = copy_secrets(x, e)) != ENRT_OK ||
	    (x->has_store && (rc = name_for_old(x, e)) != ENRT_OK) ||
	    (rc = put_in_place(x, e)) != ENRT_OK) {
		remove_secrets(x);
		return rc;
	}
	return datadir_sync(x->req->data_dir, e);
}

/* Everything before the swap: data_dir is only locked meanwhile. */
static enrt_status
build(restore *x, uint8_t key[DATADIR_KEY_LEN], err *e)
{
	enrt_status rc;

	if ((rc = check_backup(x, key, e)) != ENRT_OK ||
	    (rc = check_target(x, e)) != ENRT_OK ||
	    (rc = check_key(x, key, e)) != ENRT_OK ||
	    (rc = stage(x, e)) != ENRT_OK) {
		return rc;
	}
	if (x->has_store && (rc = carry_over(x, e)) != ENRT_OK) {
		return rc;
	}
	return note_restore(x, e);
}

/* Takes away what a failed run made, and lets go of the directory. */
static void
finish(restore *x, bool failed)
{
	char path[DATADIR_PATH_MAX];
	err ignored;

	if (failed) {
		close_stores(x);
		if (x->staged.root[0] != '\0') {
			layout_remove(&x->staged);
		}
		if (x->made_lock &&
		    datadir_path(x->req->data_dir, DATADIR_LOCK, path,
		        &ignored) == ENRT_OK) {
			unlink(path);
		}
	}
	datadir_unlock(x->lock);
	if (failed && x->made_dir) {
		rmdir(x->req->data_dir);
	}
}

enrt_status
restore_run(const restore_request *req, restore_report *report, err *e)
{
	uint8_t key[DATADIR_KEY_LEN];
	restore x = {.req = req, .report = report, .lock = -1};
	enrt_status rc;

	memset(report, 0, sizeof(*report));
	rc = build(&x, key, e);
	if (rc == ENRT_OK) {
		rc = swap_in(&x, e);
	}
	sodium_memzero(key, sizeof(key));
	finish(&x, rc != ENRT_OK && !x.placed);
	return rc;
}
