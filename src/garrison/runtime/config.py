"""Settings of the gateway's runtime monitors, alerts and exports (`[gateway.monitors]`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DRIFT_FEATURES = (
    "prompt_length",
    "completion_length",
    "script",
    "guard_score",
    "blocked",
    "refusal",
)


class ExtractionConfig(BaseModel):
    """When one key's traffic looks like an attempt to copy the model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    window_s: float = Field(86_400.0, gt=0, description="sliding window the counts cover")
    max_queries: int = Field(
        10_000, ge=1, description="queries per key per window that raise extraction.volume"
    )
    report: Path | None = Field(
        None,
        description="JSON report of `garrison test extraction`: the budget becomes the "
        "queries at which the surrogate's fidelity first reached `fidelity` (if fewer)",
    )
    fidelity: float = Field(
        0.9, gt=0, le=1, description="fidelity that counts as a copy, read from `report`"
    )
    report_fraction: float = Field(
        0.5,
        gt=0,
        le=1,
        description="alert at this share of the report's budget, before the copy is done",
    )
    diversity_threshold: float = Field(
        0.7,
        ge=0,
        le=1,
        description="share of new word 3-grams in a key's inputs that counts as a sweep",
    )
    distinct_threshold: float = Field(
        0.9, ge=0, le=1, description="share of distinct inputs that counts as a sweep"
    )
    diversity_volume: float = Field(
        0.5,
        gt=0,
        le=1,
        description="share of the budget from which a diverse key raises extraction.diversity",
    )
    max_tokens: int = Field(64, ge=3, description="tokens of each input sketched (cost bound)")
    max_keys: int = Field(100_000, ge=1, description="keys tracked; the idlest are forgotten")


class DriftConfig(BaseModel):
    """When traffic stops looking like the baseline."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    baseline_size: int = Field(1_000, ge=50, description="first records that form the baseline")
    baseline_path: Path | None = Field(
        None,
        description="baseline JSON: loaded when it exists, else written once the first "
        "`baseline_size` records are in",
    )
    window_size: int = Field(500, ge=50, description="recent records compared to the baseline")
    check_every: int = Field(100, ge=1, description="records between two comparisons")
    psi_threshold: float = Field(
        0.25, gt=0, description="population stability index above which a feature drifted"
    )
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="per-feature PSI thresholds overriding psi_threshold"
    )
    features: tuple[str, ...] = Field(DRIFT_FEATURES, description="features compared")
    bins: int = Field(10, ge=2, le=100, description="quantile bins of numeric features")

    @field_validator("features")
    @classmethod
    def _known_features(cls, features: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(features) - set(DRIFT_FEATURES))
        if unknown:
            raise ValueError(f"unknown drift feature(s) {unknown}; use {list(DRIFT_FEATURES)}")
        return features

    @field_validator("thresholds")
    @classmethod
    def _known_thresholds(cls, thresholds: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(thresholds) - set(DRIFT_FEATURES))
        if unknown:
            raise ValueError(f"unknown drift feature(s) {unknown}; use {list(DRIFT_FEATURES)}")
        if any(t <= 0 for t in thresholds.values()):
            raise ValueError("drift thresholds must be positive")
        return thresholds


class MonitorConfig(BaseModel):
    """Extraction and drift monitors, where their alerts go, and what else is exported."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    extraction: ExtractionConfig = ExtractionConfig()
    drift: DriftConfig = DriftConfig()
    webhook_url: str | None = Field(None, description="alerts are POSTed here as JSON")
    webhook_headers: dict[str, str] = Field(
        default_factory=dict, description="extra headers, e.g. Authorization for the receiver"
    )
    webhook_timeout_s: float = Field(2.0, gt=0)
    webhook_retries: int = Field(3, ge=0, description="retries after a failed delivery")
    alert_queue: int = Field(1_000, ge=1, description="alerts waiting for the webhook")
    alert_cooldown_s: float = Field(
        300.0, ge=0, description="one alert per kind and key within this time"
    )
    events_path: Path | None = Field(
        None, description="JSON-lines event file; `{pid}` is replaced by the worker's pid"
    )
    events_max_bytes: int = Field(100 * 1024 * 1024, ge=1024, description="rotate at this size")
    events_backups: int = Field(5, ge=0, description="rotated event files kept")
    syslog_address: str | None = Field(
        None, description="events to syslog: /dev/log, host:port (UDP) or tcp://host:port"
    )
    otel: bool = Field(False, description="one OpenTelemetry span per request")
    otel_exporter: Literal["otlp", "console", "global"] = Field(
        "otlp",
        description="otlp: OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT; global: the tracer "
        "provider the process already set up",
    )

    @field_validator("webhook_url")
    @classmethod
    def _http_only(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("webhook_url must start with http:// or https://")
        return url
