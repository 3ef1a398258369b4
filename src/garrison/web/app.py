"""The dashboard's Starlette app: overview, inventory, gateway and audit pages over one store."""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from garrison.errors import UsageError
from garrison.posture.eu_ai_act import TIERS
from garrison.posture.inventory import Inventory
from garrison.posture.observations import CATEGORIES
from garrison.store.audit import AuditLog
from garrison.store.db import Store
from garrison.web import queries
from garrison.web.auth import (
    LOGIN_PATH,
    SecurityHeaders,
    TokenRequired,
    same_origin,
    token_matches,
    with_session,
)
from garrison.web.charts import bar_chart
from garrison.web.verify_cache import DEFAULT_TTL_S, VerifyCache, duration

logger = logging.getLogger(__name__)

HERE = Path(__file__).parent
TOKEN_ENV = "GARRISON_DASHBOARD_TOKEN"
DEFAULT_DAYS = 7
MAX_DAYS = 31
DEFAULT_RECORDS = 50
MAX_RECORDS = 500
_MAX_FORM_BYTES = 4096
VERIFY_PATH = "/audit/verify"


def create_dashboard(
    store: Store, *, token: str | None = None, verify_ttl_s: float = DEFAULT_TTL_S
) -> Starlette:
    """The dashboard app; with a `token`, every page asks for it once per browser.

    Pages show the audit log's latest full verify, run again in the background once it is
    older than `verify_ttl_s`; the app's `state.verify_cache` holds it.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    verify_cache = VerifyCache(AuditLog(store).verify, ttl_s=verify_ttl_s)
    pages = _Pages(store, env, token, verify_cache)
    middleware = [Middleware(SecurityHeaders)]
    if token:
        middleware.append(Middleware(TokenRequired, token=token))
    routes = [
        Route("/", pages.overview),
        Route("/inventory", pages.inventory),
        Route("/gateway", pages.gateway),
        Route("/audit", pages.audit),
        Route(VERIFY_PATH, pages.verify_audit, methods=["POST"]),
        Route(LOGIN_PATH, pages.login, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.verify_cache = verify_cache
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    db_url: str,
    *,
    host: str,
    port: int,
    token: str | None,
    verify_ttl_s: float = DEFAULT_TTL_S,
) -> None:
    """Serve the dashboard under uvicorn until interrupted."""
    import uvicorn

    from garrison.store import open_store

    if not 0 < port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, not {port}")
    if not is_loopback(host) and not token:
        raise UsageError(
            f"refusing to serve the dashboard on {host} without a token: "
            f"pass --token or set ${TOKEN_ENV}"
        )
    if verify_ttl_s <= 0:
        raise UsageError(f"the audit verify interval must be positive, not {verify_ttl_s} s")
    store = open_store(db_url)
    try:
        app = create_dashboard(store, token=token, verify_ttl_s=verify_ttl_s)
        # Start the first full verify now, so the first page does not wait for all of it.
        app.state.verify_cache.refresh_in_background()
        uvicorn.run(app, host=host, port=port, access_log=False)
    finally:
        store.close()


class _Pages:
    def __init__(
        self, store: Store, env: jinja2.Environment, token: str | None, verify: VerifyCache
    ) -> None:
        self.store = store
        self.env = env
        self.token = token
        self.verify = verify

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(page=name.removesuffix(".html"), **context)
        return HTMLResponse(html, status_code=status)

    def overview(self, request: Request) -> Response:
        entries = Inventory(self.store).list()
        findings = queries.finding_counts(entries)
        tiers = [*TIERS, "unclassified"]
        by_tier = [sum((e.risk_tier or "unclassified") == t for e in entries) for t in tiers]
        traffic = queries.traffic(self.store, DEFAULT_DAYS)
        days = sorted({b.hour[:10] for b in traffic.hours})
        by_framework = queries.findings_by_framework(findings.by_rule)
        return self.render(
            "overview.html",
            assets=len(entries),
            findings=findings,
            severity_chart=bar_chart(
                "Assets by worst finding",
                list(findings.by_severity),
                {"verdicts": list(findings.by_severity.values())},
            ),
            tier_chart=bar_chart("Assets by risk tier", tiers, {"assets": by_tier}),
            by_framework=by_framework,
            framework_chart=bar_chart(
                "Current findings by framework",
                [f.framework for f in by_framework],
                {"findings": [f.findings for f in by_framework]},
            ),
            traffic_chart=bar_chart(
                f"Gateway requests per day, last {DEFAULT_DAYS} days",
                days,
                {
                    "served": [
                        sum(b.served for b in traffic.hours if b.hour[:10] == d) for d in days
                    ],
                    "refused": [
                        sum(b.refused for b in traffic.hours if b.hour[:10] == d) for d in days
                    ],
                },
            ),
            coverage=queries.framework_coverage(),
            verify=self.verify.state(),
        )

    def inventory(self, request: Request) -> Response:
        kind = request.query_params.get("kind") or None
        tier = request.query_params.get("tier") or None
        problem = None
        if kind is not None and kind not in CATEGORIES:
            problem, kind = f"unknown kind {kind!r}", None
        if tier is not None and tier not in (*TIERS, "unclassified"):
            problem, tier = f"unknown risk tier {tier!r}", None
        entries = Inventory(self.store).list(category=kind, tier=tier)
        return self.render(
            "inventory.html",
            status=400 if problem else 200,
            entries=entries,
            kinds=CATEGORIES,
            tiers=[*TIERS, "unclassified"],
            kind=kind,
            tier=tier,
            problem=problem,
        )

    def gateway(self, request: Request) -> Response:
        days = _bounded(request.query_params.get("days"), DEFAULT_DAYS, MAX_DAYS)
        traffic = queries.traffic(self.store, days)
        chart = bar_chart(
            f"Requests per hour, last {days} days (UTC)",
            [b.hour.replace("T", " ") + "h" for b in traffic.hours],
            {
                "served": [b.served for b in traffic.hours],
                "refused": [b.refused for b in traffic.hours],
            },
        )
        return self.render("gateway.html", days=days, traffic=traffic, traffic_chart=chart)

    def audit(self, request: Request) -> Response:
        limit = _bounded(request.query_params.get("limit"), DEFAULT_RECORDS, MAX_RECORDS)
        records = list(reversed(AuditLog(self.store).records(limit=limit)))
        return self.render(
            "audit.html",
            records=records,
            limit=limit,
            verify=self.verify.state(),
            verify_every=duration(self.verify.ttl_s),
        )

    def verify_audit(self, request: Request) -> Response:
        """Verify the whole log now, then show the audit page with the fresh result."""
        # Without a token there is no cookie for SameSite to guard, so refuse other sites here.
        if not same_origin(request):
            return PlainTextResponse("refused: a request from another site", status_code=403)
        self.verify.verify_now()
        return RedirectResponse("/audit", status_code=303)

    async def login(self, request: Request) -> Response:
        if self.token is None:
            return RedirectResponse("/", status_code=303)
        failed = request.query_params.get("failed") is not None
        if request.method == "POST":
            body = await request.body()
            given = parse_qs(body[:_MAX_FORM_BYTES].decode("utf-8", "replace")).get("token", [""])
            if token_matches(given[0], self.token):
                return with_session(RedirectResponse("/", status_code=303), self.token)
            failed = True
        return self.render("login.html", status=401 if failed else 200, failed=failed)


def _bounded(text: str | None, default: int, most: int) -> int:
    try:
        value = int(text) if text else default
    except ValueError:
        return default
    return min(max(value, 1), most)
