# shellcheck shell=bash
# The harness the shell tests share, sourced after `set -Eeuo pipefail`.
#
# Each check prints "ok N - name" when it passes.  The first failure
# stops the run: the ERR trap names the line and command, the EXIT trap
# names the check, shows the end of the files the script listed in
# tails, and prints "N passed, 1 failed", the line CI reads.
#
# A script may set, before sourcing: work, its temporary directory
# (removed at exit, and where expect_exit leaves out and err); tails,
# the files in work whose ends a failure shows.  It may define
# stop_processes to stop what it started; by default the EXIT trap
# kills $server_pid.

passed=0
current="setting up"
if [ -z "${tails+set}" ]; then
	tails=()
fi

check() {
	current=$1
}

passes() {
	passed=$((passed + 1))
	echo "ok $passed - $current"
}

# Kills a process started in the background, if there is one, so that
# no server outlives a failed run.
stop() {
	local pid=$1

	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
}

stop_processes() {
	stop "${server_pid:-}"
}

finish() {
	local rc=$? f

	stop_processes
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: $current" >&2
		for f in "${tails[@]}"; do
			if [ -s "$work/$f" ]; then
				echo "--- end of $f ---" >&2
				tail -n 20 "$work/$f" >&2
			fi
		done
		echo "$passed passed, 1 failed"
	fi
	if [ -n "${work:-}" ]; then
		rm -rf "$work"
	fi
	exit "$rc"
}
trap finish EXIT

# The first line of the command that failed, and where.
on_error() {
	echo "failed at line $1: ${2%%$'\n'*}" >&2
}
trap 'on_error "$LINENO" "$BASH_COMMAND"' ERR

# Runs a command with stdout in out and stderr in err; fails unless it
# exits with the expected code.
expect_exit() {
	local want=$1 rc=0
	shift
	"$@" >"$work/out" 2>"$work/err" || rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "exit $rc, expected $want: $*" >&2
		return 1
	fi
}

# Bad arguments: exit 2, nothing on stdout, a usage line on stderr.
expect_usage() {
	expect_exit 2 "$@"
	[ ! -s "$work/out" ]
	grep -q "usage: enrt" "$work/err"
}

# Fails when the fixed string is found in the files.  ("! grep" would
# not do: set -e ignores a negated command.)
absent() {
	local text=$1
	shift
	if grep -rqF -D skip -- "$text" "$@"; then
		echo "found where it must not be: $*" >&2
		return 1
	fi
}

# Whether enrtd has written its first admin credential into the data
# directory and answers the command: the CLI needs both before a test
# can use the server.
answers() {
	local dir=$1
	shift
	[ -s "$dir/admin.credential" ] && "$@"
}

# Polls the command for 20 s at most, until it succeeds; fails at once
# when the process it waits on has exited, so that a server that could
# not start is reported as such and not as a timeout.
await() {
	local pid=$1
	shift
	for _ in $(seq 200); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "exited before it answered: $*" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "no answer in 20 s: $*" >&2
	return 1
}
