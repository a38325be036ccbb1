# t5230 - the templates with identity sources.  The OIDC ones
# (production-single-redis and multi-tenant) boot to /ready 200 with a local
# discovery stand-in, a local redis-server and an override layer that keeps
# everything on 127.0.0.1;
# multi-tenant's group-gated admin tool and its per-tenant session cap work
# on verified identities (429 for the tenant over the cap, not for another).
# air-gapped boots with the fixtures' key set and token file compiled in.
. "$TOP/tests/lib.sh"

PIDS=
trap 'for p in $PIDS; do kill -KILL "$p" 2> /dev/null; done' EXIT INT TERM
JWT="python3 $TOP/tests/jwt.py"

command -v redis-server > /dev/null || { skip "OIDC templates" "redis-server is not installed"; exit 0; }

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k.pem 2> /dev/null &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout tls.key -out tls.crt -days 1 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2> /dev/null ||
	{ fail "openssl makes the keys"; exit 0; }
mkdir idp
echo "{\"keys\":[$($JWT jwk k.pem k1 RS256)]}" > idp/keys.json
IP=$(free_port)
ISS=http://127.0.0.1:$IP
python3 "$TOP/tests/idp.py" idp "$IP" & PIDS="$PIDS $!"
RP=$(free_port)
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no --requirepass pw > redis.log 2>&1 &
PIDS="$PIDS $!"
export MCPG_REDIS_URL=redis://127.0.0.1:$RP MCPG_REDIS_PASSWORD=pw ACCOUNTS_API_TOKEN=x

# local PORT [SERVER_EXTRA]: the override layer.
local_layer() {
	cat << EOF
gateway:
  server:
    bind_address: "127.0.0.1:$1"
$2
governance:
  access:
    oidc_oauth:
      providers:
        - issuer: "$ISS"
          audiences: [mcpg-gateway]
          verification: {kind: oidc_jwks, allowed_algs: [RS256]}
          claim_mappings: {group_claim_paths: [groups]}
  audit:
    sinks:
      - kind: dev.mcpg.builtin.audit.local-file
        config: {path: ./audit-$1.log}
observability:
  metrics:
    sinks:
      - kind: dev.mcpg.observability.prometheus
        config: {path: /metrics, bind: "127.0.0.1:$(free_port)"}
EOF
}

# boot TEMPLATE PORT SCHEME: build template + layer and wait for /ready 200.
boot() {
	"$MCPGC" build "$TOP/templates/$1.yaml" "$1.local.yaml" -o "$1.img" > "$1.build" 2>&1 ||
		{ fail "$1: builds with the local layer" "$(cat "$1.build")"; return 1; }
	"$MCPG" --image "$PWD/$1.img" 2> "$1.log" &
	PIDS="$PIDS $!"
	n=400
	while [ "$(curl -sk -o /dev/null -w '%{http_code}' -m 1 "$3://127.0.0.1:$2/ready")" != 200 ] && [ $n -gt 0 ]; do
		sleep 0.025; n=$((n - 1))
	done
	[ $n -gt 0 ] && ok "$1: boots to /ready 200 with the discovery stand-in" ||
		{ fail "$1: boots to /ready 200 with the discovery stand-in" "$(tail -5 "$1.log")"; return 1; }
}

INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t5230","version":"1"}}}'
# post URL TOKEN BODY [SID]
post() {
	CODE=$(curl -sk -m 10 -o out.body -D out.hdr -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-H 'Accept: application/json' -H "Authorization: Bearer $2" ${4:+-H "Mcp-Session-Id: $4"} -d "$3" "$1")
}
tok() { $JWT sign k.pem RS256 k1 "{\"iss\":\"$ISS\",\"aud\":\"mcpg-gateway\",\"sub\":\"$1\",\"exp\":\"\$now+300\",\"groups\":$2}"; }

# production-single-redis: TLS at the listener, a verified-only tool.
P=$(free_port)
local_layer "$P" "    tls: {cert_path: $PWD/tls.crt, key_path: $PWD/tls.key}" > production-single-redis.local.yaml
if boot production-single-redis "$P" https; then
	post "https://127.0.0.1:$P/mcp" "$(tok alice '[]')" "$INIT"
	[ "$CODE" = 200 ] && ok "production-single-redis: a verified token initializes over TLS" ||
		fail "production-single-redis: a verified token initializes over TLS" "$CODE $(cat out.body)"
	post "https://127.0.0.1:$P/mcp" "x.y.z" "$INIT"
	[ "$CODE" = 401 ] && ok "production-single-redis: a bad token is 401" ||
		fail "production-single-redis: a bad token is 401" "$CODE"
fi

# multi-tenant: group-gated admin tool, max_sessions_per_tenant (2 here).
P=$(free_port)
local_layer "$P" "    max_sessions_per_tenant: 2" > multi-tenant.local.yaml
if boot multi-tenant "$P" http; then
	U=http://127.0.0.1:$P/mcp
	ADM=$(tok acme '["tenant_admins"]') USR=$(tok acme2 '["users"]')
	list() {
		post "$U" "$1" "$INIT"
		s=$(tr -d '\r' < out.hdr | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
		post "$U" "$1" '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$s"
		post "$U" "$1" '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' "$s"
	}
	list "$ADM"
	grep -q '"name":"api.admin.tenant.delete"' out.body && ok "multi-tenant: a tenant_admins member sees the admin tool" ||
		fail "multi-tenant: a tenant_admins member sees the admin tool" "$CODE $(cat out.body)"
	list "$USR"
	grep -q '"name":"api.tenant.lookup"' out.body && ! grep -q 'api.admin.tenant.delete' out.body &&
		ok "multi-tenant: another tenant does not" || fail "multi-tenant: another tenant does not" "$(cat out.body)"
	post "$U" "$ADM" "$INIT"
	c2=$CODE
	post "$U" "$ADM" "$INIT"
	[ "$c2" = 200 ] && [ "$CODE" = 429 ] && grep -q '"code":-32099' out.body &&
		ok "multi-tenant: the tenant's third session is 429 (-32099)" ||
		fail "multi-tenant: the tenant's third session is 429 (-32099)" "$CODE $(cat out.body)"
	post "$U" "$(tok acme3 '[]')" "$INIT"
	[ "$CODE" = 200 ] && ok "multi-tenant: a different tenant still gets a session" ||
		fail "multi-tenant: a different tenant still gets a session" "$CODE"
fi

# air-gapped: the pre-staged key set and token file (tests/config-fixtures)
# compiled into the image; a JWT and an API token both call the default-floor tool.
P=$(free_port)
FIX=$TOP/tests/config-fixtures
cat > air.port.yaml << EOF2
gateway:
  server:
    bind_address: "127.0.0.1:$P"
observability:
  metrics:
    sinks:
      - kind: dev.mcpg.observability.prometheus
        config: {path: /metrics, bind: "127.0.0.1:$(free_port)"}
EOF2
if "$MCPGC" build "$TOP/templates/air-gapped.yaml" "$FIX/air-gapped.local.yaml" air.port.yaml -o air.img > air.build 2>&1; then
	"$MCPG" --image "$PWD/air.img" 2> air.log &
	PIDS="$PIDS $!"
	n=250
	while [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 "http://127.0.0.1:$P/ready")" != 200 ] && [ $n -gt 0 ]; do
		sleep 0.02; n=$((n - 1))
	done
	[ $n -gt 0 ] && ok "air-gapped: boots with the fixtures' key set and tokens compiled in" ||
		fail "air-gapped: boots with the fixtures' key set and tokens compiled in" "$(tail -5 air.log mcpg-gateway.log 2> /dev/null)"
	U=http://127.0.0.1:$P/mcp
	CALL='{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"dev.mock.echo","arguments":{}}}'
	# callwith ID TOKEN
	callwith() {
		post "$U" "$2" "$INIT"
		s=$(tr -d '\r' < out.hdr | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
		post "$U" "$2" '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$s"
		post "$U" "$2" "$CALL" "$s"
		[ "$CODE" = 200 ] && grep -q 'air-gapped' out.body && ok "$1" || fail "$1" "$CODE $(cat out.body)"
	}
	callwith "air-gapped: an RS256 JWT from the pre-staged key set calls the tool" \
		"$($JWT sign "$FIX/jwks-test-rs256.key.pem" RS256 test-rs256 \
			'{"iss":"https://idp.internal","aud":"mcpg-gateway","sub":"ops","exp":"$now+300"}')"
	post "$U" "$($JWT sign "$FIX/jwks-test-es256.key.pem" ES256 test-es256 \
		'{"iss":"https://idp.internal","aud":"mcpg-gateway","sub":"ops","exp":"$now+300"}')" "$INIT"
	[ "$CODE" = 401 ] && ok "air-gapped: allowed_algs is RS256 by default, so the set's ES256 key is refused" ||
		fail "air-gapped: allowed_algs is RS256 by default, so the set's ES256 key is refused" "$CODE"
	callwith "air-gapped: the fixtures' live API token calls the tool" \
		"$(sed -n 's/^token-1735689600 //p' "$FIX/tokens.txt")"
else
	fail "air-gapped: builds with the fixtures layer" "$(cat air.build)"
fi
