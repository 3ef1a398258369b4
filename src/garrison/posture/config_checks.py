"""Risky deployment configuration: compose files, Kubernetes manifests, Dockerfiles, launch scripts.

Each format is reduced to `Launch`es (image, command line, environment) and judged by the
same server rules (servers.py); YAML is read with yaml.safe_load, never with tags that
construct objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from garrison.assets import Asset
from garrison.errors import MissingExtraError
from garrison.findings import Location, Severity
from garrison.posture import rules
from garrison.posture.observations import (
    MODEL_SERVER,
    DiscoveredAsset,
    ModelReference,
    Observations,
)
from garrison.posture.servers import (
    Launch,
    binds_all_interfaces,
    has_auth,
    installs_ml,
    is_inference,
    join_command,
    root_by_default,
    served_models,
    server_of,
)
from garrison.rules import Rule

_WORKLOADS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
_ROOT_USERS = ("0", "root", "0:0", "root:root")
# Images that set a non-root USER of their own.
_NON_ROOT_IMAGE = re.compile(r"jupyter|rayproject/ray|pytorch/torchserve")


class _Checker:
    """Findings and assets of one configuration file."""

    def __init__(self, text: str, path: str, asset: Asset) -> None:
        self.text = text
        self.path = path
        self.asset = asset
        self.out = Observations()

    def line_of(self, needle: str, start_line: int = 1) -> int | None:
        lines = self.text.splitlines()
        for number in range(max(start_line, 1), len(lines) + 1):
            if needle in lines[number - 1]:
                return number
        return None

    def loc(self, line: int | None) -> Location:
        return Location(path=self.path, line=line)

    def add(
        self, rule: Rule, line: int | None, evidence: str, severity: Severity | None = None
    ) -> None:
        self.out.findings.append(rule.finding(self.asset, self.loc(line), evidence, severity))

    def launch(self, launch: Launch, name: str, line: int | None, exposed: bool) -> None:
        """The checks every format shares: the server it starts, its exposure and its models."""
        server = server_of(launch)
        for model in served_models(launch.command):
            self.out.models.append(ModelReference(model, True, self.asset, self.loc(line)))
        if server is None:
            return
        detail = f"{name}: {server}" if name else server
        self.out.assets.append(
            DiscoveredAsset(MODEL_SERVER, server, self.asset, self.loc(line), detail)
        )
        if exposed and binds_all_interfaces(server, launch) and not has_auth(server, launch):
            where = "a published port" if launch.in_container else "all interfaces"
            self.add(
                rules.EXPOSED_SERVER, line, f"{detail} listens on {where} without authentication"
            )


def load_yaml_documents(text: str) -> list[Any]:
    try:
        import yaml
    except ModuleNotFoundError:
        raise MissingExtraError("pyyaml", "posture") from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return [doc for doc in yaml.load_all(text, Loader=loader) if doc is not None]
    except yaml.YAMLError:
        return []  # a chart's templates (helm.py reads its values) or broken YAML


def analyse_yaml(text: str, path: str, asset: Asset) -> Observations:
    checker = _Checker(text, path, asset)
    for doc in load_yaml_documents(text):
        if not isinstance(doc, dict):
            continue
        if isinstance(doc.get("services"), dict):
            _compose(checker, doc["services"])
        elif doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            for item in doc["items"]:
                if isinstance(item, dict):
                    _kubernetes(checker, item)
        elif "apiVersion" in doc and "kind" in doc:
            _kubernetes(checker, doc)
    return checker.out


def launch_env(value: Any) -> dict[str, str]:
    """An environment from a compose mapping or list, or a Kubernetes env list."""
    env: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            env[str(key)] = (
                "" if item is None else str(item) if isinstance(item, (str, int, float)) else ""
            )
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                key, _, val = item.partition("=")
                env[key] = val
            elif isinstance(item, dict) and isinstance(item.get("name"), str):  # Kubernetes
                raw = item.get("value")
                if isinstance(raw, (str, int, float)):
                    env[item["name"]] = str(raw)
                elif item.get("valueFrom") is not None:
                    env[item["name"]] = "<from a secret or field>"
    return env


def _compose(checker: _Checker, services: dict[Any, Any]) -> None:
    for name, svc in services.items():
        if not isinstance(svc, dict):
            continue
        image = svc.get("image") if isinstance(svc.get("image"), str) else ""
        command = join_command(svc.get("entrypoint"), svc.get("command"))
        launch = Launch(str(image), command, launch_env(svc.get("environment")), in_container=True)
        line = checker.line_of(f"{name}:")
        checker.launch(launch, str(name), line, exposed=_published(svc))
        gpu = _nvidia_device(svc.get("deploy")) or svc.get("runtime") == "nvidia"
        if not (is_inference(launch) or gpu):
            continue
        if svc.get("privileged") is True:
            checker.add(
                rules.PRIVILEGED,
                checker.line_of("privileged", line or 1),
                f"{name}: privileged: true",
            )
        user = svc.get("user")
        if isinstance(user, (str, int)) and str(user) in _ROOT_USERS:
            checker.add(
                rules.RUNS_AS_ROOT,
                checker.line_of("user:", line or 1),
                f"{name}: user: {user}",
                Severity.HIGH,
            )
        elif user is None and root_by_default(launch.image):
            checker.add(
                rules.RUNS_AS_ROOT, line, f"{name}: no user set; {launch.image} runs as root"
            )


def _nvidia_device(deploy: Any) -> bool:
    """Whether compose `deploy` reserves an nvidia device: each node read once, since a
    YAML alias can make the tree exponentially large as text (never str() it)."""
    stack, seen = [deploy], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            if node.get("driver") == "nvidia":
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and "driver: nvidia" in node:
            return True
    return False


def _scalar(value: Any, default: str) -> str:
    """A name as text; not a mapping or list, which an alias can make huge."""
    return str(value) if isinstance(value, (str, int, float)) else default


def _published(svc: dict[Any, Any]) -> bool:
    """Whether the service publishes a port on every interface of the host."""
    if svc.get("network_mode") == "host":
        return True
    ports = svc.get("ports")
    if not isinstance(ports, list):
        return False
    for port in ports:
        if isinstance(port, int):
            return True
        if isinstance(port, str):
            spec = port.split("/")[0]
            parts = spec.rsplit(":", 2)
            if len(parts) < 3 or parts[0] in ("0.0.0.0", "", "[::]", "::"):
                return True
        if isinstance(port, dict) and port.get("host_ip") in (None, "0.0.0.0", "::"):
            return True
    return False


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pod_specs(doc: dict[Any, Any]) -> Iterator[dict[Any, Any]]:
    kind = doc.get("kind")
    if kind not in _WORKLOADS:
        return
    spec = doc.get("spec")
    path = {
        "Pod": (),
        "CronJob": ("jobTemplate", "spec", "template", "spec"),
    }.get(str(kind), ("template", "spec"))
    for key in path:
        spec = spec.get(key) if isinstance(spec, dict) else None
    if isinstance(spec, dict):
        yield spec


def _kubernetes(checker: _Checker, doc: dict[Any, Any]) -> None:
    name = _scalar(_mapping(doc.get("metadata")).get("name"), "")
    for spec in _pod_specs(doc):
        pod_sc = _mapping(spec.get("securityContext"))
        containers = [*_list(spec.get("containers")), *_list(spec.get("initContainers"))]
        for container in containers:
            if isinstance(container, dict):
                _container(checker, str(name), container, pod_sc)


def _container(
    checker: _Checker, workload: str, container: dict[Any, Any], pod_sc: dict[Any, Any]
) -> None:
    image = container.get("image") if isinstance(container.get("image"), str) else ""
    command = join_command(container.get("command"), container.get("args"))
    launch = Launch(str(image), command, launch_env(container.get("env")), in_container=True)
    label = f"{workload}/{_scalar(container.get('name'), '?')}"
    line = (
        checker.line_of(f"image: {image}")
        if image
        else checker.line_of(_scalar(container.get("name"), "None"))
    )
    checker.launch(launch, label, line, exposed=True)
    limits = _mapping(_mapping(container.get("resources")).get("limits"))
    gpu = isinstance(limits, dict) and any("gpu" in str(k) for k in limits)
    if not (is_inference(launch) or gpu):
        return
    sc = _mapping(container.get("securityContext"))
    if sc.get("privileged") is True:
        checker.add(
            rules.PRIVILEGED, checker.line_of("privileged", line or 1), f"{label}: privileged: true"
        )
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
    if user == 0:
        checker.add(
            rules.RUNS_AS_ROOT,
            checker.line_of("runAsUser", 1),
            f"{label}: runAsUser: 0",
            Severity.HIGH,
        )
    elif user is None and non_root is not True and root_by_default(launch.image):
        checker.add(
            rules.RUNS_AS_ROOT,
            line,
            f"{label}: no runAsNonRoot/runAsUser; {launch.image} runs as root",
        )


def _instructions(text: str) -> Iterator[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments) of a Dockerfile, continuation lines joined."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = " ".join(p for p in pending if not p.startswith("#"))
        pending = []
        word, _, rest = joined.partition(" ")
        yield start, word.upper(), rest.strip()


def analyse_dockerfile(text: str, path: str, asset: Asset) -> Observations:
    checker = _Checker(text, path, asset)
    image, user, user_line, runs, command, command_line = "", None, None, [], "", None
    for line, word, args in _instructions(text):
        if word == "FROM":
            parts = [p for p in args.split() if not p.startswith("--")]
            image, user, user_line, command = (parts[0] if parts else ""), None, None, ""
        elif word == "USER":
            user, user_line = args.split()[0] if args else "", line
        elif word == "RUN":
            runs.append(args)
        elif word in ("CMD", "ENTRYPOINT"):
            command = (command + " " + _exec_form(args)).strip()
            command_line = line
    launch = Launch(image, command, _docker_env(text), in_container=True)
    if command:
        checker.launch(launch, "", command_line, exposed=True)
    if not (is_inference(launch) or installs_ml("\n".join(runs))):
        return checker.out
    if user is not None and user.split(":")[0] in ("0", "root"):
        checker.add(rules.RUNS_AS_ROOT, user_line, f"USER {user} in the final stage", Severity.HIGH)
    elif user is None and not _NON_ROOT_IMAGE.search(image):
        checker.add(
            rules.RUNS_AS_ROOT,
            checker.line_of("FROM"),
            f"no USER in the final stage (FROM {image})",
        )
    return checker.out


def _exec_form(args: str) -> str:
    if args.startswith("["):
        import json

        try:
            words = json.loads(args)
        except ValueError:
            return args
        return join_command([w for w in words if isinstance(w, str)])
    return args


def _docker_env(text: str) -> dict[str, str]:
    env = {}
    for m in re.finditer(r"(?m)^\s*ENV\s+(\w+)[= ]\s*\"?([^\"\s]*)", text):
        env[m.group(1)] = m.group(2)
    return env


_SHELL_ASSIGN = re.compile(r"(?:^|\s)(?:export\s+)?([A-Z_][A-Z0-9_]*)=(\"[^\"]*\"|'[^']*'|\S*)")


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, line) with backslash continuations joined."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        yield start, " ".join(pending).strip()
        pending = []
    if pending:
        yield start, " ".join(pending).strip()


def analyse_shell(text: str, path: str, asset: Asset) -> Observations:
    checker = _Checker(text, path, asset)
    env: dict[str, str] = {}
    for number, line in _logical_lines(text):
        if not line or line.startswith("#"):
            continue
        inline = dict(env)
        for m in _SHELL_ASSIGN.finditer(line):
            inline[m.group(1)] = m.group(2).strip("'\"")
        if line.startswith("export ") or re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", line):
            env = inline
            continue
        checker.launch(Launch("", line, inline, in_container=False), "", number, exposed=True)
    return checker.out
