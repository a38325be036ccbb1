#!/usr/bin/env python3
"""tests/jwt.py - make JWKs and sign JWTs for the identity tests.

Standard library plus the openssl CLI only (keys are made by the tests with
`openssl genpkey`).

  jwt.py jwk KEY.pem KID ALG          print the public JWK (JSON)
  jwt.py sign KEY ALG KID CLAIMS      print a signed token; CLAIMS is JSON,
                                      "$now+N" / "$now-N" in numbers are
                                      replaced by the Unix time +- N; KEY is
                                      a PEM file, or the HMAC secret for HS*;
                                      KID "-" leaves kid out; ALG "none" signs
                                      nothing
"""
import base64
import hashlib
import hmac
import json
import re
import subprocess
import sys
import time


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True,
                          check=True).stdout


def der_ints(der):
    """The two INTEGERs of a DER ECDSA-Sig-Value."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    out = []
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        out.append(int.from_bytes(der[i + 2:i + 2 + n], "big"))
        i += 2 + n
    return out


def jwk(key, kid, alg):
    text = openssl("pkey", "-in", key, "-pubout", "-text", "-noout").decode()
    der = openssl("pkey", "-in", key, "-pubout", "-outform", "DER")
    j = {"kid": kid, "use": "sig", "alg": alg}
    if alg.startswith(("RS", "PS")):
        mod = openssl("rsa", "-in", key, "-noout", "-modulus").decode().strip()
        n = bytes.fromhex(mod.split("=", 1)[1])
        e = int(re.search(r"Exponent: (\d+)", text).group(1))
        j.update(kty="RSA", n=b64(n), e=b64(e.to_bytes((e.bit_length() + 7) // 8, "big")))
    elif alg in ("ES256", "ES384"):
        size = 32 if alg == "ES256" else 48
        pt = der[-(2 * size + 1):]
        j.update(kty="EC", crv="P-256" if size == 32 else "P-384",
                 x=b64(pt[1:1 + size]), y=b64(pt[1 + size:]))
    elif alg == "EdDSA":
        j.update(kty="OKP", crv="Ed25519", x=b64(der[-32:]))
    if kid == "-":
        del j["kid"]
    return j


def sign(key, alg, kid, claims):
    now = int(time.time())
    claims = re.sub(r'"\$now([+-]\d+)?"',
                    lambda m: str(now + int(m.group(1) or 0)), claims)
    header = {"alg": alg, "typ": "JWT"}
    if kid != "-":
        header["kid"] = kid
    si = (b64(json.dumps(header, separators=(",", ":")).encode()) + "." +
          b64(json.dumps(json.loads(claims), separators=(",", ":")).encode()))
    data = si.encode()
    bits = alg[2:]
    if alg == "none":
        sig = b""
    elif alg.startswith("HS"):
        # A .pem file's bytes (the alg-confusion attack), else the text itself.
        secret = open(key, "rb").read() if key.endswith(".pem") else key.encode()
        sig = hmac.new(secret, data, getattr(hashlib, "sha" + bits)).digest()
    elif alg.startswith("RS"):
        sig = openssl("dgst", "-sha" + bits, "-sign", key, data=data)
    elif alg.startswith("PS"):
        sig = openssl("dgst", "-sha" + bits, "-sigopt", "rsa_padding_mode:pss",
                      "-sigopt", "rsa_pss_saltlen:digest", "-sign", key, data=data)
    elif alg.startswith("ES"):
        r, s = der_ints(openssl("dgst", "-sha" + bits, "-sign", key, data=data))
        size = 32 if bits == "256" else 48
        sig = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    elif alg == "EdDSA":
        import os
        import tempfile
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(data)
        try:
            sig = openssl("pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", f.name)
        finally:
            os.unlink(f.name)
    else:
        sys.exit("unknown alg " + alg)
    return si + "." + b64(sig)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "jwk":
        print(json.dumps(jwk(*sys.argv[2:])))
    elif len(sys.argv) == 6 and sys.argv[1] == "sign":
        print(sign(*sys.argv[2:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
