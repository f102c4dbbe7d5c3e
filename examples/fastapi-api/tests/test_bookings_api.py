"""The FastAPI bookings API against a real authjar: it verifies authjar's
EdDSA access tokens against /.well-known/jwks.json, follows key rotation,
refuses expired and foreign tokens, and applies authjar's CSRF rules to its
unsafe routes."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from app import create_app
from authjar_auth import Settings
from conftest import APP_ORIGIN

SECRET_A = "a" * 24 + "-fastapi-secret-a"
SECRET_B = "b" * 24 + "-fastapi-secret-b"
SECRET_C = "c" * 24 + "-fastapi-secret-c"


def api_for(authjar) -> TestClient:
    settings = Settings(authjar_url=authjar.url, issuer=authjar.public_url)
    return TestClient(create_app(settings, [APP_ORIGIN]))


def cookie_header(session: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in session["cookies"].items())


def bearer(session: dict) -> dict:
    return {"authorization": f"Bearer {session['cookies']['access_token']}"}


def test_a_valid_token_is_accepted_from_the_cookie_or_as_bearer(authjars):
    a = authjars(secret=SECRET_A)
    s = a.session("valid@cat.test")
    api = api_for(a)
    r = api.get("/api/me", headers={"cookie": cookie_header(s)})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == s["user"]["id"]
    assert r.json()["email"] == "valid@cat.test"
    assert api.get("/api/me", headers=bearer(s)).status_code == 200
    assert api.get("/api/me").json()["error"] == "unauthenticated"


def test_an_expired_token_is_refused(authjars):
    a = authjars(secret=SECRET_A, access_ttl="4s")
    s = a.session("expired@cat.test")
    api = api_for(a)
    assert api.get("/api/me", headers=bearer(s)).status_code == 200
    exp = jwt.decode(s["cookies"]["access_token"], options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, exp - time.time()) + 1.1)
    r = api.get("/api/me", headers=bearer(s))
    assert r.status_code == 401
    assert "expired" in r.json()["message"]


def test_key_rotation_with_previous_secrets_keeps_old_tokens_valid(authjars):
    a = authjars(secret=SECRET_A)
    old = a.session("rotate@cat.test")
    api = api_for(a)
    assert api.get("/api/me", headers=bearer(old)).status_code == 200  # keys of SECRET_A now cached
    a.stop()
    # The same deployment (directory, port, public_url) restarted with a new secret.
    b = authjars(secret=SECRET_B, previous=SECRET_A, directory=a.directory,
                 port=int(a.url.rsplit(":", 1)[1]), public_url=a.public_url)
    new = b.session("rotate@cat.test")
    kid = lambda s: jwt.get_unverified_header(s["cookies"]["access_token"])["kid"]  # noqa: E731
    assert kid(new) != kid(old), "the new secret signs with a new key"
    # An unknown kid makes the API fetch the key set again (at most once per
    # jwks_refresh_cooldown, which has passed since its last fetch).
    time.sleep(1.1)
    assert api.get("/api/me", headers=bearer(new)).status_code == 200
    r = api.get("/api/me", headers=bearer(old))
    assert r.status_code == 200, "a token of the previous secret is still valid"
    assert r.json()["id"] == new.get("user")["id"]


def test_a_token_of_another_authjar_secret_is_refused(authjars):
    a = authjars(secret=SECRET_A)
    # Another authjar claiming the same issuer, with its own secret.
    other = authjars(secret=SECRET_C, public_url=a.public_url)
    foreign = other.session("foreign@cat.test")
    api = api_for(a)
    r = api.get("/api/me", headers=bearer(foreign))
    assert r.status_code == 401
    assert r.json()["error"] == "unauthenticated"


def test_a_token_signed_by_another_key_under_authjars_kid_is_refused(authjars):
    a = authjars(secret=SECRET_A)
    real = a.session("forge@cat.test")
    header = jwt.get_unverified_header(real["cookies"]["access_token"])
    claims = jwt.decode(real["cookies"]["access_token"], options={"verify_signature": False})
    forged = jwt.encode({**claims, "sub": "someone-else"}, Ed25519PrivateKey.generate(),
                        algorithm="EdDSA", headers={"kid": header["kid"]})
    api = api_for(a)
    assert api.get("/api/me", headers={"authorization": f"Bearer {forged}"}).status_code == 401


def test_a_token_for_another_issuer_is_refused(authjars):
    a = authjars(secret=SECRET_A)
    # Same secret (same keys), another public_url: the signature holds, iss does not.
    elsewhere = authjars(secret=SECRET_A, public_url="http://localhost:1")
    token = elsewhere.session("issuer@cat.test")
    assert jwt.decode(token["cookies"]["access_token"], options={"verify_signature": False})["iss"] == "http://localhost:1"
    assert api_for(a).get("/api/me", headers=bearer(token)).status_code == 401


def test_unsafe_routes_follow_authjars_csrf_rules(authjars):
    a = authjars(secret=SECRET_A)
    s = a.session("csrf@cat.test")
    api = api_for(a)
    booking = {"therapist": "Dr. Whiskers", "cat": "Mittens"}
    browser = {"cookie": cookie_header(s), "origin": APP_ORIGIN, "sec-fetch-site": "same-site"}
    r = api.post("/api/bookings", json=booking, headers=browser)
    assert (r.status_code, r.json()["error"]) == (403, "csrf_token_missing")
    r = api.post("/api/bookings", json=booking,
                 headers={**browser, "origin": "http://evil.test", "x-csrf-token": s["csrf"]})
    assert (r.status_code, r.json()["error"]) == (403, "origin_not_allowed")
    r = api.post("/api/bookings", json=booking, headers={**browser, "x-csrf-token": "not-a-token"})
    assert (r.status_code, r.json()["error"]) == (403, "csrf_token_invalid")
    r = api.post("/api/bookings", json=booking, headers={**browser, "x-csrf-token": s["csrf"]})
    assert r.status_code == 201, r.text
    # A bearer token is no ambient credential: no CSRF token needed.
    assert api.post("/api/bookings", json=booking, headers=bearer(s)).status_code == 201
    assert len(api.get("/api/bookings", headers=bearer(s)).json()) == 2


def test_revocation_is_seen_at_once_on_unsafe_routes_and_at_expiry_on_safe_ones(authjars):
    a = authjars(secret=SECRET_A)
    s = a.session("revoked@cat.test")
    api = api_for(a)
    import httpx

    out = httpx.post(f"{a.url}/auth/logout", json={}, headers={
        "cookie": cookie_header(s), "origin": APP_ORIGIN, "x-csrf-token": s["csrf"]})
    assert out.status_code == 204, out.text
    browser = {"cookie": cookie_header(s), "origin": APP_ORIGIN, "x-csrf-token": s["csrf"]}
    r = api.post("/api/bookings", json={"therapist": "Dr. Paws", "cat": "Tom"}, headers=browser)
    # authjar is asked on unsafe routes: the logout counts at once (the CSRF
    # token belonged to the ended session, so the guard refuses it first).
    assert (r.status_code, r.json()["error"]) == (403, "csrf_token_other_session"), r.text
    # The documented trade-off: a safe route verifies locally, so the token
    # stays usable until it expires (access_ttl).
    assert api.get("/api/bookings", headers=browser).status_code == 200


@pytest.mark.parametrize("path", ["/api/me", "/api/bookings"])
def test_garbage_is_refused(authjars, path):
    a = authjars(secret=SECRET_A)
    api = api_for(a)
    for value in ["x", "a.b.c", "Bearer", jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256")]:
        assert api.get(path, headers={"authorization": f"Bearer {value}"}).status_code == 401
