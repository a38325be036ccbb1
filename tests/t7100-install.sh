# t7100 - make install DESTDIR=... PREFIX=/usr: the tree a packager gets,
# the installed programs run (mcpg-config-check and mcpg-config-init by
# their names), every man page renders, and the systemd unit verifies.
. "$TOP/tests/lib.sh"

D=$T/dest
# The suite runs in $T; make runs in the source tree, on the tests' build.
if ! make -C "$TOP" --no-print-directory B="$B" install DESTDIR="$D" PREFIX=/usr \
	> install.out 2>&1; then
	fail "make install DESTDIR PREFIX=/usr" "$(tail -20 install.out)"
	exit 0
fi
ok "make install DESTDIR PREFIX=/usr"

(cd "$D" && find . -mindepth 1 \( -type f -o -type l \) | sort) > tree.out
{
	cat << EOF
./usr/bin/mcpg-config-check
./usr/bin/mcpg-config-init
./usr/bin/mcpgc
./usr/lib/systemd/system/mcpg.service
EOF
	for p in "$TOP"/man/*.[0-9] "$TOP"/generated/mcpg-config.5; do
		n=$(basename "$p")
		echo "./usr/share/man/man${n##*.}/$n"
	done
	echo ./usr/share/mcpg/templates/README.md
	echo ./usr/share/mcpg/templates/mcpg-config.schema.json
	for t in "$TOP"/templates/*.yaml; do echo "./usr/share/mcpg/templates/$(basename "$t")"; done
	echo ./usr/sbin/mcpg
} | sort > tree.exp
golden "tree: binaries, names, man pages, templates, JSON Schema, unit" tree.exp tree.out

bad=$(cd "$D" && find . -mindepth 1 \( -type f -perm /022 -o -type d -perm /022 \) | head)
[ -z "$bad" ] && ok "tree: nothing group- or world-writable" || fail "tree: nothing group- or world-writable" "$bad"
bad=$(cd "$D" && find . -type f -path './usr/share/*' -perm /111)
[ -z "$bad" ] && ok "tree: data files are not executable" || fail "tree: data files are not executable" "$bad"
for l in mcpg-config-check mcpg-config-init; do
	[ "$(readlink "$D/usr/bin/$l")" = mcpgc ] && ok "tree: $l is a relative link to mcpgc" ||
		fail "tree: $l is a relative link to mcpgc" "$(ls -l "$D/usr/bin/$l")"
done

# ---------------------------------------------------------------------------
# The installed programs

"$D/usr/sbin/mcpg" --version > v.out 2>&1 && grep -q '^mcpg ' v.out &&
	ok "run: mcpg --version" || fail "run: mcpg --version" "$(cat v.out)"
"$D/usr/bin/mcpgc" --version > v.out 2>&1 && grep -q 'mcpgc' v.out &&
	ok "run: mcpgc --version" || fail "run: mcpgc --version" "$(cat v.out)"
"$D/usr/bin/mcpg-config-init" --template dev-single-node --output cfg.yaml > init.out 2>&1 &&
	[ -s cfg.yaml ] && ok "run: mcpg-config-init writes a template" ||
	fail "run: mcpg-config-init writes a template" "$(cat init.out)"
"$D/usr/bin/mcpg-config-check" cfg.yaml > check.out 2>&1 && grep -q 'valid' check.out &&
	ok "run: mcpg-config-check accepts it" || fail "run: mcpg-config-check accepts it" "$(cat check.out)"
printf 'gateway:\n  server:\n    bind_address: nowhere\n' > bad.yaml
expect_rc "run: mcpg-config-check refuses a bad file" 1 "$D/usr/bin/mcpg-config-check" bad.yaml
"$D/usr/bin/mcpgc" build cfg.yaml -o cfg.img > build.out 2>&1 &&
	"$D/usr/sbin/mcpg" --check --image cfg.img > mcheck.out 2>&1 &&
	ok "run: the installed mcpg verifies an image the installed mcpgc built" ||
	fail "run: the installed mcpg verifies an image the installed mcpgc built" \
		"$(cat build.out mcheck.out)"

# ---------------------------------------------------------------------------
# Man pages: man -l when man-db is there, else mandoc; either way a NAME
# section on stdout and no diagnostic on stderr, except groff's "can't break
# line": a long key path in mcpg-config(5) overflows 80 columns, a layout
# matter (make man-lint checks the markup).

for page in $(cd "$D" && find ./usr/share/man -type f | sort); do
	id="man: $(basename "$page") renders"
	if command -v man > /dev/null 2>&1; then
		MANWIDTH=80 MAN_KEEP_FORMATTING= man -l "$D/$page" > page.out 2> page.err < /dev/null
	else
		mandoc -Tutf8 -W warning "$D/$page" > page.out 2> page.err
	fi
	rc=$?
	grep -v "warning.*can't break line" page.err > page.err2
	if [ "$rc" -eq 0 ] && [ ! -s page.err2 ] && grep -q '^NAME' page.out &&
		[ "$(wc -l < page.out)" -gt 10 ]; then
		ok "$id"
	else
		fail "$id" "status $rc" "$(head -5 page.err2)" "$(head -5 page.out)"
	fi
done

# ---------------------------------------------------------------------------
# The systemd unit.  verify needs the programs at their paths, so a copy of
# the unit points into DESTDIR.

unit=$D/usr/lib/systemd/system/mcpg.service
grep -q '^ExecStart=/usr/sbin/mcpg$' "$unit" && grep -q '^ExecStartPre=/usr/bin/mcpgc check' "$unit" &&
	ok "unit: ExecStart follows PREFIX" || fail "unit: ExecStart follows PREFIX" "$(grep ^Exec "$unit")"
# TimeoutStopSec must leave room for the drain budget (shutdown_timeout_ms).
drain=$(awk '/shutdown_timeout_ms:/ { for (i = 1; i <= NF; i++) if ($i == "=") print $(i + 1) }' \
	"$TOP/schema/mcpg.schema")
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$unit")
[ -n "$drain" ] && [ -n "$stop" ] && [ $((stop * 1000)) -gt "$drain" ] &&
	ok "unit: TimeoutStopSec ${stop}s exceeds the default drain of ${drain} ms" ||
	fail "unit: TimeoutStopSec exceeds the default drain" "stop=$stop drain=$drain"
for k in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes DynamicUser=yes \
	'ExecReload=/bin/kill -HUP $MAINPID' 'SystemCallFilter=@system-service'; do
	grep -qxF "$k" "$unit" || missing="${missing:-} $k"
done
[ -z "${missing:-}" ] && ok "unit: sandboxing and reload keys" ||
	fail "unit: sandboxing and reload keys" "missing:$missing"
if ! command -v systemd-analyze > /dev/null 2>&1; then
	skip "unit: systemd-analyze verify" "systemd-analyze is not installed"
else
	sed "s|/usr/sbin/mcpg|$D/usr/sbin/mcpg|; s|/usr/bin/mcpgc|$D/usr/bin/mcpgc|" "$unit" > mcpg.service
	if systemd-analyze verify --man=no "$PWD/mcpg.service" > verify.out 2>&1 && [ ! -s verify.out ]; then
		ok "unit: systemd-analyze verify"
	else
		fail "unit: systemd-analyze verify" "$(cat verify.out)"
	fi
fi
