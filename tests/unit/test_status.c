/*
 * Tests of the names of statuses, kinds, states, policies and roles: each name
 * parses back to its value, unknown values get a plain "unknown", and the
 * names agree with the enums of the wire contract in proto/enrt.proto.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "enrt.h"
#include "enrt.pb-c.h"

/* The proto spelling, folded: "AUTHENTICATED_USERS" -> "authenticatedusers".
 */
static void
fold(char *out, size_t size, const char *name)
{
	size_t n = 0;

	for (; *name != '\0' && n + 1 < size; name++) {
		if (*name != '_') {
			out[n++] = (char)tolower((unsigned char)*name);
		}
	}
	out[n] = '\0';
}

static void
status_names_match_the_wire_contract(void **state)
{
	const ProtobufCEnumDescriptor *d = &enrt__v1__status__descriptor;
	enrt_status parsed;
	unsigned i;

	assert_int_equal(d->n_values, 10);
	for (i = 0; i < d->n_values; i++) {
		assert_string_equal(
		    enrt_status_name(d->values[i].value), d->values[i].name);
		assert_true(enrt_status_parse(d->values[i].name, &parsed));
		assert_int_equal(parsed, d->values[i].value);
	}
}

static void
status_name_of_unknown_number_is_unknown(void **state)
{
	assert_string_equal(enrt_status_name((enrt_status)1), "UNKNOWN");
	assert_string_equal(enrt_status_name((enrt_status)-1), "UNKNOWN");
	assert_string_equal(
	    enrt_status_name(ENRT_INVALID_ARGUMENT), "INVALID_ARGUMENT");
}

static void
status_parse_wants_exact_name(void **state)
{
	enrt_status s = ENRT_INTERNAL;

	assert_false(enrt_status_parse("invalid_argument", &s));
	assert_false(enrt_status_parse("INVALID_ARGUMENT ", &s));
	assert_false(enrt_status_parse("UNKNOWN", &s));
	assert_false(enrt_status_parse("", &s));
	assert_false(enrt_status_parse(NULL, &s));
	assert_false(enrt_status_parse("OK", NULL));
	assert_int_equal(s, ENRT_INTERNAL);
	assert_true(enrt_status_parse("UNAUTHENTICATED", &s));
	assert_int_equal(s, ENRT_UNAUTHENTICATED);
}

/* Checks every value of d but the zero "unspecified" one. */
static void
assert_names_match(const ProtobufCEnumDescriptor *d,
    const char *(*name_of)(int), unsigned expect)
{
	char want[64];
	char got[64];
	unsigned i, n = 0;

	for (i = 0; i < d->n_values; i++) {
		if (d->values[i].value == 0 && d->n_values > expect) {
			continue;
		}
		fold(want, sizeof(want), d->values[i].name);
		fold(got, sizeof(got), name_of(d->values[i].value));
		assert_string_equal(got, want);
		n++;
	}
	assert_int_equal(n, expect);
}

static const char *
kind_name(int v)
{
	return enrt_kind_name((enrt_kind)v);
}

static const char *
state_name(int v)
{
	return enrt_state_name((enrt_state)v);
}

static const char *
policy_name(int v)
{
	return enrt_policy_name((enrt_policy)v);
}

static const char *
role_name(int v)
{
	return enrt_role_name((enrt_role)v);
}

static void
kind_state_policy_and_role_names_match_the_wire_contract(void **state)
{
	assert_names_match(&enrt__v1__token_kind__descriptor, kind_name, 2);
	assert_names_match(&enrt__v1__token_state__descriptor, state_name, 4);
	assert_names_match(&enrt__v1__policy__descriptor, policy_name, 3);
	assert_names_match(&enrt__v1__role__descriptor, role_name, 3);
}

static void
names_are_spelled_as_documented(void **state)
{
	assert_string_equal(enrt_kind_name(ENRT_KIND_PAT), "pat");
	assert_string_equal(enrt_kind_name(ENRT_KIND_SAT), "sat");
	assert_string_equal(
	    enrt_state_name(ENRT_STATE_SUSPENDED), "suspended");
	assert_string_equal(enrt_policy_name(ENRT_POLICY_NONE), "None");
	assert_string_equal(enrt_policy_name(ENRT_POLICY_AUTHENTICATED_USERS),
	    "AuthenticatedUsers");
	assert_string_equal(enrt_policy_name(ENRT_POLICY_ADMINISTRATORS_ONLY),
	    "AdministratorsOnly");
	assert_string_equal(
	    enrt_role_name(ENRT_ROLE_INTROSPECT), "introspect");
	assert_string_equal(enrt_role_name(ENRT_ROLE_PORTAL), "portal");
	assert_string_equal(enrt_role_name(ENRT_ROLE_ADMIN), "admin");
}

static void
unknown_values_are_named_unknown(void **state)
{
	assert_string_equal(enrt_kind_name((enrt_kind)0), "unknown");
	assert_string_equal(enrt_state_name((enrt_state)0), "unknown");
	assert_string_equal(enrt_state_name((enrt_state)5), "unknown");
	assert_string_equal(enrt_policy_name((enrt_policy)3), "unknown");
	assert_string_equal(enrt_role_name((enrt_role)0), "unknown");
	assert_string_equal(enrt_role_name((enrt_role)4), "unknown");
}

static void
policy_parse_round_trips_and_wants_exact_name(void **state)
{
	enrt_policy p = ENRT_POLICY_NONE;
	int v;

	for (v = 0; v < 3; v++) {
		assert_true(enrt_policy_parse(enrt_policy_name(v), &p));
		assert_int_equal(p, v);
	}
	assert_false(enrt_policy_parse("none", &p));
	assert_false(enrt_policy_parse("ADMINISTRATORS_ONLY", &p));
	assert_false(enrt_policy_parse("unknown", &p));
	assert_false(enrt_policy_parse(NULL, &p));
	assert_false(enrt_policy_parse("None", NULL));
	assert_int_equal(p, ENRT_POLICY_ADMINISTRATORS_ONLY);
}

static void
role_parse_round_trips_and_wants_exact_name(void **state)
{
	enrt_role r = ENRT_ROLE_INTROSPECT;
	int v;

	for (v = ENRT_ROLE_INTROSPECT; v <= ENRT_ROLE_ADMIN; v++) {
		assert_true(enrt_role_parse(enrt_role_name(v), &r));
		assert_int_equal(r, v);
	}
	assert_false(enrt_role_parse("Admin", &r));
	assert_false(enrt_role_parse("ADMIN", &r));
	assert_false(enrt_role_parse("admin ", &r));
	assert_false(enrt_role_parse("unknown", &r));
	assert_false(enrt_role_parse("", &r));
	assert_false(enrt_role_parse(NULL, &r));
	assert_false(enrt_role_parse("portal", NULL));
	assert_int_equal(r, ENRT_ROLE_ADMIN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(status_names_match_the_wire_contract),
	    cmocka_unit_test(status_name_of_unknown_number_is_unknown),
	    cmocka_unit_test(status_parse_wants_exact_name),
	    cmocka_unit_test(
	        kind_state_policy_and_role_names_match_the_wire_contract),
	    cmocka_unit_test(names_are_spelled_as_documented),
	    cmocka_unit_test(unknown_values_are_named_unknown),
	    cmocka_unit_test(policy_parse_round_trips_and_wants_exact_name),
	    cmocka_unit_test(role_parse_round_trips_and_wants_exact_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
