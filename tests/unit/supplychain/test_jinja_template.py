# ruff: noqa: E501  (gadget templates are typed in verbatim, long lines included)
"""Chat-template analysis: real templates pass clean, injection gadgets are caught.

The public chat templates live in tests/corpus/chat_templates.py, shared with the GGUF and
Hugging Face directory tests and the benign corpus.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garrison.findings import Severity
from garrison.supplychain.jinja_template import (
    RULES,
    IssueKind,
    TemplateIssue,
    analyse_template,
)
from tests.corpus.chat_templates import REAL_TEMPLATES

from .helpers import RCE_PAYLOAD

# -- real templates ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL_TEMPLATES))
def test_real_chat_templates_have_no_issue(name: str) -> None:
    assert analyse_template(REAL_TEMPLATES[name]) == []


def test_real_templates_really_are_jinja_that_transformers_accepts() -> None:
    # Guards the fixtures themselves: they must parse in the environment transformers uses.
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[loopcontrols])  # fmt: skip
    for name, source in REAL_TEMPLATES.items():
        if name != "generation-tag":
            env.parse(source)


# -- injection gadgets ---------------------------------------------------------------------


def _worst(source: str) -> TemplateIssue:
    issues = analyse_template(source)
    assert issues, f"no issue for {source!r}"
    return issues[0]


GADGETS = {
    "globals-popen": RCE_PAYLOAD,
    "class-mro-subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "attr-filter-chain": "{{ ''|attr('__class__')|attr('__base__')|attr('__subclasses__')() }}",
    "item-access": "{{ messages['__class__']['__init__']['__globals__'] }}",
    "concat-tilde": "{{ messages|attr('__cla' ~ 'ss__') }}",
    "concat-plus": "{{ messages[('__gl' + 'obals__')] }}",
    "underscore-multiply": "{% set u = '_' * 2 %}{{ messages|attr(u ~ 'class' ~ u) }}",
    "format-filter": "{{ messages|attr('%c%cclass%c%c'|format(95, 95, 95, 95)) }}",
    "percent-format": "{{ messages|attr('%sclass%s' % ('__', '__')) }}",
    "str-format-method": "{{ messages|attr('{}class{}'.format('__', '__')) }}",
    "join-filter": "{{ messages|attr(['__', 'class', '__']|join) }}",
    "reverse-filter": "{{ messages|attr('__ssalc__'|reverse) }}",
    "slice-reverse": "{{ messages|attr('__ssalc__'[::-1]) }}",
    "replace-filter": "{{ messages|attr('xxclassxx'|replace('x', '_')) }}",
    "set-then-extend": "{% set a = '__cla' %}{% set a = a ~ 'ss__' %}{{ messages|attr(a) }}",
    "keyword-dunder": "{{ dict(__class__=1)|list|first }}",
    "map-attr": "{{ messages|map(attribute='__class__')|list }}",
    "map-attr-filter": "{{ messages|map('attr', '__class__')|list }}",
    "lipsum-globals": "{{ lipsum.__globals__['os'].popen('echo garrison-test').read() }}",
    "namespace-init": "{{ namespace.__init__.__globals__ }}",
    "joiner-attr": "{{ joiner.x }}",
    "mangled-context": "{{ self._TemplateReference__context.cycler }}",
    "builtin-open": "{{ open('/etc/passwd').read() }}",
    "import-module": "{{ x.import_module('os') }}",
    "frame-walk": "{{ x.gi_frame.f_back.f_globals }}",
}


@pytest.mark.parametrize("name", sorted(GADGETS))
def test_injection_gadgets_are_critical(name: str) -> None:
    issue = _worst(GADGETS[name])
    assert issue.severity is Severity.CRITICAL, issue
    assert issue.kind is IssueKind.GADGET


def test_issue_carries_line_and_snippet() -> None:
    source = "{% for m in messages %}\n{{ m.content }}\n{{ cycler.__init__ }}\n{% endfor %}"
    issue = _worst(source)
    assert issue.line == 3
    assert issue.snippet == "{{ cycler.__init__ }}"
    assert "__init__" in issue.what


def test_evidence_names_the_dunder_and_the_gadget_object() -> None:
    whats = " | ".join(i.what for i in analyse_template(RCE_PAYLOAD))
    assert "'__globals__'" in whats
    assert "'cycler'" in whats
    assert "'popen'" in whats


@pytest.mark.parametrize(
    "source",
    ["{% include 'secrets.txt' %}", "{% import 'macros.j2' as m %}",
     "{% from 'macros.j2' import x %}", "{% extends 'base.j2' %}"],
)  # fmt: skip
def test_template_loading_statements_are_high(source: str) -> None:
    issue = _worst(source)
    assert issue.kind is IssueKind.LOADS_TEMPLATES
    assert issue.severity is Severity.HIGH


@pytest.mark.parametrize(
    "source",
    [
        "{{ config.items() }}",
        "{{ request.args }}",
        "{{ messages|attr('role') }}",
        "{{ message._private }}",
        "{{ x.os }}",
        "{% set a = '__cla' %}{{ a }}",
    ],
)
def test_ambiguous_constructs_are_medium(source: str) -> None:
    issue = _worst(source)
    assert issue.severity is Severity.MEDIUM, issue
    assert issue.kind is IssueKind.SUSPICIOUS


def test_local_variables_named_like_gadgets_are_not_flagged() -> None:
    source = "{% set range = messages %}{{ range.content }}{% for config in x %}{{ config.a }}{% endfor %}"
    assert analyse_template(source) == []


def test_namespace_calls_and_raise_exception_are_fine() -> None:
    source = (
        "{% set ns = namespace(found=false) %}{% set ns.found = true %}{{ ns.found }}"
        "{{ raise_exception('no') }}{% for i in range(3) %}{{ i }}{% endfor %}"
    )
    assert analyse_template(source) == []


# -- failure paths -------------------------------------------------------------------------


def test_unparseable_template_is_medium_with_line() -> None:
    issue = _worst("{% for m in messages %}\n{{ m.content }\n{% endfor %}")
    assert issue.kind is IssueKind.UNPARSEABLE
    assert issue.severity is Severity.MEDIUM
    assert issue.line == 2


def test_unknown_tag_is_unparseable() -> None:
    assert _worst("{% exec 'x' %}").kind is IssueKind.UNPARSEABLE


def test_deep_nesting_is_reported_not_crashing() -> None:
    source = "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"
    assert _worst(source).kind is IssueKind.UNPARSEABLE


def test_oversized_template_is_not_parsed() -> None:
    issue = analyse_template("x" * 101, max_chars=100)[0]
    assert issue.kind is IssueKind.UNPARSEABLE
    assert "101" in issue.what


def test_hostile_constants_do_not_exhaust_memory_or_time() -> None:
    source = (
        "{{ 'a' * 100000000000 }}{{ '%*d' % (1000000000, 1) }}"
        "{{ 'x'|replace('x', 'y' * 100000000) }}"
        "{% set a = 'x' %}" + "{% set a = a ~ a %}" * 2000 + "{{ messages|attr(a) }}"
    )
    start = time.perf_counter()
    issues = analyse_template(source)
    assert time.perf_counter() - start < 30  # a hang guard; speed is measured in benchmarks/
    assert all(i.severity <= Severity.MEDIUM for i in issues)


def test_rules_are_exported() -> None:
    assert {r.id for r in RULES} == {"GA-JINJA-001", "GA-JINJA-002", "GA-JINJA-003",
                                     "GA-JINJA-004"}  # fmt: skip
    assert RULES[0].severity is Severity.CRITICAL


# -- properties ----------------------------------------------------------------------------

_JINJA_ALPHABET = st.sampled_from(
    ["{{", "}}", "{%", "%}", "{#", "#}", "(", ")", "[", "]", "'", '"', "|", "~", "+", "*", ".",
     "_", "__class__", "attr", "for", "in", "endfor", "set", "=", "x", "1", " ", "\n", "if",
     "endif", "namespace", "cycler", "format", "%c", ",", ":", "-"]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_JINJA_ALPHABET, max_size=60).map("".join) | st.text(max_size=300))
def test_any_text_gives_issues_never_exceptions(source: str) -> None:
    issues = analyse_template(source)
    assert all(isinstance(i, TemplateIssue) for i in issues)
