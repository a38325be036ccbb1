# t5200 - bearer JWTs against a static key set (governance.access.jwks with
# keys_json and keys_file): RS256, PS256, ES256 and EdDSA tokens made with
# keys this suite generates, the verified identity (groups, scopes, tenant)
# seen by minimum_trust and allow_if, and each attack on its own line: every
# one must be a 401 with WWW-Authenticate: Bearer error="invalid_token" and
# a JSON-RPC error body, none a 500, none served as anonymous.
. "$TOP/tests/lib.sh"

PIDS=
trap 'for p in $PIDS; do kill -KILL "$p" 2> /dev/null; done' EXIT INT TERM
JWT="python3 $TOP/tests/jwt.py"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2> /dev/null &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem &&
	openssl genpkey -algorithm ED25519 -out ed.pem &&
	openssl pkey -in rsa.pem -pubout -out rsa.pub.pem ||
	{ fail "openssl makes the test keys"; exit 0; }
ps=$($JWT jwk rsa.pem p1 PS256)
echo "{\"keys\":[$($JWT jwk rsa.pem r1 RS256),$ps,$($JWT jwk ec.pem e1 ES256),$($JWT jwk ed.pem d1 EdDSA)]}" > keys.json

PORT=$(free_port)
U=http://127.0.0.1:$PORT/mcp
ISS=https://idp.test
cat > base.yaml << EOF
gateway:
  server:
    bind_address: "127.0.0.1:$PORT"
    failed_auth_rate_limit_per_min: 0  # the attacks: no lockout (t5210 tests it)
cluster:
  kind: single_node
governance:
  access:
    jwks:
      keys_file: keys.json
      issuer: "$ISS"
      audience: mcpg-test
      allowed_algs: [RS256, PS256, ES256, EdDSA]
      claim_mappings:
        group_claim_paths: [groups, realm.roles]
        tenant_claim: org
  audit:
    enabled: false
mcp:
  capabilities:
    tools:
      - name: open
        description: Anyone.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {open: true}}
      - name: secure
        description: Verified callers.
        governance: {minimum_trust: verified}
        backend: {kind: mock, response: {secure: true}}
      - name: admins
        description: Verified admins.
        governance: {minimum_trust: verified, allow_if: '"admins" in identity.groups'}
        backend: {kind: mock, response: {admins: true}}
      - name: scoped
        description: Needs the read scope.
        governance: {minimum_trust: verified, required_scopes: [read]}
        backend: {kind: mock, response: {scoped: true}}
    prompts:
      - name: whoami
        description: The caller's identity.
        messages: [{text: "sub=\${identity.subject_id} tenant=\${identity.tenant}"}]
        governance: {minimum_trust: verified}
EOF
"$MCPGC" build base.yaml -o live.img > build.out 2>&1 && ok "build: keys_file compiled into the image" ||
	fail "build: keys_file compiled into the image" "$(cat build.out)"

# The key set is in the image: the file can go.
mv keys.json keys.json.away
"$MCPG" --image "$PWD/live.img" 2> mcpg.log &
PIDS="$PIDS $!"
n=250
while [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 "http://127.0.0.1:$PORT/ready")" != 200 ] && [ $n -gt 0 ]; do
	sleep 0.02; n=$((n - 1))
done
[ $n -gt 0 ] && ok "boot: /ready 200 with the key file gone (it is in the image)" ||
	{ fail "boot: /ready 200" "$(cat mcpg.log)"; exit 0; }

J='Content-Type: application/json'
A='Accept: application/json'
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t5200","version":"1"}}}'
# post AUTH BODY [SID]: sets CODE; body in out.body, headers in out.hdr.
post() {
	if [ -n "$1" ]; then
		CODE=$(curl -s -m 10 -o out.body -D out.hdr -w '%{http_code}' -X POST -H "$J" -H "$A" \
			-H "$1" ${3:+-H "Mcp-Session-Id: $3"} -d "$2" "$U")
	else
		CODE=$(curl -s -m 10 -o out.body -D out.hdr -w '%{http_code}' -X POST -H "$J" -H "$A" \
			${3:+-H "Mcp-Session-Id: $3"} -d "$2" "$U")
	fi
}
sid() { tr -d '\r' < out.hdr | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p'; }
call() { echo "{\"jsonrpc\":\"2.0\",\"id\":$(date +%s%N),\"method\":\"tools/call\",\"params\":{\"name\":\"$1\",\"arguments\":{}}}"; }
LIST='{"jsonrpc":"2.0","id":3,"method":"tools/list"}'

# session AUTH: initialize with AUTH and print the session id.
session() {
	post "$1" "$INIT"
	_s=$(sid)
	post "$1" '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$_s"
	echo "$_s"
}

good_claims() {
	echo "{\"iss\":\"$ISS\",\"aud\":\"mcpg-test\",\"sub\":\"${1:-alice}\",\"exp\":\"\$now+300\",\"groups\":[\"dev\"],\"realm\":{\"roles\":[\"admins\"]},\"scope\":\"read write\",\"org\":\"acme\"}"
}

# valid ID ALG KEY KID: a session and a verified-only call with that token.
valid() {
	tok=$($JWT sign "$3" "$2" "$4" "$(good_claims)")
	s=$(session "Authorization: Bearer $tok")
	post "Authorization: Bearer $tok" "$(call secure)" "$s"
	if [ "$CODE" = 200 ] && grep -q '"secure":true' out.body; then ok "$1"; else
		fail "$1" "status $CODE" "$(head -c 400 out.body)" "$(tail -3 mcpg.log)"
	fi
}
valid "valid: RS256 token calls a verified-only tool" RS256 rsa.pem r1
valid "valid: PS256 token" PS256 rsa.pem p1
valid "valid: ES256 token (JOSE R||S signature)" ES256 ec.pem e1
valid "valid: EdDSA (Ed25519) token" EdDSA ed.pem d1

TOK=$($JWT sign rsa.pem RS256 r1 "$(good_claims)")
AUTH="Authorization: Bearer $TOK"
S1=$(session "$AUTH")
post "$AUTH" "$LIST" "$S1"
grep -q '"name":"secure"' out.body && grep -q '"name":"admins"' out.body &&
	ok "lists: a verified admin sees secure and admins" || fail "lists: a verified admin sees secure and admins" "$(cat out.body)"
post "$AUTH" '{"jsonrpc":"2.0","id":"w","method":"prompts/get","params":{"name":"whoami"}}' "$S1"
grep -q 'sub=alice tenant=acme' out.body &&
	ok "identity: subject and tenant from the claim mappings reach templates" ||
	fail "identity: subject and tenant from the claim mappings reach templates" "$(cat out.body)"
post "$AUTH" "$(call admins)" "$S1"
[ "$CODE" = 200 ] && grep -q '"admins":true' out.body &&
	ok "allow_if: a group from a nested claim path (realm.roles) admits the call" ||
	fail "allow_if: a group from a nested claim path (realm.roles) admits the call" "$(cat out.body)"
post "$AUTH" "$(call secure)" "$S1"
post "$AUTH" "$(call secure)" "$S1"
[ "$CODE" = 200 ] && ok "cache: the same token again is accepted" || fail "cache: the same token again is accepted" "$CODE"

# A session a verified caller started is theirs alone.
post "Authorization: Bearer $($JWT sign ec.pem ES256 e1 "$(good_claims)")" "$(call secure)" "$S1"
[ "$CODE" = 200 ] && ok "session: its owner with another token (same subject) may use it" ||
	fail "session: its owner with another token (same subject) may use it" "$CODE $(cat out.body)"
post "Authorization: Bearer $($JWT sign rsa.pem RS256 r1 "$(good_claims mallory)")" "$(call secure)" "$S1"
[ "$CODE" = 404 ] && ok "session: another verified subject gets 404 for it" ||
	fail "session: another verified subject gets 404 for it" "$CODE $(cat out.body)"
post "" "$(call open)" "$S1"
[ "$CODE" = 404 ] && ok "session: an anonymous caller gets 404 for it" ||
	fail "session: an anonymous caller gets 404 for it" "$CODE $(cat out.body)"

NOADM=$($JWT sign rsa.pem RS256 r1 "{\"iss\":\"$ISS\",\"aud\":\"mcpg-test\",\"sub\":\"bob\",\"exp\":\"\$now+300\",\"groups\":[\"dev\"]}")
S2=$(session "Authorization: Bearer $NOADM")
post "Authorization: Bearer $NOADM" "$LIST" "$S2"
grep -q '"name":"secure"' out.body && ! grep -q '"name":"admins"' out.body && ! grep -q '"name":"scoped"' out.body &&
	ok "authz: allow_if and required_scopes hide tools from a verified non-admin" ||
	fail "authz: allow_if and required_scopes hide tools from a verified non-admin" "$(cat out.body)"
post "Authorization: Bearer $NOADM" "$(call admins)" "$S2"
[ "$CODE" = 200 ] && grep -q '"code":-32602' out.body && ! grep -q '"admins":true' out.body &&
	ok "authz: a call the caller may not make is refused as an unknown tool" ||
	fail "authz: a call the caller may not make is refused as an unknown tool" "$CODE $(cat out.body)"

# No token: anonymous, the verified-only binding is neither listed nor callable.
S0=$(session "")
post "" "$LIST" "$S0"
grep -q '"name":"open"' out.body && ! grep -q '"name":"secure"' out.body &&
	ok "anonymous: verified-only tools are not listed" || fail "anonymous: verified-only tools are not listed" "$(cat out.body)"
# 401 with a bare Bearer challenge (no token: no error code, RFC 6750 3.1),
# the same for a name that does not exist, so names do not leak.
post "" "$(call secure)" "$S0"
[ "$CODE" = 401 ] && grep -q '"code":-32000' out.body && ! grep -q '"secure":true' out.body &&
	grep -qi '^WWW-Authenticate: Bearer realm="mcpg"' out.hdr &&
	ok "attack: missing token on a verified-only binding is refused" ||
	fail "attack: missing token on a verified-only binding is refused" "$CODE $(cat out.hdr out.body)"
cp out.body secure.body
post "" "$(call no_such_tool)" "$S0"
sed 's/"id":[^,]*,//' secure.body > a.noid
sed 's/"id":[^,]*,//' out.body > b.noid
[ "$CODE" = 401 ] && cmp -s a.noid b.noid &&
	ok "anonymous: an unknown name gets the same 401 (names do not leak)" ||
	fail "anonymous: an unknown name gets the same 401 (names do not leak)" "$CODE $(cat out.body secure.body)"

# refused ID AUTH: the token is refused with 401 on initialize and on a call.
refused() {
	id=$1
	post "$2" "$INIT"
	c1=$CODE
	grep -qi '^www-authenticate: Bearer error="invalid_token"' out.hdr || c1="$c1 (no WWW-Authenticate)"
	grep -q '"jsonrpc":"2.0","id":null,"error":{"code":-32000' out.body || c1="$c1 (no JSON-RPC error body)"
	post "$2" "$(call secure)" "$S1"
	if [ "$c1" = 401 ] && [ "$CODE" = 401 ] && ! grep -q '"secure":true' out.body; then ok "$id"; else
		fail "$id" "initialize: $c1, call: $CODE" "$(head -c 300 out.body)" "$(grep -i www-auth out.hdr)"
	fi
}
h64() { printf '%s' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }
hdr=$(echo "$TOK" | cut -d. -f1) pay=$(echo "$TOK" | cut -d. -f2) sig=$(echo "$TOK" | cut -d. -f3)

refused "attack: alg none" "Authorization: Bearer $($JWT sign x none r1 "$(good_claims)")"
refused "attack: alg none with an empty kid-less header" "Authorization: Bearer $(h64 '{"alg":"none"}').$pay."
refused "attack: HS256 signed with the RSA public key as secret" \
	"Authorization: Bearer $($JWT sign rsa.pub.pem HS256 r1 "$(good_claims)")"
refused "attack: expired token" "Authorization: Bearer $($JWT sign rsa.pem RS256 r1 \
	"{\"iss\":\"$ISS\",\"aud\":\"mcpg-test\",\"sub\":\"a\",\"exp\":\"\$now-600\"}")"
refused "attack: not yet valid (nbf an hour ahead)" "Authorization: Bearer $($JWT sign rsa.pem RS256 r1 \
	"{\"iss\":\"$ISS\",\"aud\":\"mcpg-test\",\"sub\":\"a\",\"exp\":\"\$now+7200\",\"nbf\":\"\$now+3600\"}")"
refused "attack: wrong issuer" "Authorization: Bearer $($JWT sign rsa.pem RS256 r1 \
	"{\"iss\":\"https://evil.test\",\"aud\":\"mcpg-test\",\"sub\":\"a\",\"exp\":\"\$now+300\"}")"
refused "attack: wrong audience" "Authorization: Bearer $($JWT sign rsa.pem RS256 r1 \
	"{\"iss\":\"$ISS\",\"aud\":[\"other\"],\"sub\":\"a\",\"exp\":\"\$now+300\"}")"
refused "attack: no exp" "Authorization: Bearer $($JWT sign rsa.pem RS256 r1 \
	"{\"iss\":\"$ISS\",\"aud\":\"mcpg-test\",\"sub\":\"a\"}")"
refused "attack: unknown kid" "Authorization: Bearer $($JWT sign rsa.pem RS256 nope "$(good_claims)")"
refused "attack: key pinned to RS256 used with PS256" "Authorization: Bearer $($JWT sign rsa.pem PS256 r1 "$(good_claims)")"
refused "attack: tampered payload" "Authorization: Bearer $hdr.$(h64 "$(good_claims mallory | sed 's/"\$now+300"/9999999999/')").$sig"
refused "attack: tampered signature" "Authorization: Bearer $hdr.$pay.$(echo "$sig" | rev)"
refused "attack: oversized token (9000 bytes)" "Authorization: Bearer $hdr.$(head -c 6000 /dev/zero | base64 -w0 | tr -d '=').$sig"
refused "attack: malformed base64" "Authorization: Bearer $hdr.$pay!.$sig"
refused "attack: wrong scheme (Basic)" "Authorization: Basic $(printf 'a:b' | base64)"
refused "attack: empty bearer" "Authorization: Bearer "
refused "attack: API token when none are configured" "Authorization: Bearer abcdef"

grep -q '"msg":"authentication failed"' mcpg.log && ok "log: failures are logged with a reason" ||
	fail "log: failures are logged with a reason" "$(tail -3 mcpg.log)"
grep -q 'Internal\|"status":500' mcpg.log && fail "no 500 in the log" "$(grep -m3 '500' mcpg.log)" ||
	ok "no 500 in the log"

# keys_json (inline) compiles and verifies the same tokens.
sed -e "s|keys_file: keys.json|keys_json: '$(cat keys.json.away)'|" base.yaml > inline.yaml
if "$MCPGC" build inline.yaml -o live.img.new > build2.out 2>&1 && mv live.img.new live.img; then
	n=200
	while ! curl -s "http://127.0.0.1:$PORT/ready" | grep -q '"generation":2' && [ $n -gt 0 ]; do
		sleep 0.05; n=$((n - 1))
	done
	post "$AUTH" "$INIT"
	[ $n -gt 0 ] && [ "$CODE" = 200 ] && ok "keys_json: inline key set verifies after a reload" ||
		fail "keys_json: inline key set verifies after a reload" "$CODE" "$(tail -3 mcpg.log)"
else
	fail "keys_json: inline key set builds" "$(cat build2.out)"
fi

# keys_file errors point at the key.
sed -e "s|keys_file: keys.json|keys_file: missing.json|" base.yaml > missing.yaml
"$MCPGC" check missing.yaml > miss.out 2>&1
grep -q 'missing.yaml:10:[0-9]*: error: .*cannot read' miss.out && ok "compile: a missing keys_file is an error at the key" ||
	fail "compile: a missing keys_file is an error at the key" "$(cat miss.out)"
echo '{"keys":[{"kty":"oct","k":"AAAA"}]}' > bad.json
sed -e "s|keys_file: keys.json|keys_file: bad.json|" base.yaml > bad.yaml
"$MCPGC" check bad.yaml > bad.out 2>&1
grep -q 'bad.yaml:10:[0-9]*: error: .*no key usable' bad.out && ok "compile: an unusable key set is an error at the key" ||
	fail "compile: an unusable key set is an error at the key" "$(cat bad.out)"
