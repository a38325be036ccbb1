# t6200 - the production-redis-cluster and production-nats-cluster templates
# boot as they ship, each with a local override layer
# (MCPG_CONFIG=template:override.yaml) that only points listeners and files
# at this machine: two replicas of each share a session through a real
# redis-server (with requirepass) and a real nats-server with JetStream and
# TLS (the template requires TLS; the override supplies the test CA).
. "$TOP/tests/lib.sh"
. "$TOP/tests/lib-cluster.sh"

# The templates' OIDC provider (example.okta.com) is replaced by a local
# discovery stand-in: /ready waits for every provider's keys.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out idp.pem 2> /dev/null ||
	{ fail "openssl makes the IdP key"; exit 0; }
mkdir idp
echo "{\"keys\":[$(python3 "$TOP/tests/jwt.py" jwk idp.pem k1 RS256)]}" > idp/keys.json
IDP_PORT=$(free_port)
python3 "$TOP/tests/idp.py" idp "$IDP_PORT" &
PIDS="$PIDS $!"

# override FILE PORT METRICS_PORT [CLUSTER_YAML]
override() {
	cat > "$1" << EOF
gateway:
  server:
    bind_address: "127.0.0.1:$2"
    allowed_origins: ["http://127.0.0.1:$2"]
governance:
  access:
    oidc_oauth:
      providers:
        - issuer: "http://127.0.0.1:$IDP_PORT"
          audiences: [mcpg-gateway]
          verification: {kind: oidc_jwks, allowed_algs: [RS256]}
  audit:
    sinks:
      - kind: dev.mcpg.builtin.audit.local-file
        config:
          path: "$PWD/audit-$2.log"
observability:
  metrics:
    sinks:
      - kind: dev.mcpg.observability.prometheus
        config:
          path: /metrics
          bind: "127.0.0.1:$3"
${4:-}
EOF
}

export ACCOUNTS_API_TOKEN=t6200-token MCPG_REDIS_PASSWORD=t6200-pass

# --- production-redis-cluster --------------------------------------------
RP=$(free_port)
RCLI_ARGS="-a t6200-pass --no-auth-warning"
start_redis "$RP" --requirepass t6200-pass || { fail "redis-server starts"; exit 0; }
export MCPG_REDIS_URL="redis://127.0.0.1:$RP/0"
P1=$(free_port) M1=$(free_port) P2=$(free_port) M2=$(free_port)
override r1.yaml "$P1" "$M1"
override r2.yaml "$P2" "$M2"
export TMPDIR="$PWD"
MCPG_CONFIG="$TOP/templates/production-redis-cluster.yaml:$PWD/r1.yaml" boot_mcpg R1 r1.log "$P1" &&
MCPG_CONFIG="$TOP/templates/production-redis-cluster.yaml:$PWD/r2.yaml" boot_mcpg R2 r2.log "$P2" &&
	ok "production-redis-cluster + override: two replicas ready on redis" ||
	fail "production-redis-cluster boots" "$(tail -3 r1.log r2.log)"
init "$P1" "$P2"
post "$P2" "$SID" '{"jsonrpc":"2.0","id":2,"method":"ping"}'
want "production-redis-cluster: a session opened on one replica answers on the other" 200 '"result":{}'
# shellcheck disable=SC2086
[ "$(redis-cli -p "$RP" $RCLI_ARGS exists "mcpg:prod:sess.$SID")" = 1 ] &&
	ok "production-redis-cluster: the record sits under key_prefix mcpg:prod:" ||
	fail "production-redis-cluster: the record sits under key_prefix mcpg:prod:" "$(redis-cli -p "$RP" $RCLI_ARGS keys '*')"
curl -s -m 2 "http://127.0.0.1:$M1/metrics" | grep -q '^mcpg_cluster_up{kind="redis"} 1' &&
	ok "production-redis-cluster: the metrics listener reports the coordinator" ||
	fail "production-redis-cluster: metrics" "$(curl -s -m 2 "http://127.0.0.1:$M1/metrics" | grep cluster)"

# --- production-nats-cluster ---------------------------------------------
# A test CA and a server certificate for 127.0.0.1 (lib-cluster.sh).
make_ca || { fail "openssl makes the test CA" "$(cat ssl.log)"; exit 0; }
NP=$(free_port)
mkdir -p js
nats-server -a 127.0.0.1 -p "$NP" -js -sd "$PWD/js" --tls --tlscert "$PWD/srv.crt" \
	--tlskey "$PWD/srv.key" > nats.log 2>&1 &
PIDS="$PIDS $!"
n=0
while [ $n -lt 250 ] && ! grep -qs 'Server is ready' nats.log; do sleep 0.02; n=$((n + 1)); done
export MCPG_NATS_URL="tls://127.0.0.1:$NP"
NC="cluster:
  tls:
    ca_cert: $PWD/ca.crt
  jetstream:
    replicas: 1"
P3=$(free_port) M3=$(free_port) P4=$(free_port) M4=$(free_port)
override n1.yaml "$P3" "$M3" "$NC"
override n2.yaml "$P4" "$M4" "$NC"
HOSTNAME=replica-a MCPG_CONFIG="$TOP/templates/production-nats-cluster.yaml:$PWD/n1.yaml" boot_mcpg N1 n1.log "$P3" &&
HOSTNAME=replica-b MCPG_CONFIG="$TOP/templates/production-nats-cluster.yaml:$PWD/n2.yaml" boot_mcpg N2 n2.log "$P4" &&
	ok "production-nats-cluster + override: two replicas ready on NATS over TLS" ||
	fail "production-nats-cluster boots" "$(tail -3 n1.log n2.log)"
init "$P3" "$P4"
post "$P4" "$SID" '{"jsonrpc":"2.0","id":2,"method":"ping"}'
want "production-nats-cluster: a session opened on one replica answers on the other" 200 '"result":{}'
curl -s -m 2 "http://127.0.0.1:$M3/metrics" | grep -q '^mcpg_cluster_up{kind="nats"} 1' &&
	ok "production-nats-cluster: the metrics listener reports the coordinator" ||
	fail "production-nats-cluster: metrics" "$(curl -s -m 2 "http://127.0.0.1:$M3/metrics" | grep cluster)"

# The same template without the test CA: the server's certificate does not
# verify against the system store, and the boot stops.
override n3.yaml "$(free_port)" "$(free_port)" "cluster:
  tls:
    ca_cert: /etc/ssl/certs/ca-certificates.crt
  jetstream:
    replicas: 1"
HOSTNAME=replica-c MCPG_CONFIG="$TOP/templates/production-nats-cluster.yaml:$PWD/n3.yaml" timeout 20 "$MCPG" > /dev/null 2> n3.err
rc=$?
[ $rc = 1 ] && tail -1 n3.err | grep -q "cannot reach the nats coordinator" &&
	ok "production-nats-cluster with an untrusted server certificate: exit 1 ($(tail -1 n3.err | sed 's/.*coordinator: //; s/ (set .*//'))" ||
	fail "production-nats-cluster with an untrusted server certificate: exit 1" "rc $rc" "$(tail -2 n3.err)"
