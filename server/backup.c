/*
 * Backups of a data directory.  Runs on the thread that asks: a request
 * thread for the Backup operation, the main thread for enrtd backup.
 * Owns nothing between calls.
 *
 * A backup is built under a temporary name beside its place and moved
 * there with one rename that replaces nothing (RENAME_NOREPLACE), so
 * that a crash part-way leaves the temporary directory behind and
 * nothing else changed.
 */
#define _GNU_SOURCE /* renameat2 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "backup.h"
#include "format.h"
#include "layout.h"
#include "log.h"
#include "reply.h"

#define NAME_LEN (sizeof("enrt-backup-") + LAYOUT_STAMP_LEN + FORMAT_ID_MAX)

/*
 * The store's snapshot into fd: s's own, or data_dir's opened here.
 * The store logs the cause of a failed copy: to the server's log for
 * the Backup operation, to standard error for enrtd backup.
 */
static enrt_status
snapshot(store *s, const char *data_dir, int fd, err *e)
{
	layout src;
	enrt_status rc;

	if (s != NULL) {
		rc = store_copy(s, fd);
	} else if (layout_of(data_dir, false, &src, e) != ENRT_OK) {
		return e->code;
	} else if (!layout_exists(src.data)) {
		return err_set(e, ENRT_NOT_FOUND,
		    "%s: no store here to back up", src.store);
	} else {
		rc = store_copy_dir(src.store, fd);
	}
	if (rc != ENRT_OK) {
		return err_set(e, rc, "store: the copy failed; %s",
		    s != NULL
		        ? "the server log has the cause"
		        : "the line logged before this one has the cause");
	}
	return ENRT_OK;
}

static enrt_status
write_snapshot(store *s, const char *data_dir, const layout *l, err *e)
{
	int fd;

	if (layout_make_dir(l->store, e) != ENRT_OK ||
	    (fd = layout_create_private(l->data, e)) < 0) {
		return e->code;
	}
	return layout_finish_file(
	    fd, l->data, snapshot(s, data_dir, fd, e), e);
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

/* out without the trailing slashes that name the same directory. */
static enrt_status
trim_out(const char *out, char target[DATADIR_PATH_MAX], err *e)
{
	size_t n = strlen(out);

	if (n == 0) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "OUT: must name a directory to create, not be empty");
	}
	if (n >= DATADIR_PATH_MAX) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "OUT: must be shorter than %d bytes", DATADIR_PATH_MAX);
	}
	while (n > 1 && out[n - 1] == '/') {
		n--;
	}
	memcpy(target, out, n);
	target[n] = '\0';
	return ENRT_OK;
}

/* The rules an OUT must meet, so that a mistake is named as one. */
static enrt_status
check_out(const char *out, err *e)
{
	char parent[DATADIR_PATH_MAX];
	char *slash;

	if (layout_exists(out)) {
		return err_set(e, ENRT_ALREADY_EXISTS,
		    "%s: exists; a backup never replaces anything", out);
	}
	snprintf(parent, sizeof(parent), "%s", out);
	if ((slash = strrchr(parent, '/')) == NULL) {
		return ENRT_OK;
	}
	slash[slash == parent ? 1 : 0] = '\0';
	if (!layout_exists(parent)) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "%s: its directory %s does not exist; a backup creates "
		    "OUT alone, not its parents",
		    out, parent);
	}
	return ENRT_OK;
}

enrt_status
backup_write(
    store *s, const char *data_dir, const char *out, backup_info *info, err *e)
{
	char target[DATADIR_PATH_MAX], partial[DATADIR_PATH_MAX];
	layout l;
	enrt_status rc;

	if ((rc = trim_out(out, target, e)) != ENRT_OK ||
	    (rc = check_out(target, e)) != ENRT_OK ||
	    (rc = layout_temp_name(target, "partial", partial, e)) !=
	        ENRT_OK ||
	    (rc = layout_of(partial, false, &l, e)) != ENRT_OK ||
	    (rc = layout_make_dir(partial, e)) != ENRT_OK) {
		return rc;
	}

	rc = fill_backup(s, data_dir, &l, e);
	if (rc == ENRT_OK) {
		info->bytes = layout_file_size(l.data);
		rc = publish(partial, target, e);
	}
	if (rc != ENRT_OK) {
		layout_remove(&l);
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
	char name[NAME_LEN], when[LAYOUT_STAMP_LEN], suffix[FORMAT_ID_MAX];
	char path[DATADIR_PATH_MAX];
	backup_info info = {0};
	enrt_status rc;

	(void)req;
	*out = NULL;
	if (r->backup_dir == NULL || r->data_dir == NULL) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "backup: this server has no backup-dir; start enrtd "
		    "with --backup-dir DIR, or run enrtd backup on its "
		    "machine");
	}
	layout_stamp(a->now, when);
	format_random_id(suffix, "");
	snprintf(name, sizeof(name), "enrt-backup-%s-%s", when, suffix);
	if ((rc = datadir_make_dir(r->backup_dir, e)) != ENRT_OK ||
	    (rc = datadir_path(r->backup_dir, name, path, e)) != ENRT_OK ||
	    (rc = backup_write(r->store, r->data_dir, path, &info, e)) !=
	        ENRT_OK) {
		return rc;
	}

	/*
	 * A backup holds the key, so who made one is kept.  The event comes
	 * after the copy, in a transaction of its own: it records a backup
	 * that exists, and a write transaction held across the copy would
	 * stop every writer for as long as the copy takes.  The backup so
	 * never holds its own event; the store it was made of does.
	 */
	audit_record_alone(r, a, "backup", name);
	log_info("backup_written", "path=%s bytes=%llu caller=%s", path,
	    (unsigned long long)info.bytes, a->caller->id);
	*out = backup_reply(name, path, info.bytes, a->now);
	return ENRT_OK;
}
