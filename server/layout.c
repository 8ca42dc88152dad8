/*
 * The directories of backups and of stores being built.  Every file
 * here is made new (O_EXCL) with mode 0600 and synced before it counts,
 * so that a step that fails leaves only what layout_remove takes away.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "layout.h"
#include "store.h"

#define COPY_CHUNK 65536

enrt_status
layout_of(const char *root, bool is_store, layout *l, err *e)
{
	snprintf(l->root, sizeof(l->root), "%s", root);
	if (is_store) {
		snprintf(l->store, sizeof(l->store), "%s", root);
	} else if (datadir_path(root, DATADIR_STORE, l->store, e) != ENRT_OK) {
		return e->code;
	}
	return datadir_path(l->store, STORE_DATA_FILE, l->data, e);
}

static void
remove_in(const char *dir, const char *name)
{
	char path[DATADIR_PATH_MAX];
	err ignored;

	if (datadir_path(dir, name, path, &ignored) == ENRT_OK) {
		unlink(path);
	}
}

void
layout_remove(const layout *l)
{
	unlink(l->data);
	remove_in(l->store, STORE_LOCK_FILE);
	if (strcmp(l->store, l->root) != 0) {
		rmdir(l->store);
		remove_in(l->root, DATADIR_KEY_NAME);
		remove_in(l->root, DATADIR_CREDENTIAL);
	}
	rmdir(l->root);
}

enrt_status
layout_temp_name(const char *path, const char *what, char *out, err *e)
{
	char suffix[FORMAT_ID_MAX];
	int n;

	format_random_id(suffix, "");
	n = snprintf(out, DATADIR_PATH_MAX, "%s.%s-%s", path, what, suffix);
	if (n < 0 || n >= DATADIR_PATH_MAX) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "%s: the path must be shorter than %d bytes", path,
		    DATADIR_PATH_MAX - FORMAT_ID_MAX - 40);
	}
	return ENRT_OK;
}

enrt_status
layout_make_dir(const char *path, err *e)
{
	if (mkdir(path, 0700) != 0) {
		return err_set(e,
		    errno == EEXIST ? ENRT_ALREADY_EXISTS : ENRT_INTERNAL,
		    "%s: cannot create: %s", path, strerror(errno));
	}
	return ENRT_OK;
}

int
layout_create_private(const char *path, err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		err_set(e, ENRT_INTERNAL, "%s: cannot create: %s", path,
		    strerror(errno));
	}
	return fd;
}

enrt_status
layout_finish_file(int fd, const char *path, enrt_status rc, err *e)
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

enrt_status
layout_copy_file(const char *src, const char *dst, err *e)
{
	int in, out;
	enrt_status rc;

	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
		return err_set(e, ENRT_INTERNAL, "%s: cannot open: %s", src,
		    strerror(errno));
	}
	if ((out = layout_create_private(dst, e)) < 0) {
		close(in);
		return e->code;
	}
	rc = copy_bytes(in, out, src, dst, e);
	close(in);
	return layout_finish_file(out, dst, rc, e);
}

bool
layout_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

uint64_t
layout_file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

void
layout_stamp(int64_t when, char out[LAYOUT_STAMP_LEN])
{
	time_t t = (time_t)when;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, LAYOUT_STAMP_LEN, "%Y%m%dT%H%M%SZ", &tm);
}
