"""What discovery observes in one file: assets, findings, AI calls and model references."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from garrison.assets import Asset
from garrison.findings import Finding, Location

# Categories of discovered assets, in the user's words.
MODEL = "model"
DATASET = "dataset"
NOTEBOOK = "notebook"
VECTOR_STORE = "vector-store"
AI_SERVICE = "ai-service"  # code that uses an AI SDK or calls an AI API
AI_DEPENDENCY = "ai-dependency"  # a manifest that declares an AI SDK
MODEL_SERVER = "model-server"  # a configured Jupyter/Ray/MLflow/Gradio/vLLM/Ollama/... server
CATEGORIES = (
    MODEL,
    DATASET,
    NOTEBOOK,
    VECTOR_STORE,
    AI_SERVICE,
    AI_DEPENDENCY,
    MODEL_SERVER,
)


@dataclass(frozen=True, slots=True)
class DiscoveredAsset:
    """One AI asset found on disk: the inventory's unit (category + name + where)."""

    category: str
    name: str  # the SDK, service, format or server: "openai", "safetensors", "vllm"
    asset: Asset
    location: Location
    detail: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity in the inventory: servers are told apart by their service or container."""
        detail = self.detail if self.category == MODEL_SERVER else ""
        return (self.category, self.name, self.location.path or self.asset.uri, detail)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "category": self.category,
            "name": self.name,
            "asset": self.asset.to_dict(),
            "location": self.location.to_dict(),
        }
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True, slots=True)
class AICall:
    """A client of an AI service and the base URL it talks to."""

    provider: str
    base_url: str | None  # None: the provider's default endpoint
    dynamic: bool  # the base URL comes from the environment or a variable: unknown here
    asset: Asset
    location: Location


@dataclass(frozen=True, slots=True)
class ModelReference:
    """A model named in code or configuration, or served by a launch command."""

    name: str
    served: bool
    asset: Asset
    location: Location


@dataclass(slots=True)
class Observations:
    assets: list[DiscoveredAsset] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    calls: list[AICall] = field(default_factory=list)
    models: list[ModelReference] = field(default_factory=list)

    def extend(self, other: Observations) -> None:
        self.assets.extend(other.assets)
        self.findings.extend(other.findings)
        self.calls.extend(other.calls)
        self.models.extend(other.models)
