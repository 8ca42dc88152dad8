#!/usr/bin/env bash
# enrt-bench against a real enrtd in a temporary directory, and against
# enrt-bench-echo: each run is bounded by a count of requests, and the
# checks are on behaviour (the JSON's keys, the count, no errors, exit
# statuses and messages), never on how fast anything was.
#
# Each check prints its name when it passes; the first failure stops the
# run with the check's name and what the commands printed.
set -Eeuo pipefail

: "${ENRT_BIN_DIR:?ENRT_BIN_DIR must name the directory holding the binaries}"
export PATH="$ENRT_BIN_DIR:$PATH"
unset ENRT_URL ENRT_CREDENTIAL_FILE

work=$(mktemp -d /tmp/enrt-bench-test-XXXXXX)
pids=()
tails=(out err enrtd.log echo.log)
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"

# Asks enrtd and enrt-bench-echo to stop, as a run ends either way.
stop_processes() {
	local pid

	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
}

# The JSON of a run: the seven keys and the four extras, numbers all,
# the number of requests asked for, no errors, and as many tokens per
# request as the third argument says (1 when it is not given).
expect_result() {
	python3 - "$1" "$2" "${3:-1}" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
want = int(sys.argv[2])
per_request = int(sys.argv[3])
keys = {"requests_per_second", "tokens_per_second", "tokens_per_request",
        "errors", "p50_us", "p90_us", "p99_us", "p999_us", "max_us",
        "requests", "seconds"}
assert set(d) == keys, sorted(d)
for k in keys:
    assert isinstance(d[k], (int, float)) and d[k] >= 0, (k, d[k])
assert d["errors"] == 0, d
assert d["requests"] == want, d
assert d["requests_per_second"] > 0, d
assert d["tokens_per_request"] == per_request, d
tokens = d["requests_per_second"] * per_request
assert abs(d["tokens_per_second"] - tokens) <= 0.1 * per_request, d
assert d["p50_us"] <= d["p90_us"] <= d["p99_us"] <= d["p999_us"] <= d["max_us"], d
EOF
}

# A free tcp port on the loopback, from the kernel.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

cd "$work"
ipc="ipc://$work/data/enrt.sock"
tcp="tcp://127.0.0.1:$(free_port)"
cred=(--credential-file "$work/data/admin.credential")

# ---------------------------------------------------------------------
check "enrtd starts on a fresh data directory"
enrtd --data data --listen "$ipc" --listen "$tcp" >enrtd.log 2>&1 &
pids+=($!)
await "${pids[0]}" answers data enrt --url "$ipc" "${cred[@]}" app list
enrt --url "$ipc" "${cred[@]}" app list >/dev/null
passes

check "introspect: 200 requests over ipc, the mix, no errors"
expect_exit 0 enrt-bench --url "$ipc" "${cred[@]}" --requests 200 \
	--concurrency 8 --tokens 50 --json result.json
expect_result result.json 200
grep -q "^introspect on $ipc: 8 in flight" out
grep -q "^requests: *200 in" out
grep -q "^errors: *0 " out
grep -Eq "^latency \(us\): p50 [0-9.]+  p90 [0-9.]+  p99 [0-9.]+  p99.9 [0-9.]+  max [0-9.]+$" out
grep -Eq "app app_[0-9A-Za-z]{22}: 44 active and 6 revoked tokens" err
passes

check "introspect: the threads client over tcp, JSON on standard output"
expect_exit 0 enrt-bench --url "$tcp" "${cred[@]}" --requests 200 \
	--concurrency 4 --client threads --tokens 20 --json -
sed -n '/^{/,/^}/p' out >result.json
expect_result result.json 200
passes

check "introspect: only revoked tokens are all answered inactive"
expect_exit 0 enrt-bench --url "$ipc" "${cred[@]}" --requests 100 \
	--concurrency 2 --tokens 10 --mix revoked=100 --json result.json
expect_result result.json 100
grep -Eq ": 0 active and 10 revoked tokens" err
passes

check "batch: IntrospectBatch of 32 over ipc, every answer checked"
expect_exit 0 enrt-bench --url "$ipc" "${cred[@]}" --requests 50 \
	--concurrency 4 --tokens 40 --batch 32 --json result.json
expect_result result.json 50 32
grep -q "^introspect on $ipc: 4 in flight" out
grep -q ", 32 tokens per IntrospectBatch$" out
grep -Eq "^tokens: *[0-9]+ per second$" out
grep -q "^errors: *0 " out
passes

check "batch: the threads client, 128 per request, only revoked tokens"
expect_exit 0 enrt-bench --url "$tcp" "${cred[@]}" --requests 20 \
	--concurrency 2 --client threads --tokens 10 --mix revoked=100 \
	--batch 128 --json result.json
expect_result result.json 20 128
grep -Eq ": 0 active and 10 revoked tokens" err
passes

check "batch: malformed and unknown tokens in batches of 1"
for client in async threads; do
	expect_exit 0 enrt-bench --url "$ipc" "${cred[@]}" --requests 40 \
		--concurrency 2 --client "$client" --tokens 5 \
		--mix malformed=50,unknown=50 --batch 1 --json result.json
	expect_result result.json 40 1
done
passes

check "issue and mixed: every Issue makes a token"
before=$(enrt --url "$ipc" "${cred[@]}" --json app list |
	python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
expect_exit 0 enrt-bench --url "$ipc" "${cred[@]}" --op issue \
	--requests 30 --concurrency 3 --json result.json
expect_result result.json 30
app=$(grep -Eo 'app_[0-9A-Za-z]{22}' err | head -n 1)
count=$(enrt --url "$ipc" "${cred[@]}" --json token list --app "$app" |
	python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
[ "$count" -eq 30 ]
expect_exit 0 enrt-bench --url "$ipc" "${cred[@]}" --op mixed \
	--requests 100 --concurrency 4 --tokens 10 --json result.json
expect_result result.json 100
after=$(enrt --url "$ipc" "${cred[@]}" --json app list |
	python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
[ "$after" -eq $((before + 2)) ]
passes

check "no token value or credential reaches the output"
credential=$(cat data/admin.credential)
if grep -rqF -- "$credential" out err result.json; then
	echo "the credential was printed" >&2
	false
fi
if grep -Eq 'enr[tc]_[0-9A-Za-z]{49}' out err result.json; then
	echo "a secret was printed" >&2
	false
fi
passes

# ---------------------------------------------------------------------
check "echo: the same client against enrt-bench-echo"
echo_url="ipc://$work/echo.sock"
enrt-bench-echo --listen "$echo_url" >echo.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	if enrt-bench --url "$echo_url" --op echo --requests 1 \
		>/dev/null 2>&1; then
		break
	fi
	kill -0 "${pids[1]}"
	sleep 0.1
done
grep -Eq "reply [0-9]+ bytes" echo.log
for client in async threads; do
	expect_exit 0 enrt-bench --url "$echo_url" --op echo \
		--requests 200 --concurrency 8 --client "$client" \
		--json result.json
	expect_result result.json 200
done
passes

# ---------------------------------------------------------------------
check "a server that is not there is an error, not a result"
expect_exit 1 enrt-bench --url "ipc://$work/nobody.sock" --op echo \
	--requests 10 --json result2.json
grep -q "^enrt-bench: UNAVAILABLE: .*nobody.sock" err
[ ! -e result2.json ]
passes

check "a credential file that holds no credential is refused"
echo "not a credential" >bad.credential
expect_exit 1 enrt-bench --url "$ipc" --credential-file bad.credential \
	--requests 10
grep -q "^enrt-bench: INVALID_ARGUMENT: --credential-file bad.credential" err
passes

check "bad flags exit 2 with a message naming the flag"
for args in "--concurrency 0" "--mix active=90" "--op nope" "--bogus" \
	"--duration 1 --requests 1" "--batch 129" "--batch 4 --op issue"; do
	read -r -a words <<<"$args"
	expect_exit 2 enrt-bench "${words[@]}"
	[ ! -s out ]
	grep -q -- "${words[0]}" err
	grep -q "usage: enrt-bench" err
done
expect_exit 2 enrt-bench-echo --contexts 0 --listen "$echo_url"
grep -q -- "--contexts" err
expect_exit 2 enrt-bench-echo
grep -q -- "--listen" err
passes

check "--help prints every flag and exits 0"
expect_exit 0 enrt-bench --help
for flag in --url --credential-file --op --concurrency --duration \
	--requests --tokens --mix --client --connections --json --batch; do
	grep -q -- "$flag" out
done
passes

echo "$passed passed, 0 failed"
