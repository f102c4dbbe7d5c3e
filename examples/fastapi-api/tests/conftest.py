"""A real authjar for the tests: the binary ``AUTHJAR_BIN`` (built by
``cargo build -p authjar-cli``; scripts/test sets it), started in a fresh
directory on a free loopback port, stopped after the test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

APP_ORIGIN = "http://localhost:3000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Authjar:
    """One running authjar."""

    url: str  # where this process listens
    public_url: str  # its public_url: the tokens' iss
    directory: str
    process: subprocess.Popen
    env: dict = field(default_factory=dict)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def session(self, email: str, password: str = "correct horse battery") -> dict:
        """Registers (or logs in) as an app page on APP_ORIGIN would; the cookies and CSRF token."""
        with httpx.Client(base_url=self.url, headers={"origin": APP_ORIGIN}) as c:
            csrf = c.get("/auth/csrf").json()["csrf_token"]
            body = {"email": email, "password": password}
            r = c.post("/auth/register", json=body, headers={"x-csrf-token": csrf})
            if r.status_code == 409:
                r = c.post("/auth/login", json=body, headers={"x-csrf-token": csrf})
            assert r.status_code in (200, 201), r.text
            cookies = {k: v for k, v in c.cookies.items()}
            return {"cookies": cookies, "csrf": r.json()["csrf_token"], "user": r.json()["user"]}


def start_authjar(*, secret: str, previous: str | None = None, directory: str | None = None,
                  port: int | None = None, public_url: str | None = None, access_ttl: str = "60s") -> Authjar:
    binary = os.environ.get("AUTHJAR_BIN")
    if not binary or not os.access(binary, os.X_OK):
        raise RuntimeError("set AUTHJAR_BIN to the authjar binary (cargo build -p authjar-cli)")
    port = port or free_port()
    directory = directory or tempfile.mkdtemp(prefix="authjar-fastapi-")
    public_url = public_url or f"http://localhost:{port}"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", directory),
        "AUTHJAR_LISTEN": f"127.0.0.1:{port}",
        "AUTHJAR_PUBLIC_URL": public_url,
        "AUTHJAR_APP_ORIGINS": APP_ORIGIN,
        "AUTHJAR_SECRET": secret,
        "AUTHJAR_ACCESS_TTL": access_ttl,
        "AUTHJAR_LOG": "warn",
    }
    if previous:
        env["AUTHJAR_PREVIOUS_SECRETS"] = previous
    process = subprocess.Popen([binary, "serve"], cwd=directory, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"authjar exited {process.returncode}: {process.stderr.read().decode(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"authjar did not answer on {url} within 20 s")
        time.sleep(0.1)
    return Authjar(url=url, public_url=public_url, directory=directory, process=process, env=env)


@pytest.fixture
def authjars():
    """Starts authjars (``authjars(secret=...)``); stops them and removes their directories after the test."""
    started: list[Authjar] = []

    def start(**kwargs) -> Authjar:
        a = start_authjar(**kwargs)
        started.append(a)
        return a

    yield start
    for a in started:
        a.stop()
    for d in {a.directory for a in started}:
        shutil.rmtree(d, ignore_errors=True)
