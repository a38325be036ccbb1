# t5220 - OIDC providers (governance.access.oidc_oauth): two identity
# providers stood in by python3 http.server on 127.0.0.1 (discovery document
# and JWKS), /ready 503 until both key sets are loaded, tokens matched to a
# provider by iss, key rotation (a new kid verifies after the one refetch it
# triggers; tokens of the removed key stop), at most one extra fetch per
# refresh interval however many unknown kids arrive, stale key sets refused
# after max_staleness_secs, and the SDK client with --bearer.  The
# providers are tests/idp.py.
. "$TOP/tests/lib.sh"
. "$TOP/tests/conformance/node.sh"

PIDS=
trap 'for p in $PIDS; do kill -KILL "$p" 2> /dev/null; done' EXIT INT TERM
JWT="python3 $TOP/tests/jwt.py"

mkdir idp1 idp2 idp3
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out a.pem 2> /dev/null &&
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out b.pem 2> /dev/null &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out e.pem ||
	{ fail "openssl makes the test keys"; exit 0; }
echo "{\"keys\":[$($JWT jwk a.pem a RS256)]}" > idp1/keys.json
echo "{\"keys\":[$($JWT jwk e.pem e ES256)]}" > idp2/keys.json
HSECRET=this-is-a-shared-hmac-secret-of-40-bytes
echo "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"h\",\"alg\":\"HS256\",\"k\":\"$(printf %s "$HSECRET" | base64 -w0 | tr '+/' '-_' | tr -d =)\"}]}" > idp3/keys.json
P1=$(free_port) P2=$(free_port) P3=$(free_port)
I1=http://127.0.0.1:$P1 I2=http://127.0.0.1:$P2 I3=http://127.0.0.1:$P3

PORT=$(free_port)
U=http://127.0.0.1:$PORT/mcp
cat > o.yaml << EOF
gateway:
  server:
    bind_address: "127.0.0.1:$PORT"
    # Every attack below is a refused token from 127.0.0.1: no lockout here
    # (t5210 tests the failed-authentication limiter).
    failed_auth_rate_limit_per_min: 0
cluster:
  kind: single_node
governance:
  access:
    oidc_oauth:
      providers:
        - issuer: "$I1"
          audiences: [mcpg]
          verification: {kind: oidc_jwks, allowed_algs: [RS256], refresh_interval_secs: 300}
          claim_mappings: {group_claim_paths: [groups]}
        - issuer: "$I2"
          discovery_uri: "$I2/.well-known/openid-configuration"
          audiences: [mcpg, other]
          verification: {kind: oidc_jwks, allowed_algs: [ES256], refresh_interval_secs: 1,
                         max_staleness_secs: 3}
        - issuer: "$I3"
          audiences: [mcpg]
          verification: {kind: oidc_jwks, allowed_algs: [HS256, RS256], allow_hmac: true}
  audit:
    enabled: false
mcp:
  capabilities:
    tools:
      - name: secure
        description: Verified callers.
        governance: {minimum_trust: verified}
        backend: {kind: mock, response: {secure: true}}
EOF
"$MCPGC" build o.yaml -o live.img > build.out 2>&1 || { fail "build o.yaml" "$(cat build.out)"; exit 0; }

# The gateway first, the IdPs later: /ready waits for both key sets.
"$MCPG" --image "$PWD/live.img" 2> mcpg.log &
MPID=$!
PIDS="$PIDS $MPID"
n=100
while [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 "http://127.0.0.1:$PORT/health")" != 200 ] && [ $n -gt 0 ]; do
	sleep 0.02; n=$((n - 1))
done
sleep 0.3
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ready")" = 503 ] &&
	ok "ready: 503 while the providers' key sets are not loaded" ||
	fail "ready: 503 while the providers' key sets are not loaded" "$(curl -s "http://127.0.0.1:$PORT/ready")"

J='Content-Type: application/json'
A='Accept: application/json'
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t5220","version":"1"}}}'
post() {
	CODE=$(curl -s -m 10 -o out.body -D out.hdr -w '%{http_code}' -X POST -H "$J" -H "$A" \
		-H "Authorization: Bearer $1" -d "$INIT" "$U")
}
claims() { echo "{\"iss\":\"$1\",\"aud\":\"${2:-mcpg}\",\"sub\":\"u1\",\"exp\":\"\$now+300\",\"groups\":[\"g\"]}"; }
TA=$($JWT sign a.pem RS256 a "$(claims "$I1")")
TE=$($JWT sign e.pem ES256 e "$(claims "$I2" other)")
post "$TA"
[ "$CODE" = 503 ] && grep -qi '^retry-after: 1' out.hdr &&
	ok "token before the keys arrive: 503 with Retry-After, not 401, not anonymous" ||
	fail "token before the keys arrive: 503 with Retry-After, not 401, not anonymous" "$CODE $(cat out.body)"

python3 "$TOP/tests/idp.py" idp1 "$P1" & PIDS="$PIDS $!"
python3 "$TOP/tests/idp.py" idp2 "$P2" & PIDS="$PIDS $!"
python3 "$TOP/tests/idp.py" idp3 "$P3" & PIDS="$PIDS $!"
n=250
while [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 "http://127.0.0.1:$PORT/ready")" != 200 ] && [ $n -gt 0 ]; do
	sleep 0.02; n=$((n - 1))
done
[ $n -gt 0 ] && ok "ready: 200 once every provider's key set is loaded" ||
	{ fail "ready: 200 once every provider's key set is loaded" "$(tail -5 mcpg.log)"; exit 0; }

post "$TA"
[ "$CODE" = 200 ] && ok "provider 1: RS256 token verifies (discovery from the issuer)" ||
	fail "provider 1: RS256 token verifies (discovery from the issuer)" "$CODE $(cat out.body)"
post "$TE"
[ "$CODE" = 200 ] && ok "provider 2: ES256 token verifies (explicit discovery_uri, second audience)" ||
	fail "provider 2: ES256 token verifies (explicit discovery_uri, second audience)" "$CODE $(cat out.body)"
post "$($JWT sign e.pem ES256 a "$(claims "$I1")")"
[ "$CODE" = 401 ] && ok "provider choice by iss: provider 2's key cannot sign for provider 1" ||
	fail "provider choice by iss: provider 2's key cannot sign for provider 1" "$CODE"
post "$($JWT sign "$HSECRET" HS256 h "$(claims "$I3")")"
[ "$CODE" = 200 ] && ok "provider 3: HS256 with allow_hmac and a published oct key" ||
	fail "provider 3: HS256 with allow_hmac and a published oct key" "$CODE $(cat out.body)"
post "$($JWT sign a.pem RS256 h "$(claims "$I3")")"
[ "$CODE" = 401 ] && ok "provider 3: the oct key does not verify RS256 though RS256 is allowed" ||
	fail "provider 3: the oct key does not verify RS256 though RS256 is allowed" "$CODE"
post "$($JWT sign a.pem RS256 a "$(claims http://127.0.0.1:1)")"
[ "$CODE" = 401 ] && grep -q 'unknown issuer' out.body && ok "unknown issuer: 401" ||
	fail "unknown issuer: 401" "$CODE $(cat out.body)"
post "$($JWT sign a.pem RS256 a "$(claims "$I1" other)")"
[ "$CODE" = 401 ] && ok "audience of the other provider: 401" || fail "audience of the other provider: 401" "$CODE"

# Rotation at provider 1: key b replaces key a.
jwks_fetches() { grep -c '^/jwks$' idp1/fetches.log; }
before=$(jwks_fetches)
echo "{\"keys\":[$($JWT jwk b.pem b RS256)]}" > idp1/keys.json
TB=$($JWT sign b.pem RS256 b "$(claims "$I1")")
n=200
while [ $n -gt 0 ]; do
	post "$TB"
	[ "$CODE" = 200 ] && break
	sleep 0.05; n=$((n - 1))
done
[ "$CODE" = 200 ] && ok "rotation: a token with the new kid verifies after the refetch it triggers" ||
	fail "rotation: a token with the new kid verifies after the refetch it triggers" "$CODE $(cat out.body)" "$(tail -3 mcpg.log)"
post "$TA"
[ "$CODE" = 401 ] && ok "rotation: a (cached) token of the removed key is refused" ||
	fail "rotation: a (cached) token of the removed key is refused" "$CODE"
for k in x1 x2 x3 x4 x5 x6 x7 x8; do post "$($JWT sign b.pem RS256 $k "$(claims "$I1")")"; done
sleep 0.5
[ $(($(jwks_fetches) - before)) = 1 ] && ok "rotation: unknown kids cause one refetch per refresh interval" ||
	fail "rotation: unknown kids cause one refetch per refresh interval" "$(($(jwks_fetches) - before)) fetches"

# Staleness at provider 2: it goes down; its last set serves until refresh (1 s) +
# timeout (2 s) + max_staleness (3 s) after the last good fetch, then 401.
touch idp2/down
post "$TE"
[ "$CODE" = 200 ] && ok "provider down: the last good key set is still served" ||
	fail "provider down: the last good key set is still served" "$CODE"
n=120
while [ $n -gt 0 ]; do
	post "$TE"
	[ "$CODE" = 401 ] && break
	sleep 0.1; n=$((n - 1))
done
[ "$CODE" = 401 ] && grep -q 'stale' out.body && ok "provider down: after max_staleness_secs its tokens are refused" ||
	fail "provider down: after max_staleness_secs its tokens are refused" "$CODE $(cat out.body)"
post "$TB"
[ "$CODE" = 200 ] && ok "provider down: the other provider is unaffected" || fail "provider down: the other provider is unaffected" "$CODE"
rm idp2/down
n=100
while [ $n -gt 0 ]; do
	post "$TE"
	[ "$CODE" = 200 ] && break
	sleep 0.1; n=$((n - 1))
done
[ "$CODE" = 200 ] && ok "provider back: its tokens verify again" || fail "provider back: its tokens verify again" "$CODE"

# governance.access.jwks.url: the same fetcher for a plain key set URL.
sed -e '/oidc_oauth:/,/allow_hmac: true}/d' -e "s|^  access:|  access:\\
    jwks: {url: \"$I1/jwks\", issuer: \"$I1\", audience: mcpg}|" o.yaml > u.yaml
if "$MCPGC" build u.yaml -o next.img > ubuild.out 2>&1 && mv next.img live.img; then
	n=200
	while ! curl -s "http://127.0.0.1:$PORT/ready" | grep -q '"generation":2' && [ $n -gt 0 ]; do
		sleep 0.05; n=$((n - 1))
	done
	post "$TB"
	[ $n -gt 0 ] && [ "$CODE" = 200 ] && ok "jwks.url: a key set fetched from a URL verifies" ||
		fail "jwks.url: a key set fetched from a URL verifies" "$CODE $(cat out.body)" "$(tail -3 mcpg.log)"
	post "$TE"
	[ "$CODE" = 401 ] && ok "jwks.url: another issuer's token is 401" || fail "jwks.url: another issuer's token is 401" "$CODE"
else
	fail "jwks.url: builds" "$(cat ubuild.out u.yaml)"
fi

# The official SDK client with --bearer.
node_setup
case $? in
0)
	if client=$(node_script mcp-client.mjs); then
		"$N22" "$client" "$U" --bearer "$TB" --tool secure > sdk.out 2> sdk.err &&
			grep -q 'secure' sdk.out && ok "SDK client --bearer: calls a verified-only tool" ||
			fail "SDK client --bearer: calls a verified-only tool" "$(cat sdk.out sdk.err | head -20)"
		"$N22" "$client" "$U" --bearer "$TA" --tool secure > sdk2.out 2> sdk2.err
		[ $? -ne 0 ] && grep -q '401' sdk2.out sdk2.err && ok "SDK client --bearer: a revoked key's token fails with 401" ||
			fail "SDK client --bearer: a revoked key's token fails with 401" "$(cat sdk2.out sdk2.err | head -10)"
	else
		skip "SDK client --bearer" "../shared/conformance/mcp-client.mjs is absent"
	fi
	;;
*) skip "SDK client --bearer" "Node 22 and the SDK are not installable: $NODE_WHY" ;;
esac

# SIGTERM with the key fetcher running: a clean exit 0 (no sanitizer report).
kill -TERM "$MPID"
n=250
while kill -0 "$MPID" 2> /dev/null && [ $n -gt 0 ]; do sleep 0.02; n=$((n - 1)); done
wait "$MPID"
rc=$?
[ "$rc" = 0 ] && ! grep -q 'Sanitizer\|runtime error' mcpg.log && ok "SIGTERM: exits 0 with the key fetcher stopped" ||
	fail "SIGTERM: exits 0 with the key fetcher stopped" "exit $rc" "$(grep -A5 'Sanitizer\|runtime error' mcpg.log | head -20)"
