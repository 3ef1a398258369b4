"""Rules of model testing; thresholds come from the policy's [robustness] table."""

from __future__ import annotations

from garrison.findings import Severity
from garrison.rules import Rule

EVASION = Rule(
    "GA-ROB-001",
    "Model is fragile under adversarial evasion",
    Severity.HIGH,
    "Small, deliberately chosen input changes flip the model's predictions. An attacker who can "
    "shape inputs (images, features, documents) can steer the model's decisions.",
    "Retrain with adversarial training (`garrison harden adversarial`), add input "
    "preprocessing, or monitor inputs at the gateway.",
    ("OWASP-ML01:2023", "ATLAS-AML.T0043", "NIST-AI-RMF-MEASURE-2.7", "EU-AI-ACT-Art.15"),
)
MEMBERSHIP = Rule(
    "GA-ROB-002",
    "Model leaks training-set membership",
    Severity.HIGH,
    "A membership-inference attack tells training records from unseen ones better than chance: "
    "the model remembers its training data, which exposes the people in it.",
    "Regularise, train with differential privacy (`garrison harden dp`), or return labels "
    "instead of scores.",
    ("OWASP-ML04:2023", "ATLAS-AML.T0024.000", "NIST-AI-RMF-MEASURE-2.10", "EU-AI-ACT-Art.10"),
)
EXTRACTION = Rule(
    "GA-ROB-003",
    "Model can be extracted with few queries",
    Severity.MEDIUM,
    "A surrogate trained on the target's answers reaches high agreement with it within the "
    "query budget: the model can be copied through its API.",
    "Limit queries per key at the gateway below the budget reported, return labels or rounded "
    "scores, and watch for extraction patterns.",
    ("OWASP-ML05:2023", "ATLAS-AML.T0024.002", "NIST-AI-RMF-MEASURE-2.7"),
)
INVERSION = Rule(
    "GA-ROB-004",
    "Model inversion reconstructs class representatives",
    Severity.MEDIUM,
    "Optimising an input against the model recovers images close to the training data of a "
    "class, which can reveal what (or whom) the model was trained on.",
    "Train with differential privacy, reduce output precision, and restrict score access.",
    ("OWASP-ML03:2023", "ATLAS-AML.T0024.001", "NIST-AI-RMF-MEASURE-2.10"),
)
REFUSED = Rule(
    "GA-ROB-005",
    "Model refused before loading",
    Severity.CRITICAL,
    "The model file's static scan has findings at or above high, so loading it to test it could "
    "run an attacker's code.",
    "Inspect the scan findings (`garrison scan`), and obtain the model from a trusted source.",
    ("OWASP-LLM03:2025", "OWASP-ML06:2023", "ATLAS-AML.T0010"),
)

RULES = (EVASION, MEMBERSHIP, EXTRACTION, INVERSION, REFUSED)
