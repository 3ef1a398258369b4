"""Model-testing benchmark: attacks, privacy audits and hardening against their goals.

Runs the evasion (with the Adversarial Robustness Toolbox side by side), membership-
inference / DP-SGD, and extraction / inversion sections in one process, checks the issue's
claims on this run's numbers, and writes benchmarks/results/robustness.json. Usage:

    .venv/bin/python benchmarks/robustness.py [--quick]
    .venv/bin/python benchmarks/robustness.py --tables   # markdown from the JSON
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import _robustness_evasion as evasion
import _robustness_extraction as extraction
import _robustness_privacy as privacy

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "robustness.json"

log = logging.getLogger("robustness")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer epochs and samples")
    parser.add_argument("--tables", action="store_true", help="print markdown from the JSON")
    parser.add_argument("--output", default=str(RESULTS), help="where to write the JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    out = Path(args.output)
    if args.tables:
        sys.stdout.write(markdown(json.loads(out.read_text(encoding="utf-8"))))
        return 0
    results: dict[str, Any] = {"machine": _machine(), "quick": args.quick}
    for name, section in (("evasion", evasion), ("privacy", privacy), ("extraction", extraction)):
        log.info("running %s", name)
        started = time.perf_counter()
        results[name] = section.run(args.quick)
        results[name]["wall_seconds"] = round(time.perf_counter() - started, 2)
    log.info("running evasion on the standardised CNN")
    started = time.perf_counter()
    results["evasion_standardised"] = evasion.run(args.quick, standardised=True)
    results["evasion_standardised"]["wall_seconds"] = round(time.perf_counter() - started, 2)
    log.info("running dp_digits")
    results["dp_digits"] = dp_digits(args.quick)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")  # kept if claims fail
    results["claims"] = claims(results)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(markdown(results))
    log.info("wrote %s", out)
    return 0


def dp_digits(quick: bool) -> dict[str, Any]:
    """DP-SGD where there is enough data to learn: the digits CNN at epsilon 3, with its
    accuracy and membership-inference AUC before and after."""
    import torch

    from garrison.robustness.data import load_bundled
    from garrison.robustness.harden_dp import dp_training
    from garrison.robustness.models import small_cnn

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train, test = load_bundled("digits").split(0.7)
        result = dp_training(
            lambda: small_cnn(10), train, test, target_epsilon=3.0, epochs=6 if quick else 20
        )
    finally:
        torch.set_num_threads(threads)
    numbers = result.to_dict()
    numbers.pop("module", None)
    return numbers


def claims(r: dict[str, Any]) -> dict[str, bool]:
    ev, pr, ex = r["evasion"], r["privacy"], r["extraction"]
    hardened = ev["adversarial_training"]
    return {
        "undefended_clean_over_95pct": ev["clean_accuracy"] > 0.95,
        "pgd_eps_0.1_under_10pct": ev["pgd"]["garrison"]["accuracy"] < 0.10,
        "adversarial_training_gains_30_points": hardened["gain"] >= 0.30,
        "adversarial_training_clean_over_85pct": hardened["after"]["clean"] > 0.85,
        "membership_auc_overfit_at_least_0.75": pr["overfit"]["best_auc"] >= 0.75,
        "membership_auc_dp_at_most_0.55": pr["dp"]["best_auc"] <= 0.55,
        "dp_epsilon_at_most_3": pr["dp"]["epsilon"] <= 3.0,
        "extraction_reaches_90pct_fidelity": ex["extraction"]["queries_to_fidelity"] is not None,
        "pgd_within_2_points_of_art": ev["pgd"]["success_gap_points"] <= 2.0,
        **_evasion_claims("standardised_cnn", r.get("evasion_standardised")),
    }


def _second_model(ev: dict[str, Any] | None) -> list[str]:
    if ev is None:
        return []
    pgd, hardened = ev["pgd"], ev["adversarial_training"]
    return [
        f"The same CNN behind a per-pixel z-score: clean {ev['clean_accuracy']:.3f}, PGD eps 0.1 "
        f"accuracy {pgd['garrison']['accuracy']:.3f} (ART {pgd['art']['accuracy']:.3f}, "
        f"{pgd['success_gap_points']:.2f} points apart); adversarial training "
        f"{hardened['before']['adversarial']:.3f} -> {hardened['after']['adversarial']:.3f}, "
        f"clean {hardened['before']['clean']:.3f} -> {hardened['after']['clean']:.3f}.",
        "",
    ]


def _evasion_claims(prefix: str, ev: dict[str, Any] | None) -> dict[str, bool]:
    """The evasion claims for a second model, when the run has one."""
    if ev is None:
        return {}
    hardened = ev["adversarial_training"]
    return {
        f"{prefix}_clean_over_95pct": ev["clean_accuracy"] > 0.95,
        f"{prefix}_pgd_eps_0.1_under_10pct": ev["pgd"]["garrison"]["accuracy"] < 0.10,
        f"{prefix}_adversarial_training_gains_30_points": hardened["gain"] >= 0.30,
        f"{prefix}_adversarial_training_clean_over_85pct": hardened["after"]["clean"] > 0.85,
        f"{prefix}_pgd_within_2_points_of_art": ev["pgd"]["success_gap_points"] <= 2.0,
    }


def markdown(r: dict[str, Any]) -> str:
    ev, pr, ex = r["evasion"], r["privacy"], r["extraction"]
    pgd, hardened = ev["pgd"], ev["adversarial_training"]
    curve = ev["pgd_curve"]
    lines = [
        f"{r['machine']['summary']}{' (--quick)' if r['quick'] else ''}",
        "",
        "| evasion, digits small CNN | Garrison | ART |",
        "| --- | ---: | ---: |",
        f"| clean accuracy | {ev['clean_accuracy']:.3f} | |",
        _row("PGD-Linf eps 0.1 accuracy", pgd, "accuracy"),
        _row("PGD success rate", pgd, "success_rate"),
        _row("PGD seconds", pgd, "seconds"),
        "",
        "Accuracy against eps: "
        + ", ".join(
            f"{e:g}: {a:.3f}" for e, a in zip(curve["epsilons"], curve["accuracy"], strict=False)
        ),
        "",
        f"Adversarial training (eps 0.1): PGD accuracy {hardened['before']['adversarial']:.3f} -> "
        f"{hardened['after']['adversarial']:.3f}, clean {hardened['before']['clean']:.3f} -> "
        f"{hardened['after']['clean']:.3f}.",
        "",
        *_second_model(r.get("evasion_standardised")),
        f"Membership inference: over-fit model best AUC {pr['overfit']['best_auc']:.3f}; DP-SGD "
        f"(eps {pr['dp']['epsilon']:.2f}) best AUC {pr['dp']['best_auc']:.3f}, test accuracy "
        f"{pr['dp']['test_accuracy']:.3f}.",
        "",
        _dp_line(r.get("dp_digits")),
        "",
        f"Extraction of a {ex['extraction']['target']}: fidelity "
        + ", ".join(
            f"{p['queries']} queries {p['fidelity']:.3f}" for p in ex["extraction"]["curve"]
        )
        + f"; 90% reached after {ex['extraction']['queries_to_fidelity']} queries.",
        f"Inversion of a {ex['inversion']['target']}: mean centred similarity to the own class "
        f"mean {ex['inversion']['mean_similarity']:.3f} (other classes "
        f"{ex['inversion']['mean_other_similarity']:.3f}), "
        f"{ex['inversion']['identifiable']}/{ex['inversion']['classes']} classes identifiable.",
        "",
    ]
    lines += [f"- {'✓' if ok else '✗'} {name}" for name, ok in r["claims"].items()]
    return "\n".join(lines) + "\n"


def _dp_line(dp: dict[str, Any] | None) -> str:
    if not dp:
        return ""
    before, after = dp["before"], dp["after"]
    return (
        f"DP-SGD on the digits CNN (eps {dp['epsilon']:.2f}, delta {dp['delta']:.1e}): "
        "test accuracy "
        f"{before['test_accuracy']:.3f} -> {after['test_accuracy']:.3f}, membership AUC "
        f"{before['membership_auc']:.3f} -> {after['membership_auc']:.3f}."
    )


def _row(label: str, compared: dict[str, Any], key: str) -> str:
    return f"| {label} | {compared['garrison'][key]:.3f} | {compared['art'][key]:.3f} |"


def _machine() -> dict[str, Any]:
    import torch

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = {"torch": torch.__version__}
    try:
        import art

        versions["adversarial-robustness-toolbox"] = art.__version__
    except ImportError:
        pass
    summary = (
        f"{platform.system()} {platform.machine()}, {cpus} CPUs, Python "
        f"{platform.python_version()}, " + ", ".join(f"{k} {v}" for k, v in versions.items())
    )
    return {
        "cpus": cpus,
        "python": platform.python_version(),
        "versions": versions,
        "summary": summary,
    }


if __name__ == "__main__":
    raise SystemExit(main())
