# t6000 - three mcpg replicas on one real redis-server (127.0.0.1): a session
# opened on A is served by B and C, a cancel sent to B stops the call
# running on A, progress of a call on A reaches B's GET stream, the session
# survives A's death, the reaper lease moves when its holder dies, and a
# Redis outage under load flips /ready, fails calls with a JSON-RPC error
# naming the cause, crashes nothing and heals when Redis returns.  Also:
# boot refusal with Redis down, and allow_degraded_boot.  The scenario is
# cluster_suite in tests/lib-cluster.sh (t6100 runs it on NATS).
. "$TOP/tests/lib.sh"
. "$TOP/tests/lib-cluster.sh"

KIND=redis
LEASE_MS=1500
cluster_yaml() {
	cat << EOF
cluster:
  kind: redis
  url: "redis://127.0.0.1:$1"
  key_prefix: "t6000:"
  lease_ttl_ms: $LEASE_MS
  peer_ttl_ms: 3000
  operation_timeout_ms: 1000
EOF
	[ "${2:-}" = degraded ] && echo "  allow_degraded_boot: true"
	return 0
}
# appendfsync always: what was written survives the kill -9.
coord_start() { start_redis "$1" --appendonly yes --appendfsync always; }
coord_kill() { kill -KILL "$REDIS_PID"; }
coord_has() { redis-cli -p "$CP" exists "t6000:sess.$1"; }
coord_record() { redis-cli -p "$CP" get "t6000:sess.$1"; }

cluster_suite

# A Redis that hangs (SIGSTOP) rather than dies: the ping's deadline
# (min(operation_timeout_ms, 1 s)) flips /ready; a lookup fails after
# operation_timeout_ms (1000 here), not later; SIGCONT heals.
RPID=$(redis-cli -p "$CP" info server | tr -d '\r' | sed -n 's/^process_id://p')
kill -STOP "$RPID"
HANG=$(wait_code "$PC" /ready 503 5000)
[ "$HANG" != timeout ] && [ "$HANG" -le 2000 ] &&
	ok "Redis stopped (SIGSTOP): /ready 503 within 2 s ($HANG ms)" || fail "Redis stopped: /ready 503 within 2 s" "$HANG"
t0=$(now_ms)
call "$PA" "fedcba9876543210fedcba9876543210" 50 echo
dt=$(($(now_ms) - t0))
[ "$CODE" = 503 ] && [ $dt -le 1500 ] && grep -q '"code":-32011' out.body &&
	ok "a call needing the hung Redis fails fast: 503 -32011 after $dt ms" ||
	fail "a call needing the hung Redis fails fast" "$CODE after $dt ms" "$(cat out.body)"
kill -CONT "$RPID"
t=$(wait_code "$PC" /ready 200 8000)
[ "$t" != timeout ] && ok "Redis continued (SIGCONT): ready again ($t ms)" || fail "Redis continued: ready again"
