"""Rules of `garrison data`. Every finding about a row carries Location(row=...)."""

from __future__ import annotations

from garrison.findings import Severity
from garrison.rules import Rule

POISONING_REFS = (
    "OWASP-ML02:2023",
    "OWASP-LLM04:2025",
    "ATLAS-AML.T0020",
    "NIST-AI-RMF-MEASURE-2.7",
)
QUALITY_REFS = ("OWASP-ML02:2023", "NIST-AI-RMF-MAP-2.3", "EU-AI-ACT-Art.10")
PRIVACY_REFS = (
    "OWASP-LLM02:2025",
    "OWASP-ML03:2023",
    "NIST-AI-RMF-MEASURE-2.10",
    "EU-AI-ACT-Art.10",
)


def _rule(
    rule_id: str, title: str, severity: Severity, why: str, fix: str, refs: tuple[str, ...]
) -> Rule:
    return Rule(rule_id, title, severity, why, fix, refs)


SCHEMA_COLUMNS = _rule(
    "GA-DATA-001",
    "Unexpected or missing column",
    Severity.HIGH,
    "The batch's columns differ from the declared or reference schema; a pipeline may silently "
    "train on the wrong field or drop one.",
    "Fix the producer of the batch, or update the schema if the change is intended.",
    QUALITY_REFS,
)
SCHEMA_TYPE = _rule(
    "GA-DATA-002",
    "Value of the wrong type",
    Severity.MEDIUM,
    "A value does not parse as the column's declared type.",
    "Correct or drop the row; check the producer for a format change.",
    QUALITY_REFS,
)
SCHEMA_RANGE = _rule(
    "GA-DATA-003",
    "Value outside the allowed range or categories",
    Severity.MEDIUM,
    "A value lies outside the declared range or is not an allowed category: an entry error, "
    "or an injected value.",
    "Correct or drop the row, or widen the schema if the value is legitimate.",
    QUALITY_REFS,
)
SCHEMA_NULLS = _rule(
    "GA-DATA-004",
    "Too many missing values",
    Severity.MEDIUM,
    "A column has more nulls than the schema allows.",
    "Find why values are missing before training on the batch.",
    QUALITY_REFS,
)
MALFORMED_ROW = _rule(
    "GA-DATA-005",
    "Malformed row",
    Severity.MEDIUM,
    "A row could not be parsed (wrong number of fields, bad quoting, bad encoding); it was "
    "skipped by every check.",
    "Repair the row at its source; a more lenient parser may read it differently.",
    QUALITY_REFS,
)
DRIFT = _rule(
    "GA-DATA-010",
    "Column distribution shifted from the reference",
    Severity.MEDIUM,
    "The column's distribution differs from the trusted reference batch (PSI, Kolmogorov-Smirnov "
    "or chi-squared); drift can be benign, or a sign of injected data.",
    "Compare the batch with the reference; retrain or investigate the source.",
    POISONING_REFS,
)
LABEL_SHIFT = _rule(
    "GA-DATA-011",
    "Label distribution shifted from the reference",
    Severity.HIGH,
    "The share of each class changed markedly, which label-flipping poisoning causes.",
    "Check where the new labels came from before training on them.",
    POISONING_REFS,
)
ROW_OUTLIER = _rule(
    "GA-DATA-012",
    "Outlier row",
    Severity.LOW,
    "The row is far from the rest of the data (or the reference).",
    "Review the row; drop it if it is an error or an injected sample.",
    POISONING_REFS,
)
LABEL_ISSUE = _rule(
    "GA-DATA-020",
    "Likely mislabelled row",
    Severity.MEDIUM,
    "A model trained on the rest of the data confidently predicts another class for this row "
    "(confident learning): a labelling error, or a flipped label.",
    "Relabel or drop the row.",
    POISONING_REFS,
)
CLASS_OUTLIER = _rule(
    "GA-DATA-021",
    "Row unlike the rest of its class",
    Severity.MEDIUM,
    "The row's features are far from the other rows of its labelled class: a flipped label, "
    "or a poisoned sample.",
    "Review the row and its label.",
    POISONING_REFS,
)
EXACT_DUPLICATE = _rule(
    "GA-DATA-030",
    "Exact duplicate row",
    Severity.LOW,
    "The row repeats an earlier one; duplicates over-weight samples and can carry poison.",
    "Deduplicate the dataset.",
    QUALITY_REFS,
)
NEAR_DUPLICATE = _rule(
    "GA-DATA-031",
    "Near-duplicate row",
    Severity.LOW,
    "The row is almost identical to an earlier one (MinHash for text, perceptual hash for images).",
    "Deduplicate, keeping one of each group.",
    QUALITY_REFS,
)
LEAKAGE = _rule(
    "GA-DATA-032",
    "Row shared between training and test data",
    Severity.HIGH,
    "A test row also appears in the training data, so test scores overstate the model.",
    "Remove the shared rows from one split.",
    QUALITY_REFS,
)
PII = _rule(
    "GA-DATA-040",
    "Personal data in the dataset",
    Severity.HIGH,
    "The value contains personal data (e-mail, phone, payment card, IBAN, national id, IP "
    "address); models memorise and can reveal it.",
    "Remove or pseudonymise the values before training, and record the legal basis.",
    PRIVACY_REFS,
)
SECRET = _rule(
    "GA-DATA-041",
    "Secret in the dataset",
    Severity.CRITICAL,
    "The value contains an API key, token or private key; a model trained on it can leak it.",
    "Remove the value, and revoke the credential: it is exposed.",
    PRIVACY_REFS,
)
TRIGGER_PATCH = _rule(
    "GA-DATA-050",
    "Trigger patch shared by many samples of one class",
    Severity.HIGH,
    "The same small pixel patch appears in many images of one class and rarely elsewhere: the "
    "signature of a BadNets-style backdoor.",
    "Remove the stamped samples and retrain; find who supplied them.",
    POISONING_REFS,
)
SPECTRAL = _rule(
    "GA-DATA-051",
    "Sample flagged by spectral signature",
    Severity.HIGH,
    "In the features of a model, the sample projects far along its class's top singular "
    "direction, where backdoor samples concentrate.",
    "Review and remove the flagged samples, then retrain.",
    POISONING_REFS,
)
ACTIVATION_CLUSTER = _rule(
    "GA-DATA-052",
    "Sample in a small activation cluster",
    Severity.HIGH,
    "The class's activations split into two clusters and the sample is in the small one, as "
    "poisoned samples do.",
    "Review and remove the cluster's samples, then retrain.",
    POISONING_REFS,
)
UNREADABLE_SAMPLE = _rule(
    "GA-DATA-060",
    "Sample could not be read",
    Severity.MEDIUM,
    "An image or record could not be decoded and was left out of every check.",
    "Repair or remove the file.",
    QUALITY_REFS,
)

RULES = (
    SCHEMA_COLUMNS,
    SCHEMA_TYPE,
    SCHEMA_RANGE,
    SCHEMA_NULLS,
    MALFORMED_ROW,
    DRIFT,
    LABEL_SHIFT,
    ROW_OUTLIER,
    LABEL_ISSUE,
    CLASS_OUTLIER,
    EXACT_DUPLICATE,
    NEAR_DUPLICATE,
    LEAKAGE,
    PII,
    SECRET,
    TRIGGER_PATCH,
    SPECTRAL,
    ACTIVATION_CLUSTER,
    UNREADABLE_SAMPLE,
)
