#!/usr/bin/env bash
# Backups and restores as an operator makes them: enrtd backup beside a
# running server, enrt backup create through the server, enrtd restore
# onto the directory the backup came from (revocations made after the
# backup must hold) and into an empty one, and every refusal: a server
# running on the directory, a store already there, a backup of another
# data directory, a backup that is none, an OUT that exists.
#
# Each check prints its name when it passes.  The first failure stops the
# run with the check's name, the failing command and what it printed.
set -Eeuo pipefail

: "${ENRT_BIN_DIR:?ENRT_BIN_DIR must name the directory holding enrtd and enrt}"
export PATH="$ENRT_BIN_DIR:$PATH"
unset ENRT_URL ENRT_CREDENTIAL_FILE ENRTD_DATA

work=$(mktemp -d /tmp/enrt-backup-XXXXXX)
server_pid=""
tails=(out err enrtd.log)
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"

# Exit 1, nothing on stdout, "enrtd: STATUS: ..." naming the rule.
expect_refused() {
	local status=$1 words=$2
	shift 2
	expect_exit 1 "$@"
	[ ! -s "$work/out" ]
	grep -q "^enrtd: $status: " "$work/err"
	grep -q -- "$words" "$work/err"
}

# Starts enrtd on DIR with the ipc socket DIR.sock and more flags.
start_server() {
	local dir=$1
	shift
	enrtd --data "$dir" --listen "ipc://$work/$dir.sock" "$@" \
		>>"$work/enrtd.log" 2>&1 &
	server_pid=$!
	await "$server_pid" answers "$dir" on "$dir" app list
}

stop_server() {
	kill -TERM "$server_pid"
	wait "$server_pid"
	server_pid=""
}

# enrt against the server on DIR, as its first admin.
on() {
	local dir=$1
	shift
	enrt --url "ipc://$work/$dir.sock" \
		--credential-file "$dir/admin.credential" "$@"
}

# Whether the token whose value is $2 is active on the server on DIR $1.
is_active() {
	echo "$2" | on "$1" token introspect | grep -q '"active": true'
}

# Fails when it is.  ("inactive" would not do: set -e ignores a
# negated command.)
inactive() {
	if is_active "$@"; then
		echo "a token that must be inactive is active" >&2
		return 1
	fi
}

# One line of mdb_stat -e for the store directory $1.
env_info() {
	mdb_stat -e "$1" | sed -n "s/^ *$2: //p"
}

cd "$work"

# ---------------------------------------------------------------------
check "a data directory with tokens, a user and a caller"
start_server live --backup-dir "$work/backups"
app=$(on live app create --name Demo --policy AuthenticatedUsers \
	--system-user svc)
t1=$(on live token issue --app "$app" --kind pat --owner alice \
	--expires 30d --scopes read | head -n 1)
t2=$(on live token issue --app "$app" --kind pat --owner alice \
	--expires 30d --scopes read | head -n 1)
t3=$(on live token issue --app "$app" --kind pat --owner bob \
	--expires 30d --scopes read | head -n 1)
on live caller add --name gate --role introspect | head -n 1 >gate.credential
gate=$(on live --json caller list | python3 -c '
import json, sys
print([c["id"] for c in json.load(sys.stdin) if c["name"] == "gate"][0])')
t1_id=$(echo "$t1" | on live token introspect | python3 -c '
import json, sys
print(json.load(sys.stdin)["token_id"])')
passes

check "enrtd backup copies a served directory while it serves"
expect_exit 0 enrtd backup --data live bk
grep -q "written to bk" out
[ "$(stat -c %a bk/digest.key)" = 600 ]
[ "$(stat -c %a bk/admin.credential)" = 600 ]
[ "$(stat -c %a bk/store/data.mdb)" = 600 ]
[ "$(stat -c %a bk)" = 700 ]
cmp bk/digest.key live/digest.key
is_active live "$t1"
passes

check "enrtd backup never replaces anything"
expect_refused ALREADY_EXISTS "never replaces" enrtd backup --data live bk
expect_exit 2 enrtd backup --data live
grep -q "usage: enrtd backup" err
passes

check "enrt backup create writes into the server's backup-dir"
expect_exit 0 on live backup create
grep -Eqx "$work/backups/enrt-backup-[0-9]{8}T[0-9]{6}Z-[0-9A-Za-z]{22}" out
[ -s "$(cat out)/store/data.mdb" ]
expect_exit 0 on live --json backup create
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(d) == ["bytes", "created_at", "name", "path"], d
assert d["path"].endswith("/" + d["name"]) and d["bytes"] > 0' out
expect_exit 0 on live audit list
grep -q "backup" out
passes

check "after the backup: revocations, a deleted user, a new token"
on live token revoke "$t1_id" >/dev/null
on live user delete bob >/dev/null
on live caller revoke "$gate" >/dev/null
t4=$(on live token issue --app "$app" --kind pat --owner alice \
	--expires 30d --scopes read | head -n 1)
inactive live "$t1"
inactive live "$t3"
passes

check "restore is refused while a server runs on the directory"
expect_refused FAILED_PRECONDITION "another enrtd" \
	enrtd restore --data live --replace bk
stop_server
passes

check "restore is refused onto a store without --replace"
expect_refused FAILED_PRECONDITION "give --replace" \
	enrtd restore --data live bk
passes

check "restore --replace keeps later revocations and the old store"
expect_exit 0 enrtd restore --data live --replace bk
grep -q "3 revocations and 1 user deletions made again" out
kept=$(ls -d live/store.before-restore-*)
[ -s "$kept/data.mdb" ]
start_server live
is_active live "$t2"
inactive live "$t1"
inactive live "$t3"
inactive live "$t4"
on live --json token list --app "$app" --all >out
python3 -c '
import json, sys
ids = [t["id"] for t in json.load(open(sys.argv[1]))]
assert len(ids) == 3, ids' out
on live user list >out
absent bob out
expect_exit 1 enrt --url "ipc://$work/live.sock" \
	--credential-file gate.credential token introspect <<<"$t2"
grep -q "^UNAUTHENTICATED" err
on live audit list >out
grep -q "restore" out
grep -q "user_delete" out
stop_server
passes

check "restore into an empty directory needs nothing else"
expect_exit 0 enrtd restore --data fresh bk
[ "$(stat -c %a fresh/digest.key)" = 600 ]
cmp fresh/admin.credential bk/admin.credential
start_server fresh
is_active fresh "$t2"
# With no later store to learn from, the backup's state is all there is.
is_active fresh "$t1"
stop_server
passes

check "a backup of another data directory is refused"
mkdir -m 700 other
head -c 32 /dev/urandom >other/digest.key
chmod 600 other/digest.key
expect_refused FAILED_PRECONDITION "another data directory" \
	enrtd restore --data other bk
[ ! -e other/store/data.mdb ]
passes

check "what is not a backup is refused"
expect_refused FAILED_PRECONDITION "not a backup" \
	enrtd restore --data empty "$work/nothing-here"
mkdir nothing
expect_refused FAILED_PRECONDITION "not a backup" \
	enrtd restore --data empty nothing
expect_exit 2 enrtd restore --data empty
grep -q "usage: enrtd restore" err
passes

check "a failed restore into a new directory leaves nothing behind"
mkdir -p notstore/store
cp bk/digest.key notstore/digest.key
head -c 65536 /dev/urandom >notstore/store/data.mdb
expect_refused FAILED_PRECONDITION "notstore: not a backup" \
	enrtd restore --data new-dir notstore
[ ! -e new-dir ]
expect_refused FAILED_PRECONDITION "nothing: not a backup" \
	enrtd restore --data new-dir nothing
[ ! -e new-dir ]
mkdir bare
expect_refused FAILED_PRECONDITION "not a backup" \
	enrtd restore --data bare notstore
[ -z "$(ls -A bare)" ]
passes

check "bad arguments are named"
expect_exit 2 enrtd backup --bogus x
grep -q "^enrtd: --bogus: unknown flag" err
expect_exit 2 enrtd restore --data
grep -q "^enrtd: --data: needs a value" err
expect_exit 2 enrtd backup --data live --data fresh out
grep -q "^enrtd: --data: given twice" err
expect_exit 2 enrtd restore --config a.ini --config b.ini bk
grep -q "^enrtd: --config: given twice" err
expect_refused INVALID_ARGUMENT "OUT: must name a directory" \
	enrtd backup --data live ""
expect_refused FAILED_PRECONDITION "no-such-dir does not exist" \
	enrtd backup --data live no-such-dir/out
[ ! -e no-such-dir ]
expect_refused INVALID_ARGUMENT "BACKUP: must name a backup directory" \
	enrtd restore --data new-dir ""
[ ! -e new-dir ]
expect_exit 0 enrtd backup --data live slashed/
[ -s slashed/store/data.mdb ]
passes

check "backup and restore find the data directory through the config"
printf '[enrtd]\ndata = %s\nmap-size = 3072\n' "$work/live" >enrtd.ini
expect_exit 0 enrtd backup --config enrtd.ini by-config
grep -q "backup of $work/live written" out
cmp by-config/digest.key live/digest.key
expect_exit 0 env ENRTD_CONFIG=enrtd.ini enrtd backup by-env
cmp by-env/digest.key live/digest.key
expect_refused FAILED_PRECONDITION "give --replace" \
	env ENRTD_CONFIG=enrtd.ini enrtd restore by-env
cp -r by-config probe
backup_txn=$(env_info probe/store "Last transaction ID")
expect_exit 0 enrtd restore --config enrtd.ini --replace by-config
grep -q "into $work/live: 0 audit events the backup lacked" out
# The server's map-size holds for the restored store, and with nothing
# to carry over, the restore's own event is its one commit.
[ "$(env_info live/store "Map size")" = $((3072 << 20)) ]
[ "$(env_info live/store "Last transaction ID")" = $((backup_txn + 1)) ]
[ ! -e enrt-data ]
printf '[enrtd]\ndata = %s\nbogus = 1\n' "$work/live" >bad.ini
expect_refused INVALID_ARGUMENT "bogus" enrtd backup --config bad.ini x
[ ! -e x ]
passes

check "a newer backup over a restored older one keeps its revocations"
# A, then six tokens, then B; the directory is lost and A restored
# into a new one, where a token issued before A is revoked.  B is then
# restored over it: that revocation must hold though B's audit log has
# events with the same sequence numbers.
start_server live
u1=$(on live token issue --app "$app" --kind pat --owner alice \
	--expires 30d --scopes read | head -n 1)
u1_id=$(echo "$u1" | on live token introspect | python3 -c '
import json, sys
print(json.load(sys.stdin)["token_id"])')
expect_exit 0 enrtd backup --data live older
for _ in 1 2 3 4 5 6; do
	on live token issue --app "$app" --kind pat --owner alice \
		--expires 30d --scopes read >/dev/null
done
expect_exit 0 enrtd backup --data live newer
stop_server
mv live lost
expect_exit 0 enrtd restore --data live older
start_server live
on live token revoke "$u1_id" >/dev/null
inactive live "$u1"
stop_server
expect_exit 0 enrtd restore --data live --replace newer
grep -q "1 revocations and 0 user deletions made again" out
start_server live
inactive live "$u1"
on live --json audit list >out
python3 -c '
import json, sys
acts = [e["action"] for e in json.load(open(sys.argv[1]))]
assert acts.count("restore") >= 2, acts
assert acts.count("revoke") >= 2, acts' out
stop_server
passes

check "the same backup restored again gives the same store"
expect_exit 0 enrtd restore --data live --replace newer
grep -q " 1 revocations and 0 user deletions made again" out
start_server live
inactive live "$u1"
on live --json audit list >out
python3 -c '
import json, sys
evs = json.load(open(sys.argv[1]))
revokes = [e for e in evs if e["action"] == "revoke"
           and e.get("target_id") == sys.argv[2]]
assert len(revokes) == 1, revokes' out "$u1_id"
stop_server
passes

check "no leftover of a restore is named as disposable"
[ -z "$(ls -d live/store.restoring-* 2>/dev/null)" ]
[ "$(ls -d live/store.before-restore-* | wc -l)" -ge 2 ]
for kept in live/store.before-restore-*; do
	[ -s "$kept/data.mdb" ]
done
passes

echo "$passed passed"
