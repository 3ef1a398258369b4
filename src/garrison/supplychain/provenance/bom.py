"""The AI bill of materials: models, datasets and Python packages as CycloneDX 1.6 JSON.

cyclonedx-python-lib has no model for `modelCard` yet, so model-card data travels as
component properties named `garrison:model:*` (the license goes in `licenses`, card tags in
`tags`), and datasets named by the card are `data` components the model depends on.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import DisjunctiveLicense, License, LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.spdx import fixup_id, is_expression
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

import garrison
from garrison.errors import UsageError
from garrison.supplychain.hf_dir import WEIGHT_SUFFIXES
from garrison.supplychain.provenance.bom_modelcard import ModelCard, read_model_card
from garrison.supplychain.provenance.manifest import Manifest, build_manifest

DATA_SUFFIXES = frozenset(
    {
        ".csv", ".tsv", ".parquet", ".jsonl", ".ndjson", ".arrow", ".feather", ".avro",
        ".orc", ".tfrecord", ".tfrecords", ".jsonl.gz", ".csv.gz", ".tsv.gz",
    }
)  # fmt: skip
MAX_REQUIREMENTS_BYTES = 4 << 20
_NAME_SEPARATORS = re.compile(r"[-_.]+")
_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")
_PIN = re.compile(r"^===?\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)$")
# What may follow a name: version clauses joined by commas (PEP 440), or a direct "@ url".
_CLAUSE = r"(?:===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+"
_SPEC = re.compile(rf"^(?:{_CLAUSE}(?:\s*,\s*{_CLAUSE})*|@.*)?$")


def build_bom(
    paths: list[Path],
    requirements: Path | None = None,
    scan_verdicts: dict[Path, dict[str, Any]] | None = None,
    signature_states: dict[Path, str] | None = None,
) -> Bom:
    """One component per path (a model, or a dataset file), the datasets its card names,
    and the Python packages of this environment or of `requirements`."""
    verdicts = _by_resolved_path(scan_verdicts or {})
    signatures = _by_resolved_path(signature_states or {})
    packages = sorted(
        requirements_packages(requirements) if requirements else environment_packages(),
        key=lambda c: str(c.bom_ref),
    )
    datasets: dict[str, Component] = {}
    assets: list[tuple[Component, list[Component]]] = []  # (component, what it depends on)
    used_refs: set[str] = set()
    for path in paths:
        manifest = build_manifest(path)
        key = path.resolve()
        properties = [*_scan_properties(verdicts.get(key)), *_signature(signatures.get(key))]
        card = read_model_card(path) if path.is_dir() else ModelCard()
        kind = "data" if _is_data(path, manifest) else "model"
        ref = _unique(f"{kind}:{manifest.model_name}@sha256:{_digest(manifest, path)}", used_refs)
        component = _asset_component(kind, manifest, path, card, ref, properties)
        if kind == "data":
            assets.append((component, []))
            continue
        named = [datasets.setdefault(n, _dataset_component(n)) for n in card.datasets]
        assets.append((component, [*named, *packages]))

    metadata = BomMetaData(tools=_garrison_tool())
    bom = Bom(metadata=metadata)
    if len(assets) == 1:
        metadata.component = assets[0][0]
    else:
        bom.components.update(component for component, _ in assets)
    bom.components.update(datasets.values())
    bom.components.update(packages)
    for component, needs in assets:
        bom.register_dependency(component, needs)
    for leaf in [*datasets.values(), *packages]:
        bom.register_dependency(leaf)
    return bom


def bom_json(bom: Bom) -> str:
    """The BOM as CycloneDX 1.6 JSON."""
    return JsonV1Dot6(bom).output_as_string(indent=2)


def validate_bom_json(text: str) -> None:
    """Check `text` against the CycloneDX 1.6 JSON schema; raise UsageError on the first error."""
    try:
        error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    except ValueError as exc:  # not JSON at all
        raise UsageError(f"not a CycloneDX 1.6 document: {exc}") from None
    if error is not None:
        detail = getattr(error.data, "message", str(error))
        where = "/".join(str(p) for p in getattr(error.data, "absolute_path", ()))
        message = " ".join(f"{detail} (at /{where})".split())
        raise UsageError(f"not a valid CycloneDX 1.6 document: {message[:300]}")


def environment_packages() -> list[Component]:
    """The installed Python distributions of the running interpreter."""
    found: dict[tuple[str, str], Component] = {}
    for dist in importlib.metadata.distributions():
        name, version = dist.metadata["Name"], dist.version
        if not name or not version:
            continue
        licenses = _package_licenses(dist.metadata)
        found.setdefault((_normalise(name), version), _package(name, version, licenses))
    return list(found.values())


def requirements_packages(path: Path) -> list[Component]:
    """The packages a requirements file names; only `==` pins carry a version."""
    found: dict[tuple[str, str], Component] = {}
    for name, spec in _requirements(_read_requirements(path), str(path)):
        pin = _PIN.match(spec)
        version = pin.group(1) if pin else ""
        component = _package(name, version, (), "" if pin or not spec else f"requires {spec}")
        found.setdefault((_normalise(name), version), component)
    return list(found.values())


def _read_requirements(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_REQUIREMENTS_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_REQUIREMENTS_BYTES:
        raise UsageError(f"{path} is larger than {MAX_REQUIREMENTS_BYTES} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text (byte {exc.start})") from None


def _requirements(text: str, where: str = "requirements") -> Iterator[tuple[str, str]]:
    """(name, version specifier) per requirement line; options, includes, editable and
    URL-only lines are skipped, markers, extras and --hash options dropped. A line that is
    none of these is refused, as pip would refuse it, rather than read as a package."""
    for number, raw in enumerate(text.replace("\\\n", " ").splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")) or "://" in line.split("@", 1)[0]:
            continue
        line = line.split(";", 1)[0].split(" --", 1)[0].strip()
        match = _REQUIREMENT.match(line)
        spec = match.group(2).strip() if match else ""
        if spec.startswith("(") and spec.endswith(")"):  # PEP 508 allows "name (>=1.0)"
            spec = spec[1:-1].strip()
        if match is None or not _SPEC.match(spec):
            raise UsageError(f"{where}:{number}: not a requirement: {raw.strip()[:80]!r}")
        yield match.group(1), "" if spec.startswith("@") else " ".join(spec.split())


def _package(
    name: str, version: str, licenses: Iterable[License], description: str = ""
) -> Component:
    purl = PackageURL(type="pypi", name=_normalise(name), version=version or None)
    return Component(
        type=ComponentType.LIBRARY,
        name=name,
        version=version or None,
        purl=purl,
        bom_ref=str(purl),
        licenses=licenses,
        description=description or None,
    )


def _package_licenses(metadata: Any) -> tuple[License, ...]:
    # License-Expression (PEP 639) is short by design; the older License field is used
    # only when it is a one-line name rather than the whole license text.
    value = metadata.get("License-Expression") or metadata.get("License") or ""
    value = value.strip()
    if not value or "\n" in value or len(value) > 100 or value.upper() == "UNKNOWN":
        return ()
    return (_license(value),)


def _license(value: str) -> License:
    spdx_id = fixup_id(value)
    if spdx_id is not None:
        return DisjunctiveLicense(id=spdx_id)
    if is_expression(value):
        return LicenseExpression(value)
    return DisjunctiveLicense(name=value)


def _normalise(name: str) -> str:
    return _NAME_SEPARATORS.sub("-", name).lower()


def _asset_component(
    kind: str,
    manifest: Manifest,
    path: Path,
    card: ModelCard,
    ref: str,
    properties: list[Property],
) -> Component:
    """A model, or a dataset fingerprinted by its bytes; a directory lists its files."""
    model = kind == "model"
    card_properties = list(_card_properties(card)) if model else []
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL if model else ComponentType.DATA,
        name=manifest.model_name,
        bom_ref=ref,
        hashes=[_sha256(_digest(manifest, path))],
        licenses=[_license(card.license)] if card.license else [],
        properties=[*card_properties, *_digest_property(path), *properties],
        components=_file_components(manifest, path, ref),
        tags=card.tags if model else (),
    )


def _dataset_component(name: str) -> Component:
    return Component(
        type=ComponentType.DATA,
        name=name,
        bom_ref=f"dataset:{name}",
        description="dataset named in a model card",
    )


def _file_components(manifest: Manifest, path: Path, parent_ref: str) -> list[Component]:
    if not path.is_dir():
        return []
    return [
        Component(
            type=ComponentType.FILE,
            name=resource.name,
            bom_ref=f"{parent_ref}/{resource.name}",
            hashes=[_sha256(resource.digest)],
        )
        for resource in manifest.resources
    ]


def _digest(manifest: Manifest, path: Path) -> str:
    # A file's own SHA-256; a directory's OpenSSF model-signing root digest.
    return manifest.root_digest if path.is_dir() else manifest.resources[0].digest


def _digest_property(path: Path) -> list[Property]:
    if not path.is_dir():
        return []
    return [Property(name="garrison:digest", value="manifest-root")]


def _sha256(digest: str) -> HashType:
    return HashType(alg=HashAlgorithm.SHA_256, content=digest)


def _card_properties(card: ModelCard) -> Iterator[Property]:
    fields: list[tuple[str, Iterable[str]]] = [
        ("architecture", card.architectures),
        ("architecture_family", (card.model_type,)),
        ("task", (card.task,)),
        ("dataset", card.datasets),
        ("base_model", card.base_models),
        ("language", card.languages),
        ("library", (card.library,)),
        ("dtype", (card.dtype,)),
        ("card_problem", card.problems),
    ]
    for name, values in fields:
        for value in values:
            if value:
                yield Property(name=f"garrison:model:{name}", value=value)


def _scan_properties(verdict: dict[str, Any] | None) -> Iterator[Property]:
    """`verdict`, `max_severity` and `findings` (a count, or a list that is counted)."""
    for key, value in sorted((verdict or {}).items()):
        if isinstance(value, list | tuple):
            value = len(value)
        if isinstance(value, bool):
            value = str(value).lower()
        if isinstance(value, str | int | float):
            yield Property(name=f"garrison:scan:{key}", value=str(value))


def _signature(state: str | None) -> list[Property]:
    return [Property(name="garrison:signature", value=state)] if state else []


def _is_data(path: Path, manifest: Manifest) -> bool:
    names = [resource.name for resource in manifest.resources]
    if path.is_file():
        return _has_suffix(path.name, DATA_SUFFIXES)
    if "config.json" in names or any(_has_suffix(n, WEIGHT_SUFFIXES) for n in names):
        return False
    return any(_has_suffix(n, DATA_SUFFIXES) for n in names)


def _has_suffix(name: str, suffixes: frozenset[str]) -> bool:
    lower = name.lower()
    return any(lower.endswith(suffix) for suffix in suffixes)


def _unique(ref: str, used: set[str]) -> str:
    """Two paths with the same name and bytes would share a bom-ref; number the second."""
    candidate, n = ref, 1
    while candidate in used:
        n += 1
        candidate = f"{ref}#{n}"
    used.add(candidate)
    return candidate


def _by_resolved_path(mapping: dict[Path, Any]) -> dict[Path, Any]:
    return {Path(path).resolve(): value for path, value in mapping.items()}


def _garrison_tool() -> ToolRepository:
    tool = Component(
        type=ComponentType.APPLICATION,
        name="garrison",
        version=garrison.__version__,
        bom_ref=f"garrison@{garrison.__version__}",
    )
    return ToolRepository(components=[tool])
