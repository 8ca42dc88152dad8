/*
 * Names of the enums that people and scripts read: statuses, token kinds
 * and states, app policies, caller roles.  Each enum has one table of value
 * and name, read in both directions, so that a name and its parse cannot
 * drift. Owns only constant tables; safe on any thread.
 */
#include <stddef.h>
#include <string.h>

#include "enrt.h"

typedef struct name_entry {
	int value;
	const char *name;
} name_entry;

static const name_entry status_names[] = {
    {ENRT_OK, "OK"},
    {ENRT_INVALID_ARGUMENT, "INVALID_ARGUMENT"},
    {ENRT_NOT_FOUND, "NOT_FOUND"},
    {ENRT_ALREADY_EXISTS, "ALREADY_EXISTS"},
    {ENRT_PERMISSION_DENIED, "PERMISSION_DENIED"},
    {ENRT_RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED"},
    {ENRT_FAILED_PRECONDITION, "FAILED_PRECONDITION"},
    {ENRT_INTERNAL, "INTERNAL"},
    {ENRT_UNAVAILABLE, "UNAVAILABLE"},
    {ENRT_UNAUTHENTICATED, "UNAUTHENTICATED"},
};

static const name_entry kind_names[] = {
    {ENRT_KIND_PAT, "pat"},
    {ENRT_KIND_SAT, "sat"},
};

static const name_entry state_names[] = {
    {ENRT_STATE_ACTIVE, "active"},
    {ENRT_STATE_EXPIRED, "expired"},
    {ENRT_STATE_REVOKED, "revoked"},
    {ENRT_STATE_SUSPENDED, "suspended"},
};

static const name_entry policy_names[] = {
    {ENRT_POLICY_NONE, "None"},
    {ENRT_POLICY_AUTHENTICATED_USERS, "AuthenticatedUsers"},
    {ENRT_POLICY_ADMINISTRATORS_ONLY, "AdministratorsOnly"},
};

static const name_entry role_names[] = {
    {ENRT_ROLE_INTROSPECT, "introspect"},
    {ENRT_ROLE_PORTAL, "portal"},
    {ENRT_ROLE_ADMIN, "admin"},
};

#define TABLE(t) (t), (sizeof(t) / sizeof((t)[0]))

static const char *
name_of(const name_entry *table, size_t n, int value, const char *unknown)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (table[i].value == value) {
			return table[i].name;
		}
	}
	return unknown;
}

/* Exact match only: names are identifiers, not prose. */
static bool
value_of(const name_entry *table, size_t n, const char *name, int *value)
{
	size_t i;

	if (name == NULL) {
		return false;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(table[i].name, name) == 0) {
			*value = table[i].value;
			return true;
		}
	}
	return false;
}

const char *
enrt_status_name(enrt_status status)
{
	return name_of(TABLE(status_names), (int)status, "UNKNOWN");
}

bool
enrt_status_parse(const char *name, enrt_status *status)
{
	int value;

	if (status == NULL || !value_of(TABLE(status_names), name, &value)) {
		return false;
	}
	*status = (enrt_status)value;
	return true;
}

const char *
enrt_kind_name(enrt_kind kind)
{
	return name_of(TABLE(kind_names), (int)kind, "unknown");
}

const char *
enrt_state_name(enrt_state state)
{
	return name_of(TABLE(state_names), (int)state, "unknown");
}

const char *
enrt_policy_name(enrt_policy policy)
{
	return name_of(TABLE(policy_names), (int)policy, "unknown");
}

bool
enrt_policy_parse(const char *name, enrt_policy *policy)
{
	int value;

	if (policy == NULL || !value_of(TABLE(policy_names), name, &value)) {
		return false;
	}
	*policy = (enrt_policy)value;
	return true;
}

const char *
enrt_role_name(enrt_role role)
{
	return name_of(TABLE(role_names), (int)role, "unknown");
}

bool
enrt_role_parse(const char *name, enrt_role *role)
{
	int value;

	if (role == NULL || !value_of(TABLE(role_names), name, &value)) {
		return false;
	}
	*role = (enrt_role)value;
	return true;
}
