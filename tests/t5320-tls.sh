# t5320 - TLS on the listener (gateway.server.tls) with a CA, server and
# client certificates the test makes with the openssl CLI: curl --cacert
# reaches /health and a tools/call, plain HTTP and an untrusted CA fail,
# min_tls_version 1.3 refuses a TLS 1.2 client, client certificates
# (mandatory), one-line boot errors for missing or mismatched files, and a
# reload reports tls as a restart key.
. "$TOP/tests/lib.sh"

PIDS=
stop_all() {
	for p in $PIDS; do kill -KILL "$p" 2> /dev/null; done
	PIDS=
}
trap stop_all EXIT INT TERM

if ! command -v openssl > /dev/null 2>&1; then
	skip "t5320 tls" "the openssl CLI is not installed"
	exit 0
fi

# ca NAME: a self-signed CA; cert NAME CA [SAN]: a key and a certificate
# signed by CA (server certificates get SAN, client ones none).
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$1" -keyout "$1.key" -out "$1.pem" > /dev/null 2>&1
}
cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$1.key" -out "$1.csr" > /dev/null 2>&1 &&
		if [ -n "${3:-}" ]; then printf 'subjectAltName=%s\n' "$3" > "$1.ext"; else : > "$1.ext"; fi &&
		openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
			-extfile "$1.ext" -out "$1.pem" > /dev/null 2>&1
}
ca ca && cert server ca "IP:127.0.0.1,DNS:localhost" && ca other && cert client ca &&
	ok "openssl: CA, server and client certificates" || { fail "openssl: CA, server and client certificates"; exit 0; }

# cfg FILE PORT TLS_YAML
cfg() {
	cat > "$1" << EOF
gateway:
  server:
    bind_address: "127.0.0.1:$2"
    anonymous_rate_limit_per_min: 0
    allowed_origins: ["https://app.example.com"]
    tls:
$3
governance:
  audit:
    enabled: false
mcp:
  capabilities:
    tools:
      - name: echo
        description: Echo.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {ok: true}}
EOF
}

# boot ID LOG ARGS...: start mcpg, wait until it answers over TLS.
boot() {
	id=$1 log=$2
	shift 2
	CURL_OPTS="--cacert ca.pem ${CLIENT:-}"
	start_ready "$id" "$log" "https://127.0.0.1:$PORT/ready" "$MCPG" "$@"
	_rc=$?
	CURL_OPTS=
	return $_rc
}

J='Content-Type: application/json'
AJ='Accept: application/json'

PORT=$(free_port)
TLS="      cert_path: $PWD/server.pem
      key_path: $PWD/server.key"
cfg t.yaml "$PORT" "$TLS"
"$MCPGC" build t.yaml -o t.img > build.out 2>&1 || fail "build t.yaml" "$(cat build.out)"
boot "tls: boots" t.log --image "$PWD/t.img" || exit 0

curl -s --cacert ca.pem -o health.json -w '%{http_code}' "https://127.0.0.1:$PORT/health" > code
[ "$(cat code)" = 200 ] && grep -q '"status":"ok"' health.json &&
	ok "tls: curl --cacert gets 200 on /health" || fail "tls: curl --cacert gets 200 on /health" "$(cat code health.json)"
curl -s --cacert ca.pem -D h -o /dev/null -X POST -H "$J" -H "$AJ" \
	-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}' "https://localhost:$PORT/mcp"
SID=$(tr -d '\r' < h | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
curl -s --cacert ca.pem -o /dev/null -X POST -H "$J" -H "$AJ" -H "Mcp-Session-Id: $SID" \
	-d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "https://localhost:$PORT/mcp"
curl -s --cacert ca.pem -X POST -H "$J" -H "$AJ" -H "Mcp-Session-Id: $SID" \
	-d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo"}}' \
	"https://localhost:$PORT/mcp" > call.out
grep -q '"result"' call.out && grep -q '"ok":true' call.out &&
	ok "tls: a session and a tools/call over https" || fail "tls: a session and a tools/call over https" "$(cat call.out)"
origin() {
	curl -s --cacert ca.pem -o /dev/null -w '%{http_code}' -X POST -H "$J" -H "$AJ" -H "Origin: $1" \
		-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}' "https://localhost:$PORT/mcp"
}
[ "$(origin https://App.Example.com.)" = 200 ] && [ "$(origin https://evil.example.com)" = 403 ] &&
	[ "$(origin "https://localhost:$PORT")" = 403 ] &&
	ok "tls: the Origin allowlist admits its entry (case and trailing dot aside) and nothing else" ||
	fail "tls: the Origin allowlist admits its entry (case and trailing dot aside) and nothing else" \
		"$(origin https://App.Example.com.) $(origin https://evil.example.com) $(origin "https://localhost:$PORT")"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")
[ "$code" = 000 ] && ok "tls: plain HTTP to the TLS port gets no HTTP answer" ||
	fail "tls: plain HTTP to the TLS port gets no HTTP answer" "status $code"
curl -s -m 5 -o /dev/null --cacert other.pem "https://127.0.0.1:$PORT/health"
rc=$?
[ "$rc" = 60 ] && ok "tls: a client trusting another CA refuses the certificate" ||
	fail "tls: a client trusting another CA refuses the certificate" "curl exit $rc"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --cacert ca.pem --tls-max 1.2 "https://127.0.0.1:$PORT/health")
[ "$code" = 200 ] && ok "tls: min_tls_version 1.2 (default) accepts a TLS 1.2 client" ||
	fail "tls: min_tls_version 1.2 (default) accepts a TLS 1.2 client" "status $code"

# A reload that changes tls keeps the boot value and says so.
cfg t2.yaml "$PORT" "$TLS
      min_tls_version: \"1.3\""
"$MCPGC" build t2.yaml -o t2.img > /dev/null 2>&1
mv t2.img t.img
n=100
until grep -q 'changed keys need a restart' t.log || [ "$n" -eq 0 ]; do sleep 0.05; n=$((n - 1)); done
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --cacert ca.pem --tls-max 1.2 "https://127.0.0.1:$PORT/health")
grep 'changed keys need a restart' t.log | grep -q 'gateway.server.tls' && [ "$code" = 200 ] &&
	ok "tls: a reload reports gateway.server.tls as a restart key and keeps the boot value" ||
	fail "tls: a reload reports gateway.server.tls as a restart key and keeps the boot value" "status $code" "$(grep -i reload t.log)"
kill -TERM "$PID"
wait "$PID"

# min_tls_version 1.3
cfg t3.yaml "$PORT" "$TLS
      min_tls_version: \"1.3\""
"$MCPGC" build t3.yaml -o t3.img > /dev/null 2>&1
boot "tls 1.3: boots" t3.log --image "$PWD/t3.img"
curl -s -m 5 -o /dev/null --cacert ca.pem --tls-max 1.2 "https://127.0.0.1:$PORT/health"
rc=$?
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --cacert ca.pem --tlsv1.3 "https://127.0.0.1:$PORT/health")
[ "$rc" = 35 ] && [ "$code" = 200 ] &&
	ok "tls 1.3: a client capped at TLS 1.2 fails the handshake, TLS 1.3 gets 200" ||
	fail "tls 1.3: a client capped at TLS 1.2 fails the handshake, TLS 1.3 gets 200" "curl exit $rc, status $code"
kill -TERM "$PID"
wait "$PID"

# Client certificates, mandatory
cfg m.yaml "$PORT" "$TLS
      client_cert_required: mandatory
      client_ca_certs_path: $PWD/ca.pem"
"$MCPGC" build m.yaml -o m.img > build.out 2>&1 || fail "build m.yaml" "$(cat build.out)"
CLIENT="--cert client.pem --key client.key" boot "mtls: boots" m.log --image "$PWD/m.img"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --cacert ca.pem --cert client.pem --key client.key "https://127.0.0.1:$PORT/health")
[ "$code" = 200 ] && ok "mtls: a client certificate from the client CA gets 200" ||
	fail "mtls: a client certificate from the client CA gets 200" "status $code"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --cacert ca.pem "https://127.0.0.1:$PORT/health")
[ "$code" != 200 ] && ok "mtls: no client certificate is refused ($code)" ||
	fail "mtls: no client certificate is refused" "status $code"
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --cacert ca.pem --cert other.pem --key other.key "https://127.0.0.1:$PORT/health")
[ "$code" != 200 ] && ok "mtls: a certificate from another CA is refused ($code)" ||
	fail "mtls: a certificate from another CA is refused" "status $code"
kill -TERM "$PID"
wait "$PID"

# Boot errors: one line naming the key
bootfail() {
	id=$1 want=$2
	"$MCPGC" build bad.yaml -o bad.img > /dev/null 2>&1
	"$MCPG" --image bad.img > bad.out 2>&1
	rc=$?
	[ "$rc" = 1 ] && [ "$(grep -c 'error' bad.out)" = 1 ] && grep -q "^mcpg: error: $want" bad.out &&
		ok "$id" || fail "$id" "rc $rc" "$(cat bad.out)"
}
cfg bad.yaml "$PORT" "      cert_path: $PWD/missing.pem
      key_path: $PWD/server.key"
bootfail "boot: a missing certificate file is one line" "'gateway.server.tls.cert_path': cannot open '$PWD/missing.pem': No such file or directory"
cfg bad.yaml "$PORT" "      cert_path: $PWD/server.pem
      key_path: $PWD/other.key"
bootfail "boot: a key that is not the certificate's is one line" "'gateway.server.tls.key_path': '$PWD/other.key' is not the private key of the certificate"
cfg bad.yaml "$PORT" "      cert_path: $PWD/t.yaml
      key_path: $PWD/server.key"
bootfail "boot: a file that is no PEM certificate is one line" "'gateway.server.tls.cert_path': '$PWD/t.yaml' holds no PEM certificate"
