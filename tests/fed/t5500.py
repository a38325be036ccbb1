"""tests/fed/t5500.py - two-and-more-upstream federation cases for
tests/t5500-federation.sh (which sets up Node and calls this).

    t5500.py MCPGC MCPG N22 FIXTURE_MJS WORKDIR

Starts two conformance fixture servers over HTTP (alpha, beta; beta wants
a bearer token), tests/fed/upstream.py on stdio (gamma) and over HTTP with
JSON answers (delta), and mcpg in front of them with a local mock tool;
prints one "ok - ..." / "not ok - ..." line per case.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mcp import Client  # noqa: E402

MCPGC, MCPG, N22, FX, W = sys.argv[1:6]
HERE = os.path.dirname(os.path.abspath(__file__))
procs = []
fails = 0


def ok(name):
    print(f"ok - {name}", flush=True)


def fail(name, *detail):
    global fails
    fails += 1
    print(f"not ok - {name}", flush=True)
    for d in detail:
        for line in str(d).splitlines()[:30]:
            print(f"    {line}", flush=True)


def check(name, cond, *detail):
    (ok if cond else lambda n: fail(n, *detail))(name)
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait(pred, timeout, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = pred()
            if v:
                return v
        except Exception:
            pass
        time.sleep(step)
    return None


def start_fixture(port, log, *extra):
    p = subprocess.Popen([N22, FX, "--port", str(port), *extra], stdout=open(log, "a"),
                         stderr=subprocess.STDOUT)
    procs.append(p)
    up = wait(lambda: socket.create_connection(("127.0.0.1", port), 0.5).close() or True, 10)
    return p if up else None


def ready():
    with urllib.request.urlopen(f"http://127.0.0.1:{gw}/ready", timeout=2) as r:
        return json.loads(r.read())


def upstream_state(name):
    return ready().get("upstreams", {}).get(name, {})


def metrics():
    with urllib.request.urlopen(f"http://127.0.0.1:{gw}/metrics", timeout=2) as r:
        return r.read().decode()


def names(c, method="tools/list", key="tools"):
    """Every name of a list, all pages."""
    out, cursor = set(), None
    for _ in range(20):
        r = c.call(method, {"cursor": cursor} if cursor else {})
        out |= {t["name"] for t in r.get("result", {}).get(key, [])}
        cursor = r.get("result", {}).get("nextCursor")
        if not cursor:
            break
    return out


def text_of(r):
    try:
        return r["result"]["content"][0]["text"]
    except Exception:
        return None


pa, pb, pd, gw = free_port(), free_port(), free_port(), free_port()
# beta wants a bearer token: mcpg sends it from ${env.T5500_BETA_TOKEN}.
TOKEN = "t5500-" + os.urandom(8).hex()
CONFIG = """
gateway:
  server:
    bind_address: "127.0.0.1:{gw}"
    allowed_origins: []
    trusted_proxies: ["127.0.0.1/32"]
    trust_subject_header: true
    session_idle_timeout_ms: 60000
    shutdown_timeout_ms: 2000
    anonymous_rate_limit_per_min: 0
    access_log: false
cluster:
  kind: single_node
governance:
  audit:
    enabled: false
observability:
  logs:
    level: info
mcp:
  capabilities:
    tools:
      - name: local_hello
        description: A local mock tool next to the federated ones.
        governance: {{minimum_trust: unauthenticated}}
        backend:
          kind: mock
          passthrough: true
          response:
            content:
              - type: text
                text: hello from the gateway
  upstreams:
    - name: alpha
      prefix: "a."
      transport: {{kind: http, url: "http://127.0.0.1:{pa}/mcp"}}
      include: [{include}]
      governance: {{minimum_trust: unauthenticated}}
    - name: beta
      prefix: "b."
      transport:
        kind: http
        url: "http://127.0.0.1:{pb}/mcp"
        headers: {{Authorization: "Bearer ${{env.T5500_BETA_TOKEN}}"}}
      exclude: ["test_sampling", "test_elicitation*"]
      governance:
        minimum_trust: header_asserted
        allow_if: 'identity.subject_id == "alice"'
    - name: gamma
      prefix: "c."
      transport:
        kind: stdio
        command: python3
        args: ["{upstream}", "--extra", "150"]
      timeout_ms: 20000
      governance: {{minimum_trust: unauthenticated}}
    - name: delta
      prefix: "d."
      transport: {{kind: http, url: "http://127.0.0.1:{pd}/mcp"}}
      timeout_ms: 1500
      governance: {{minimum_trust: unauthenticated}}
"""
INCLUDE = ('"test_simple_text", "test_sampling", "test_tool_with_progress", '
           '"static-*", "test_simple_prompt"')


def build(include):
    with open(os.path.join(W, "fed.yaml"), "w") as f:
        f.write(CONFIG.format(gw=gw, pa=pa, pb=pb, pd=pd, include=include,
                              upstream=os.path.join(HERE, "upstream.py")))
    r = subprocess.run([MCPGC, "build", os.path.join(W, "fed.yaml"), "-o",
                        os.path.join(W, "fed.img.new")], capture_output=True, text=True)
    if r.returncode == 0:
        os.rename(os.path.join(W, "fed.img.new"), os.path.join(W, "fed.img"))
    return r


def main():
    r = build(INCLUDE)
    if not check("mcpgc builds a config with two HTTP upstreams and a stdio one",
                 r.returncode == 0, r.stdout, r.stderr):
        return
    fa = start_fixture(pa, os.path.join(W, "alpha.log"))
    fb = start_fixture(pb, os.path.join(W, "beta.log"), "--bearer", TOKEN)
    fd = subprocess.Popen([sys.executable, os.path.join(HERE, "upstream.py"), "--http", str(pd)],
                          stdout=open(os.path.join(W, "delta.log"), "a"), stderr=subprocess.STDOUT)
    procs.append(fd)
    if not check("the two fixture servers and the small HTTP upstream listen",
                 fa and fb and wait(lambda: socket.create_connection(
                     ("127.0.0.1", pd), 0.5).close() or True, 10)):
        return
    g = subprocess.Popen([MCPG, "--image", os.path.join(W, "fed.img")],
                         stdout=open(os.path.join(W, "mcpg.log"), "a"), stderr=subprocess.STDOUT,
                         env=dict(os.environ, T5500_BETA_TOKEN=TOKEN))
    procs.append(g)
    st = wait(lambda: all(upstream_state(n).get("state") == "up"
                          for n in ("alpha", "beta", "gamma", "delta")) and ready(), 15)
    if not check("/ready shows alpha, beta, gamma and delta up", st,
                 json.dumps(wait(ready, 1)), open(os.path.join(W, "mcpg.log")).read()[-2000:]):
        return
    check("beta is reached with its Authorization header from ${env.*}",
          st["upstreams"]["beta"]["state"] == "up", json.dumps(st))
    check("/ready says how each upstream is reached",
          st["upstreams"]["alpha"]["transport"] == "http" and
          st["upstreams"]["gamma"]["transport"] == "stdio", json.dumps(st))

    anon = Client(f"http://127.0.0.1:{gw}/mcp")
    alice = Client(f"http://127.0.0.1:{gw}/mcp", subject="alice")
    bob = Client(f"http://127.0.0.1:{gw}/mcp", subject="bob")

    # Lists: prefixes, include/exclude, governance per upstream.
    t = names(anon)
    check("tools/list: the local tool and alpha's included tools under 'a.'",
          {"local_hello", "a.test_simple_text", "a.test_sampling",
           "a.test_tool_with_progress"} <= t, sorted(t))
    check("tools/list: alpha's tools outside include are left out",
          "a.test_image_content" not in t and "a.test_error_handling" not in t, sorted(t))
    check("tools/list: the stdio upstream's tools under 'c.'",
          {"c.add_tool", "c.slow", "c.whoami"} <= t, sorted(t))
    check("tools/list: beta's trust floor hides it from an anonymous caller",
          not any(n.startswith("b.") for n in t), sorted(t))
    ta = names(alice)
    check("tools/list: beta's tools for alice (header_asserted, allow_if true)",
          {"b.test_simple_text", "b.test_image_content", "b.test_tool_with_logging"} <= ta,
          sorted(ta))
    check("tools/list: beta's exclude patterns hold (test_sampling, test_elicitation*)",
          not {"b.test_sampling", "b.test_elicitation", "b.test_elicitation_sep1034_defaults",
               "b.test_elicitation_sep1330_enums"} & ta, sorted(ta))
    tb = names(bob)
    check("tools/list: beta's allow_if hides it from bob",
          not any(n.startswith("b.") for n in tb) and "a.test_simple_text" in tb, sorted(tb))
    rs = names(anon, "resources/list", "resources")
    check("resources/list: alpha's included resources, names prefixed",
          {"a.static-text", "a.static-binary"} <= rs and "a.watched-resource" not in rs,
          sorted(rs))
    ps = names(anon, "prompts/list", "prompts")
    check("prompts/list: alpha's included prompt only",
          ps == {"a.test_simple_prompt"}, sorted(ps))

    # 155 tools from gamma, listed to the gateway in pages of 50; to clients in pages of 100.
    seen, cursor, pages = [], None, 0
    while pages < 10:
        r = anon.call("tools/list", {"cursor": cursor} if cursor else {})
        seen += [t["name"] for t in r.get("result", {}).get("tools", [])]
        pages += 1
        cursor = r.get("result", {}).get("nextCursor")
        if not cursor:
            break
    extra = [n for n in seen if n.startswith("c.extra")]
    check("an upstream's paginated tools/list is discovered whole (150 extra tools)",
          len(extra) == 150 and len(set(extra)) == 150, len(extra))
    check("clients page through local and federated tools (100 a page, no duplicates)",
          pages == 2 and len(seen) == len(set(seen)) and "local_hello" in seen,
          pages, len(seen))

    # Calls through the gateway.
    r = anon.call("tools/call", {"name": "a.test_simple_text", "arguments": {}})
    check("tools/call a.test_simple_text reaches alpha",
          text_of(r) == "This is a simple text response for testing.", r)
    r = anon.call("tools/call", {"name": "local_hello", "arguments": {}})
    check("tools/call of the local tool still works", text_of(r) == "hello from the gateway", r)
    r = anon.call("tools/call", {"name": "b.test_simple_text", "arguments": {}})
    check("tools/call b.test_simple_text by an anonymous caller: unknown tool (-32602)",
          r.get("error", {}).get("code") == -32602, r)
    r = alice.call("tools/call", {"name": "b.test_simple_text", "arguments": {}})
    check("tools/call b.test_simple_text by alice reaches beta",
          text_of(r) == "This is a simple text response for testing.", r)
    r = anon.call("tools/call", {"name": "a.test_image_content", "arguments": {}})
    check("tools/call of a tool alpha's include leaves out: unknown tool",
          r.get("error", {}).get("code") == -32602, r)
    r = anon.call("resources/read", {"uri": "test://static-text"})
    check("resources/read test://static-text reaches alpha",
          r.get("result", {}).get("contents", [{}])[0].get("text") ==
          "This is the content of the static text resource.", r)
    tl = names(alice, "resources/templates/list", "resourceTemplates")
    check("resources/templates/list: beta's template for alice (b.template)",
          "b.template" in tl, sorted(tl))
    r = alice.call("resources/read", {"uri": "test://template/42/data"})
    check("resources/read through beta's template",
          '"id":"42"' in r.get("result", {}).get("contents", [{}])[0].get("text", ""), r)
    r = anon.call("resources/read", {"uri": "test://template/42/data"})
    check("the same read by an anonymous caller: -32002 (beta's governance)",
          r.get("error", {}).get("code") == -32002, r)
    r = alice.call("completion/complete", {"ref": {"type": "ref/prompt",
                                                   "name": "b.test_prompt_with_arguments"},
                                           "argument": {"name": "arg1", "value": "pa"}})
    check("completion/complete on beta's prompt is forwarded under its own name",
          r.get("result", {}).get("completion", {}).get("values") == ["paris", "park", "party"],
          r)
    r = anon.call("prompts/get", {"name": "a.test_simple_prompt"})
    check("prompts/get a.test_simple_prompt reaches alpha",
          len(r.get("result", {}).get("messages", [])) >= 1, r)
    r = anon.call("tools/call", {"name": "c.fail", "arguments": {}})
    check("an upstream's JSON-RPC error keeps its code, message and data (-32050)",
          r.get("error", {}).get("code") == -32050 and
          r["error"].get("message") == "custom failure" and
          r["error"].get("data") == {"detail": "custom"}, r)
    r = anon.call("tools/call", {"name": "a.test_sampling", "arguments": {}})
    check("an upstream's invalid-params error stays -32602",
          r.get("error", {}).get("code") == -32602, r)

    st = ready()["upstreams"]
    check("calls share one upstream session: alpha and beta initialized once each",
          st["alpha"]["connects"] == 1 and st["beta"]["connects"] == 1, json.dumps(st))

    # Server-initiated request and progress, through the POST's SSE stream.
    anon.answer = lambda req: {"role": "assistant", "model": "t",
                               "content": {"type": "text", "text": "hi from client"}}
    r = anon.call("tools/call", {"name": "a.test_sampling", "arguments": {"prompt": "p"}})
    reqs = [m for m in anon.last_messages if m.get("method") == "sampling/createMessage"]
    check("sampling/createMessage reaches the client under a gateway id",
          len(reqs) == 1 and str(reqs[0].get("id", "")).startswith("mcpg-"), anon.last_messages)
    check("the client's sampling answer goes back to alpha",
          text_of(r) == "LLM response: hi from client", r)
    r = anon.call("tools/call", {"name": "a.test_tool_with_progress", "arguments": {},
                                 "_meta": {"progressToken": "tok-1"}})
    prog = [m for m in anon.last_messages if m.get("method") == "notifications/progress"]
    check("progress notifications carry the client's own token",
          len(prog) == 3 and all(p["params"]["progressToken"] == "tok-1" for p in prog),
          anon.last_messages)

    # A client whose POSTs take JSON only: the call's messages use its GET stream.
    jc = Client(f"http://127.0.0.1:{gw}/mcp", json_only=True)
    jc.answer = lambda req: {"role": "assistant", "model": "t",
                             "content": {"type": "text", "text": "via the GET stream"}}
    jc.open_stream()
    time.sleep(0.3)
    r = jc.call("tools/call", {"name": "a.test_sampling", "arguments": {"prompt": "p"}})
    check("JSON mode: sampling/createMessage comes on the GET stream and its answer returns",
          text_of(r) == "LLM response: via the GET stream", r, jc.events)
    r = jc.call("tools/call", {"name": "a.test_tool_with_progress", "arguments": {},
                               "_meta": {"progressToken": 7}})
    n = 0
    while jc.wait_event(lambda m: m.get("method") == "notifications/progress" and
                        m["params"]["progressToken"] == 7, 2):
        n += 1
        if n == 3:
            break
    check("JSON mode: progress notifications come on the GET stream", n == 3 and
          (text_of(r) or "").startswith("Progress tool completed"), r, jc.events)

    # notifications/cancelled reaches the upstream.
    slow_id = anon.next_id
    th = threading.Thread(target=anon.call, args=("tools/call", {"name": "c.slow", "arguments": {}}))
    th.start()
    time.sleep(0.5)
    anon.notify("notifications/cancelled", {"requestId": slow_id, "reason": "test"})
    th.join(5)
    r = wait(lambda: json.loads(text_of(anon.call(
        "tools/call", {"name": "c.cancelled", "arguments": {}})) or "[]"), 5, 0.2)
    check("notifications/cancelled propagates to the upstream", r and len(r) == 1, r)

    # The upstream's list_changed: rediscovery, and the gateway's own list_changed.
    anon.open_stream()
    alice.open_stream()
    time.sleep(0.3)
    r = anon.call("tools/call", {"name": "c.add_tool", "arguments": {"name": "added"}})
    ev = anon.wait_event(lambda m: m.get("method") == "notifications/tools/list_changed", 8)
    check("gamma's list_changed makes the gateway send tools/list_changed", ev, anon.events)
    check("the new upstream tool is listed (c.added)",
          wait(lambda: "c.added" in names(anon), 5), sorted(names(anon)))

    # delta answers POSTs with plain JSON and sends list_changed on its GET stream.
    r = anon.call("tools/call", {"name": "d.whoami", "arguments": {}})
    check("a JSON (not SSE) answer of an HTTP upstream is relayed",
          (text_of(r) or "").startswith("pid "), r)
    r = anon.call("tools/call", {"name": "d.fail", "arguments": {}})
    check("a JSON-RPC error in a JSON answer keeps its code (-32050)",
          r.get("error", {}).get("code") == -32050, r)
    r = anon.call("tools/call", {"name": "d.add_tool", "arguments": {"name": "more"}})
    ev = anon.wait_event(lambda m: m.get("method") == "notifications/tools/list_changed", 8)
    check("list_changed on an HTTP upstream's GET stream reaches the clients", ev, anon.events)
    check("the HTTP upstream's new tool is listed (d.more)",
          wait(lambda: "d.more" in names(anon), 5), sorted(names(anon)))
    t0 = time.time()
    r = anon.call("tools/call", {"name": "d.slow", "arguments": {}})
    took = time.time() - t0
    check("delta's timeout_ms (1500) ends a slow call with -32001",
          r.get("error", {}).get("code") == -32001 and 1.0 < took < 6, r, f"{took:.2f} s")
    r = wait(lambda: json.loads(text_of(anon.call(
        "tools/call", {"name": "d.cancelled", "arguments": {}})) or "[]"), 5, 0.2)
    check("the timed-out request is cancelled on the HTTP upstream", r and len(r) == 1, r)

    # Subscriptions are forwarded (beta's resource: alpha's include leaves it
    # out); updates come on the session's GET stream.
    r = anon.call("resources/subscribe", {"uri": "test://watched-resource"})
    check("resources/subscribe on beta's resource by an anonymous caller: {} and nothing forwarded",
          r.get("result") == {}, r)
    r = alice.call("resources/subscribe", {"uri": "test://watched-resource"})
    check("resources/subscribe on beta's resource answers {}", r.get("result") == {}, r)
    ev = alice.wait_event(lambda m: m.get("method") == "notifications/resources/updated", 8)
    check("notifications/resources/updated reaches the subscribed client",
          ev and ev["params"]["uri"] == "test://watched-resource", alice.events)
    check("no update for a client that did not subscribe (anonymous)",
          not anon.wait_event(lambda m: m.get("method") == "notifications/resources/updated", 0.5),
          anon.events)

    # beta killed: withheld and reported; back when it returns.
    fb.send_signal(signal.SIGKILL)
    fb.wait()
    st = wait(lambda: upstream_state("beta").get("state") == "down" and ready(), 10)
    check("/ready shows beta down once it is killed", st, json.dumps(wait(ready, 1)))
    check("/ready gives beta's error", st and st["upstreams"]["beta"].get("error"),
          json.dumps(st))
    check("metrics: mcpg_upstream_up{upstream=\"beta\"} 0",
          'mcpg_upstream_up{upstream="beta"} 0' in metrics(), metrics()[-600:])
    ta = names(alice)
    check("beta's tools are withheld while it is down",
          not any(n.startswith("b.") for n in ta) and "a.test_simple_text" in ta, sorted(ta))
    ev = alice.wait_event(lambda m: m.get("method") == "notifications/tools/list_changed", 5)
    check("clients are told (tools/list_changed) when beta's tools go", ev, alice.events)
    r = alice.call("tools/call", {"name": "b.test_simple_text", "arguments": {}})
    check("a call to beta's tool while it is down: unknown tool, not a stale answer",
          r.get("error", {}).get("code") == -32602, r)
    r = anon.call("tools/call", {"name": "a.test_simple_text", "arguments": {}})
    check("alpha keeps serving while beta is down",
          text_of(r) == "This is a simple text response for testing.", r)
    fb = start_fixture(pb, os.path.join(W, "beta.log"), "--bearer", TOKEN)
    st = wait(lambda: upstream_state("beta").get("state") == "up" and ready(), 15)
    check("beta comes back up in /ready after a restart", st, json.dumps(wait(ready, 1)))
    check("beta's tools are listed again",
          wait(lambda: "b.test_simple_text" in names(alice), 5), sorted(names(alice)))
    r = alice.call("tools/call", {"name": "b.test_simple_text", "arguments": {}})
    check("beta's tool is called on the new upstream session",
          text_of(r) == "This is a simple text response for testing.", r)
    while alice.wait_event(lambda m: m.get("method") == "notifications/resources/updated", 0):
        pass
    ev = alice.wait_event(lambda m: m.get("method") == "notifications/resources/updated", 8)
    check("the subscription is made again on beta's new session (updates resume)", ev,
          alice.events)
    r = alice.call("resources/unsubscribe", {"uri": "test://watched-resource"})
    check("resources/unsubscribe answers {}", r.get("result") == {}, r)

    # gamma's child killed: restarted with backoff.
    who = text_of(anon.call("tools/call", {"name": "c.whoami", "arguments": {}})) or ""
    m = re.match(r"pid (\d+)", who)
    if check("c.whoami names the stdio child", m, who):
        os.kill(int(m.group(1)), signal.SIGKILL)
        new = wait(lambda: (lambda w: w if w and w != who else None)(
            text_of(anon.call("tools/call", {"name": "c.whoami", "arguments": {}}))), 10, 0.2)
        check("a killed stdio child is restarted and serves again", new, who)
        check("/ready counts gamma's second connect",
              upstream_state("gamma").get("connects", 0) >= 2, json.dumps(ready()))

    # Reload: a changed upstream entry is rediscovered; the others stay connected.
    before = ready()["upstreams"]
    r = build(INCLUDE + ', "test_image_content"')
    if check("mcpgc builds the changed config", r.returncode == 0, r.stderr):
        while anon.wait_event(lambda m: m.get("method") == "notifications/tools/list_changed", 0):
            pass
        g.send_signal(signal.SIGHUP)
        check("after SIGHUP alpha's new include is served (a.test_image_content)",
              wait(lambda: "a.test_image_content" in names(anon), 10), sorted(names(anon)))
        check("the reload's new items are announced (tools/list_changed)",
              anon.wait_event(lambda m: m.get("method") == "notifications/tools/list_changed", 5),
              anon.events)
        after = ready()["upstreams"]
        check("the reload kept beta's and gamma's connections",
              after["beta"]["connects"] == before["beta"]["connects"] and
              after["gamma"]["connects"] == before["gamma"]["connects"],
              json.dumps(before), json.dumps(after))

    g.send_signal(signal.SIGTERM)
    try:
        rc = g.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    check("mcpg exits 0 on SIGTERM with its upstreams", rc == 0,
          f"exit {rc}", open(os.path.join(W, "mcpg.log")).read()[-1500:])


try:
    main()
except Exception:
    import traceback
    fail("tests/fed/t5500.py runs to its end", traceback.format_exc(),
         open(os.path.join(W, "mcpg.log")).read()[-1500:] if os.path.exists(
             os.path.join(W, "mcpg.log")) else "")
finally:
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
