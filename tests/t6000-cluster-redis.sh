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
coord_pid() { redis-cli -p "$1" info server | tr -d '\r' | sed -n 's/^process_id://p'; }

cluster_suite

# Someone else takes the lease (a foreign owner written into Redis): the
# holder sees it at its next renewal and stops the duty; when that lease
# goes, a replica takes it again with a new fencing token.
before=$(metric "$PC" mcpg_cluster_lease_token)
redis-cli -p "$CP" set t6000:lease.reaper "999999 intruder" px 60000 > /dev/null
t0=$(now_ms)
while { [ "$(metric "$PA" mcpg_cluster_lease_holder)" = 1 ] || [ "$(metric "$PC" mcpg_cluster_lease_holder)" = 1 ]; } &&
	[ $(($(now_ms) - t0)) -lt 5000 ]; do sleep 0.05; done
[ "$(metric "$PA" mcpg_cluster_lease_holder)" = 0 ] && [ "$(metric "$PC" mcpg_cluster_lease_holder)" = 0 ] &&
	ok "a lease held by another owner: no replica runs the duty ($(($(now_ms) - t0)) ms)" ||
	fail "a lease held by another owner stops the duty"
redis-cli -p "$CP" del t6000:lease.reaper > /dev/null
t0=$(now_ms)
while [ "$(metric "$PA" mcpg_cluster_lease_holder)" != 1 ] && [ "$(metric "$PC" mcpg_cluster_lease_holder)" != 1 ] &&
	[ $(($(now_ms) - t0)) -lt 5000 ]; do sleep 0.05; done
after=$(metric "$PA" mcpg_cluster_lease_token)
[ "$(metric "$PC" mcpg_cluster_lease_holder)" = 1 ] && after=$(metric "$PC" mcpg_cluster_lease_token)
[ "${after:-0}" -gt "${before:-0}" ] &&
	ok "the lease is taken again with a larger fencing token ($before -> $after)" ||
	fail "the lease is taken again with a larger fencing token" "$before -> $after"
