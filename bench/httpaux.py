#!/usr/bin/env python3
"""httpaux.py - the measurements of bench/http.sh and bench/reload.sh that wrk cannot make.

    httpaux.py sessions URL N           open N MCP sessions (initialize, then
                                        notifications/initialized) on one
                                        keep-alive connection and leave them
                                        open; prints "opened N failed F in S s"
    httpaux.py reload HEALTH_URL NEW IMAGE [TIMEOUT_S]
                                        rename NEW onto IMAGE and time the
                                        rename to the first HEALTH_URL answer
                                        whose body names another digest;
                                        prints "reload_ms=M old=D1 new=D2"

Loopback URLs only.  Every loop is bounded in count and time.
"""
import http.client
import json
import os
import re
import sys
import time
import urllib.parse

PV = "2025-11-25"


def split(url):
    u = urllib.parse.urlsplit(url)
    if u.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"httpaux: refusing non-loopback URL {url}")
    return u.hostname, u.port or 80, (u.path or "/") + (("?" + u.query) if u.query else "")


def sessions(url, n):
    host, port, path = split(url)
    conn = http.client.HTTPConnection(host, port, timeout=10)
    init = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                       "params": {"protocolVersion": PV, "capabilities": {},
                                  "clientInfo": {"name": "httpaux", "version": "0"}}})
    note = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
    base = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    opened = failed = 0
    t0 = time.monotonic()
    for _ in range(n):
        try:
            conn.request("POST", path, init, base)
            r = conn.getresponse()
            r.read()
            sid = r.getheader("Mcp-Session-Id")
            if r.status != 200 or not sid:
                failed += 1
                continue
            conn.request("POST", path, note,
                         dict(base, **{"Mcp-Session-Id": sid, "MCP-Protocol-Version": PV}))
            r = conn.getresponse()
            r.read()
            if r.status // 100 != 2:
                failed += 1
                continue
            opened += 1
        except (OSError, http.client.HTTPException):
            failed += 1
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=10)
        if failed > 100 and failed > opened:
            break
    print(f"opened {opened} failed {failed} in {time.monotonic() - t0:.2f} s")
    return 0 if failed == 0 else 1


def digest_of(body):
    # /health names the image as {"image":{"sha256":"..."}}; accept "digest" too.
    m = re.search(rb'"(?:sha256|digest)"\s*:\s*"([0-9a-f]{64})"', body)
    return m.group(1).decode() if m else None


def reload(health_url, new, image, timeout):
    host, port, path = split(health_url)
    conn = http.client.HTTPConnection(host, port, timeout=5)

    def current():
        nonlocal conn
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return digest_of(r.read())
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=5)
            return None

    old = current()
    if not old:
        print(f"reload_ms failed: {health_url} names no digest")
        return 1
    t0 = time.monotonic()
    os.rename(new, image)
    while time.monotonic() - t0 < timeout:
        d = current()
        if d and d != old:
            print(f"reload_ms={(time.monotonic() - t0) * 1000:.2f} old={old} new={d}")
            return 0
        time.sleep(0.0002)
    print(f"reload_ms failed: digest still {old} after {timeout} s")
    return 1


def main(argv):
    if len(argv) >= 4 and argv[1] == "sessions":
        return sessions(argv[2], int(argv[3]))
    if len(argv) >= 5 and argv[1] == "reload":
        return reload(argv[2], argv[3], argv[4], float(argv[5]) if len(argv) > 5 else 10)
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
