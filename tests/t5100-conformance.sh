# t5100 - the official MCP conformance suite (@modelcontextprotocol/conformance
# 0.1.16, `server --suite all`: 32 scenarios) against mcpg serving
# tests/conformance/mock.yaml on 127.0.0.1, one case per scenario.
#
# A scenario passes when none of its checks is a FAILURE (the CLI's rule;
# warnings are named in the ok line).  The scenarios that need an upstream
# MCP server are listed in tests/conformance/needs-federation.txt and reported
# as skips; every other scenario must pass.  The suite and Node 22 come from
# npm through scripts/node-deps; the suite is skipped, saying so, only when the
# npm registry cannot be reached.
#
# T5100_TARGET=fixture runs the same harness against the Node SDK fixture
# server (../shared/conformance/fixture-server.mjs) instead, where all 32
# scenarios must pass: a check of the harness, not of mcpg.
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

port=$(free_port)
url=http://127.0.0.1:$port/mcp
SERVER_PID=
trap 'stop_pid "$SERVER_PID"' EXIT INT TERM

if [ "${T5100_TARGET:-mcpg}" = fixture ]; then
	fx=$(node_script fixture-server.mjs) || {
		skip "conformance against the fixture server" "$SHARED_CONF/fixture-server.mjs is absent"
		exit 0
	}
	"$N22" "$fx" --port "$port" > server.log 2>&1 &
	SERVER_PID=$!
	probe=$url
	wait_ms=10000
	report_flags=--all-must-pass
else
	printf 'gateway:\n  server:\n    bind_address: "127.0.0.1:%s"\n' "$port" > port.yaml
	if ! "$MCPGC" build "$CONF/mock.yaml" port.yaml -o mock.img > build.out 2>&1; then
		fail "mcpgc builds tests/conformance/mock.yaml" "$(cat build.out)"
		exit 0
	fi
	ok "mcpgc builds tests/conformance/mock.yaml"
	mcpg_start mock.img server.log
	SERVER_PID=$MCPG_PID
	probe=http://127.0.0.1:$port/ready
	wait_ms=5000
	report_flags=
fi

# /ready (or, for the fixture, any 200 on the MCP path is not to be had
# without a session: poll the TCP port instead).
up=no
n=$((wait_ms / 20))
while [ "$n" -gt 0 ]; do
	if ! kill -0 "$SERVER_PID" 2> /dev/null; then break; fi
	if [ -n "$report_flags" ]; then
		curl -s -o /dev/null --max-time 1 "$probe" 2> /dev/null && { up=yes; break; }
	else
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$probe" 2> /dev/null)" = 200 ] &&
			{ up=yes; break; }
	fi
	sleep 0.02
	n=$((n - 1))
done
if [ "$up" != yes ]; then
	if grep -q 'HTTP runtime is not built yet' server.log 2> /dev/null; then
		skip "conformance suite" "build/mcpg does not serve HTTP yet (the runtime of issue 4)"
	else
		fail "the server answers $probe within $wait_ms ms" "$(tail -20 server.log)"
	fi
	exit 0
fi

"$N22" "$CLI" list --server 2> /dev/null | sed -n 's/^ *- \([a-z0-9-]*\).*/\1/p' > scenarios
if [ "$(wc -l < scenarios)" -lt 30 ]; then
	fail "conformance list --server names the scenarios" "$(cat scenarios)"
	exit 0
fi

start=$(date +%s)
timeout 60 "$N22" "$CLI" server --url "$url" --suite all -o results > suite.log 2>&1
cli_rc=$?
secs=$(($(date +%s) - start))
echo "# conformance $("$N22" "$CLI" --version 2> /dev/null) on node $("$N22" --version):" \
	"--suite all against $url, ${secs}s, cli exit $cli_rc"
[ "$cli_rc" -eq 124 ] && fail "the suite finishes within 60 s" "$(tail -20 suite.log)"
python3 "$CONF/report.py" results scenarios "$CONF/needs-federation.txt" $report_flags
# The suite's own "Total: N passed, M failed" counts checks, failures of the
# scenarios that need federation included; reword it so no reader takes it
# for this run's summary line.
sed -n 's/^Total: \([0-9]*\) passed, \([0-9]*\) failed/# the suite counted \1 checks ok and \2 not ok (federation scenarios included)/p' suite.log

if kill -0 "$SERVER_PID" 2> /dev/null; then
	ok "the server is still up after the suite"
	stop_pid "$SERVER_PID"
	SERVER_PID=
	if [ -z "$report_flags" ]; then
		[ "$STOP_RC" = 0 ] && ok "mcpg exits 0 on SIGTERM after the suite" ||
			fail "mcpg exits 0 on SIGTERM after the suite" "exit status $STOP_RC" "$(tail -20 server.log)"
	fi
else
	fail "the server is still up after the suite" "$(tail -20 server.log)"
fi
