"""tests/fed/mcp.py - a small MCP client over Streamable HTTP for the
federation suites (standard library only).

    c = Client("http://127.0.0.1:PORT/mcp", subject="alice")  # initialize + initialized
    r = c.call("tools/list")            # the JSON-RPC message answering it
    msgs = c.last_messages              # every message of that answer (SSE)
    c.open_stream()                     # GET stream, read by a thread into c.events
    c.wait_event(lambda m: ..., 5)      # the first event matching, or None
    c.answer = lambda req: {...}        # answers server-initiated requests (sampling...),
                                        # on a POST's stream or the GET stream
    Client(url, json_only=True)         # POSTs accept application/json only

Used as a command too:  python3 mcp.py URL METHOD [PARAMS_JSON] [--subject S]
prints the answer as JSON.
"""
import json
import sys
import threading
import time
import urllib.error
import urllib.request


class Client:
    def __init__(self, url, subject=None, init=True, json_only=False):
        self.url = url
        self.json_only = json_only  # POSTs accept application/json only
        self.subject = subject
        self.sid = None
        self.next_id = 1
        self.events = []
        self.cond = threading.Condition()
        self.answer = None
        self.last_messages = []
        if init:
            r = self.call("initialize", {
                "protocolVersion": "2025-11-25",
                "capabilities": {"sampling": {}, "elicitation": {}},
                "clientInfo": {"name": "t-fed", "version": "1"}})
            if "result" not in r:
                raise RuntimeError(f"initialize failed: {r}")
            self.notify("notifications/initialized")

    def _headers(self):
        h = {"Content-Type": "application/json",
             "Accept": "application/json" if self.json_only else
                       "application/json, text/event-stream"}
        if self.sid:
            h["Mcp-Session-Id"] = self.sid
            h["MCP-Protocol-Version"] = "2025-11-25"
        if self.subject:
            h["x-mcpg-subject-id"] = self.subject
        return h

    def post(self, msg, timeout=30):
        req = urllib.request.Request(self.url, json.dumps(msg).encode(), self._headers())
        try:
            resp = urllib.request.urlopen(req, timeout=timeout)
        except urllib.error.HTTPError as e:
            return e.code, [json.loads(e.read() or b"null")]
        if resp.headers.get("Mcp-Session-Id"):
            self.sid = resp.headers["Mcp-Session-Id"]
        ctype = resp.headers.get("Content-Type", "")
        out = []
        if ctype.startswith("text/event-stream"):
            data = []
            for raw in resp:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
                elif not line and data:
                    text = "\n".join(data)
                    data = []
                    if not text:
                        continue  # a priming event (SEP-1699): an id, no message
                    m = json.loads(text)
                    out.append(m)
                    # A server-initiated request: answer it at once (a new POST).
                    if "method" in m and "id" in m and self.answer:
                        res = self.answer(m)
                        threading.Thread(target=self.post, args=(
                            {"jsonrpc": "2.0", "id": m["id"], "result": res},), daemon=True).start()
        else:
            body = resp.read()
            if body:
                out.append(json.loads(body))
        return resp.status, out

    def call(self, method, params=None, timeout=30):
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        self.next_id += 1
        if params is not None:
            msg["params"] = params
        status, msgs = self.post(msg, timeout)
        self.last_messages = msgs
        for m in msgs:
            if m and m.get("id") == msg["id"] and "method" not in m:
                return m
        return {"status": status, "messages": msgs}

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        return self.post(msg)[0]

    def open_stream(self):
        h = self._headers()
        h["Accept"] = "text/event-stream"
        del h["Content-Type"]
        req = urllib.request.Request(self.url, headers=h, method="GET")
        resp = urllib.request.urlopen(req, timeout=120)

        def reader():
            data = []
            try:
                for raw in resp:
                    line = raw.decode().rstrip("\r\n")
                    if line.startswith("data:"):
                        data.append(line[5:].lstrip(" "))
                    elif not line and data:
                        m = json.loads("\n".join(data))
                        with self.cond:
                            self.events.append(m)
                            self.cond.notify_all()
                        data = []
                        if "method" in m and "id" in m and self.answer:
                            res = self.answer(m)
                            threading.Thread(target=self.post, args=(
                                {"jsonrpc": "2.0", "id": m["id"], "result": res},),
                                daemon=True).start()
            except Exception:
                pass
        threading.Thread(target=reader, daemon=True).start()

    def wait_event(self, pred, timeout):
        end = time.time() + timeout
        with self.cond:
            while True:
                for e in self.events:
                    if pred(e):
                        self.events.remove(e)
                        return e
                left = end - time.time()
                if left <= 0:
                    return None
                self.cond.wait(left)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    subject = sys.argv[sys.argv.index("--subject") + 1] if "--subject" in sys.argv else None
    if subject:
        args.remove(subject)
    c = Client(args[0], subject=subject)
    print(json.dumps(c.call(args[1], json.loads(args[2]) if len(args) > 2 else None)))
