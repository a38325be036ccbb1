# t5210 - API tokens (governance.access.api_tokens): `mcpgc token
# add|list|remove`, the token file compiled into the image (sorted hashes),
# verified callers by token, expired and unknown tokens refused with 401,
# and revocation by rebuilding the image and renaming it into place.
. "$TOP/tests/lib.sh"

PIDS=
trap 'for p in $PIDS; do kill -KILL "$p" 2> /dev/null; done' EXIT INT TERM

# ---------------------------------------------------------------------------
# mcpgc token

"$MCPGC" token add --file tokens.yaml --note ci --expiry 30d > t1.out 2> add.err &&
	T1=$(cat t1.out) && [ "${#T1}" = 44 ] && ok "token add: prints a 44-character token once" ||
	fail "token add: prints a 44-character token once" "$(cat t1.out add.err)"
"$MCPGC" token add --file tokens.yaml --note other > t2.out 2> /dev/null && T2=$(cat t2.out)
h1=$(printf '%s' "$T1" | sha256sum | cut -c1-64)
grep -q "hash: $h1" tokens.yaml && ! grep -qF "$T1" tokens.yaml && ! grep -qF "$T2" tokens.yaml &&
	ok "token add: the file holds the SHA-256, never the token" ||
	fail "token add: the file holds the SHA-256, never the token" "$(cat tokens.yaml)"
[ "$(stat -c %a tokens.yaml)" = 600 ] && ok "token add: the file is mode 600" ||
	fail "token add: the file is mode 600" "$(stat -c %a tokens.yaml)"
"$MCPGC" token list --file tokens.yaml > list.out 2>&1
grep -q "$(echo "$h1" | cut -c1-12) .* active  ci$" list.out && grep -q ' never  *active  other$' list.out &&
	! grep -q "$(echo "$h1" | cut -c13-30)" list.out &&
	ok "token list: id, 12-digit hash prefix, expiry, status, note" ||
	fail "token list: id, 12-digit hash prefix, expiry, status, note" "$(cat list.out)"
expect_rc "token remove: an unknown name is exit 1" 1 "$MCPGC" token remove --file tokens.yaml nosuch
expect_rc "token: a bad --expiry is a usage error" 2 "$MCPGC" token add --file tokens.yaml --expiry 3m
expect_rc "token: no file named is a usage error" 2 "$MCPGC" token list
printf 'governance:\n  access:\n    api_tokens:\n      file: tokens.yaml\n' > cfg-only.yaml
"$MCPGC" token list --config cfg-only.yaml > list2.out 2>&1 && cmp -s list.out list2.out &&
	ok "token list --config: the file named by the config, relative to it" ||
	fail "token list --config: the file named by the config, relative to it" "$(cat list2.out)"

# ---------------------------------------------------------------------------
# The gateway

PORT=$(free_port)
U=http://127.0.0.1:$PORT/mcp
cat > t.yaml << EOF
gateway:
  server:
    bind_address: "127.0.0.1:$PORT"
    anonymous_rate_limit_per_min: 1
    anonymous_rate_limit_burst: 2
cluster:
  kind: single_node
governance:
  access:
    api_tokens:
      file: tokens.yaml
  audit:
    enabled: false
mcp:
  capabilities:
    tools:
      - name: secure
        description: Verified callers.
        governance: {minimum_trust: verified}
        backend: {kind: mock, response: {secure: true}}
    prompts:
      - name: whoami
        description: The caller.
        messages: [{text: "sub=\${identity.subject_id}"}]
        governance: {minimum_trust: verified}
EOF
"$MCPGC" build t.yaml -o live.img > build.out 2>&1 && ok "build: the token file is compiled in" ||
	fail "build: the token file is compiled in" "$(cat build.out)"
"$MCPGC" dump live.img > dump.out 2>&1
grep -qF "$T1" dump.out && fail "dump: no plain token in the image" || ok "dump: no plain token in the image"

"$MCPG" --image "$PWD/live.img" 2> mcpg.log &
PIDS="$PIDS $!"
n=250
while [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 "http://127.0.0.1:$PORT/ready")" != 200 ] && [ $n -gt 0 ]; do
	sleep 0.02; n=$((n - 1))
done
[ $n -gt 0 ] || { fail "boot" "$(cat mcpg.log)"; exit 0; }

J='Content-Type: application/json'
A='Accept: application/json'
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t5210","version":"1"}}}'
post() {
	CODE=$(curl -s -m 10 -o out.body -D out.hdr -w '%{http_code}' -X POST -H "$J" -H "$A" \
		-H "Authorization: Bearer $1" ${3:+-H "Mcp-Session-Id: $3"} -d "$2" "$U")
}
# use ID TOKEN: initialize, then whoami; passes when both work for TOKEN's id.
use() {
	post "$2" "$INIT"
	s=$(tr -d '\r' < out.hdr | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
	post "$2" '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$s"
	post "$2" '{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"whoami"}}' "$s"
	if [ "$CODE" = 200 ] && grep -q 'sub=token-' out.body; then ok "$1"; else
		fail "$1" "status $CODE" "$(head -c 300 out.body)"
	fi
}
# refused ID TOKEN
refused() {
	post "$2" "$INIT"
	if [ "$CODE" = 401 ] && grep -qi '^www-authenticate: Bearer error="invalid_token"' out.hdr; then ok "$1"; else
		fail "$1" "status $CODE" "$(head -c 300 out.body)"
	fi
}
use "token: a listed token makes a verified caller, subject = token id" "$T1"
use "token: the second token too" "$T2"
refused "token: an unknown token is 401" "bm9wZS1ub3BlLW5vcGUtbm9wZS1ub3BlLW5vcGUtbm9wZT0="
refused "token: a token one character off is 401" "$(echo "$T1" | sed 's/.$/A/; s/AA$/AB/')"

# The anonymous limiter (burst 2, 1 a minute) holds back callers below verified only.
for i in 1 2 3; do
	CODE=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -H "$J" -H "$A" -d "$INIT" "$U")
done
a3=$CODE
for i in 1 2 3 4 5; do post "$T2" "$INIT"; done
[ "$a3" = 429 ] && [ "$CODE" = 200 ] && ok "limits: the anonymous limiter stops anonymous callers, not token holders" ||
	fail "limits: the anonymous limiter stops anonymous callers, not token holders" "anonymous $a3, token $CODE"

# Revocation: remove, rebuild, rename into place; the reload applies it.
"$MCPGC" token remove --file tokens.yaml ci 2> rm.err && ! grep -q "$h1" tokens.yaml &&
	ok "token remove: by note" || fail "token remove: by note" "$(cat rm.err tokens.yaml)"
"$MCPGC" build t.yaml -o next.img > /dev/null 2>&1 && mv next.img live.img
n=200
while ! curl -s "http://127.0.0.1:$PORT/ready" | grep -q '"generation":2' && [ $n -gt 0 ]; do
	sleep 0.05; n=$((n - 1))
done
[ $n -gt 0 ] && ok "revoke: the rebuilt image is reloaded" || fail "revoke: the rebuilt image is reloaded" "$(tail -3 mcpg.log)"
refused "revoke: the removed token is refused after the reload" "$T1"
use "revoke: the other token still works" "$T2"

# The fixture file (pgEdge format, one live and one expired token).
FIX=$TOP/tests/config-fixtures
cp "$FIX/tokens.yaml" tokens.yaml
"$MCPGC" build t.yaml -o next.img > /dev/null 2>&1 && mv next.img live.img
n=200
while ! curl -s "http://127.0.0.1:$PORT/ready" | grep -q '"generation":3' && [ $n -gt 0 ]; do
	sleep 0.05; n=$((n - 1))
done
use "pgEdge file: the live fixture token works" "$(sed -n 's/^token-1735689600 //p' "$FIX/tokens.txt")"
refused "pgEdge file: the expired fixture token is 401" "$(sed -n 's/^token-1735689601 //p' "$FIX/tokens.txt")"

# Errors in the token file point into it.
printf 'tokens:\n  a:\n    hash: 1234\n  b:\n    hash: %s\n    expires_at: tomorrow\n' "$h1" > tokens.yaml
"$MCPGC" check t.yaml > bad.out 2>&1
grep -q 'tokens.yaml:3:11: error: token .a.: .hash. must be 64' bad.out &&
	grep -q 'tokens.yaml:6:17: error: token .b.: .expires_at. is not an RFC 3339' bad.out &&
	ok "check: token file errors are reported at their place in the file" ||
	fail "check: token file errors are reported at their place in the file" "$(cat bad.out)"
rm tokens.yaml
"$MCPGC" check t.yaml > miss.out 2>&1
grep -q 't.yaml:11:13: error: .governance.access.api_tokens.file.: cannot read' miss.out &&
	ok "check: a missing token file is an error at the key" ||
	fail "check: a missing token file is an error at the key" "$(cat miss.out)"

# The failed-authentication limiter (burst 3, 1 a minute), over HTTP: three
# refused tokens are 401, then the client is held back with 429 and
# Retry-After, a good token included (its credential is not even looked at),
# while another client address is not.
cp "$FIX/tokens.yaml" tokens.yaml
PORT2=$(free_port)
sed -e "s|127.0.0.1:$PORT|127.0.0.1:$PORT2|" \
    -e 's|^    anonymous_rate_limit_burst: 2$|    anonymous_rate_limit_burst: 2\n    failed_auth_rate_limit_per_min: 1\n    failed_auth_rate_limit_burst: 3\n    trusted_proxies: ["127.0.0.1/32"]|' \
    -e "s|^    enabled: false$|    enabled: true\n    sinks:\n      - kind: dev.mcpg.builtin.audit.local-file\n        config: {path: $PWD/lock-audit.log}|" \
    t.yaml > lock.yaml
"$MCPGC" build lock.yaml -o lock.img > lock.out 2>&1 || fail "lockout: build" "$(cat lock.out)"
"$MCPG" --image "$PWD/lock.img" 2> lock.log &
PIDS="$PIDS $!"
n=250
while [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 "http://127.0.0.1:$PORT2/ready")" != 200 ] && [ $n -gt 0 ]; do
	sleep 0.02; n=$((n - 1))
done
U=http://127.0.0.1:$PORT2/mcp
codes=
for i in 1 2 3 4; do
	post "bm9wZS1ub3BlLW5vcGUtbm9wZS1ub3BlLW5vcGUtbm9wZT0=" "$INIT"
	codes="$codes $CODE"
done
[ "$codes" = " 401 401 401 429" ] && grep -qi '^retry-after: [1-9]' out.hdr &&
	ok "lockout: three refused tokens, then 429 with Retry-After" ||
	fail "lockout: three refused tokens, then 429 with Retry-After" "$codes" "$(cat out.hdr)"
post "$(sed -n 's/^token-1735689600 //p' "$FIX/tokens.txt")" "$INIT"
[ "$CODE" = 429 ] && ok "lockout: a good token from the locked-out client waits too" ||
	fail "lockout: a good token from the locked-out client waits too" "status $CODE"
CODE=$(curl -s -m 10 -o out.body -w '%{http_code}' -X POST -H "$J" -H "$A" -H "X-Forwarded-For: 192.0.2.7" \
	-H "Authorization: Bearer $(sed -n 's/^token-1735689600 //p' "$FIX/tokens.txt")" -d "$INIT" "$U")
[ "$CODE" = 200 ] && ok "lockout: another client (X-Forwarded-For from a trusted proxy) is not held back" ||
	fail "lockout: another client (X-Forwarded-For from a trusted proxy) is not held back" "status $CODE"
# The records are not waited for by the 401s: give the writer a moment.
k=100
while [ "$(grep -c '"action":"mcpg.auth.failed"' lock-audit.log 2> /dev/null)" -lt 3 ] && [ $k -gt 0 ]; do
	sleep 0.02; k=$((k - 1))
done
n=$(grep -c '"action":"mcpg.auth.failed"' lock-audit.log 2> /dev/null)
[ "$n" = 3 ] && "$MCPGC" audit-verify lock-audit.log > /dev/null 2>&1 &&
	ok "audit: each refused token left one mcpg.auth.failed record (the held-back ones none)" ||
	fail "audit: each refused token left one mcpg.auth.failed record (the held-back ones none)" "$n records" "$(head -c 600 lock-audit.log)"
