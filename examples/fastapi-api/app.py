"""The cat-therapist hub's bookings API in FastAPI, trusting authjar.

Run: ``AUTHJAR_URL=http://127.0.0.1:8000 AUTHJAR_ISSUER=http://localhost:8000
uvicorn app:app --port 9000`` (see README.md).
"""

import os
import threading
import uuid
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from authjar_auth import Authjar, Settings, User, error


class NewBooking(BaseModel):
    """``POST /api/bookings`` body."""

    therapist: str = Field(min_length=1, max_length=80)
    cat: str = Field(min_length=1, max_length=80)


class Booking(NewBooking):
    """One booking."""

    id: str


def create_app(settings: Settings, app_origins: list[str]) -> FastAPI:
    """The API for one authjar deployment; ``app_origins`` as in authjar's configuration."""
    auth = Authjar(settings)
    app = FastAPI(title="cat-therapist-hub bookings (FastAPI)")
    # Credentialed CORS for the app's exact origins, like authjar's own.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=app_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Content-Type", "X-CSRF-Token", "Authorization"],
    )
    bookings: dict[str, list[Booking]] = {}
    lock = threading.Lock()
    CurrentUser = Annotated[User, Depends(auth.user)]

    @app.exception_handler(HTTPException)
    async def authjar_shaped(_request: Request, exc: HTTPException) -> JSONResponse:
        body = exc.detail if isinstance(exc.detail, dict) else {"error": "error", "message": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code)

    @app.get("/api/me")
    def me(user: CurrentUser) -> dict:
        return {"id": user.id, "email": user.email, "session_id": user.session_id}

    @app.get("/api/bookings")
    def list_bookings(user: CurrentUser) -> list[Booking]:
        with lock:
            return list(bookings.get(user.id, []))

    @app.post("/api/bookings", status_code=201)
    def create_booking(new: NewBooking, user: CurrentUser) -> Booking:
        booking = Booking(id=str(uuid.uuid4()), **new.model_dump())
        with lock:
            bookings.setdefault(user.id, []).append(booking)
        return booking

    @app.delete("/api/bookings/{booking_id}", status_code=204)
    def cancel_booking(booking_id: str, user: CurrentUser) -> None:
        with lock:
            mine = bookings.get(user.id, [])
            kept = [b for b in mine if b.id != booking_id]
            if len(kept) == len(mine):
                raise error(404, "not_found", "booking not found")
            bookings[user.id] = kept

    return app


def from_environment() -> FastAPI:
    """The app configured by AUTHJAR_URL, AUTHJAR_ISSUER, AUTHJAR_ACCESS_COOKIE and APP_ORIGINS."""
    url = os.environ.get("AUTHJAR_URL", "http://127.0.0.1:8000")
    settings = Settings(
        authjar_url=url,
        issuer=os.environ.get("AUTHJAR_ISSUER", "http://localhost:8000"),
        cookie_name=os.environ.get("AUTHJAR_ACCESS_COOKIE", "access_token"),
    )
    origins = [o.strip() for o in os.environ.get("APP_ORIGINS", "http://localhost:3000").split(",") if o.strip()]
    return create_app(settings, origins)


app = from_environment()
