#!/usr/bin/env bash
# make bench: the standard benchmark of enrt, printed as one table, then
# each target of the performance goals as a ratio taken in this run.
#
# Builds Release in the normal build directory and starts, each in a
# fresh temporary directory, enrtd (on ipc and a free tcp port),
# enrt-bench-echo (a bare nng server that answers every request with a
# canned Introspect reply of the same size, and does nothing else) and,
# where redis-server, redis-cli and redis-benchmark are installed, redis
# on a unix socket.  Then enrt-bench runs Introspect at concurrency 1, 16
# and 64 over ipc and tcp, each run followed by the same run against the
# echo server and, for ipc, by `redis-benchmark -t get` at the same
# concurrency; IntrospectBatch of 32 tokens at 64 in flight over ipc;
# and Issue at concurrency 1 and 16 over ipc.  When enrtd has the
# setting --commit-batch, a second enrtd with --commit-batch 1 (one
# durable commit per Issue) takes Issue at 16 too, to compare.  The
# table gives each Introspect figure as a ratio of the echo server's
# (the ceiling of this client and transport) and of redis's.
#
# With BENCH_MILLION=1 it then measures the store at a million tokens,
# on fresh servers whose data directories are on BENCH_MILLION_DIR: one
# holding 1,000 tokens, one into which enrt-bench issues 1,000,000
# through the real Issue path (and revokes an eighth, as its default
# mix asks), and one holding 1,000 again, each loaded with Introspect at
# 64 in flight for BENCH_MILLION_DURATION seconds.  It prints how long
# the Issues took, the million server's memory (/proc/PID/status) after
# its run and its data directory's size, and how many write transactions
# the store committed during that run (mdb_stat, from lmdb-utils), at
# a last-used flush interval of 5 s unless BENCH_MILLION_FLUSH says
# otherwise.
#
# Every process it starts, and the temporary directories, are gone when
# it exits, however it exits.  Knobs, from the environment:
#   BENCH_DURATION  seconds per run (default 3)
#   BENCH_ROUNDS    rounds of the whole set; the table shows each figure's
#                   best round (default 2)
#   BENCH_ARGS      more enrt-bench flags for every run, such as
#                   "--client threads" or "--connections 4"
#   BENCH_PIN       1: servers on the last CPU, load generators on the
#                   others, so that neither takes the other's CPU and no
#                   server thread wakes another across CPUs; 0: wherever
#                   the kernel puts them (default 1 when there are two
#                   CPUs or more)
#   BENCH_MILLION   1: also the million-token runs (default 0)
#   BENCH_MILLION_TOKENS    tokens of the large store (default 1000000)
#   BENCH_MILLION_DURATION  seconds of each of its runs (default 60)
#   BENCH_MILLION_FLUSH     the million servers' --flush-interval, 1 to
#                   60 (default 5: a flush about every 5 s, where
#                   enrtd's own default makes one a minute; the count
#                   of write transactions needs a run of at least two
#                   intervals, so with 60 give BENCH_MILLION_DURATION a
#                   little over 120)
#   BENCH_MILLION_DIR       where its data directories go (default
#                   /dev/shm when it is a writable directory, else TMPDIR:
#                   on a RAM disk a durable commit costs no disk flush,
#                   so the million Issues take minutes, not a quarter of
#                   an hour; Introspect reads from the page cache either
#                   way)
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
million=${BENCH_MILLION:-0}
million_tokens=${BENCH_MILLION_TOKENS:-1000000}
million_duration=${BENCH_MILLION_DURATION:-60}
million_flush=${BENCH_MILLION_FLUSH:-5}
if [ -z "${BENCH_MILLION_DIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	million_base=/dev/shm
else
	million_base=${BENCH_MILLION_DIR:-${TMPDIR:-/tmp}}
fi
if ! [[ $duration =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ &&
	$million_duration =~ ^[1-9][0-9]*$ ]]; then
	echo "bench: BENCH_DURATION, BENCH_ROUNDS and BENCH_MILLION_DURATION" \
		"must be whole numbers from 1" >&2
	exit 2
fi
if ! [[ $million_flush =~ ^([1-9]|[1-5][0-9]|60)$ ]]; then
	echo "bench: BENCH_MILLION_FLUSH must be a whole number from 1 to" \
		"60" >&2
	exit 2
fi
if ! [[ $million =~ ^[01]$ ]]; then
	echo "bench: BENCH_MILLION must be 0 or 1" >&2
	exit 2
fi
pin=${BENCH_PIN:-1}
if ! [[ $pin =~ ^[01]$ ]]; then
	echo "bench: BENCH_PIN must be 0 or 1" >&2
	exit 2
fi
cpus=$(nproc 2>/dev/null || echo 1)
server_on=()
client_on=()
placement="servers and clients on any CPU"
if [ "$pin" = 1 ] && [ "$cpus" -ge 2 ] && command -v taskset >/dev/null; then
	server_on=(taskset -c "$((cpus - 1))")
	client_on=(taskset -c "0-$((cpus - 2))")
	placement="servers on CPU $((cpus - 1)), clients on the others"
fi
if ! [[ $million_tokens =~ ^[1-9][0-9]*$ ]] ||
	[ "$million_tokens" -gt 1000000 ]; then
	echo "bench: BENCH_MILLION_TOKENS must be a whole number from 1 to" \
		"1000000" >&2
	exit 2
fi
if [ "$million" = 1 ] && ! [ -d "$million_base" ]; then
	echo "bench: BENCH_MILLION_DIR $million_base: not a directory" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/enrt-bench-XXXXXX")
million_dir=""
pids=()

cleanup() {
	local rc=$?

	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "$rc" -ne 0 ]; then
		for log in "$work"/enrtd*.log; do
			if [ -s "$log" ]; then
				echo "--- end of ${log##*/} ---" >&2
				tail -n 20 "$log" >&2
			fi
		done
	fi
	rm -rf "$work" ${million_dir:+"$million_dir"}
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

# credential_ready DIR: the enrtd on DIR has made its admin and answers.
credential_ready() {
	[ -s "$1/admin.credential" ] &&
		"$bin/enrt" --url "ipc://$1/enrt.sock" \
			--credential-file "$1/admin.credential" app list
}

# start_enrtd NAME DIR ARGS...: an enrtd on a fresh data directory DIR,
# listening on ipc://DIR/enrt.sock and whatever ARGS add, its log in
# NAME.log; returns once it answers, with its pid in $started.
start_enrtd() {
	local name=$1 dir=$2
	shift 2
	"${server_on[@]}" "$bin/enrtd" --data "$dir" \
		--listen "ipc://$dir/enrt.sock" "$@" \
		>"$work/$name.log" 2>&1 &
	started=$!
	pids+=("$started")
	wait_for "$started" credential_ready "$dir"
}

# bench_for SECONDS NAME ARGS...: one run of enrt-bench, its JSON in
# NAME.json, what it printed in NAME.txt and NAME.err.
bench_for() {
	local seconds=$1 name=$2
	shift 2
	say "$name"
	"${client_on[@]}" "$bin/enrt-bench" --duration "$seconds" \
		--json "$work/$name.json" \
		"${extra[@]}" "$@" >"$work/$name.txt" 2>"$work/$name.err" || {
		cat "$work/$name.err" >&2
		return 1
	}
}

bench() {
	bench_for "$duration" "$@"
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
start_enrtd enrtd "$work/data" --listen "$tcp"
enrtd_pid=$started
cred=(--credential-file "$work/data/admin.credential")

# The same server but for one durable commit per Issue, where enrtd can
# be told so; its data directory is on the same disk as the main one.
single=""
if "$bin/enrtd" --help 2>&1 | grep -q -- '--commit-batch'; then
	start_enrtd enrtd-single "$work/single" --commit-batch 1
	single="ipc://$work/single/enrt.sock"
	single_cred=(--credential-file "$work/single/admin.credential")
else
	say "this enrtd has no --commit-batch setting: Issue with batched" \
		"commits is not compared with one commit per Issue"
fi

echo_port=$(free_port)
echo_ipc="ipc://$work/echo.sock"
echo_tcp="tcp://127.0.0.1:$echo_port"
"${server_on[@]}" "$bin/enrt-bench-echo" --listen "$echo_ipc" \
	--listen "$echo_tcp" \
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
	"${server_on[@]}" redis-server --port 0 --unixsocket "$redis" \
		--save '' \
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
	"${client_on[@]}" redis-benchmark -s "$redis" -t get -c "$c" \
		-n "$n" --csv \
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
	bench "batch-ipc-64-$round" --url "$ipc" "${cred[@]}" \
		--concurrency 64 --batch 32
	for c in 1 16; do
		bench "issue-ipc-$c-$round" --url "$ipc" "${cred[@]}" \
			--op issue --concurrency "$c"
	done
	if [ -n "$single" ]; then
		bench "single-ipc-16-$round" --url "$single" \
			"${single_cred[@]}" --op issue --concurrency 16
	fi
done
grep -E '^(VmRSS|VmHWM)' "/proc/$enrtd_pid/status" >"$work/enrtd.status"

# ---------------------------------------------------------------------
# The store at a million tokens.

# sample_store DIR OUT: once a second until killed, the time and the
# store's last transaction id.  Not /metrics: its census of tokens lists
# every one of them, seconds of work per scrape at a million, which
# would weigh on the very run it watches.
sample_store() {
	local txn
	trap - EXIT INT TERM
	while :; do
		txn=$(mdb_stat -e "$1/store" 2>/dev/null |
			awk '/Last transaction ID/ { print $4 }') || true
		echo "$(date +%s.%N) ${txn:--}"
		sleep 1
	done >"$2"
}

# million_server NAME: a fresh enrtd for the million runs, its data in
# million_dir/NAME, its pid in $started.
million_server() {
	start_enrtd "enrtd-$1" "$million_dir/$1" \
		--flush-interval "$million_flush" --map-size 8192
}

if [ "$million" = 1 ]; then
	million_dir=$(mktemp -d "$million_base/enrt-bench-million-XXXXXX")
	say "million: data directories in $million_dir"
	for name in small-1 large small-2; do
		million_server "$name"
		url="ipc://$million_dir/$name/enrt.sock"
		mcred=(--credential-file "$million_dir/$name/admin.credential")
		tokens=1000
		[ "$name" = large ] && tokens=$million_tokens
		sampler=""
		if [ "$name" = large ] && command -v mdb_stat >/dev/null; then
			sample_store "$million_dir/$name" "$work/large.samples" &
			sampler=$!
			pids+=("$sampler")
		fi
		bench_for "$million_duration" "million-$name" --url "$url" \
			"${mcred[@]}" --concurrency 64 --tokens "$tokens"
		date +%s.%N >"$work/million-$name.end"
		if [ -n "$sampler" ]; then
			sleep 1.5
			kill "$sampler"
		fi
		if [ "$name" = large ]; then
			grep -E '^(VmRSS|VmHWM|RssAnon|RssFile|RssShmem)' \
				"/proc/$started/status" >"$work/large.status"
			du -sk "$million_dir/$name" | cut -f 1 >"$work/large.du"
		fi
		kill -TERM "$started"
		wait "$started" || true
		rm -rf "${million_dir:?}/$name"
	done
fi

# ---------------------------------------------------------------------
echo
load_end=$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || echo "?")
python3 - "$work" "$duration" "$rounds" "${BENCH_ARGS:-}" "$load_start" \
	"$load_end" "$million" "$million_tokens" "$million_duration" \
	"$million_base" "$placement" "$million_flush" <<'EOF'
import csv, json, os, re, sys

(work, duration, rounds, extra, load_start, load_end, million,
 million_tokens, million_duration, million_base,
 placement, million_flush) = sys.argv[1:13]
rounds = int(rounds)

def path(name, r, ext):
    return os.path.join(work, "%s-%d.%s" % (name, r, ext))

def have(name):
    return os.path.exists(path(name, 1, "json"))

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

def table(head, rows, left):
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    def line(cells):
        out = []
        for i, (cell, w) in enumerate(zip(cells, widths)):
            out.append(cell.ljust(w) if i < left else cell.rjust(w))
        return "  ".join(out).rstrip()
    print(line(head))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))

def status(name):
    out = {}
    p = os.path.join(work, name)
    if os.path.exists(p):
        for line in open(p):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0])
    return out

def mib(kib):
    return "%.0f MiB" % (kib / 1024.0)

# ---- the table of runs
head = ("op", "url", "conc", "req/s", "tokens/s", "p50 us", "p99 us",
        "errors", "echo req/s", "x echo", "redis req/s", "x redis")
runs = [("Introspect", "introspect", t, c)
        for t in ("ipc", "tcp") for c in (1, 16, 64)]
runs += [("Batch of 32", "batch", "ipc", 64),
         ("Issue", "issue", "ipc", 1), ("Issue", "issue", "ipc", 16),
         ("Issue 1/commit", "single", "ipc", 16)]
rows = []
for label, op, t, c in runs:
    name = "%s-%s-%d" % (op, t, c)
    if not have(name):
        continue
    d = load(name)
    row = [label, t, str(c), "%.0f" % d["requests_per_second"],
           "%.0f" % d["tokens_per_second"], "%.1f" % d["p50_us"],
           "%.1f" % d["p99_us"], str(d["errors"]), "", "", "", ""]
    if op == "introspect":
        e = load("echo-%s-%d" % (t, c))
        row[8] = "%.0f" % e["requests_per_second"]
        row[9] = "%.2f" % (d["requests_per_second"] /
                           e["requests_per_second"])
        r = redis(c) if t == "ipc" else None
        if r:
            row[10] = "%.0f" % r
            row[11] = "%.2f" % (d["requests_per_second"] / r)
    rows.append(row)
if all(r[10] == "" for r in rows):
    head = head[:10]
    rows = [r[:10] for r in rows]

print("enrt benchmark: best of %d rounds of %s s, %d CPUs (load average %s "
      "before,\n%s after), %s, enrt-bench defaults%s" %
      (rounds, duration, os.cpu_count(), load_start, load_end, placement,
       (" + " + extra) if extra else ""))
table(head, rows, 2)
print()
print("x echo: enrtd's Introspect throughput over that of enrt-bench-echo "
      "(same client,")
print("message sizes and concurrency; no work per request). x redis: "
      "over redis-benchmark")
print("-t get on a unix socket with as many connections as requests in "
      "flight.")
print("Batch of 32: IntrospectBatch requests of 32 tokens each. Issue "
      "1/commit: a second")
print("enrtd with --commit-batch 1, one durable commit per Issue.")
st = status("enrtd.status")
print("enrtd after the set: VmRSS %s, VmHWM %s." %
      (mib(st["VmRSS"]), mib(st["VmHWM"])))

# ---- the million-token runs
def million_run(name):
    p = os.path.join(work, "million-%s.json" % name)
    with open(p) as f:
        return json.load(f)

large_ratio = None
txn_per_interval = None
txn_slack = 1.0
txn_floor = 0.0
txn_why = "BENCH_MILLION=1" if million != "1" else "no mdb_stat"
if million == "1":
    small = [million_run("small-1"), million_run("small-2")]
    large = million_run("large")
    small_rps = sum(d["requests_per_second"] for d in small) / 2
    large_ratio = large["requests_per_second"] / small_rps
    err = open(os.path.join(work, "million-large.err")).read()
    m = re.search(r"(\d+) active and (\d+) revoked tokens in ([0-9.]+) s",
                  err)
    print()
    print("The store at %s tokens: data directories on %s; Introspect at 64 "
          "in flight" % (million_tokens, million_base))
    print("over ipc for %s s on each of three fresh servers, one after the "
          "other, each" % million_duration)
    print("flushing last-used times every %s s." % million_flush)
    rows = []
    for label, d in (("1,000 tokens stored", small[0]),
                     ("%s tokens stored" % million_tokens, large),
                     ("1,000 tokens stored", small[1])):
        rows.append([label, "%.0f" % d["requests_per_second"],
                     "%.1f" % d["p50_us"], "%.1f" % d["p99_us"],
                     str(d["errors"])])
    table(("server", "req/s", "p50 us", "p99 us", "errors"), rows, 1)
    print("%s stored over the mean of the 1,000 runs: %.2f" %
          (million_tokens, large_ratio))
    if m:
        issued = int(m.group(1)) + int(m.group(2))
        print("Issuing them: %d Issues (then %s Revokes) through enrtd in "
              "%s s, %.0f a second." % (issued, m.group(2), m.group(3),
              issued / float(m.group(3))))
    st = status("large.status")
    du = open(os.path.join(work, "large.du")).read().split()[0]
    print("The large server after its run: VmRSS %s, VmHWM %s (anonymous "
          "%s, file %s, shmem %s);" %
          (mib(st["VmRSS"]), mib(st["VmHWM"]), mib(st.get("RssAnon", 0)),
           mib(st.get("RssFile", 0)), mib(st.get("RssShmem", 0))))
    print("its data directory: %s on disk (du)." % mib(int(du)))
    samples = os.path.join(work, "large.samples")
    if os.path.exists(samples):
        end = float(open(os.path.join(work, "million-large.end")).read())
        start = end - large["seconds"]
        rows = []
        for line in open(samples):
            t, txn = line.split()
            if txn != "-" and start <= float(t) <= end:
                rows.append((float(t), int(txn)))
        if len(rows) >= 2:
            (t0, x0), (t1, x1) = rows[0], rows[-1]
            intervals = (t1 - t0) / float(million_flush)
            print("During its Introspect load (%.0f s of it sampled): %d "
                  "write transactions at a last-used" % (t1 - t0, x1 - x0))
            print("flush interval of %s s: %.2f write transactions per "
                  "flush interval." % (million_flush, (x1 - x0) / intervals))
            # Under two intervals the count says nothing either way.
            # Samples a second apart may catch one flush more or less
            # than the window holds; none at all means no flush ran.
            if intervals >= 2:
                txn_per_interval = (x1 - x0) / intervals
                txn_slack = (intervals + 1) / intervals
                txn_floor = 1 / intervals
            else:
                txn_why = "run under two flush intervals"

# ---- the targets, each a ratio of this run
def fmt(v):
    return "%.2f" % v

targets = []
def target(what, goal, least, value, meets_goal, meets_least, why=""):
    if value is None:
        verdict = why
        shown = "-"
    else:
        shown = fmt(value)
        verdict = ("goal met" if meets_goal(value) else
                   "reported" if least == "reported" else
                   "at least met" if meets_least(value) else "missed")
    targets.append([what, goal, least, shown, verdict])

i64 = load("introspect-ipc-64")
e64 = load("echo-ipc-64")
target("Introspect c64 ipc / echo", ">= 0.85", ">= 0.60",
       i64["requests_per_second"] / e64["requests_per_second"],
       lambda v: v >= 0.85, lambda v: v >= 0.60)
r64 = redis(64)
target("Introspect c64 ipc / redis GET", ">= 1.0", "reported",
       i64["requests_per_second"] / r64 if r64 else None,
       lambda v: v >= 1.0, lambda v: True, "no redis")
b64 = load("batch-ipc-64")
target("Batch of 32 tokens/s / Introspect, c64", ">= 5", ">= 3",
       b64["tokens_per_second"] / i64["tokens_per_second"],
       lambda v: v >= 5, lambda v: v >= 3)
i1, e1 = load("introspect-ipc-1"), load("echo-ipc-1")
target("Introspect p99 c1 ipc / echo p99", "<= 1.1", "<= 1.5",
       i1["p99_us"] / e1["p99_us"], lambda v: v <= 1.1,
       lambda v: v <= 1.5)
stored = "1M" if million_tokens == "1000000" else million_tokens
target("Introspect c64, %s stored / 1k" % stored, ">= 0.90", ">= 0.80",
       large_ratio,
       lambda v: v >= 0.90, lambda v: v >= 0.80, "BENCH_MILLION=1")
single = have("single-ipc-16")
target("Issue c16, batched / 1 commit each", ">= 10", ">= 5",
       load("issue-ipc-16")["requests_per_second"] /
       load("single-ipc-16")["requests_per_second"] if single else None,
       lambda v: v >= 10, lambda v: v >= 5, "no --commit-batch")
target("write txns per flush interval", "1", "1", txn_per_interval,
       lambda v: txn_floor <= v <= txn_slack,
       lambda v: txn_floor <= v <= txn_slack, txn_why)
print()
# ---- what went wrong, where anything did: errors are figures, and
# their causes are only in what enrt-bench printed
for txt in sorted(f for f in os.listdir(work) if f.endswith(".txt")):
    for text in open(os.path.join(work, txt)):
        m = re.match(r"errors:\s+([0-9]+)", text)
        if m and int(m.group(1)) > 0:
            print("errors in %s: %s" % (txt[:-4], text.strip()))
for log in sorted(f for f in os.listdir(work) if f.startswith("enrtd")
                  and f.endswith(".log")):
    events = {}
    for text in open(os.path.join(work, log)):
        m = re.match(r"\S+ (error|warn) event=(\S+)", text)
        if m:
            events[m.group(2)] = events.get(m.group(2), 0) + 1
    for event, n in sorted(events.items()):
        print("%s: %d x %s" % (log, n, event))

print("Targets, each a ratio of figures of this run:")
table(("measure", "goal", "at least", "measured", ""), targets, 1)
EOF
