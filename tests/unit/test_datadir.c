/*
 * Tests of the data directory: directories made private, the digest key
 * made once and read back the same, refused when it is the wrong size or
 * readable by others, the bootstrap credential written once and never
 * replaced.  Each test works in its own fresh directory under TMPDIR.
 */
#define _GNU_SOURCE /* nftw */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "datadir.h"

#define CRED_A "enrc_003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf1Yo7hP"
#define CRED_B "enrc_00000000000000000000000000000000000000000002CZclj"

typedef struct fixture {
	char root[256];             /* made by mkdtemp, removed after */
	char dir[DATADIR_PATH_MAX]; /* root/data, not made yet */
	char path[DATADIR_PATH_MAX];
} fixture;

static int
setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || sodium_init() < 0) {
		free(f);
		return -1;
	}
	snprintf(f->root, sizeof(f->root), "%s/enrt-datadir-XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(f->root) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "%s/data", f->root);
	umask(022);
	*state = f;
	return 0;
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *w)
{
	return remove(path);
}

static int
teardown(void **state)
{
	fixture *f = *state;
	int rc = nftw(f->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);

	free(f);
	return rc;
}

static void
join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, DATADIR_PATH_MAX, "%s/%s", dir, name);

	assert_true(n > 0 && n < DATADIR_PATH_MAX);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* Reads at most size bytes of path into buf; returns how many. */
static size_t
read_file(const char *path, void *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size);
	assert_true(n >= 0);
	close(fd);
	return (size_t)n;
}

static size_t
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	size_t n = 0;

	assert_non_null(d);
	while ((ent = readdir(d)) != NULL) {
		if (strcmp(ent->d_name, ".") != 0 &&
		    strcmp(ent->d_name, "..") != 0) {
			n++;
		}
	}
	closedir(d);
	return n;
}

/* ---- paths ---- */

static void
path_joins_dir_and_name(void **state)
{
	char out[DATADIR_PATH_MAX];
	err e;

	assert_int_equal(datadir_path("/var/enrt", "x", out, &e), ENRT_OK);
	assert_string_equal(out, "/var/enrt/x");
	assert_int_equal(datadir_path("/var/enrt/", "x", out, &e), ENRT_OK);
	assert_string_equal(out, "/var/enrt/x");
}

static void
path_refuses_empty_and_too_long(void **state)
{
	char out[DATADIR_PATH_MAX];
	char *lng = malloc(DATADIR_PATH_MAX);
	err e;

	assert_non_null(lng);
	memset(lng, 'a', DATADIR_PATH_MAX - 3);
	lng[DATADIR_PATH_MAX - 3] = '\0';

	assert_int_equal(
	    datadir_path("", "x", out, &e), ENRT_INVALID_ARGUMENT);
	assert_non_null(strstr(e.message, "data directory"));
	assert_int_equal(
	    datadir_path(NULL, "x", out, &e), ENRT_INVALID_ARGUMENT);
	assert_int_equal(datadir_path(lng, "x", out, &e), ENRT_OK);
	assert_int_equal(
	    datadir_path(lng, "xy", out, &e), ENRT_INVALID_ARGUMENT);
	free(lng);
}

/* ---- directories ---- */

static void
prepare_makes_private_dir_and_store(void **state)
{
	fixture *f = *state;
	err e;

	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
	assert_int_equal(mode_of(f->dir), 0700);
	join(f->path, f->dir, "store");
	assert_int_equal(mode_of(f->path), 0700);
}

static void
prepare_accepts_existing_dir(void **state)
{
	fixture *f = *state;
	err e;

	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
}

static void
prepare_refuses_a_file_in_the_way(void **state)
{
	fixture *f = *state;
	err e;

	write_file(f->dir, "x", 1, 0600);
	assert_int_equal(
	    datadir_prepare(f->dir, &e), ENRT_FAILED_PRECONDITION);
	assert_non_null(strstr(e.message, f->dir));
	assert_non_null(strstr(e.message, "not a directory"));
}

static void
prepare_names_path_when_parent_is_missing(void **state)
{
	fixture *f = *state;
	err e;

	join(f->path, f->root, "missing/data");
	assert_int_equal(datadir_prepare(f->path, &e), ENRT_INTERNAL);
	assert_non_null(strstr(e.message, f->path));
	assert_non_null(strstr(e.message, strerror(ENOENT)));
}

/* ---- the digest key ---- */

static void
load_key_creates_private_key_once(void **state)
{
	fixture *f = *state;
	uint8_t key[DATADIR_KEY_LEN];
	uint8_t disk[DATADIR_KEY_LEN + 1];
	uint8_t zero[DATADIR_KEY_LEN] = {0};
	err e;

	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
	assert_int_equal(datadir_load_key(f->dir, key, &e), ENRT_OK);

	join(f->path, f->dir, "digest.key");
	assert_int_equal(mode_of(f->path), 0600);
	assert_int_equal(read_file(f->path, disk, sizeof(disk)), 32);
	assert_memory_equal(disk, key, sizeof(key));
	assert_memory_not_equal(key, zero, sizeof(key));

	/* store/ and digest.key, and no temporary file left behind */
	assert_int_equal(count_entries(f->dir), 2);
}

static void
load_key_is_stable_across_calls(void **state)
{
	fixture *f = *state;
	uint8_t first[DATADIR_KEY_LEN];
	uint8_t again[DATADIR_KEY_LEN];
	err e;

	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
	assert_int_equal(datadir_load_key(f->dir, first, &e), ENRT_OK);
	assert_int_equal(datadir_load_key(f->dir, again, &e), ENRT_OK);
	assert_memory_equal(first, again, sizeof(first));
}

static void
load_key_reads_an_existing_key(void **state)
{
	fixture *f = *state;
	uint8_t written[DATADIR_KEY_LEN];
	uint8_t key[DATADIR_KEY_LEN];
	size_t i;
	err e;

	for (i = 0; i < sizeof(written); i++) {
		written[i] = (uint8_t)(0xC0 ^ i);
	}
	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
	join(f->path, f->dir, "digest.key");
	write_file(f->path, written, sizeof(written), 0600);

	assert_int_equal(datadir_load_key(f->dir, key, &e), ENRT_OK);
	assert_memory_equal(key, written, sizeof(key));
}

static void
assert_key_of_size_refused(fixture *f, size_t size)
{
	uint8_t bytes[DATADIR_KEY_LEN + 1] = {0};
	uint8_t key[DATADIR_KEY_LEN];
	err e;

	join(f->path, f->dir, "digest.key");
	write_file(f->path, bytes, size, 0600);

	assert_int_equal(
	    datadir_load_key(f->dir, key, &e), ENRT_FAILED_PRECONDITION);
	assert_non_null(strstr(e.message, f->path));
	assert_non_null(strstr(e.message, "exactly 32 bytes"));
	assert_int_equal(read_file(f->path, bytes, sizeof(bytes)), size);
}

static void
load_key_refuses_wrong_size(void **state)
{
	fixture *f = *state;
	err e;

	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
	assert_key_of_size_refused(f, 0);
	assert_key_of_size_refused(f, 31);
	assert_key_of_size_refused(f, 33);
}

static void
load_key_refuses_key_readable_by_others(void **state)
{
	fixture *f = *state;
	uint8_t bytes[DATADIR_KEY_LEN] = {1};
	uint8_t key[DATADIR_KEY_LEN];
	err e;

	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
	join(f->path, f->dir, "digest.key");
	write_file(f->path, bytes, sizeof(bytes), 0644);

	assert_int_equal(
	    datadir_load_key(f->dir, key, &e), ENRT_FAILED_PRECONDITION);
	assert_non_null(strstr(e.message, f->path));
	assert_non_null(strstr(e.message, "0644"));
}

static void
load_key_names_path_when_dir_is_missing(void **state)
{
	fixture *f = *state;
	uint8_t key[DATADIR_KEY_LEN];
	err e;

	assert_int_equal(datadir_load_key(f->dir, key, &e), ENRT_INTERNAL);
	assert_non_null(strstr(e.message, f->dir));
	assert_non_null(strstr(e.message, strerror(ENOENT)));
}

static void
keys_of_two_dirs_differ(void **state)
{
	fixture *f = *state;
	uint8_t a[DATADIR_KEY_LEN];
	uint8_t b[DATADIR_KEY_LEN];
	err e;

	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
	assert_int_equal(datadir_load_key(f->dir, a, &e), ENRT_OK);
	assert_int_equal(datadir_load_key(f->root, b, &e), ENRT_OK);
	assert_memory_not_equal(a, b, sizeof(a));
}

/* ---- the bootstrap credential ---- */

static void
credential_file_is_private_and_whole(void **state)
{
	fixture *f = *state;
	char path[DATADIR_PATH_MAX];
	char disk[128] = {0};
	err e;

	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
	assert_int_equal(
	    datadir_write_credential(f->dir, CRED_A, path, &e), ENRT_OK);

	join(f->path, f->dir, "admin.credential");
	assert_string_equal(path, f->path);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(read_file(path, disk, sizeof(disk) - 1), 55);
	assert_string_equal(disk, CRED_A "\n");
	assert_int_equal(count_entries(f->dir), 2);
}

static void
credential_file_is_never_replaced(void **state)
{
	fixture *f = *state;
	char path[DATADIR_PATH_MAX];
	char disk[128] = {0};
	err e;

	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
	assert_int_equal(
	    datadir_write_credential(f->dir, CRED_A, path, &e), ENRT_OK);
	assert_int_equal(datadir_write_credential(f->dir, CRED_B, path, &e),
	    ENRT_ALREADY_EXISTS);

	assert_non_null(strstr(e.message, path));
	assert_null(strstr(e.message, "enrc_"));
	read_file(path, disk, sizeof(disk) - 1);
	assert_string_equal(disk, CRED_A "\n");
	assert_int_equal(count_entries(f->dir), 2);
}

static void
credential_must_be_well_formed(void **state)
{
	fixture *f = *state;
	char path[DATADIR_PATH_MAX];
	err e;

	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
	assert_int_equal(
	    datadir_write_credential(f->dir, "enrc_short", path, &e),
	    ENRT_INVALID_ARGUMENT);
	assert_null(strstr(e.message, "enrc_short"));
	assert_int_equal(datadir_write_credential(f->dir, NULL, path, &e),
	    ENRT_INVALID_ARGUMENT);
	assert_int_equal(count_entries(f->dir), 1);
}

static void
lock_is_held_by_one_holder_at_a_time(void **state)
{
	fixture *f = *state;
	int first, second;
	err e;

	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
	assert_int_equal(datadir_lock(f->dir, &first, &e), ENRT_OK);
	assert_true(first >= 0);
	assert_int_equal(
	    datadir_lock(f->dir, &second, &e), ENRT_FAILED_PRECONDITION);
	assert_int_equal(second, -1);
	assert_non_null(strstr(e.message, "another enrtd"));

	datadir_unlock(first);
	assert_int_equal(datadir_lock(f->dir, &second, &e), ENRT_OK);
	datadir_unlock(second);
	datadir_unlock(-1);
}

static void
read_key_never_creates_one(void **state)
{
	fixture *f = *state;
	uint8_t key[DATADIR_KEY_LEN], again[DATADIR_KEY_LEN];
	err e;

	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
	assert_int_equal(datadir_read_key(f->dir, key, &e), ENRT_NOT_FOUND);
	assert_int_equal(count_entries(f->dir), 1); /* store/ alone */
	assert_int_equal(datadir_load_key(f->dir, key, &e), ENRT_OK);
	assert_int_equal(datadir_read_key(f->dir, again, &e), ENRT_OK);
	assert_memory_equal(key, again, DATADIR_KEY_LEN);
}

static void
copy_file_makes_a_private_copy_and_replaces_nothing(void **state)
{
	fixture *f = *state;
	uint8_t key[DATADIR_KEY_LEN], copied[DATADIR_KEY_LEN];
	char to[DATADIR_PATH_MAX];
	struct stat st;
	err e;

	join(to, f->root, "copy");
	assert_int_equal(mkdir(to, 0755), 0);
	assert_int_equal(datadir_prepare(f->dir, &e), ENRT_OK);
	assert_int_equal(
	    datadir_copy_file(f->dir, to, "digest.key", &e), ENRT_NOT_FOUND);

	assert_int_equal(datadir_load_key(f->dir, key, &e), ENRT_OK);
	assert_int_equal(
	    datadir_copy_file(f->dir, to, "digest.key", &e), ENRT_OK);
	assert_int_equal(datadir_read_key(to, copied, &e), ENRT_OK);
	assert_memory_equal(key, copied, DATADIR_KEY_LEN);
	join(f->path, to, "digest.key");
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(datadir_copy_file(f->dir, to, "digest.key", &e),
	    ENRT_ALREADY_EXISTS);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(path_joins_dir_and_name),
	    cmocka_unit_test(path_refuses_empty_and_too_long),
	    TEST(prepare_makes_private_dir_and_store),
	    TEST(prepare_accepts_existing_dir),
	    TEST(prepare_refuses_a_file_in_the_way),
	    TEST(prepare_names_path_when_parent_is_missing),
	    TEST(load_key_creates_private_key_once),
	    TEST(load_key_is_stable_across_calls),
	    TEST(load_key_reads_an_existing_key),
	    TEST(load_key_refuses_wrong_size),
	    TEST(load_key_refuses_key_readable_by_others),
	    TEST(load_key_names_path_when_dir_is_missing),
	    TEST(keys_of_two_dirs_differ),
	    TEST(credential_file_is_private_and_whole),
	    TEST(credential_file_is_never_replaced),
	    TEST(credential_must_be_well_formed),
	    TEST(lock_is_held_by_one_holder_at_a_time),
	    TEST(read_key_never_creates_one),
	    TEST(copy_file_makes_a_private_copy_and_replaces_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
