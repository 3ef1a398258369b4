"""Rules of the LLM input and output guards (GA-LLM-0xx)."""

from __future__ import annotations

from garrison.findings import Severity
from garrison.rules import Rule

INJECTION_REFS = ("OWASP-LLM01:2025", "ATLAS-AML.T0051", "ATLAS-AML.T0054")
SMUGGLING_REFS = ("OWASP-LLM01:2025", "ATLAS-AML.T0051", "ATLAS-AML.T0068")
DISCLOSURE_REFS = ("OWASP-LLM02:2025", "ATLAS-AML.T0057", "NIST-AI-RMF-MEASURE-2.10")
LEAKAGE_REFS = ("OWASP-LLM07:2025", "ATLAS-AML.T0056", "ATLAS-AML.T0057")
OUTPUT_REFS = ("OWASP-LLM05:2025", "OWASP-LLM02:2025", "ATLAS-AML.T0057")
CONSUMPTION_REFS = ("OWASP-LLM10:2025", "NIST-AI-RMF-MEASURE-2.7")

PROMPT_INJECTION = Rule(
    "GA-LLM-001",
    "Prompt injection or jailbreak",
    Severity.HIGH,
    "The text tries to override the application's instructions or the model's safety rules.",
    "Reject the request; never give model output produced from it tool access or trust.",
    INJECTION_REFS,
)
INVISIBLE_CHARACTERS = Rule(
    "GA-LLM-002",
    "Invisible characters",
    Severity.LOW,
    "Zero-width characters hide text from a reader and split words so filters miss them, "
    "while the model still reads them.",
    "Strip them (the guard does) before the text reaches the model or a user.",
    SMUGGLING_REFS,
)
TAG_CHARACTERS = Rule(
    "GA-LLM-003",
    "Text hidden in Unicode tag characters",
    Severity.HIGH,
    "Unicode tag characters (U+E0000-U+E007F) render as nothing but many models read them "
    "as ASCII: a known way to smuggle instructions past a human reviewer.",
    "Reject the text; the decoded hidden text is shown in the evidence.",
    SMUGGLING_REFS,
)
BIDI_OVERRIDE = Rule(
    "GA-LLM-004",
    "Bidirectional text override",
    Severity.MEDIUM,
    "Bidi override and isolate characters make text display in a different order from the "
    "one the model reads (Trojan Source).",
    "Strip them (the guard does); legitimate right-to-left text does not need overrides.",
    SMUGGLING_REFS,
)
HOMOGLYPHS = Rule(
    "GA-LLM-005",
    "Look-alike characters in a word",
    Severity.MEDIUM,
    "A word mixes Latin letters with look-alike letters from another script (Cyrillic 'а' "
    "for Latin 'a') or uses fullwidth forms: a way to slip words past keyword filters.",
    "The guard rewrites the look-alikes to Latin; reject the text if that is not expected.",
    SMUGGLING_REFS,
)
ENCODED_PAYLOAD = Rule(
    "GA-LLM-006",
    "Encoded text payload",
    Severity.LOW,
    "Base64, hex or ROT13 text that decodes to readable text: the decoded text is re-checked "
    "by the guards that follow, since encodings are used to hide instructions and data.",
    "Check why the text carries encoded content; findings in the decoded text block it.",
    SMUGGLING_REFS,
)
PERSONAL_DATA = Rule(
    "GA-LLM-007",
    "Personal data in LLM traffic",
    Severity.MEDIUM,
    "Personal data sent to a model provider or returned to a user may be disclosed to "
    "people who must not see it.",
    "The guard replaces it with reversible placeholders; keep them out of logs and prompts.",
    DISCLOSURE_REFS,
)
SECRET = Rule(
    "GA-LLM-008",
    "Credential in LLM traffic",
    Severity.HIGH,
    "An API key, token, password or private key in a prompt or an answer leaks to the "
    "provider, its logs, or the user.",
    "Rotate the credential; the guard replaces it with a placeholder.",
    DISCLOSURE_REFS,
)
LENGTH_LIMIT = Rule(
    "GA-LLM-009",
    "Text over the length or token limit",
    Severity.LOW,
    "Unbounded input costs money and time and hides payloads past what reviewers read.",
    "Shorten the text or raise the limit deliberately.",
    CONSUMPTION_REFS,
)
CANARY_LEAK = Rule(
    "GA-LLM-010",
    "System prompt canary in output",
    Severity.CRITICAL,
    "The secret canary planted in the system prompt appears in the answer (possibly "
    "re-spaced, re-cased or encoded): the model is disclosing its system prompt.",
    "Block the answer; review the conversation for a prompt-extraction attack.",
    LEAKAGE_REFS,
)
PROMPT_OVERLAP = Rule(
    "GA-LLM-011",
    "Output repeats the system prompt",
    Severity.HIGH,
    "A large share of the system prompt's word 5-grams appears in the answer: a verbatim or "
    "lightly paraphrased system prompt leak.",
    "Block the answer; keep secrets out of system prompts altogether.",
    LEAKAGE_REFS,
)
IMAGE_EXFILTRATION = Rule(
    "GA-LLM-012",
    "Image that sends data to an outside host",
    Severity.HIGH,
    "A markdown or HTML image is fetched by the client without a click; its URL can carry "
    "conversation data to an attacker's server.",
    "Block the answer, or allow only image hosts you control.",
    OUTPUT_REFS,
)
LINK_EXFILTRATION = Rule(
    "GA-LLM-013",
    "Link carrying data to an outside host",
    Severity.HIGH,
    "A link to a host outside the allowlist carries data in its query string or path: one "
    "click sends it away.",
    "Block the answer, or add the host to the allowlist if it is trusted.",
    OUTPUT_REFS,
)
URL_NOT_ALLOWED = Rule(
    "GA-LLM-014",
    "URL outside the allowlist",
    Severity.MEDIUM,
    "The answer points users to a host the application does not trust.",
    "The guard removes the URL; add the host to the allowlist if it is trusted.",
    OUTPUT_REFS,
)
SCRIPT_URL = Rule(
    "GA-LLM-015",
    "Script URL in output",
    Severity.HIGH,
    "A javascript: or vbscript: URL runs code in the user's browser when the answer is "
    "rendered and clicked.",
    "Block the answer; render model output as text, not HTML.",
    OUTPUT_REFS,
)
SCHEMA_VIOLATION = Rule(
    "GA-LLM-016",
    "Structured output does not match its schema",
    Severity.MEDIUM,
    "Downstream code trusts the shape of the model's JSON; output that does not conform "
    "(or is not JSON, or is too large or deep) must not reach it.",
    "Retry the call or reject the answer.",
    OUTPUT_REFS,
)
GUARD_ERROR = Rule(
    "GA-LLM-017",
    "Guard failed",
    Severity.MEDIUM,
    "A guard raised an error, so the text is unchecked; the pipeline's on_error policy "
    "decides whether that blocks.",
    "Check the log for the error; keep on_error='block' unless availability matters more.",
    ("OWASP-LLM05:2025", "NIST-AI-RMF-MEASURE-2.7"),
)

RULES = (
    PROMPT_INJECTION,
    INVISIBLE_CHARACTERS,
    TAG_CHARACTERS,
    BIDI_OVERRIDE,
    HOMOGLYPHS,
    ENCODED_PAYLOAD,
    PERSONAL_DATA,
    SECRET,
    LENGTH_LIMIT,
    CANARY_LEAK,
    PROMPT_OVERLAP,
    IMAGE_EXFILTRATION,
    LINK_EXFILTRATION,
    URL_NOT_ALLOWED,
    SCRIPT_URL,
    SCHEMA_VIOLATION,
    GUARD_ERROR,
)
