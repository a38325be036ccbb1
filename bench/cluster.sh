#!/bin/sh
# bench/cluster.sh - what clustering costs and buys: tools/call throughput
# and latency of one replica against three replicas behind nginx on one
# redis-server, and the per-call cost of a shared session lookup with and
# without the replica's local cache.
#
#   bench/cluster.sh                     everything, one table
#   DURATION=10s ROUNDS=5 bench/cluster.sh
#
# Rows (wrk -t2 -c32 keep-alive, tools/call of a mock tool without delay,
# every request a unique JSON-RPC id, all 32 connections on one session,
# bench/tools-call.lua):
#   1 replica, single_node       the baseline: no coordinator at all
#   1 replica, redis             the same behind a Redis coordinator
#   1 replica, redis, nginx      the same through deploy/nginx.conf
#   3 replicas, redis, nginx     deploy/nginx.conf round-robin over three
# The rows take turns, ROUNDS rounds of DURATION each after a 1 s warm-up;
# the table gives each row's median round by req/s (with that round's p50
# and p99).  nginx runs deploy/nginx.conf with the replica names pointed at
# 127.0.0.1 and plain HTTP instead of TLS (TLS would measure OpenSSL, not
# the cluster).
#
# Lookup rows (bench/coord-lookup.c): microseconds per
# mcpg_cluster_session_get of one session, with the local copy answering
# ("cached") and with the local copy dropped before each lookup so the
# record comes from Redis every time ("uncached").
#
# Everything runs on 127.0.0.1 and on the same CPUs as wrk, nginx and
# redis-server: on a 2-core machine three replicas cannot beat one (they
# share the cores with the client and the balancer); the rows say what the
# cluster costs, not how it scales.  Numbers are noisy while anything else
# runs: the table names the load average before the run.  Results and raw
# outputs go to build/bench/cluster/.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

B=${B:-build}
out=$B/bench/cluster
DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
mkdir -p "$out"
out=$(cd "$out" && pwd)
say() { echo "bench: $*" >&2; }

for t in wrk redis-server nginx curl python3; do
	command -v $t > /dev/null || { say "$t is missing (make deps installs it)"; exit 2; }
done
[ -z "${SANITIZE:-}" ] || { say "SANITIZE is set; unset it to measure the -O2 build"; exit 2; }
make --no-print-directory -j2 B="$B" all "$B/libmcpg.a" >&2
if nm "$B/mcpg" 2> /dev/null | grep -q __asan_init; then
	say "$B/mcpg is a sanitizer build; rebuild it with 'make all'"
	exit 2
fi
cp "$B/mcpg" "$out/mcpg"
cp "$B/mcpgc" "$out/mcpgc"
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -Iruntime -Igenerated -o "$out/coord-lookup" \
	bench/coord-lookup.c "$B/libmcpg.a" \
	$(pkg-config --cflags --libs jansson libcrypto libssl libmicrohttpd libcurl hiredis libnats) \
	-lpthread

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2> /dev/null || true; done
	wait 2> /dev/null || true
}
trap cleanup EXIT INT TERM
bg() {
	_log=$1
	shift
	"$@" > "$out/$_log" 2>&1 &
	PIDS="$PIDS $!"
}
wait_http() {
	_n=0
	while [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 "$1")" != 200 ]; do
		_n=$((_n + 1))
		[ $_n -lt 500 ] || { say "no answer from $1"; exit 1; }
		sleep 0.02
	done
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
RP=$(free_port)
bg redis.log redis-server --bind 127.0.0.1 --port "$RP" --save '' --appendonly no
n=0
until redis-cli -p "$RP" ping 2> /dev/null | grep -q PONG; do
	n=$((n + 1)); [ $n -lt 250 ] || { say "redis-server did not start"; exit 1; }; sleep 0.02
done

# config KIND FILE
config() {
	{
		cat << EOF
gateway:
  server:
    bind_address: "127.0.0.1:\${env.PORT}"
    access_log: false
    anonymous_rate_limit_per_min: 0
governance:
  audit:
    enabled: false
EOF
		if [ "$1" = redis ]; then
			printf 'cluster:\n  kind: redis\n  url: "redis://127.0.0.1:%s"\n  key_prefix: "bench:"\n' "$RP"
		fi
		cat << EOF
observability:
  logs:
    level: warn
mcp:
  capabilities:
    tools:
      - name: echo
        description: Echo.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {ok: true}}
EOF
	} > "$2"
}
config single "$out/single.yaml"
config redis "$out/redis.yaml"
"$out/mcpgc" build "$out/single.yaml" -o "$out/single.img" > /dev/null
"$out/mcpgc" build "$out/redis.yaml" -o "$out/redis.img" > /dev/null

P0=$(free_port) P1=$(free_port) P2=$(free_port) P3=$(free_port)
PORT=$P0 bg single.log "$out/mcpg" --image "$out/single.img"
PORT=$P1 bg r1.log "$out/mcpg" --image "$out/redis.img"
PORT=$P2 bg r2.log "$out/mcpg" --image "$out/redis.img"
PORT=$P3 bg r3.log "$out/mcpg" --image "$out/redis.img"
for p in $P0 $P1 $P2 $P3; do wait_http "http://127.0.0.1:$p/ready"; done

# nginx: deploy/nginx.conf, plain HTTP, replicas on 127.0.0.1.
# nginx_conf FILE PORT REPLICA_PORTS...
nginx_conf() {
	_f=$1 _port=$2
	shift 2
	_servers=
	for p in "$@"; do _servers="$_servers        server 127.0.0.1:$p max_fails=2 fail_timeout=10s;\\n"; done
	awk -v servers="$_servers" -v port="$_port" '
		/server mcpg-[0-9]:8787/ { if (!done) { printf "%s", servers; done = 1 } next }
		/listen 443 ssl;/ { print "        listen 127.0.0.1:" port ";"; next }
		/ssl_/ { next }
		{ print }' deploy/nginx.conf | sed 's/\\n/\n/g' > "$_f"
}
L1=$(free_port) L3=$(free_port)
mkdir -p "$out/nginx1/logs" "$out/nginx3/logs"
nginx_conf "$out/nginx1/nginx.conf" "$L1" "$P1"
nginx_conf "$out/nginx3/nginx.conf" "$L3" "$P1" "$P2" "$P3"
for d in nginx1 nginx3; do
	bg "$d.log" nginx -p "$out/$d/" -c "$out/$d/nginx.conf" -e "$out/$d/logs/error.log" \
		-g "pid $out/$d/nginx.pid; daemon off;"
done
wait_http "http://127.0.0.1:$L1/health"
wait_http "http://127.0.0.1:$L3/health"

# session URL: initialize + initialized through URL; prints the session id.
session() {
	curl -s -D "$out/init.h" -o /dev/null -X POST -H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' \
		-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' "$1"
	_sid=$(awk 'tolower($1)=="mcp-session-id:"{print $2}' "$out/init.h" | tr -d '\r')
	curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -H "Mcp-Session-Id: $_sid" \
		-H 'Accept: application/json' -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$1"
	echo "$_sid"
}

ROWS="single redis redis-nginx cluster-nginx"
url_of() {
	case $1 in
	single) echo "http://127.0.0.1:$P0/mcp" ;;
	redis) echo "http://127.0.0.1:$P1/mcp" ;;
	redis-nginx) echo "http://127.0.0.1:$L1/mcp" ;;
	cluster-nginx) echo "http://127.0.0.1:$L3/mcp" ;;
	esac
}
label_of() {
	case $1 in
	single) echo "1 replica, single_node" ;;
	redis) echo "1 replica, redis" ;;
	redis-nginx) echo "1 replica, redis, nginx" ;;
	cluster-nginx) echo "3 replicas, redis, nginx" ;;
	esac
}
for r in $ROWS; do
	eval "sid_$(echo $r | tr - _)=\$(session \"\$(url_of $r)\")"
done
lua=$top/bench/tools-call.lua
# round ROW R: one wrk run; appends "rps p50 p99 errors" to $out/ROW.rounds
round() {
	_u=$(url_of "$1")
	eval "_s=\$sid_$(echo "$1" | tr - _)"
	_f=$out/wrk-$1-$2.txt
	MCP_TOOL=echo MCP_SESSION_ID=$_s wrk -t2 -c32 -d"$DURATION" --latency -s "$lua" "$_u" > "$_f" 2>&1 || true
	awk '/^requests\/s:/ { r = $2 }
	     /^latency p50:/ { a = $3 }
	     /^latency p99:/ { b = $3 }
	     /^MCP results:/ {
		match($0, /http_non200=[0-9]+/); e = substr($0, RSTART + 12, RLENGTH - 12)
		match($0, /rpc_error_or_isError=[0-9]+/); e += substr($0, RSTART + 21, RLENGTH - 21) }
	     END { printf "%s %s %s %d\n", r, a, b, e }' "$_f" >> "$out/$1.rounds"
}
for r in $ROWS; do
	eval "_s=\$sid_$(echo "$r" | tr - _)"
	MCP_TOOL=echo MCP_SESSION_ID=$_s wrk -t1 -c4 -d1s -s "$lua" "$(url_of "$r")" > /dev/null 2>&1 || true
	: > "$out/$r.rounds"
done
i=1
while [ $i -le "$ROUNDS" ]; do
	for r in $ROWS; do
		say "round $i/$ROUNDS: $(label_of "$r")"
		round "$r" "$i"
	done
	i=$((i + 1))
done

say "session lookups"
PORT=1 "$out/coord-lookup" "$out/redis.img" 20000 > "$out/lookup.txt" 2> "$out/lookup.err" ||
	{ say "coord-lookup failed: $(cat "$out/lookup.err")"; exit 1; }
cached=$(sed -n 's/^cached_us //p' "$out/lookup.txt")
uncached=$(sed -n 's/^uncached_us //p' "$out/lookup.txt")

{
	echo "mcpg cluster bench, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average before: $load"
	echo "wrk -t2 -c32, $ROUNDS rounds x $DURATION, median round; tools/call of a mock tool, one session"
	echo "(everything on one machine and its CPUs: noisy while other work runs)"
	printf '%-28s %10s %9s %9s %7s\n' "setup" "req/s" "p50 ms" "p99 ms" "errors"
	for r in $ROWS; do
		sort -n "$out/$r.rounds" | awk -v n="$ROUNDS" -v l="$(label_of "$r")" \
			'NR == int((n + 1) / 2) { printf "%-28s %10.0f %9s %9s %7s\n", l, $1, $2, $3, $4 }'
	done
	printf '%-28s %10s\n' "session lookup, cached" "$cached us/call"
	printf '%-28s %10s\n' "session lookup, uncached" "$uncached us/call (GET from Redis, parse, adopt)"
} | tee "$out/table.txt"
