# tests/lib-cluster.sh - helpers for the cluster suites (t6000-t6299),
# sourced after tests/lib.sh.  Everything listens on 127.0.0.1.

PIDS=
stop_all() {
	for p in $PIDS; do kill -KILL "$p" 2> /dev/null; done
	PIDS=
}
trap stop_all EXIT INT TERM

now_ms() { echo $(($(date +%s%N) / 1000000)); }

J='Content-Type: application/json'
A='Accept: application/json, text/event-stream'
AJ='Accept: application/json'

# code PORT PATH: the HTTP status of GET PATH.
code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1$2"; }

# wait_code PORT PATH WANT MAX_MS: poll every 20 ms; prints the ms it took,
# or "timeout"; returns 1 on timeout.
wait_code() {
	t0=$(now_ms)
	while :; do
		[ "$(code "$1" "$2")" = "$3" ] && { echo $(($(now_ms) - t0)); return 0; }
		[ $(($(now_ms) - t0)) -gt "$4" ] && { echo timeout; return 1; }
		sleep 0.02
	done
}

# boot_mcpg VAR LOG PORT ARGS...: start mcpg with PORT=port in its
# environment; its pid goes into $VAR; waits for /ready 200 (returns 1 if it
# never comes, with the log shown).
boot_mcpg() {
	var=$1 log=$2 port=$3
	shift 3
	PORT=$port "$MCPG" "$@" 2> "$log" &
	eval "$var=$!"
	PIDS="$PIDS $!"
	[ "$(wait_code "$port" /ready 200 10000)" != timeout ] && return 0
	echo "mcpg on $port never ready:" >&2
	cat "$log" >&2
	return 1
}

# start_redis PORT ARGS...: redis-server on 127.0.0.1 (data under ./redis-PORT).
start_redis() {
	rport=$1
	shift
	mkdir -p "redis-$rport"
	redis-server --bind 127.0.0.1 --port "$rport" --dir "$PWD/redis-$rport" --save '' \
		--appendonly no --daemonize no "$@" > "redis-$rport.log" 2>&1 &
	REDIS_PID=$!
	PIDS="$PIDS $REDIS_PID"
	n=0
	while [ $n -lt 250 ]; do
		redis-cli -p "$rport" ${RCLI_ARGS:-} ping 2> /dev/null | grep -q PONG && return 0
		sleep 0.02
		n=$((n + 1))
	done
	echo "redis on $rport did not start" >&2
	cat "redis-$rport.log" >&2
	return 1
}

# post PORT SID BODY [ACCEPT]: POST to /mcp; body in out.body, headers in
# out.hdr, status in $CODE.
post() {
	CODE=$(curl -s -m 15 -o out.body -D out.hdr -w '%{http_code}' -X POST -H "$J" \
		-H "${4:-$AJ}" ${2:+-H "Mcp-Session-Id: $2"} -d "$3" "http://127.0.0.1:$1/mcp")
}

# init PORT: initialize + notifications/initialized on PORT; sets SID.
init() {
	post "$1" "" '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t6000","version":"1"}}}' "$A"
	SID=$(tr -d '\r' < out.hdr | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
	[ -n "$SID" ] && post "${2:-$1}" "$SID" '{"jsonrpc":"2.0","method":"notifications/initialized"}'
}

# call PORT SID ID TOOL: tools/call, JSON answer.
call() {
	post "$1" "$2" "{\"jsonrpc\":\"2.0\",\"id\":$3,\"method\":\"tools/call\",\"params\":{\"name\":\"$4\",\"arguments\":{}}}"
}

# want ID CODE [GREP]: the last post answered CODE and its body matches GREP.
want() {
	if [ "$CODE" = "$2" ] && { [ -z "${3:-}" ] || grep -q -- "$3" out.body; }; then
		ok "$1"
	else
		fail "$1" "status $CODE, wanted $2${3:+ and /$3/}" "$(head -c 600 out.body)"
	fi
}

# metric PORT NAME: the value of an unlabelled metric line.
metric() {
	curl -s -m 2 "http://127.0.0.1:$1/metrics" | sed -n "s/^$2 //p" | head -1
}
