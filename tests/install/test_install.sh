#!/usr/bin/env bash
# `cmake --install` into a staging directory (DESTDIR), then checks what
# landed where the build's install-layout.txt says it should: programs,
# header, libraries, pkg-config file, man pages, bash completion, systemd
# unit and sysusers file.  A small program is built against the staged
# tree with pkg-config, once against the shared library and once against
# the static one, and asks a staged enrtd, through the staged library,
# about a token that the staged enrt issued.
#
# Each check prints its name when it passes; the first failure stops the
# run with the check's name and the command that failed.
set -Eeuo pipefail

: "${ENRT_BUILD_DIR:?ENRT_BUILD_DIR must name the build directory}"
: "${ENRT_HAVE_BENCH:?ENRT_HAVE_BENCH must be 1 or 0}"
CC=${CC:-cc}
read -r -a cflags <<<"${ENRT_TEST_CFLAGS:-}"

work=$(mktemp -d /tmp/enrt-install-XXXXXX)
root=$work/root
server_pid=""
tails=(out err enrtd.log)
# shellcheck source=../lib.sh
source "$(dirname "$0")/../lib.sh"

# The value of one key of install-layout.txt.
layout() {
	sed -n "s|^$1=||p" "$ENRT_BUILD_DIR/install-layout.txt"
}

must_exist() {
	local path
	for path in "$@"; do
		if [ ! -e "$root$path" ]; then
			echo "missing: $path" >&2
			return 1
		fi
	done
}

bindir=$(layout bindir)
libdir=$(layout libdir)
includedir=$(layout includedir)
mandir=$(layout mandir)
datadir=$(layout datadir)
docdir=$(layout docdir)
unitdir=$(layout systemd_unitdir)
sysusersdir=$(layout sysusersdir)
version=$(layout version)
cd "$work"

# ---------------------------------------------------------------------
check "cmake --install stages every file under DESTDIR"
DESTDIR="$root" cmake --install "$ENRT_BUILD_DIR" >out 2>err
must_exist "$bindir/enrtd" "$bindir/enrt" "$includedir/enrt.h" \
	"$libdir/libenrt.so" "$libdir/libenrt.so.0" \
	"$libdir/libenrt.so.$version" "$libdir/libenrt.a" \
	"$libdir/pkgconfig/enrt.pc" "$mandir/man1/enrt.1" \
	"$mandir/man8/enrtd.8" "$datadir/bash-completion/completions/enrt" \
	"$unitdir/enrtd.service" "$sysusersdir/enrt.conf" \
	"$docdir/examples/resource_server.c"
[ -x "$root$bindir/enrtd" ] && [ -x "$root$bindir/enrt" ]
[ "$(readlink "$root$libdir/libenrt.so")" = libenrt.so.0 ]
[ "$(readlink "$root$libdir/libenrt.so.0")" = "libenrt.so.$version" ]
passes

# ---------------------------------------------------------------------
check "enrt-bench is installed exactly when the tree builds it"
if [ "$ENRT_HAVE_BENCH" = 1 ]; then
	[ -x "$root$bindir/enrt-bench" ]
else
	[ ! -e "$root$bindir/enrt-bench" ]
	echo "# no enrt_bench target in this tree: not installed"
fi
passes

# ---------------------------------------------------------------------
check "the installed header compiles on its own, as C99 and as C++"
printf '#include <enrt.h>\n' >alone.c
"$CC" -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only \
	-I"$root$includedir" alone.c
if command -v c++ >/dev/null; then
	c++ -x c++ -std=c++11 -pedantic -Wall -Wextra -Werror -fsyntax-only \
		-I"$root$includedir" alone.c
else
	echo "# no C++ compiler: C++ check skipped"
fi
passes

# pkg-config reads the staged file; the sysroot makes its paths staged
# (and those of the packages it requires, which is harmless: the real
# ones are the compiler's defaults).
export PKG_CONFIG_PATH="$root$libdir/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$root"

# ---------------------------------------------------------------------
check "enrt.pc gives the version, the staged paths and -lenrt"
[ "$(pkg-config --modversion enrt)" = "$version" ]
[[ " $(pkg-config --cflags enrt) " == *" -I$root$includedir "* ]]
[[ "$(pkg-config --libs enrt)" == "-L$root$libdir -lenrt"* ]]
if [[ " $(pkg-config --libs enrt) " == *" -lnng "* ]]; then
	echo "-lnng is private, yet pkg-config --libs gives it" >&2
	false
fi
passes

# ---------------------------------------------------------------------
check "enrt.pc lists nng, protobuf-c, libsodium and pthread for --static"
static_libs=$(pkg-config --static --libs enrt)
for lib in -lenrt -lnng -lprotobuf-c -lsodium -pthread; do
	if [[ " $static_libs " != *" $lib "* ]]; then
		echo "pkg-config --static --libs lacks $lib: $static_libs" >&2
		false
	fi
done
passes

# A program that introspects the token on standard input, through the
# client library as a resource server would: the header helper, then
# enrt_introspect.  Prints "active SUBJECT" or "inactive".
cat >introspect.c <<'EOF'
#include <enrt.h>
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	char credential[128], header[192], line[128];
	const char *token;
	size_t len;
	enrt_client *client;
	enrt_introspection *answer;
	enrt_error err;
	enrt_options options = {.url = argv[1], .credential = credential};
	FILE *f = fopen(argv[2], "r");
	int rc = 1;

	if (argc != 3 || f == NULL || !fgets(credential, 128, f) ||
	    !fgets(line, 128, stdin)) {
		return 2;
	}
	fclose(f);
	credential[strcspn(credential, "\n")] = '\0';
	line[strcspn(line, "\n")] = '\0';
	snprintf(header, sizeof(header), "Bearer %s", line);
	if (enrt_token_from_header(header, NULL, &token, &len, &err) != ENRT_OK) {
		printf("inactive\n");
		return 0;
	}
	if (enrt_client_open(&client, &options, &err) != ENRT_OK) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	if (enrt_introspect(client, token, len, &answer, &err) == ENRT_OK) {
		if (answer->active) {
			printf("active %s\n", answer->subject);
		} else {
			printf("inactive\n");
		}
		enrt_introspection_free(answer);
		rc = 0;
	} else {
		fprintf(stderr, "%s: %s\n", enrt_status_name(err.status),
		    err.message);
	}
	enrt_client_close(client);
	return rc;
}
EOF

# ---------------------------------------------------------------------
check "a program builds with pkg-config against the shared library"
# shellcheck disable=SC2046 # pkg-config's words are meant to split
"$CC" "${cflags[@]}" -Wall -Werror introspect.c $(pkg-config --cflags enrt) \
	$(pkg-config --libs enrt) -o introspect_shared
LD_LIBRARY_PATH="$root$libdir" ldd ./introspect_shared >out
grep -q "libenrt.so.0 => $root$libdir/libenrt.so.0" out
passes

# ---------------------------------------------------------------------
check "a program builds with pkg-config --static against libenrt.a"
static_libs=${static_libs/-lenrt/-l:libenrt.a}
# shellcheck disable=SC2086 # as above
"$CC" "${cflags[@]}" -Wall -Werror introspect.c $(pkg-config --cflags enrt) \
	$static_libs -o introspect_static
ldd ./introspect_static >out
if grep -q libenrt out; then
	echo "linked statically, yet needs libenrt.so" >&2
	false
fi
passes

# ---------------------------------------------------------------------
check "the staged enrtd and enrt serve and issue a token"
"$root$bindir/enrtd" --version >out
grep -q "$version" out
"$root$bindir/enrtd" --data data --listen "ipc://$work/data/enrt.sock" \
	>enrtd.log 2>&1 &
server_pid=$!
enrt() {
	"$root$bindir/enrt" --url "ipc://$work/data/enrt.sock" \
		--credential-file data/admin.credential "$@"
}
await "$server_pid" answers data enrt app list
app=$(enrt app create --name Staged --policy AuthenticatedUsers \
	--system-user svc-staged --scopes read)
enrt token issue --app "$app" --kind pat --owner alice --expires 1d \
	--scopes read >out
head -n 1 out >token
grep -Eqx 'enrt_[0-9A-Za-z]{49}' token
passes

# ---------------------------------------------------------------------
check "both programs find the token active, and garbage inactive"
export LD_LIBRARY_PATH="$root$libdir"
for program in ./introspect_shared ./introspect_static; do
	"$program" "ipc://$work/data/enrt.sock" data/admin.credential \
		<token >out 2>err
	[ "$(cat out)" = "active alice" ]
	echo enrt_garbage | "$program" "ipc://$work/data/enrt.sock" \
		data/admin.credential >out 2>err
	[ "$(cat out)" = inactive ]
done
unset LD_LIBRARY_PATH
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=""
passes

# ---------------------------------------------------------------------
check "the systemd unit runs enrtd as enrt with its state and hardening"
unit=$root$unitdir/enrtd.service
for line in "User=enrt" "StateDirectory=enrt" "StateDirectoryMode=0700" \
	"ExecStart=$bindir/enrtd --data /var/lib/enrt" \
	"NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" \
	"PrivateTmp=yes" "PrivateDevices=yes" "UMask=0077" \
	"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" \
	"CapabilityBoundingSet=" "SystemCallFilter=@system-service"; do
	if ! grep -qx -- "$line" "$unit"; then
		echo "enrtd.service lacks the line: $line" >&2
		false
	fi
done
grep -Eqx 'u enrt - "[^"]+" /var/lib/enrt' "$root$sysusersdir/enrt.conf"
passes

# ---------------------------------------------------------------------
check "systemd-analyze verify accepts the unit"
if command -v systemd-analyze >/dev/null; then
	# A copy that names the staged enrtd, which verify checks exists;
	# MANPATH lets it find the staged enrtd(8) of Documentation=.
	sed "s|^ExecStart=$bindir/|ExecStart=$root$bindir/|" "$unit" \
		>enrtd.service
	MANPATH="$root$mandir" systemd-analyze verify "$work/enrtd.service" \
		>out 2>err
	if [ -s err ]; then
		cat err >&2
		false
	fi
else
	echo "# systemd-analyze not found: unit not verified"
fi
passes

# ---------------------------------------------------------------------
check "the man pages format without warnings"
if command -v man >/dev/null; then
	for page in "$mandir/man1/enrt.1" "$mandir/man8/enrtd.8"; do
		MANWIDTH=80 man --warnings -l "$root$page" >out 2>err
		grep -q '^NAME' out
		if [ -s err ]; then
			cat err >&2
			false
		fi
	done
else
	echo "# man not found: pages not formatted"
fi
passes

# ---------------------------------------------------------------------
check "the bash completion parses and registers itself for enrt"
bash -c 'source "$1" && complete -p enrt' _ \
	"$root$datadir/bash-completion/completions/enrt" >out
grep -q -- '-F _enrt enrt' out
passes

echo "$passed passed"
