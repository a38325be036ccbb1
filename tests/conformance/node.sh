# tests/conformance/node.sh - helpers for the suites and benches that run the
# official MCP TypeScript SDK or the conformance suite (sourced, after
# tests/lib.sh where the caller is a test).  Needs TOP.
#
#   node_setup          install what is missing (scripts/node-deps) and set
#                       N22 (Node 22), NODE_DIR (its node_modules root) and
#                       SHARED_CONF (../shared/conformance); returns 3 when
#                       the npm registry cannot be reached, 2 on any other
#                       failure, with the reason in NODE_WHY
#   node_script NAME    copy ../shared/conformance/NAME next to NODE_DIR's
#                       node_modules (Node resolves the SDK from the script's
#                       own directory) and print the copy's path; fails when
#                       ../shared/conformance is absent
#   node_stdio_fixture  make NODE_DIR/scripts/fixture-stdio.mjs: the fixture
#                       server's fixtures (fixture-server.mjs up to its HTTP
#                       layer) served on stdin/stdout (stdio-tail.mjs); print
#                       its path
#   mcpg_start IMAGE LOG      start $MCPG on IMAGE; sets MCPG_PID
#   wait_http URL MS [PID]    poll URL until it answers 200, up to MS ms
#                             (and only while PID lives)
#   stop_pid PID              SIGTERM, then SIGKILL after 5 s; the exit
#                             status of a child of this shell in STOP_RC

node_setup() {
	NODE_WHY=
	SHARED_CONF=$TOP/../shared/conformance
	N22=$("$TOP/scripts/node-deps" 2> "${T:-/tmp}/node-deps.err")
	rc=$?
	if [ "$rc" -ne 0 ]; then
		NODE_WHY=$(tail -3 "${T:-/tmp}/node-deps.err" | tr '\n' ' ')
		return "$rc"
	fi
	NODE_DIR=${MCPG_NODE_DIR:-$TOP/build/node}
	return 0
}

node_script() {
	[ -f "$SHARED_CONF/$1" ] || return 1
	mkdir -p "$NODE_DIR/scripts"
	if ! cmp -s "$SHARED_CONF/$1" "$NODE_DIR/scripts/$1"; then
		cp "$SHARED_CONF/$1" "$NODE_DIR/scripts/$1.$$" &&
			mv "$NODE_DIR/scripts/$1.$$" "$NODE_DIR/scripts/$1" || return 1
	fi
	echo "$NODE_DIR/scripts/$1"
}

node_stdio_fixture() {
	[ -f "$SHARED_CONF/fixture-server.mjs" ] || return 1
	grep -q '^// ---------- HTTP layer' "$SHARED_CONF/fixture-server.mjs" || return 1
	mkdir -p "$NODE_DIR/scripts"
	{
		sed '/^\/\/ ---------- HTTP layer/,$d' "$SHARED_CONF/fixture-server.mjs"
		cat "$TOP/tests/conformance/stdio-tail.mjs"
	} > "$NODE_DIR/scripts/fixture-stdio.mjs.$$" &&
		mv "$NODE_DIR/scripts/fixture-stdio.mjs.$$" "$NODE_DIR/scripts/fixture-stdio.mjs" || return 1
	echo "$NODE_DIR/scripts/fixture-stdio.mjs"
}

mcpg_start() {
	"$MCPG" --image "$1" > "$2" 2>&1 &
	MCPG_PID=$!
}

wait_http() {
	_n=$(($2 / 20))
	while [ "$_n" -gt 0 ]; do
		if [ -n "${3:-}" ] && ! kill -0 "$3" 2> /dev/null; then return 1; fi
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" 2> /dev/null)" = 200 ] && return 0
		sleep 0.02
		_n=$((_n - 1))
	done
	return 1
}

stop_pid() {
	[ -n "${1:-}" ] || return 0
	STOP_RC=
	kill -TERM "$1" 2> /dev/null || return 0
	_n=250
	while kill -0 "$1" 2> /dev/null && [ "$_n" -gt 0 ]; do
		sleep 0.02
		_n=$((_n - 1))
	done
	kill -KILL "$1" 2> /dev/null
	wait "$1" 2> /dev/null
	STOP_RC=$?
	return 0
}
