# t0100 - the man pages: each usage line that `--help` prints is in the
# SYNOPSIS of the program's page (as git's t0450 does for its commands), and
# the hand-written pages lint clean.  That every schema key is documented in
# mcpg-config(5) is checked by t1100.
. "$TOP/tests/lib.sh"

if ! command -v mandoc > /dev/null 2>&1; then
	skip "t0100 man pages" "mandoc is not installed"
	exit 0
fi

# norm: one synopsis per line, compared as a sequence of words: case,
# brackets, '|' and '...' are formatting, so "[FILE...] [--format=text|json]"
# and "[file ...] [--format=text|json]" are the same line.
norm() {
	tr 'A-Z' 'a-z' | sed 's/\.\.\.//g; s/[][|]/ /g; s/[[:space:]][[:space:]]*/ /g; s/^ //; s/ $//'
}

# help_usage PROG: the usage lines of `PROG --help`, one command a line:
# the "usage:" line and the indented lines after it, up to a blank line.
help_usage() {
	"$1" --help | awk '
		/^usage:/ { sub(/^usage:[ \t]*/, ""); print; on = 1; next }
		on && /^[ \t]+[^ \t]/ { sub(/^[ \t]+/, ""); print; next }
		{ on = 0 }'
}

# synopsis PAGE: the SYNOPSIS of PAGE as rendered, one entry a line.  An
# entry starts at the section's indent; mandoc indents the lines it wraps
# further, and those are joined to their entry.
synopsis() {
	mandoc -Tascii "$1" | col -bx | awk '
		/^SYNOPSIS/ { on = 1; next }
		/^[A-Z]/ { on = 0 }
		!on || /^[ \t]*$/ { next }
		{ match($0, /^ */); ind = RLENGTH; sub(/^ +/, "") }
		base == "" { base = ind }
		ind == base { if (cur != "") print cur; cur = $0; next }
		{ cur = cur " " $0 }
		END { if (cur != "") print cur }'
}

# check_page ID PROG PAGE NAME: every usage line of PROG is in PAGE's SYNOPSIS.
check_page() {
	id=$1 prog=$2 page=$3 name=$4
	help_usage "$prog" | norm > "$T/help.$name"
	synopsis "$page" | norm > "$T/syn.$name"
	if [ ! -s "$T/help.$name" ]; then
		fail "$id" "$prog --help printed no usage line"
		return
	fi
	if [ ! -s "$T/syn.$name" ]; then
		fail "$id" "$page has no SYNOPSIS entry for $name"
		return
	fi
	missing=
	while IFS= read -r line; do
		grep -qxF "$line" "$T/syn.$name" || missing="$missing
    $line"
	done < "$T/help.$name"
	if [ -z "$missing" ]; then ok "$id ($(wc -l < "$T/help.$name") lines)"
	else fail "$id" "usage lines of --help missing from the SYNOPSIS of $page:$missing" \
		"SYNOPSIS has:" "$(cat "$T/syn.$name")"; fi
}

check_page "t0100 mcpgc --help matches the SYNOPSIS of mcpgc.1" "$MCPGC" "$TOP/man/mcpgc.1" mcpgc
check_page "t0100 mcpg --help matches the SYNOPSIS of mcpg.8" "$MCPG" "$TOP/man/mcpg.8" mcpg

# Every command mcpgc --help lists in its summary has its own SYNOPSIS line.
"$MCPGC" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1; next } { on = 0 }' \
	> cmds.out
missing=
while IFS= read -r c; do
	grep -q "^mcpgc $c\( \|$\)" "$T/syn.mcpgc" || missing="$missing $c"
done < cmds.out
if [ -s cmds.out ] && [ -z "$missing" ]; then ok "t0100 every mcpgc command has a SYNOPSIS line"
else fail "t0100 every mcpgc command has a SYNOPSIS line" "missing:$missing"; fi

# Required sections, in STYLE.md order, in the hand-written pages.
for page in mcpgc.1 mcpg.8; do
	got=$(grep '^\.Sh ' "$TOP/man/$page" | sed 's/^\.Sh //' |
		grep -xE 'NAME|SYNOPSIS|DESCRIPTION|OPTIONS|FILES|EXIT STATUS|EXAMPLES|DIAGNOSTICS|SEE ALSO' |
		tr '\n' ',')
	want="NAME,SYNOPSIS,DESCRIPTION,OPTIONS,FILES,EXIT STATUS,EXAMPLES,DIAGNOSTICS,SEE ALSO,"
	if [ "$got" = "$want" ]; then ok "t0100 $page has every section"
	else fail "t0100 $page has every section" "have: $got" "want: $want"; fi
done

for page in mcpgc.1 mcpg.8; do
	mandoc -Tlint -W warning "$TOP/man/$page" > lint.out 2>&1
	if [ ! -s lint.out ]; then ok "t0100 mandoc -Tlint is clean on $page"
	else fail "t0100 mandoc -Tlint is clean on $page" "$(head -20 lint.out)"; fi
done
