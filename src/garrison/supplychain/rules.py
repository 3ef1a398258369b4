"""Rules of the supply-chain scanner: general ones here, format rules beside their scanners."""

from __future__ import annotations

import importlib

from garrison.findings import Severity
from garrison.rules import Rule

# Framework references shared by the rules here and by the format scanners' rules.
SUPPLY_CHAIN_REFS = (
    "OWASP-LLM03:2025",
    "OWASP-ML06:2023",
    "ATLAS-AML.T0010",
    "NIST-AI-RMF-MAP-4.1",
)
# Formats whose payloads run when the file is loaded add user execution of unsafe artifacts.
CODE_EXECUTION_REFS = (
    "OWASP-LLM03:2025",
    "OWASP-ML06:2023",
    "ATLAS-AML.T0010",
    "ATLAS-AML.T0011",
)

LIMIT_REACHED = Rule(
    "GA-SCAN-001",
    "Scan limit reached",
    Severity.MEDIUM,
    "A size, count or depth limit of the policy was reached, so part of the file was not "
    "analysed. Hostile files inflate structures to hide payloads past a scanner's limits.",
    "Inspect the file's origin; raise the limit in the policy only for files you trust.",
    SUPPLY_CHAIN_REFS,
)
MALFORMED = Rule(
    "GA-SCAN-002",
    "Malformed model file",
    Severity.MEDIUM,
    "The file claims a format but its bytes break that format's rules. Loaders are often "
    "more lenient than scanners, and attackers use malformed files to make scanners stop early.",
    "Re-export the model with the library that made it, or obtain it from a trusted source.",
    SUPPLY_CHAIN_REFS,
)
UNSCANNED = Rule(
    "GA-SCAN-003",
    "Model format recognised but not scanned",
    Severity.LOW,
    "Garrison recognises this format but has no scanner for it, so its safety is unknown.",
    "Convert the model to a format that cannot carry code (safetensors, ONNX) or review it.",
    SUPPLY_CHAIN_REFS,
)
SCANNER_ERROR = Rule(
    "GA-SCAN-004",
    "File could not be fully scanned",
    Severity.MEDIUM,
    "The scanner failed on this file; what it did not read may hide a payload.",
    "Report the file to the Garrison maintainers (run with --debug for details).",
    SUPPLY_CHAIN_REFS,
)
UNREADABLE = Rule(
    "GA-SCAN-005",
    "File could not be read",
    Severity.MEDIUM,
    "The file could not be opened or read (permissions, I/O error, broken link).",
    "Check the file's permissions and that it is complete.",
    SUPPLY_CHAIN_REFS,
)

_GENERAL = (LIMIT_REACHED, MALFORMED, UNSCANNED, SCANNER_ERROR, UNREADABLE)

# Each format scanner module exposes RULES; listed here so the catalog stays complete.
FORMAT_MODULES = (
    "garrison.supplychain.pickle_scan",
    "garrison.supplychain.torch_legacy",
    "garrison.supplychain.zip_scan",
    "garrison.supplychain.torchscript",
    "garrison.supplychain.compression",
    "garrison.supplychain.tar_scan",
    "garrison.supplychain.sevenzip_scan",
    "garrison.supplychain.numpy_scan",
    "garrison.supplychain.keras_scan",
    "garrison.supplychain.savedmodel_scan",
    "garrison.supplychain.onnx_scan",
    "garrison.supplychain.gguf_scan",
    "garrison.supplychain.safetensors_scan",
    "garrison.supplychain.hf_dir",
)


def _collect() -> tuple[Rule, ...]:
    rules = list(_GENERAL)
    for name in FORMAT_MODULES:
        rules.extend(importlib.import_module(name).RULES)
    return tuple(rules)


def __getattr__(name: str) -> tuple[Rule, ...]:
    if name == "RULES":
        return _collect()
    raise AttributeError(name)
