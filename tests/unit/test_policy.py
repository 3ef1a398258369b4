from pathlib import Path

import pytest

from garrison.errors import PolicyError
from garrison.findings import Severity
from garrison.policy import Policy, load_policy


def test_defaults_are_safe() -> None:
    policy = Policy()
    assert policy.fail_on is Severity.HIGH
    assert policy.follow_symlinks is False
    assert policy.limits.max_archive_depth >= 1


def test_reads_garrison_toml(tmp_path: Path) -> None:
    (tmp_path / "garrison.toml").write_text(
        'fail_on = "Medium"\nsafe_globals = ["mypkg.Model"]\n[limits]\nmax_opcodes = 1000\n'
    )
    policy = load_policy(search_from=tmp_path)
    assert policy.fail_on is Severity.MEDIUM
    assert policy.safe_globals == ("mypkg.Model",)
    assert policy.limits.max_opcodes == 1000


def test_reads_tool_garrison_in_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.garrison]\nfail_on = "critical"\n')
    assert load_policy(search_from=tmp_path).fail_on is Severity.CRITICAL


def test_pyproject_without_section_gives_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_policy(search_from=tmp_path) == Policy()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fail_on = 'severe'", "fail_on"),
        ("[limits]\nmax_opcodes = 'many'", "limits.max_opcodes"),
        ("unknown_key = 1", "unknown_key"),
        ("fail_on = ", "invalid TOML"),
        ("[limits]\nmax_opcodes = -5", "limits.max_opcodes: Input should be greater than"),
        ("disabled_rules = ['GA-NOPE-999']", "unknown rule 'GA-NOPE-999'"),
        ("disabled_rules = ['GA-SAFET-01']", "unknown rule 'GA-SAFET-01'"),
        ("[severity_overrides]\nGA-PKL-0001 = 'low'", "unknown rule 'GA-PKL-0001'"),
        ("follow_symlinks = 'yes'", "follow_symlinks: Input should be a valid boolean"),
        ("safe_globals = 'mypkg.Model'", "safe_globals: Input should be a list"),
    ],
)
def test_invalid_policy_names_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "garrison.toml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def test_missing_explicit_policy_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "nope.toml")


def test_rule_ids_take_any_case_and_other_prefixes_belong_to_plugins(tmp_path: Path) -> None:
    path = tmp_path / "garrison.toml"
    path.write_text("disabled_rules = ['ga-safet-001', 'ACME-X-1']\n")
    assert load_policy(path).disabled_rules == ("GA-SAFET-001", "ACME-X-1")
