#!/usr/bin/env python3
"""audit-load.py - concurrent tools/call clients for t5300 and bench/audit.sh.

  audit-load.py URL CLIENTS OUTDIR [SECONDS] [TOOL]

Each client opens its own session on one keep-alive connection and calls
TOOL (default echo) until OUTDIR/stop exists, SECONDS pass (0 = no limit)
or the server goes away.  Every call answered with a JSON-RPC result is
written as "ID SESSION" to OUTDIR/ok.N, and each latency in microseconds to
OUTDIR/lat.N when SECONDS is given.  JSON-RPC ids are unique across clients.
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
clients = int(sys.argv[2])
outdir = sys.argv[3]
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 0
tool = sys.argv[5] if len(sys.argv) > 5 else "echo"
H = {"Content-Type": "application/json", "Accept": "application/json"}


def post(conn, body, sid=None):
    h = dict(H)
    if sid:
        h["Mcp-Session-Id"] = sid
    conn.request("POST", url.path, json.dumps(body), h)
    r = conn.getresponse()
    return r, r.read()


def client(k):
    ok = open(os.path.join(outdir, "ok.%d" % k), "w")
    lat = open(os.path.join(outdir, "lat.%d" % k), "w") if seconds else None
    try:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        r, _ = post(conn, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})
        sid = r.getheader("Mcp-Session-Id")
        post(conn, {"jsonrpc": "2.0", "method": "notifications/initialized"}, sid)
        end = time.monotonic() + seconds if seconds else None
        i = 0
        while not os.path.exists(os.path.join(outdir, "stop")):
            if end and time.monotonic() >= end:
                break
            i += 1
            cid = k * 1000000 + i
            t0 = time.monotonic()
            _, body = post(conn, {"jsonrpc": "2.0", "id": cid, "method": "tools/call",
                                  "params": {"name": tool, "arguments": {}}}, sid)
            if lat:
                lat.write("%d\n" % ((time.monotonic() - t0) * 1e6))
            if b'"result"' in body:
                ok.write("%d %s\n" % (cid, sid))
                ok.flush()
    except (OSError, http.client.HTTPException):
        pass  # the server went away (SIGKILL): what was answered is in ok.N
    ok.close()
    if lat:
        lat.close()


threads = [threading.Thread(target=client, args=(k,)) for k in range(1, clients + 1)]
for t in threads:
    t.start()
for t in threads:
    t.join()
