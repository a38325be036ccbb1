# t4000 - mcpg refuses a corrupt, truncated or foreign image with one line
# and exit status 1, and accepts a good one.
. "$TOP/tests/lib.sh"

"$MCPGC" build "$TOP/templates/dev-single-node.yaml" -o good.img > build.out || fail "build"
digest=$(sed -n 's/^wrote .*sha256 \([0-9a-f]*\))$/\1/p' build.out)
size=$(wc -c < good.img)

# one_line ID FILE: mcpg exits 1 and prints exactly one line naming FILE.
one_line() {
	"$MCPG" --image "$2" > out 2> err
	rc=$?
	if [ "$rc" -eq 1 ] && [ "$(wc -l < err)" -eq 1 ] && grep -q "^mcpg: error: $2: " err; then
		ok "$1"
	else
		fail "$1" "exit status $rc" "$(cat err)"
	fi
}

expect_rc "a good image boots" 0 "$MCPG" --check --image good.img
if [ -n "$digest" ] && MCPG_IMAGE=good.img "$MCPG" --check 2>&1 | grep -q "\"digest\":\"$digest\""; then
	ok "MCPG_IMAGE boots and the log names the digest build printed"
else fail "MCPG_IMAGE boots and the log names the digest build printed" "$(MCPG_IMAGE=good.img "$MCPG" --check 2>&1)"; fi

cp good.img flip.img
printf '\377' | dd of=flip.img bs=1 seek=$((size / 2)) conv=notrunc 2> /dev/null
one_line "a flipped byte in the records is refused" flip.img
grep -q 'checksum mismatch' err && ok "the flip is reported as a checksum mismatch" ||
	fail "the flip is reported as a checksum mismatch" "$(cat err)"

head -c $((size - 8)) good.img > short.img
one_line "a truncated image is refused" short.img

for i in 1 2 3 4 5 6 7 8; do printf 'not an image at all, just some text\n'; done > text.img
one_line "a text file is refused" text.img
grep -q 'bad magic' err && ok "the text file is named foreign (bad magic)" ||
	fail "the text file is named foreign (bad magic)" "$(cat err)"

: > empty.img
one_line "an empty file is refused" empty.img

cp good.img foreign.img
printf '\001\002\003\004\005\006\007\010' | dd of=foreign.img bs=1 seek=32 conv=notrunc 2> /dev/null
one_line "an image of another schema is refused" foreign.img
if grep -q "schema hash mismatch.*0x0807060504030201.*$(echo "$("$MCPGC" --version)" | sed 's/.*schema \(................\).*/\1/')" err; then
	ok "the schema mismatch names both hashes"
else fail "the schema mismatch names both hashes" "$(cat err)"; fi

"$MCPG" --image "$T/missing.img" > out 2> err
if [ $? -eq 1 ] && grep -q "No such file or directory" err; then ok "a missing image is refused"
else fail "a missing image is refused" "$(cat err)"; fi

# A big image (hashed on a second thread while the runtime prepares its
# snapshot): a changed byte inside a string keeps the structure sound, so
# only the digest can catch it, and it must, also when an unset variable
# fails the preparation first.
{
	printf 'gateway:\n  server:\n    bind_address: "${env.T4000_UNSET_BIND}"\n'
	printf 'cluster:\n  kind: single_node\ngovernance:\n  audit:\n    enabled: false\n'
	printf 'mcp:\n  capabilities:\n    tools:\n'
	i=0
	while [ "$i" -lt 4000 ]; do
		printf '      - name: big%04d\n        description: Generated tool number %04d for a big image.\n' "$i" "$i"
		printf '        governance: {minimum_trust: unauthenticated}\n        backend: {kind: mock}\n'
		i=$((i + 1))
	done
} > big.yaml
if "$MCPGC" build big.yaml -o big.img > /dev/null 2>&1 && [ "$(wc -c < big.img)" -gt 524288 ]; then
	expect_rc "a big image verifies" 0 env T4000_UNSET_BIND=127.0.0.1:1 "$MCPG" --check --image big.img
	off=$(grep -abo 'tool number 1500' big.img | head -1 | cut -d: -f1)
	cp big.img bigflip.img
	printf 'T' | dd of=bigflip.img bs=1 seek="$off" conv=notrunc 2> /dev/null
	env T4000_UNSET_BIND=127.0.0.1:1 "$MCPG" --check --image bigflip.img > out 2> err
	[ $? -eq 1 ] && grep -q 'checksum mismatch' err &&
		ok "a changed string in a big image is a checksum mismatch" ||
		fail "a changed string in a big image is a checksum mismatch" "$(cat err)"
	"$MCPG" --check --image bigflip.img > out 2> err
	[ $? -eq 1 ] && grep -q 'checksum mismatch' err &&
		ok "the checksum mismatch wins over an unset variable" ||
		fail "the checksum mismatch wins over an unset variable" "$(cat err)"
else
	fail "a big image builds (over 512 KiB)" "$(ls -l big.img 2>&1)"
fi
