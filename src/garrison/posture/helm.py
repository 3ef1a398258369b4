"""Helm values: the settings a chart's templates are filled with, read for GA-POST-007/009/010.

Templates are Go templates and are not rendered. The values files are read instead
(values.yaml next to Chart.yaml, values-*.yaml merged over it the way `helm -f` does, and
override files such as ollama-values.yaml kept for a chart installed from a repository),
for the keys charts use by convention: every mapping with an `image` (repository, registry,
tag) is a container, and takes `securityContext` / `containerSecurityContext` /
`podSecurityContext`, `service.type` (or `serviceType`) and `hostNetwork` from itself or
the nearest mapping above it that sets them. A security context the chart's templates never
mention is not rendered, so it is not judged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from garrison.assets import Asset
from garrison.errors import MissingExtraError
from garrison.findings import Location, Severity
from garrison.posture import rules
from garrison.posture.observations import MODEL_SERVER, DiscoveredAsset, Observations
from garrison.posture.servers import (
    Launch,
    has_auth,
    is_inference,
    join_command,
    root_by_default,
    server_of,
)
from garrison.rules import Rule

_VALUES_NAME = re.compile(r"(?:.*[-_.])?values(?:[-_.][\w.-]*)?\.ya?ml")
_EXPOSED = ("LoadBalancer", "NodePort")
_CONTAINER_SC = ("containerSecurityContext", "securityContext")
_POD_SC = ("podSecurityContext",)
_ENV = ("env", "extraEnv", "extraEnvVars", "envVars")
_ARGS = ("command", "args", "extraArgs")
# Chart settings that put authentication in front of the server.
_API_KEYS = ("apiKey", "api_key", "vllmApiKey", "apiKeySecret")
_AUTH = ("auth", "authentication", "basicAuth")
_MAX_NODES = 5_000
_MAX_DEPTH = 16
_MAX_TEMPLATE_FILES = 200
_MAX_TEMPLATE_BYTES = 2 << 20
_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".tpl", ".txt", ".json")
_LITERAL_NON_ROOT = re.compile(r"(?m)^\s*(?:runAsNonRoot:\s*true|runAsUser:\s*[1-9]\d*)\s*$")


def is_values_file(path: str) -> bool:
    """A Helm values file by its name: values.yaml, values-prod.yaml, ollama-values.yaml."""
    return bool(_VALUES_NAME.fullmatch(os.path.basename(path)))


# id(mapping) -> {key: (line, from the file being analysed)}
Lines = dict[int, dict[str, tuple[int, bool]]]


@dataclass(slots=True)
class _Values:
    """The values in effect for one file, and where each key was set."""

    doc: dict[Any, Any]
    lines: Lines
    chart: str  # the chart's directory name, or the file's name
    templates: str | None  # the templates' text; None: not known (no chart next to it)

    def where(self, mapping: dict[Any, Any], key: str) -> tuple[int | None, bool]:
        """(line, set in the analysed file) of a key of a mapping."""
        line, own = self.lines.get(id(mapping), {}).get(key, (0, True))
        return line or None, own

    def rendered(self, key: str) -> bool:
        """Whether the templates read this value (`.Values.x.securityContext`,
        `$svc.securityContext`, `index .Values "securityContext"`), not merely contain the
        Kubernetes field of the same name (`securityContext:`)."""
        if self.templates is None:
            return True
        name = re.escape(key)
        pattern = rf"\.{name}\b|\bindex\b[^}}]*[\"']{name}[\"']"
        return re.search(pattern, self.templates) is not None


@dataclass(frozen=True, slots=True)
class _Container:
    label: str
    node: dict[Any, Any]
    image: str
    above: tuple[dict[Any, Any], ...]  # the mappings it sits in, nearest first


@dataclass(slots=True)
class _Report:
    values: _Values
    path: str
    asset: Asset
    out: Observations = field(default_factory=Observations)

    def add(
        self,
        rule: Rule,
        at: tuple[dict[Any, Any], str],
        evidence: str,
        severity: Severity | None = None,
    ) -> None:
        line, own = self.values.where(*at)
        if own:  # set in a values.yaml analysed on its own: reported there
            loc = Location(path=self.path, line=line)
            self.out.findings.append(rule.finding(self.asset, loc, evidence, severity))


def analyse_helm_values(text: str, path: str, asset: Asset) -> Observations:
    values = _values(text, path)
    if values is None:
        from garrison.posture.config_checks import analyse_yaml

        return analyse_yaml(text, path, asset)  # a manifest or compose file named *values*
    report = _Report(values, path, asset)
    for container in _containers(values.doc, values.chart):
        _judge(report, container)
    return report.out


def _values(text: str, path: str) -> _Values | None:
    own, lines = _load(text, own=True)
    if own is None or ("apiVersion" in own and "kind" in own) or "services" in own:
        return None
    directory, name = os.path.split(os.path.abspath(path))
    if not os.path.isfile(os.path.join(directory, "Chart.yaml")):
        return _Values(own, lines, name, None)
    templates = _templates(os.path.join(directory, "templates"))
    if name in ("values.yaml", "values.yml"):
        return _Values(own, lines, os.path.basename(directory), templates)
    base, base_lines = _read_base(directory)
    lines.update(base_lines)
    merged = _merge(base, own, lines, [_MAX_NODES], 0) if base is not None else own
    return _Values(merged, lines, os.path.basename(directory), templates)


def _load(text: str, own: bool) -> tuple[dict[Any, Any] | None, Lines]:
    """The first mapping document, and the line of every key of every mapping in it."""
    try:
        import yaml
    except ModuleNotFoundError:
        raise MissingExtraError("pyyaml", "posture") from None
    lines: Lines = {}

    class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        pass

    def mapping(loader: Any, node: Any) -> Iterator[dict[Any, Any]]:
        data: dict[Any, Any] = {}
        yield data
        data.update(loader.construct_mapping(node))
        lines[id(data)] = {
            str(key.value): (key.start_mark.line + 1, own)
            for key, _ in node.value
            if isinstance(key, yaml.ScalarNode)
        }

    _LineLoader.add_constructor("tag:yaml.org,2002:map", mapping)
    try:
        docs = yaml.load_all(text, Loader=_LineLoader)
        doc = next((d for d in docs if d is not None), None)
    except (yaml.YAMLError, RecursionError, TypeError, ValueError):
        return None, {}  # templated or broken YAML, or unhashable keys
    return (doc, lines) if isinstance(doc, dict) else (None, {})


def _read_base(directory: str) -> tuple[dict[Any, Any] | None, Lines]:
    """The chart's values.yaml, under which a values-*.yaml is merged."""
    for name in ("values.yaml", "values.yml"):
        try:
            with open(os.path.join(directory, name), "rb") as stream:
                data = stream.read(_MAX_TEMPLATE_BYTES + 1)
        except OSError:
            continue
        if len(data) <= _MAX_TEMPLATE_BYTES:
            return _load(data.decode("utf-8", "replace"), own=False)
    return None, {}


def _merge(base: Any, over: Any, lines: Lines, budget: list[int], depth: int) -> Any:
    """`helm -f`: mappings merged key by key, anything else replaced, null deletes."""
    budget[0] -= 1
    if not (isinstance(base, dict) and isinstance(over, dict)) or budget[0] < 0:
        return over
    if depth > _MAX_DEPTH:
        return over
    out = dict(base)
    where = dict(lines.get(id(base), {}))
    for key, value in over.items():
        if value is None:
            out.pop(key, None)
            continue
        out[key] = _merge(base.get(key), value, lines, budget, depth + 1)
        where[str(key)] = lines.get(id(over), {}).get(str(key), (0, True))
    lines[id(out)] = where
    return out


def _templates(directory: str) -> str | None:
    """The text of a chart's templates (bounded), to tell which values they use."""
    if not os.path.isdir(directory):
        return None
    texts: list[str] = []
    budget, files = _MAX_TEMPLATE_BYTES, 0
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        for name in sorted(names):
            if not name.endswith(_TEMPLATE_SUFFIXES) or files >= _MAX_TEMPLATE_FILES:
                continue
            try:
                with open(os.path.join(root, name), "rb") as stream:
                    data = stream.read(budget)
            except OSError:
                return None  # unreadable: which values are used is unknown
            budget -= len(data)
            files += 1
            texts.append(data.decode("utf-8", "replace"))
    return "\n".join(texts) if texts else None


def _containers(doc: dict[Any, Any], chart: str) -> Iterator[_Container]:
    """Every mapping with an image, with the mappings above it (an alias is walked once)."""
    stack: list[tuple[dict[Any, Any], str, tuple[dict[Any, Any], ...]]] = [(doc, "", ())]
    seen: set[int] = set()
    while stack and len(seen) < _MAX_NODES:
        node, label, above = stack.pop()
        if id(node) in seen or len(above) > _MAX_DEPTH:
            continue
        seen.add(id(node))
        image = _image(node)
        if image:
            yield _Container(label or chart, node, image, above)
        for key, value in reversed(list(node.items())):
            if key == "image":
                continue  # the image mapping itself is not a container
            child = f"{label}.{key}" if label else str(key)
            if isinstance(value, dict):
                stack.append((value, child, (node, *above)))
            elif isinstance(value, list):
                for i, item in enumerate(value[:100]):
                    if isinstance(item, dict):
                        stack.append((item, f"{child}[{i}]", (node, *above)))


def _image(node: dict[Any, Any]) -> str:
    """`image: repo:tag`, `image: {registry, repository, tag}`, or `repository` + `tag`."""
    image = node.get("image")
    if isinstance(image, str):
        return image
    spec = image if isinstance(image, dict) else node if "tag" in node else {}
    repository = spec.get("repository") or (spec.get("name") if spec is image else None)
    if not isinstance(repository, str) or not repository:
        return ""
    registry, tag = spec.get("registry"), spec.get("tag")
    if isinstance(registry, str) and registry:
        repository = f"{registry}/{repository}"
    return f"{repository}:{tag}" if isinstance(tag, (str, int, float)) and tag != "" else repository


def _nearest(container: _Container, keys: tuple[str, ...]) -> tuple[dict[Any, Any], str]:
    """The first of `keys` set on the container or above it: (its mapping, the key)."""
    for owner in (container.node, *container.above):
        for key in keys:
            value = owner.get(key)
            if isinstance(value, dict):
                # Bitnami charts render a context only when its `enabled` is true.
                return ({} if value.get("enabled") is False else value), key
    return {}, ""


def _exposure(container: _Container) -> tuple[str, tuple[dict[Any, Any], str]] | None:
    """How the chart publishes the container beyond the cluster, decided by the nearest
    mapping that sets a service type or host networking."""
    for owner in (container.node, *container.above):
        if owner.get("hostNetwork") is True:
            return "hostNetwork: true", (owner, "hostNetwork")
        service = owner.get("service")
        if isinstance(service, dict) and isinstance(service.get("type"), str):
            kind = service["type"]
            return (f"service type {kind}", (service, "type")) if kind in _EXPOSED else None
        if isinstance(owner.get("serviceType"), str):
            kind = owner["serviceType"]
            return (f"serviceType {kind}", (owner, "serviceType")) if kind in _EXPOSED else None
    return None


def _chart_auth(container: _Container) -> bool:
    for owner in (container.node, *container.above):
        if any(isinstance(owner.get(k), (str, dict)) and owner.get(k) for k in _API_KEYS):
            return True
        for key in _AUTH:
            value = owner.get(key)
            if isinstance(value, dict) and value.get("enabled") is True:
                return True
    return False


def _launch(container: _Container) -> Launch:
    from garrison.posture.config_checks import launch_env

    node = container.node
    env: dict[str, str] = {}
    for key in _ENV:
        env.update(launch_env(node.get(key)))
    command = join_command(*(node.get(key) for key in _ARGS))
    return Launch(container.image, command, env, in_container=True)


def _gpu(node: dict[Any, Any]) -> bool:
    resources = node.get("resources")
    resources = resources if isinstance(resources, dict) else {}
    for part in ("limits", "requests"):
        amounts = resources.get(part)
        if isinstance(amounts, dict) and any("gpu" in str(k) for k in amounts):
            return True
    gpu = node.get("gpu")
    return isinstance(gpu, dict) and gpu.get("enabled") is True


def _judge(report: _Report, container: _Container) -> None:
    values, label = report.values, container.label
    launch = _launch(container)
    image_at = (container.node, "image" if "image" in container.node else "repository")
    server = server_of(launch)
    if server is not None:
        line, _ = values.where(*image_at)
        loc = Location(path=report.path, line=line)
        detail = f"{label}: {server}"
        report.out.assets.append(DiscoveredAsset(MODEL_SERVER, server, report.asset, loc, detail))
        exposure = _exposure(container)
        if exposure and not (has_auth(server, launch) or _chart_auth(container)):
            evidence = f"{detail} exposed by {exposure[0]} without authentication"
            report.add(rules.EXPOSED_SERVER, exposure[1], evidence)
    if not (is_inference(launch) or _gpu(container.node)):
        return
    sc, sc_key = _nearest(container, _CONTAINER_SC)
    pod, pod_key = _nearest(container, _POD_SC)
    sc = sc if values.rendered(sc_key) else {}
    pod = pod if values.rendered(pod_key) else {}
    if sc.get("privileged") is True:
        report.add(rules.PRIVILEGED, (sc, "privileged"), f"{label}: privileged: true")
    user_in = sc if "runAsUser" in sc else pod
    user = user_in.get("runAsUser")
    non_root = sc.get("runAsNonRoot", pod.get("runAsNonRoot"))
    if type(user) is int and user == 0:
        evidence = f"{label}: runAsUser: 0"
        report.add(rules.RUNS_AS_ROOT, (user_in, "runAsUser"), evidence, Severity.HIGH)
    elif user is None and non_root is not True and root_by_default(launch.image):
        if values.templates is not None and _LITERAL_NON_ROOT.search(values.templates):
            return  # the templates set a non-root user themselves
        evidence = f"{label}: no runAsNonRoot/runAsUser; {launch.image} runs as root"
        report.add(rules.RUNS_AS_ROOT, image_at, evidence)
