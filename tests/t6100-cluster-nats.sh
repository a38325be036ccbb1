# t6100 - the t6000 scenario (tests/lib-cluster.sh) on a real nats-server
# with JetStream (127.0.0.1): sessions in a JetStream KV bucket, the bus on
# core NATS, the reaper lease in a second bucket, a NATS outage under load.
. "$TOP/tests/lib.sh"
. "$TOP/tests/lib-cluster.sh"

KIND=nats
LEASE_MS=2000
cluster_yaml() {
	cat << EOF2
cluster:
  kind: nats
  servers: ["nats://127.0.0.1:$1"]
  tls: {require_tls: false}
  node: {id: "replica-\${env.PORT}", peer_expiry_sec: 3}
  lease: {default_ttl_sec: 2}
  jetstream: {state_bucket: t6100-state, leases_bucket: t6100-leases, storage: file}
  connection: {operation_timeout_ms: 1000, connect_timeout_ms: 1000}
EOF2
	[ "${2:-}" = degraded ] && echo "  allow_degraded_boot: true"
	return 0
}
coord_start() {
	mkdir -p "js-$1"
	nats-server -a 127.0.0.1 -p "$1" -js -sd "$PWD/js-$1" > "nats-$1.log" 2>&1 &
	NATS_PID=$!
	PIDS="$PIDS $NATS_PID"
	n=0
	while [ $n -lt 250 ]; do
		grep -q 'Server is ready' "nats-$1.log" && return 0
		sleep 0.02
		n=$((n + 1))
	done
	cat "nats-$1.log" >&2
	return 1
}
coord_kill() { kill -KILL "$NATS_PID"; }
coord_has() { echo '?'; }
coord_record() { echo unsupported; }

cluster_suite
