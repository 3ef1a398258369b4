import re

from garrison.llm.rules import RULES


def test_rule_ids_are_unique_well_formed_and_referenced() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert re.fullmatch(r"GA-LLM-\d{3}", rule.id)
        assert rule.title and rule.rationale and rule.remediation
        assert any(ref.startswith("OWASP-LLM") for ref in rule.refs)


def test_framework_mapping_of_the_main_rules() -> None:
    by_id = {r.id: r for r in RULES}
    assert "OWASP-LLM01:2025" in by_id["GA-LLM-001"].refs
    assert "ATLAS-AML.T0051" in by_id["GA-LLM-001"].refs
    assert "OWASP-LLM02:2025" in by_id["GA-LLM-007"].refs
    assert "OWASP-LLM07:2025" in by_id["GA-LLM-010"].refs
    assert "OWASP-LLM05:2025" in by_id["GA-LLM-012"].refs
    assert "ATLAS-AML.T0057" in by_id["GA-LLM-012"].refs
