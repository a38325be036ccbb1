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
	eval "NATS_PID_$1=$NATS_PID"
	PIDS="$PIDS $NATS_PID"
	n=0
	while [ $n -lt 250 ]; do
		grep -qs 'Server is ready' "nats-$1.log" && return 0
		sleep 0.02
		n=$((n + 1))
	done
	cat "nats-$1.log" >&2
	return 1
}
coord_kill() { kill -KILL "$NATS_PID"; }
coord_has() { echo '?'; }
coord_record() { echo unsupported; }
coord_pid() { eval "echo \$NATS_PID_$1"; }

cluster_suite

# auth.method token against a nats-server that wants one; a wrong token
# stops the boot naming the server's refusal.
TP=$(free_port)
mkdir -p js-auth
nats-server -a 127.0.0.1 -p "$TP" -js -sd "$PWD/js-auth" --auth t6100-tok > nats-auth.log 2>&1 &
PIDS="$PIDS $!"
n=0
while [ $n -lt 250 ] && ! grep -qs 'Server is ready' nats-auth.log; do sleep 0.02; n=$((n + 1)); done
cluster_yaml() {
	cat << EOF2
cluster:
  kind: nats
  servers: ["nats://127.0.0.1:$1"]
  tls: {require_tls: false}
  node: {id: auth-test}
  auth: {method: token, token: "$TOKEN"}
EOF2
}
TOKEN=t6100-tok cfg tok.yaml "$TP"
TOKEN=wrong-tok cfg badtok.yaml "$TP"
"$MCPGC" build tok.yaml -o tok.img > /dev/null 2>&1 && "$MCPGC" build badtok.yaml -o badtok.img > /dev/null 2>&1
PT=$(free_port)
boot_mcpg T tok.log "$PT" --image tok.img && ok "auth token: boots against a nats-server that wants it" ||
	fail "auth token: boots"
PORT=$(free_port) timeout 20 "$MCPG" --image badtok.img > /dev/null 2> badtok.err
rc=$?
[ $rc = 1 ] && tail -1 badtok.err | grep -qi 'authorization' &&
	ok "auth token: a wrong token stops the boot ($(tail -1 badtok.err | sed 's/.*coordinator: //; s/ (set .*//'))" ||
	fail "auth token: a wrong token stops the boot" "rc $rc" "$(tail -2 badtok.err)"
