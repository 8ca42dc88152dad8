/*
 * Tests of err_set: the code comes back, the message is formatted, a long
 * message is cut but stays terminated, and a NULL err is allowed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"

static void
err_set_returns_code_and_formats_message(void **state)
{
	err e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(err_set(&e, ENRT_INVALID_ARGUMENT,
	                     "scopes: at most %d, got %s", 32, "33"),
	    ENRT_INVALID_ARGUMENT);
	assert_int_equal(e.code, ENRT_INVALID_ARGUMENT);
	assert_string_equal(e.message, "scopes: at most 32, got 33");
}

static void
err_set_cuts_long_message_and_terminates_it(void **state)
{
	char lng[ERR_MESSAGE_MAX * 2];
	err e;

	memset(lng, 'x', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	memset(&e, 'y', sizeof(e));

	assert_int_equal(err_set(&e, ENRT_INTERNAL, "%s", lng), ENRT_INTERNAL);
	assert_int_equal(strlen(e.message), ERR_MESSAGE_MAX - 1);
	assert_int_equal(e.message[0], 'x');
}

static void
err_set_replaces_previous_message(void **state)
{
	err e;

	err_set(&e, ENRT_NOT_FOUND, "app %s: no such app", "app_1");
	err_set(&e, ENRT_OK, "%s", "");
	assert_int_equal(e.code, ENRT_OK);
	assert_string_equal(e.message, "");
}

static void
err_set_accepts_null(void **state)
{
	assert_int_equal(err_set(NULL, ENRT_NOT_FOUND, "x"), ENRT_NOT_FOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(err_set_returns_code_and_formats_message),
	    cmocka_unit_test(err_set_cuts_long_message_and_terminates_it),
	    cmocka_unit_test(err_set_replaces_previous_message),
	    cmocka_unit_test(err_set_accepts_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
