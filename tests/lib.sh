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

# start_ready ID LOG URL CMD...: start CMD in the background (stderr to
# LOG; PID is set and added to PIDS) and wait up to 5 s for URL to answer
# 200 (curl gets $CURL_OPTS too).  ok ID, or fail ID with the log and
# return 1.
start_ready() {
	_id=$1 _log=$2 _url=$3
	shift 3
	"$@" 2> "$_log" &
	PID=$!
	PIDS="${PIDS:-} $PID"
	_n=250
	while [ "$_n" -gt 0 ]; do
		[ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 ${CURL_OPTS:-} "$_url")" = 200 ] &&
			{ ok "$_id"; return 0; }
		kill -0 "$PID" 2> /dev/null || break
		sleep 0.02
		_n=$((_n - 1))
	done
	fail "$_id" "no 200 from $_url" "$(cat "$_log")"
	return 1
}
