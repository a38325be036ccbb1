# t5300 - the audit ledger (runtime/audit.c) over real HTTP with curl:
# records and their fixed field order after a session, the reply only after
# its record is in the file, `mcpgc audit-verify` on an intact and on an
# edited ledger, the chain across restarts and a torn tail, the reload
# record, a full disk (tmpfs in a private mount namespace) under fail_closed
# and fail_open, SIGKILL under load, external rotation under load.
. "$TOP/tests/lib.sh"

PIDS=
LOOPS=
stop_all() {
	touch stop
	for p in $LOOPS $PIDS; do kill -KILL "$p" 2> /dev/null; done
	PIDS=
}
trap stop_all EXIT INT TERM

J='Content-Type: application/json'
AJ='Accept: application/json'

# cfg FILE PORT AUDIT_YAML: two mock tools (one needs header_asserted) and a
# slow one, with AUDIT_YAML as the governance.audit block ("" = defaults).
cfg() {
	cat > "$1" << EOF
gateway:
  server:
    bind_address: "127.0.0.1:$2"
    access_log: false
    request_timeout_ms: 700
    anonymous_rate_limit_per_min: 0
    trust_subject_header: true
    trusted_proxies: ["127.0.0.2/32"]
$3
mcp:
  capabilities:
    tools:
      - name: echo
        description: Echo.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {ok: true}}
      - name: slow
        description: Slow.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {slow: true}, delay_ms: 30}
      - name: stuck
        description: Slower than request_timeout_ms.
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: {late: true}, delay_ms: 20000}
      - name: admin
        description: Only for asserted callers.
        governance: {minimum_trust: header_asserted}
        backend: {kind: mock, response: {admin: true}}
    resources:
      - name: notes
        description: Readable by anyone.
        uri: test://notes
        governance: {minimum_trust: unauthenticated}
        backend: {kind: mock, response: the notes}
      - name: payroll
        description: Only for asserted callers.
        uri: test://payroll
        governance: {minimum_trust: header_asserted}
        backend: {kind: mock, response: the payroll}
EOF
}

# boot ID LOG CMD...: run CMD in the background, wait for /ready on $PORT.
boot() {
	id=$1 log=$2
	shift 2
	start_ready "$id" "$log" "http://127.0.0.1:$PORT/ready" "$@"
}

# session: initialize + initialized on $U; prints the session id.
session() {
	curl -s -m 5 -D sess.$$.h -o /dev/null -X POST -H "$J" -H "$AJ" \
		-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}' "$U" || return 1
	sid=$(tr -d '\r' < sess.$$.h | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
	curl -s -m 5 -o /dev/null -X POST -H "$J" -H "$AJ" -H "Mcp-Session-Id: $sid" \
		-d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$U"
	echo "$sid"
}

# rpc SID ID METHOD PARAMS [curl args]: one request; the body in call.out.
rpc() {
	sid=$1 cid=$2 method=$3 params=$4
	shift 4
	curl -s -m 10 -o call.out -X POST -H "$J" -H "$AJ" -H "Mcp-Session-Id: $sid" "$@" \
		-d "{\"jsonrpc\":\"2.0\",\"id\":$cid,\"method\":\"$method\",\"params\":$params}" "$U"
}

# call SID ID TOOL [curl args]: tools/call.  read_res SID ID URI [curl args]: resources/read.
call() {
	sid=$1 cid=$2 tool=$3
	shift 3
	rpc "$sid" "$cid" tools/call "{\"name\":\"$tool\"}" "$@"
}
read_res() {
	sid=$1 cid=$2 uri=$3
	shift 3
	rpc "$sid" "$cid" resources/read "{\"uri\":\"$uri\"}" "$@"
}

# load N: N concurrent clients (tests/audit-load.py), each with its own
# session on a keep-alive connection, calling echo until ./stop exists or
# the gateway is gone; "ID SID" of each call answered with a result goes to
# ok.K.
load() {
	rm -f stop ok.*
	python3 "$TOP/tests/audit-load.py" "$U" "$1" . &
	LOOPS=$!
}
load_stop() {
	touch stop
	wait "$LOOPS" 2> /dev/null
	LOOPS=
}

# recorded FILE...: every call in ok.* has a successful completed record in
# FILE...; prints "N calls" or what is missing.
recorded() {
	cat ok.[0-9]* > ok.all 2> /dev/null
	python3 - ok.all "$@" << 'EOF'
import json, sys
seen = set()
for f in sys.argv[2:]:
    for line in open(f):
        r = json.loads(line)
        d = r["details"]
        if r["action"] == "mcpg.tool.call.completed" and r["outcome"] == "success":
            seen.add((str(d["rpc_id"]), d["session"]))
want = [tuple(l.split()) for l in open(sys.argv[1]) if l.strip()]
missing = [w for w in want if w not in seen]
print("%d calls" % len(want) if not missing else "missing: %s" % missing[:5])
sys.exit(1 if missing or not want else 0)
EOF
}

metric() {
	curl -s "http://127.0.0.1:$PORT/metrics" | sed -n "s/^$1 //p"
}

# ---------------------------------------------------------------------------
# A session: records, field order, chain, reply after the record

PORT=$(free_port)
U=http://127.0.0.1:$PORT/mcp
cfg a.yaml "$PORT" ""
"$MCPGC" build a.yaml -o a.img > build.out 2>&1 || fail "build a.yaml" "$(cat build.out)"
digest_a=$(sed -n 's/^wrote .*sha256 \([0-9a-f]*\))$/\1/p' build.out)
boot "boot with the default ledger ./mcpg-audit.log" a.log "$MCPG" --image "$PWD/a.img" || exit 0
[ -f mcpg-audit.log ] && head -1 mcpg-audit.log | grep -q '"action":"mcpg.lifecycle.gateway_started"' &&
	! head -1 mcpg-audit.log | grep -q prev_event_hash &&
	ok "the first record is gateway_started, without prev_event_hash" ||
	fail "the first record is gateway_started, without prev_event_hash" "$(head -2 mcpg-audit.log)"

SID=$(session)
inline=0
for id in 2 3 4; do
	call "$SID" "$id" echo
	# The answer is sent only after the completed record was written (and fsynced).
	grep -q "\"action\":\"mcpg.tool.call.completed\".*\"rpc_id\":$id,\"session\":\"$SID\"" mcpg-audit.log &&
		inline=$((inline + 1))
done
[ "$inline" = 3 ] && ok "a tools/call answer comes after its completed record is in the ledger" ||
	fail "a tools/call answer comes after its completed record is in the ledger" "$(tail -3 mcpg-audit.log)"
call "$SID" 5 slow
grep -q '"slow":true' call.out && grep -q "\"mcpg.tool.call.completed\".*\"rpc_id\":5,.*\"latency_ms\":[0-9]" mcpg-audit.log &&
	ok "a call on the worker pool: completed with latency_ms" ||
	fail "a call on the worker pool: completed with latency_ms" "$(cat call.out)" "$(tail -2 mcpg-audit.log)"
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST -H "$J" -H "$AJ" -H "Mcp-Session-Id: $SID" \
	-d '{"jsonrpc":"2.0","id":55,"method":"tools/call","params":{"name":"stuck"}}' "$U")
n=100
until grep -q '"rpc_id":55,.*"error":"timeout"' mcpg-audit.log || [ "$n" -eq 0 ]; do sleep 0.05; n=$((n - 1)); done
[ "$code" = 408 ] &&
	grep -q '"action":"mcpg.tool.call.completed","resource":"tool://stuck","outcome":"failure".*"rpc_id":55,.*"error":"timeout","error_code":-32001' mcpg-audit.log &&
	ok "a call past request_timeout_ms: 408, and completed with outcome failure, error timeout" ||
	fail "a call past request_timeout_ms: 408, and completed with outcome failure, error timeout" "status $code" "$(grep stuck mcpg-audit.log)"
call "$SID" 6 admin
grep -q 'Unknown tool: admin' call.out &&
	grep -q '"action":"mcpg.tool.call.denied","resource":"tool://admin","outcome":"denied".*"rpc_id":6' mcpg-audit.log &&
	ok "a call below the binding's trust floor is refused and recorded as denied" ||
	fail "a call below the binding's trust floor is refused and recorded as denied" "$(cat call.out)" "$(tail -2 mcpg-audit.log)"
call "$SID" 7 admin --interface 127.0.0.2 -H 'x-mcpg-subject-id: alice'
grep -q '"admin":true' call.out &&
	grep -q '"actor":{"kind":"user","trust_level":"header_asserted","subject_id":"alice".*"mcpg.tool.call.completed".*"rpc_id":7' mcpg-audit.log &&
	ok "the actor carries the caller's subject and trust level" ||
	fail "the actor carries the caller's subject and trust level" "$(cat call.out)" "$(tail -2 mcpg-audit.log)"
read_res "$SID" 8 test://notes
grep -q 'the notes' call.out &&
	grep -q "\"action\":\"mcpg.resource.read.completed\",\"resource\":\"resource://notes\",\"outcome\":\"success\".*\"rpc_id\":8,\"session\":\"$SID\",\"uri\":\"test://notes\"" mcpg-audit.log &&
	ok "a resources/read is recorded as completed, with the URI read" ||
	fail "a resources/read is recorded as completed, with the URI read" "$(cat call.out)" "$(tail -2 mcpg-audit.log)"
read_res "$SID" 9 test://payroll
grep -q 'Resource not found' call.out &&
	grep -q '"action":"mcpg.resource.read.denied","resource":"resource://payroll","outcome":"denied".*"rpc_id":9,.*"uri":"test://payroll"' mcpg-audit.log &&
	! grep -q '"resource://payroll","outcome":"success"' mcpg-audit.log &&
	ok "a read below the resource's trust floor is refused and recorded as denied" ||
	fail "a read below the resource's trust floor is refused and recorded as denied" "$(cat call.out)" "$(tail -2 mcpg-audit.log)"
read_res "$SID" 10 test://payroll --interface 127.0.0.2 -H 'x-mcpg-subject-id: alice'
grep -q 'the payroll' call.out &&
	grep -q '"subject_id":"alice".*"action":"mcpg.resource.read.completed","resource":"resource://payroll","outcome":"success".*"rpc_id":10' mcpg-audit.log &&
	ok "an asserted caller's read of it is recorded with the caller" ||
	fail "an asserted caller's read of it is recorded with the caller" "$(cat call.out)" "$(tail -2 mcpg-audit.log)"
curl -s -o /dev/null -X DELETE -H "Mcp-Session-Id: $SID" "$U"
grep -q "\"action\":\"mcpg.session.opened\",\"resource\":\"session://$SID\"" mcpg-audit.log &&
	grep -q "\"action\":\"mcpg.session.closed\",\"resource\":\"session://$SID\"" mcpg-audit.log &&
	ok "session opened and closed are recorded" ||
	fail "session opened and closed are recorded" "$(grep session mcpg-audit.log)"
python3 - mcpg-audit.log > order.out 2>&1 << 'EOF' && ok "every record has the fixed field order" || fail "every record has the fixed field order" "$(cat order.out)"
import json, sys
order = ["event_id", "occurred_at", "actor", "action", "resource", "outcome", "request_id",
         "node_id", "details", "prev_event_hash"]
actor = ["kind", "trust_level", "subject_id", "auth_provider", "issuer"]
for n, line in enumerate(open(sys.argv[1]), 1):
    keys = list(json.loads(line, object_pairs_hook=lambda p: dict(p)).keys())
    idx = [order.index(k) for k in keys]
    assert idx == sorted(idx), (n, keys)
    for k in ("event_id", "occurred_at", "actor", "action", "outcome", "details"):
        assert k in keys, (n, k)
    assert (n == 1) != ("prev_event_hash" in keys), (n, keys)
    a = list(json.loads(line)["actor"].keys())
    assert a[:5] == actor, (n, a)
EOF
"$MCPGC" audit-verify mcpg-audit.log > verify.out 2>&1 && grep -q 'chain intact' verify.out &&
	ok "audit-verify: the ledger of the session verifies" || fail "audit-verify: the ledger of the session verifies" "$(cat verify.out)"

# Reload: a new image renamed over the old one.
sed 's/description: Echo\./description: Echo v2./' a.yaml > b.yaml
"$MCPGC" build b.yaml -o b.img > build.out 2>&1
digest_b=$(sed -n 's/^wrote .*sha256 \([0-9a-f]*\))$/\1/p' build.out)
mv b.img a.img
n=100
until grep -q '"mcpg.config.reloaded"' mcpg-audit.log || [ "$n" -eq 0 ]; do sleep 0.05; n=$((n - 1)); done
grep -q "\"action\":\"mcpg.config.reloaded\",\"resource\":\"config://gateway\",\"outcome\":\"success\".*\"prev_digest\":\"$digest_a\",\"next_digest\":\"$digest_b\"" mcpg-audit.log &&
	ok "a reload is recorded with the previous and next digest" ||
	fail "a reload is recorded with the previous and next digest" "$(grep reloaded mcpg-audit.log)" "$digest_a -> $digest_b"
printf 'not an image' > bad.img
mv bad.img a.img
n=100
until grep -q '"mcpg.config.reloaded","resource":"config://gateway","outcome":"failure"' mcpg-audit.log ||
	[ "$n" -eq 0 ]; do sleep 0.05; n=$((n - 1)); done
grep -q "\"outcome\":\"failure\".*\"details\":{\"success\":false,\"source\":\"inotify\",\"prev_digest\":\"$digest_b\",\"next_digest\":null,\"error\":" mcpg-audit.log &&
	ok "a refused reload is recorded with the digest that keeps serving and the error" ||
	fail "a refused reload is recorded with the digest that keeps serving and the error" "$(grep reloaded mcpg-audit.log)"
"$MCPGC" build b.yaml -o b.img > /dev/null 2>&1
mv b.img a.img
sleep 0.2
kill -TERM "$PID"
wait "$PID"
tail -1 mcpg-audit.log | grep -q '"mcpg.lifecycle.gateway_stopped"' &&
	ok "a clean stop is recorded" || fail "a clean stop is recorded" "$(tail -1 mcpg-audit.log)"

# Tampering: one byte in the middle, then a line removed.
lines=$(wc -l < mcpg-audit.log)
mid=$((lines / 2))
awk -v m="$mid" 'NR == m { sub(/"outcome":"success"/, "\"outcome\":\"succesS\"") } { print }' mcpg-audit.log > t1.log
"$MCPGC" audit-verify t1.log > v1.out 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q "^t1.log:$((mid + 1)): error: prev_event_hash .* does not match the hash of the line before" v1.out &&
	ok "audit-verify: one changed byte on line $mid breaks line $((mid + 1)), exit 1" ||
	fail "audit-verify: one changed byte on line $mid breaks line $((mid + 1)), exit 1" "rc $rc" "$(cat v1.out)" "$(cmp mcpg-audit.log t1.log)"
awk -v m="$mid" 'NR != m' mcpg-audit.log > t2.log
"$MCPGC" audit-verify t2.log > v2.out 2>&1
[ $? = 1 ] && grep -q "^t2.log:$mid: error:" v2.out &&
	ok "audit-verify: a removed line is found" || fail "audit-verify: a removed line is found" "$(cat v2.out)"
sed '3s/"event_id"/"event_ID"/' mcpg-audit.log > t3.log
"$MCPGC" audit-verify t3.log > v3.out 2>&1
[ $? = 1 ] && grep -q "^t3.log:3: error: unknown field 'event_ID'" v3.out &&
	ok "audit-verify: a record with a foreign field is refused" || fail "audit-verify: a record with a foreign field is refused" "$(cat v3.out)"

# Restart: the chain goes on from the last line; a torn tail is cut off.
printf '{"event_id":"torn' >> mcpg-audit.log
boot "restart on the existing ledger" a2.log "$MCPG" --image "$PWD/a.img"
kill -TERM "$PID"
wait "$PID"
grep -q 'unterminated line; cut off' a2.log && "$MCPGC" audit-verify mcpg-audit.log > verify.out 2>&1 &&
	[ "$(grep -c '"mcpg.lifecycle.gateway_started"' mcpg-audit.log)" = 2 ] &&
	ok "restart: a torn tail is cut off and the chain continues across the restart" ||
	fail "restart: a torn tail is cut off and the chain continues across the restart" "$(cat verify.out)" "$(tail -3 a2.log)"

# ---------------------------------------------------------------------------
# Boot refusals

cfg nodir.yaml "$PORT" "governance:
  audit:
    sinks: [{kind: dev.mcpg.builtin.audit.local-file, config: {path: $PWD/no/such/dir/audit.log}}]"
"$MCPGC" build nodir.yaml -o nodir.img > /dev/null 2>&1
"$MCPG" --image nodir.img > nodir.out 2>&1
rc=$?
[ "$rc" = 1 ] && [ "$(grep -c 'error' nodir.out)" = 1 ] &&
	grep -q "^mcpg: error: audit ledger: '$PWD/no/such/dir/audit.log': cannot open: No such file or directory" nodir.out &&
	ok "boot: a required ledger that cannot be opened refuses the boot in one line" ||
	fail "boot: a required ledger that cannot be opened refuses the boot in one line" "rc $rc" "$(cat nodir.out)"
cfg optional.yaml "$PORT" "governance:
  audit:
    required: false
    sinks: [{kind: dev.mcpg.builtin.audit.local-file, config: {path: $PWD/no/such/dir/audit.log}}]"
"$MCPGC" build optional.yaml -o optional.img > /dev/null 2>&1
boot "boot: audit.required false boots without its ledger" optional.log "$MCPG" --image "$PWD/optional.img"
SID=$(session)
call "$SID" 2 echo
grep -q '"code":-32603,"message":"audit record could not be made durable' call.out &&
	ok "boot: ... and fail_closed then refuses calls with a JSON-RPC error" ||
	fail "boot: ... and fail_closed then refuses calls with a JSON-RPC error" "$(cat call.out)"
kill -TERM "$PID"
wait "$PID"

# ---------------------------------------------------------------------------
# A full disk: a 64 KiB tmpfs in a private mount namespace

if [ "$(id -u)" != 0 ] || ! unshare -m true 2> /dev/null; then
	skip "full disk" "needs root and unshare -m for a private tmpfs"
else
	# full MODE FREE_KIB: boot on a tmpfs with FREE_KIB left, call echo 40
	# times; the outcomes go to full.codes ("ok" / "refused" / "other").
	full() {
		mode=$1 free=$2
		mkdir -p "$PWD/disk"
		cfg full.yaml "$PORT" "governance:
  audit:
    on_failure: $mode
    sinks: [{kind: dev.mcpg.builtin.audit.local-file, config: {path: $PWD/disk/audit.log}}]"
		"$MCPGC" build full.yaml -o full.img > /dev/null 2>&1
		boot "full disk, $mode: boots with ${free} KiB free" full.$mode.log \
			unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs "$1" &&
				head -c $((64 * 1024 - $2 * 1024)) /dev/zero > "$1/filler" &&
				exec "$3" --image "$4"' sh "$PWD/disk" "$free" "$MCPG" "$PWD/full.img" || return 1
		SID=$(session)
		: > full.codes
		rm -f ok.*
		i=0
		while [ "$i" -lt 40 ]; do
			i=$((i + 1))
			call "$SID" "$((100 + i))" echo
			if grep -q '"result"' call.out; then
				echo ok >> full.codes
				echo "$((100 + i)) $SID" >> ok.1
			elif grep -q '"code":-32603,"message":"audit record could not be made durable' call.out; then
				echo refused >> full.codes
			else
				echo other >> full.codes
				cat call.out >> full.other
			fi
		done
		nsenter -t "$PID" -m cat "$PWD/disk/audit.log" > full.$mode.ledger
		return 0
	}

	full fail_closed 8 && {
		codes=$(tr '\n' ' ' < full.codes)
		nok=$(grep -c '^ok' full.codes)
		nref=$(grep -c '^refused' full.codes)
		echo "$codes" | grep -Eq '^(ok )+(refused )+$' && [ "$nref" -ge 20 ] &&
			ok "full disk, fail_closed: once the ledger is full every call is refused ($nok ok, $nref refused)" ||
			fail "full disk, fail_closed: once the ledger is full every call is refused" "$codes" "$(cat full.other 2> /dev/null)"
		res=$(recorded full.fail_closed.ledger)
		[ $? = 0 ] && "$MCPGC" audit-verify full.fail_closed.ledger > verify.out 2>&1 &&
			ok "full disk, fail_closed: every answered call has its record and the chain verifies ($res)" ||
			fail "full disk, fail_closed: every answered call has its record and the chain verifies" "$res" "$(cat verify.out)"
		[ "$(metric mcpg_audit_failures_total)" -ge "$nref" ] 2> /dev/null &&
			grep -q 'audit records could not be made durable' full.fail_closed.log &&
			ok "full disk, fail_closed: failures are logged and counted in /metrics" ||
			fail "full disk, fail_closed: failures are logged and counted in /metrics" "$(metric mcpg_audit_failures_total)"
		nsenter -t "$PID" -m rm "$PWD/disk/filler"
		call "$SID" 200 echo
		nsenter -t "$PID" -m cat "$PWD/disk/audit.log" > full.after
		grep -q '"result"' call.out && "$MCPGC" audit-verify full.after > verify.out 2>&1 &&
			ok "full disk, fail_closed: with space again calls pass and the chain still verifies" ||
			fail "full disk, fail_closed: with space again calls pass and the chain still verifies" "$(cat call.out verify.out)"
		kill -TERM "$PID"
		wait "$PID"
	}

	full fail_open 8 && {
		nok=$(grep -c '^ok' full.codes)
		[ "$nok" = 40 ] && [ "$(metric mcpg_audit_failures_total)" -ge 20 ] 2> /dev/null &&
			ok "full disk, fail_open: every call is served, failures are counted" ||
			fail "full disk, fail_open: every call is served, failures are counted" "$(tr '\n' ' ' < full.codes)" "$(metric mcpg_audit_failures_total)"
		"$MCPGC" audit-verify full.fail_open.ledger > verify.out 2>&1 &&
			ok "full disk, fail_open: the ledger that was written verifies" ||
			fail "full disk, fail_open: the ledger that was written verifies" "$(cat verify.out)"
		kill -TERM "$PID"
		wait "$PID"
	}

	cfg full.yaml "$PORT" "governance:
  audit:
    sinks: [{kind: dev.mcpg.builtin.audit.local-file, config: {path: $PWD/disk/audit.log}}]"
	"$MCPGC" build full.yaml -o full.img > /dev/null 2>&1
	timeout 20 unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs "$1" &&
		head -c 65536 /dev/zero > "$1/filler"; exec "$2" --image "$3"' \
		sh "$PWD/disk" "$MCPG" "$PWD/full.img" > full0.out 2>&1
	rc=$?
	grep -q '^mcpg: error: audit ledger: the boot record could not be made durable: .*No space left on device' full0.out &&
		[ "$rc" = 1 ] && ok "full disk: a ledger that cannot take the boot record refuses the boot" ||
		fail "full disk: a ledger that cannot take the boot record refuses the boot" "rc $rc" "$(cat full0.out)"
fi

# ---------------------------------------------------------------------------
# SIGKILL under load

rm -f mcpg-audit.log
boot "load: boots" k.log "$MCPG" --image "$PWD/a.img"
load 8
sleep 2
kill -KILL "$PID"
wait "$PID" 2> /dev/null
load_stop
res=$(recorded mcpg-audit.log)
[ $? = 0 ] && ok "SIGKILL under load: every call a client saw succeed has its completed record ($res)" ||
	fail "SIGKILL under load: every call a client saw succeed has its completed record" "$res"
"$MCPGC" audit-verify mcpg-audit.log > verify.out 2>&1 &&
	ok "SIGKILL under load: the chain verifies ($(wc -l < mcpg-audit.log) records)" ||
	fail "SIGKILL under load: the chain verifies" "$(cat verify.out)"

# ---------------------------------------------------------------------------
# External rotation under load

rm -f mcpg-audit.log
boot "rotation: boots" r.log "$MCPG" --image "$PWD/a.img"
load 8
sleep 1
mv mcpg-audit.log rotated.log
sleep 1
load_stop
records=$(metric mcpg_audit_records_total)
fsyncs=$(metric mcpg_audit_fsyncs_total)
reopens=$(metric mcpg_audit_reopens_total)
kill -TERM "$PID"
wait "$PID"
[ -s mcpg-audit.log ] && [ "$reopens" = 1 ] && grep -q 'audit ledger rotated; reopened' r.log &&
	ok "rotation: the gateway reopens the path and writes a new file" ||
	fail "rotation: the gateway reopens the path and writes a new file" "reopens $reopens" "$(ls -l)"
"$MCPGC" audit-verify rotated.log > v1.out 2>&1 && "$MCPGC" audit-verify mcpg-audit.log > v2.out 2>&1 &&
	grep -q 'note: the first record chains to an earlier file' v2.out &&
	ok "rotation: each file verifies alone (the new one notes its link to the old)" ||
	fail "rotation: each file verifies alone (the new one notes its link to the old)" "$(cat v1.out v2.out)"
"$MCPGC" audit-verify rotated.log mcpg-audit.log > v3.out 2>&1 && grep -q 'in 2 files, one chain' v3.out &&
	ok "rotation: both files verify as one chain" || fail "rotation: both files verify as one chain" "$(cat v3.out)"
"$MCPGC" audit-verify mcpg-audit.log rotated.log > v4.out 2>&1
[ $? = 1 ] && grep -q '^rotated.log:1: error:' v4.out &&
	ok "rotation: the files in the wrong order do not verify" || fail "rotation: the files in the wrong order do not verify" "$(cat v4.out)"
res=$(recorded rotated.log mcpg-audit.log)
[ $? = 0 ] && ok "rotation: every answered call has its record in one of the files ($res)" ||
	fail "rotation: every answered call has its record in one of the files" "$res"
[ -n "$records" ] && [ "$fsyncs" -lt "$records" ] &&
	ok "group commit: fewer fsyncs than records under load ($records records, $fsyncs fsyncs)" ||
	fail "group commit: fewer fsyncs than records under load" "records '$records' fsyncs '$fsyncs'"
