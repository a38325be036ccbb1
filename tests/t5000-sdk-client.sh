# t5000 - the official MCP TypeScript SDK client (Client +
# StreamableHTTPClientTransport, in ../shared/conformance/mcp-client.mjs)
# against mcpg on 127.0.0.1: initialize, tools/list, tools/call on each
# backend kind (mock, http against a local HTTP server this suite starts,
# command running /bin/cat), a tool error, ping and DELETE, and the wire
# exchange seen through the client's --trace.
#
# Node 22 and the SDK come from npm through scripts/node-deps; the suite is
# skipped, saying so, only when the npm registry cannot be reached or
# ../shared/conformance is absent.
. "$TOP/tests/lib.sh"
. "$TOP/tests/conformance/node.sh"

node_setup
case $? in
0) ;;
3)
	# CI reaches the registry: there an unreachable one is a failure.
	if [ "${CI:-}" = true ]; then
		fail "scripts/node-deps reaches the npm registry (CI=true)" "$NODE_WHY"
		exit 0
	fi
	skip "SDK client" "npm registry unreachable, cannot install Node 22 and the SDK: $NODE_WHY"
	exit 0
	;;
*)
	fail "scripts/node-deps installs Node 22 and the SDK" "$NODE_WHY"
	exit 0
	;;
esac
client=$(node_script mcp-client.mjs) || {
	skip "SDK client" "$SHARED_CONF/mcp-client.mjs is absent (the shared/ folder beside the checkout)"
	exit 0
}

MCPG_PID= ECHO_PID=
trap 'stop_pid "$MCPG_PID"; stop_pid "$ECHO_PID"' EXIT INT TERM

# The http backend's target: answers every GET and POST with a JSON object
# naming the method, the path, the query and the body it received.
cat > echo.py << 'EOF'
import json, sys, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def answer(self, body):
        u = urllib.parse.urlsplit(self.path)
        doc = {"echo": self.command, "path": u.path,
               "query": dict(urllib.parse.parse_qsl(u.query)),
               "body": json.loads(body) if body else None}
        out = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def do_GET(self):
        self.answer(b"")
    def do_POST(self):
        self.answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
    def log_message(self, *a):
        pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1], "w") as f:
    f.write(str(s.server_address[1]))
s.serve_forever()
EOF
python3 echo.py echo.port &
ECHO_PID=$!

n=250
while [ ! -s echo.port ] && [ "$n" -gt 0 ]; do sleep 0.02; n=$((n - 1)); done
echo_port=$(cat echo.port 2> /dev/null)
port=$(free_port)
url=http://127.0.0.1:$port/mcp

cat > sdk.yaml << EOF
gateway:
  server:
    bind_address: "127.0.0.1:$port"
    mcp_path: /mcp
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
      - name: sdk.mock.echo
        description: A canned JSON object.
        governance: {minimum_trust: unauthenticated}
        backend:
          kind: mock
          response: {ok: true, source: t5000-mock}
      - name: sdk.mock.fail
        description: Always a tool error.
        governance: {minimum_trust: unauthenticated}
        backend:
          kind: mock
          error: true
          error_message: t5000 mock failure
      - name: sdk.http.get
        description: GET on the local echo server, arguments as the query.
        governance: {minimum_trust: unauthenticated}
        backend:
          kind: http
          method: get
          url: "http://127.0.0.1:$echo_port/items/\${arguments.id}"
          allow_private_backends: true
      - name: sdk.http.post
        description: POST to the local echo server, arguments as the body.
        governance: {minimum_trust: unauthenticated}
        backend:
          kind: http
          method: post
          url: "http://127.0.0.1:$echo_port/submit"
          allow_private_backends: true
      - name: sdk.command.cat
        description: /bin/cat echoes the arguments document.
        governance: {minimum_trust: unauthenticated}
        backend:
          kind: command
          command: /bin/cat
EOF
if ! "$MCPGC" build sdk.yaml -o sdk.img > build.out 2>&1; then
	fail "mcpgc builds the SDK-client config" "$(cat build.out)"
	exit 0
fi
mcpg_start sdk.img mcpg.log
if ! wait_http "http://127.0.0.1:$port/ready" 5000 "$MCPG_PID"; then
	if grep -q 'HTTP runtime is not built yet' mcpg.log 2> /dev/null; then
		skip "SDK client" "build/mcpg does not serve HTTP yet (the runtime of issue 4)"
	else
		fail "mcpg answers /ready within 5 s" "$(tail -20 mcpg.log)"
	fi
	exit 0
fi
[ -n "$echo_port" ] || fail "the local echo server starts" "no port written"

# sdk ID WANT_RC ARGS...: run the client; keeps stdout in out.ID, stderr in
# err.ID.  The case fails on another exit status.
sdk() {
	_id=$1 _want=$2
	shift 2
	"$N22" "$client" "$url" "$@" > "out.$_id" 2> "err.$_id"
	_rc=$?
	[ "$_rc" -eq "$_want" ] && return 0
	fail "the SDK client's '$_id' session exits $_want" "exit status $_rc" "$(cat "out.$_id" "err.$_id" | head -30)"
	return 1
}
# has ID FILE TEXT...: the case passes when FILE holds every TEXT.
has() {
	_id=$1 _f=$2
	shift 2
	for _s in "$@"; do
		grep -qF -- "$_s" "$_f" || {
			fail "$_id" "missing: $_s" "$(head -30 "$_f")"
			return 1
		}
	done
	ok "$_id"
}

# result_has ID TEXT...: the tool result the client printed (its first 400
# characters, JSON-escaped) holds every TEXT.
result_has() {
	_id=$1
	shift
	_r=$(sed -n 's/^  result: //p' "out.$_id")
	for _s in "$@"; do
		case $_r in
		*"$_s"*) ;;
		*) echo "missing: $_s"; echo "$_r"; return 1 ;;
		esac
	done
}

# One full session with the wire trace: initialize, tools/list, a mock
# call, ping, DELETE.
if sdk trace 0 --tool sdk.mock.echo --trace; then
	has "initialize negotiates 2025-11-25 and returns a session" out.trace \
		"protocolVersion: 2025-11-25" '"name":"mcpg"'
	sid=$(sed -n 's/^  session: //p' out.trace)
	case $sid in
	*stateless* | "") fail "initialize returns an Mcp-Session-Id" "$(head -5 out.trace)" ;;
	*) ok "initialize returns an Mcp-Session-Id" ;;
	esac
	caps=$(sed -n 's/^  capabilities: //p' out.trace)
	case $caps in
	*'"tools"'*) ok "the capabilities name tools" ;;
	*) fail "the capabilities name tools" "$caps" ;;
	esac
	has "tools/list returns the five tools" out.trace "5 tools" "- sdk.mock.echo:" \
		"- sdk.mock.fail:" "- sdk.http.get:" "- sdk.http.post:" "- sdk.command.cat:"
	id="tools/call on a mock tool returns its response as text and structuredContent"
	d=$(result_has trace 't5000-mock' '"structuredContent":') && ok "$id" || fail "$id" "$d"
	has "ping answers" out.trace "ping: "
	has "DELETE ends the session" out.trace "close (DELETE session + close)"
	grep -q 'DELETE session failed' out.trace &&
		fail "DELETE is accepted" "$(grep 'DELETE session failed' out.trace)" || ok "DELETE is accepted"

	# The wire: what the SDK sent and what mcpg answered, one line each.
	w() { grep -E "^\[http\] $1" err.trace | head -1; }
	line=$(w 'POST initialize -> 200 ')
	case $line in
	*'application/json'* | *'text/event-stream'*) ok "wire: POST initialize -> 200" ;;
	*) fail "wire: POST initialize -> 200" "$(cat err.trace)" ;;
	esac
	line=$(w 'POST notifications/initialized -> ')
	case $line in
	*'-> 202 '*'sent-pv=2025-11-25'*) ok "wire: notifications/initialized -> 202 with MCP-Protocol-Version" ;;
	*) fail "wire: notifications/initialized -> 202 with MCP-Protocol-Version" "$(cat err.trace)" ;;
	esac
	line=$(w 'GET ')
	case $line in
	*'-> 200 text/event-stream'* | *'-> 405 '*) ok "wire: GET opens the session's SSE stream (or 405)" ;;
	*) fail "wire: GET opens the session's SSE stream (or 405)" "${line:-no GET}" "$(cat err.trace)" ;;
	esac
	for m in tools/list tools/call ping; do
		line=$(w "POST $m -> ")
		case $line in
		*"-> 200 "*"sid=$sid"*) ok "wire: POST $m -> 200 on the session" ;;
		*) fail "wire: POST $m -> 200 on the session" "${line:-no $m}" "$(cat err.trace)" ;;
		esac
	done
	line=$(w 'DELETE ')
	case $line in
	*'-> 200 '* | *'-> 204 '*) ok "wire: DELETE -> 200 or 204" ;;
	*) fail "wire: DELETE -> 200 or 204" "${line:-no DELETE}" "$(cat err.trace)" ;;
	esac
	# After DELETE the session is gone: 404 on its id.
	code=$(curl -s -o gone.body -w '%{http_code}' --max-time 5 -H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' -H "Mcp-Session-Id: $sid" \
		-H 'MCP-Protocol-Version: 2025-11-25' -d '{"jsonrpc":"2.0","id":9,"method":"ping"}' "$url")
	[ "$code" = 404 ] && ok "the deleted session answers 404" ||
		fail "the deleted session answers 404" "HTTP $code" "$(cat gone.body)"
fi

if sdk fail 2 --tool sdk.mock.fail; then
	id="a mock error is a tool result with isError and its message"
	d=$(result_has fail '"isError":true' 't5000 mock failure') && ok "$id" || fail "$id" "$d"
fi

if sdk get 0 --tool sdk.http.get --args '{"id":"a b/c","q":"hello"}'; then
	id="http GET: templated path, percent-encoded, and the arguments as the query"
	d=$(result_has get 'echo' 'GET' '/items/a%20b%2Fc' 'hello') && ok "$id" || fail "$id" "$d"
fi

if sdk post 0 --tool sdk.http.post --args '{"n":7,"s":"t5000-post"}'; then
	id="http POST: the arguments as a JSON body"
	d=$(result_has post 'POST' '/submit' 't5000-post') && ok "$id" || fail "$id" "$d"
fi

if sdk cat 0 --tool sdk.command.cat --args '{"msg":"t5000-cat","n":[1,2]}'; then
	id="command /bin/cat: the arguments arrive on stdin as one JSON document"
	d=$(result_has cat 't5000-cat') && ok "$id" || fail "$id" "$d"
fi

# An unknown tool: a JSON-RPC error (client exit 1) or a tool error (exit 2).
"$N22" "$client" "$url" --tool sdk.no.such.tool > out.unknown 2> err.unknown
case $? in
1 | 2) ok "an unknown tool is an error the SDK reports" ;;
*) fail "an unknown tool is an error the SDK reports" "$(cat out.unknown err.unknown)" ;;
esac

if kill -0 "$MCPG_PID" 2> /dev/null; then
	ok "mcpg is still up after the SDK sessions"
else
	fail "mcpg is still up after the SDK sessions" "$(tail -20 mcpg.log)"
fi
