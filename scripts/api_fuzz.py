"""Schemathesis against a running authjar: every operation of /openapi.json,
with generated and stateful requests, must never answer 5xx and must answer
what the document says (status, content type, headers, body schema).

Run by scripts/test inside its Python virtual environment:
    python scripts/api_fuzz.py path/to/authjar [max-examples]
It starts `authjar serve` on a free loopback port in a temporary directory,
registers a user so the authenticated operations are reached (its cookies
and CSRF token go on every request), runs `st run`, and stops the server.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    res = conn.getresponse()
    data = res.read()
    cookies = [v.split(";", 1)[0] for k, v in res.getheaders() if k.lower() == "set-cookie"]
    conn.close()
    return res.status, data, cookies


def wait_until_up(port, server):
    deadline = time.time() + 30
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"authjar exited with {server.returncode}")
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("authjar did not answer /healthz within 30 s")


def session(port):
    """Cookies and a session-bound CSRF token of a freshly registered user."""
    status, body, cookies = request(port, "GET", "/auth/csrf")
    assert status == 200, status
    token = json.loads(body)["csrf_token"]
    payload = json.dumps({"email": "fuzz@example.com", "password": "correct horse battery"})
    status, body, cookies = request(
        port,
        "POST",
        "/auth/register",
        {"content-type": "application/json", "x-csrf-token": token, "cookie": "; ".join(cookies)},
        payload,
    )
    assert status == 201, (status, body)
    return "; ".join(c for c in cookies if c.split("=", 1)[1]), json.loads(body)["csrf_token"]


def main():
    binary = os.path.abspath(sys.argv[1])
    examples = sys.argv[2] if len(sys.argv) > 2 else "25"
    port = free_port()
    with tempfile.TemporaryDirectory() as work:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "AUTHJAR_LISTEN": f"127.0.0.1:{port}",
            "AUTHJAR_PUBLIC_URL": f"http://localhost:{port}",
            "AUTHJAR_RATE_LIMIT__ENABLED": "false",
            "AUTHJAR_LOG": "warn",
        }
        log = open(os.path.join(work, "authjar.log"), "w")
        server = subprocess.Popen([binary, "serve"], cwd=work, env=env, stdout=log, stderr=log)
        try:
            wait_until_up(port, server)
            cookie, token = session(port)
            st = os.path.join(os.path.dirname(sys.executable), "st")
            checks = ",".join([
                "not_a_server_error",
                "status_code_conformance",
                "content_type_conformance",
                "response_headers_conformance",
                "response_schema_conformance",
            ])
            code = subprocess.call([
                st, "run", f"http://127.0.0.1:{port}/openapi.json",
                "--checks", checks,
                "--max-examples", examples,
                "--workers", "1",
                "--seed", "1",
                "--no-color",
                "-H", f"Cookie: {cookie}",
                "-H", f"X-CSRF-Token: {token}",
            ])
        finally:
            server.terminate()
            server.wait(timeout=10)
            log.close()
        if code != 0:
            print(open(os.path.join(work, "authjar.log")).read()[-4000:])
        sys.exit(code)


if __name__ == "__main__":
    main()
