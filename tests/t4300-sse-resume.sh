# t4300 - resumable POST streams (SEP-1699, protocol 2025-11-25): a call
# answered as SSE starts with a priming event (an id, a retry interval, no
# data); a client that loses the connection gets the rest of that stream,
# and only that stream, with a GET carrying Last-Event-ID; the call is not
# cancelled by the lost connection.  Sessions on older protocol versions get
# neither the priming event nor resumption, and losing the connection
# cancels their call as before.
. "$TOP/tests/lib.sh"

PORT=$(free_port)
cat > c.yaml << EOF
gateway:
  server:
    bind_address: "127.0.0.1:$PORT"
    request_timeout_ms: 10000
cluster:
  kind: single_node
governance:
  audit:
    enabled: false
mcp:
  capabilities:
    tools:
      - name: slow
        description: Slow.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {slow: true}, delay_ms: 800}
      - name: quick
        description: Quick.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {quick: true}}
EOF
"$MCPGC" build c.yaml -o c.img > build.log 2>&1 || { fail "build the image" "$(cat build.log)"; exit 0; }
"$MCPG" --image c.img 2> mcpg.log &
PID=$!
trap 'kill -KILL $PID 2> /dev/null' EXIT INT TERM
n=250
while [ "$n" -gt 0 ] && [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 "http://127.0.0.1:$PORT/ready")" != 200 ]; do
	sleep 0.02
	n=$((n - 1))
done

cat > resume.py << 'EOF'
import http.client, json, socket, sys, time

port = int(sys.argv[1])
H = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}

def conn():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)

def init(version):
    c = conn()
    c.request("POST", "/mcp", json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": version, "capabilities": {},
                         "clientInfo": {"name": "t4300", "version": "1"}}}), H)
    r = c.getresponse(); r.read()
    sid = r.getheader("Mcp-Session-Id")
    h = dict(H, **{"Mcp-Session-Id": sid, "MCP-Protocol-Version": version})
    c.request("POST", "/mcp", '{"jsonrpc":"2.0","method":"notifications/initialized"}', h)
    r = c.getresponse(); r.read()
    return h

def events(resp, limit=None):
    """SSE events as dicts of fields, read until `limit` events or the end."""
    out, ev = [], {}
    while limit is None or len(out) < limit:
        line = resp.readline()
        if not line:
            break
        line = line.decode().rstrip("\r\n")
        if not line:
            if ev:
                out.append(ev)
            ev = {}
            continue
        if line.startswith(":"):
            continue
        k, _, v = line.partition(":")
        ev[k] = ev.get(k, "") + v[1:] if v.startswith(" ") else ev.get(k, "") + v
    return out

def call(h, rid, name):
    c = conn()
    c.request("POST", "/mcp", json.dumps({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
              "params": {"name": name, "arguments": {}}}), h)
    return c, c.getresponse()

res = {}
# 1. The priming event comes first, at once, with an id and a retry field.
h = init("2025-11-25")
t0 = time.time()
c, r = call(h, 10, "slow")
first = events(r, 1)[0]
res["prime_fast"] = time.time() - t0 < 0.5
res["prime"] = "id" in first and first.get("retry") == "500" and first.get("data", "") == ""
rest = events(r)
res["result_on_post"] = len(rest) == 1 and json.loads(rest[0]["data"])["id"] == 10 \
    and "id" in rest[0]
c.close()

# 2. Drop the POST's connection after the priming event, resume with GET.
c, r = call(h, 11, "slow")
prime = events(r, 1)[0]["id"]
c.sock.shutdown(socket.SHUT_RDWR); c.close()
# An event of the session's own GET stream must not leak into the resumed one.
c2 = conn()
c2.request("POST", "/mcp", '{"jsonrpc":"2.0","id":12,"method":"logging/setLevel",'
           '"params":{"level":"debug"}}', h)
r2 = c2.getresponse(); r2.read()
g = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
g.request("GET", "/mcp", headers=dict(h, **{"Accept": "text/event-stream", "Last-Event-ID": prime}))
gr = g.getresponse()
res["get_status"] = gr.status
try:
    evs = events(gr)  # must end after the final message, not at the timeout
    res["resumed_ended"] = True
except socket.timeout:
    evs, res["resumed_ended"] = [], False
msgs = [json.loads(e["data"]) for e in evs if e.get("data")]
res["resumed"] = len(msgs) == 1 and msgs[0].get("id") == 11 and \
    '"slow"' in json.dumps(msgs[0].get("result"))

# 3. Resuming again from the same id replays the same result (kept in the ring).
g = conn()
g.request("GET", "/mcp", headers=dict(h, **{"Accept": "text/event-stream", "Last-Event-ID": prime}))
again = [json.loads(e["data"]) for e in events(g.getresponse()) if e.get("data")]
res["replay"] = len(again) == 1 and again[0].get("id") == 11

# 4. An older protocol version: no priming event, the result alone.
h6 = init("2025-06-18")
c, r = call(h6, 20, "slow")
evs = events(r)
res["old_no_prime"] = len(evs) == 1 and json.loads(evs[0]["data"])["id"] == 20
print(json.dumps(res))
EOF
timeout 60 python3 resume.py "$PORT" > resume.out 2> resume.err
for k in prime prime_fast result_on_post get_status resumed resumed_ended replay old_no_prime; do
	v=$(python3 -c "import json,sys; print(json.load(open('resume.out')).get('$k'))" 2> /dev/null)
	case $k in get_status) want=200 ;; *) want=True ;; esac
	# "resumed": the dropped POST's call was not cancelled, its result came back.
	[ "$v" = "$want" ] && ok "sse resume: $k" || fail "sse resume: $k" "got '$v'" "$(cat resume.out resume.err)"
done
kill -TERM "$PID"
wait "$PID"
rc=$?
[ "$rc" -eq 0 ] && ok "mcpg exits 0 on SIGTERM" || fail "mcpg exits 0 on SIGTERM" "status $rc" "$(tail -5 mcpg.log)"
