"""Framework data: every YAML loads and validates, and every rule reference resolves."""

from __future__ import annotations

import pytest

from garrison.errors import GarrisonError, UsageError
from garrison.frameworks import (
    ADVISORY_REF,
    FRAMEWORKS,
    _validate,
    covering_rules,
    load,
)
from garrison.rules import all_rules


def all_item_ids() -> set[str]:
    return {item.id for name in FRAMEWORKS for item in load(name).items}


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_each_framework_loads_with_titled_sourced_items(name: str) -> None:
    framework = load(name)
    assert framework.id == name and framework.title and framework.source
    assert len(framework.items) >= 10
    for item in framework.items:
        assert item.title.strip() and item.source.strip(), item.id


def test_owasp_top_tens_are_complete() -> None:
    llm = {i.id for i in load("owasp-llm").items}
    ml = {i.id for i in load("owasp-ml").items}
    assert llm == {f"OWASP-LLM{n:02}:2025" for n in range(1, 11)}
    assert ml == {f"OWASP-ML{n:02}:2023" for n in range(1, 11)}


def test_every_rule_reference_resolves_to_a_framework_item() -> None:
    known = all_item_ids()
    unresolved = sorted(
        f"{rule.id}: {ref}"
        for rule in all_rules().values()
        for ref in rule.refs
        if ref not in known and not ADVISORY_REF.fullmatch(ref)
    )
    assert not unresolved, unresolved


def test_iso_42001_mappings_point_at_real_items_or_rules() -> None:
    known = all_item_ids()
    rule_ids = all_rules()
    for item in load("iso-42001").items:
        for target in item.covers:
            if target.startswith("GA-"):
                assert any(r.startswith(target) for r in rule_ids), (item.id, target)
            else:
                assert target in known, (item.id, target)


def test_iso_42001_items_are_covered_through_their_mapping() -> None:
    iso = load("iso-42001")
    rules = all_rules().values()
    suppliers = iso.item("ISO-42001-A.10.3")
    assert suppliers is not None and "GA-PKL-001" in covering_rules(suppliers, rules)
    policy = iso.item("ISO-42001-A.2.2")
    assert policy is not None and covering_rules(policy, rules) == []


def test_unknown_framework_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown framework 'owasp'"):
        load("owasp")


GOOD_ITEM = {"id": "X-1", "title": "One", "source": "doc"}


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ([], "top level"),
        ({"id": "other", "title": "t", "version": "1", "source": "s", "items": [GOOD_ITEM]}, "id"),
        ({"id": "x", "version": "1", "source": "s", "items": [GOOD_ITEM]}, "missing title"),
        ({"id": "x", "title": "t", "version": "1", "source": "s", "items": []}, "non-empty"),
        (
            {"id": "x", "title": "t", "version": "1", "source": "s", "items": [GOOD_ITEM] * 2},
            "duplicate",
        ),
        (
            {"id": "x", "title": "t", "version": "1", "source": "s", "items": [{"id": "X-1"}]},
            "title",
        ),
        (
            {
                "id": "x",
                "title": "t",
                "version": "1",
                "source": "s",
                "items": [{**GOOD_ITEM, "colour": "red"}],
            },
            "unknown keys",
        ),
        (
            {
                "id": "x",
                "title": "t",
                "version": "1",
                "source": "s",
                "items": [{**GOOD_ITEM, "covers": "OWASP-LLM01:2025"}],
            },
            "covers",
        ),
    ],
)
def test_invalid_framework_data_is_rejected(data: object, why: str) -> None:
    with pytest.raises(GarrisonError, match=why):
        _validate("x", data)
