"""Framework data (OWASP, MITRE ATLAS, NIST AI RMF, EU AI Act, ISO/IEC 42001) and lookups.

Each framework is a YAML file in this package; an item's id is the string rules carry in
`Rule.refs` (e.g. `OWASP-LLM03:2025`). An item's `covers` lists other frameworks' ids or
rule-id prefixes, for frameworks (ISO/IEC 42001) that rules do not reference directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from garrison.errors import GarrisonError, MissingExtraError, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from garrison.rules import Rule

FRAMEWORKS: tuple[str, ...] = (
    "owasp-llm",
    "owasp-ml",
    "mitre-atlas",
    "nist-ai-rmf",
    "eu-ai-act",
    "iso-42001",
)
# References that name an advisory, not a framework item.
ADVISORY_REF = re.compile(r"(CVE-\d{4}-\d+|GHSA(-[0-9a-z]{4}){3})")
_ITEM_KEYS = {"id", "title", "source", "evidence", "tactic", "covers"}

__all__ = ["ADVISORY_REF", "FRAMEWORKS", "Framework", "FrameworkItem", "covering_rules", "load"]


@dataclass(frozen=True, slots=True)
class FrameworkItem:
    id: str
    title: str
    source: str
    evidence: str = ""
    tactic: str = ""
    covers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Framework:
    id: str
    title: str
    version: str
    source: str
    items: tuple[FrameworkItem, ...]

    def item(self, item_id: str) -> FrameworkItem | None:
        return next((i for i in self.items if i.id == item_id), None)


def load(name: str) -> Framework:
    """The framework named `name` (one of FRAMEWORKS), validated."""
    if name not in FRAMEWORKS:
        raise UsageError(f"unknown framework {name!r}; use one of: {', '.join(FRAMEWORKS)}")
    try:
        import yaml
    except ImportError:
        raise MissingExtraError("pyyaml", "posture") from None
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return _validate(name, yaml.safe_load(text))


def covering_rules(item: FrameworkItem, rules: Iterable[Rule]) -> list[str]:
    """Ids of the rules that give evidence for `item`, directly or through its `covers`."""
    refs = {item.id, *(c for c in item.covers if not c.startswith("GA-"))}
    prefixes = tuple(c for c in item.covers if c.startswith("GA-"))
    return sorted(
        r.id for r in rules if refs.intersection(r.refs) or (prefixes and r.id.startswith(prefixes))
    )


def _validate(name: str, data: Any) -> Framework:
    def fail(why: str) -> GarrisonError:
        return GarrisonError(f"framework data {name}.yaml is invalid: {why}")

    if not isinstance(data, dict) or data.get("id") != name:
        raise fail(f"top level must be a mapping with id: {name}")
    for key in ("title", "version", "source"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise fail(f"missing {key}")
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise fail("items must be a non-empty list")
    items = [_item(raw, fail) for raw in raw_items]
    ids = [i.id for i in items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise fail(f"duplicate item ids {duplicates}")
    return Framework(
        id=name,
        title=data["title"],
        version=data["version"],
        source=data["source"],
        items=tuple(items),
    )


def _item(raw: Any, fail: Any) -> FrameworkItem:
    if not isinstance(raw, dict):
        raise fail("every item must be a mapping")
    unknown = set(raw) - _ITEM_KEYS
    if unknown:
        raise fail(f"item {raw.get('id')!r} has unknown keys {sorted(unknown)}")
    for key in ("id", "title", "source"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise fail(f"item {raw.get('id')!r} needs a non-empty {key}")
    covers = raw.get("covers", [])
    if not isinstance(covers, list) or not all(isinstance(c, str) and c for c in covers):
        raise fail(f"item {raw['id']!r}: covers must be a list of ids")
    for key in ("evidence", "tactic"):
        if not isinstance(raw.get(key, ""), str):
            raise fail(f"item {raw['id']!r}: {key} must be text")
    return FrameworkItem(
        id=raw["id"],
        title=raw["title"],
        source=raw["source"],
        evidence=raw.get("evidence", ""),
        tactic=raw.get("tactic", ""),
        covers=tuple(covers),
    )
