#!/usr/bin/env bash
# The man pages against the programs: every flag `enrtd --help` lists is
# in enrtd(8), and every command of `enrt --help` and every flag of it and
# of each `enrt COMMAND --help` is in enrt(1), so that a flag added to a
# program and not to its page fails here.
set -Eeuo pipefail

: "${ENRT_BIN_DIR:?ENRT_BIN_DIR must name the directory holding enrtd and enrt}"
src=$(cd "$(dirname "$0")/../.." && pwd)
enrt_page=$src/client/enrt.1
enrtd_page=$src/server/enrtd.8

# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"

# The flags one help text names (a command may have none).
flags_in() {
	{ grep -oE -- '--[a-z][a-z0-9-]*' || true; } | sort -u
}

# Fails unless the page names the flag as roff writes it (each hyphen
# "\-"), and not only as the start of a longer flag.
in_page() {
	local page=$1 flag=$2 roff

	roff=${flag//-/\\\\-}
	if ! grep -Eq -- "${roff}([^a-z0-9\\\\]|\\\\[^-]|$)" "$page"; then
		echo "$(basename "$page") lacks $flag" >&2
		return 1
	fi
}

# The commands `enrt --help` lists, as "group verb" lines.
commands() {
	"$ENRT_BIN_DIR/enrt" --help |
		sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) \([a-z]*\) .*/\1 \2/p'
}

check "enrtd(8) describes every flag of enrtd --help"
n=0
while read -r flag; do
	in_page "$enrtd_page" "$flag"
	n=$((n + 1))
done < <("$ENRT_BIN_DIR/enrtd" --help | flags_in)
[ "$n" -ge 10 ]
passes

check "enrt(1) describes every global flag of enrt --help"
while read -r flag; do
	in_page "$enrt_page" "$flag"
done < <("$ENRT_BIN_DIR/enrt" --help | sed '/^Commands:/,$d' | flags_in)
passes

check "enrt(1) has a section for every command of enrt --help"
n=0
while read -r group verb; do
	if ! grep -q "^\.SS \"$group $verb" "$enrt_page"; then
		echo "enrt.1 has no section for $group $verb" >&2
		false
	fi
	n=$((n + 1))
done < <(commands)
[ "$n" -ge 8 ]
passes

check "enrt(1) describes every flag of each command's --help"
while read -r group verb; do
	while read -r flag; do
		in_page "$enrt_page" "$flag"
	done < <("$ENRT_BIN_DIR/enrt" "$group" "$verb" --help | flags_in)
done < <(commands)
passes

echo "$passed passed"
