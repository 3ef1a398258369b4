"""`garrison test`: attack a model the way an adversary would; exit 1 when it is too weak."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from garrison.cli.errors import EXIT_FINDINGS, handle_errors
from garrison.cli.files import check_output, write_output

if TYPE_CHECKING:
    from garrison.policy import Policy
    from garrison.report.model import Report
    from garrison.robustness.data import EvalData
    from garrison.robustness.target import Classifier

test_app = typer.Typer(
    name="test",
    help="Attack a model: evasion, membership inference, extraction, inversion.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class ReportFormat(StrEnum):
    console = "console"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    html = "html"


ModelArg = Annotated[
    Path | None,
    typer.Argument(
        metavar="MODEL",
        help=".onnx, .safetensors/.pt weights (with --arch), or omit with --endpoint.",
    ),
]
DataOpt = Annotated[
    str,
    typer.Option(
        "--data", help="Evaluation data: sklearn:NAME, a .npz (x, y) or a .csv (with --label)."
    ),
]
ArchOpt = Annotated[
    str | None,
    typer.Option(
        help="Architecture for weights: garrison:small_cnn, garrison:mlp or module:function."
    ),
]
EndpointOpt = Annotated[
    str | None,
    typer.Option(help="Attack a black box over HTTP instead of a file (labels or scores only)."),
]
ProtocolOpt = Annotated[str, typer.Option(help="Endpoint protocol: json or kserve-v2.")]
EndpointModelOpt = Annotated[str, typer.Option(help="Model name in a KServe V2 URL.")]
LabelOpt = Annotated[str | None, typer.Option(help="Label column of a CSV.")]
PickleOpt = Annotated[
    bool,
    typer.Option(
        "--allow-pickle", help="Load a scikit-learn pickle whose scan is clean (runs its code)."
    ),
]
FormatOpt = Annotated[ReportFormat, typer.Option("--format", "-f", help="Report format.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")]
PolicyOpt = Annotated[
    Path | None, typer.Option("--policy", help="garrison.toml with [robustness] thresholds.")
]
DebugOpt = Annotated[bool, typer.Option(help="Show tracebacks and debug logs.")]


@dataclass(frozen=True, slots=True)
class _TargetSpec:
    """Where the attacked model comes from: a file (with --arch), or an endpoint over HTTP."""

    model: Path | None
    arch: str | None
    endpoint: str | None = None
    protocol: str = "json"
    endpoint_model: str = "model"
    allow_pickle: bool = False

    @property
    def name(self) -> str:
        return str(self.model or self.endpoint)


def _target(spec: _TargetSpec, data: EvalData, policy: Policy, report: Report) -> Classifier | None:
    """The target, or None when its scan refused it (the findings are then in `report`)."""
    from garrison.errors import UsageError
    from garrison.robustness.load import ModelRefused, load_target

    if spec.endpoint is not None:
        if spec.model is not None:
            raise UsageError("give a MODEL file or --endpoint, not both")
        from garrison.robustness.remote import HttpEndpoint, endpoint_classifier

        endpoint = HttpEndpoint(spec.endpoint, spec.protocol, spec.endpoint_model)
        return endpoint_classifier(endpoint, data.n_classes)
    if spec.model is None:
        raise UsageError("give a MODEL file, or --endpoint URL")
    shape = data.x.shape[1:]
    n_features = int(__import__("numpy").prod(shape))
    try:
        return load_target(
            spec.model, data.n_classes, policy, spec.arch, n_features, spec.allow_pickle, shape
        )
    except ModelRefused as exc:
        report.findings.extend(exc.findings)
        return None


def _check_accepts(target: Classifier, data: EvalData) -> None:
    """One small prediction first, so a model and data that do not fit is the user's mistake
    named in shapes, not an error from deep inside an attack."""
    from garrison.errors import GarrisonError, UsageError

    per_sample = "x".join(str(d) for d in data.x.shape[1:])
    try:
        proba = target.predict_proba(data.x[:2])
    except GarrisonError:
        raise
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise UsageError(
            f"the model does not accept this data ({per_sample} values a sample): {reason}"
        ) from None
    if getattr(proba, "shape", None) != (min(2, len(data.x)), data.n_classes):
        raise UsageError(
            f"the model answers with shape {getattr(proba, 'shape', '?')} for "
            f"{min(2, len(data.x))} samples; the data has {data.n_classes} classes"
        )


def finish_report(
    report: Report, fmt: ReportFormat, output: Path | None, exit_on_findings: bool = True
) -> None:
    from garrison.report import render

    output = None if output == Path("-") else output
    check_output(output)
    if fmt is ReportFormat.console and output is None:
        from garrison.report.console import print_report

        print_report(report)
        for name, numbers in report.metrics.items():
            print(f"{name}: {summarise(name, numbers)}")
    else:
        if write_output(output, render(report, fmt.value)):
            print(f"wrote {output}", file=sys.stderr)
    if report.failed and exit_on_findings:
        raise typer.Exit(EXIT_FINDINGS)


def summarise(name: str, m: dict[str, Any]) -> str:
    """One line of the measured numbers, for the console."""
    if name == "evasion":
        curve = ", ".join(
            f"{e:g}: {a:.2f}" for e, a in zip(m["epsilons"], m["accuracy"], strict=False)
        )
        return f"{m['attack']} on {m['samples']} inputs, accuracy at eps {curve}"
    if name == "privacy":
        best = m["attacks"][m["best_attack"]]
        return (
            f"best attack {m['best_attack']}: ROC AUC {best['auc']:.3f}, TPR at 0.1% FPR "
            f"{best['tpr_at_0.1%_fpr']:.3f}; train/test accuracy {m['train_accuracy']:.2f}/"
            f"{m['test_accuracy']:.2f}"
        )
    if name == "extraction":
        points = ", ".join(f"{p['queries']}: {p['fidelity']:.2f}" for p in m["points"])
        reached = m.get("queries_to_target")
        tail = f"; {m['fidelity_target']:.0%} after {reached} queries" if reached else ""
        return f"fidelity by queries {points}{tail}"
    if name == "inversion":
        return (
            f"mean similarity to the class mean {m['mean_similarity']:.2f}, "
            f"{m['identifiable']} class(es) identifiable"
        )
    return _data_summary(name, m)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _data_summary(name: str, m: dict[str, Any]) -> str:
    """The numbers of `garrison data check`, one line per check."""
    if name == "seconds":
        return ", ".join(f"{k} {v:.1f} s" for k, v in m.items())
    if name == "schema":
        return (
            f"{m['rows']:,} rows; missing columns {m['missing_columns'] or 'none'}, unexpected "
            f"{m['unexpected_columns'] or 'none'}; {m['malformed_rows']} malformed row(s)"
        )
    if name == "drift":
        return (
            f"drifted columns {m['drifted'] or 'none'}; label distance "
            f"{_num(m['label_distance'])}; "
            f"{m['outliers']['count']} outlier row(s)"
        )
    if name == "duplicates":
        near = sum(v.get("count", 0) for v in m.get("near_duplicates", {}).values())
        return f"{m.get('exact_duplicates', 0)} exact and {near} near duplicate row(s)"
    if name == "pii":
        if not m:
            return "none found"
        return "; ".join(f"{col}: {v['flagged_rows']} row(s) {v['kinds']}" for col, v in m.items())
    if name == "labels":
        if m.get("model") == "none" and m.get("note"):
            return f"not checked: {m['note']}"
        note = f"; {m['note']}" if m.get("note") else ""
        return (
            f"{m['label_issues']} likely mislabelled, {m['class_outliers']} class outlier(s) "
            f"({m['model']}{note})"
        )
    if name == "backdoor":
        return f"{m['flagged']} sample(s) flagged ({m['rule']})"
    if name == "redteam":
        rates = ", ".join(
            f"{family} {v['successes']}/{v['answered']}" for family, v in m["families"].items()
        )
        errors = f"; errors {m['errors']}" if m.get("errors") else ""
        return f"successful attacks by family: {rates}{errors}"
    return str(m)[:300]


# An analysis result (with `findings(policy, asset)` and `to_dict()`) and its chart (PNG, caption).
Outcome = tuple[Any, tuple[bytes, str]]
Extra = TypeVar("Extra")


def _attack(
    name: str,
    spec: _TargetSpec,
    policy: Policy,
    load: Callable[[], tuple[EvalData, Extra]],
    analyse: Callable[[Classifier, EvalData, Extra], Outcome],
    fmt: ReportFormat,
    output: Path | None,
) -> None:
    """The flow every `garrison test` command shares, timed from the first data loaded.

    `load` returns the data the target is built on and whatever else `analyse` needs; a model
    its scan refused is not analysed, and the report then holds the scan's findings.
    """
    import time

    from garrison.report.model import Report

    check_output(None if output == Path("-") else output)  # before minutes of attack
    report = Report(command=f"test {name}", targets=[spec.name], fail_on=policy.fail_on)
    started = time.perf_counter()
    data, extra = load()
    target = _target(spec, data, policy, report)
    if target is not None and spec.endpoint is None:
        _check_accepts(target, data)
    if target is not None:
        result, chart = analyse(target, data, extra)
        _add_result(report, policy, name, result, _asset(spec), chart)
    report.duration_s = time.perf_counter() - started
    finish_report(report, fmt, output)


def _add_result(
    report: Report, policy: Policy, name: str, result: Any, asset: Any, chart: tuple[bytes, str]
) -> None:
    """One analysis into the report: its findings, its numbers, its chart (PNG, caption)."""
    from garrison.report.model import Artifact

    report.findings.extend(result.findings(policy, asset))
    report.metrics[name] = result.to_dict()
    png, caption = chart
    report.artifacts.append(Artifact(f"{name}.png", "image/png", png, caption))


def _policy(policy_file: Path | None) -> Policy:
    from garrison.policy import load_policy

    return load_policy(policy_file)


def _asset(spec: _TargetSpec) -> Any:
    from garrison.assets import Asset

    if spec.model is not None:
        return Asset.from_path(spec.model)
    return Asset(uri=spec.endpoint or "", kind="endpoint")


def _load(spec: str, label: str | None) -> EvalData:
    from garrison.robustness.data import load_data

    return load_data(spec, label)


@test_app.command("evasion")
@handle_errors
def evasion_command(
    model: ModelArg = None,
    data: DataOpt = "sklearn:digits",
    label: LabelOpt = None,
    arch: ArchOpt = None,
    endpoint: EndpointOpt = None,
    protocol: ProtocolOpt = "json",
    endpoint_model: EndpointModelOpt = "model",
    allow_pickle: PickleOpt = False,
    epsilon: Annotated[
        float | None, typer.Option(help="Attack budget (default: the policy's).")
    ] = None,
    norm: Annotated[str, typer.Option(help="inf or 2.")] = "inf",
    attack: Annotated[str, typer.Option(help="auto, pgd, fgsm, square or hopskipjump.")] = "auto",
    samples: Annotated[int, typer.Option(min=1, help="Inputs attacked.")] = 500,
    policy_file: PolicyOpt = None,
    fmt: FormatOpt = ReportFormat.console,
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Evasion: accuracy under attack against epsilon (a robustness curve)."""
    from garrison.robustness.evasion import curve_png, evaluate_evasion

    policy = _policy(policy_file)
    if epsilon is not None:
        policy = policy.model_copy(
            update={"robustness": policy.robustness.model_copy(update={"epsilon": epsilon})}
        )

    def analyse(target: Classifier, eval_data: EvalData, _: None) -> Outcome:
        eps = policy.robustness.epsilon
        curve = sorted({round(f * eps, 6) for f in (0, 0.25, 0.5, 1, 2, 3)})
        result = evaluate_evasion(
            target, eval_data, curve, norm=norm, attack=attack, max_samples=samples
        )
        return result, (curve_png(result), "accuracy against epsilon")

    spec = _TargetSpec(model, arch, endpoint, protocol, endpoint_model, allow_pickle)
    _attack("evasion", spec, policy, lambda: (_load(data, label), None), analyse, fmt, output)


@test_app.command("privacy")
@handle_errors
def privacy_command(
    model: ModelArg = None,
    members: Annotated[
        str, typer.Option(help="Records the model was trained on (same forms as --data).")
    ] = "",
    non_members: Annotated[
        str, typer.Option(help="Records it never saw, from the same distribution.")
    ] = "",
    shadow_data: Annotated[
        str | None, typer.Option(help="Extra records to train shadow models on (needs --arch).")
    ] = None,
    shadow_epochs: Annotated[int, typer.Option(min=1, help="Epochs of each shadow model.")] = 30,
    label: LabelOpt = None,
    arch: ArchOpt = None,
    endpoint: EndpointOpt = None,
    protocol: ProtocolOpt = "json",
    endpoint_model: EndpointModelOpt = "model",
    allow_pickle: PickleOpt = False,
    policy_file: PolicyOpt = None,
    fmt: FormatOpt = ReportFormat.console,
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Membership inference: can an attacker tell training records from unseen ones?"""
    from garrison.errors import UsageError
    from garrison.robustness.privacy import membership_inference, roc_png

    if not members or not non_members:
        raise UsageError("give --members (training records) and --non-members (unseen records)")

    def load() -> tuple[EvalData, EvalData]:
        inside, outside = _load(members, label), _load(non_members, label)
        if inside.x.shape[1:] != outside.x.shape[1:]:
            raise UsageError(
                f"--members samples have shape {inside.x.shape[1:]} but --non-members "
                f"{outside.x.shape[1:]}; both must be records of the same kind"
            )
        return inside, outside

    def analyse(target: Classifier, inside: EvalData, outside: EvalData) -> Outcome:
        shadow = _load(shadow_data, label) if shadow_data else None
        factory = _shadow_factory(arch, inside, shadow_epochs) if shadow is not None else None
        result = membership_inference(
            target, inside, outside, shadow_data=shadow, shadow_factory=factory
        )
        return result, (roc_png(result), "membership-inference ROC")

    spec = _TargetSpec(model, arch, endpoint, protocol, endpoint_model, allow_pickle)
    _attack("privacy", spec, _policy(policy_file), load, analyse, fmt, output)


def _shadow_factory(arch: str | None, data: EvalData, epochs: int) -> Any:
    from garrison.errors import UsageError

    if arch is None:
        raise UsageError("shadow models need --arch, to train copies of the target's architecture")

    def factory(train: EvalData) -> Classifier:
        import numpy as np

        from garrison.robustness.load import build_module
        from garrison.robustness.models import fit

        module = build_module(arch, data.n_classes, int(np.prod(data.x.shape[1:])))
        return fit(module, train, epochs=epochs)

    return factory


@test_app.command("extraction")
@handle_errors
def extraction_command(
    model: ModelArg = None,
    data: Annotated[
        str,
        typer.Option(
            "--data", help="Held-out inputs to measure agreement on (sklearn:NAME, .npz, .csv)."
        ),
    ] = "sklearn:digits",
    pool: Annotated[
        str | None, typer.Option(help="Inputs the attacker may query (default: half of --data).")
    ] = None,
    budgets: Annotated[
        str, typer.Option(help="Query budgets, comma-separated.")
    ] = "50,100,200,500,1000,2000,5000",
    label: LabelOpt = None,
    arch: ArchOpt = None,
    endpoint: EndpointOpt = None,
    protocol: ProtocolOpt = "json",
    endpoint_model: EndpointModelOpt = "model",
    allow_pickle: PickleOpt = False,
    policy_file: PolicyOpt = None,
    fmt: FormatOpt = ReportFormat.console,
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Extraction: how many queries it takes to copy the model (fidelity against budget)."""
    from garrison.errors import UsageError
    from garrison.robustness.extraction import curve_png, extraction_curve

    try:
        budget_list = tuple(sorted({int(b) for b in budgets.split(",") if b.strip()}))
    except ValueError:
        raise UsageError(f"--budgets wants integers separated by commas, not {budgets!r}") from None
    if not budget_list or budget_list[0] < 1:
        raise UsageError("--budgets must be positive integers")

    def load() -> tuple[EvalData, EvalData]:
        """(held-out inputs, the attacker's query pool)."""
        test_data = _load(data, label)
        if pool is None:
            pool_data, test_data = test_data.split(0.5)
        else:
            pool_data = _load(pool, label)
        return test_data, pool_data

    def analyse(target: Classifier, test_data: EvalData, pool_data: EvalData) -> Outcome:
        result = extraction_curve(target, pool_data, test_data, budgets=budget_list)
        return result, (curve_png(result), "fidelity against queries")

    spec = _TargetSpec(model, arch, endpoint, protocol, endpoint_model, allow_pickle)
    _attack("extraction", spec, _policy(policy_file), load, analyse, fmt, output)


@test_app.command("inversion")
@handle_errors
def inversion_command(
    model: ModelArg = None,
    data: DataOpt = "sklearn:digits",
    label: LabelOpt = None,
    arch: ArchOpt = None,
    steps: Annotated[int, typer.Option(min=1, help="Optimisation steps per class.")] = 300,
    policy_file: PolicyOpt = None,
    fmt: FormatOpt = ReportFormat.console,
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Inversion: reconstruct a representative input of each class from the model."""
    from garrison.robustness.inversion import grid_png, invert_classes

    def analyse(target: Classifier, eval_data: EvalData, _: None) -> Outcome:
        from garrison.errors import UsageError
        from garrison.robustness.target import TorchClassifier

        if not isinstance(target, TorchClassifier):
            raise UsageError("inversion needs a differentiable PyTorch model (weights with --arch)")
        result = invert_classes(target, eval_data, steps=steps)
        return result, (grid_png(result), "reconstructions next to class means")

    spec, policy = _TargetSpec(model, arch), _policy(policy_file)
    _attack("inversion", spec, policy, lambda: (_load(data, label), None), analyse, fmt, output)
