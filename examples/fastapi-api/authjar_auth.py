"""Trusting authjar from a Python API without calling it on every request.

Reads: the access token authjar set as a cookie (``access_token``, or
``__Host-access_token`` on https), or ``Authorization: Bearer``.

Checks: the EdDSA signature against authjar's ``/.well-known/jwks.json``
(PyJWT's ``PyJWKClient``, which fetches the set again when a token names a
key id it has not seen, so authjar's key rotation needs nothing here), the
``kid``, ``iss`` (authjar's ``public_url``), ``exp`` and the claims authjar
always sets.

Unsafe methods from a browser (the token came in a cookie) are sent to
authjar's ``GET /auth/verify`` with the original method, ``Origin``,
``Sec-Fetch-*``, cookies and ``X-CSRF-Token``, so authjar's CSRF and origin
rules apply here exactly as on its own routes, and a revoked session is
refused at once. Safe methods are verified locally only: a logout or a
revoked session is seen when the access token expires (``access_ttl``,
30 minutes by default), not before. Call ``verify_with_authjar`` on a safe
route too when that delay is not acceptable.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import jwt
from fastapi import HTTPException, Request

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# What the browser sent that authjar's checks read; nothing else is passed on.
FORWARDED = ("cookie", "origin", "referer", "x-csrf-token", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest")


@dataclass(frozen=True)
class Settings:
    """Where authjar is, as this service reaches it, and what it calls itself."""

    #: authjar's address for this service (JWKS and /auth/verify), e.g. http://127.0.0.1:8000.
    authjar_url: str
    #: authjar's ``public_url``: the ``iss`` of its tokens.
    issuer: str
    #: The access-token cookie's name (``access_token``; ``__Host-access_token`` on https).
    cookie_name: str = "access_token"
    #: Least seconds between two fetches of the key set caused by unknown key ids
    #: (PyJWT's default, 30, would refuse every token of a just-rotated key for up
    #: to 30 s; one fetch a second is nothing for authjar, even under a flood of made-up ids).
    jwks_refresh_cooldown: float = 1.0


@dataclass(frozen=True)
class User:
    """The caller, from the verified token."""

    id: str
    email: str
    session_id: str


def error(status: int, code: str, message: str) -> HTTPException:
    """authjar's error shape: ``{"error": code, "message": ...}``."""
    return HTTPException(status_code=status, detail={"error": code, "message": message})


class Authjar:
    """Verifies authjar's access tokens for one deployment."""

    def __init__(self, settings: Settings, http: httpx.Client | None = None):
        self.settings = settings
        base = settings.authjar_url.rstrip("/")
        # cache_keys: keys are kept; an unknown kid makes PyJWKClient fetch the set again.
        self.jwks = jwt.PyJWKClient(
            f"{base}/.well-known/jwks.json",
            cache_keys=True,
            lifespan=300,
            timeout=5,
            cooldown_duration=settings.jwks_refresh_cooldown,
        )
        self.verify_url = f"{base}/auth/verify"
        self.http = http or httpx.Client(timeout=5)

    def token(self, request: Request) -> tuple[str, bool]:
        """The access token and whether it came in a cookie (a browser's ambient credential)."""
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip(), False
        cookie = request.cookies.get(self.settings.cookie_name)
        if cookie:
            return cookie, True
        raise error(401, "unauthenticated", "no access token: log in through authjar")

    def verify_token(self, token: str) -> User:
        """Signature (EdDSA, by kid), issuer, expiry and authjar's claims; 401 otherwise."""
        try:
            key = self.jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["EdDSA"],
                issuer=self.settings.issuer,
                options={"require": ["exp", "iat", "iss", "sub", "sid", "email"]},
            )
        except jwt.ExpiredSignatureError:
            raise error(401, "unauthenticated", "the access token expired: refresh it through authjar") from None
        except (jwt.PyJWKClientError, jwt.InvalidTokenError):
            # Unknown key id (even after fetching the set again), bad signature,
            # wrong issuer or algorithm, malformed: all the same to the caller.
            raise error(401, "unauthenticated", "the access token is not valid") from None
        return User(id=claims["sub"], email=claims["email"], session_id=claims["sid"])

    def verify_with_authjar(self, request: Request) -> None:
        """Asks authjar's /auth/verify about this request (CSRF, origin, revocation)."""
        headers = {k: v for k in FORWARDED if (v := request.headers.get(k)) is not None}
        headers["x-forwarded-method"] = request.method
        try:
            res = self.http.get(self.verify_url, headers=headers)
        except httpx.HTTPError:
            raise error(503, "unavailable", "authjar cannot be reached to check this request") from None
        if res.status_code == 200:
            return
        try:
            body = res.json()
            code, message = body["error"], body["message"]
        except (ValueError, KeyError, TypeError):
            code, message = "unauthenticated", "authjar refused this request"
        raise error(res.status_code if res.status_code in (401, 403) else 503, code, message)

    def user(self, request: Request) -> User:
        """The FastAPI dependency: the verified caller, with authjar's CSRF rules on unsafe browser requests."""
        token, from_cookie = self.token(request)
        user = self.verify_token(token)
        if from_cookie and request.method in UNSAFE:
            self.verify_with_authjar(request)
        return user
