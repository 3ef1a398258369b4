"""Settings of the inference gateway: the `[gateway]` table of garrison.toml."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from garrison.errors import UsageError
from garrison.gateway.tool_policy import ToolPolicy
from garrison.runtime.config import MonitorConfig

# The upstream's credential comes from the environment only: a policy file is often committed.
ENV_UPSTREAM_API_KEY = "GARRISON_UPSTREAM_API_KEY"
_KIB = 1024
_DIGEST = re.compile(r"[0-9a-f]{64}")

Mode = Literal["block", "redact", "log", "off"]
MODES = ("block", "redact", "log", "off")
GUARDED_ROUTES = ("chat", "completions", "embeddings")  # the routes whose texts are guarded


def _base_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL such as http://127.0.0.1:8000/v1")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query or fragment")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ValueError("has an invalid port") from None
    return value.strip().rstrip("/")


class RouteGuards(BaseModel):
    """A route's own modes; None keeps the stage default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: Mode | None = None
    output: Mode | None = None


class GuardConfig(BaseModel):
    """Which guards run on gateway traffic and what their findings do (`[gateway.guards]`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: Mode = Field("redact", description="mode of the guards on requests")
    output: Mode = Field("redact", description="mode of the guards on answers")
    injection: bool = Field(
        False, description="prompt-injection classifier on user and tool messages"
    )
    injection_threshold: float | None = Field(
        None, gt=0, lt=1, description="score that blocks; None: the shipped model's threshold"
    )
    pii: bool = Field(True, description="personal data (e-mail, phone, card, IBAN...)")
    secrets: bool = Field(True, description="API keys, tokens, private keys, passwords")
    smuggling: bool = Field(True, description="invisible characters, look-alikes, encodings")
    links: bool = Field(True, description="exfiltrating links and images in answers")
    allowed_domains: tuple[str, ...] | None = Field(
        None,
        description="hosts (and their subdomains) answers may link to; None: any link that "
        "carries no data",
    )
    max_scan_chars: int = Field(
        65536, ge=1024, description="characters one text may have; longer ones are refused"
    )
    stream_check_chars: int = Field(
        256, ge=1, description="new characters of a streamed answer between two checks"
    )
    stream_holdback: bool = Field(
        False, description="forward streamed text only once checked (adds latency)"
    )
    routes: dict[str, RouteGuards] = Field(
        default_factory=dict, description="route (chat, completions, embeddings) -> modes"
    )

    @field_validator("routes")
    @classmethod
    def _known_routes(cls, routes: dict[str, RouteGuards]) -> dict[str, RouteGuards]:
        for route in routes:
            if route not in GUARDED_ROUTES:
                raise ValueError(
                    f"unknown route {route!r}; guarded routes are {', '.join(GUARDED_ROUTES)}"
                )
        return routes


class GatewayConfig(BaseModel):
    """Where the gateway forwards, and the bounds it puts on every request."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    upstream: str | None = Field(
        None,
        description="OpenAI-compatible base URL including /v1, e.g. http://127.0.0.1:8000/v1; "
        "`garrison gateway serve --upstream` overrides it",
    )
    kserve_upstream: str | None = Field(
        None, description="base URL of the KServe V2 server; default: the upstream's origin"
    )
    upstream_api_key: SecretStr | None = Field(
        None,
        exclude=True,
        description=f"sent to the upstream as a bearer token; read from ${ENV_UPSTREAM_API_KEY}",
    )
    connect_timeout_s: float = Field(5.0, gt=0, description="connecting to the upstream")
    read_timeout_s: float = Field(
        300.0, gt=0, description="waiting for the upstream's next bytes (long generations)"
    )
    max_connections: int = Field(256, ge=1, description="pooled connections to the upstream")
    max_body_bytes: int = Field(1024 * _KIB, ge=1, description="request body, refused with 413")
    max_header_bytes: int = Field(16 * _KIB, ge=256, description="request headers, 431")
    max_json_depth: int = Field(32, ge=2, description="nesting of a JSON request body, 400")
    require_approved: bool = Field(
        False, description="serve only models listed in `models` whose digests are approved"
    )
    models: dict[str, str] = Field(
        default_factory=dict,
        description="served model name -> approved artifact root digest (`garrison models`)",
    )
    store_text: bool = Field(
        False, description="keep prompt and completion text in the store instead of hashes"
    )
    redis_url: str | None = Field(
        None, description="Redis for quotas shared by several workers; None: in-process memory"
    )
    refresh_s: float = Field(
        2.0,
        gt=0,
        le=3600,
        description="how often each worker re-reads keys and model approvals from the store; "
        "a revocation or an approval takes effect within it",
    )
    guards: GuardConfig = Field(
        default_factory=GuardConfig, description="`[gateway.guards]`: content guards"
    )
    tools: ToolPolicy = Field(
        default_factory=ToolPolicy, description="`[gateway.tools]`: the tool-call policy"
    )
    monitors: MonitorConfig = Field(
        default_factory=MonitorConfig,
        description="`[gateway.monitors]`: extraction and drift monitors, alerts, events",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_secret_in_file(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("upstream_api_key") is not None:
            raise ValueError(
                f"upstream_api_key is read from ${ENV_UPSTREAM_API_KEY}, never from a file"
            )
        return data

    @field_validator("upstream", "kserve_upstream")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _base_url(value)

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("models")
    @classmethod
    def _digests(cls, value: dict[str, str]) -> dict[str, str]:
        out = {}
        for name, digest in value.items():
            hexdigest = digest.strip().lower().removeprefix("sha256:")
            if not _DIGEST.fullmatch(hexdigest):
                raise ValueError(f"model {name!r}: the digest must be 64 hex characters (SHA-256)")
            out[name] = hexdigest
        return out

    @property
    def kserve_base(self) -> str | None:
        """The KServe V2 base URL: explicit, else the scheme and host of `upstream`."""
        if self.kserve_upstream is not None:
            return self.kserve_upstream
        if self.upstream is None:
            return None
        parts = urlsplit(self.upstream)
        return f"{parts.scheme}://{parts.netloc}"

    def updated(self, **changes: Any) -> GatewayConfig:
        """A validated copy with some settings replaced (None leaves a setting as it is)."""
        data = self.model_dump()
        data.update({k: v for k, v in changes.items() if v is not None})
        try:
            updated = GatewayConfig.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "gateway"
            raise UsageError(f"{where}: {first['msg'].removeprefix('Value error, ')}") from None
        if self.upstream_api_key is not None:
            updated = updated.model_copy(update={"upstream_api_key": self.upstream_api_key})
        return updated

    def with_env(self, environ: Mapping[str, str] | None = None) -> GatewayConfig:
        """A copy carrying the upstream API key from the environment, when one is set."""
        env = os.environ if environ is None else environ
        secret = env.get(ENV_UPSTREAM_API_KEY, "").strip()
        if not secret:
            return self
        return self.model_copy(update={"upstream_api_key": SecretStr(secret)})
