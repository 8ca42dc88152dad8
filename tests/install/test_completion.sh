#!/usr/bin/env bash
# The bash completion of enrt: what it offers at each point of a command
# line, and that it knows every command and flag that `enrt --help` and
# `enrt COMMAND --help` list, so that a flag added to the CLI and not to
# the completion fails here.
set -Eeuo pipefail

: "${ENRT_BIN_DIR:?ENRT_BIN_DIR must name the directory holding enrt}"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../client/enrt.bash-completion
source "$here/../../client/enrt.bash-completion"

# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"

# Completes the line as typed so far (the cursor at its end) and prints
# the offers sorted, one per line.
offers() {
	local line=$1

	read -r -a COMP_WORDS <<<"$line"
	if [[ $line == *" " ]]; then
		COMP_WORDS+=("")
	fi
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_enrt
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

# Fails unless the offers for the line are exactly the words given.
expect() {
	local line=$1 got want
	shift
	got=$(offers "$line" | xargs)
	want=$(printf '%s\n' "$@" | sort | xargs)
	if [ "$got" != "$want" ]; then
		echo "'$line': offered '$got', expected '$want'" >&2
		return 1
	fi
}

# Fails unless every word given is among the offers for the line.
expect_among() {
	local line=$1 got word
	shift
	got=" $(offers "$line" | xargs) "
	for word in "$@"; do
		if [[ $got != *" $word "* ]]; then
			echo "'$line': '$word' not among '$got'" >&2
			return 1
		fi
	done
}

# The commands `enrt --help` lists, as "group verb" lines.
commands() {
	"$ENRT_BIN_DIR/enrt" --help |
		sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) \([a-z]*\) .*/\1 \2/p'
}

# The flags one help text names (a command may have none).
flags_in() {
	{ grep -oE -- '--[a-z][a-z0-9-]*' || true; } | sort -u
}

check "the first word is a command group"
expect "enrt " app audit backup caller token user version
expect "enrt to" token
passes

check "after a group come its commands"
expect "enrt token " introspect issue list revoke
expect "enrt app " create list show update
expect "enrt app s" show
expect "enrt caller " add list revoke
expect "enrt user " delete list set
expect "enrt backup " create
passes

check "global flags and their values are skipped to find the command"
expect "enrt --url ipc://x --timeout 5 token i" introspect issue
expect "enrt --json app " create list show update
passes

check "a dash offers the command's flags and the global ones"
expect "enrt token issue --k" --kind
expect_among "enrt token list --" --app --owner --all --json --url --help
expect "enrt app update --d" --disable
passes

check "flags with a fixed set of values offer them"
expect "enrt token issue --kind " pat sat
expect "enrt app create --policy A" AdministratorsOnly AuthenticatedUsers
expect "enrt app update x --max-lifetime u" unlimited
expect "enrt token issue --expires n" never
expect "enrt caller add --role " admin introspect portal
passes

check "a flag's free value is not completed as a command"
expect "enrt token issue --description "
expect "enrt app create --name "
expect "enrt --as "
expect "enrt --as alice token " introspect issue list revoke
passes

check "every command of enrt --help is offered"
n=0
while read -r group verb; do
	expect_among "enrt " "$group"
	expect_among "enrt $group " "$verb"
	n=$((n + 1))
done < <(commands)
[ "$n" -ge 8 ]
passes

# The global flags are those above the list of commands, whose
# descriptions may name a command's flag.
check "every flag of enrt --help and of each command's --help is offered"
while read -r flag; do
	expect_among "enrt -" "$flag"
done < <("$ENRT_BIN_DIR/enrt" --help | sed '/^Commands:/,$d' | flags_in)
while read -r group verb; do
	while read -r flag; do
		expect_among "enrt $group $verb -" "$flag"
	done < <("$ENRT_BIN_DIR/enrt" "$group" "$verb" --help | flags_in)
done < <(commands)
passes

echo "$passed passed"
