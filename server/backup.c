/*
 * Backups and restores of a data directory.  Runs on the thread that
 * asks: a request thread for the Backup operation, the main thread for
 * enrtd backup and enrtd restore.  Owns nothing between calls.
 *
 * Both build their result under a temporary name and move it into place
 * with one rename at the end (RENAME_NOREPLACE for a backup, which so
 * never replaces anything; RENAME_EXCHANGE for a restore, which swaps
 * the restored store with the current one), so that a crash part-way
 * leaves the temporary directory behind and nothing else changed.
 */
#define _GNU_SOURCE /* renameat2 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "backup.h"
#include "format.h"
#include "log.h"
#include "reply.h"

#define DATA_FILE  "data.mdb"
#define LOCK_FILE  "lock.mdb"
#define EVENT_PAGE 256
#define MAP_MIN    ((size_t)1 << 30)
#define MAP_SLACK  ((size_t)256 << 20)
#define STAMP_LEN  sizeof("20261204T000000Z")
#define NAME_LEN   (sizeof("enrt-backup-") + STAMP_LEN + FORMAT_ID_MAX)
#define COPY_CHUNK 65536

/* The paths of a backup, or of a store directory being built. */
typedef struct layout {
	char root[DATADIR_PATH_MAX];
	char store[DATADIR_PATH_MAX]; /* root/store, or root for a store */
	char data[DATADIR_PATH_MAX];  /* the data file */
} layout;

static enrt_status
layout_of(const char *root, bool is_store, layout *l, err *e)
{
	snprintf(l->root, sizeof(l->root), "%s", root);
	if (is_store) {
		snprintf(l->store, sizeof(l->store), "%s", root);
	} else if (datadir_path(root, DATADIR_STORE, l->store, e) != ENRT_OK) {
		return e->code;
	}
	return datadir_path(l->store, DATA_FILE, l->data, e);
}

static void
stamp(int64_t when, char out[STAMP_LEN])
{
	time_t t = (time_t)when;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, STAMP_LEN, "%Y%m%dT%H%M%SZ", &tm);
}

/* path with a suffix of its own, beside it: PATH.WHAT-RANDOM. */
static enrt_status
temp_name(const char *path, const char *what, char *out, err *e)
{
	char suffix[FORMAT_ID_MAX];
	int n;

	format_random_id(suffix, "");
	n = snprintf(out, DATADIR_PATH_MAX, "%s.%s-%s", path, what, suffix);
	if (n < 0 || n >= DATADIR_PATH_MAX) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "%s: the path must be shorter than %d bytes", path,
		    DATADIR_PATH_MAX - FORMAT_ID_MAX - 16);
	}
	return ENRT_OK;
}

static enrt_status
make_new_dir(const char *path, err *e)
{
	if (mkdir(path, 0700) != 0) {
		return err_set(e,
		    errno == EEXIST ? ENRT_ALREADY_EXISTS : ENRT_INTERNAL,
		    "%s: cannot create: %s", path, strerror(errno));
	}
	return ENRT_OK;
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Removes what a backup or a store being built may hold; best effort. */
static void
remove_layout(const layout *l)
{
	char path[DATADIR_PATH_MAX];
	err ignored;

	unlink(l->data);
	if (datadir_path(l->store, LOCK_FILE, path, &ignored) == ENRT_OK) {
		unlink(path);
	}
	if (strcmp(l->store, l->root) != 0) {
		rmdir(l->store);
	}
	if (datadir_path(l->root, DATADIR_KEY_NAME, path, &ignored) ==
	    ENRT_OK) {
		unlink(path);
	}
	if (datadir_path(l->root, DATADIR_CREDENTIAL, path, &ignored) ==
	    ENRT_OK) {
		unlink(path);
	}
	rmdir(l->root);
}

static enrt_status
finish_file(int fd, const char *path, enrt_status rc, err *e)
{
	if (rc == ENRT_OK && fsync(fd) != 0) {
		rc = err_set(e, ENRT_INTERNAL, "%s: cannot fsync: %s", path,
		    strerror(errno));
	}
	if (close(fd) != 0 && rc == ENRT_OK) {
		rc = err_set(e, ENRT_INTERNAL, "%s: cannot close: %s", path,
		    strerror(errno));
	}
	return rc;
}

static int
create_private(const char *path, err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		err_set(e, ENRT_INTERNAL, "%s: cannot create: %s", path,
		    strerror(errno));
	}
	return fd;
}

static uint64_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* ------------------------------------------------------------------ */
/* Backup                                                              */

/* The store's snapshot into fd: s's own, or data_dir's opened here. */
static enrt_status
snapshot(store *s, const char *data_dir, int fd, err *e)
{
	layout src;
	enrt_status rc;

	if (s != NULL) {
		rc = store_copy(s, fd);
	} else if (layout_of(data_dir, false, &src, e) != ENRT_OK) {
		return e->code;
	} else if (!exists(src.data)) {
		return err_set(e, ENRT_NOT_FOUND,
		    "%s: no store here to back up", src.store);
	} else {
		rc = store_copy_dir(src.store, fd);
	}
	if (rc != ENRT_OK) {
		return err_set(e, rc,
		    "store: the copy failed; the server log has the cause");
	}
	return ENRT_OK;
}

static enrt_status
write_snapshot(store *s, const char *data_dir, const layout *l, err *e)
{
	int fd;

	if (make_new_dir(l->store, e) != ENRT_OK ||
	    (fd = create_private(l->data, e)) < 0) {
		return e->code;
	}
	return finish_file(fd, l->data, snapshot(s, data_dir, fd, e), e);
}

/* The store, the key and (when there is one) the credential. */
static enrt_status
fill_backup(store *s, const char *data_dir, const layout *l, err *e)
{
	enrt_status rc;

	if ((rc = write_snapshot(s, data_dir, l, e)) != ENRT_OK ||
	    (rc = datadir_sync(l->store, e)) != ENRT_OK) {
		return rc;
	}
	rc = datadir_copy_file(data_dir, l->root, DATADIR_KEY_NAME, e);
	if (rc != ENRT_OK) {
		return rc;
	}
	rc = datadir_copy_file(data_dir, l->root, DATADIR_CREDENTIAL, e);
	return rc == ENRT_NOT_FOUND ? datadir_sync(l->root, e) : rc;
}

static enrt_status
publish(const char *partial, const char *out, err *e)
{
	if (renameat2(AT_FDCWD, partial, AT_FDCWD, out, RENAME_NOREPLACE) !=
	    0) {
		return err_set(e,
		    errno == EEXIST ? ENRT_ALREADY_EXISTS : ENRT_INTERNAL,
		    "%s: cannot create: %s", out, strerror(errno));
	}
	return datadir_sync_parent(out, e);
}

enrt_status
backup_write(
    store *s, const char *data_dir, const char *out, backup_info *info, err *e)
{
	char partial[DATADIR_PATH_MAX];
	layout l;
	enrt_status rc;

	if (exists(out)) {
		return err_set(e, ENRT_ALREADY_EXISTS,
		    "%s: exists; a backup never replaces anything", out);
	}
	if ((rc = temp_name(out, "partial", partial, e)) != ENRT_OK ||
	    (rc = layout_of(partial, false, &l, e)) != ENRT_OK ||
	    (rc = make_new_dir(partial, e)) != ENRT_OK) {
		return rc;
	}

	rc = fill_backup(s, data_dir, &l, e);
	if (rc == ENRT_OK) {
		info->bytes = file_size(l.data);
		rc = publish(partial, out, e);
	}
	if (rc != ENRT_OK) {
		remove_layout(&l);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* The Backup operation                                                */

static Enrt__V1__BackupReply *
backup_reply(const char *name, const char *path, uint64_t bytes, int64_t now)
{
	Enrt__V1__BackupReply *reply = reply_alloc(sizeof(*reply));

	enrt__v1__backup_reply__init(reply);
	reply->name = reply_strdup(name);
	reply->path = reply_strdup(path);
	reply->has_bytes = true;
	reply->bytes = bytes;
	reply->has_created_at = true;
	reply->created_at = now;
	return reply;
}

enrt_status
backup_rpc(rules *r, const actor *a, const Enrt__V1__BackupRequest *req,
    Enrt__V1__BackupReply **out, err *e)
{
	char name[NAME_LEN], when[STAMP_LEN], suffix[FORMAT_ID_MAX];
	char path[DATADIR_PATH_MAX];
	backup_info info = {0};
	enrt_status rc;

	*out = NULL;
	if (r->backup_dir == NULL || r->data_dir == NULL) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "backup: this server has no backup-dir; start enrtd "
		    "with --backup-dir DIR, or run enrtd backup on its "
		    "machine");
	}
	stamp(a->now, when);
	format_random_id(suffix, "");
	snprintf(name, sizeof(name), "enrt-backup-%s-%s", when, suffix);
	if ((rc = datadir_make_dir(r->backup_dir, e)) != ENRT_OK ||
	    (rc = datadir_path(r->backup_dir, name, path, e)) != ENRT_OK ||
	    (rc = backup_write(r->store, r->data_dir, path, &info, e)) !=
	        ENRT_OK) {
		return rc;
	}

	/* A backup holds the key: who made one is kept, best effort, in a
	 * transaction of its own, as a refusal is. */
	audit_refusal(r, a, "backup", name, ENRT_OK);
	log_info("backup_written", "path=%s bytes=%llu caller=%s", path,
	    (unsigned long long)info.bytes, a->caller->id);
	*out = backup_reply(name, path, info.bytes, a->now);
	return ENRT_OK;
}

/* ------------------------------------------------------------------ */
/* Restore: the directories                                            */

typedef struct restore {
	const char *data_dir;
	const char *from;
	bool replace;
	restore_report *report;
	layout backup; /* from */
	layout live;   /* data_dir/store, whose data file may be missing */
	layout staged; /* data_dir/store.restoring-*, built here */
	bool has_store;
	bool needs_key; /* data_dir has no key yet */
	bool needs_credential;
	int lock;
	store *fresh; /* the staged store, open while replaying */
	store *old;   /* the live store, when there is one */
} restore;

static enrt_status
check_backup(restore *x, uint8_t key[DATADIR_KEY_LEN], err *e)
{
	enrt_status rc;

	if (layout_of(x->from, false, &x->backup, e) != ENRT_OK) {
		return e->code;
	}
	rc = datadir_read_key(x->from, key, e);
	if (rc == ENRT_NOT_FOUND ||
	    (rc == ENRT_OK && !exists(x->backup.data))) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "%s: not a backup (it needs store/data.mdb and "
		    "digest.key)",
		    x->from);
	}
	return rc;
}

/* The backup's key must be the directory's, or the directory has none. */
static enrt_status
check_key(restore *x, const uint8_t key[DATADIR_KEY_LEN], err *e)
{
	uint8_t mine[DATADIR_KEY_LEN];
	enrt_status rc;

	rc = datadir_read_key(x->data_dir, mine, e);
	x->needs_key = rc == ENRT_NOT_FOUND;
	if (rc == ENRT_OK && sodium_memcmp(mine, key, DATADIR_KEY_LEN) != 0) {
		rc = err_set(e, ENRT_FAILED_PRECONDITION,
		    "%s: its digest key is not %s's: the backup is of "
		    "another data directory; restore it into an empty one",
		    x->from, x->data_dir);
	}
	sodium_memzero(mine, sizeof(mine));
	return x->needs_key ? ENRT_OK : rc;
}

static enrt_status
check_target(restore *x, err *e)
{
	char path[DATADIR_PATH_MAX];

	if (datadir_prepare(x->data_dir, e) != ENRT_OK ||
	    datadir_lock(x->data_dir, &x->lock, e) != ENRT_OK ||
	    datadir_path(x->data_dir, DATADIR_STORE, path, e) != ENRT_OK ||
	    layout_of(path, true, &x->live, e) != ENRT_OK ||
	    datadir_path(x->data_dir, DATADIR_CREDENTIAL, path, e) !=
	        ENRT_OK) {
		return e->code;
	}
	x->needs_credential = !exists(path);
	x->has_store = exists(x->live.data);
	if (x->has_store && !x->replace) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "%s: holds a store; give --replace to put the backup in "
		    "its place (the current store is kept beside it, and "
		    "its later revocations are carried over)",
		    x->data_dir);
	}
	return ENRT_OK;
}

static enrt_status
copy_bytes(int in, int out, const char *src, const char *dst, err *e)
{
	char buf[COPY_CHUNK];
	enrt_status rc = ENRT_OK;
	ssize_t n;

	while (rc == ENRT_OK && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno != EINTR) {
			return err_set(e, ENRT_INTERNAL, "%s: cannot read: %s",
			    src, strerror(errno));
		}
		if (n > 0) {
			rc = datadir_write_all(out, buf, (size_t)n, dst, e);
		}
	}
	return rc;
}

static enrt_status
copy_data_file(const char *src, const char *dst, err *e)
{
	int in, out;
	enrt_status rc;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		return err_set(e, ENRT_INTERNAL, "%s: cannot open: %s", src,
		    strerror(errno));
	}
	if ((out = create_private(dst, e)) < 0) {
		close(in);
		return e->code;
	}
	rc = copy_bytes(in, out, src, dst, e);
	close(in);
	return finish_file(out, dst, rc, e);
}

static enrt_status
stage(restore *x, err *e)
{
	char path[DATADIR_PATH_MAX];
	store_options so;
	enrt_status rc;

	if (temp_name(x->live.root, "restoring", path, e) != ENRT_OK ||
	    layout_of(path, true, &x->staged, e) != ENRT_OK ||
	    make_new_dir(path, e) != ENRT_OK) {
		return e->code;
	}
	if ((rc = copy_data_file(x->backup.data, x->staged.data, e)) !=
	    ENRT_OK) {
		return rc;
	}

	/* Room for what the replay adds to a store that may be full. */
	so.map_size = (size_t)file_size(x->staged.data) + MAP_SLACK;
	so.map_size = so.map_size < MAP_MIN ? MAP_MIN : so.map_size;
	if ((rc = store_open(&x->fresh, x->staged.root, &so)) != ENRT_OK) {
		return err_set(e, rc,
		    "%s: the backup's store does not open; the log has the "
		    "cause",
		    x->from);
	}
	return ENRT_OK;
}

/* ------------------------------------------------------------------ */
/* Restore: carrying the current store's later events over             */

typedef struct carrier {
	store_txn *t; /* on the restored store */
	uint64_t since;
	size_t seen;
	restore_report *report;
} carrier;

static uint64_t
revoke_token(store_txn *t, const store_event *ev)
{
	uint8_t digest[STORE_DIGEST_LEN];
	store_token *tok;
	uint64_t n = 0;

	if (store_token_by_id(t, ev->target_id, &tok, digest) != ENRT_OK) {
		return 0; /* issued after the backup: gone with it */
	}
	if (!tok->has_revoked_at) {
		tok->has_revoked_at = true;
		tok->revoked_at = ev->time;
		store_token_update(t, digest, tok);
		n = 1;
	}
	store_free(tok);
	return n;
}

static uint64_t
revoke_caller(store_txn *t, const store_event *ev)
{
	uint8_t digest[STORE_DIGEST_LEN];
	store_caller *c;
	uint64_t n = 0;

	if (store_caller_by_id(t, ev->target_id, &c, digest) != ENRT_OK) {
		return 0;
	}
	if (!c->has_revoked_at) {
		c->has_revoked_at = true;
		c->revoked_at = ev->time;
		store_caller_update(t, digest, c);
		n = 1;
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
 * app switched off) are not carried: the backup's state of them stands.
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

static store_visit
carry(void *arg, const store_event *ev)
{
	carrier *c = arg;

	if (c->seen++ == EVENT_PAGE) {
		return STORE_STOP;
	}
	if (!ev->has_sequence || ev->sequence <= c->since) {
		return STORE_CONTINUE; /* in the backup already */
	}
	store_event_append(c->t, ev);
	carry_out(c, ev);
	c->report->events++;
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
	if ((rc = store_begin_write(x->fresh, &c->t)) != ENRT_OK) {
		store_abort(old);
		return err_set(e, rc, "the restored store cannot be written");
	}
	c->seen = 0;
	rc = store_event_scan(
	    old, INT64_MIN, cursor[0] == '\0' ? NULL : cursor, carry, c, next);
	store_abort(old);
	if (rc != ENRT_OK) {
		store_abort(c->t);
		return err_set(
		    e, rc, "%s: its audit log cannot be read", x->live.root);
	}
	if ((rc = rules_commit(c->t, e)) == ENRT_OK) {
		strcpy(cursor, next);
	}
	return rc;
}

static enrt_status
backup_sequence(restore *x, uint64_t *since, err *e)
{
	store_txn *t;
	enrt_status rc;

	if ((rc = store_begin_read(x->fresh, &t)) == ENRT_OK) {
		rc = store_event_last(t, since);
		store_abort(t);
	}
	return rc == ENRT_OK ? rc
	                     : err_set(e, rc, "%s: cannot be read", x->from);
}

static enrt_status
carry_over(restore *x, err *e)
{
	char cursor[STORE_CURSOR_MAX] = "";
	carrier c = {.report = x->report};
	enrt_status rc;

	if ((rc = backup_sequence(x, &c.since, e)) != ENRT_OK) {
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
	const char *name = strrchr(x->from, '/');
	store_event ev = ENRT__V1__AUDIT_EVENT__INIT;
	store_txn *t;
	enrt_status rc;

	name = name != NULL && name[1] != '\0' ? name + 1 : x->from;
	ev.has_time = true;
	ev.time = (int64_t)time(NULL);
	ev.caller_id = "enrtd";
	ev.action = "restore";
	ev.target_id = (char *)name;
	ev.has_outcome = true;
	ev.outcome = ENRT__V1__STATUS__OK;
	if ((rc = store_begin_write(x->fresh, &t)) != ENRT_OK) {
		return err_set(e, rc, "the restored store cannot be written");
	}
	store_event_append(t, &ev);
	return rules_commit(t, e);
}

/* ------------------------------------------------------------------ */
/* Restore: putting it in place                                        */

static enrt_status
copy_secrets(restore *x, err *e)
{
	enrt_status rc = ENRT_OK;

	if (x->needs_key) {
		rc = datadir_copy_file(
		    x->from, x->data_dir, DATADIR_KEY_NAME, e);
	}
	if (rc == ENRT_OK && x->needs_credential) {
		rc = datadir_copy_file(
		    x->from, x->data_dir, DATADIR_CREDENTIAL, e);
		rc = rc == ENRT_NOT_FOUND ? ENRT_OK : rc;
	}
	return rc;
}

/* After the exchange, the staged name holds what was live before. */
static enrt_status
retire_old(restore *x, err *e)
{
	char when[STAMP_LEN], kept[DATADIR_PATH_MAX];
	layout old;
	int n;

	if (!x->has_store) {
		layout_of(x->staged.root, true, &old, e);
		remove_layout(&old);
		return ENRT_OK;
	}
	stamp((int64_t)time(NULL), when);
	n = snprintf(
	    kept, sizeof(kept), "%s.before-restore-%s", x->live.root, when);

	/* Where it cannot be named so, it stays under the staged name. */
	if (n < 0 || (size_t)n >= sizeof(kept) ||
	    renameat2(AT_FDCWD, x->staged.root, AT_FDCWD, kept,
	        RENAME_NOREPLACE) != 0) {
		snprintf(kept, sizeof(kept), "%s", x->staged.root);
	}
	x->report->replaced = true;
	snprintf(x->report->kept, sizeof(x->report->kept), "%s", kept);
	return ENRT_OK;
}

static enrt_status
swap_in(restore *x, err *e)
{
	enrt_status rc;
	char lock[DATADIR_PATH_MAX];

	store_close(x->fresh);
	store_close(x->old);
	x->fresh = x->old = NULL;
	if (datadir_path(x->staged.root, LOCK_FILE, lock, e) == ENRT_OK) {
		unlink(lock); /* this process's; the server makes its own */
	}
	if ((rc = copy_secrets(x, e)) != ENRT_OK) {
		remove_layout(&x->staged);
		return rc;
	}
	if (renameat2(AT_FDCWD, x->staged.root, AT_FDCWD, x->live.root,
	        RENAME_EXCHANGE) != 0) {
		rc = err_set(e, ENRT_INTERNAL, "%s: cannot swap in: %s",
		    x->live.root, strerror(errno));
		remove_layout(&x->staged);
		return rc;
	}
	retire_old(x, e);
	return datadir_sync(x->data_dir, e);
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

enrt_status
backup_restore(const char *data_dir, const char *from, bool replace,
    restore_report *report, err *e)
{
	uint8_t key[DATADIR_KEY_LEN];
	restore x = {.data_dir = data_dir,
	    .from = from,
	    .replace = replace,
	    .report = report,
	    .lock = -1};
	enrt_status rc;

	memset(report, 0, sizeof(*report));
	rc = build(&x, key, e);
	if (rc == ENRT_OK) {
		rc = swap_in(&x, e);
	} else if (x.staged.root[0] != '\0') {
		store_close(x.fresh);
		store_close(x.old);
		remove_layout(&x.staged);
	}
	sodium_memzero(key, sizeof(key));
	datadir_unlock(x.lock);
	return rc;
}
