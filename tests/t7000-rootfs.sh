# t7000 - the container root file system (make container-rootfs): exactly the
# files deploy/Dockerfile's scratch stage holds, a static runtime, and that
# runtime serving from inside it under chroot in fresh mount and PID
# namespaces with an empty environment (no PATH, no shell, no libraries, no
# NSS modules): /ready, a tools/call on the mock tool, names resolved from
# /etc/hosts and from a DNS server through resolv.conf's search list, and a
# clean exit 0 on SIGTERM.
. "$TOP/tests/lib.sh"

ROOTFS=$B/rootfs
UID_=65532
PIDS=
stop_all() {
	for p in $PIDS; do kill -KILL "$p" 2> /dev/null; done
	PIDS=
}
trap stop_all EXIT INT TERM

if [ ! -x "$ROOTFS/mcpg" ]; then
	fail "rootfs: $ROOTFS/mcpg exists" "run make container-rootfs (make tests builds it)"
	exit 0
fi

# ---------------------------------------------------------------------------
# The tree

(cd "$ROOTFS" && find . -mindepth 1 | sort) > tree.out
cat > tree.exp << EOF
./etc
./etc/group
./etc/mcpg
./etc/mcpg/config.img
./etc/passwd
./etc/ssl
./etc/ssl/certs
./etc/ssl/certs/ca-certificates.crt
./mcpg
./tmp
./var
./var/lib
./var/lib/mcpg
EOF
golden "rootfs: holds the runtime, the image, CA certificates, passwd and nothing else" tree.exp tree.out

if readelf -lW "$ROOTFS/mcpg" | grep -q 'INTERP\|DYNAMIC'; then
	fail "rootfs: /mcpg is statically linked" "$(readelf -lW "$ROOTFS/mcpg" | grep 'INTERP\|DYNAMIC')"
else
	ok "rootfs: /mcpg is statically linked"
fi
if readelf -SW "$ROOTFS/mcpg" | grep -q '\.debug_\|\.symtab'; then
	fail "rootfs: /mcpg is stripped"
else
	ok "rootfs: /mcpg is stripped"
fi
grep -q "^mcpg:x:$UID_:$UID_:" "$ROOTFS/etc/passwd" && ok "rootfs: non-root user mcpg ($UID_)" ||
	fail "rootfs: non-root user mcpg ($UID_)" "$(cat "$ROOTFS/etc/passwd")"
size=$(du -sb "$ROOTFS" | cut -f1)
[ "$size" -le 8000000 ] && ok "rootfs: $size bytes, within 8 MB" ||
	fail "rootfs: within 8 MB" "$size bytes"
echo "# rootfs $size bytes, /mcpg $(wc -c < "$ROOTFS/mcpg") bytes"

# What the static build leaves out is refused at boot, in one line.
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem \
	-out cert.pem -days 1 -subj /CN=localhost > /dev/null 2>&1; then
	cat > tls.yaml << EOF
gateway:
  server:
    bind_address: "127.0.0.1:$(free_port)"
    tls: {cert_path: "$PWD/cert.pem", key_path: "$PWD/key.pem"}
cluster: {kind: single_node}
governance: {audit: {enabled: false}}
EOF
	"$MCPGC" build tls.yaml -o tls.img > /dev/null 2>&1
	timeout 10 "$ROOTFS/mcpg" --image tls.img > tls.out 2> tls.err
	rc=$?
	if [ "$rc" -eq 1 ] && [ "$(grep -c '^mcpg: error: ' tls.err)" -eq 1 ]; then
		ok "static: a listener TLS image is refused at boot"
	else
		fail "static: a listener TLS image is refused at boot" "exit status $rc" "$(cat tls.err)"
	fi
	echo "# $(grep '^mcpg: error: ' tls.err)"
else
	skip "static: a listener TLS image is refused at boot" "openssl cannot make a certificate"
fi

# ---------------------------------------------------------------------------
# Running inside it

# As root: chroot as the image's user in new mount and PID namespaces.
# Otherwise the same in a user namespace, where chroot is allowed; kernels
# that refuse unprivileged user namespaces leave nothing to run with.
# env -i clears PATH too, hence the full paths.
US=$(command -v unshare) CH=$(command -v chroot || echo /usr/sbin/chroot)
if [ "$(id -u)" -eq 0 ]; then
	JAIL="$US --mount --pid --fork --kill-child $CH --userspec=$UID_:$UID_"
elif unshare --user --map-root-user --mount --pid --fork true 2> /dev/null; then
	JUID="0 of a user namespace"
	JAIL="$US --user --map-root-user --mount --pid --fork --kill-child $CH"
else
	skip "rootfs: runtime in chroot" "not root and the kernel refuses unprivileged user namespaces"
	exit 0
fi

# start ROOT LOG PORT: mcpg in ROOT; sets JPID (unshare) and MPID (mcpg).
start() {
	env -i MCPG_IMAGE=/etc/mcpg/config.img MCPG_BIND_ADDRESS="127.0.0.1:$3" \
		$JAIL "$1" /mcpg 2> "$2" &
	JPID=$!
	PIDS="$PIDS $JPID"
	n=500
	while [ "$n" -gt 0 ]; do
		# unshare's one child becomes /mcpg (chroot execs it); it can be
		# ready before a first look for it, so look after the answer.
		if [ "$(curl -s -o /dev/null -w '%{http_code}' -m 1 "http://127.0.0.1:$3/ready")" = 200 ]; then
			MPID=$(pgrep -P "$JPID" | head -1)
			[ -n "$MPID" ] && return 0
		fi
		kill -0 "$JPID" 2> /dev/null || return 1
		sleep 0.02
		n=$((n - 1))
	done
	return 1
}

# stop ID LOG: SIGTERM to mcpg; exit status 0 and the "stopped" line.
stop() {
	kill -TERM "$MPID" 2> /dev/null
	# Bounded: a lost signal must fail the case, not hang the suite.
	n=500
	while [ "$n" -gt 0 ] && kill -0 "$JPID" 2> /dev/null; do sleep 0.02; n=$((n - 1)); done
	kill -0 "$JPID" 2> /dev/null && kill -KILL "$JPID"
	wait "$JPID"
	rc=$?
	if [ "$rc" -eq 0 ] && grep -q '"msg":"stopped"' "$2"; then ok "$1"; else
		fail "$1" "exit status $rc" "$(tail -5 "$2")"
	fi
}

J='Content-Type: application/json'
A='Accept: application/json, text/event-stream'
# call PORT NAME: initialize, then tools/call NAME; the result in call.out.
call() {
	u=http://127.0.0.1:$1/mcp
	sid=$(curl -s -m 10 -D - -o /dev/null -X POST -H "$J" -H "$A" \
		-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t7000","version":"1"}}}' \
		"$u" | tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
	curl -s -m 10 -o /dev/null -X POST -H "$J" -H "$A" -H "Mcp-Session-Id: $sid" \
		-d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$u"
	curl -s -m 10 -o call.out -X POST -H "$J" -H "$A" -H "Mcp-Session-Id: $sid" \
		-d "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"$2\",\"arguments\":{}}}" \
		"$u"
}

PORT=$(free_port)
if start "$ROOTFS" run.log "$PORT"; then
	ok "chroot: /ready answers 200 (empty environment, own PID namespace, uid ${JUID:-65532})"
	call "$PORT" container.mock.echo
	grep -q '"source":"container"' call.out && grep -q '"isError":false' call.out &&
		ok "chroot: tools/call container.mock.echo answers" ||
		fail "chroot: tools/call container.mock.echo answers" "$(head -c 600 call.out)"
	stop "chroot: SIGTERM drains and exits 0" run.log
else
	fail "chroot: /ready answers 200" "$(cat run.log)"
	stop_all
fi

# ---------------------------------------------------------------------------
# Name resolution without NSS: a copy of the tree with /etc/hosts, a
# resolv.conf naming a DNS server of this test, and an image with http tools.

if [ "$(id -u)" -ne 0 ]; then
	skip "chroot: names" "the DNS stand-in needs port 53 (root)"
	exit 0
fi
cp -a "$ROOTFS" root2
BPORT=$(free_port)
DNS=127.0.0.77
cat > backend.py << 'EOF'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = ('{"backend":"t7000","host":"%s"}' % self.headers.get("Host")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
# A DNS server for one zone: svc.t7000.test has A 127.0.0.1 and no AAAA;
# every other name is NXDOMAIN.  Questions it saw go to dns.log.
cat > dns.py << 'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
print("ready", flush=True)
log = open("dns.log", "a")
while True:
    q, peer = s.recvfrom(512)
    qid, flags, qd = struct.unpack(">HHH", q[:6])
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode()); i += 1 + q[i]
    name = ".".join(labels).lower()
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    log.write("%s %d\n" % (name, qtype)); log.flush()
    if name == "svc.t7000.test":
        an = b"" if qtype != 1 else b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([127, 0, 0, 1])
        hdr = struct.pack(">HHHHHH", qid, 0x8180, 1, 1 if an else 0, 0, 0)
    else:
        an, hdr = b"", struct.pack(">HHHHHH", qid, 0x8183, 1, 0, 0, 0)
    s.sendto(hdr + question + an, peer)
EOF
python3 backend.py "$BPORT" 2> backend.log &
PIDS="$PIDS $!"
python3 dns.py "$DNS" > dns.out 2> dns.err &
DNSPID=$!
PIDS="$PIDS $DNSPID"
printf '127.0.0.1 localhost\n127.0.0.1 backend.t7000.hosts\n' > root2/etc/hosts
printf 'search t7000.test\nnameserver %s\noptions timeout:1 attempts:1\n' "$DNS" > root2/etc/resolv.conf
cat > names.yaml << EOF
gateway:
  server:
    bind_address: "\${env.MCPG_BIND_ADDRESS}"
    allow_private_backends: true
cluster:
  kind: single_node
governance:
  audit:
    enabled: false
mcp:
  capabilities:
    tools:
      - name: via.hosts
        description: A name from /etc/hosts.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: http, method: get, url: "http://backend.t7000.hosts:$BPORT/x"}
      - name: via.dns
        description: A name from DNS, through the search list.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: http, method: get, url: "http://svc:$BPORT/x"}
      - name: via.nxdomain
        description: A name nobody knows.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: http, method: get, url: "http://nowhere.invalid:$BPORT/x"}
EOF
"$MCPGC" build names.yaml -o root2/etc/mcpg/config.img > build.out 2>&1 ||
	fail "names: build the image" "$(cat build.out)"
n=100
while [ "$n" -gt 0 ] && ! grep -q ready dns.out && kill -0 "$DNSPID" 2> /dev/null; do
	sleep 0.05
	n=$((n - 1))
done
PORT=$(free_port)
if ! grep -q ready dns.out && grep -q 'Address already in use' dns.err; then
	skip "chroot: names" "a name server of this machine holds port 53 on every address"
elif ! grep -q ready dns.out; then
	fail "names: DNS stand-in on $DNS:53" "$(cat dns.err)"
elif start root2 run2.log "$PORT"; then
	call "$PORT" via.hosts
	grep -q 'backend.t7000.hosts' call.out && grep -q '"isError":false' call.out &&
		ok "chroot: an http backend's name from /etc/hosts" ||
		fail "chroot: an http backend's name from /etc/hosts" "$(head -c 600 call.out)"
	call "$PORT" via.dns
	grep -q '\\"host\\":\\"svc:' call.out && grep -q '"isError":false' call.out &&
		grep -q '^svc.t7000.test 1$' dns.log &&
		ok "chroot: an http backend's name from DNS (resolv.conf search list)" ||
		fail "chroot: an http backend's name from DNS (resolv.conf search list)" \
			"$(head -c 600 call.out)" "dns.log: $(cat dns.log)"
	call "$PORT" via.nxdomain
	grep -q '"isError":true' call.out && grep -qi 'resolve' call.out &&
		ok "chroot: an unknown name is a tool error" ||
		fail "chroot: an unknown name is a tool error" "$(head -c 600 call.out)"
	stop "chroot: second run exits 0" run2.log
else
	fail "chroot: boot with /etc/hosts and resolv.conf" "$(cat run2.log)"
fi
stop_all
