# tests/lib.sh - helpers for tests/tNNNN-*.sh suites (sourced).
#
# Each case reports exactly one line: ok - ID, or not ok - ID followed by
# indented detail.  A suite must not stop at the first failure.

ok() { echo "ok - $1"; }
fail() {
	id=$1; shift
	echo "not ok - $id"
	[ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/    /'
	return 0
}
skip() { echo "skip - $1: $2"; }

# golden ID EXPECTED_FILE ACTUAL_FILE: compare whole files; with
# UPDATE=1 (tests/run --update) rewrite the expected file instead.
golden() {
	id=$1 exp=$2 act=$3
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$act" "$exp"
		ok "$id (updated)"
	elif diff -u "$exp" "$act" > "$T/diff.$$" 2>&1; then
		ok "$id"
	else
		fail "$id" "$(cat "$T/diff.$$")"
	fi
}

# expect_rc ID WANT CMD...: run CMD, case passes when its exit status is WANT.
expect_rc() {
	id=$1 want=$2; shift 2
	"$@" > "$T/out.$$" 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$id"; else
		fail "$id" "exit status $rc, wanted $want" "$(head -20 "$T/out.$$")"
	fi
}

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
