#!/bin/sh
# bench/audit.sh - what the audit ledger costs a tools/call: throughput and
# latency with audit off and on, side by side, and the ledger's records/s
# and fsyncs/s (group commit) under load.
#
#   bench/audit.sh                      3 rounds of 5 s per server and load
#   DURATION=10s ROUNDS=5 bench/audit.sh
#   AUDIT_DIR=/mnt/disk bench/audit.sh  put the ledger on another file system
#
# Three mcpg processes serve tests/conformance/mock.yaml: "off" as it is
# (governance.audit.enabled: false), "on" with the default audit block
# (enabled, fail_closed, allowed and completed records, fdatasync per
# batch) writing $AUDIT_DIR/audit.log (default build/bench/audit/), and
# "done" the same with emit_tool_call_allowed: false (one record per call,
# written after the backend ran) writing audit-done.log.  wrk drives
# tools/call test_simple_text on one session per server
# (bench/tools-call.lua, a unique JSON-RPC id per request) at two loads:
#   -c1   one connection: the latency one call pays (p50, p99)
#   -c32  32 keep-alive connections on 2 threads: throughput, and how many
#         records one fsync carries
# The servers take turns, ROUNDS rounds each, and the table gives each
# server's median round (by req/s) with that round's latencies.
# records/s and fsyncs/s come from mcpg_audit_records_total and
# mcpg_audit_fsyncs_total on /metrics, read before and after the round.
# With audit on, each call writes two records (allowed, then completed)
# and waits for each to be durable, so a call costs two fsync round trips
# at low load.
#
# fsync time depends on the disk and on whoever else writes to it: on a
# shared machine the numbers move with the neighbours.  Run it on an
# otherwise idle machine; the load average before the run is printed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

B=${B:-build}
out=$B/bench/audit
DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
mkdir -p "$out"
out=$(cd "$out" && pwd)
AUDIT_DIR=${AUDIT_DIR:-$out}
say() { echo "bench: $*" >&2; }

command -v wrk > /dev/null || { say "wrk is missing (make deps installs it)"; exit 2; }
if [ -n "${SANITIZE:-}" ]; then
	say "SANITIZE is set; unset it to measure the -O2 build"
	exit 2
fi
make --no-print-directory -j2 B="$B" all >&2
cp "$B/mcpg" "$out/mcpg"
cp "$B/mcpgc" "$out/mcpgc"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
port_off=$(free_port)
port_on=$(free_port)
port_done=$(free_port)
printf 'gateway:\n  server:\n    bind_address: "127.0.0.1:%s"\n' "$port_off" > "$out/off.yaml"
# layer NAME PORT LEDGER [AUDIT_KEY...]: audit on, writing LEDGER.
layer() {
	{
		printf 'gateway:\n  server:\n    bind_address: "127.0.0.1:%s"\n' "$2"
		printf 'governance:\n  audit:\n    enabled: true\n'
		printf '    sinks: [{kind: dev.mcpg.builtin.audit.local-file, config: {path: %s}}]\n' "$3"
		shift 3
		for k in "$@"; do printf '    %s\n' "$k"; done
	} > "$out/$1.yaml"
}
layer on "$port_on" "$AUDIT_DIR/audit.log"
layer done "$port_done" "$AUDIT_DIR/audit-done.log" "emit_tool_call_allowed: false"
for n in off on done; do
	"$out/mcpgc" build tests/conformance/mock.yaml "$out/$n.yaml" -o "$out/$n.img" > /dev/null
done
rm -f "$AUDIT_DIR/audit.log" "$AUDIT_DIR/audit-done.log"

load0=$(cut -d' ' -f1-3 /proc/loadavg)
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2> /dev/null; done
	wait 2> /dev/null || true
}
trap cleanup EXIT INT TERM

H='Content-Type: application/json'
A='Accept: application/json, text/event-stream'
# start NAME PORT: boot mcpg on NAME.img, open a session; sets sid_NAME.
start() {
	"$out/mcpg" --image "$out/$1.img" 2> "$out/$1.log" &
	PIDS="$PIDS $!"
	n=500
	until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$2/ready" 2> /dev/null)" = 200 ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { say "mcpg ($1) does not answer /ready: $(tail -3 "$out/$1.log")"; exit 1; }
		sleep 0.02
	done
	url=http://127.0.0.1:$2/mcp
	curl -sS --max-time 5 -D "$out/init.h" -o /dev/null -H "$H" -H "$A" -d \
		'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}' "$url"
	sid=$(awk 'tolower($1)=="mcp-session-id:"{print $2}' "$out/init.h" | tr -d '\r')
	curl -sS --max-time 5 -o /dev/null -H "$H" -H "$A" -H "Mcp-Session-Id: $sid" \
		-H 'MCP-Protocol-Version: 2025-11-25' -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$url"
	eval "sid_$1=\$sid"
}
start off "$port_off"
start on "$port_on"
start done "$port_done"

metric() {
	curl -s "http://127.0.0.1:$1/metrics" | sed -n "s/^$2 //p"
}

# round NAME PORT CONNS THREADS: one wrk run; appends
# "NAME CONNS req/s p50 p99 errors records fsyncs seconds" to rounds.txt.
round() {
	eval "sid=\$sid_$1"
	r0=$(metric "$2" mcpg_audit_records_total)
	f0=$(metric "$2" mcpg_audit_fsyncs_total)
	MCP_SESSION_ID=$sid wrk -t"$4" -c"$3" -d"$DURATION" --latency -s "$top/bench/tools-call.lua" \
		"http://127.0.0.1:$2/mcp" > "$out/wrk.txt" 2>&1
	r1=$(metric "$2" mcpg_audit_records_total)
	f1=$(metric "$2" mcpg_audit_fsyncs_total)
	awk -v name="$1" -v c="$3" -v rec=$((r1 - r0)) -v fs=$((f1 - f0)) '
		/^requests\/s:/ { rps = $2; secs = $(NF - 1) }
		/^latency p50:/ { p50 = $3 }
		/^latency p99:/ { p99 = $3 }
		/^MCP results:/ { cnt = split($0, a, /[=\/ ]/); k = 0
			for (i = 1; i <= cnt; i++) if (a[i] ~ /^[0-9]+$/) n[++k] = a[i]
			e = n[2] + n[3] + n[4] + n[5] + n[6] + n[7] }
		END { printf "%s %s %s %s %s %d %d %d %s\n", name, c, rps, p50, p99, e, rec, fs, secs }' \
		"$out/wrk.txt" >> "$out/rounds.txt"
}

: > "$out/rounds.txt"
for conns in 1 32; do
	threads=2
	[ "$conns" = 1 ] && threads=1
	say "warm-up, then $ROUNDS rounds of $DURATION at -c$conns"
	MCP_SESSION_ID=$sid_off wrk -t1 -c"$conns" -d2s -s "$top/bench/tools-call.lua" "http://127.0.0.1:$port_off/mcp" > /dev/null 2>&1
	MCP_SESSION_ID=$sid_on wrk -t1 -c"$conns" -d2s -s "$top/bench/tools-call.lua" "http://127.0.0.1:$port_on/mcp" > /dev/null 2>&1
	MCP_SESSION_ID=$sid_done wrk -t1 -c"$conns" -d2s -s "$top/bench/tools-call.lua" "http://127.0.0.1:$port_done/mcp" > /dev/null 2>&1
	i=0
	while [ "$i" -lt "$ROUNDS" ]; do
		round off "$port_off" "$conns" "$threads"
		round on "$port_on" "$conns" "$threads"
		round done "$port_done" "$conns" "$threads"
		i=$((i + 1))
	done
done
kill $PIDS 2> /dev/null || true
wait 2> /dev/null || true
PIDS=
"$out/mcpgc" audit-verify "$AUDIT_DIR/audit.log" > "$out/verify.txt" 2>&1 &&
	"$out/mcpgc" audit-verify "$AUDIT_DIR/audit-done.log" >> "$out/verify.txt" 2>&1 && verified=yes || verified=NO

{
	echo "bench/audit.sh, $(date -u +%Y-%m-%d), $(nproc) CPUs, wrk $DURATION x $ROUNDS rounds per server," \
		"ledger on $(df -T "$AUDIT_DIR" | awk 'NR == 2 { print $2 }'), load average before the run: $load0"
	echo
	printf '%-6s %5s %10s %9s %9s %7s %10s %10s %12s\n' audit conns 'req/s' 'p50 ms' 'p99 ms' errors \
		'records/s' 'fsyncs/s' 'records/fsync'
	sort -k1,1 -k2,2n -k3,3n "$out/rounds.txt" | awk -v R="$ROUNDS" '
		{ key = $1 " " $2; n[key]++; if (n[key] == int((R + 1) / 2)) line[key] = $0; err[key] += $6 }
		END {
			split("off on done", names, " ")
			for (c = 1; c <= 32; c += 31) for (s = 0; s < 3; s++) {
				name = names[s + 1]; key = name " " c
				if (!(key in line)) continue
				split(line[key], f, " ")
				printf "%-6s %5d %10.0f %9.3f %9.3f %7d %10s %10s %12s\n", name, c, f[3], f[4], f[5], err[key],
					s ? sprintf("%.0f", f[7] / f[9]) : "-", s ? sprintf("%.0f", f[8] / f[9]) : "-",
					s && f[8] ? sprintf("%.1f", f[7] / f[8]) : "-"
			}
		}'
	echo
	awk -v R="$ROUNDS" '
		{ key = $1 " " $2; v[key, ++n[key]] = $4 }
		END {
			for (c = 1; c <= 32; c += 31) {
				m = int((R + 1) / 2)
				# medians of p50 per server
				for (s = 0; s < 3; s++) {
					name = s == 2 ? "done" : s ? "on" : "off"; k = name " " c; cnt = n[k]
					for (i = 1; i <= cnt; i++) a[i] = v[k, i]
					for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
					med[s] = a[m]
				}
				printf "added p50 latency per call, -c%d: audit on %.3f ms, completed record only %.3f ms\n",
					c, med[1] - med[0], med[2] - med[0]
			}
		}' "$out/rounds.txt"
	echo "audit-verify on the ledgers after the run: $verified ($(tr '\n' ';' < "$out/verify.txt"))"
} | tee "$out/result.txt"
