"""`garrison data`: check a batch of training data, fingerprint it, and diff two batches."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from garrison.cli.errors import EXIT_FINDINGS, handle_errors
from garrison.cli.modeltest import FormatOpt, OutputOpt, PolicyOpt, ReportFormat

if TYPE_CHECKING:
    from garrison.policy import Policy
    from garrison.store import Store

data_app = typer.Typer(
    name="data",
    help="Training data: check a batch, fingerprint it, diff two batches.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="Store URL (default: $GARRISON_DB_URL or the user data dir)."),
]
DebugOpt = Annotated[bool, typer.Option(help="Show tracebacks and debug logs.")]


@data_app.command("check")
@handle_errors
def check_command(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="CSV, Parquet, JSON lines, or an image folder.")
    ],
    label: Annotated[
        str | None, typer.Option(help="Label column: enables label, poisoning and backdoor checks.")
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option(
            help="A trusted batch: the schema is inferred from it, drift measured against it."
        ),
    ] = None,
    schema: Annotated[Path | None, typer.Option(help="Declared schema (TOML or JSON).")] = None,
    test_split: Annotated[
        Path | None, typer.Option(help="The test split: rows shared with it are leakage.")
    ] = None,
    text_column: Annotated[
        list[str] | None,
        typer.Option(help="Free-text column for near-duplicates (default: detected)."),
    ] = None,
    pred_probs: Annotated[
        Path | None,
        typer.Option(help="Your model's out-of-fold probabilities (.npy or .csv, rows x classes)."),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            help="Your model, for the backdoor check's features (scanned before loading)."
        ),
    ] = None,
    arch: Annotated[
        str | None, typer.Option(help="Architecture of --model weights (as in garrison test).")
    ] = None,
    fmt: FormatOpt = ReportFormat.console,
    output: OutputOpt = None,
    fail_on: Annotated[
        str | None, typer.Option(help="Exit 1 on findings at or above this severity.")
    ] = None,
    policy_file: PolicyOpt = None,
    record: Annotated[
        bool, typer.Option("--record", help="Write the verdict to the audit log.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show the current stage (in a terminal).")] = True,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Schema, drift, label issues, duplicates, PII and secrets, poisoning and backdoors."""
    from garrison.cli.modeltest import finish_report
    from garrison.data.check import check_dataset
    from garrison.findings import Severity
    from garrison.policy import load_policy

    policy = load_policy(policy_file)
    if fail_on is not None:
        policy = policy.model_copy(update={"fail_on": Severity.parse(fail_on)})
    texts = tuple(text_column) if text_column else None
    probs = _load_probs(pred_probs) if pred_probs is not None else None
    loader = _model_loader(model, arch, policy) if model is not None else None
    with _stages(progress and sys.stderr.isatty()) as stage:
        report = check_dataset(
            path, policy, label, reference, schema, test_split, texts, stage, probs, loader
        )
    if record:
        _record(path, report, db or policy.store_url)
    finish_report(report, fmt, output)


def _load_probs(path: Path) -> Any:
    import numpy as np

    from garrison.errors import UsageError

    try:
        if path.suffix == ".npy":
            probs = np.load(path, allow_pickle=False)
        else:
            probs = np.loadtxt(path, delimiter=",", ndmin=2)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read --pred-probs {path}: {exc}") from None
    return np.asarray(probs, dtype=np.float64)


def _model_loader(path: Path, arch: str | None, policy: Policy) -> Callable[[int, int], Any]:
    """Load the user's model once the classes and features are known: scanned first, then
    weights only, as `garrison test` does."""

    def load(n_classes: int, n_features: int) -> Any:
        from garrison.errors import UsageError
        from garrison.robustness.load import load_target
        from garrison.robustness.target import SklearnClassifier, TorchClassifier

        target = load_target(path, n_classes, policy, arch, n_features)
        if isinstance(target, TorchClassifier):
            return target.module
        if isinstance(target, SklearnClassifier):
            return target.estimator
        raise UsageError(f"{path}: the backdoor check needs a PyTorch or scikit-learn model")

    return load


@contextmanager
def _stages(enabled: bool) -> Iterator[Callable[[str], None] | None]:
    """A spinner on stderr naming the check that runs (the 1M-row checks take a while)."""
    if not enabled:
        yield None
        return
    from rich.console import Console

    with Console(stderr=True).status("reading") as status:
        yield lambda name: status.update(f"checking: {name}")


def _record(path: Path, report: object, db: str | None) -> None:
    from garrison.report.model import Report
    from garrison.store import AuditLog, database_url, open_store
    from garrison.supplychain.provenance.manifest import hash_file
    from garrison.supplychain.provenance.verdict import verdict

    assert isinstance(report, Report)
    digest = hash_file(path)[0] if path.is_file() else None
    store = open_store(db or database_url())
    try:
        AuditLog(store).append(
            "data.check", str(path), {"sha256": digest, "verdict": verdict(report)}
        )
    finally:
        store.close()


@data_app.command("fingerprint")
@handle_errors
def fingerprint_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="A table or a folder of files.")],
    key: Annotated[
        str | None, typer.Option(help="Key column: lets diff tell changed rows from added/removed.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Manifest path (default: beside the data)."),
    ] = None,
    record: Annotated[
        bool, typer.Option(help="Record the fingerprint in the store and audit log.")
    ] = True,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Content-addressed manifest: per-file SHA-256, row hashes, a Merkle root."""
    from garrison.data.fingerprint import fingerprint_dataset, record_fingerprint, write_fingerprint

    fp = write_fingerprint(fingerprint_dataset(path, key=key), output)
    line = (
        f"fingerprint {fp.root[:16]}… of {path}: {fp.rows:,} rows, {len(fp.files)} file(s) "
        f"-> {fp.manifest_path}"
    )
    if record:
        store = _store(db)
        try:
            line += f" (recorded as #{record_fingerprint(store, fp)})"
        finally:
            store.close()
    print(line)


@data_app.command("diff")
@handle_errors
def diff_command(
    old: Annotated[
        Path, typer.Argument(metavar="OLD", help="A dataset or its fingerprint manifest.")
    ],
    new: Annotated[
        Path, typer.Argument(metavar="NEW", help="A dataset or its fingerprint manifest.")
    ],
    key: Annotated[str | None, typer.Option(help="Key column, to report changed rows.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="JSON instead of text.")] = False,
    trace: Annotated[
        bool, typer.Option(help="Name the recorded fingerprint that first held each added row.")
    ] = True,
    db: DbOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Which rows were added, removed or changed between two batches."""
    from garrison.data.diff import diff_datasets, record_diff
    from garrison.report.json import dumps

    store = _store(db)
    try:
        diff = diff_datasets(old, new, key=key, store=store if trace else None)
        record_diff(store, diff)
    finally:
        store.close()
    data = diff.to_dict()
    counts = data["counts"]
    differs = bool(counts["added"] or counts["removed"] or counts["changed"])
    if json_output:
        sys.stdout.write(dumps(data))
        if differs:  # the same exit code as the text output, like diff(1)
            raise typer.Exit(EXIT_FINDINGS)
        return
    print(
        f"{old} -> {new}: {counts['added']:,} added, {counts['removed']:,} removed, "
        f"{counts['changed']:,} changed, {counts['unchanged']:,} unchanged"
    )
    for kind in ("added", "removed"):
        rows = data[kind]
        if rows:
            print(f"  {kind} rows: {', '.join(map(str, rows[:20]))}{_more(counts[kind], 20)}")
    for kind in ("columns_added", "columns_removed"):
        if data.get(kind):
            print(f"  {kind.replace('_', ' ')}: {', '.join(map(str, data[kind]))}")
    if data["changed"]:
        pairs = ", ".join(f"{c['old']}->{c['new']}" for c in data["changed"][:20])
        print(f"  changed rows (old->new): {pairs}{_more(counts['changed'], 20)}")
    seen = data.get("first_seen") or {}
    sources = {v for v in seen.values() if v is not None}
    if sources:
        ids = ", ".join(f"#{s}" for s in sorted(sources))
        print(f"  added rows first seen in recorded fingerprint(s): {ids}")
    if differs:
        raise typer.Exit(EXIT_FINDINGS)


def _more(total: int, shown: int) -> str:
    return f" … and {total - shown:,} more" if total > shown else ""


def _store(db: str | None) -> Store:
    from garrison.policy import load_policy
    from garrison.store import database_url, open_store

    return open_store(db or database_url(load_policy()))
