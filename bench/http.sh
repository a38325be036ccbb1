#!/bin/sh
# bench/http.sh - mcpg's HTTP throughput, latency, memory and boot time, next
# to a bare libmicrohttpd handler returning the same bytes (bench/bare.c, the
# ceiling of this HTTP stack) and the Node SDK fixture server
# (../shared/conformance/fixture-server.mjs on @modelcontextprotocol/sdk).
#
#   bench/http.sh                     all three servers, one table
#   DURATION=10s ROUNDS=5 bench/http.sh
#                                     wrk time per round (5s) and rounds (3)
#   SERVERS="mcpg bare" bench/http.sh some servers only (bare needs mcpg)
#   SESSIONS=1000 bench/http.sh       idle sessions to open (default 10,000)
#   MCPG_STATIC=1 bench/http.sh       mcpg is the static binary (make static)
#
# Per server, from one run:
#   req/s, p50, p99  wrk -t2 -c32 keep-alive, tools/call test_simple_text with
#                    a unique JSON-RPC id per request, all 32 connections on
#                    one session (bench/tools-call.lua).  The servers run side
#                    by side and take turns: ROUNDS rounds of mcpg, bare, Node,
#                    DURATION each, after a 2 s warm-up of each.  The table
#                    gives the median round of each server (by req/s, with
#                    that round's p50 and p99); a shared 2-CPU machine drifts,
#                    and taking turns exposes all three to the same drift.
#   errors           non-200 answers, JSON-RPC errors, isError results and
#                    socket errors, summed over the rounds
#   idle RSS         VmRSS once the server answers, before any MCP request
#   RSS/session      (VmRSS with SESSIONS sessions open - VmRSS before) /
#                    SESSIONS, on a fresh server; each session is an
#                    initialize and a notifications/initialized on one
#                    keep-alive connection (bench/httpaux.py)
#   boot             start of the process to its first answer, median of
#                    BOOT_RUNS (21): mcpg to /ready 200 on an image of 10,000
#                    tools (bench/gen-tools.py); the others to any answer;
#                    timed by bench/bootprobe.c as bench/boot.sh does
#
# mcpg serves tests/conformance/mock.yaml (the conformance fixtures as mock
# bindings, audit off, access log off, no anonymous rate limit).  bare
# answers with the bytes mcpg sent for the same call: the body, its
# Content-Type and mcpg's other response headers.  Note that wrk's Lua runs
# on the same two CPUs: at about 100k req/s the client, not the server, is
# the limit, and mcpg and bare then score alike.
#
# Everything listens on 127.0.0.1; run it on an otherwise idle machine (the
# table names the load average before the run).  Needs wrk, curl, python3,
# a C compiler and libmicrohttpd; Node 22 and the SDK come from
# scripts/node-deps.  Results and raw outputs go to build/bench/http/.
#
# Targets (issue 4): mcpg >= 70% of bare and >= 15x the Node server; p99
# <= 2 ms; idle RSS <= 4 MB; <= 1 KB per idle session; boot to /ready
# <= 5 ms with 10,000 tools.  The last lines say which this run met.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
TOP=$top

B=${B:-build}
out=$B/bench/http
DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
SESSIONS=${SESSIONS:-10000}
BOOT_RUNS=${BOOT_RUNS:-21}
SERVERS=${SERVERS:-mcpg bare node}
mkdir -p "$out"
out=$(cd "$out" && pwd)

say() { echo "bench: $*" >&2; }
has() { case " $SERVERS " in *" $1 "*) return 0 ;; esac; return 1; }

# ---- Tools ------------------------------------------------------------------

command -v wrk > /dev/null || { say "wrk is missing (make deps installs it)"; exit 2; }
if [ -n "${SANITIZE:-}" ]; then
	say "SANITIZE is set; unset it to measure the -O2 build"
	exit 2
fi
if has bare && ! has mcpg; then
	say "bare answers with the bytes mcpg sent: add mcpg to SERVERS"
	exit 2
fi
make --no-print-directory -j2 B="$B" all >&2
# MCPG_STATIC=1 measures the fully static runtime (make static) instead
# (not STATIC=1: make would read that as its own STATIC).
if [ "${MCPG_STATIC:-0}" = 1 ]; then
	make --no-print-directory B="$B" static >&2
	src_mcpg=$B/static/mcpg
else
	src_mcpg=$B/mcpg
fi
# Private copies: another build in the tree may replace build/mcpg meanwhile.
cp "$src_mcpg" "$out/mcpg"
cp "$B/mcpgc" "$out/mcpgc"
mcpg=$out/mcpg
mcpgc=$out/mcpgc
if nm "$mcpg" 2> /dev/null | grep -q '__asan_init\|__ubsan_handle'; then
	say "$B/mcpg is a sanitizer build; rebuild it with 'make all'"
	exit 2
fi
bare=$out/bare
if [ ! -x "$bare" ] || [ bench/bare.c -nt "$bare" ]; then
	${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wno-unused-parameter -o "$bare" \
		bench/bare.c $(pkg-config --cflags --libs libmicrohttpd) -lpthread
fi
aux="python3 $top/bench/httpaux.py"
lua=$top/bench/tools-call.lua

N22= fixture=
if has node; then
	. "$top/tests/conformance/node.sh"
	T=$out
	if node_setup; then
		fixture=$(node_script fixture-server.mjs) ||
			{ say "no ../shared/conformance/fixture-server.mjs: leaving the Node row out"; fixture=; }
	else
		say "Node 22 and the SDK cannot be installed ($NODE_WHY): leaving the Node row out"
	fi
	[ -n "$fixture" ] || SERVERS=$(echo "$SERVERS" | sed 's/node//')
fi

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
rss() { awk '/^VmRSS/{print $2}' "/proc/$1/status" 2> /dev/null || echo 0; }

PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2> /dev/null || true; done
	wait 2> /dev/null || true
}
trap cleanup EXIT INT TERM
# start NAME CMD...: run CMD in the background; its pid in pid_NAME.
start() {
	_n=$1
	shift
	"$@" > "$out/$_n.log" 2>&1 &
	eval "pid_$_n=$!"
	PIDS="$PIDS $!"
}
stop() {
	_p=$(eval echo "\$pid_$1")
	kill -TERM "$_p" 2> /dev/null || true
	_i=250
	while kill -0 "$_p" 2> /dev/null && [ "$_i" -gt 0 ]; do sleep 0.02; _i=$((_i - 1)); done
	kill -KILL "$_p" 2> /dev/null || true
	wait "$_p" 2> /dev/null || true
}
# up NAME URL 200|any: wait up to 10 s for the server to answer.
up() {
	_p=$(eval echo "\$pid_$1")
	_i=500
	while [ "$_i" -gt 0 ]; do
		kill -0 "$_p" 2> /dev/null || break
		_c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$2" 2> /dev/null || true)
		case $3:$_c in 200:200 | any:[1-5]??) return 0 ;; esac
		sleep 0.02
		_i=$((_i - 1))
	done
	say "$1 does not answer $2: $(tail -3 "$out/$1.log")"
	exit 1
}

H='Content-Type: application/json'
A='Accept: application/json, text/event-stream'
PV=2025-11-25
# session URL: initialize + notifications/initialized; prints the session id.
session() {
	curl -sS --max-time 5 -D "$out/init.h" -o "$out/init.b" -H "$H" -H "$A" -d \
		"{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"$PV\",\"capabilities\":{},\"clientInfo\":{\"name\":\"bench\",\"version\":\"0\"}}}" \
		"$1" > /dev/null
	_sid=$(awk 'tolower($1)=="mcp-session-id:"{print $2}' "$out/init.h" | tr -d '\r')
	curl -sS --max-time 5 -o /dev/null -H "$H" -H "$A" -H "Mcp-Session-Id: $_sid" \
		-H "MCP-Protocol-Version: $PV" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$1"
	echo "$_sid"
}
# call URL SID NAME: one tools/call test_simple_text with wrk's headers;
# the answer's headers and body in $out/call-NAME.h and .b.
call() {
	curl -sS --max-time 5 -D "$out/call-$3.h" -o "$out/call-$3.b" -H "$H" -H "$A" \
		-H "Mcp-Session-Id: $2" -H "MCP-Protocol-Version: $PV" \
		-d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"test_simple_text","arguments":{}}}' "$1"
}
# ticks PID: CPU time (user + system) the process used so far, in clock ticks.
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# round NAME URL SID R: one wrk run; appends "rps p50 p99 errors cpu_us_per_request"
# to NAME.rounds.
round() {
	_f=$out/wrk-$1-$4.txt
	_p=$(eval echo "\$pid_$1")
	_t0=$(ticks "$_p")
	MCP_SESSION_ID=$3 wrk -t2 -c32 -d"$DURATION" --latency -s "$lua" "$2" > "$_f" 2>&1 || true
	_t1=$(ticks "$_p")
	awk -v dt=$((_t1 - _t0)) -v hz="$(getconf CLK_TCK)" '
		/^requests\/s:/ { r = $2; sub(/^\(/, "", $3); n = $3 }
		/^latency p50:/ { a = $3 }
		/^latency p99:/ { b = $3 }
		/^MCP results:/ {
			for (i = 2; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == "http_non200" || kv[1] == "rpc_error_or_isError") e += kv[2]
				if (kv[1] ~ /^socket_errors/) { n = split(kv[2], s, "/"); for (j = 1; j <= n; j++) e += s[j] }
			}
		}
		END { if (r != "") print r, a, b, e + 0, n ? dt * 1e6 / hz / n : "" }' "$_f" >> "$out/$1.rounds"
}
# sessions NAME URL: RSS per idle session, on the running server NAME.
sessions() {
	_p=$(eval echo "\$pid_$1")
	sleep 0.3
	_b=$(rss "$_p")
	$aux sessions "$2" "$SESSIONS" > "$out/sessions-$1.txt" || true
	sleep 0.5
	_a=$(rss "$_p")
	echo "rss_kb before $_b after $_a" >> "$out/sessions-$1.txt"
	awk -v b="$_b" -v a="$_a" -v n="$SESSIONS" 'BEGIN { printf "%.0f\n", (a - b) * 1024 / n }' \
		> "$out/$1.sess"
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
rm -f "$out"/*.rounds "$out"/*.idle "$out"/*.sess "$out"/*.boot "$out"/wrk-*.txt

port=$(free_port)
printf 'gateway:\n  server:\n    bind_address: "127.0.0.1:%s"\n' "$port" > "$out/port.yaml"
"$mcpgc" build tests/conformance/mock.yaml "$out/port.yaml" -o "$out/mock.img" > /dev/null
url=http://127.0.0.1:$port/mcp
ready=http://127.0.0.1:$port/ready
nport=$(free_port)
nurl=http://127.0.0.1:$nport/mcp
bport=$(free_port)
burl=http://127.0.0.1:$bport/mcp

# ---- Memory: idle RSS and RSS per session, each on a fresh server ------------

if has mcpg; then
	say "mcpg: idle RSS and $SESSIONS sessions"
	start mcpg "$mcpg" --image "$out/mock.img"
	up mcpg "$ready" 200
	sleep 0.3
	rss "$pid_mcpg" > "$out/mcpg.idle"
	sessions mcpg "$url"
	stop mcpg
fi
if has node; then
	say "node: idle RSS and $SESSIONS sessions"
	start node "$N22" "$fixture" --port "$nport"
	up node "$nurl" any
	sleep 0.5
	rss "$pid_node" > "$out/node.idle"
	sessions node "$nurl"
	stop node
fi

# ---- Throughput: the servers side by side, taking turns ---------------------

if has mcpg; then
	start mcpg "$mcpg" --image "$out/mock.img"
	up mcpg "$ready" 200
	sid_mcpg=$(session "$url")
	call "$url" "$sid_mcpg" mcpg
fi
if has bare; then
	ctype=$(awk 'tolower($1)=="content-type:" { sub(/^[^:]*: */, ""); print }' "$out/call-mcpg.h" |
		tr -d '\r')
	set --
	# mcpg's other response headers, minus those libmicrohttpd writes itself.
	while IFS= read -r line; do
		line=$(printf '%s' "$line" | tr -d '\r')
		case $(echo "${line%%:*}" | tr 'A-Z' 'a-z') in
		http/* | '' | date | content-length | content-type | connection | transfer-encoding | keep-alive) ;;
		*) set -- "$@" --header "$line" ;;
		esac
	done < "$out/call-mcpg.h"
	say "bare: answering with the $(wc -c < "$out/call-mcpg.b") bytes of mcpg's answer ($ctype)"
	start bare "$bare" --port "$bport" --body "$out/call-mcpg.b" --type "$ctype" "$@"
	up bare "$burl" any
	sleep 0.3
	rss "$pid_bare" > "$out/bare.idle"
	call "$burl" x bare
	cmp -s "$out/call-mcpg.b" "$out/call-bare.b" || { say "bare's body differs from mcpg's"; exit 1; }
	sid_bare=x
fi
if has node; then
	start node "$N22" "$fixture" --port "$nport"
	up node "$nurl" any
	sid_node=$(session "$nurl")
	call "$nurl" "$sid_node" node
fi
turn=
for s in mcpg bare node; do has $s && turn="$turn $s"; done
urlof() { case $1 in mcpg) echo "$url" ;; bare) echo "$burl" ;; node) echo "$nurl" ;; esac; }
for s in $turn; do
	MCP_SESSION_ID=$(eval echo "\$sid_$s") wrk -t2 -c32 -d2s -s "$lua" "$(urlof $s)" > /dev/null 2>&1 || true
done
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for s in $turn; do
		say "round $r/$ROUNDS: $s, wrk $DURATION"
		round "$s" "$(urlof $s)" "$(eval echo "\$sid_$s")" "$r"
	done
	r=$((r + 1))
done
for s in $turn; do stop "$s"; done

# ---- Boot times -----------------------------------------------------------------

# The boot timer of bench/boot.sh (bench/bootprobe.c says why not Python).
probe=$out/bootprobe
[ -x "$probe" ] && [ "$probe" -nt bench/bootprobe.c ] ||
	${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$probe" bench/bootprobe.c

if has mcpg; then
	say "mcpg: boot with 10,000 tools"
	python3 bench/gen-tools.py 10000 "$out/tools-10000.yaml" > /dev/null
	"$mcpgc" build "$out/tools-10000.yaml" "$out/port.yaml" -o "$out/tools-10000.img" > /dev/null
	"$probe" "$BOOT_RUNS" "$port" /ready -- "$mcpg" --image "$out/tools-10000.img" \
		> "$out/boot-mcpg.txt" || true
	sed -n 's/^boot_ms median=\([0-9.]*\).*/\1/p' "$out/boot-mcpg.txt" > "$out/mcpg.boot"
fi
if has bare; then
	say "bare: boot"
	PROBE_ANY=1 "$probe" "$BOOT_RUNS" "$bport" /mcp -- "$bare" --port "$bport" \
		--body "$out/call-mcpg.b" --type "$ctype" "$@" > "$out/boot-bare.txt" || true
	sed -n 's/^boot_ms median=\([0-9.]*\).*/\1/p' "$out/boot-bare.txt" > "$out/bare.boot"
fi
if has node; then
	say "node: boot"
	PROBE_ANY=1 "$probe" "$BOOT_RUNS" "$nport" /mcp -- "$N22" "$fixture" --port "$nport" \
		> "$out/boot-node.txt" || true
	sed -n 's/^boot_ms median=\([0-9.]*\).*/\1/p' "$out/boot-node.txt" > "$out/node.boot"
fi

# ---- The table --------------------------------------------------------------------

v() { [ -s "$out/$1" ] && cat "$out/$1" || echo ""; }
# median NAME: the median round by req/s ("rps p50 p99"), and the error sum.
median() {
	[ -s "$out/$1.rounds" ] || return 0
	sort -n "$out/$1.rounds" | awk '{ l[NR] = $1 " " $2 " " $3; e += $4; c[NR] = $5 }
		END { print l[int((NR + 1) / 2)], e }'
}
# cpu NAME: the median server CPU time per request over the rounds, in us.
cpu() {
	[ -s "$out/$1.rounds" ] || return 0
	awk '{ print $5 }' "$out/$1.rounds" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
row() {
	set -- "$1" "$2" $(median "$1")
	awk -v l="$2" -v r="${3:-}" -v a="${4:-}" -v b="${5:-}" -v e="${6:-}" -v c="$(cpu "$1")" \
		-v i="$(v "$1.idle")" -v s="$(v "$1.sess")" -v t="$(v "$1.boot")" '
	function f(x, fmt) { return x == "" ? "-" : sprintf(fmt, x) }
	BEGIN {
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", l, f(r, "%.0f"),
			f(a, "%.2f ms"), f(b, "%.2f ms"), f(c, "%.1f us"), f(e, "%d"),
			f(i == "" ? "" : i / 1024, "%.1f MiB"), f(s, "%d B"), f(t, "%.1f ms")
	}'
}
{
	echo "bench/http.sh, $(date -u +%Y-%m-%d), $(nproc) CPUs, wrk -t2 -c32, $ROUNDS rounds of" \
		"$DURATION each, $SESSIONS sessions, load average before the run: $load0"
	echo
	echo "| server | req/s | p50 | p99 | CPU/req | errors | idle RSS | RSS/session | boot |"
	echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
	has mcpg && row mcpg "mcpg (mock tool)"
	has bare && row bare "bare libmicrohttpd (same bytes)"
	has node && row node "Node SDK fixture server"
	echo
	for s in $turn; do
		printf '%s rounds (req/s, server CPU us/req):' "$s"
		awk '{ printf " %.0f (%.1f)", $1, $5 }' "$out/$s.rounds"
		echo
	done
	has mcpg && echo "boot: mcpg to /ready 200 with 10,000 tools; the others to their first answer"
	if has mcpg; then
		m=$(median mcpg) b=$(median bare) n=$(median node)
		awk -v m="${m%% *}" -v b="${b%% *}" -v n="${n%% *}" -v p="$(echo "$m" | cut -d' ' -f3)" \
			-v e="$(echo "$m" | cut -d' ' -f4)" -v i="$(v mcpg.idle)" -v s="$(v mcpg.sess)" \
			-v t="$(v mcpg.boot)" -v cm="$(cpu mcpg)" -v cb="$(cpu bare)" '
		function verdict(c) { return c ? "met" : "MISSED" }
		BEGIN {
			if (b != "" && m != "") printf "target mcpg >= 70%% of bare: %.0f%% %s\n", 100 * m / b, verdict(m >= 0.7 * b)
			if (cb != "" && cm != "") printf "  (server CPU per request, less sensitive to a busy machine: bare/mcpg = %.0f%%)\n", 100 * cb / cm
			if (n != "" && m != "") printf "target mcpg >= 15x Node: %.1fx %s\n", m / n, verdict(m >= 15 * n)
			if (p != "") printf "target p99 <= 2 ms: %.2f ms %s\n", p, verdict(p <= 2)
			if (i != "") printf "target idle RSS <= 4 MB: %.1f MiB %s\n", i / 1024, verdict(i <= 4096)
			if (s != "") printf "target <= 1 KB per idle session: %d B %s\n", s, verdict(s <= 1024)
			if (t != "") printf "target boot to /ready <= 5 ms with 10,000 tools: %.1f ms %s\n", t, verdict(t <= 5)
			if (e != "") printf "mcpg errors during the rounds: %d %s\n", e, verdict(e == 0)
		}'
	fi
} | tee "$out/table.md"
