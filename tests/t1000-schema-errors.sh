#!/bin/sh
# t1000-schema-errors - golden diagnostics of the schema DSL front end.
#
# Each case tests/schema-errors/NNNN/ holds `desc` (one line), `in.mcs` (a
# broken schema) and `expected` (the exact standard error).  The case runs
# `mcpgc-gen --check tests/schema-errors/NNNN/in.mcs` from the top of the
# tree, so places read tests/schema-errors/NNNN/in.mcs:LINE:COL, and passes
# when the exit status is 1, standard output is empty and standard error
# equals `expected` (`tests/run --update t1000` rewrites the goldens).

. "$TOP/tests/lib.sh"
cd "$TOP" || exit 2

if [ ! -x "$MCPGC_GEN" ]; then
	skip t1000 "$MCPGC_GEN is not built"
	exit 0
fi

for dir in tests/schema-errors/[0-9][0-9][0-9][0-9]; do
	[ -f "$dir/in.mcs" ] || continue
	id="schema-errors/${dir##*/}"
	"$MCPGC_GEN" --check "$dir/in.mcs" > "$T/out" 2> "$T/err"
	rc=$?
	if [ "$rc" -ne 1 ]; then
		fail "$id" "$(cat "$dir/desc")" "exit status $rc, wanted 1" "$(head -20 "$T/err")"
	elif [ -s "$T/out" ]; then
		fail "$id" "$(cat "$dir/desc")" "unexpected standard output:" "$(head -20 "$T/out")"
	else
		golden "$id" "$dir/expected" "$T/err"
	fi
done
