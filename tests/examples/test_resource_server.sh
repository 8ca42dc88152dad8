#!/usr/bin/env bash
# client/examples/resource_server.c driven with curl: a real enrtd in a
# temporary directory, an app and tokens made with the enrt CLI, and the
# example started with --scope write on a port the system chooses.
# Checks 401 (no header, garbage, a revoked token) with its Bearer
# challenge, 403 for a token without the scope, 400 for both headers,
# and 200 with the subject through Authorization and X-Api-Key alike.
#
# Each check prints its name when it passes; the first failure stops the
# run with the check's name and what the processes printed.
set -Eeuo pipefail

: "${ENRT_BIN_DIR:?ENRT_BIN_DIR must name the directory holding the programs}"
export PATH="$ENRT_BIN_DIR:$PATH"
unset ENRT_URL ENRT_CREDENTIAL_FILE

work=$(mktemp -d /tmp/enrt-example-XXXXXX)
server_pid=""
example_pid=""
tails=(headers body example.out example.err enrtd.log)
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"

stop_processes() {
	stop "$example_pid"
	stop "$server_pid"
}

# GET / with the given curl arguments; the status, the headers and the
# body land in status, headers and body.
get() {
	curl -sS --max-time 10 -o body -D headers -w '%{http_code}' "$@" \
		"http://127.0.0.1:$port/orders" >status
}

expect_status() {
	if [ "$(cat status)" != "$1" ]; then
		echo "status $(cat status), expected $1" >&2
		return 1
	fi
}

# The WWW-Authenticate header, without its line end.
challenge() {
	sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: //p' headers | tr -d '\r'
}

cd "$work"

# ---------------------------------------------------------------------
check "enrtd starts, and the CLI makes an app and tokens"
enrtd --data enrt-data --listen ipc://enrt-data/enrt.sock \
	>enrtd.log 2>&1 &
server_pid=$!
await "$server_pid" answers enrt-data enrt app list
app=$(enrt app create --name "Orders API" --policy AuthenticatedUsers \
	--system-user svc-orders --scopes read,write)
enrt token issue --app "$app" --kind pat --owner alice --expires 1d \
	--scopes read,write | head -n 1 >writer
enrt token issue --app "$app" --kind pat --owner bob --expires 1d \
	--scopes read | head -n 1 >reader
enrt token issue --app "$app" --kind sat --expires 1d \
	--scopes write | head -n 1 >service
enrt token issue --app "$app" --kind pat --owner carol --expires 1d \
	--scopes write | head -n 1 >revoked
enrt token revoke --value <revoked
for t in writer reader service revoked; do
	grep -Eqx 'enrt_[0-9A-Za-z]{49}' "$t"
done
passes

# ---------------------------------------------------------------------
check "the example listens on 127.0.0.1 and says where"
enrt-resource-server --port 0 --scope write \
	>example.out 2>example.err &
example_pid=$!
port=""
for _ in $(seq 100); do
	port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' \
		example.out)
	if [ -n "$port" ]; then
		break
	fi
	kill -0 "$example_pid"
	sleep 0.1
done
[ -n "$port" ] && [ "$port" -gt 0 ]
passes

# ---------------------------------------------------------------------
check "no token: 401 with a Bearer challenge and no error code"
get
expect_status 401
[ "$(challenge)" = 'Bearer realm="enrt-example"' ]
passes

# ---------------------------------------------------------------------
check "garbage in either header: 401 invalid_token"
get -H "Authorization: Bearer not-a-token"
expect_status 401
[ "$(challenge)" = 'Bearer realm="enrt-example", error="invalid_token"' ]
get -H "Authorization: Basic YWxpY2U6c2VjcmV0"
expect_status 401
get -H "X-Api-Key: enrt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
expect_status 401
[ "$(challenge)" = 'Bearer realm="enrt-example", error="invalid_token"' ]
passes

# ---------------------------------------------------------------------
check "a revoked token: 401 invalid_token, not active"
get -H "Authorization: Bearer $(cat revoked)"
expect_status 401
[ "$(challenge)" = 'Bearer realm="enrt-example", error="invalid_token"' ]
grep -q 'not active' body
get -H "X-Api-Key: $(cat revoked)"
expect_status 401
passes

# ---------------------------------------------------------------------
check "a token without the required scope: 403 insufficient_scope"
get -H "Authorization: Bearer $(cat reader)"
expect_status 403
[ "$(challenge)" = 'Bearer realm="enrt-example", error="insufficient_scope", scope="write"' ]
get -H "X-Api-Key: $(cat reader)"
expect_status 403
passes

# ---------------------------------------------------------------------
check "a good token in Authorization: 200 with its subject"
get -H "Authorization: Bearer $(cat writer)"
expect_status 200
[ "$(cat body)" = "subject: alice" ]
[ -z "$(challenge)" ]
passes

# ---------------------------------------------------------------------
check "a good token in X-Api-Key: 200 with its subject"
get -H "X-Api-Key: $(cat writer)"
expect_status 200
[ "$(cat body)" = "subject: alice" ]
get -H "X-Api-Key: $(cat service)"
expect_status 200
[ "$(cat body)" = "subject: svc-orders" ]
passes

# ---------------------------------------------------------------------
check "both headers at once: 400 invalid_request"
get -H "Authorization: Bearer $(cat writer)" -H "X-Api-Key: $(cat writer)"
expect_status 400
[ "$(challenge)" = 'Bearer realm="enrt-example", error="invalid_request"' ]
passes

# ---------------------------------------------------------------------
check "revoking a token takes effect on the next request"
enrt token revoke --value <writer
get -H "Authorization: Bearer $(cat writer)"
expect_status 401
passes

# ---------------------------------------------------------------------
check "no token value reaches the example's output"
for t in writer reader service revoked; do
	if grep -qF "$(cat "$t")" example.out example.err; then
		echo "the $t token appears in the example's output" >&2
		false
	fi
done
passes

# ---------------------------------------------------------------------
check "SIGTERM stops the example with exit status 0"
kill -TERM "$example_pid"
rc=0
wait "$example_pid" || rc=$?
example_pid=""
[ "$rc" -eq 0 ]
passes

# ---------------------------------------------------------------------
check "with enrtd gone the example answers 503, not 401"
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=""
enrt-resource-server --port 0 --timeout 300 >example.out 2>example.err &
example_pid=$!
port=""
for _ in $(seq 100); do
	port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' \
		example.out)
	if [ -n "$port" ]; then
		break
	fi
	kill -0 "$example_pid"
	sleep 0.1
done
get -H "Authorization: Bearer $(cat reader)"
expect_status 503
grep -q 'UNAVAILABLE' example.err
passes

# ---------------------------------------------------------------------
check "bad flags: exit 2 with a message naming the flag"
rc=0
enrt-resource-server --scope 'a b' >out 2>err || rc=$?
[ "$rc" -eq 2 ]
grep -q -- '--scope' err
rc=0
enrt-resource-server --port 70000 >out 2>err || rc=$?
[ "$rc" -eq 2 ]
grep -q -- '--port' err
passes

echo "$passed passed"
