"""Model servers and notebooks in launch commands: which server, where it listens, with what auth.

Shared by compose files, Kubernetes manifests, Dockerfiles and shell scripts, which all end
in the same thing: an image, a command line and an environment.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

# Servers whose exposure without authentication is a finding (GA-POST-007).
_SERVER_BY_COMMAND: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "jupyter",
        re.compile(r"\bjupyter(?:-lab|-notebook|-server)?\b|\bstart-notebook\.(?:sh|py)\b"),
    ),
    ("ray", re.compile(r"\bray\s+start\b.*--head\b")),
    ("mlflow", re.compile(r"\bmlflow\s+(?:server|ui)\b")),
    ("vllm", re.compile(r"\bvllm\s+serve\b|\bvllm\.entrypoints\b")),
    ("ollama", re.compile(r"\bollama\s+serve\b")),
)
_SERVER_BY_IMAGE: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "jupyter",
        re.compile(r"(?:^|/)(?:jupyter/|quay\.io/jupyter/)|(?:^|/)(?:[\w-]+-notebook)(?::|$)"),
    ),
    ("ray", re.compile(r"(?:^|/)rayproject/ray(?:-ml)?(?::|$)")),
    ("mlflow", re.compile(r"(?:^|/)mlflow(?:/mlflow)?(?::|$)|ghcr\.io/mlflow/")),
    ("vllm", re.compile(r"(?:^|/)vllm/vllm-openai(?::|$)")),
    ("ollama", re.compile(r"(?:^|/)ollama/ollama(?::|$)")),
)
# Images of model servers, notebooks and ML frameworks: their containers are "inference containers".
_ML_IMAGE = re.compile(
    r"vllm|ollama|text-generation-inference|text-embeddings-inference|tritonserver|torchserve|"
    r"tensorflow/serving|tensorflow/tensorflow|pytorch/pytorch|nvidia/pytorch|nvidia/cuda|"
    r"huggingface/|kserve|seldon|localai|llama\.cpp|ggml-org|jupyter|rayproject|mlflow|"
    r"sglang|lmsysorg|nvidia/tensorrt|nim/"
)
_ML_INSTALL = re.compile(
    r"\b(?:pip3?|conda|mamba|micromamba)\s+install\b[^\n]*\b(?:vllm|torch|pytorch|transformers|"
    r"tensorflow|onnxruntime|mlflow|scikit-learn|sklearn|xgboost|lightgbm|catboost|keras|jax|"
    r"diffusers|sentence-transformers|accelerate|peft|"
    r"jupyter(?:lab)?|notebook|gradio|sglang|llama-cpp-python|text-generation|ray\[serve\])\b"
)
# Images whose default user is root.
_ROOT_IMAGE = re.compile(
    r"vllm/vllm-openai|ollama/ollama|text-generation-inference|pytorch/pytorch|nvidia/pytorch|"
    r"tensorflow/tensorflow|ghcr\.io/mlflow/mlflow|localai|lmsysorg/sglang|nvidia/cuda"
)
_ALL = ("0.0.0.0", "::", "[::]", "*", "''", '""')
_SERVE_MODEL = re.compile(
    r"\bvllm\s+serve\s+([^\s-][^\s]*)|--model(?:-id)?[= ]([^\s-][^\s]*)|"
    r"\bollama\s+(?:pull|run)\s+([^\s-][^\s]*)"
)


@dataclass(frozen=True, slots=True)
class Launch:
    """One process a configuration starts."""

    image: str = ""
    command: str = ""  # the command line, arguments joined by spaces
    env: dict[str, str] = field(default_factory=dict)
    in_container: bool = True


def server_of(launch: Launch) -> str | None:
    for server, pattern in _SERVER_BY_COMMAND:
        if pattern.search(launch.command):
            return server
    for server, pattern in _SERVER_BY_IMAGE:
        if launch.image and pattern.search(launch.image):
            return server
    return None


def is_inference(launch: Launch) -> bool:
    return server_of(launch) is not None or bool(launch.image and _ML_IMAGE.search(launch.image))


def root_by_default(image: str) -> bool:
    return bool(_ROOT_IMAGE.search(image))


def installs_ml(text: str) -> bool:
    return bool(_ML_INSTALL.search(text))


def _flag(command: str, *names: str) -> str | None:
    """The value of `--name=value` or `--name value` (last one wins), or None."""
    value = None
    for name in names:
        for m in re.finditer(rf"(?:^|\s){re.escape(name)}(?:=(\S*)|\s+(\S+))", command):
            value = m.group(1) if m.group(1) is not None else m.group(2)
    return value


def binds_all_interfaces(server: str, launch: Launch) -> bool:
    """Whether the server listens on every interface: an explicit flag, or its default there."""
    cmd, env = launch.command, launch.env
    if server == "jupyter":
        ip = _flag(cmd, "--ip", "--NotebookApp.ip", "--ServerApp.ip")
        if ip is not None:
            return ip.strip("'\"") in ("0.0.0.0", "::", "*", "")
        # Jupyter's docker stacks listen on 0.0.0.0; a bare jupyter on a host does not.
        return launch.in_container and bool(launch.image and "jupyter" in launch.image)
    if server == "ray":
        host = _flag(cmd, "--dashboard-host")
        return host is not None and host.strip("'\"") in ("0.0.0.0", "::")
    if server == "mlflow":
        host = _flag(cmd, "--host", "-h")
        return host is not None and host.strip("'\"") in ("0.0.0.0", "::")
    if server == "vllm":
        host = _flag(cmd, "--host")
        return host is None or host.strip("'\"") in ("0.0.0.0", "::", "")  # default: all
    if server == "ollama":
        host = env.get("OLLAMA_HOST")
        if host is None:  # the official image sets OLLAMA_HOST=0.0.0.0
            return launch.in_container and "ollama/ollama" in launch.image
        return host.startswith(("0.0.0.0", ":", "[::]", "http://0.0.0.0"))
    return False


def has_auth(server: str, launch: Launch) -> bool:
    cmd, env = launch.command, launch.env
    if server == "jupyter":
        token = _flag(cmd, "--NotebookApp.token", "--ServerApp.token", "--IdentityProvider.token")
        if token is None:
            token = env.get("JUPYTER_TOKEN")
        password = _flag(cmd, "--NotebookApp.password", "--ServerApp.password")
        empty_token = token is not None and token.strip("'\"") == ""
        return not empty_token or bool(password and password.strip("'\""))
    if server == "mlflow":
        return _flag(cmd, "--app-name") == "basic-auth"
    if server == "vllm":
        return _flag(cmd, "--api-key") is not None or bool(env.get("VLLM_API_KEY"))
    return False  # Ray's dashboard and Ollama have no authentication of their own


def served_models(command: str) -> list[str]:
    found = []
    for m in _SERVE_MODEL.finditer(command):
        name = next(g for g in m.groups() if g)
        found.append(name.strip("'\""))
    return found


def join_command(*parts: object) -> str:
    """A command line from compose/Kubernetes command and args (a string or a list)."""
    words: list[str] = []
    for part in parts:
        if isinstance(part, str):
            words.append(part)
        elif isinstance(part, list):
            # Scalars only: a YAML alias can make a nested list exponentially long as text.
            scalars = [str(w) for w in part if isinstance(w, (str, int, float))]
            words.extend(shlex.quote(w) if w == "" else w for w in scalars)
    return " ".join(words)
