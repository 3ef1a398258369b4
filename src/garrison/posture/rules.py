"""Rules of `garrison discover`: risky AI configuration, leaked keys, gaps with the gateway."""

from __future__ import annotations

from garrison.findings import Severity
from garrison.rules import Rule

SUPPLY_REFS = ("OWASP-LLM03:2025", "OWASP-ML06:2023", "ATLAS-AML.T0010", "EU-AI-ACT-Art.15")
EXPOSURE_REFS = (
    "OWASP-LLM03:2025",
    "ATLAS-AML.T0049",
    "NIST-AI-RMF-MANAGE-2.4",
    "EU-AI-ACT-Art.15",
)
INVENTORY_REFS = ("NIST-AI-RMF-GOVERN-1.6", "NIST-AI-RMF-MAP-4.1", "EU-AI-ACT-Art.9")
SKIP_REFS = ("NIST-AI-RMF-GOVERN-1.6",)

PROVIDER_KEY = Rule(
    "GA-POST-001",
    "Hard-coded AI provider key",
    Severity.CRITICAL,
    "A credential of an AI provider (OpenAI, Anthropic, Hugging Face, Google, AWS for Bedrock, "
    "Azure OpenAI, Cohere, Mistral, Groq, Replicate...) is written in a file. Anyone who can "
    "read the repository or the image can spend on the account and read its data.",
    "Revoke the key at the provider, remove it from the file and its history, and read it "
    "from the environment or a secret manager; route calls through the Garrison gateway "
    "with a per-owner gateway key.",
    ("OWASP-LLM02:2025", "ATLAS-AML.T0055", "NIST-AI-RMF-MANAGE-2.4"),
)
TRUST_REMOTE_CODE = Rule(
    "GA-POST-002",
    "trust_remote_code=True",
    Severity.HIGH,
    "Loading a model with trust_remote_code=True runs Python code from the model repository "
    "on this machine; whoever controls the repository (or a later revision of it) runs code here.",
    "Drop trust_remote_code, or pin `revision` to a reviewed commit and vendor the code.",
    SUPPLY_REFS,
)
TORCH_LOAD = Rule(
    "GA-POST-003",
    "torch.load without weights_only=True",
    Severity.HIGH,
    "torch.load unpickles the file; without weights_only=True a crafted checkpoint runs "
    "arbitrary code when it is loaded.",
    "Pass weights_only=True (the default from PyTorch 2.6), or store weights as safetensors.",
    SUPPLY_REFS,
)
PICKLE_DOWNLOAD = Rule(
    "GA-POST-004",
    "Unpickling a downloaded file",
    Severity.CRITICAL,
    "pickle, joblib, dill or cloudpickle load a file that the code downloads: unpickling runs "
    "code chosen by whoever controls the download.",
    "Download a safe format (safetensors, ONNX, JSON) instead, or verify the file's digest "
    "against an approved one (`garrison models approve`) and scan it before loading.",
    SUPPLY_REFS,
)
ALLOW_PICKLE = Rule(
    "GA-POST-005",
    "allow_pickle=True",
    Severity.HIGH,
    "numpy.load with allow_pickle=True unpickles object arrays, which runs code from the file.",
    "Save plain numeric arrays and load them with allow_pickle=False (the default).",
    SUPPLY_REFS,
)
UNPINNED_REVISION = Rule(
    "GA-POST-006",
    "Hub download without a pinned revision",
    Severity.MEDIUM,
    "A model or dataset is fetched from a hub by name without `revision` set to a commit: "
    "the code runs whatever the repository holds at the time, including a replaced model.",
    "Pass revision='<40-character commit sha>' and approve that revision's digests.",
    SUPPLY_REFS,
)
EXPOSED_SERVER = Rule(
    "GA-POST-007",
    "Model server or notebook exposed without authentication",
    Severity.HIGH,
    "A Jupyter, Ray, MLflow, Gradio, vLLM or Ollama server listens on all interfaces (or a "
    "published port) without authentication: anyone on the network can run code, read "
    "models and data, or use the model.",
    "Bind it to 127.0.0.1 and reach it through an authenticating proxy or the Garrison "
    "gateway, or switch on its own authentication (Jupyter token, vLLM --api-key, MLflow "
    "basic-auth, Gradio auth=).",
    EXPOSURE_REFS,
)
PUBLIC_BUCKET = Rule(
    "GA-POST-008",
    "Publicly readable bucket of model weights",
    Severity.CRITICAL,
    "A storage bucket that holds models or checkpoints is readable by anyone: the weights "
    "(and what they memorised) can be copied, and a writable one can be poisoned.",
    "Remove the public ACL, policy statement or allUsers binding; grant read to the roles "
    "that serve the model, and block public access at the account level.",
    ("OWASP-LLM03:2025", "ATLAS-AML.T0035", "NIST-AI-RMF-MANAGE-2.4", "EU-AI-ACT-Art.15"),
)
PRIVILEGED = Rule(
    "GA-POST-009",
    "Inference container runs privileged",
    Severity.HIGH,
    "A model-serving or notebook container runs privileged: code execution through a "
    "malicious model or prompt becomes control of the host.",
    "Remove privileged: true; expose GPUs through the device plugin or `--gpus`, not privilege.",
    EXPOSURE_REFS,
)
RUNS_AS_ROOT = Rule(
    "GA-POST-010",
    "Inference container runs as root",
    Severity.MEDIUM,
    "A model-serving or notebook container runs as root: a loader exploit (a pickle, remote "
    "code) gets root in the container and an easier path out of it.",
    "Add a non-root USER to the image and set runAsNonRoot: true / a non-zero runAsUser.",
    EXPOSURE_REFS,
)
GATEWAY_BYPASS = Rule(
    "GA-POST-011",
    "AI call does not go through the Garrison gateway",
    Severity.MEDIUM,
    "Code calls an AI service at a base URL other than the Garrison gateway's: its prompts "
    "and outputs escape the gateway's guards, quotas and audit log (shadow AI).",
    "Point the client's base_url at the gateway and give the service a gateway key.",
    ("OWASP-LLM10:2025", *INVENTORY_REFS),
)
KEY_WITHOUT_OWNER = Rule(
    "GA-POST-012",
    "Gateway key without an owner",
    Severity.MEDIUM,
    "A gateway key has no accountable owner, so its use cannot be attributed or reviewed.",
    "Revoke the key and issue one with a real owner (`garrison keys create --owner TEAM`).",
    INVENTORY_REFS,
)
UNAPPROVED_MODEL = Rule(
    "GA-POST-013",
    "Model used without approval or BOM entry",
    Severity.MEDIUM,
    "A model file, a model served or a model named in code has no active approval in the "
    "registry and no entry in the bill of materials: nobody has reviewed it.",
    "Scan and approve it (`garrison models approve`), or add it to the ML-BOM (`garrison bom`).",
    ("OWASP-LLM03:2025", *INVENTORY_REFS),
)
UNREADABLE = Rule(
    "GA-POST-014",
    "File or directory could not be read",
    Severity.LOW,
    "Discovery could not read this path (permissions, I/O error): AI assets in it are unknown.",
    "Run discovery with read access to the path, or exclude it on purpose.",
    SKIP_REFS,
)
TOO_LARGE = Rule(
    "GA-POST-015",
    "File too large to analyse",
    Severity.INFO,
    "A source, configuration or notebook file is larger than the analysis limit; its content "
    "was not checked (model formats are still recognised from its first bytes).",
    "Raise [posture] max_text_bytes if the file should be analysed.",
    SKIP_REFS,
)
LINK_SKIPPED = Rule(
    "GA-POST-016",
    "Link not followed",
    Severity.INFO,
    "A symbolic link points outside the given roots or back into a directory already walked "
    "(a loop); discovery did not follow it.",
    "Give the link's target as a root, or set follow_symlinks = true to follow links.",
    SKIP_REFS,
)

RULES = (
    PROVIDER_KEY,
    TRUST_REMOTE_CODE,
    TORCH_LOAD,
    PICKLE_DOWNLOAD,
    ALLOW_PICKLE,
    UNPINNED_REVISION,
    EXPOSED_SERVER,
    PUBLIC_BUCKET,
    PRIVILEGED,
    RUNS_AS_ROOT,
    GATEWAY_BYPASS,
    KEY_WITHOUT_OWNER,
    UNAPPROVED_MODEL,
    UNREADABLE,
    TOO_LARGE,
    LINK_SKIPPED,
)
