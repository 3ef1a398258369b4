import re
from pathlib import Path

from garrison.rules import all_rules, rules_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_rule_ids_are_well_formed_and_documented() -> None:
    rules = all_rules()
    assert len(rules) >= 20
    for rule_id, rule in rules.items():
        assert re.fullmatch(r"GA-[A-Z]+-\d{3}", rule_id), rule_id
        assert rule.title and rule.rationale and rule.remediation
        assert rule.refs, f"{rule_id} has no framework references"


def test_docs_rules_md_is_in_sync() -> None:
    assert (ROOT / "docs" / "rules.md").read_text() == rules_markdown(), "run `make docs`"
