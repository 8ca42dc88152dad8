/*
 * The data directory's files outside LMDB: the directory itself, the
 * digest key and the bootstrap credential.  Owns no state; runs on the
 * main thread at start-up, before any request is served.
 *
 * A file here is never written in place.  Its bytes go to a new file of
 * mode 0600 (O_CREAT | O_EXCL), are fsync'd, and the file is then linked
 * under its real name, which fails rather than replace anything; the
 * directory is fsync'd last.  A crash part-way therefore leaves either no
 * file or a whole one, never an empty key that would stop the next start.
 * libsodium must be initialised before the key is created.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "datadir.h"
#include "format.h"

#define KEY_NAME        DATADIR_KEY_NAME
#define CREDENTIAL_NAME DATADIR_CREDENTIAL
#define STORE_NAME      DATADIR_STORE

#define COPY_MAX 4096
#define TEMP_MAX (DATADIR_PATH_MAX + FORMAT_ID_MAX + 8)

enrt_status
datadir_path(const char *dir, const char *name, char *out, err *e)
{
	size_t dlen;
	int n;

	if (dir == NULL || dir[0] == '\0') {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "data directory: must not be empty");
	}
	if (name == NULL || name[0] == '\0') {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "data directory: file name must not be empty");
	}
	dlen = strlen(dir);

	n = snprintf(out, DATADIR_PATH_MAX, "%s%s%s", dir,
	    dir[dlen - 1] == '/' ? "" : "/", name);
	if (n < 0 || n >= DATADIR_PATH_MAX) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "data directory: the path of %s must be shorter than %d "
		    "bytes",
		    name, DATADIR_PATH_MAX);
	}
	return ENRT_OK;
}

/* Makes the entries of the directory path durable. */
static enrt_status
sync_dir(const char *path, err *e)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		return err_set(e, ENRT_INTERNAL, "%s: cannot open: %s", path,
		    strerror(errno));
	}
	rc = fsync(fd);
	close(fd);
	if (rc != 0) {
		return err_set(e, ENRT_INTERNAL, "%s: cannot fsync: %s", path,
		    strerror(errno));
	}
	return ENRT_OK;
}

/* Fsyncs the directory that holds path, so that a new entry survives. */
static enrt_status
sync_parent(const char *path, err *e)
{
	char parent[DATADIR_PATH_MAX];
	char *slash;
	size_t len;

	snprintf(parent, sizeof(parent), "%s", path);
	len = strlen(parent);
	while (len > 1 && parent[len - 1] == '/') {
		parent[--len] = '\0';
	}

	slash = strrchr(parent, '/');
	if (slash == NULL) {
		return sync_dir(".", e);
	}
	slash[slash == parent ? 1 : 0] = '\0';
	return sync_dir(parent, e);
}

enrt_status
datadir_sync(const char *path, err *e)
{
	return sync_dir(path, e);
}

enrt_status
datadir_sync_parent(const char *path, err *e)
{
	return sync_parent(path, e);
}

static enrt_status
make_dir(const char *path, err *e)
{
	struct stat st;

	if (mkdir(path, 0700) == 0) {
		return sync_parent(path, e);
	}
	if (errno != EEXIST) {
		return err_set(e, ENRT_INTERNAL, "%s: cannot create: %s", path,
		    strerror(errno));
	}

	if (stat(path, &st) != 0) {
		return err_set(e, ENRT_INTERNAL, "%s: cannot stat: %s", path,
		    strerror(errno));
	}
	if (!S_ISDIR(st.st_mode)) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "%s: exists and is not a directory", path);
	}
	return ENRT_OK;
}

enrt_status
datadir_make_dir(const char *path, err *e)
{
	return make_dir(path, e);
}

enrt_status
datadir_prepare(const char *dir, err *e)
{
	char path[DATADIR_PATH_MAX];
	enrt_status st;

	st = datadir_path(dir, STORE_NAME, path, e);
	if (st != ENRT_OK) {
		return st;
	}

	st = make_dir(dir, e);
	if (st != ENRT_OK) {
		return st;
	}
	return make_dir(path, e);
}

enrt_status
datadir_write_all(
    int fd, const void *data, size_t len, const char *path, err *e)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return err_set(e, ENRT_INTERNAL,
			    "%s: cannot write: %s", path, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return ENRT_OK;
}

/* Creates temp (mode 0600), writes data to it and fsyncs it. */
static enrt_status
write_temp(const char *temp, const void *data, size_t len, err *e)
{
	int fd;
	enrt_status st;

	fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		return err_set(e, ENRT_INTERNAL, "%s: cannot create: %s", temp,
		    strerror(errno));
	}

	st = datadir_write_all(fd, data, len, temp, e);
	if (st == ENRT_OK && fsync(fd) != 0) {
		st = err_set(e, ENRT_INTERNAL, "%s: cannot fsync: %s", temp,
		    strerror(errno));
	}
	if (close(fd) != 0 && st == ENRT_OK) {
		st = err_set(e, ENRT_INTERNAL, "%s: cannot close: %s", temp,
		    strerror(errno));
	}
	return st;
}

/*
 * Puts a new file at path in dir holding data, or returns
 * ENRT_ALREADY_EXISTS when path exists; never replaces a file.
 */
static enrt_status
create_file(
    const char *dir, const char *path, const void *data, size_t len, err *e)
{
	char temp[TEMP_MAX];
	char suffix[FORMAT_ID_MAX];
	enrt_status st;

	format_random_id(suffix, ".new-");
	snprintf(temp, sizeof(temp), "%s%s", path, suffix);

	st = write_temp(temp, data, len, e);
	if (st == ENRT_OK && link(temp, path) != 0) {
		st = err_set(e,
		    errno == EEXIST ? ENRT_ALREADY_EXISTS : ENRT_INTERNAL,
		    "%s: cannot create: %s", path, strerror(errno));
	}

	/* The temporary name goes whatever happened; the link keeps the
	 * file itself. */
	unlink(temp);
	if (st == ENRT_OK) {
		st = sync_dir(dir, e);
	}
	return st;
}

/* Checks that the open key file is a private regular file of 32 bytes. */
static enrt_status
check_key_file(int fd, const char *path, err *e)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		return err_set(e, ENRT_INTERNAL, "%s: cannot stat: %s", path,
		    strerror(errno));
	}
	if (!S_ISREG(st.st_mode) || st.st_size != DATADIR_KEY_LEN) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "digest key %s: must be a file of exactly %d bytes, "
		    "found %lld",
		    path, DATADIR_KEY_LEN, (long long)st.st_size);
	}
	if ((st.st_mode & 077) != 0) {
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "digest key %s: mode %04o lets other users read it; "
		    "it must be 0600",
		    path, (unsigned)(st.st_mode & 07777));
	}
	return ENRT_OK;
}

static enrt_status
read_all(int fd, uint8_t *buf, size_t len, const char *path, err *e)
{
	ssize_t n;

	while (len > 0) {
		n = read(fd, buf, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return err_set(e, ENRT_INTERNAL, "%s: cannot read: %s",
			    path, n < 0 ? strerror(errno) : "file too short");
		}
		buf += n;
		len -= (size_t)n;
	}
	return ENRT_OK;
}

/* Reads the key at path; ENRT_NOT_FOUND when there is no such file. */
static enrt_status
read_key(const char *path, uint8_t key[DATADIR_KEY_LEN], err *e)
{
	enrt_status st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return err_set(e,
		    errno == ENOENT ? ENRT_NOT_FOUND : ENRT_INTERNAL,
		    "digest key %s: cannot open: %s", path, strerror(errno));
	}

	st = check_key_file(fd, path, e);
	if (st == ENRT_OK) {
		st = read_all(fd, key, DATADIR_KEY_LEN, path, e);
	}
	close(fd);
	return st;
}

static enrt_status
create_key(const char *dir, const char *path, err *e)
{
	uint8_t fresh[DATADIR_KEY_LEN];
	enrt_status st;

	randombytes_buf(fresh, sizeof(fresh));
	st = create_file(dir, path, fresh, sizeof(fresh), e);
	sodium_memzero(fresh, sizeof(fresh));
	return st;
}

enrt_status
datadir_read_key(const char *dir, uint8_t key[DATADIR_KEY_LEN], err *e)
{
	char path[DATADIR_PATH_MAX];
	enrt_status st;

	st = datadir_path(dir, KEY_NAME, path, e);
	if (st != ENRT_OK) {
		return st;
	}
	return read_key(path, key, e);
}

/*
 * A key created here is read back from disk like any other, so the
 * caller always gets the bytes that later starts will read.  Losing a
 * race to create it is fine: the other process's key is read instead.
 */
enrt_status
datadir_load_key(const char *dir, uint8_t key[DATADIR_KEY_LEN], err *e)
{
	char path[DATADIR_PATH_MAX];
	enrt_status st;

	st = datadir_read_key(dir, key, e);
	if (st != ENRT_NOT_FOUND) {
		return st;
	}

	if ((st = datadir_path(dir, KEY_NAME, path, e)) != ENRT_OK) {
		return st;
	}
	st = create_key(dir, path, e);
	if (st != ENRT_OK && st != ENRT_ALREADY_EXISTS) {
		return st;
	}
	return read_key(path, key, e);
}

/*
 * flock, not fcntl: the lock belongs to the open file, so no other
 * thread's close of the same file can drop it.
 */
enrt_status
datadir_lock(const char *dir, int *fd, err *e)
{
	char path[DATADIR_PATH_MAX];
	enrt_status st;

	*fd = -1;
	if ((st = datadir_path(dir, DATADIR_LOCK, path, e)) != ENRT_OK) {
		return st;
	}
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0) {
		return err_set(e, ENRT_INTERNAL, "%s: cannot open: %s", path,
		    strerror(errno));
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0) {
		return ENRT_OK;
	}

	st = errno == EWOULDBLOCK ? ENRT_FAILED_PRECONDITION : ENRT_INTERNAL;
	err_set(e, st, "%s: %s", dir,
	    st == ENRT_FAILED_PRECONDITION
	        ? "another enrtd (or enrtd restore) is using this data "
	          "directory"
	        : strerror(errno));
	close(*fd);
	*fd = -1;
	return st;
}

void
datadir_unlock(int fd)
{
	if (fd >= 0) {
		close(fd);
	}
}

/* Reads the small regular file at path into buf; *len its size. */
static enrt_status
read_small(const char *path, uint8_t *buf, size_t *len, err *e)
{
	struct stat st;
	enrt_status rc;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		return err_set(e,
		    errno == ENOENT ? ENRT_NOT_FOUND : ENRT_INTERNAL,
		    "%s: cannot open: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > COPY_MAX) {
		close(fd);
		return err_set(e, ENRT_FAILED_PRECONDITION,
		    "%s: must be a regular file of at most %d bytes", path,
		    COPY_MAX);
	}
	*len = (size_t)st.st_size;
	rc = read_all(fd, buf, *len, path, e);
	close(fd);
	return rc;
}

enrt_status
datadir_copy_file(const char *from, const char *to, const char *name, err *e)
{
	char src[DATADIR_PATH_MAX], dst[DATADIR_PATH_MAX];
	uint8_t buf[COPY_MAX];
	size_t len = 0;
	enrt_status st;

	if ((st = datadir_path(from, name, src, e)) != ENRT_OK ||
	    (st = datadir_path(to, name, dst, e)) != ENRT_OK) {
		return st;
	}
	st = read_small(src, buf, &len, e);
	if (st == ENRT_OK) {
		st = create_file(to, dst, buf, len, e);
	}
	sodium_memzero(buf, sizeof(buf));
	return st;
}

enrt_status
datadir_write_credential(
    const char *dir, const char *credential, char *path, err *e)
{
	char line[FORMAT_SECRET_LEN + 1];
	enrt_status st;
	size_t len;

	st = datadir_path(dir, CREDENTIAL_NAME, path, e);
	if (st != ENRT_OK) {
		return st;
	}
	len = credential != NULL ? strlen(credential) : 0;
	if (!enrt_credential_check(credential, len)) {
		return err_set(e, ENRT_INVALID_ARGUMENT,
		    "admin credential: must be a well-formed enrc_ "
		    "credential");
	}

	memcpy(line, credential, len);
	line[len] = '\n';
	st = create_file(dir, path, line, len + 1, e);
	sodium_memzero(line, sizeof(line));

	if (st == ENRT_ALREADY_EXISTS) {
		return err_set(e, st,
		    "admin credential %s: already exists and is never "
		    "replaced",
		    path);
	}
	return st;
}
