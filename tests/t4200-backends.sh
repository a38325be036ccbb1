# t4200 - the built-in backends end to end: mcpg on 127.0.0.1, spoken to
# with curl over Streamable HTTP.  The unit cases (tests/unit/u-backend.c)
# cover each backend in detail; these check what only the whole server
# shows: results on the wire, progress notifications on the SSE stream,
# and that notifications/cancelled and the request timeout stop a running
# child process.  The http backend's target is mcpg's own /health.
. "$TOP/tests/lib.sh"
. "$TOP/tests/conformance/node.sh"

MCPG_PID= CURL_PID=
trap 'stop_pid "$CURL_PID"; stop_pid "$MCPG_PID"' EXIT INT TERM

port=$(free_port)
base=http://127.0.0.1:$port

cat > b.yaml << EOF
gateway:
  server:
    bind_address: "127.0.0.1:$port"
    request_timeout_ms: 400
    on_request_timeout: jsonrpc_error
    access_log: false
cluster:
  kind: single_node
governance:
  audit:
    enabled: false
observability:
  logs:
    level: warn
mcp:
  capabilities:
    tools:
      - name: b.mock
        description: A canned object.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {ok: true, from: t4200}}
      - name: b.mock.progress
        description: Waits 100 ms, reporting progress.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, delay_ms: 100, response: done}
      - name: b.http.health
        description: GET mcpg's own /health.
        governance: {minimum_trust: unauthenticated}
        backend:
          kind: http
          method: get
          url: "http://127.0.0.1:$port/health"
          allow_private_backends: true
      - name: b.http.private
        description: The same, without allowing private targets.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: http, method: get, url: "http://127.0.0.1:$port/\${arguments.path}"}
      - name: b.command.cat
        description: /bin/cat echoes the arguments document.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: command, command: /bin/cat}
      - name: b.command.sleep
        description: Writes its pid to a file, then sleeps.
        governance: {minimum_trust: unauthenticated}
        backend:
          kind: command
          command: /bin/sh
          args: ["-c", "echo \$\$ > \${arguments.pidfile}; exec sleep 30"]
          timeout_ms: 60000
EOF
if ! "$MCPGC" build b.yaml -o b.img > build.out 2>&1; then
	fail "mcpgc builds the backends config" "$(cat build.out)"
	exit 0
fi
mcpg_start b.img mcpg.log
if ! wait_http "$base/ready" 5000 "$MCPG_PID"; then
	if grep -q 'HTTP runtime is not built yet' mcpg.log 2> /dev/null; then
		skip "backends end to end" "build/mcpg does not serve HTTP yet"
	else
		fail "mcpg answers /ready within 5 s" "$(tail -20 mcpg.log)"
	fi
	exit 0
fi

# post FILE BODY [CURL ARGS...]: one JSON-RPC POST on the session.
post() {
	_f=$1 _b=$2
	shift 2
	curl -s --max-time 10 -H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' \
		-H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 2025-11-25' \
		"$@" -d "$_b" "$base/mcp" > "$_f" 2>&1
}
# call ID NAME ARGS [META]: tools/call with request id ID into out.ID.
call() {
	post "out.$1" "{\"jsonrpc\":\"2.0\",\"id\":$1,\"method\":\"tools/call\",\"params\":{\"name\":\"$2\",\"arguments\":$3${4:+,\"_meta\":$4}}}"
}
# has ID FILE TEXT...: the case passes when FILE holds every TEXT.
has() {
	_id=$1 _f=$2
	shift 2
	for _s in "$@"; do
		grep -qF -- "$_s" "$_f" || {
			fail "$_id" "missing: $_s" "$(head -20 "$_f")"
			return 1
		}
	done
	ok "$_id"
}
# gone PID MS: PID has exited (or is a zombie) within MS ms.
gone() {
	_n=$(($2 / 20))
	while [ "$_n" -gt 0 ]; do
		_s=$(sed 's/.*) //' "/proc/$1/stat" 2> /dev/null | cut -c1)
		case $_s in "" | Z | X) return 0 ;; esac
		sleep 0.02
		_n=$((_n - 1))
	done
	return 1
}
# wait_file FILE MS: FILE is non-empty within MS ms.
wait_file() {
	_n=$(($2 / 20))
	while [ ! -s "$1" ] && [ "$_n" -gt 0 ]; do sleep 0.02; _n=$((_n - 1)); done
	[ -s "$1" ]
}

sid=
post init.out '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t4200","version":"1"}}}' -D init.hdr
sid=$(sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *//p' init.hdr | tr -d '\r')
if [ -z "$sid" ]; then
	fail "initialize returns a session" "$(cat init.hdr init.out)"
	exit 0
fi
post note.out '{"jsonrpc":"2.0","method":"notifications/initialized"}'

call 2 b.mock '{"q":1}'
has "mock: the default result, pretty text and structuredContent" out.2 \
	'"text":"{\n  \"ok\": true,\n  \"from\": \"t4200\"\n}"' '"bindingKind":"mock"' \
	'"arguments":{"q":1}' '"simulated":true' '"isError":false'

call 3 b.mock.progress '{}' '{"progressToken":"t4200-p"}'
n=$(grep -c '"method":"notifications/progress"' out.3)
if [ "$n" -eq 3 ] && grep -q '"progress":0,"total":100' out.3 &&
	grep -q '"progress":100,"total":100' out.3 && grep -q '"id":3,"result"' out.3; then
	ok "mock: progress 0, 50 and 100 on the SSE stream, then the result"
else
	fail "mock: progress 0, 50 and 100 on the SSE stream, then the result" "$(cat out.3)"
fi

call 4 b.http.health '{}'
has "http: GET on an allowed loopback target returns the body" out.4 \
	'"isError":false' '\"status\"' '"structuredContent":{'

call 5 b.http.private '{"path":"health"}'
has "http: a loopback target is refused by default" out.5 \
	'"isError":true' 'target 127.0.0.1 is a private address'

call 6 b.http.private '{}'
has "http: a missing template argument is JSON-RPC -32602" out.6 \
	'"code":-32602' "missing argument 'path'"

call 7 b.command.cat '{"a":[1,"x"]}'
has "command: the arguments go to stdin as one JSON document" out.7 \
	'"text":"{\"a\":[1,\"x\"]}\n"' '"structuredContent":{"a":[1,"x"]}' '"isError":false'

# notifications/cancelled kills the child.
rm -f c.pid
call 8 b.command.sleep "{\"pidfile\":\"$T/c.pid\"}" &
CURL_PID=$!
if wait_file c.pid 3000; then
	pid=$(cat c.pid)
	post cancel.out '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":8,"reason":"t4200"}}'
	if gone "$pid" 1000; then
		ok "command: notifications/cancelled kills the child"
	else
		fail "command: notifications/cancelled kills the child" "pid $pid still runs" "$(cat cancel.out)"
		kill -KILL "$pid" 2> /dev/null
	fi
	if grep -q '"id":8,"result"' out.8 2> /dev/null; then
		fail "command: a cancelled call gets no result" "$(cat out.8)"
	else
		ok "command: a cancelled call gets no result"
	fi
else
	fail "command: the child starts" "$(cat out.8 2> /dev/null)"
fi
stop_pid "$CURL_PID"
CURL_PID=

# The request timeout (400 ms) cancels the call, which kills the child.
rm -f t.pid
start=$(date +%s%N)
call 9 b.command.sleep "{\"pidfile\":\"$T/t.pid\"}"
ms=$((($(date +%s%N) - start) / 1000000))
if [ -s t.pid ] && gone "$(cat t.pid)" 1000; then
	ok "command: the request timeout kills the child"
else
	fail "command: the request timeout kills the child" "pid file: $(cat t.pid 2> /dev/null)" "$(cat out.9)"
	[ -s t.pid ] && kill -KILL "$(cat t.pid)" 2> /dev/null
fi
if [ "$ms" -lt 3000 ] && grep -q '"id":9,"error"' out.9; then
	ok "command: the timed-out call answers within 3 s"
else
	fail "command: the timed-out call answers within 3 s" "${ms} ms" "$(cat out.9)"
fi

if kill -0 "$MCPG_PID" 2> /dev/null; then
	ok "mcpg still runs"
else
	fail "mcpg still runs" "$(tail -20 mcpg.log)"
fi
stop_pid "$MCPG_PID"
MCPG_PID=
if [ "$STOP_RC" = 0 ] && ! grep -q 'AddressSanitizer\|LeakSanitizer\|runtime error:' mcpg.log; then
	ok "mcpg exits 0 on SIGTERM, with no sanitizer report"
else
	fail "mcpg exits 0 on SIGTERM, with no sanitizer report" "exit status $STOP_RC" \
		"$(grep -A20 'Sanitizer\|runtime error:' mcpg.log | head -40)"
fi
