# t6250 - deploy/: the files parse, say what they must, and work where this
# machine can run them.  YAML is loaded with python3's yaml module (skipped
# without it); the Kubernetes config and the compose layers pass mcpgc;
# nginx -t accepts deploy/nginx.conf (replica names pointed at 127.0.0.1);
# and that nginx config, run for real with a test certificate, balances
# MCP traffic over three replicas on one redis-server: one session, calls
# spread over all three, an SSE stream through the proxy.
. "$TOP/tests/lib.sh"
. "$TOP/tests/lib-cluster.sh"

D=$TOP/deploy

# --- YAML well-formed, and the shape Kubernetes and compose need ----------
if python3 -c 'import yaml' 2> /dev/null; then
	python3 - "$D" > yaml.out 2>&1 << 'EOF'
import sys, yaml, glob, os
d = sys.argv[1]
bad = []
docs = {}
for f in sorted(glob.glob(d + "/*.yml") + glob.glob(d + "/*.yaml") + glob.glob(d + "/k8s/*.yaml")):
    try:
        docs[os.path.relpath(f, d)] = list(yaml.safe_load_all(open(f)))
    except Exception as e:
        bad.append("%s: %s" % (f, e))
print("parsed", len(docs), "files")
if bad:
    print("\n".join(bad)); sys.exit(1)
k = {}
for name, ds in docs.items():
    if name.startswith("k8s/"):
        for x in ds:
            k[x["kind"]] = x
def need(cond, what):
    if not cond:
        print("missing:", what); need.bad = True
need.bad = False
for kind in ["ConfigMap", "Secret", "Deployment", "Service", "HorizontalPodAutoscaler",
             "PodDisruptionBudget", "Kustomization"]:
    need(kind in k, kind)
dep = k["Deployment"]["spec"]
pod = dep["template"]["spec"]
c = pod["containers"][0]
need(dep["replicas"] >= 2, "replicas >= 2")
need(c["readinessProbe"]["httpGet"]["path"] == "/ready", "readiness on /ready")
need(c["livenessProbe"]["httpGet"]["path"] == "/health", "liveness on health_path")
need("preStop" in c["lifecycle"], "preStop")
need(pod["terminationGracePeriodSeconds"] > 60, "grace period above shutdown_timeout_ms")
need(pod["initContainers"][0]["command"][:2] == ["mcpgc", "build"], "init container runs mcpgc build")
need(c["command"][-1] == pod["initContainers"][0]["command"][-1], "mcpg serves what mcpgc built")
labels = dep["template"]["metadata"]["labels"]
need(k["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == labels, "PDB selects the pods")
need(k["Service"]["spec"]["selector"] == labels, "Service selects the pods")
need("sessionAffinity" not in k["Service"]["spec"], "no session affinity")
need(k["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == k["Deployment"]["metadata"]["name"], "HPA targets the Deployment")
need(k["HorizontalPodAutoscaler"]["spec"]["minReplicas"] >= 2, "HPA min >= 2")
need(sorted(k["Kustomization"]["resources"]) == sorted(n[4:] for n in docs if n.startswith("k8s/") and n != "k8s/kustomization.yaml"), "kustomization lists every manifest")
open("k8s-config.yaml", "w").write(k["ConfigMap"]["data"]["config.yaml"])
comp = docs["docker-compose.yml"][0]["services"]
for s in ["redis", "nginx", "mcpg-1", "mcpg-2", "mcpg-3"]:
    need(s in comp, "compose service " + s)
need(comp["mcpg-1"]["environment"]["MCPG_CONFIG"].split(":")[0].endswith("production-redis-cluster.yaml"), "compose layers the shipped template")
sys.exit(1 if need.bad else 0)
EOF
	[ $? = 0 ] && ok "deploy/: YAML parses; Deployment, probes, preStop, init build, PDB, HPA, Service, compose" ||
		fail "deploy/: YAML and manifest shape" "$(cat yaml.out)"
	"$MCPGC" build k8s-config.yaml -o k8s.img > k8s.out 2>&1 &&
		ok "the ConfigMap's config builds with mcpgc (what the init container runs)" ||
		fail "the ConfigMap's config builds with mcpgc" "$(cat k8s.out)"
else
	skip "deploy YAML" "python3 has no yaml module"
fi
"$MCPGC" check "$TOP/templates/production-redis-cluster.yaml" "$D/compose-override.yaml" > compose.out 2>&1 &&
	ok "compose's layers (template + compose-override.yaml) pass mcpgc check" ||
	fail "compose's layers pass mcpgc check" "$(cat compose.out)"

# --- nginx ---------------------------------------------------------------
command -v nginx > /dev/null || { skip "nginx" "not installed"; exit 0; }
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mcp.example.com \
	-keyout tls.key -out tls.crt > ssl.log 2>&1 || { fail "openssl makes a test certificate" "$(cat ssl.log)"; exit 0; }
CP=$(free_port)
start_redis "$CP" || { fail "redis-server starts"; exit 0; }
PA=$(free_port) PB=$(free_port) PC=$(free_port) LB=$(free_port)
mkdir -p nginx/logs
sed -e "s/mcpg-1:8787/127.0.0.1:$PA/; s/mcpg-2:8787/127.0.0.1:$PB/; s/mcpg-3:8787/127.0.0.1:$PC/" \
	-e "s/listen 443 ssl;/listen 127.0.0.1:$LB ssl;/" \
	-e "s#/etc/nginx/certs/#$PWD/#" "$D/nginx.conf" > nginx/nginx.conf
nginx -t -q -p "$PWD/nginx/" -c "$PWD/nginx/nginx.conf" -e "$PWD/nginx/logs/error.log" \
	-g "pid $PWD/nginx/nginx.pid;" > nginx-t.out 2>&1 &&
	ok "nginx -t accepts deploy/nginx.conf" || fail "nginx -t accepts deploy/nginx.conf" "$(cat nginx-t.out nginx/logs/error.log)"

cat > c.yaml << EOF
gateway:
  server:
    bind_address: "127.0.0.1:\${env.PORT}"
    anonymous_rate_limit_per_min: 0
    allowed_origins: ["https://mcp.example.com"]
governance:
  audit:
    enabled: false
cluster:
  kind: redis
  url: "redis://127.0.0.1:$CP"
  key_prefix: "t6250:"
mcp:
  capabilities:
    tools:
      - name: echo
        description: Echo.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {ok: true}}
      - name: slow
        description: Slow, with progress.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {slow: true}, delay_ms: 600}
EOF
"$MCPGC" build c.yaml -o c.img > build.out 2>&1 || { fail "build" "$(cat build.out)"; exit 0; }
boot_mcpg A a.log "$PA" --image c.img && boot_mcpg B b.log "$PB" --image c.img &&
	boot_mcpg C c.log "$PC" --image c.img || { fail "three replicas boot"; exit 0; }
nginx -p "$PWD/nginx/" -c "$PWD/nginx/nginx.conf" -e "$PWD/nginx/logs/error.log" \
	-g "pid $PWD/nginx/nginx.pid; daemon off;" > nginx.out 2>&1 &
PIDS="$PIDS $!"
n=0
while [ $n -lt 250 ] && [ "$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$LB/health")" != 200 ]; do
	sleep 0.02
	n=$((n + 1))
done
[ $n -lt 250 ] && ok "nginx serves /health from the pool" || fail "nginx serves /health" "$(cat nginx.out nginx/logs/error.log)"

lb() {
	CODE=$(curl -sk -m 10 -o out.body -D out.hdr -w '%{http_code}' -X POST -H "$J" -H "${3:-$AJ}" \
		${1:+-H "Mcp-Session-Id: $1"} -d "$2" "https://127.0.0.1:$LB/mcp")
}
lb "" '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t6250","version":"1"}}}' "$AS"
SID=$(tr -d '\r' < out.hdr | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
lb "$SID" '{"jsonrpc":"2.0","method":"notifications/initialized"}'
good=0
i=2
while [ $i -lt 14 ]; do
	lb "$SID" "{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{}}}"
	[ "$CODE" = 200 ] && grep -q '"ok":true' out.body && good=$((good + 1))
	i=$((i + 1))
done
served=0
for p in "$PA" "$PB" "$PC"; do
	v=$(curl -s "http://127.0.0.1:$p/metrics" | sed -n 's/^mcpg_mcp_requests_total{method="tools\/call"} //p')
	[ "${v:-0}" -gt 0 ] && served=$((served + 1))
done
[ $good = 12 ] && [ $served = 3 ] &&
	ok "through nginx: one session, 12 calls, all answered, spread over all 3 replicas" ||
	fail "through nginx: calls spread over the replicas" "$good of 12 answered, $served replicas served"

# SSE through the proxy: a streamed tools/call answer arrives whole.
lb "$SID" '{"jsonrpc":"2.0","id":20,"method":"tools/call","params":{"name":"slow","arguments":{},"_meta":{"progressToken":"p"}}}' "$AS"
[ "$CODE" = 200 ] && grep -q 'notifications/progress' out.body && grep -q '"slow":true' out.body &&
	ok "through nginx: a streamed answer with progress events" || fail "through nginx: streamed answer" "$CODE $(cat out.body)"
