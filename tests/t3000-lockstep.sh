# t3000 - the lockstep suite, shell half: every template passes `mcpgc check`.
#
# The rest of the suite is elsewhere, so nothing runs twice:
#   build -> dump -> build gives the same image    tests/t2100-dump-explain.sh
#   a rejecting case per schema constraint, key    tests/unit/u-lockstep.c
#   coverage, and mcc_compile of every template     (from generated/lockstep.cases)
#
# A template whose pre-staged files are not on this machine (air-gapped)
# checks with its override layer tests/config-fixtures/NAME.local.yaml,
# which names the fixture files relative to its own directory.  Templates
# that reference ${env.*} check without --env: references stay references.
. "$TOP/tests/lib.sh"
cd "$T" || exit 2

if [ ! -x "$MCPGC" ]; then
	skip t3000 "$MCPGC is not built"
	exit 0
fi

for tpl in "$TOP"/templates/*.yaml; do
	name=$(basename "$tpl" .yaml)
	id="t3000 mcpgc check passes: $name"
	layers="$tpl"
	overlay="$TOP/tests/config-fixtures/$name.local.yaml"
	if [ -f "$overlay" ]; then
		layers="$tpl $overlay"
		id="$id (with $name.local.yaml)"
	fi
	# shellcheck disable=SC2086
	"$MCPGC" check $layers > "check-$name.out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && grep -q ': valid (' "check-$name.out" &&
	   ! grep -q -e ': error: ' -e ': warning: ' "check-$name.out"; then
		ok "$id"
	else
		fail "$id" "exit status $rc, wanted 0" "$(head -20 "check-$name.out")"
	fi
done
