# t5100 - the official MCP conformance suite (@modelcontextprotocol/conformance
# 0.1.16, `server --suite all`: 32 scenarios, 44 checks) against mcpg
# fronting the conformance fixture server (../shared/conformance/
# fixture-server.mjs) as its one upstream, twice: over Streamable HTTP and
# over stdio (the same fixtures on stdin/stdout: node_stdio_fixture in
# tests/conformance/node.sh).  One case per scenario and run, plus one
# saying every check passed: 44 against the fixture itself, 47 through mcpg
# over HTTP and 46 over stdio (see run_suite).
#
# A scenario passes when none of its checks is a FAILURE (the CLI's rule;
# warnings are named in the ok line).  Every scenario must pass: there is no
# expected-failures list.  The suite and Node 22 come from npm through
# scripts/node-deps; the suite is skipped, saying so, only when the npm
# registry cannot be reached.
#
# T5100_TARGET=fixture runs the same harness against the fixture server
# itself instead (a check of the harness, not of mcpg).
. "$TOP/tests/lib.sh"
. "$TOP/tests/conformance/node.sh"

CONF=$TOP/tests/conformance
node_setup
case $? in
0) ;;
3)
	# CI reaches the registry: there an unreachable one is a failure.
	if [ "${CI:-}" = true ]; then
		fail "scripts/node-deps reaches the npm registry (CI=true)" "$NODE_WHY"
		exit 0
	fi
	skip "conformance suite" "npm registry unreachable, cannot install Node 22 and the suite: $NODE_WHY"
	exit 0
	;;
*)
	fail "scripts/node-deps installs Node 22 and the suite" "$NODE_WHY"
	exit 0
	;;
esac
CLI=$NODE_DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js
fx=$(node_script fixture-server.mjs) || {
	skip "conformance suite" "$SHARED_CONF/fixture-server.mjs is absent"
	exit 0
}

SERVER_PID= FX_PID=
trap 'stop_pid "$SERVER_PID"; stop_pid "$FX_PID"' EXIT INT TERM

"$N22" "$CLI" list --server 2> /dev/null | sed -n 's/^ *- \([a-z0-9-]*\).*/\1/p' > scenarios
if [ "$(wc -l < scenarios)" -lt 30 ]; then
	fail "conformance list --server names the scenarios" "$(cat scenarios)"
	exit 0
fi

# wait_port PORT MS PID: until something accepts on 127.0.0.1:PORT.
wait_port() {
	_n=$(($2 / 20))
	while [ "$_n" -gt 0 ]; do
		kill -0 "$3" 2> /dev/null || return 1
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" 2> /dev/null && return 0
		sleep 0.02
		_n=$((_n - 1))
	done
	return 1
}

# wait_upstream URL MS PID: until /ready says every upstream is up.
wait_upstream() {
	_n=$(($2 / 50))
	while [ "$_n" -gt 0 ]; do
		kill -0 "$3" 2> /dev/null || return 1
		curl -s --max-time 1 "$1" 2> /dev/null > ready.json
		python3 -c 'import json,sys; u=json.load(open("ready.json"))["upstreams"]; sys.exit(0 if u and all(v["state"]=="up" for v in u.values()) else 1)' 2> /dev/null && return 0
		sleep 0.05
		_n=$((_n - 1))
	done
	return 1
}

# run_suite LABEL URL: the suite against URL, reported under LABEL.
run_suite() {
	rm -rf "results-$1"
	start=$(date +%s)
	timeout 90 "$N22" "$CLI" server --url "$2" --suite all -o "results-$1" > "suite-$1.log" 2>&1
	cli_rc=$?
	echo "# $1: conformance $("$N22" "$CLI" --version 2> /dev/null) on node $("$N22" --version):" \
		"--suite all against $2, $(($(date +%s) - start))s, cli exit $cli_rc"
	[ "$cli_rc" -eq 124 ] && fail "$1: the suite finishes within 90 s" "$(tail -20 "suite-$1.log")"
	# The fixture alone scores 44: it sends no priming event or retry
	# field, which the suite only warns about.  Through mcpg those pass,
	# and over HTTP so does resuming after the upstream closes the stream
	# mid-call: 47; over stdio the upstream cannot close one: 46.
	case $1 in http) want=47 ;; stdio) want=46 ;; *) want=44 ;; esac
	python3 "$CONF/report.py" "results-$1" scenarios "$1" --checks "$want"
	sed -n "s/^Total: \([0-9]*\) passed, \([0-9]*\) failed/# $1: the suite's own count: \1 checks passed, \2 failed/p" "suite-$1.log"
}

# gateway LABEL UPSTREAM_YAML: build and start mcpg with that upstream entry,
# run the suite through it, stop it.
gateway() {
	port=$(free_port)
	cat > "gw-$1.yaml" << EOF
gateway:
  server:
    bind_address: "127.0.0.1:$port"
    mcp_path: /mcp
    # Empty: loopback origins only, which is what dns-rebinding-protection checks.
    allowed_origins: []
    # One suite run opens about 31 sessions and ends none of them.
    session_idle_timeout_ms: 60000
    shutdown_timeout_ms: 2000
    # The suite sends ~100 requests in about a second from one address.
    anonymous_rate_limit_per_min: 0
    access_log: false
cluster:
  kind: single_node
governance:
  audit:
    enabled: false
observability:
  logs:
    level: warn
mcp:
  upstreams:
    - name: fixture
      # Empty: the suite calls the fixtures by their own names.
      prefix: ""
      governance: {minimum_trust: unauthenticated}
$2
EOF
	if ! "$MCPGC" build "gw-$1.yaml" -o "gw-$1.img" > "build-$1.out" 2>&1; then
		fail "$1: mcpgc builds the gateway config" "$(cat "build-$1.out")"
		return
	fi
	mcpg_start "gw-$1.img" "mcpg-$1.log"
	SERVER_PID=$MCPG_PID
	if ! wait_upstream "http://127.0.0.1:$port/ready" 15000 "$SERVER_PID"; then
		fail "$1: /ready shows the upstream up within 15 s" "$(cat ready.json 2> /dev/null)" \
			"$(tail -20 "mcpg-$1.log")"
		stop_pid "$SERVER_PID"
		SERVER_PID=
		return
	fi
	ok "$1: /ready shows the upstream up"
	run_suite "$1" "http://127.0.0.1:$port/mcp"
	if kill -0 "$SERVER_PID" 2> /dev/null; then
		stop_pid "$SERVER_PID"
		SERVER_PID=
		[ "$STOP_RC" = 0 ] && ok "$1: mcpg exits 0 on SIGTERM after the suite" ||
			fail "$1: mcpg exits 0 on SIGTERM after the suite" "exit status $STOP_RC" \
				"$(tail -20 "mcpg-$1.log")"
	else
		fail "$1: mcpg is still up after the suite" "$(tail -20 "mcpg-$1.log")"
		SERVER_PID=
	fi
}

fx_port=$(free_port)
"$N22" "$fx" --port "$fx_port" > fixture.log 2>&1 &
FX_PID=$!
if ! wait_port "$fx_port" 10000 "$FX_PID"; then
	fail "the fixture server listens within 10 s" "$(tail -20 fixture.log)"
	exit 0
fi

if [ "${T5100_TARGET:-mcpg}" = fixture ]; then
	run_suite fixture "http://127.0.0.1:$fx_port/mcp"
	exit 0
fi

gateway http "      transport:
        kind: http
        url: http://127.0.0.1:$fx_port/mcp"

if fxio=$(node_stdio_fixture); then
	gateway stdio "      transport:
        kind: stdio
        command: $N22
        args: [\"$fxio\"]"
else
	fail "stdio: the fixture server's fixtures can be served on stdio" \
		"$SHARED_CONF/fixture-server.mjs has no '// ---------- HTTP layer' section"
fi
