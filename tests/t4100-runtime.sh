# t4100 - the mcpg runtime over real HTTP on 127.0.0.1, driven with curl:
# boot, probes, MCP sessions and methods, every HTTP error status of the
# MCP endpoint, pagination, access checks, timeouts, cancellation, GET
# streams with replay, reload (rename, corrupt image, SIGHUP), restart keys,
# idle eviction and the SIGTERM drain.
. "$TOP/tests/lib.sh"

PIDS=
stop_all() {
	for p in $PIDS; do kill -KILL "$p" 2> /dev/null; done
	PIDS=
}
trap stop_all EXIT INT TERM

# cfg FILE PORT [EXTRA_SERVER_YAML] [TOOL_DELAY_MS] [NTOOLS]: a config with
# mock tools, a resource, a template, a prompt and a header_asserted tool.
cfg() {
	file=$1 port=$2 extra=${3:-} delay=${4:-5000} ntools=${5:-0}
	{
		cat << EOF
gateway:
  server:
    bind_address: "127.0.0.1:$port"
    access_log: true
    request_timeout_ms: ${TIMEOUT:-1500}
    trust_subject_header: true
    trusted_proxies: ["127.0.0.1/32"]
    anonymous_rate_limit_per_min: ${RATE:-0}
$extra
cluster:
  kind: single_node
governance:
  audit:
    enabled: false
mcp:
  capabilities:
    tools:
      - name: echo
        description: Echo.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {ok: true, from: t4100}}
      - name: slow
        description: Slow.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {slow: true}, delay_ms: $delay}
      - name: admin
        description: Only for asserted callers.
        governance: {minimum_trust: header_asserted}
        backend: {kind: mock, response: {admin: true}}
EOF
		i=0
		while [ "$i" -lt "$ntools" ]; do
			printf '      - name: gen%03d\n        description: Generated.\n' "$i"
			printf '        governance: {minimum_trust: unauthenticated}\n'
			printf '        backend: {kind: mock}\n'
			i=$((i + 1))
		done
		cat << EOF
    resources:
      - name: res
        description: A resource.
        uri: test://static-text
        mime_type: text/plain
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: "This is the content of the static text resource."}
    resource_templates:
      - name: tpl
        description: A template.
        uri_template: "test://template/{id}/data"
        mime_type: application/json
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {templateTest: true}}
    prompts:
      - name: greet
        description: A prompt.
        prompt_arguments: [{name: who, required: true}]
        messages: [{text: "Hello \${arguments.who}"}]
        governance: {minimum_trust: unauthenticated}
EOF
	} > "$file"
}

# boot ID LOG ARGS...: start mcpg with ARGS, wait for /ready 200 on $PORT.
boot() {
	id=$1 log=$2
	shift 2
	start_ready "$id" "$log" "http://127.0.0.1:$PORT/ready" "$MCPG" "$@"
}

U=
SID=
# rpc [curl args...]: POST to the MCP endpoint; sets CODE, body in out.body,
# headers in out.hdr.
rpc() {
	CODE=$(curl -s -m 10 -o out.body -D out.hdr -w '%{http_code}' -X POST "$@" "$U")
}
J='Content-Type: application/json'
A='Accept: application/json, text/event-stream'
AJ='Accept: application/json'
S() { echo "Mcp-Session-Id: $SID"; }

# want ID CODE [GREP]: the last rpc answered CODE and its body matches GREP.
want() {
	if [ "$CODE" = "$2" ] && { [ -z "${3:-}" ] || grep -q -- "$3" out.body; }; then
		ok "$1"
	else
		fail "$1" "status $CODE, wanted $2${3:+ and /$3/}" "$(head -c 600 out.body)"
	fi
}

init() {
	rpc -H "$J" -H "$A" -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t4100","version":"1"}}}'
	SID=$(tr -d '\r' < out.hdr | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
	[ -z "$SID" ] || [ "${NOINIT:-}" ] || curl -s -m 10 -o /dev/null -X POST -H "$J" -H "$A" -H "$(S)" \
		-d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$U"
}

# ---------------------------------------------------------------------------
# Boot and probes

PORT=$(free_port)
U=http://127.0.0.1:$PORT/mcp
cfg a.yaml "$PORT"
"$MCPGC" build a.yaml -o live.img > build.out 2>&1 || fail "build a.yaml" "$(cat build.out)"
digest=$(sed -n 's/^wrote .*sha256 \([0-9a-f]*\))$/\1/p' build.out)
boot "boot: /ready answers 200" main.log --image "$PWD/live.img" || exit 0

head -1 main.log | grep -q "\"digest\":\"$digest\"" &&
	ok "boot: the first log line names the image digest" ||
	fail "boot: the first log line names the image digest" "$(head -2 main.log)"
head -1 main.log | grep -q '"instance":"[0-9a-f]\{16\}"' &&
	ok "boot: log lines carry the instance id" || fail "boot: log lines carry the instance id" "$(head -1 main.log)"

curl -s "http://127.0.0.1:$PORT/health" > health.json
grep -q '"status":"ok"' health.json && grep -q '"service":"mcpg"' health.json &&
	grep -q "\"sha256\":\"$digest\"" health.json && ok "health: status, service and digest" ||
	fail "health: status, service and digest" "$(cat health.json)"
curl -s "http://127.0.0.1:$PORT/ready" | grep -q '"status":"ready"' &&
	ok "ready: body says ready" || fail "ready: body says ready"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")" = 404 ] &&
	ok "routes: unknown path is 404" || fail "routes: unknown path is 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$U")" = 405 ] &&
	ok "routes: PUT on mcp_path is 405" || fail "routes: PUT on mcp_path is 405"

# ---------------------------------------------------------------------------
# Sessions and methods

init
want "initialize: 200" 200 '"protocolVersion":"2025-06-18"'
echo "$SID" | grep -q '^[0-9a-f]\{32\}$' && ok "initialize: Mcp-Session-Id is 128 bits of hex" ||
	fail "initialize: Mcp-Session-Id is 128 bits of hex" "$(cat out.hdr)"
grep -q '"tools":{"listChanged":true}' out.body && grep -q '"prompts"' out.body &&
	ok "initialize: capabilities follow the config" || fail "initialize: capabilities follow the config" "$(cat out.body)"
rpc -H "$J" -H "$A" -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"1999-01-01"}}'
want "initialize: an unknown version negotiates 2025-11-25" 200 '"protocolVersion":"2025-11-25"'

rpc -H "$J" -H "$A" -H "$(S)" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
want "notifications: 202" 202
rpc -H "$J" -H "$A" -H "$(S)" -d '{"jsonrpc":"2.0","id":2,"method":"ping"}'
want "ping: empty result" 200 '"result":{}'
grep -qi '^content-type: text/event-stream' out.hdr && grep -q '^data: {' out.body &&
	ok "framing: SSE when Accept lists text/event-stream" || fail "framing: SSE when Accept lists text/event-stream" "$(cat out.hdr out.body)"
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":3,"method":"ping"}'
grep -qi '^content-type: application/json' out.hdr && grep -q '^{"jsonrpc"' out.body &&
	ok "framing: JSON when Accept lists only application/json" || fail "framing: JSON when Accept lists only application/json" "$(cat out.hdr out.body)"
grep -qi '^x-mcpg-request-id: [0-9a-f]\{16\}' out.hdr && ok "responses carry x-mcpg-request-id" ||
	fail "responses carry x-mcpg-request-id" "$(cat out.hdr)"

rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":4,"method":"tools/list"}'
want "tools/list: lists the mock tools" 200 '"name":"echo"'
grep -q '"name":"admin"' out.body && fail "authz: header_asserted tool hidden from anonymous" "$(cat out.body)" ||
	ok "authz: header_asserted tool hidden from anonymous"
rpc -H "$J" -H "$AJ" -H "$(S)" -H 'x-mcpg-subject-id: alice' -d '{"jsonrpc":"2.0","id":5,"method":"tools/list"}'
want "authz: asserted subject from a trusted proxy sees it" 200 '"name":"admin"'
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"admin"}}'
want "authz: anonymous call of a hidden tool is an unknown tool" 200 '"code":-32602'

rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"x":1}}}'
want "tools/call: mock answers" 200 '"isError":false'
grep -q 't4100' out.body && ok "tools/call: the mock's response is in the result" ||
	fail "tools/call: the mock's response is in the result" "$(cat out.body)"
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"nope"}}'
want "tools/call: unknown tool is -32602" 200 '"code":-32602'
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo","arguments":[1]}}'
want "tools/call: non-object arguments are -32602" 200 '"code":-32602'
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":10,"method":"nope/nope"}'
want "unknown method is -32601" 200 '"code":-32601'

rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":11,"method":"resources/list"}'
want "resources/list" 200 '"uri":"test://static-text"'
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":12,"method":"resources/templates/list"}'
want "resources/templates/list" 200 '"uriTemplate":"test://template/{id}/data"'
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":13,"method":"resources/read","params":{"uri":"test://static-text"}}'
want "resources/read: fixed URI" 200 'static text resource'
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":14,"method":"resources/read","params":{"uri":"test://template/123/data"}}'
want "resources/read: URI template" 200 'templateTest'
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":15,"method":"resources/read","params":{"uri":"test://nothing"}}'
want "resources/read: unknown URI is -32002" 200 '"code":-32002'
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":16,"method":"resources/subscribe","params":{"uri":"test://static-text"}}'
want "resources/subscribe: empty result" 200 '"result":{}'

rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":17,"method":"prompts/list"}'
want "prompts/list" 200 '"name":"greet"'
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":18,"method":"prompts/get","params":{"name":"greet","arguments":{"who":"world"}}}'
want "prompts/get: renders the template" 200 '"text":"Hello world"'
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":19,"method":"prompts/get","params":{"name":"greet"}}'
want "prompts/get: a missing required argument is -32602" 200 '"code":-32602'
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":20,"method":"logging/setLevel","params":{"level":"debug"}}'
want "logging/setLevel" 200 '"result":{}'
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":21,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"greet"},"argument":{"name":"who","value":"w"}}}'
want "completion/complete: empty values" 200 '"values":\[\]'

# ---------------------------------------------------------------------------
# HTTP errors of the MCP endpoint, in check order

PING='{"jsonrpc":"2.0","id":1,"method":"ping"}'
rpc -H "$J" -H "$A" -H 'Origin: http://evil.example.com' -d "$PING"
want "403: foreign Origin" 403
rpc -H "$J" -H "$A" -H "$(S)" -H "Origin: http://localhost:$PORT" -d "$PING"
want "Origin: loopback origins pass with an empty allowlist" 200
rpc -H "$J" -H "$A" -H 'Host: evil.example.com' -d "$PING"
want "403: foreign Host on a loopback listener (DNS rebinding)" 403
rpc -H "$J" -H 'Accept:' -H "$(S)" -d "$PING"
want "400: no Accept" 400
rpc -H "$J" -H 'Accept: text/event-stream' -H "$(S)" -d "$PING"
want "406: Accept without application/json" 406
rpc -H 'Content-Type: text/plain' -H "$A" -H "$(S)" -d "$PING"
want "415: Content-Type not JSON" 415
head -c 4300000 /dev/zero | tr '\0' ' ' > big.json
rpc -H "$J" -H "$A" -H "$(S)" --data-binary @big.json
want "413: body over max_request_body_mb" 413
rpc -H "$J" -H "$A" -H "$(S)" -d '{"jsonrpc":'
want "-32700: malformed JSON" 400 '"code":-32700'
rpc -H "$J" -H "$A" -H "$(S)" -d "[$PING]"
want "-32600: batch refused" 400 '"code":-32600'
rpc -H "$J" -H "$A" -H "$(S)" -H 'MCP-Protocol-Version: 1999-01-01' -d "$PING"
want "400: unsupported MCP-Protocol-Version, with the supported list" 400 '2025-11-25.*2025-06-18.*2025-03-26'
rpc -H "$J" -H "$A" -H "$(S)" -H 'MCP-Protocol-Version: 2025-03-26' -d '{"jsonrpc":"2.0","id":22,"method":"ping"}'
want "any supported MCP-Protocol-Version passes" 200
rpc -H "$J" -H "$A" -d "$PING"
want "400: missing Mcp-Session-Id after initialize" 400 '"code":-32600'
rpc -H "$J" -H "$A" -H 'Mcp-Session-Id: 0123456789abcdef0123456789abcdef' -d "$PING"
want "404: unknown session" 404
rpc -H "$J" -H "$A" -H "$(S)" -d '{"jsonrpc":"2.0","id":22,"method":"ping"}'
want "session: a reused JSON-RPC request id is 400/-32600" 400 '"code":-32600'
rpc -H "$J" -H "$A" -H "$(S)" -d '{"jsonrpc":"2.0","id":"22","method":"ping"}'
want "session: the same id as a string is another id" 200 '"result":{}'
NOINIT=1 init
rpc -H "$J" -H "$A" -H "$(S)" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
want "session: a request before notifications/initialized is 400/-32600" 400 'not initialized'
rpc -H "$J" -H "$A" -H "$(S)" -d '{"jsonrpc":"2.0","id":3,"method":"ping"}'
want "session: ping before notifications/initialized is served" 200 '"result":{}'
rpc -H "$J" -H "$A" -H "$(S)" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
rpc -H "$J" -H "$A" -H "$(S)" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
want "session: after notifications/initialized the request is served" 200 '"name":"echo"'
init
OLD=$SID
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Mcp-Session-Id: $OLD" "$U")
[ "$CODE" = 204 ] && ok "DELETE ends the session" || fail "DELETE ends the session" "status $CODE"
rpc -H "$J" -H "$A" -H "Mcp-Session-Id: $OLD" -d "$PING"
want "404: ended session" 404
init

# ---------------------------------------------------------------------------
# Timeouts and cancellation (request_timeout_ms 1500, slow tool 5000 ms)

rpc -H "$J" -H "$A" -H "$(S)" -d '{"jsonrpc":"2.0","id":30,"method":"tools/call","params":{"name":"slow"}}'
want "timeout: http_408 answers 408" 408
curl -s -m 10 -o cancel.body -w '%{http_code}' -X POST -H "$J" -H "$A" -H "$(S)" \
	-d '{"jsonrpc":"2.0","id":"c-1","method":"tools/call","params":{"name":"slow"}}' "$U" > cancel.code &
CPID=$!
sleep 0.3
rpc -H "$J" -H "$A" -H "$(S)" -d '{"jsonrpc":"2.0","id":"c-1","method":"ping"}'
want "session: the id of a call in flight is 400/-32600" 400 'duplicate'
rpc -H "$J" -H "$A" -H "$(S)" -d '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"c-1","reason":"test"}}'
want "cancel: notifications/cancelled gets 202" 202
wait "$CPID"
[ "$(cat cancel.code)" = 202 ] && [ ! -s cancel.body ] &&
	ok "cancel: the cancelled call ends without a JSON-RPC response" ||
	fail "cancel: the cancelled call ends without a JSON-RPC response" "$(cat cancel.code) $(cat cancel.body)"

# A client that hangs up during a suspended call: cancelled within ~1 s, long
# before the 5000 ms delay or the 1500 ms request timeout.
curl -s -m 0.3 -o /dev/null -X POST -H "$J" -H "$AJ" -H "$(S)" \
	-d '{"jsonrpc":"2.0","id":"gone-1","method":"tools/call","params":{"name":"slow"}}' "$U"
n=50
while [ "$n" -gt 0 ] && ! grep -q '"client gone, call cancelled"' main.log; do sleep 0.02; n=$((n - 1)); done
ms=$(sed -n 's/.*"client gone, call cancelled".*"after_ms":\([0-9]*\).*/\1/p' main.log | tail -1)
[ -n "$ms" ] && [ "$ms" -lt 1000 ] && ok "cancel: a client that disconnects has its call cancelled promptly" ||
	fail "cancel: a client that disconnects has its call cancelled promptly" "after_ms=$ms" "$(tail -3 main.log)"

# ---------------------------------------------------------------------------
# Metrics

curl -s "http://127.0.0.1:$PORT/metrics" > m1.txt
grep -q "^mcpg_info{.*digest=\"$digest\"" m1.txt && ok "metrics: mcpg_info names the digest" ||
	fail "metrics: mcpg_info names the digest" "$(grep info m1.txt)"
grep -q '^mcpg_http_requests_total{method="POST",status="403"} 2' m1.txt &&
	grep -q '^mcpg_http_request_duration_seconds_bucket{le="+Inf"}' m1.txt &&
	grep -q '^mcpg_sessions [1-9]' m1.txt && grep -q '^mcpg_request_timeouts_total 1' m1.txt &&
	ok "metrics: requests by method and status, latency, sessions, timeouts" ||
	fail "metrics: requests by method and status, latency, sessions, timeouts" "$(grep -v '^#' m1.txt | head -30)"
grep -q '"msg":"request".*"status":403' main.log && ok "access log: one line per request" ||
	fail "access log: one line per request" "$(tail -3 main.log)"

# ---------------------------------------------------------------------------
# GET stream, reload, replay

curl -s -N -m 8 -H 'Accept: text/event-stream' -H "$(S)" "$U" > stream.out 2> /dev/null &
SPID=$!
sleep 0.3
cfg b.yaml "$PORT" "    on_request_timeout: jsonrpc_error
    replay_window_limit: 1" 5000 150
"$MCPGC" build b.yaml -o next.img > /dev/null 2>&1 && mv next.img live.img
n=100
while [ "$n" -gt 0 ] && ! grep -q 'config reloaded' main.log; do sleep 0.02; n=$((n - 1)); done
grep -q 'config reloaded.*"source":"inotify"' main.log && ok "reload: renaming a new image into place reloads" ||
	fail "reload: renaming a new image into place reloads" "$(tail -3 main.log)"
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":40,"method":"tools/list"}'
want "reload: sessions survive and tools/list changes" 200 '"name":"gen000"'
grep -q '"nextCursor":"' out.body && [ "$(grep -o '"name":"' out.body | wc -l)" -eq 100 ] &&
	ok "pagination: first page of 100 with nextCursor" || fail "pagination: first page of 100 with nextCursor" "$(head -c 300 out.body)"
cur=$(sed -n 's/.*"nextCursor":"\([^"]*\)".*/\1/p' out.body)
rpc -H "$J" -H "$AJ" -H "$(S)" -d "{\"jsonrpc\":\"2.0\",\"id\":41,\"method\":\"tools/list\",\"params\":{\"cursor\":\"$cur\"}}"
[ "$CODE" = 200 ] && ! grep -q nextCursor out.body && [ "$(grep -o '"name":"' out.body | wc -l)" -eq 52 ] &&
	ok "pagination: last page without nextCursor" || fail "pagination: last page without nextCursor" "$(head -c 300 out.body)"
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":42,"method":"tools/list","params":{"cursor":"bogus"}}'
want "pagination: a bad cursor is -32602" 200 '"code":-32602'
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":43,"method":"tools/call","params":{"name":"slow"}}'
want "reload: on_request_timeout jsonrpc_error applies without restart" 200 '"code":-32001'
sleep 0.2
grep -q 'notifications/tools/list_changed' stream.out && grep -q '^id: 1' stream.out &&
	ok "GET stream: list_changed after the reload" || fail "GET stream: list_changed after the reload" "$(cat stream.out)"

printf 'this is not an image\n' > bad.img
mv bad.img live.img
n=100
while [ "$n" -gt 0 ] && ! grep -q 'reload failed' main.log; do sleep 0.02; n=$((n - 1)); done
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":44,"method":"tools/list"}'
grep -q 'reload failed' main.log && [ "$CODE" = 200 ] && grep -q gen000 out.body &&
	ok "reload: a corrupt image leaves the old one serving" ||
	fail "reload: a corrupt image leaves the old one serving" "$(tail -3 main.log)"
curl -s "http://127.0.0.1:$PORT/metrics" > m2.txt
grep -q '^mcpg_config_reloads_total 1' m2.txt && grep -q '^mcpg_config_reload_failures_total 1' m2.txt &&
	ok "metrics: reloads and reload failures counted" ||
	fail "metrics: reloads and reload failures counted" "$(grep reload m2.txt)"

# A second change of the tool names: two events, the window keeps one.
cfg c.yaml "$PORT" "    replay_window_limit: 1" 5000 3
"$MCPGC" build c.yaml -o next.img > /dev/null 2>&1 && mv next.img live.img
sleep 0.3
code=$(curl -s -o replay.out -m 1 -w '%{http_code}' -H 'Accept: text/event-stream' -H "$(S)" -H 'Last-Event-ID: 1' "$U")
grep -q '^id: 2' replay.out && ok "GET stream: Last-Event-ID replays what came after" ||
	fail "GET stream: Last-Event-ID replays what came after" "$code $(cat replay.out)"
code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' -H 'Accept: text/event-stream' -H "$(S)" -H 'Last-Event-ID: 0' "$U")
[ "$code" = 409 ] && ok "GET stream: 409 for a cursor older than the replay window" ||
	fail "GET stream: 409 for a cursor older than the replay window" "status $code"
code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' -H 'Accept: application/json' -H "$(S)" "$U")
[ "$code" = 406 ] && ok "GET stream: 406 without text/event-stream in Accept" ||
	fail "GET stream: 406 without text/event-stream in Accept" "status $code"
kill "$SPID" 2> /dev/null
wait "$SPID" 2> /dev/null

# Restart keys are reported, not applied.
P2=$(free_port)
cfg d.yaml "$P2"
"$MCPGC" build d.yaml -o next.img > /dev/null 2>&1 && mv next.img live.img
n=100
while [ "$n" -gt 0 ] && ! grep -q 'need a restart' main.log; do sleep 0.02; n=$((n - 1)); done
grep -q 'need a restart.*gateway.server.bind_address' main.log &&
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ready")" = 200 ] &&
	ok "reload: a changed restart key is reported and the listener stays" ||
	fail "reload: a changed restart key is reported and the listener stays" "$(grep -i restart main.log)"

# ---------------------------------------------------------------------------
# Drain: /ready 503 on a kept-alive connection, the call in flight finishes, exit 0

cat > drain.py << 'EOF'
import http.client, os, signal, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
c.request("GET", "/ready"); r = c.getresponse(); r.read(); before = r.status
os.kill(pid, signal.SIGTERM)
time.sleep(0.3)
c.request("GET", "/ready"); r = c.getresponse(); r.read(); during = r.status
print(before, during)
EOF
# The call must outlive the python start-up and the 0.3 s wait even on a
# loaded machine, or mcpg has drained and exited before the second /ready.
TIMEOUT=6000 cfg e.yaml "$PORT" "" 2500
unset TIMEOUT
"$MCPGC" build e.yaml -o next.img > /dev/null 2>&1 && mv next.img live.img
sleep 0.3
init
curl -s -m 10 -o drain.body -w '%{http_code}' -X POST -H "$J" -H "$AJ" -H "$(S)" \
	-d '{"jsonrpc":"2.0","id":50,"method":"tools/call","params":{"name":"slow"}}' "$U" > drain.code &
DPID=$!
sleep 0.1
python3 drain.py "$PORT" "$PID" > drain.out 2>&1
[ "$(cat drain.out)" = "200 503" ] && ok "drain: /ready turns 503 during drain" ||
	fail "drain: /ready turns 503 during drain" "$(cat drain.out)"
[ "$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$PORT/health")" = 000 ] &&
	ok "drain: new connections are refused" || fail "drain: new connections are refused"
wait "$DPID"
[ "$(cat drain.code)" = 200 ] && grep -q '"slow":true' drain.body &&
	ok "drain: the call in flight completes" || fail "drain: the call in flight completes" "$(cat drain.code drain.body)"
wait "$PID"
rc=$?
[ "$rc" -eq 0 ] && ok "drain: exit status 0" || fail "drain: exit status 0" "status $rc" "$(tail -3 main.log)"

# ---------------------------------------------------------------------------
# MCPG_CONFIG, SIGHUP, idle eviction

cfg f.yaml "$PORT" "    session_idle_timeout_ms: 800" 800
mkdir -p tmp
TMPDIR=$PWD/tmp MCPG_CONFIG=$PWD/f.yaml boot "MCPG_CONFIG: builds a private image and serves it" cfg.log || exit 0
init
rpc -H "$J" -H "$A" -H "$(S)" -d "$PING"
want "idle eviction: a fresh session answers" 200
sleep 1.8
rpc -H "$J" -H "$A" -H "$(S)" -d "$PING"
want "idle eviction: gone after session_idle_timeout_ms" 404
sed 's/name: echo/name: echo2/' f.yaml > f2.yaml && mv f2.yaml f.yaml
kill -HUP "$PID"
n=100
while [ "$n" -gt 0 ] && ! grep -q 'config reloaded' cfg.log; do sleep 0.02; n=$((n - 1)); done
grep -q 'config reloaded.*"source":"sighup"' cfg.log && ok "SIGHUP: rebuilds MCPG_CONFIG and reloads" ||
	fail "SIGHUP: rebuilds MCPG_CONFIG and reloads" "$(tail -3 cfg.log)"
init
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":60,"method":"tools/list"}'
want "SIGHUP: the new tools are served" 200 '"name":"echo2"'

# Progress notifications stream before the result (mock delay 800 ms).
curl -s -N -m 10 -o progress.out -w '%{time_starttransfer} %{time_total}' -X POST -H "$J" -H "$A" \
	-H "$(S)" -d '{"jsonrpc":"2.0","id":61,"method":"tools/call","params":{"name":"slow","_meta":{"progressToken":"p-1"}}}' \
	"$U" > progress.time
first=$(cut -d' ' -f1 < progress.time)
total=$(cut -d' ' -f2 < progress.time)
np=$(grep -c 'notifications/progress' progress.out)
if [ "$np" -ge 3 ] && tail -3 progress.out | grep -q '"id":61,"result"' &&
	awk -v f="$first" -v t="$total" 'BEGIN { exit !(t - f > 0.4) }'; then
	ok "SSE: progress notifications stream before the result"
else
	fail "SSE: progress notifications stream before the result" "first byte $first s, total $total s, $np progress" "$(head -c 400 progress.out)"
fi

kill -TERM "$PID"
wait "$PID"
rc=$?
[ "$rc" -eq 0 ] && ok "SIGTERM: exit 0 with nothing in flight" || fail "SIGTERM: exit 0 with nothing in flight" "status $rc"
[ -z "$(ls -A tmp 2> /dev/null)" ] && ok "MCPG_CONFIG: the private image is removed at exit" ||
	fail "MCPG_CONFIG: the private image is removed at exit" "$(ls -lR tmp)"

# ---------------------------------------------------------------------------
# ${env.*} at boot

MP=$(free_port)
cat > env.yaml << EOF
gateway:
  server:
    bind_address: "\${env.MCPG_T4100_BIND}"
    max_sessions_per_tenant: 1
observability:
  logs:
    sinks:
      - {kind: stderr, config: {format: json}}
      - {kind: file, config: {path: pretty.log, format: pretty}}
  metrics:
    sinks:
      - kind: dev.mcpg.observability.prometheus
        config: {path: /m, bind: "127.0.0.1:$MP"}
cluster:
  kind: single_node
governance:
  audit:
    enabled: false
mcp:
  capabilities:
    tools:
      - name: echo
        description: Echo.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock}
EOF
"$MCPGC" build env.yaml -o env.img > /dev/null 2>&1
env -u MCPG_T4100_BIND "$MCPG" --image env.img > env.out 2> env.err
rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l < env.err)" -eq 1 ] &&
	grep -q "'gateway.server.bind_address': environment variable 'MCPG_T4100_BIND' is not set" env.err &&
	ok "env: an unset variable stops boot naming key and variable" ||
	fail "env: an unset variable stops boot naming key and variable" "status $rc" "$(cat env.err)"
MCPG_T4100_BIND="127.0.0.1:$PORT" boot "env: the resolved bind address is served" env.log --image env.img
init
rpc -H "$J" -H "$A" -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}'
want "max_sessions_per_tenant: initialize over the limit is 429" 429
curl -s "http://127.0.0.1:$MP/m" | grep -q '^mcpg_info{' && ok "metrics: served on the sink's own bind listener" ||
	fail "metrics: served on the sink's own bind listener"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/m")" = 404 ] &&
	ok "metrics: not on the main listener when bind is set" || fail "metrics: not on the main listener when bind is set"
grep -q ' info  ready bind_address=' pretty.log && grep -q '"msg":"ready"' env.log &&
	ok "logs: every sink gets each line, in its format" || fail "logs: every sink gets each line, in its format" "$(cat pretty.log)"
kill -TERM "$PID"
wait "$PID"
MCPG_T4100_BIND="not an address" "$MCPG" --image env.img > env.out 2> env.err
rc=$?
[ "$rc" -eq 1 ] && grep -q "bind_address" env.err && ok "env: a resolved value is checked against its format" ||
	fail "env: a resolved value is checked against its format" "status $rc" "$(cat env.err)"

# ---------------------------------------------------------------------------
# A Kubernetes ConfigMap volume: config.img -> ..data/config.img, and an
# update renames a new ..data symlink into place.

mkdir -p cm/..v1 cm/..v2
cfg k1.yaml "$PORT"
sed 's/name: echo/name: echo.v2/' k1.yaml > k2.yaml
"$MCPGC" build k1.yaml -o cm/..v1/config.img > /dev/null 2>&1
"$MCPGC" build k2.yaml -o cm/..v2/config.img > /dev/null 2>&1
ln -s ..v1 cm/..data
ln -s ..data/config.img cm/config.img
boot "ConfigMap: boots through the symlinks" cm.log --image "$PWD/cm/config.img"
ln -s ..v2 cm/..data_tmp
mv -T cm/..data_tmp cm/..data
n=100
while [ "$n" -gt 0 ] && ! grep -q 'config reloaded' cm.log; do sleep 0.02; n=$((n - 1)); done
init
rpc -H "$J" -H "$AJ" -H "$(S)" -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
want "ConfigMap: the ..data swap reloads" 200 '"name":"echo.v2"'
kill -TERM "$PID"
wait "$PID"

# ---------------------------------------------------------------------------
# Per-IP rate limit below verified trust

RATE=60 cfg rl.yaml "$PORT" "    anonymous_rate_limit_burst: 3"
"$MCPGC" build rl.yaml -o rl.img > /dev/null 2>&1
boot "rate limit: boots" rl.log --image rl.img
for i in 1 2 3 4; do
	rpc -H "$J" -H "$A" -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}'
	echo "$CODE" >> rl.codes
done
[ "$(tr '\n' ' ' < rl.codes)" = "200 200 200 429 " ] && grep -qi '^retry-after: [0-9]' out.hdr &&
	grep -q '"code":-32099' out.body && ok "rate limit: the burst passes, then 429 with Retry-After" ||
	fail "rate limit: the burst passes, then 429 with Retry-After" "$(cat rl.codes out.hdr out.body)"
rpc -H "$J" -H "$A" -H 'X-Forwarded-For: 192.0.2.7' -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}'
want "rate limit: X-Forwarded-For from a trusted proxy names the client" 200
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" = 200 ] &&
	ok "rate limit: probes are not limited" || fail "rate limit: probes are not limited"
kill -TERM "$PID"
wait "$PID"

# ---------------------------------------------------------------------------
# TLS on the listener, with client certificates

if ! command -v openssl > /dev/null 2>&1; then
	skip "TLS" "openssl (the command) is not installed"
	exit 0
fi
mkcert() { openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 1 -subj "/CN=$2" 2> /dev/null; }
mkcert srv localhost && mkcert ca t4100-ca && mkcert other other &&
	openssl req -newkey rsa:2048 -nodes -keyout cl.key -out cl.csr -subj /CN=client 2> /dev/null &&
	openssl x509 -req -in cl.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cl.pem -days 1 2> /dev/null ||
	fail "TLS: test certificates" "openssl failed"
tlscfg() {
	cfg tls.yaml "$PORT" "    tls:
      cert_path: $PWD/srv.pem
      key_path: $PWD/srv.key
$1"
	"$MCPGC" build tls.yaml -o tls.img > /dev/null 2>&1 || fail "TLS: build" "$(cat tls.yaml)"
}
https() { curl -sk -o /dev/null -w '%{http_code}' -m 3 "$@" "https://127.0.0.1:$PORT/health"; }
wait_tls() {
	n=250
	while [ "$n" -gt 0 ]; do
		kill -0 "$PID" 2> /dev/null || return 1
		[ "$(https "$@")" = 200 ] && return 0
		sleep 0.02
		n=$((n - 1))
	done
	return 1
}

tlscfg "      min_tls_version: \"1.3\""
"$MCPG" --image tls.img 2> tls.log &
PID=$!
PIDS="$PIDS $PID"
wait_tls && ok "TLS: the listener serves HTTPS" || fail "TLS: the listener serves HTTPS" "$(cat tls.log)"
[ "$(https --tls-max 1.2)" = 000 ] && ok "TLS: min_tls_version 1.3 refuses TLS 1.2" ||
	fail "TLS: min_tls_version 1.3 refuses TLS 1.2"
[ "$(curl -s -o /dev/null -w '%{http_code}' -m 3 "http://127.0.0.1:$PORT/health")" = 000 ] &&
	ok "TLS: plain HTTP gets no answer" || fail "TLS: plain HTTP gets no answer"
kill -TERM "$PID"
wait "$PID"

tlscfg "      client_cert_required: mandatory
      client_ca_certs_path: $PWD/ca.pem"
"$MCPG" --image tls.img 2> tls.log &
PID=$!
PIDS="$PIDS $PID"
wait_tls --cert cl.pem --key cl.key && ok "mTLS: a certificate from the client CA is accepted" ||
	fail "mTLS: a certificate from the client CA is accepted" "$(cat tls.log)"
[ "$(https)" = 403 ] && ok "mTLS: mandatory refuses a client without a certificate" ||
	fail "mTLS: mandatory refuses a client without a certificate"
[ "$(https --cert other.pem --key other.key)" = 403 ] &&
	ok "mTLS: a certificate from another CA is refused" || fail "mTLS: a certificate from another CA is refused"
kill -TERM "$PID"
wait "$PID"

tlscfg "      client_cert_required: optional
      client_ca_certs_path: $PWD/ca.pem"
"$MCPG" --image tls.img 2> tls.log &
PID=$!
PIDS="$PIDS $PID"
wait_tls && ok "mTLS: optional admits a client without a certificate" ||
	fail "mTLS: optional admits a client without a certificate" "$(cat tls.log)"
[ "$(https --cert other.pem --key other.key)" = 403 ] &&
	ok "mTLS: optional still refuses an untrusted certificate" ||
	fail "mTLS: optional still refuses an untrusted certificate"
kill -TERM "$PID"
wait "$PID"
