#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang in a build directory of their
# own and runs each, one after the other, for SECONDS on a copy of its
# corpus:
#
#     run.sh SOURCE_DIR BUILD_DIR SECONDS
#
# New inputs go to BUILD_DIR/corpus/<harness>/, which persists from run
# to run; the seeds in tests/fuzz/corpus/ are only read.  An input that
# breaks a rule is written to BUILD_DIR/found/<harness>-crash-*, and the
# script fails with the end of the fuzzer's log.  Exits 77 (skipped)
# when clang is not installed.
set -euo pipefail

if [ $# -ne 3 ]; then
	echo "usage: run.sh SOURCE_DIR BUILD_DIR SECONDS" >&2
	exit 2
fi
src=$1
build=$2
seconds=$3
harnesses="fuzz_rpc fuzz_format"

if ! command -v clang >/dev/null 2>&1; then
	echo "clang is not installed: fuzzing skipped"
	exit 77
fi

# The configure log sits beside the build directory, which may not exist.
mkdir -p "$build"
CC=clang cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug \
	-DENRT_SANITIZE=ON -DENRT_FUZZ=ON >"$build.configure.log" 2>&1 || {
	cat "$build.configure.log" >&2
	exit 1
}
# shellcheck disable=SC2086 # one target per harness
cmake --build "$build" -j 2 --target $harnesses

mkdir -p "$build/found"
for h in $harnesses; do
	mkdir -p "$build/corpus/$h"
	log="$build/$h.log"
	echo "fuzzing $h for $seconds s (log: $log)"
	if ! "$build/bin/$h" -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$build/found/$h-" \
		"$build/corpus/$h" "$src/tests/fuzz/corpus/$h" >"$log" 2>&1; then
		tail -n 60 "$log" >&2
		echo "$h: an input broke a rule; see $build/found/" >&2
		exit 1
	fi
	grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done)' \
		"$log" || true
done
