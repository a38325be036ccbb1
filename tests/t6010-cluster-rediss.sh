# t6010 - rediss://: two replicas share a session through a redis-server
# that speaks TLS only (--port 0 --tls-port), with a test CA made here by the
# openssl CLI and an ACL user (AUTH username password).  hiredis 0.14 has no
# TLS: mcpg runs hiredis' RESP reader over its own OpenSSL connection.  A
# server certificate from another CA and a wrong password stop the boot
# with one line naming the cause.
. "$TOP/tests/lib.sh"
. "$TOP/tests/lib-cluster.sh"

redis-server --help 2>&1 | grep -q tls-port || redis-server --version | grep -q 'v=[6-9]' ||
	{ skip "rediss" "this redis-server has no TLS"; exit 0; }

# A test CA and a server certificate for 127.0.0.1 (lib-cluster.sh).
make_ca || { fail "openssl makes the test CA" "$(cat ssl.log)"; exit 0; }

TP=$(free_port)
RCLI_ARGS="--tls --cacert $PWD/ca.crt --user mcpg --pass s3cret --no-auth-warning"
start_redis "$TP" --port 0 --tls-port "$TP" --tls-cert-file "$PWD/srv.crt" --tls-key-file "$PWD/srv.key" \
	--tls-ca-cert-file "$PWD/ca.crt" --tls-auth-clients no \
	--user mcpg on ">s3cret" "~*" "&*" "+@all" --user default off ||
	{ fail "redis-server starts with TLS"; exit 0; }
RP=$TP
ok "redis-server listens with TLS only"

# cfg FILE CA PASSWORD
cfg_tls() {
	cat > "$1" << EOF
gateway:
  server:
    bind_address: "127.0.0.1:\${env.PORT}"
    anonymous_rate_limit_per_min: 0
governance:
  audit:
    enabled: false
cluster:
  kind: redis
  url: "rediss://127.0.0.1:$TP"
  username: mcpg
  password: "$3"
  tls:
    ca_cert_path: "$2"
  key_prefix: "t6010:"
mcp:
  capabilities:
    tools:
      - name: echo
        description: Echo.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {ok: true}}
EOF
}

cfg_tls good.yaml "$PWD/ca.crt" s3cret
"$MCPGC" build good.yaml -o good.img > build.out 2>&1 || { fail "build" "$(cat build.out)"; exit 0; }
PA=$(free_port) PB=$(free_port)
boot_mcpg A a.log "$PA" --image good.img && boot_mcpg B b.log "$PB" --image good.img &&
	ok "two replicas boot on rediss:// with the test CA and an ACL user" || { fail "boot on rediss://"; exit 0; }
init "$PA" "$PB"
call "$PB" "$SID" 2 echo
want "a session opened on A over TLS is served by B" 200 '"ok":true'
# shellcheck disable=SC2086
[ "$(redis-cli -p "$TP" $RCLI_ARGS exists "t6010:sess.$SID")" = 1 ] &&
	ok "the record is in the TLS-only server" || fail "the record is in the TLS-only server"
curl -s -m 2 "http://127.0.0.1:$PA/ready" | grep -q '"cluster":"redis up"' &&
	ok "/ready: redis up over TLS" || fail "/ready: redis up over TLS" "$(curl -s http://127.0.0.1:$PA/ready)"

# The wrong CA: the server certificate does not verify.
cfg_tls bad-ca.yaml "$PWD/other.crt" s3cret
"$MCPGC" build bad-ca.yaml -o bad-ca.img > /dev/null 2>&1
PORT=$(free_port) timeout 20 "$MCPG" --image bad-ca.img > /dev/null 2> bad-ca.err
rc=$?
[ $rc = 1 ] && tail -1 bad-ca.err | grep -q "cannot reach the redis coordinator: redis 127.0.0.1:$TP: TLS: .*certificate" &&
	ok "a server certificate from another CA stops the boot: $(tail -1 bad-ca.err | sed 's/.*coordinator: //; s/ (set .*//')" ||
	fail "a server certificate from another CA stops the boot" "rc $rc" "$(cat bad-ca.err)"

# The wrong password.
cfg_tls bad-pw.yaml "$PWD/ca.crt" zq-bad-9x
"$MCPGC" build bad-pw.yaml -o bad-pw.img > /dev/null 2>&1
PORT=$(free_port) timeout 20 "$MCPG" --image bad-pw.img > /dev/null 2> bad-pw.err
rc=$?
[ $rc = 1 ] && tail -1 bad-pw.err | grep -q "AUTH: WRONGPASS" &&
	ok "a wrong password stops the boot, naming AUTH" || fail "a wrong password stops the boot" "rc $rc" "$(cat bad-pw.err)"
grep -q zq-bad-9x bad-pw.err && fail "the password stays out of the message" "$(cat bad-pw.err)" ||
	ok "the password stays out of the message"
