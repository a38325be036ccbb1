"""tests/fed/upstream.py - a tiny MCP server on stdin/stdout for the
federation suites (newline-delimited JSON-RPC, standard library only).

Tools:
  add_tool {name}      adds a tool of that name, then sends
                       notifications/tools/list_changed
  slow {}              answers after 10 s, or never when the request is
                       cancelled (notifications/cancelled) first
  cancelled {}         the request ids this server saw cancelled, as text
  whoami {}            "pid N": which child answered
  fail {}              a JSON-RPC error -32050 "custom failure"
"""
import json
import os
import sys
import threading

lock = threading.Lock()
tools = ["add_tool", "slow", "cancelled", "whoami", "fail"]
cancelled = []
events = {}


def send(m):
    with lock:
        sys.stdout.write(json.dumps(m) + "\n")
        sys.stdout.flush()


def text(t):
    return {"content": [{"type": "text", "text": t}]}


def slow(rid):
    ev = threading.Event()
    events[json.dumps(rid)] = ev
    if not ev.wait(10):
        send({"jsonrpc": "2.0", "id": rid, "result": text("slow done")})


for line in sys.stdin:
    m = json.loads(line)
    meth, rid, p = m.get("method"), m.get("id"), m.get("params") or {}
    if meth == "notifications/cancelled":
        k = json.dumps(p.get("requestId"))
        cancelled.append(p.get("requestId"))
        if k in events:
            events[k].set()
        continue
    if rid is None or meth is None:
        continue
    if meth == "initialize":
        res = {"protocolVersion": p.get("protocolVersion", "2025-11-25"),
               "capabilities": {"tools": {"listChanged": True}},
               "serverInfo": {"name": "t-upstream", "version": "1"}}
    elif meth == "ping":
        res = {}
    elif meth == "tools/list":
        res = {"tools": [{"name": n, "description": "tool " + n,
                          "inputSchema": {"type": "object"}} for n in tools]}
    elif meth == "tools/call":
        name, args = p.get("name"), p.get("arguments") or {}
        if name == "add_tool":
            tools.append(args["name"])
            send({"jsonrpc": "2.0", "id": rid, "result": text("added")})
            send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
            continue
        if name == "slow":
            threading.Thread(target=slow, args=(rid,), daemon=True).start()
            continue
        if name == "cancelled":
            res = text(json.dumps(cancelled))
        elif name == "whoami":
            res = text("pid %d" % os.getpid())
        elif name == "fail":
            send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32050, "message": "custom failure"}})
            continue
        else:
            send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32602, "message": "Unknown tool: %s" % name}})
            continue
    else:
        send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found"}})
        continue
    send({"jsonrpc": "2.0", "id": rid, "result": res})
