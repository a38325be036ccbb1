#!/usr/bin/env python3
"""tests/idp.py - a stand-in OpenID Connect provider for the identity tests.

  idp.py DIR PORT

Serves on 127.0.0.1:PORT the discovery document
(/.well-known/openid-configuration, issuer http://127.0.0.1:PORT, jwks_uri
.../jwks) and DIR/keys.json at /jwks, read on every request so a test can
rotate keys by rewriting it.  While DIR/down exists every answer is a 500.
Each request's path is appended to DIR/fetches.log.
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

d, port = sys.argv[1], int(sys.argv[2])


class H(BaseHTTPRequestHandler):
    def do_GET(self):
        with open(os.path.join(d, "fetches.log"), "a") as f:
            f.write(self.path + "\n")
        base = "http://127.0.0.1:%d" % port
        if os.path.exists(os.path.join(d, "down")):
            self.send_response(500)
            self.end_headers()
            return
        if self.path == "/.well-known/openid-configuration":
            body = json.dumps({"issuer": base, "jwks_uri": base + "/jwks"}).encode()
        elif self.path == "/jwks":
            with open(os.path.join(d, "keys.json"), "rb") as f:
                body = f.read()
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
