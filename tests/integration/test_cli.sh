#!/usr/bin/env bash
# The README walk-through through the enrt CLI, typed as a user types it,
# against a real enrtd in a temporary directory: the CLI's defaults
# (ipc://enrt-data/enrt.sock and enrt-data/admin.credential) find the
# server started there with --data enrt-data.  Checks the output of
# every step, the JSON shapes, exit codes 0, 1 and 2, and errors of the
# form "STATUS_NAME: message" on standard error.
#
# Each check prints its name when it passes.  The first failure stops the
# run with the check's name, the failing command and what it printed.
set -Eeuo pipefail

: "${ENRT_BIN_DIR:?ENRT_BIN_DIR must name the directory holding enrtd and enrt}"
export PATH="$ENRT_BIN_DIR:$PATH"
unset ENRT_URL ENRT_CREDENTIAL_FILE

work=$(mktemp -d /tmp/enrt-cli-XXXXXX)
server_pid=""
tails=(out err enrtd.log)
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"

# An error the server or the library reported: exit 1, nothing on
# stdout, and one line "STATUS: message" on stderr naming the field.
expect_error() {
	local status=$1 field=$2
	shift 2
	expect_exit 1 "$@"
	[ ! -s "$work/out" ]
	[ "$(wc -l <"$work/err")" -eq 1 ]
	grep -Eq "^$status: .+" "$work/err"
	grep -q -- "$field" "$work/err"
}

# Runs Python on the JSON in a file, bound to d; the code asserts.
json() {
	python3 - "$1" "$2" <<'EOF'
import json, os, re, sys
d = json.load(open(sys.argv[1]))
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
def exactly(obj, *keys):
    assert sorted(obj) == sorted(keys), sorted(obj)
exec(sys.argv[2])
EOF
}

# A well-formed credential (checksum and all) that no server issued.
stranger_credential() {
	python3 - <<'EOF'
import os, zlib
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def base62(n, width):
    s = ""
    while n:
        n, r = divmod(n, 62)
        s = ALPHABET[r] + s
    return s.rjust(width, "0")
body = base62(int.from_bytes(os.urandom(32), "big"), 43)
print("enrc_" + body + base62(zlib.crc32(body.encode()), 6))
EOF
}

cd "$work"

# ---------------------------------------------------------------------
check "enrtd starts on a fresh data directory and writes a credential"
enrtd --data enrt-data --listen ipc://enrt-data/enrt.sock \
	>enrtd.log 2>&1 &
server_pid=$!
await "$server_pid" answers enrt-data enrt app list
enrt app list >/dev/null
grep -Eqx 'enrc_[0-9A-Za-z]{49}' enrt-data/admin.credential
[ "$(wc -l <enrt-data/admin.credential)" -eq 1 ]
[ "$(stat -c %a enrt-data/admin.credential)" = 600 ]
[ "$(stat -c %a enrt-data/digest.key)" = 600 ]
passes

# ---------------------------------------------------------------------
check "app create prints the new app's id alone"
expect_exit 0 enrt app create --name "Reports" \
	--policy AuthenticatedUsers --system-user svc-reports \
	--scopes reports:read,reports:write --max-lifetime 90
grep -Eqx 'app_[0-9A-Za-z]{22}' out
app=$(cat out)
export app
passes

check "app show --json has the app's fields and RFC 3339 UTC times"
expect_exit 0 enrt --json app show "$app"
json out '
exactly(d, "id", "name", "policy", "system_user", "allowed_scopes",
        "max_lifetime_days", "enabled", "created", "updated")
assert d["id"] == os.environ["app"]
assert d["name"] == "Reports"
assert d["policy"] == "AuthenticatedUsers"
assert d["system_user"] == "svc-reports"
assert d["allowed_scopes"] == ["reports:read", "reports:write"]
assert d["max_lifetime_days"] == 90
assert d["enabled"] is True
assert TIME.match(d["created"]) and TIME.match(d["updated"])
'
passes

check "app show and app list print the app for people"
expect_exit 0 enrt app show "$app"
grep -q "$app" out
grep -q "Reports" out
grep -q "AuthenticatedUsers" out
expect_exit 0 enrt app list
grep -q "$app" out
passes

check "app list --json is an array of apps"
expect_exit 0 enrt --json app list
json out '
assert isinstance(d, list)
mine = [a for a in d if a["id"] == os.environ["app"]]
assert len(mine) == 1 and mine[0]["name"] == "Reports"
'
passes

# ---------------------------------------------------------------------
check "token issue prints the value alone on the first line"
expect_exit 0 enrt token issue --app "$app" --kind pat --expires 30d \
	--scopes reports:read --owner alice --description "alice's laptop"
head -n 1 out >pat.value
grep -Eqx 'enrt_[0-9A-Za-z]{49}' pat.value
[ "$(grep -c enrt_ out)" -eq 1 ]
pat_id=$(grep -Eo 'tok_[0-9A-Za-z]{22}' out | head -n 1)
export pat_id
[ -n "$pat_id" ]
passes

check "token issue --json has the token, its id and metadata"
expires_local=$(python3 -c '
import datetime as dt
t = dt.datetime.now(dt.timezone(dt.timedelta(hours=2))) + dt.timedelta(days=10)
print(t.replace(microsecond=0).isoformat())')
export expires_utc
expires_utc=$(python3 -c '
import datetime as dt, sys
t = dt.datetime.fromisoformat(sys.argv[1]).astimezone(dt.timezone.utc)
print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))' "$expires_local")
expect_exit 0 enrt --json token issue --app "$app" --kind sat \
	--expires "$expires_local" --scopes reports:read,reports:write
json out '
exactly(d, "token", "id", "kind", "app_id", "owner", "scopes", "expires")
assert re.fullmatch(r"enrt_[0-9A-Za-z]{49}", d["token"])
assert re.fullmatch(r"tok_[0-9A-Za-z]{22}", d["id"])
assert d["kind"] == "sat"
assert d["app_id"] == os.environ["app"]
assert d["owner"] is None
assert d["scopes"] == ["reports:read", "reports:write"]
assert d["expires"] == os.environ["expires_utc"], d["expires"]
'
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' \
	out >sat.value
sat_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' out)
export sat_id
passes

# ---------------------------------------------------------------------
check "token introspect reads the value on stdin: RFC 7662 for a PAT"
expect_exit 0 enrt token introspect <pat.value
json out '
exactly(d, "active", "token_id", "kind", "app_id", "sub", "scope",
        "iat", "exp")
assert d["active"] is True
assert d["token_id"] == os.environ["pat_id"]
assert d["kind"] == "pat"
assert d["app_id"] == os.environ["app"]
assert d["sub"] == "alice"
assert d["scope"] == "reports:read"
assert isinstance(d["iat"], int) and isinstance(d["exp"], int)
# --expires 30d counts from the CLI's clock, iat is the server's: the
# two may read different seconds.
assert 30 * 86400 - 1 <= d["exp"] - d["iat"] <= 30 * 86400, d
'
passes

check "token introspect of a SAT: the System User, scopes space-separated"
expect_exit 0 enrt token introspect <sat.value
json out '
assert d["active"] is True
assert d["token_id"] == os.environ["sat_id"]
assert d["kind"] == "sat"
assert d["sub"] == "svc-reports"
assert d["scope"] == "reports:read reports:write"
'
passes

check "token introspect: {\"active\": false} alone for anything else"
expect_exit 0 enrt token introspect <<<"garbage"
json out 'assert d == {"active": False}, d'
printf '%s \n' "$(cat pat.value)" >spaced.value
expect_exit 0 enrt token introspect <spaced.value
json out 'assert d == {"active": False}, d'
tr '[:lower:]' '[:upper:]' <pat.value >upper.value
expect_exit 0 enrt token introspect <upper.value
json out 'assert d == {"active": False}, d'
printf 'enrt_%049d' 0 >zeros.value
expect_exit 0 enrt token introspect <zeros.value
json out 'assert d == {"active": False}, d'
expect_exit 0 enrt token introspect </dev/null
json out 'assert d == {"active": False}, d'
passes

# ---------------------------------------------------------------------
check "token list shows both tokens and never a value"
expect_exit 0 enrt token list --app "$app"
grep -q "$pat_id" out
grep -q "$sat_id" out
absent enrt_ out
passes

check "token list --json rows have the listing fields"
expect_exit 0 enrt --json token list --app "$app"
absent "$(cat pat.value)" out
json out '
assert isinstance(d, list) and len(d) == 2, d
for row in d:
    exactly(row, "id", "kind", "app_id", "app_name", "owner",
            "description", "scopes", "created", "expires", "last_used",
            "state")
    assert row["app_id"] == os.environ["app"]
    assert row["app_name"] == "Reports"
    assert row["state"] == "active"
    assert TIME.match(row["created"]) and TIME.match(row["expires"])
    assert row["last_used"] is None or TIME.match(row["last_used"])
pat = [r for r in d if r["id"] == os.environ["pat_id"]][0]
sat = [r for r in d if r["id"] == os.environ["sat_id"]][0]
assert pat["kind"] == "pat" and pat["owner"] == "alice"
assert pat["description"] == "alice'"'"'s laptop"
assert pat["scopes"] == ["reports:read"]
assert sat["kind"] == "sat" and sat["owner"] is None
assert sat["description"] is None
assert sat["expires"] == os.environ["expires_utc"]
'
passes

check "token list --owner shows the owner's tokens"
expect_exit 0 enrt --json token list --owner alice
json out '
assert [r["id"] for r in d] == [os.environ["pat_id"]], d
'
passes

check "a value given as a token id is refused and not echoed"
expect_error INVALID_ARGUMENT token_id enrt token revoke "$(cat pat.value)"
absent "$(cut -c6- pat.value)" err
expect_exit 0 enrt token introspect <pat.value
json out 'assert d["active"] is True'
passes

# ---------------------------------------------------------------------
check "token revoke by id makes the token inactive"
expect_exit 0 enrt token revoke "$pat_id"
expect_exit 0 enrt token introspect <pat.value
json out 'assert d == {"active": False}, d'
expect_exit 0 enrt token introspect <sat.value
json out 'assert d["active"] is True'
passes

check "token revoke --value reads the value on stdin"
expect_exit 0 enrt token revoke --value <sat.value
expect_exit 0 enrt token introspect <sat.value
json out 'assert d == {"active": False}, d'
passes

check "token list hides revoked tokens unless --all"
expect_exit 0 enrt --json token list --app "$app"
json out 'assert d == [], d'
expect_exit 0 enrt --json token list --app "$app" --all
json out '
assert sorted(r["state"] for r in d) == ["revoked", "revoked"], d
'
passes

# ---------------------------------------------------------------------
check "--expires never is refused on an app with a maximum lifetime"
expect_error INVALID_ARGUMENT expires_at \
	enrt token issue --app "$app" --kind pat --expires never \
	--scopes reports:read --owner alice
passes

check "--expires never is accepted on an unlimited app: no expiry"
expect_exit 0 enrt app create --name "Forever" \
	--policy AuthenticatedUsers --system-user svc-forever \
	--max-lifetime unlimited
forever=$(cat out)
expect_exit 0 enrt --json token issue --app "$forever" --kind sat \
	--expires never --scopes deploy
json out 'assert d["expires"] is None, d'
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' \
	out >forever.value
expect_exit 0 enrt token introspect <forever.value
json out 'assert d["active"] is True and "exp" not in d, d'
passes

check "expiry beyond the app's maximum lifetime is refused"
expect_error INVALID_ARGUMENT expires_at \
	enrt token issue --app "$app" --kind pat --expires 91d \
	--scopes reports:read --owner alice
passes

check "scopes the app does not allow are refused"
expect_error INVALID_ARGUMENT scopes \
	enrt token issue --app "$app" --kind pat --expires 1d \
	--scopes admin --owner alice
passes

check "policy None refuses with FAILED_PRECONDITION"
expect_exit 0 enrt app create --name "Closed" --policy None \
	--system-user svc-closed
closed=$(cat out)
expect_error FAILED_PRECONDITION None \
	enrt token issue --app "$closed" --kind sat --expires 1d --scopes a
passes

check "an unknown app is NOT_FOUND"
expect_error NOT_FOUND app_id \
	enrt token issue --app app_0000000000000000000000 --kind sat \
	--expires 1d --scopes a
expect_error NOT_FOUND app_0000000000000000000000 \
	enrt app show app_0000000000000000000000
passes

check "a disabled app refuses tokens and suspends its own"
expect_exit 0 enrt token issue --app "$forever" --kind sat \
	--expires 1d --scopes deploy
head -n 1 out >suspended.value
expect_exit 0 enrt app update "$forever" --disable
expect_exit 0 enrt --json app show "$forever"
json out 'assert d["enabled"] is False'
expect_error FAILED_PRECONDITION disabled \
	enrt token issue --app "$forever" --kind sat --expires 1d \
	--scopes deploy
expect_exit 0 enrt token introspect <suspended.value
json out 'assert d == {"active": False}, d'
expect_exit 0 enrt app update "$forever" --enable
expect_exit 0 enrt token introspect <suspended.value
json out 'assert d["active"] is True'
passes

# ---------------------------------------------------------------------
check "caller add prints the credential alone on the first line"
expect_exit 0 enrt caller add --name "Portal" --role portal
head -n 1 out >portal.credential
grep -Eqx 'enrc_[0-9A-Za-z]{49}' portal.credential
[ "$(grep -c enrc_ out)" -eq 1 ]
grep -q "role: *portal" out
portal_id=$(grep -Eo 'cal_[0-9A-Za-z]{22}' out | head -n 1)
[ -n "$portal_id" ]
export portal_id
passes

check "caller add --json has the credential and the caller"
expect_exit 0 enrt --json caller add --name "Gateway" --role introspect \
	--app "$app"
json out '
exactly(d, "credential", "id", "name", "role", "app_ids", "created")
assert re.fullmatch(r"enrc_[0-9A-Za-z]{49}", d["credential"])
assert re.fullmatch(r"cal_[0-9A-Za-z]{22}", d["id"])
assert d["name"] == "Gateway" and d["role"] == "introspect"
assert d["app_ids"] == [os.environ["app"]]
assert TIME.match(d["created"])
'
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credential"])' \
	out >gateway.credential
gateway_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' out)
export gateway_id
passes

check "caller list shows every caller and never a credential"
expect_exit 0 enrt caller list
grep -q "$portal_id" out
grep -q "$gateway_id" out
absent enrc_ out
expect_exit 0 enrt --json caller list
absent enrc_ out
json out '
assert isinstance(d, list) and len(d) == 3, d
for row in d:
    exactly(row, "id", "name", "role", "app_ids", "created", "revoked")
    assert TIME.match(row["created"]) and row["revoked"] is None
roles = {r["id"]: r["role"] for r in d}
assert roles[os.environ["portal_id"]] == "portal"
assert roles[os.environ["gateway_id"]] == "introspect"
assert sorted(roles.values()) == ["admin", "introspect", "portal"]
'
passes

# ---------------------------------------------------------------------
check "a portal person issues a PAT for themselves with --as"
expect_exit 0 enrt --credential-file portal.credential --as ivy \
	--name "Ivy" token issue --app "$app" --kind pat --expires 1d \
	--scopes reports:read
head -n 1 out >ivy.value
grep -q "owner: *ivy" out
ivy_id=$(grep -Eo 'tok_[0-9A-Za-z]{22}' out | head -n 1)
export ivy_id
expect_exit 0 enrt token issue --app "$app" --kind pat --expires 1d \
	--scopes reports:read --credential-file portal.credential --as jon
head -n 1 out >jon.value
grep -q "owner: *jon" out
jon_id=$(grep -Eo 'tok_[0-9A-Za-z]{22}' out | head -n 1)
export jon_id
expect_error PERMISSION_DENIED owner \
	enrt --credential-file portal.credential --as ivy token issue \
	--app "$app" --kind pat --expires 1d --scopes reports:read --owner jon
passes

check "a portal person lists only their own tokens"
expect_exit 0 enrt --json --credential-file portal.credential --as ivy \
	token list
json out 'assert [r["id"] for r in d] == [os.environ["ivy_id"]], d'
expect_exit 0 enrt --json --credential-file portal.credential --as jon \
	token list
json out 'assert [r["id"] for r in d] == [os.environ["jon_id"]], d'
passes

check "a portal person cannot revoke another's token: NOT_FOUND"
expect_error NOT_FOUND token_id \
	enrt --credential-file portal.credential --as ivy token revoke "$jon_id"
expect_exit 0 enrt token introspect <jon.value
json out 'assert d["active"] is True and d["sub"] == "jon", d'
passes

check "a portal caller must name a person"
expect_error INVALID_ARGUMENT acting_user \
	enrt --credential-file portal.credential token list
expect_usage enrt --name "Ivy" token list
expect_usage enrt --admin app list
expect_usage enrt --as "" app list
passes

check "app list --eligible follows the policy and the person's admin flag"
expect_exit 0 enrt app create --name "Admins" \
	--policy AdministratorsOnly --system-user svc-admins
admins=$(cat out)
export admins closed
expect_exit 0 enrt --json --credential-file portal.credential --as ivy \
	app list --eligible
json out '
ids = [a["id"] for a in d]
assert os.environ["app"] in ids, ids
assert os.environ["admins"] not in ids and os.environ["closed"] not in ids
'
expect_exit 0 enrt --json --credential-file portal.credential --as kim \
	--admin app list --eligible
json out '
ids = [a["id"] for a in d]
assert os.environ["app"] in ids and os.environ["admins"] in ids, ids
assert os.environ["closed"] not in ids
'
expect_error PERMISSION_DENIED admin \
	enrt --credential-file portal.credential --as ivy app list
passes

check "caller add takes --app more than once, as its usage shows"
expect_exit 0 enrt --json caller add --name "Two apps" --role introspect \
	--app "$app" --app "$admins"
json out '
assert d["app_ids"] == [os.environ["app"], os.environ["admins"]], d
'
passes

# ---------------------------------------------------------------------
check "introspect --batch answers one line per value, in order"
{
	cat ivy.value
	echo "garbage"
	head -c 5000 /dev/zero | tr '\0' x
	echo ""
	echo ""
	cat forever.value
	cat pat.value
	printf '%s\r\n' "$(cat jon.value)"
	printf '%s' "$(cat ivy.value)"
} >batch.in
expect_exit 0 enrt token introspect --batch <batch.in
[ "$(wc -l <out)" -eq 8 ]
python3 - "$work/out" <<'EOF'
import json, os, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert [r["active"] for r in rows] == [True, False, False, False, True,
                                       False, True, True], rows
for i in (1, 2, 3, 5):
    assert rows[i] == {"active": False}, rows[i]
assert rows[0]["token_id"] == os.environ["ivy_id"]
assert rows[6]["token_id"] == os.environ["jon_id"]
assert rows[7]["token_id"] == os.environ["ivy_id"]
assert rows[4]["sub"] == "svc-forever" and "exp" not in rows[4]
assert rows[0]["sub"] == "ivy" and isinstance(rows[0]["exp"], int)
EOF
passes

check "introspect --batch sends more than 128 lines in several requests"
for i in $(seq 300); do
	if [ $((i % 7)) -eq 0 ]; then echo "garbage $i"; else cat ivy.value; fi
done >many.in
expect_exit 0 enrt token introspect --batch <many.in
[ "$(wc -l <out)" -eq 300 ]
python3 - "$work/out" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
for i, r in enumerate(rows, 1):
    assert r["active"] is (i % 7 != 0), (i, r)
EOF
expect_exit 0 enrt token introspect --batch </dev/null
[ ! -s out ]
passes

check "an introspect caller limited to one app sees others inactive"
{
	cat ivy.value
	cat forever.value
} >limited.in
expect_exit 0 enrt --credential-file gateway.credential \
	token introspect --batch <limited.in
python3 - "$work/out" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert rows[0]["active"] is True and rows[1] == {"active": False}, rows
EOF
passes

# ---------------------------------------------------------------------
check "user list shows the persons portal callers named"
expect_exit 0 enrt user list
grep -q "Ivy" out
expect_exit 0 enrt --json user list
json out '
users = {u["id"]: u for u in d}
for u in d:
    exactly(u, "id", "display_name", "admin", "enabled", "created",
            "last_seen")
assert users["ivy"]["display_name"] == "Ivy"
assert users["ivy"]["enabled"] is True and users["ivy"]["admin"] is False
assert users["kim"]["admin"] is True
assert TIME.match(users["ivy"]["last_seen"])
'
passes

check "user set --disable suspends a user's tokens and portal calls"
expect_exit 0 enrt --json user set ivy --disable
json out 'assert d["id"] == "ivy" and d["enabled"] is False, d'
expect_exit 0 enrt token introspect <ivy.value
json out 'assert d == {"active": False}, d'
expect_error PERMISSION_DENIED disabled \
	enrt --credential-file portal.credential --as ivy token list
expect_exit 0 enrt user set ivy --enable
grep -q "enabled: *yes" out
expect_exit 0 enrt token introspect <ivy.value
json out 'assert d["active"] is True, d'
expect_error NOT_FOUND nobody enrt user set nobody --admin
passes

check "user delete revokes the user's tokens and says how many"
expect_exit 0 enrt user delete ivy
grep -q "revoked 1 token" out
expect_exit 0 enrt token introspect <ivy.value
json out 'assert d == {"active": False}, d'
expect_error NOT_FOUND ivy enrt user delete ivy
passes

check "token revoke --user revokes every token of a user"
for _ in 1 2; do
	expect_exit 0 enrt token issue --app "$app" --kind pat --expires 1d \
		--scopes reports:read --owner leo
done
expect_exit 0 enrt --json token revoke --user leo
json out 'assert d == {"user_id": "leo", "revoked": 2}, d'
expect_exit 0 enrt --json token list --owner leo
json out 'assert d == [], d'
expect_exit 0 enrt token revoke --user leo
grep -q "revoked 0 tokens of leo" out
passes

check "caller revoke makes its credential UNAUTHENTICATED"
expect_exit 0 enrt caller revoke "$gateway_id"
grep -q "$gateway_id" out
expect_error UNAUTHENTICATED credential \
	enrt --credential-file gateway.credential token introspect <jon.value
expect_error UNAUTHENTICATED credential \
	enrt --credential-file gateway.credential token introspect --batch \
	<jon.value
expect_exit 0 enrt --json caller list
json out '
row = [r for r in d if r["id"] == os.environ["gateway_id"]][0]
assert TIME.match(row["revoked"]), row
'
passes

check "audit list shows the changes, oldest first"
expect_exit 0 enrt --json audit list
json out '
assert isinstance(d, list) and len(d) > 10
for ev in d:
    exactly(ev, "time", "caller_id", "acting_user", "action",
            "target_id", "outcome")
    assert TIME.match(ev["time"])
assert [ev["time"] for ev in d] == sorted(ev["time"] for ev in d)
def has(action, target=None, outcome="OK", user=None):
    return any(ev["action"] == action and ev["outcome"] == outcome and
               (target is None or ev["target_id"] == target) and
               (user is None or ev["acting_user"] == user) for ev in d)
assert has("caller_add", os.environ["portal_id"])
assert has("caller_revoke", os.environ["gateway_id"])
assert has("issue", os.environ["ivy_id"], user="ivy")
assert has("issue", outcome="PERMISSION_DENIED", user="ivy")
assert has("user_set", "ivy")
assert has("user_delete", "ivy")
assert has("revoke")
'
expect_exit 0 enrt --json audit list --limit 3
json out 'assert len(d) == 3, d'
expect_exit 0 enrt --json audit list --since 2999-01-01T00:00:00Z
json out 'assert d == [], d'
expect_exit 0 enrt --json audit list --since 1h --limit 1000
json out 'assert len(d) > 10, d'
expect_exit 0 enrt audit list
grep -q "user_delete" out
grep -q "ACTING USER" out
passes

check "the new subcommands' bad arguments exit 2 with a usage line"
expect_usage enrt caller add --name x
expect_usage enrt caller add --name x --role god
expect_usage enrt caller add --name x --role portal --app "$app"
expect_usage enrt caller revoke
expect_usage enrt user set ivy
expect_usage enrt user set ivy --admin --no-admin
expect_usage enrt user set ivy --enable --disable
expect_usage enrt user delete
expect_usage enrt audit list --since yesterday
expect_usage enrt audit list --limit 0
expect_usage enrt token revoke --user
expect_usage enrt token revoke --value --user leo
expect_usage enrt token revoke "$pat_id" --user leo
expect_usage enrt app list --eligible extra
passes

check "every subcommand has --help"
for cmd in "app create" "app update" "app show" "app list" "token issue" \
	"token introspect" "token revoke" "token list" "caller add" \
	"caller list" "caller revoke" "user list" "user set" "user delete" \
	"audit list"; do
	# shellcheck disable=SC2086
	expect_exit 0 enrt $cmd --help
	grep -q "^usage: enrt \[global flags\] $cmd" out
done
passes

# ---------------------------------------------------------------------
check "bad arguments exit 2 with a usage line"
expect_usage enrt
expect_usage enrt bogus
expect_usage enrt token
expect_usage enrt token issue --app
expect_usage enrt token issue --app "$app" --kind xyz --expires 1d \
	--scopes a
expect_usage enrt token issue --app "$app" --kind pat --expires yesterday \
	--scopes a
expect_usage enrt app create --name x --policy Everyone --system-user u
expect_usage enrt --timeout soon app list
expect_usage enrt version now
passes

check "a flag with a value given twice is refused, not replaced"
expect_usage enrt token issue --app "$app" --kind pat --kind sat \
	--expires 1d --scopes a
grep -q -- "--kind: given more than once" err
expect_usage enrt token issue --app "$app" --kind pat --expires 1d \
	--scopes a --scopes b
expect_usage enrt --url ipc://a token list --url ipc://b
expect_usage enrt --timeout 5 --timeout 6 app list
passes

check "enrt version and --version print the version"
expect_exit 0 enrt version
grep -Eqx 'enrt [0-9]+\.[0-9]+\.[0-9]+' out
expect_exit 0 enrt --version
grep -Eqx 'enrt [0-9]+\.[0-9]+\.[0-9]+' out
passes

check "a credential the server never issued is UNAUTHENTICATED"
stranger_credential >stranger.credential
grep -Eqx 'enrc_[0-9A-Za-z]{49}' stranger.credential
expect_error UNAUTHENTICATED credential \
	enrt --credential-file stranger.credential app list
expect_exit 1 env ENRT_CREDENTIAL_FILE=stranger.credential \
	enrt app create --name "Intruder" --policy AuthenticatedUsers \
	--system-user x
grep -q '^UNAUTHENTICATED: ' err
expect_exit 0 enrt --json app list
json out 'assert "Intruder" not in [a["name"] for a in d]'
passes

check "ENRT_URL names the server; none there is UNAVAILABLE"
expect_exit 0 env ENRT_URL=ipc://enrt-data/enrt.sock enrt app list
expect_error UNAVAILABLE nowhere \
	env ENRT_URL=ipc://nowhere/enrt.sock enrt --timeout 300 app list
passes

# ---------------------------------------------------------------------
check "no token value or credential reaches the log or the data directory"
for value in pat.value sat.value forever.value suspended.value ivy.value \
	jon.value; do
	absent "$(cat "$value")" enrt-data enrtd.log
done
for credential in enrt-data/admin.credential portal.credential \
	gateway.credential; do
	absent "$(cat "$credential")" enrtd.log
done
absent "$(cat portal.credential)" enrt-data
absent "$(cat gateway.credential)" enrt-data
passes

check "the server still takes new connections after 30 local answers"
# Each of these runs answers without a request and exits while its
# connection may still be in the SP greeting.
for _ in $(seq 30); do
	expect_exit 0 enrt token introspect <<<"garbage"
done
expect_exit 0 enrt --timeout 5000 app list
grep -q "$app" out
passes

check "SIGTERM stops enrtd with exit status 0"
kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
server_pid=""
[ "$rc" -eq 0 ]
passes

echo "$passed passed, 0 failed"
