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


def test_rule_tables_in_the_guides_agree_with_the_catalog() -> None:
    # Guides list their area's rules by hand (`| \`GA-X-001\` | high | title |`); a severity
    # or title that drifts from the catalog misleads the reader.
    rules = all_rules()
    row = re.compile(r"^\| `(GA-[A-Z]+-\d{3})` \| ([a-z]+) \| (.+?) \|$", re.M)
    checked = 0
    for guide in sorted((ROOT / "docs").glob("*.md")):
        for rule_id, severity, title in row.findall(guide.read_text(encoding="utf-8")):
            assert rule_id in rules, f"{guide.name}: {rule_id} is not a rule"
            rule = rules[rule_id]
            expected = (rule.severity.value, rule.title)
            assert (severity, title) == expected, f"{guide.name}: {rule_id}"
            checked += 1
    assert checked >= 60
