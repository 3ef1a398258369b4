"""`garrison harden`: retrain a model to resist attacks, and report before and after."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from garrison.cli.errors import handle_errors
from garrison.cli.modeltest import ArchOpt, DebugOpt, LabelOpt

if TYPE_CHECKING:
    from garrison.robustness.data import EvalData

harden_app = typer.Typer(
    name="harden",
    help="Retrain a PyTorch model: adversarial training, or differential privacy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

TrainData = Annotated[
    str,
    typer.Option("--data", help="Training data: sklearn:NAME, .npz (x, y) or .csv (with --label)."),
]
OutOpt = Annotated[
    Path, typer.Option("--output", "-o", help="Where to write the new weights (.safetensors).")
]
ReportOpt = Annotated[
    Path | None, typer.Option("--report", help="Also write the before/after numbers as JSON.")
]
EpochsOpt = Annotated[int, typer.Option(min=1, help="Training epochs.")]


def _prepare(
    data: str, label: str | None, output: Path, report: Path | None
) -> tuple[EvalData, EvalData]:
    from garrison.cli.files import check_output
    from garrison.errors import UsageError
    from garrison.robustness.data import load_data

    if output.suffix != ".safetensors":
        raise UsageError("--output must end in .safetensors (weights that cannot carry code)")
    check_output(output)  # both checked before minutes of training, not after
    check_output(report)
    train, test = load_data(data, label).split(0.7)
    return train, test


def _arch(arch: str | None, data: EvalData) -> str:
    return arch or ("garrison:small_cnn" if data.image_shape else "garrison:mlp")


def _factory(arch: str | None, data: EvalData) -> Any:
    import numpy as np

    from garrison.robustness.load import build_module

    chosen = _arch(arch, data)
    features = int(np.prod(data.x.shape[1:]))
    return lambda: build_module(chosen, data.n_classes, features)


def _save(title: str, result: Any, output: Path, report: Path | None, arch: str) -> None:
    """The retrained weights to `output`, the before/after numbers to `report` and the console.

    The architecture is said, and kept in the weights' metadata: `garrison test` needs it
    (`--arch`) to read the weights back.
    """
    from garrison.report.json import dumps
    from garrison.robustness.harden_adversarial import save_safetensors

    save_safetensors(result.module, output, arch)
    numbers = {"arch": arch, **result.to_dict()}
    if report is not None:
        from garrison.cli.files import write_output

        write_output(report, dumps(numbers))
    print(_lines(title, numbers))
    print(f"wrote {output} (architecture {arch}: pass --arch {arch} to garrison test)")


@harden_app.command("adversarial")
@handle_errors
def adversarial_command(
    output: OutOpt,
    data: TrainData = "sklearn:digits",
    label: LabelOpt = None,
    arch: ArchOpt = None,
    epsilon: Annotated[float, typer.Option(min=0.0, help="L-inf budget to train against.")] = 0.1,
    epochs: EpochsOpt = 30,
    report: ReportOpt = None,
    debug: DebugOpt = False,
) -> None:
    """PGD adversarial training; writes safetensors weights and a before/after comparison."""
    from garrison.robustness.harden_adversarial import adversarial_training

    train, test = _prepare(data, label, output, report)
    result = adversarial_training(_factory(arch, train)(), train, test, eps=epsilon, epochs=epochs)
    _save("adversarial training", result, output, report, _arch(arch, train))


@harden_app.command("dp")
@handle_errors
def dp_command(
    output: OutOpt,
    data: TrainData = "sklearn:digits",
    label: LabelOpt = None,
    arch: ArchOpt = None,
    target_epsilon: Annotated[float, typer.Option(min=0.01, help="Privacy budget epsilon.")] = 3.0,
    delta: Annotated[
        float | None, typer.Option(help="Privacy delta (default: below 1/records).")
    ] = None,
    epochs: EpochsOpt = 30,
    report: ReportOpt = None,
    debug: DebugOpt = False,
) -> None:
    """DP-SGD training through Opacus, with (epsilon, delta) accounting."""
    from garrison.robustness.harden_dp import dp_training

    train, test = _prepare(data, label, output, report)
    result = dp_training(
        _factory(arch, train),
        train,
        test,
        target_epsilon=target_epsilon,
        delta=delta,
        epochs=epochs,
    )
    _save("DP-SGD training", result, output, report, _arch(arch, train))


def _lines(title: str, numbers: dict[str, Any]) -> str:
    rows = [title]
    for key, value in numbers.items():
        if isinstance(value, dict):
            inner = ", ".join(
                f"{k} {_fmt(v)}" for k, v in value.items() if not isinstance(v, (dict, list))
            )
            rows.append(f"  {key}: {inner}")
        elif not isinstance(value, list):
            rows.append(f"  {key}: {_fmt(value)}")
    return "\n".join(rows)


def _fmt(value: Any) -> str:
    if not isinstance(value, float):
        return str(value)
    return f"{value:.3f}" if value == 0 or abs(value) >= 0.001 else f"{value:.1e}"  # delta 1e-05
