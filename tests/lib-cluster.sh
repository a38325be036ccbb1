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
AS='Accept: application/json, text/event-stream'
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
	post "$1" "" '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t6000","version":"1"}}}' "$AS"
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

# ---------------------------------------------------------------------------
# The shared scenario of t6000 (redis) and t6100 (nats).  The suite defines:
#   KIND                      redis or nats
#   LEASE_MS                  the lease TTL its cluster_yaml sets
#   cluster_yaml PORT [degraded]   the cluster: block for a server on PORT
#   coord_start PORT          start the server (again, keeping its data)
#   coord_kill                kill -9 it
#   coord_has SID             1 / 0 whether the session record exists, or ?
#   coord_record SID          the record's text, or "unsupported"
#   coord_pid PORT            the pid of the server on PORT

# cfg FILE COORD_PORT [degraded]
cfg() {
	{
		cat << EOF
gateway:
  server:
    bind_address: "127.0.0.1:\${env.PORT}"
    request_timeout_ms: 10000
    session_idle_timeout_ms: 6000
    anonymous_rate_limit_per_min: 0
governance:
  audit:
    enabled: false
EOF
		cluster_yaml "$2" "${3:-}"
		cat << EOF
mcp:
  capabilities:
    tools:
      - name: echo
        description: Echo.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {ok: true}}
      - name: slow
        description: Slow, with progress.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {slow: true}, delay_ms: 4000}
EOF
	} > "$1"
}

cluster_suite() {
	CP=$(free_port)
	coord_start "$CP" || { fail "$KIND server starts"; exit 0; }
	cfg c.yaml "$CP"
	"$MCPGC" build c.yaml -o c.img > build.out 2>&1 || { fail "build" "$(cat build.out)"; exit 0; }
	PA=$(free_port) PB=$(free_port) PC=$(free_port)
	boot_mcpg A a.log "$PA" --image c.img &&
	boot_mcpg B b.log "$PB" --image c.img &&
	boot_mcpg C c.log "$PC" --image c.img &&
		ok "boot: three replicas ready on one $KIND" || { fail "boot: three replicas"; exit 0; }
	grep -q "\"cluster\":\"$KIND up\"" "$(curl -s -o ready.json -m 2 http://127.0.0.1:$PB/ready; echo ready.json)" &&
		ok "/ready names the coordinator" || fail "/ready names the coordinator" "$(cat ready.json)"

	# ---------------------------------------------------------------------------
	# Any replica serves any session

	init "$PA" "$PB"
	S1=$SID
	[ -n "$S1" ] && [ "$(coord_has "$S1")" != 0 ] &&
		ok "initialize on A writes the session record" || fail "initialize on A writes the session record" "$(cat out.hdr out.body)"
	call "$PB" "$S1" 2 echo
	want "tools/call on B for A's session" 200 '"ok":true'
	call "$PC" "$S1" 3 echo
	want "tools/call on C for A's session" 200 '"ok":true'
	[ "$(curl -s http://127.0.0.1:$PC/metrics | sed -n 's/^mcpg_cluster_session_lookups_total{result="coordinator"} //p')" -ge 1 ] &&
		ok "C found the session in the coordinator" || fail "C found the session in the coordinator"
	call "$PC" "0123456789abcdef0123456789abcdef" 4 echo
	want "an unknown session is 404 on every replica" 404

	# ---------------------------------------------------------------------------
	# Progress from A reaches B's GET stream; a cancel sent to B stops A's call

	curl -s -N -m 12 -H 'Accept: text/event-stream' -H "Mcp-Session-Id: $S1" "http://127.0.0.1:$PB/mcp" > stream.out 2> /dev/null &
	SPID=$!
	sleep 0.3
	t0=$(now_ms)
	curl -s -m 15 -o slow.out -w '%{http_code}' -X POST -H "$J" -H "$AJ" -H "Mcp-Session-Id: $S1" \
		-d '{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"slow","arguments":{},"_meta":{"progressToken":"tok-1"}}}' \
		"http://127.0.0.1:$PA/mcp" > slow.code &
	CPID=$!
	n=0
	while [ $n -lt 150 ] && ! grep -q '"progressToken":"tok-1"' stream.out; do sleep 0.02; n=$((n + 1)); done
	grep -q 'notifications/progress.*"progressToken":"tok-1"' stream.out &&
		ok "progress of a call running on A arrives on B's GET stream" ||
		fail "progress of a call running on A arrives on B's GET stream" "$(cat stream.out)"
	sleep 0.2
	post "$PB" "$S1" '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":10,"reason":"t6000"}}'
	tc=$(now_ms)
	wait $CPID
	CANCEL_MS=$(($(now_ms) - tc))
	if [ "$CODE" = 202 ] && [ $(($(now_ms) - t0)) -lt 3500 ] && ! grep -q '"result"' slow.out; then
		ok "notifications/cancelled on B ends the call on A (${CANCEL_MS} ms)"
	else
		fail "notifications/cancelled on B ends the call on A" "cancel $CODE, call took $(($(now_ms) - t0)) ms, $(cat slow.code)" "$(cat slow.out)"
	fi
	kill "$SPID" 2> /dev/null

	# Resuming that stream: on B (which numbered the events) Last-Event-ID
	# replays what came after; on C, whose numbering is its own, the id is
	# recognised as foreign and a fresh stream starts instead of an error.
	EV=$(sed -n 's/^id: //p' stream.out | head -1)
	code=$(curl -s -o replay.out -m 1 -w '%{http_code}' -H 'Accept: text/event-stream' \
		-H "Mcp-Session-Id: $S1" -H "Last-Event-ID: $((EV - 1))" "http://127.0.0.1:$PB/mcp")
	[ -n "$EV" ] && [ "$EV" -gt 1099511627776 ] && grep -q "^id: $EV\$" replay.out &&
		ok "Last-Event-ID on the replica that sent it replays what came after (ids from $EV)" ||
		fail "Last-Event-ID on the same replica replays" "$code, id $EV" "$(head -c 400 replay.out)"
	code=$(curl -s -o fresh.out -m 1 -w '%{http_code}' -H 'Accept: text/event-stream' \
		-H "Mcp-Session-Id: $S1" -H "Last-Event-ID: $EV" "http://127.0.0.1:$PC/mcp")
	[ "$code" = 200 ] && grep -q '^: mcpg stream' fresh.out && ! grep -q '^id:' fresh.out &&
		ok "Last-Event-ID from another replica: a fresh stream, no error" ||
		fail "Last-Event-ID from another replica: a fresh stream" "$code" "$(head -c 400 fresh.out)"

	# logging/setLevel on C reaches the record (and the other replicas' copies).
	post "$PC" "$S1" '{"jsonrpc":"2.0","id":11,"method":"logging/setLevel","params":{"level":"error"}}'
	want "logging/setLevel on C" 200 '"result":{}'
	rec=$(coord_record "$S1")
	case $rec in
	unsupported) ;;
	*'"l":4'*) ok "logging/setLevel on C is written to the session record" ;;
	*) fail "logging/setLevel on C is written to the session record" "$rec" ;;
	esac

	# DELETE on C ends B's cached copy too.
	init "$PB"
	SD=$SID
	call "$PB" "$SD" 2 echo
	CODE=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -X DELETE -H "Mcp-Session-Id: $SD" "http://127.0.0.1:$PC/mcp")
	[ "$CODE" = 204 ] && ok "DELETE on C of a session made on B" || fail "DELETE on C of a session made on B" "status $CODE"
	sleep 0.2
	call "$PB" "$SD" 3 echo
	want "B's cached copy is gone after the DELETE on C" 404

	# ---------------------------------------------------------------------------
	# Kill A: the session goes on; the reaper lease moves

	init "$PA"
	S2=$SID
	holder=
	for p in "$PA" "$PB" "$PC"; do [ "$(metric "$p" mcpg_cluster_lease_holder)" = 1 ] && holder="$holder $p"; done
	[ "$(echo $holder | wc -w)" = 1 ] && ok "exactly one replica holds the reaper lease" ||
		fail "exactly one replica holds the reaper lease" "holders:$holder"
	[ "$(metric ${holder# } mcpg_cluster_peers)" = 3 ] && ok "the holder counts three live replicas" ||
		fail "the holder counts three live replicas" "$(metric ${holder# } mcpg_cluster_peers)"
	kill -KILL "$A"
	tk=$(now_ms)
	call "$PB" "$S2" 20 echo
	want "session opened on A is served by B after A is killed" 200 '"ok":true'
	call "$PC" "$S1" 21 echo
	want "A's first session is served by C after A is killed" 200 '"ok":true'
	if [ "$holder" = " $PA" ]; then
		new=
		while [ -z "$new" ] && [ $(($(now_ms) - tk)) -lt 8000 ]; do
			for p in "$PB" "$PC"; do [ "$(metric "$p" mcpg_cluster_lease_holder)" = 1 ] && new=$p; done
			[ -z "$new" ] && sleep 0.05
		done
		MOVE_MS=$(($(now_ms) - tk))
		[ -n "$new" ] && ok "the lease moves after its holder A is killed (${MOVE_MS} ms, lease TTL ${LEASE_MS} ms)" ||
			fail "the lease moves after its holder A is killed" "no holder after $MOVE_MS ms"
		holder=" $new"
	fi
	# Kill the holder among B and C (again, if it was A) and watch the other take it.
	victim=${holder# }
	if [ "$victim" = "$PB" ]; then survivor=$PC; vpid=$B; else survivor=$PB; vpid=$C; fi
	kill -KILL "$vpid"
	tk=$(now_ms)
	while [ "$(metric "$survivor" mcpg_cluster_lease_holder)" != 1 ] && [ $(($(now_ms) - tk)) -lt 8000 ]; do sleep 0.05; done
	MOVE2_MS=$(($(now_ms) - tk))
	[ "$(metric "$survivor" mcpg_cluster_lease_holder)" = 1 ] &&
		ok "the lease moves again when the next holder is killed (${MOVE2_MS} ms)" ||
		fail "the lease moves again when the next holder is killed" "after $MOVE2_MS ms"
	grep -q '"msg":"cluster lease acquired"' "$( [ "$survivor" = "$PB" ] && echo b.log || echo c.log)" &&
		ok "the new holder logs the lease with its fencing token" || fail "the new holder logs the lease with its fencing token"

	# The survivor reaps an idle session record (session_idle_timeout_ms 6000).
	init "$survivor"
	S3=$SID
	# Idle 6000 ms, sweeps every lease TTL / 3: gone well within 9 s.  Asking
	# would touch it, so wait, then ask once (the survivor's own copy was
	# ended by its reaper too).
	sleep 9
	call "$survivor" "$S3" 2 echo
	[ "$(coord_has "$S3")" != 1 ] && [ "$(metric "$survivor" mcpg_cluster_sessions_reaped_total)" -ge 1 ] && [ "$CODE" = 404 ] &&
		ok "the lease holder reaps an idle session record (within 9 s of its last use, idle 6 s)" ||
		fail "the lease holder reaps an idle session record" "$CODE $(coord_record "$S3")"
	[ "$(metric "$survivor" mcpg_cluster_peers)" = 1 ] &&
		ok "the two killed replicas left the presence count within the peer TTL (3 s)" ||
		fail "the killed replicas left the presence count" "$(metric "$survivor" mcpg_cluster_peers)"

	# Restart the two dead replicas on their ports.
	if [ "$survivor" = "$PB" ]; then
		boot_mcpg C c2.log "$PC" --image c.img
	else
		boot_mcpg B b2.log "$PB" --image c.img
	fi
	boot_mcpg A a2.log "$PA" --image c.img && ok "replicas rejoin after a restart" || fail "replicas rejoin after a restart"

	# ---------------------------------------------------------------------------
	# Coordinator outage under load

	init "$PB"
	S4=$SID
	call "$PB" "$S4" 2 echo
	(
		i=100
		while [ ! -f stop.load ]; do
			curl -s -o /dev/null -m 5 -w '%{http_code}\n' -X POST -H "$J" -H "$AJ" -H "Mcp-Session-Id: $S4" \
				-d "{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{}}}" \
				"http://127.0.0.1:$PB/mcp" >> load.b
			curl -s -o /dev/null -m 5 -w '%{http_code}\n' -X POST -H "$J" -H "$AS" \
				-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"load","version":"1"}}}' \
				"http://127.0.0.1:$PC/mcp" >> load.c
			i=$((i + 1))
		done
	) &
	LPID=$!
	# And wrk on B's cached session: 8 connections for the whole outage.
	WPID=
	if command -v wrk > /dev/null; then
		MCP_TOOL=echo MCP_SESSION_ID=$S4 wrk -t1 -c8 -d4s -s "$TOP/bench/tools-call.lua" \
			"http://127.0.0.1:$PB/mcp" > wrk.out 2>&1 &
		WPID=$!
	fi
	sleep 0.5
	coord_kill
	tk=$(now_ms)
	FLIP_B=$(wait_code "$PB" /ready 503 5000)
	FLIP_C=$(wait_code "$PC" /ready 503 5000)
	FLIP_A=$(wait_code "$PA" /ready 503 5000)
	if [ "$FLIP_B" != timeout ] && [ "$FLIP_C" != timeout ] && [ "$FLIP_A" != timeout ] &&
		[ $(($(now_ms) - tk)) -le 2000 ]; then
		ok "/ready turns 503 on every replica within 2 s of $KIND dying ($(($(now_ms) - tk)) ms for all three)"
	else
		fail "/ready turns 503 within 2 s" "A $FLIP_A, B $FLIP_B, C $FLIP_C, total $(($(now_ms) - tk)) ms"
	fi
	curl -s -m 2 "http://127.0.0.1:$PB/ready" | grep -q "\"cluster\":\"$KIND down: $KIND [a-z:/]*127.0.0.1" &&
		ok "/ready says why" || fail "/ready says why" "$(curl -s http://127.0.0.1:$PB/ready)"
	post "$PC" "" '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t6000","version":"1"}}}' "$AS"
	want "initialize during the outage: 503 with a JSON-RPC error naming the cause" 503 "\"code\":-32011,\"message\":\"cluster coordinator unavailable ($KIND: $KIND [a-z:/]*127.0.0.1"
	call "$PA" "$S1" 30 echo
	want "a session this replica has not cached: 503, -32011" 503 '"code":-32011'
	call "$PB" "$S4" 31 echo
	want "a session B has cached is still served during the outage" 200 '"ok":true'
	CODE=$(curl -s -o out.body -m 5 -w '%{http_code}' -X DELETE -H "Mcp-Session-Id: $S4" "http://127.0.0.1:$PB/mcp")
	want "DELETE during the outage: 503 -32011, the session stays" 503 '"code":-32011'
	sleep 1
	coord_start "$CP" || fail "$KIND restarts"
	tr=$(now_ms)
	UP_B=$(wait_code "$PB" /ready 200 8000)
	UP_C=$(wait_code "$PC" /ready 200 8000)
	UP_A=$(wait_code "$PA" /ready 200 8000)
	RECOVER_MS=$(($(now_ms) - tr))
	[ "$UP_B" != timeout ] && [ "$UP_C" != timeout ] && [ "$UP_A" != timeout ] &&
		ok "/ready is 200 again on every replica after $KIND returns (${RECOVER_MS} ms)" ||
		fail "/ready recovers" "A $UP_A, B $UP_B, C $UP_C"
	sleep 0.5
	touch stop.load
	wait $LPID
	if [ -n "$WPID" ]; then
		wait $WPID
		grep -q 'socket_errors(connect/read/write/timeout)=0/0/0/0' wrk.out && grep -q 'ok=[1-9]' wrk.out &&
			ok "wrk on a cached session through the outage: $(sed -n 's/^MCP results: //p' wrk.out | cut -d' ' -f1-3)" ||
			fail "wrk through the outage" "$(cat wrk.out)"
	fi
	alive=1
	for p in $A $B $C; do kill -0 "$p" 2> /dev/null || alive=0; done
	[ $alive = 1 ] && ok "no replica died during the outage" || fail "no replica died during the outage" "$(tail -5 b.log c.log)"
	bad=$(cat load.b load.c | grep -v -e '^200$' -e '^503$' | sort | uniq -c)
	nb=$(grep -c . load.b) n503=$(cat load.b load.c | grep -c '^503$')
	[ -z "$bad" ] && [ "$nb" -gt 5 ] && [ "$n503" -ge 1 ] &&
		ok "load during the outage saw only 200 and 503 ($nb + $(grep -c . load.c) requests, $n503 refused)" ||
		fail "load during the outage saw only 200 and 503" "$bad / $nb / $n503"
	call "$PC" "$S4" 40 echo
	want "after the outage, a session written before it is served by C" 200 '"ok":true'
	init "$PA"
	[ "$CODE" = 202 ] && [ -n "$SID" ] && ok "after the outage, initialize works again" || fail "after the outage, initialize works again" "$CODE $(cat out.body)"

	# ---------------------------------------------------------------------------
	# A session a verified caller started answers only to them, on every
	# replica: the owner travels in the session record.  The first request
	# another replica sees for it is a stranger's, so that replica must not
	# adopt the session as anyone's.

	owner_suite

	# ---------------------------------------------------------------------------
	# Boot with the coordinator unreachable

	DEAD=$(free_port)
	cfg d.yaml "$DEAD"
	"$MCPGC" build d.yaml -o d.img > /dev/null 2>&1
	PD=$(free_port)
	PORT=$PD timeout 20 "$MCPG" --image d.img > d.out 2> d.err
	rc=$?
	[ $rc = 1 ] && tail -1 d.err | grep -q "^mcpg: error: 'cluster': cannot reach the $KIND coordinator: $KIND [a-z:/]*127.0.0.1:$DEAD: " &&
		ok "boot with $KIND down: exit 1, the last line names the cause" || fail "boot with $KIND down: exit 1" "rc $rc" "$(cat d.err)"
	cfg e.yaml "$DEAD" degraded
	"$MCPGC" build e.yaml -o e.img > /dev/null 2>&1
	PORT=$PD "$MCPG" --image e.img 2> e.log &
	E=$!
	PIDS="$PIDS $E"
	[ "$(wait_code "$PD" /ready 503 5000)" != timeout ] && kill -0 $E &&
		ok "allow_degraded_boot: boots, /ready 503 while $KIND is down" || fail "allow_degraded_boot: boots" "$(cat e.log)"
	coord_start "$DEAD" || fail "second $KIND server starts"
	t=$(wait_code "$PD" /ready 200 8000)
	[ "$t" != timeout ] && ok "allow_degraded_boot: ready once $KIND answers ($t ms)" || fail "allow_degraded_boot: ready once $KIND answers" "$(tail -3 e.log)"

	# A server that hangs (SIGSTOP) rather than dies: the ping's deadline
	# (min(operation timeout, 1 s)) flips /ready; once it is down, calls
	# that need it fail at once; SIGCONT heals.
	HPID=$(coord_pid "$CP")
	kill -STOP "$HPID"
	HANG=$(wait_code "$PC" /ready 503 5000)
	[ "$HANG" != timeout ] && [ "$HANG" -le 2000 ] &&
		ok "$KIND stopped (SIGSTOP): /ready 503 within 2 s ($HANG ms)" ||
		fail "$KIND stopped: /ready 503 within 2 s" "$HANG"
	t0=$(now_ms)
	call "$PA" "fedcba9876543210fedcba9876543210" 50 echo
	dt=$(($(now_ms) - t0))
	[ "$CODE" = 503 ] && [ $dt -le 1500 ] && grep -q '"code":-32011' out.body &&
		ok "a call needing the hung $KIND fails fast: 503 -32011 after $dt ms" ||
		fail "a call needing the hung $KIND fails fast" "$CODE after $dt ms" "$(cat out.body)"
	kill -CONT "$HPID"
	t=$(wait_code "$PC" /ready 200 8000)
	[ "$t" != timeout ] && ok "$KIND continued (SIGCONT): ready again ($t ms)" ||
		fail "$KIND continued: ready again" "$(tail -3 c.log)"

	BL=b.log
	[ -f b2.log ] && BL=b2.log
	stop_clean "SIGTERM: a replica drains and exits 0 (coordinator stopped cleanly)" "$B" "$BL"
	no_sanitizer_reports "no sanitizer report in any replica's log"
	echo "# $KIND numbers: cancel across replicas ${CANCEL_MS:-?} ms; lease move ${MOVE_MS:-n/a} / ${MOVE2_MS:-?} ms (lease TTL ${LEASE_MS} ms); /ready 503 after the kill: A ${FLIP_A} B ${FLIP_B} C ${FLIP_C} ms, after SIGSTOP ${HANG} ms; recovery after restart ${RECOVER_MS:-?} ms"
}

# owner_suite: two replicas with a static key set on the suite's coordinator
# ($CP); alice starts a session on O1, then on O2 mallory and an anonymous
# caller get 404 for it and alice (another token) is served.
owner_suite() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out own.pem 2> /dev/null ||
		{ fail "owner: openssl makes a key"; return; }
	echo "{\"keys\":[$(python3 "$TOP/tests/jwt.py" jwk own.pem k1 ES256)]}" > own-keys.json
	cfg own.yaml "$CP"
	awk '{ print } /^governance:$/ { print "  access:\n    jwks:\n      keys_file: own-keys.json\n      issuer: https://idp.test\n      audience: mcpg-test\n      allowed_algs: [ES256]" }' \
		own.yaml > own2.yaml
	"$MCPGC" build own2.yaml -o own.img > own.out 2>&1 || { fail "owner: build" "$(cat own.out)"; return; }
	PO1=$(free_port) PO2=$(free_port)
	boot_mcpg O1 o1.log "$PO1" --image own.img && boot_mcpg O2 o2.log "$PO2" --image own.img ||
		{ fail "owner: two replicas with a key set boot"; return; }
	tok() {
		python3 "$TOP/tests/jwt.py" sign own.pem ES256 k1 \
			"{\"iss\":\"https://idp.test\",\"aud\":\"mcpg-test\",\"sub\":\"$1\",\"exp\":\"\$now+300\",\"jti\":\"$2\"}"
	}
	ALICE1=$(tok alice 1) ALICE2=$(tok alice 2) MALLORY=$(tok mallory 3)
	# apost PORT SID TOKEN BODY
	apost() {
		CODE=$(curl -s -m 15 -o out.body -D out.hdr -w '%{http_code}' -X POST -H "$J" -H "$AS" \
			${2:+-H "Mcp-Session-Id: $2"} ${3:+-H "Authorization: Bearer $3"} -d "$4" \
			"http://127.0.0.1:$1/mcp")
	}
	ECHO='{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{}}}'
	apost "$PO1" "" "$ALICE1" '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"owner","version":"1"}}}'
	SO=$(tr -d '\r' < out.hdr | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
	[ -n "$SO" ] && apost "$PO1" "$SO" "$ALICE1" '{"jsonrpc":"2.0","method":"notifications/initialized"}'
	[ -n "$SO" ] && [ "$CODE" = 202 ] && ok "owner: alice starts a session on O1" ||
		{ fail "owner: alice starts a session on O1" "$CODE $(cat out.body)"; return; }
	rec=$(coord_record "$SO")
	case $rec in
	unsupported) ;;
	*'"o":"'*) ok "owner: the session record names its owner (a digest)" ;;
	*) fail "owner: the session record names its owner" "$rec" ;;
	esac
	apost "$PO2" "$SO" "$MALLORY" "$ECHO"
	want "owner: mallory (verified) gets 404 for alice's session on O2, its first request for it" 404
	apost "$PO2" "$SO" "" "$ECHO"
	want "owner: an anonymous caller gets 404 for it on O2" 404
	apost "$PO2" "$SO" "$ALICE2" "$ECHO"
	want "owner: alice with another token is served on O2" 200 '"ok":true'
	apost "$PO2" "$SO" "$MALLORY" "$ECHO"
	want "owner: mallory still gets 404 on O2 once O2 holds the session" 404
	kill -KILL "$O1" "$O2" 2> /dev/null
}

# stop_clean ID PID LOG: SIGTERM, wait for the drain; the case passes on exit
# status 0 with no sanitizer report in LOG (sanitizer builds print them).
stop_clean() {
	kill -TERM "$2" 2> /dev/null
	n=0
	while kill -0 "$2" 2> /dev/null && [ $n -lt 500 ]; do sleep 0.02; n=$((n + 1)); done
	wait "$2" 2> /dev/null
	rc=$?
	if [ $rc = 0 ] && ! grep -q -e 'Sanitizer' -e 'runtime error:' "$3"; then
		ok "$1"
	else
		fail "$1" "exit status $rc" "$(grep -A15 -e Sanitizer -e 'runtime error:' "$3" | head -30)"
	fi
}

# no_sanitizer_reports ID: no log here holds an ASan/UBSan report.
no_sanitizer_reports() {
	if grep -l -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'ERROR: LeakSanitizer' ./*.log > san.hits 2> /dev/null; then
		fail "$1" "$(cat san.hits)" "$(grep -h -A10 -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'ERROR: LeakSanitizer' ./*.log | head -30)"
	else
		ok "$1"
	fi
}

# make_ca: ca.crt/ca.key, srv.crt/srv.key for 127.0.0.1 and localhost signed
# by it, and other.crt, an unrelated CA; returns 1 (with ssl.log) on failure.
make_ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key \
		-out ca.crt > ssl.log 2>&1 &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout srv.key -out srv.csr \
		>> ssl.log 2>&1 &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext &&
	openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
		-extfile san.ext -out srv.crt >> ssl.log 2>&1 &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other.key \
		-out other.crt >> ssl.log 2>&1
}
