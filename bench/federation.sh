#!/bin/sh
# bench/federation.sh - what mcpg adds to a tools/call it forwards to an
# upstream MCP server: the conformance fixture server
# (../shared/conformance/fixture-server.mjs, Node SDK) called directly,
# against the same server called through mcpg (one upstream over Streamable
# HTTP, empty prefix), in one run.
#
#   bench/federation.sh
#   DURATION=10s ROUNDS=5 CONNS="1 32" bench/federation.sh
#
# For each connection count in CONNS (default "1 8"): ROUNDS rounds (3), each
# a DURATION (5s) wrk run of tools/call test_simple_text straight to the
# fixture server, then one through mcpg, taking turns so both see the same
# drift of a shared machine.  Requests are keep-alive, a unique JSON-RPC id
# each, all connections on one session (bench/tools-call.lua).  The table
# gives the median round of each (by p50) and the difference: the latency
# mcpg adds per call (p50, p99).  With 1 connection that is the pure
# per-call overhead (one more HTTP hop, JSON parse and dump, the worker
# hand-off); with more, queueing in the single-threaded Node server grows
# both columns.
#
# CPU: utime+stime of mcpg and of the Node server from /proc over each
# through-mcpg round; "mcpg CPU share" is mcpg's part of the two together,
# "mcpg CPU" its use of one core.  wrk runs on the same 2 CPUs.
#
# Everything listens on 127.0.0.1.  Needs wrk, curl, python3; Node 22 and
# the SDK come from scripts/node-deps.  Raw outputs go to
# build/bench/federation/.  The machine is shared: numbers drift with
# whatever else runs (the table names the load average before the run).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
TOP=$top
B=${B:-build}
out=$B/bench/federation
DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-1 8}
mkdir -p "$out"
. tests/conformance/node.sh
. tests/lib.sh

command -v wrk > /dev/null || { echo "bench/federation.sh: wrk is missing (make deps)" >&2; exit 2; }
[ -x "$B/mcpg" ] && [ -x "$B/mcpgc" ] || { echo "bench/federation.sh: build first (make)" >&2; exit 2; }
node_setup || { echo "bench/federation.sh: $NODE_WHY" >&2; exit 2; }
fx=$(node_script fixture-server.mjs) || { echo "bench/federation.sh: no $SHARED_CONF" >&2; exit 2; }

FX_PID= GW_PID=
trap 'set +e; stop_pid "$GW_PID"; stop_pid "$FX_PID"' EXIT INT TERM

fx_port=$(free_port)
gw_port=$(free_port)
"$N22" "$fx" --port "$fx_port" > "$out/fixture.log" 2>&1 &
FX_PID=$!
cat > "$out/gw.yaml" << EOF
gateway:
  server:
    bind_address: "127.0.0.1:$gw_port"
    allowed_origins: []
    anonymous_rate_limit_per_min: 0
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
  upstreams:
    - name: fixture
      prefix: ""
      transport: {kind: http, url: "http://127.0.0.1:$fx_port/mcp"}
      governance: {minimum_trust: unauthenticated}
EOF
"$B/mcpgc" build "$out/gw.yaml" -o "$out/gw.img" > /dev/null
n=0
until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$fx_port/"; do
	n=$((n + 1)); [ $n -lt 500 ] || { echo "fixture server did not start" >&2; exit 1; }
	sleep 0.02
done
"$B/mcpg" --image "$out/gw.img" > "$out/mcpg.log" 2>&1 &
GW_PID=$!
n=0
until curl -s --max-time 1 "http://127.0.0.1:$gw_port/ready" | grep -q '"state":"up"'; do
	n=$((n + 1)); [ $n -lt 500 ] || { echo "mcpg did not see its upstream up" >&2; exit 1; }
	sleep 0.02
done

# session URL: initialize + notifications/initialized; prints the session id.
session() {
	sid=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' \
		-d '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}' \
		"$1" | awk 'tolower($1)=="mcp-session-id:"{print $2}' | tr -d '\r')
	curl -s -o /dev/null -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
		-H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 2025-11-25' \
		-d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$1"
	echo "$sid"
}

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

direct_url=http://127.0.0.1:$fx_port/mcp
gw_url=http://127.0.0.1:$gw_port/mcp
direct_sid=$(session "$direct_url")
gw_sid=$(session "$gw_url")
load=$(cut -d' ' -f1-3 /proc/loadavg)

# run NAME URL SID CONNS ROUND: one wrk run; raw output in $out.
run() {
	MCP_SESSION_ID=$3 wrk -t1 -c"$4" -d"$DURATION" --latency -s bench/tools-call.lua "$2" \
		> "$out/$1-c$4-r$5.txt" 2>&1
}

: > "$out/rows"
for c in $CONNS; do
	# Warm-up (JIT of the Node server, curl connections of mcpg).
	DURATION=2s run warm "$direct_url" "$direct_sid" "$c" 0
	DURATION=2s run warm "$gw_url" "$gw_sid" "$c" 0
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		run direct "$direct_url" "$direct_sid" "$c" "$r"
		g0=$(ticks "$GW_PID") f0=$(ticks "$FX_PID") t0=$(date +%s%N)
		run mcpg "$gw_url" "$gw_sid" "$c" "$r"
		g1=$(ticks "$GW_PID") f1=$(ticks "$FX_PID") t1=$(date +%s%N)
		echo "cpu $c $r $((g1 - g0)) $((f1 - f0)) $(((t1 - t0) / 1000000))" >> "$out/rows"
		r=$((r + 1))
	done
done

python3 - "$out" "$ROUNDS" "$hz" "$load" $CONNS << 'EOF'
import re, sys, statistics
out, rounds, hz, load = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
conns = sys.argv[5:]

def parse(path):
    t = open(path).read()
    g = lambda k: float(re.search(k, t).group(1))
    errs = re.search(r"ok=(\d+) http_non200=(\d+) rpc_error_or_isError=(\d+) socket_errors\S*=(\d+)/(\d+)/(\d+)/(\d+)", t)
    return {"rps": g(r"requests/s: ([\d.]+)"), "p50": g(r"latency p50: ([\d.]+)"),
            "p99": g(r"latency p99: ([\d.]+)"),
            "errors": sum(int(x) for x in errs.groups()[1:]) if errs else -1}

cpu = {}
for line in open(f"{out}/rows"):
    _, c, r, g, f, ms = line.split()
    cpu.setdefault(c, []).append((int(g), int(f), int(ms)))

print(f"# bench/federation.sh: tools/call test_simple_text, fixture server direct vs through mcpg")
print(f"# {rounds} rounds per row, median round by p50; load average before: {load}")
print("| conns | path | req/s | p50 ms | p99 ms | errors |")
print("|---|---|---|---|---|---|")
summary = []
for c in conns:
    med = {}
    for name in ("direct", "mcpg"):
        runs = [parse(f"{out}/{name}-c{c}-r{r}.txt") for r in range(1, rounds + 1)]
        runs.sort(key=lambda x: x["p50"])
        m = runs[len(runs) // 2]
        m["errors"] = sum(x["errors"] for x in runs)
        med[name] = m
        print(f"| {c} | {name} | {m['rps']:.0f} | {m['p50']:.3f} | {m['p99']:.3f} | {m['errors']} |")
    g = sum(x[0] for x in cpu[c]); f = sum(x[1] for x in cpu[c]); ms = sum(x[2] for x in cpu[c])
    summary.append((c, med["mcpg"]["p50"] - med["direct"]["p50"],
                    med["mcpg"]["p99"] - med["direct"]["p99"],
                    100.0 * g / (g + f) if g + f else 0.0,
                    100.0 * g / hz / (ms / 1000.0) if ms else 0.0,
                    100.0 * f / hz / (ms / 1000.0) if ms else 0.0))
print()
print("| conns | added p50 ms | added p99 ms | mcpg CPU share (mcpg / mcpg+node) | mcpg CPU (% of a core) | node CPU (% of a core) |")
print("|---|---|---|---|---|---|")
for c, d50, d99, share, gcore, fcore in summary:
    print(f"| {c} | {d50:+.3f} | {d99:+.3f} | {share:.1f}% | {gcore:.1f}% | {fcore:.1f}% |")
EOF
