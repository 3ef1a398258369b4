"""The dashboard's token check and security headers, as Starlette middleware.

A token is given once (`?token=` or the login form) and then kept in an HttpOnly,
SameSite=Strict cookie that holds an HMAC of the token, never the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode, urlsplit

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp

COOKIE = "garrison_dashboard"
LOGIN_PATH = "/login"
_OPEN_PREFIXES = ("/static/", LOGIN_PATH)
# No scripts at all; styles and images only from the dashboard itself.
CSP = (
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def session_value(token: str) -> str:
    return hmac.new(token.encode(), b"garrison-dashboard-session", hashlib.sha256).hexdigest()


def token_matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def with_session(response: Response, token: str) -> Response:
    response.set_cookie(COOKIE, session_value(token), httponly=True, samesite="strict", path="/")
    return response


def same_origin(request: Request) -> bool:
    """False for a request a browser says came from another site.

    Browsers send `Sec-Fetch-Site` with every request; older ones send only `Origin`, which
    is "null" under our no-referrer policy, so a null origin is refused. Clients that send
    neither (curl, scripts) are not browsers another site could drive.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    netloc = urlsplit(origin).netloc.lower()  # empty for "null", an opaque origin
    return bool(netloc) and netloc == request.headers.get("host", "").lower()


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response


class TokenRequired(BaseHTTPMiddleware):
    """Every page but the login form and static files needs the session cookie."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        super().__init__(app)
        self.token = token
        self.session = session_value(token)

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        given = request.query_params.get("token")
        if given is not None:
            if not token_matches(given, self.token):
                return RedirectResponse(f"{LOGIN_PATH}?failed=1", status_code=303)
            # Drop the token from the address bar and history at once.
            rest = urlencode(
                [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            )
            target = request.url.path + (f"?{rest}" if rest else "")
            return with_session(RedirectResponse(target, status_code=303), self.token)
        if request.url.path.startswith(_OPEN_PREFIXES):
            return await call_next(request)
        cookie = request.cookies.get(COOKIE, "")
        if not token_matches(cookie, self.session):
            return RedirectResponse(LOGIN_PATH, status_code=303)
        return await call_next(request)
