"""tests/fed/upstream.py - a tiny MCP server for the federation suites
(standard library only).

    upstream.py             newline-delimited JSON-RPC on stdin/stdout
    upstream.py --http PORT Streamable HTTP on 127.0.0.1:PORT/mcp, answering
                            POSTs with plain JSON (no SSE) and sending its
                            own notifications on the session's GET stream
    --extra N               N more tools, extra000 ..., and tools/list in
                            pages of 50 (nextCursor)

Tools:
  add_tool {name}      adds a tool of that name, then sends
                       notifications/tools/list_changed
  slow {}              answers after 10 s, or never when the request is
                       cancelled (notifications/cancelled) first
  cancelled {}         the request ids this server saw cancelled, as text
  whoami {}            "pid N": which process answered
  fail {}              a JSON-RPC error -32050 "custom failure", data {"detail": "custom"}
"""
import json
import os
import queue
import sys
import threading

lock = threading.Lock()
tools = ["add_tool", "slow", "cancelled", "whoami", "fail"]
if "--extra" in sys.argv:
    tools += ["extra%03d" % i for i in range(int(sys.argv[sys.argv.index("--extra") + 1]))]
PAGE = 50 if "--extra" in sys.argv else 0
cancelled = []
events = {}


def text(t):
    return {"content": [{"type": "text", "text": t}]}


def handle(m, reply, notify):
    """Serve one message; reply(msg) answers it, notify(msg) sends a notification."""
    meth, rid, p = m.get("method"), m.get("id"), m.get("params") or {}
    if meth == "notifications/cancelled":
        k = json.dumps(p.get("requestId"))
        cancelled.append(p.get("requestId"))
        if k in events:
            events[k].set()
        return
    if rid is None or meth is None:
        return
    res = None
    if meth == "initialize":
        res = {"protocolVersion": p.get("protocolVersion", "2025-11-25"),
               "capabilities": {"tools": {"listChanged": True}},
               "serverInfo": {"name": "t-upstream", "version": "1"}}
    elif meth == "ping":
        res = {}
    elif meth == "tools/list":
        start = int(p.get("cursor") or 0)
        page = tools[start:start + PAGE] if PAGE else tools
        res = {"tools": [{"name": n, "description": "tool " + n,
                          "inputSchema": {"type": "object"}} for n in page]}
        if PAGE and start + PAGE < len(tools):
            res["nextCursor"] = str(start + PAGE)
    elif meth == "tools/call":
        name, args = p.get("name"), p.get("arguments") or {}
        if name == "add_tool":
            tools.append(args["name"])
            reply({"jsonrpc": "2.0", "id": rid, "result": text("added")})
            notify({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
            return
        if name == "slow":
            ev = threading.Event()
            events[json.dumps(rid)] = ev
            if not ev.wait(10):
                reply({"jsonrpc": "2.0", "id": rid, "result": text("slow done")})
            else:
                reply(None)
            return
        if name == "cancelled":
            res = text(json.dumps(cancelled))
        elif name == "whoami":
            res = text("pid %d" % os.getpid())
        elif name == "fail":
            reply({"jsonrpc": "2.0", "id": rid,
                   "error": {"code": -32050, "message": "custom failure",
                             "data": {"detail": "custom"}}})
            return
        else:
            reply({"jsonrpc": "2.0", "id": rid,
                   "error": {"code": -32602, "message": "Unknown tool: %s" % name}})
            return
    else:
        reply({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found"}})
        return
    reply({"jsonrpc": "2.0", "id": rid, "result": res})


def stdio():
    def send(m):
        if m is None:
            return
        with lock:
            sys.stdout.write(json.dumps(m) + "\n")
            sys.stdout.flush()
    for line in sys.stdin:
        m = json.loads(line)
        if m.get("method") == "tools/call" and (m.get("params") or {}).get("name") == "slow":
            threading.Thread(target=handle, args=(m, send, send), daemon=True).start()
        else:
            handle(m, send, send)


def http(port):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    streams = []

    def notify(m):
        for q in list(streams):
            q.put(m)

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send_json(self, status, obj, sid=None):
            body = json.dumps(obj).encode() if obj is not None else b""
            self.send_response(status)
            if body:
                self.send_header("Content-Type", "application/json")
            if sid:
                self.send_header("Mcp-Session-Id", sid)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            m = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            out = []
            handle(m, out.append, notify)
            if "id" not in m:
                self.send_json(202, None)
            elif out and out[0] is not None:
                self.send_json(200, out[0], "s1" if m.get("method") == "initialize" else None)
            else:
                self.send_json(202, None)

        def do_DELETE(self):
            self.send_json(200, None)

        def do_GET(self):
            q = queue.Queue()
            streams.append(q)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            try:
                self.wfile.write(b": open\n\n")
                self.wfile.flush()
                while True:
                    try:
                        m = q.get(timeout=1)
                        self.wfile.write(b"event: message\ndata: " + json.dumps(m).encode() + b"\n\n")
                    except queue.Empty:
                        self.wfile.write(b": ka\n\n")
                    self.wfile.flush()
            except OSError:
                pass
            finally:
                streams.remove(q)
                self.close_connection = True

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()


if __name__ == "__main__":
    if "--http" in sys.argv:
        http(int(sys.argv[sys.argv.index("--http") + 1]))
    else:
        stdio()
