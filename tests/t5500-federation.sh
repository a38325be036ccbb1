# t5500 - federation with several upstreams at once: two conformance fixture
# servers over Streamable HTTP, and tests/fed/upstream.py once on stdio and
# once over HTTP with plain JSON answers, behind one mcpg, next to a local
# tool.  Prefixes, include and
# exclude filters, per-upstream governance, calls, error codes, sampling,
# progress, cancellation, the upstream's list_changed, subscriptions, an
# upstream killed and restarted (withheld, reported in /ready and metrics,
# back again), a stdio child killed and restarted, and a reload.  The cases
# are in tests/fed/t5500.py.
. "$TOP/tests/lib.sh"
. "$TOP/tests/conformance/node.sh"

node_setup
case $? in
0) ;;
3)
	if [ "${CI:-}" = true ]; then
		fail "scripts/node-deps reaches the npm registry (CI=true)" "$NODE_WHY"
		exit 0
	fi
	skip "federation" "npm registry unreachable, cannot install Node 22 and the SDK: $NODE_WHY"
	exit 0
	;;
*)
	fail "scripts/node-deps installs Node 22 and the SDK" "$NODE_WHY"
	exit 0
	;;
esac
fx=$(node_script fixture-server.mjs) || {
	skip "federation" "$SHARED_CONF/fixture-server.mjs is absent"
	exit 0
}
timeout 120 python3 "$TOP/tests/fed/t5500.py" "$MCPGC" "$MCPG" "$N22" "$fx" "$T" ||
	[ $? -ne 124 ] || fail "tests/fed/t5500.py finishes within 120 s"
