"""AI use in JavaScript/TypeScript, Go, JVM languages and dependency manifests, by precise patterns.

Patterns are anchored on import statements, constructor calls and quoted URLs of known AI
API hosts, in lines that are not comments, so a variable called `openai_model` or a
comment that mentions a provider is not AI use.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from typing import Any

from garrison.assets import Asset
from garrison.findings import Location
from garrison.posture.observations import (
    AI_DEPENDENCY,
    AI_SERVICE,
    VECTOR_STORE,
    AICall,
    DiscoveredAsset,
    ModelReference,
    Observations,
)
from garrison.posture.sdks import (
    GO_MODULES,
    JVM_PACKAGES,
    NPM_PACKAGES,
    PYPI_PACKAGES,
    URL_IN_QUOTES,
    VECTOR_STORE_SERVICES,
    service_of_host,
    service_of_module,
)

_JS_IMPORT = re.compile(
    r"""^\s*(?:import\s+(?:type\s+)?(?:[\w*${}\s,]+\s+from\s+)?|export\s+[\w*{}\s,]+\s+from\s+|"""
    r""".*?\b(?:require|import)\s*\(\s*)["']([@\w./-]+)["']"""
)
_JS_CLIENT = re.compile(r"\bnew\s+(OpenAI|AzureOpenAI|Anthropic|ChatOpenAI|ChatAnthropic)\s*\(")
_JS_BASE = re.compile(r"""\b(?:baseURL|baseUrl|base_url|endpoint)\s*:\s*(["'`])?([^"'`,}\s]+)""")
_JS_MODEL = re.compile(r"""\bmodel(?:Name|Id)?\s*:\s*["']([\w.:/-]{2,100})["']""")
_GO_IMPORT = re.compile(r"""^\s*(?:import\s+)?(?:[\w.]+\s+)?"([\w./-]+)"\s*$""")
_GO_BASE = re.compile(r"""\bBaseURL\s*[:=]+\s*("?)([^"\s,)]+)""")
_JVM_IMPORT = re.compile(r"^\s*import\s+(?:static\s+)?([\w.]+)")
_COMMENT_STARTS = ("//", "/*", "*", "#")
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?:[=<>~!;@ ]|$)")
_GO_REQUIRE = re.compile(r"^\s*(?:require\s+)?([\w.-]+\.[\w./-]+)\s+v[\w.+-]+")


def code_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for every line that is not a whole-line comment."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.lstrip().startswith(_COMMENT_STARTS):
            yield number, line


def analyse_js(text: str, path: str, asset: Asset) -> Observations:
    out = Observations()
    for number, line in code_lines(text):
        m = _JS_IMPORT.match(line)
        if m:
            service = _npm_service(m.group(1))
            if service is not None:
                _service(out, service, asset, Location(path=path, line=number), m.group(1))
        client = _JS_CLIENT.search(line)
        if client:
            _js_call(out, client.group(1), text, number, asset, path)
    if out.assets:
        for number, line in code_lines(text):
            for model in _JS_MODEL.finditer(line):
                loc = Location(path=path, line=number)
                out.models.append(ModelReference(model.group(1), False, asset, loc))
    _api_urls(out, text, path, asset)
    return out


def _js_call(out: Observations, cls: str, text: str, number: int, asset: Asset, path: str) -> None:
    service = "anthropic" if "Anthropic" in cls else "azure-openai" if "Azure" in cls else "openai"
    window = "\n".join(text.splitlines()[number - 1 : number + 12])
    base = _JS_BASE.search(window)
    url = base.group(2) if base and base.group(1) else None
    dynamic = base is not None and url is None
    out.calls.append(AICall(service, url, dynamic, asset, Location(path=path, line=number)))


def _npm_service(package: str) -> str | None:
    parts = package.split("/")
    base = "/".join(parts[:2]) if package.startswith("@") else parts[0]
    if base in NPM_PACKAGES:
        return NPM_PACKAGES[base]
    for prefix, service in NPM_PACKAGES.items():
        if prefix.endswith("/") and package.startswith(prefix):
            return service
    return None


def analyse_go(text: str, path: str, asset: Asset) -> Observations:
    out = Observations()
    in_imports = False
    for number, line in code_lines(text):
        stripped = line.strip()
        if stripped.startswith("import ("):
            in_imports = True
            continue
        if in_imports and stripped == ")":
            in_imports = False
            continue
        if in_imports or stripped.startswith("import "):
            m = _GO_IMPORT.match(line)
            service = service_of_module(m.group(1), GO_MODULES) if m else None
            if m and service is not None:
                _service(out, service, asset, Location(path=path, line=number), m.group(1))
    if any(a.name == "openai" for a in out.assets):
        base = _GO_BASE.search(text)
        base_url = base.group(2) if base and base.group(1) else None
        first = out.assets[0].location.line
        out.calls.append(
            AICall(
                "openai",
                base_url,
                base is not None and base_url is None,
                asset,
                Location(path=path, line=first),
            )
        )
    _api_urls(out, text, path, asset)
    return out


def analyse_jvm(text: str, path: str, asset: Asset) -> Observations:
    out = Observations()
    for number, line in code_lines(text):
        m = _JVM_IMPORT.match(line)
        service = service_of_module(m.group(1), JVM_PACKAGES) if m else None
        if m and service is not None:
            _service(out, service, asset, Location(path=path, line=number), m.group(1))
    _api_urls(out, text, path, asset)
    return out


# Shell passes URLs bare as often as quoted: `curl https://api.anthropic.com/v1/messages`.
_BARE_URL = re.compile(r"""(?<![\w/])(https?://([A-Za-z0-9.-]+)(?::\d+)?(?:/[^\s"'`;|&)]*)?)""")


def analyse_urls(text: str, path: str, asset: Asset, bare: bool = False) -> Observations:
    """URLs of AI APIs in code lines: quoted ones, and with `bare` (shell) unquoted ones too."""
    out = Observations()
    _api_urls(out, text, path, asset, _BARE_URL if bare else URL_IN_QUOTES)
    return out


def _api_urls(
    out: Observations, text: str, path: str, asset: Asset, pattern: re.Pattern[str] = URL_IN_QUOTES
) -> None:
    if "://" not in text:
        return
    for number, line in code_lines(text):
        for m in pattern.finditer(line):
            service = service_of_host(m.group(2))
            if service is None:
                continue
            loc = Location(path=path, line=number)
            out.calls.append(AICall(service, m.group(1), False, asset, loc))
            _service(out, service, asset, loc, m.group(1)[:120])


def _service(out: Observations, service: str, asset: Asset, loc: Location, detail: str) -> None:
    if any(a.name == service and a.category != AI_DEPENDENCY for a in out.assets):
        return
    category = VECTOR_STORE if service in VECTOR_STORE_SERVICES else AI_SERVICE
    out.assets.append(DiscoveredAsset(category, service, asset, loc, detail))


def analyse_manifest(name: str, text: str, path: str, asset: Asset) -> Observations:
    """AI SDKs declared in requirements files, pyproject.toml, package.json or go.mod."""
    out = Observations()
    seen: set[str] = set()
    for package, line in _declared(name, text):
        service = _package_service(name, package)
        if service is None or service in seen:
            continue
        seen.add(service)
        loc = Location(path=path, line=line)
        out.assets.append(DiscoveredAsset(AI_DEPENDENCY, service, asset, loc, package))
    return out


def _package_service(manifest: str, package: str) -> str | None:
    if manifest == "package.json":
        return _npm_service(package)
    if manifest == "go.mod":
        return service_of_module(package, GO_MODULES)
    normal = re.sub(r"[-_.]+", "-", package).lower()
    return PYPI_PACKAGES.get(normal)


def _declared(name: str, text: str) -> Iterator[tuple[str, int | None]]:
    if name == "package.json":
        yield from _package_json(text)
    elif name == "pyproject.toml":
        yield from _pyproject(text)
    elif name == "go.mod":
        for number, line in enumerate(text.splitlines(), 1):
            m = _GO_REQUIRE.match(line)
            if m:
                yield m.group(1), number
    else:  # requirements*.txt, constraints*.txt
        for number, line in enumerate(text.splitlines(), 1):
            m = _REQUIREMENT.match(line)
            if m and not line.lstrip().startswith(("#", "-")):
                yield m.group(1), number


def _package_json(text: str) -> Iterator[tuple[str, int | None]]:
    try:
        data: Any = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json allows
        return
    if not isinstance(data, dict):
        return
    for section in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        deps = data.get(section)
        if isinstance(deps, dict):
            for package in deps:
                yield str(package), _line_of(text, f'"{package}"')


def _pyproject(text: str) -> Iterator[tuple[str, int | None]]:
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return
    project = _table(data, "project")
    specs: list[Any] = _array(project.get("dependencies"))
    for extra in _table(project, "optional-dependencies").values():
        specs.extend(_array(extra))
    specs.extend(_table(_table(_table(data, "tool"), "poetry"), "dependencies"))
    for spec in specs:
        m = _REQUIREMENT.match(spec) if isinstance(spec, str) else None
        if m:
            yield m.group(1), _line_of(text, m.group(1))


def _table(table: dict[str, Any], key: str) -> dict[str, Any]:
    value = table.get(key)  # a hostile file may put any type anywhere
    return value if isinstance(value, dict) else {}


def _array(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _line_of(text: str, needle: str) -> int | None:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else None
