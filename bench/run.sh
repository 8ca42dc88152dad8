#!/usr/bin/env bash
# make bench: the standard benchmark of enrt, printed as one table.
#
# Builds Release in the normal build directory and starts, each in a
# fresh temporary directory, enrtd (on ipc and a free tcp port),
# enrt-bench-echo (a bare nng server that answers every request with a
# canned Introspect reply of the same size, and does nothing else) and,
# where redis-server, redis-cli and redis-benchmark are installed, redis
# on a unix socket.  Then enrt-bench runs Introspect at concurrency 1, 16
# and 64 over ipc and tcp, each run followed by the same run against the
# echo server and, for ipc, by `redis-benchmark -t get` at the same
# concurrency; and Issue at concurrency 1 and 16 over ipc.  The table
# gives each Introspect figure as a ratio of the echo server's (the
# ceiling of this client and transport) and of redis's.
#
# Every process it starts, and the temporary directory, are gone when it
# exits, however it exits.  Knobs, from the environment:
#   BENCH_DURATION  seconds per run (default 3)
#   BENCH_ROUNDS    rounds of the whole set; the table shows each figure's
#                   best round (default 2)
#   BENCH_ARGS      more enrt-bench flags for every run, such as
#                   "--client threads" or "--connections 4"
#   BUILD           the build directory (default build)
#   JOBS            parallel build jobs (default: the number of CPUs)
set -Eeuo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
duration=${BENCH_DURATION:-3}
rounds=${BENCH_ROUNDS:-2}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
read -r -a extra <<<"${BENCH_ARGS:-}"
bin=$build/bin
if ! [[ $duration =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ ]]; then
	echo "bench: BENCH_DURATION and BENCH_ROUNDS must be whole numbers" \
		"from 1" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/enrt-bench-XXXXXX")
pids=()

cleanup() {
	local rc=$?

	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ] && [ -s "$work/enrtd.log" ]; then
		echo "--- end of enrtd.log ---" >&2
		tail -n 20 "$work/enrtd.log" >&2
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() {
	echo "bench: $*" >&2
}

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Polls a command until it succeeds, for at most 10 seconds, failing
# early if the process it waits for has died.
wait_for() {
	local pid=$1
	shift
	for _ in $(seq 100); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$pid"
		sleep 0.1
	done
	"$@"
}

credential_ready() {
	[ -s "$work/data/admin.credential" ] &&
		"$bin/enrt" --url "ipc://$work/data/enrt.sock" \
			--credential-file "$work/data/admin.credential" \
			app list
}

# bench NAME ARGS...: one run of enrt-bench, its JSON in NAME.json.
bench() {
	local name=$1
	shift
	say "$name"
	"$bin/enrt-bench" --duration "$duration" --json "$work/$name.json" \
		"${extra[@]}" "$@" >"$work/$name.txt" 2>"$work/$name.err" || {
		cat "$work/$name.err" >&2
		return 1
	}
}

# ---------------------------------------------------------------------
say "building Release in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs" --target enrtd enrt_cli enrt_bench \
	enrt_bench_echo >/dev/null

load_start=$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || echo "?")

# All servers run from the start and the runs against them take turns,
# so that a neighbour's load on a shared machine falls on enrtd and on
# its ceilings alike rather than on one of them.
tcp_port=$(free_port)
ipc="ipc://$work/data/enrt.sock"
tcp="tcp://127.0.0.1:$tcp_port"
"$bin/enrtd" --data "$work/data" --listen "$ipc" --listen "$tcp" \
	>"$work/enrtd.log" 2>&1 &
pids+=($!)
wait_for "${pids[-1]}" credential_ready
cred=(--credential-file "$work/data/admin.credential")

echo_port=$(free_port)
echo_ipc="ipc://$work/echo.sock"
echo_tcp="tcp://127.0.0.1:$echo_port"
"$bin/enrt-bench-echo" --listen "$echo_ipc" --listen "$echo_tcp" \
	>"$work/echo.log" 2>&1 &
pids+=($!)
wait_for "${pids[-1]}" "$bin/enrt-bench" --url "$echo_ipc" --op echo \
	--requests 1

# redis-benchmark's GET of one 100-byte value (the size of an active
# Introspect reply), with as many connections as requests in flight.
redis=""
if command -v redis-server >/dev/null &&
	command -v redis-benchmark >/dev/null &&
	command -v redis-cli >/dev/null; then
	redis="$work/redis.sock"
	redis-server --port 0 --unixsocket "$redis" --save '' \
		--appendonly no >"$work/redis.log" 2>&1 &
	pids+=($!)
	wait_for "${pids[-1]}" redis-cli -s "$redis" ping
	redis-cli -s "$redis" set key:__rand_int__ \
		"$(printf '%0100d' 0)" >/dev/null
else
	say "redis-server, redis-benchmark or redis-cli not installed:" \
		"no redis comparison"
fi

redis_get() {
	local c=$1 name=$2 n=150000

	[ "$c" -gt 1 ] || n=60000
	say "$name"
	redis-benchmark -s "$redis" -t get -c "$c" -n "$n" --csv \
		>"$work/$name.csv" 2>"$work/$name.err"
}

for round in $(seq "$rounds"); do
	for c in 1 16 64; do
		for t in ipc tcp; do
			if [ "$t" = ipc ]; then
				url=$ipc echo_url=$echo_ipc
			else
				url=$tcp echo_url=$echo_tcp
			fi
			bench "introspect-$t-$c-$round" --url "$url" \
				"${cred[@]}" --concurrency "$c"
			bench "echo-$t-$c-$round" --url "$echo_url" \
				--op echo --concurrency "$c"
		done
		if [ -n "$redis" ]; then
			redis_get "$c" "redis-$c-$round"
		fi
	done
	for c in 1 16; do
		bench "issue-ipc-$c-$round" --url "$ipc" "${cred[@]}" \
			--op issue --concurrency "$c"
	done
done

# ---------------------------------------------------------------------
echo
load_end=$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || echo "?")
python3 - "$work" "$duration" "$rounds" "${BENCH_ARGS:-}" "$load_start" \
	"$load_end" <<'EOF'
import csv, json, os, sys

work, duration, rounds, extra, load_start, load_end = sys.argv[1:7]
rounds = int(rounds)

def path(name, r, ext):
    return os.path.join(work, "%s-%d.%s" % (name, r, ext))

# The round with the most requests per second: a neighbour's load only
# ever slows a run down.
def load(name):
    runs = []
    for r in range(1, rounds + 1):
        with open(path(name, r, "json")) as f:
            runs.append(json.load(f))
    return max(runs, key=lambda d: d["requests_per_second"])

def redis_rps(name, r):
    with open(path(name, r, "csv")) as f:
        for row in csv.DictReader(f):
            if row["test"] == "GET":
                return float(row["rps"])
    return 0.0

def redis(c):
    name = "redis-%d" % c
    if not os.path.exists(path(name, 1, "csv")):
        return None
    return max(redis_rps(name, r) for r in range(1, rounds + 1))

head = ("op", "url", "conc", "req/s", "p50 us", "p99 us", "errors",
        "echo req/s", "x echo", "redis req/s", "x redis")
rows = []
for op in ("introspect", "issue"):
    for t in ("ipc", "tcp"):
        for c in (1, 16, 64):
            name = "%s-%s-%d" % (op, t, c)
            if not os.path.exists(path(name, 1, "json")):
                continue
            d = load(name)
            row = [op.capitalize(), t, str(c), "%.0f" % d["requests_per_second"],
                   "%.1f" % d["p50_us"], "%.1f" % d["p99_us"],
                   str(d["errors"]), "", "", "", ""]
            if op == "introspect":
                e = load("echo-%s-%d" % (t, c))
                row[7] = "%.0f" % e["requests_per_second"]
                row[8] = "%.2f" % (d["requests_per_second"] /
                                   e["requests_per_second"])
                r = redis(c) if t == "ipc" else None
                if r:
                    row[9] = "%.0f" % r
                    row[10] = "%.2f" % (d["requests_per_second"] / r)
            rows.append(row)

if all(r[9] == "" for r in rows):
    head = head[:9]
    rows = [r[:9] for r in rows]
widths = [max(len(x) for x in col) for col in zip(head, *rows)]
def line(cells):
    out = []
    for i, (cell, w) in enumerate(zip(cells, widths)):
        out.append(cell.ljust(w) if i < 2 else cell.rjust(w))
    return "  ".join(out).rstrip()

print("enrt benchmark: best of %d rounds of %s s, %d CPUs (load average %s "
      "before,\n%s after), enrt-bench defaults%s" %
      (rounds, duration, os.cpu_count(), load_start, load_end,
       (" + " + extra) if extra else ""))
print(line(head))
print(line(["-" * w for w in widths]))
for r in rows:
    print(line(r))
print()
print("x echo: enrtd's Introspect throughput over that of enrt-bench-echo "
      "(same client,")
print("message sizes and concurrency; no work per request). x redis: "
      "over redis-benchmark")
print("-t get on a unix socket with as many connections as requests in "
      "flight.")
EOF
