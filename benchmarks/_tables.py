"""Turn supplychain.json into the console summary, the docs tables and the claim checks."""

from __future__ import annotations

from typing import Any

PEERS = ("modelscan", "picklescan", "fickling", "modelaudit")
CASES = {
    "safetensors_large": "2 GB safetensors (256 tensors)",
    "pytorch_large": "2 GB PyTorch checkpoint (torch.save)",
    "small_pickles": "1,000 small pickles",
    "mixed_corpus": "mixed corpus",
}


def one_line(row: dict[str, Any]) -> str:
    return (
        f"detected={row['detected']} fp={len(row['false_positives'])} "
        f"errors={len(row['errors'])} {row['seconds']}s {row['peak_rss_mb']}MB"
    )


def claims(results: dict[str, Any]) -> dict[str, bool]:
    """The acceptance criteria, evaluated on this run's numbers."""
    tools = results["corpus"]["tools"]
    ours = tools["garrison"]
    scale = results["scale"]
    out: dict[str, bool] = {}
    for peer in PEERS:
        out[f"detects_more_than_{peer}"] = ours["detected"] > tools[peer]["detected"]
        out[f"no_more_false_positives_than_{peer}"] = len(ours["false_positives"]) <= len(
            tools[peer]["false_positives"]
        )
    for case in ("safetensors_large", "pytorch_large"):
        g = scale[case]["tools"]["garrison"]
        out[f"{case}_under_0.5s_100MB"] = g["seconds"] < 0.5 and g["peak_rss_mb"] < 100
    mixed = scale["mixed_corpus"]["tools"]
    out["mixed_20x_faster_than_modelaudit"] = (
        mixed["garrison"]["seconds"] * 20 <= mixed["modelaudit"]["seconds"]
    )
    out["mixed_no_slower_than_modelscan"] = (
        mixed["garrison"]["seconds"] <= mixed["modelscan"]["seconds"]
    )
    small = scale["small_pickles"]["tools"]  # ModelAudit is not run on this case
    out["pickles_5x_faster_than_modelscan"] = (
        small["garrison"]["seconds"] * 5 <= small["modelscan"]["seconds"]
    )
    return out


def console(results: dict[str, Any]) -> str:
    corpus = results["corpus"]
    lines = [
        f"\ncorpus: {corpus['malicious']} malicious, {corpus['benign']} benign",
        f"{'tool':<11}{'version':<9}{'detected':>9}{'FP':>5}{'errors':>7}{'seconds':>9}{'MB':>7}",
    ]
    for name, row in corpus["tools"].items():
        version = results["meta"]["versions"].get(name, "?")
        lines.append(
            f"{name:<11}{version:<9}{row['detected']:>9}{len(row['false_positives']):>5}"
            f"{len(row['errors']):>7}{row['seconds']:>9.1f}{row['peak_rss_mb']:>7.0f}"
        )
    for case, data in results["scale"].items():
        cells = "  ".join(f"{name} {_cell(row)}" for name, row in data["tools"].items())
        lines.append(f"{case} ({data['files']} files): {cells}")
    failed = [name for name, ok in results.get("claims", {}).items() if not ok]
    lines.append("claims: all hold" if not failed else f"claims NOT met: {', '.join(failed)}")
    return "\n".join(lines) + "\n"


def markdown(results: dict[str, Any]) -> str:
    parts = [_accuracy_table(results), _by_format(results), _scale_table(results)]
    return "\n\n".join([*parts, claims_list(results), _misses(results)]) + "\n"


def claims_list(results: dict[str, Any]) -> str:
    """The acceptance claims as a checklist, each with the figures it rests on."""
    lines = []
    for name, ok in results["claims"].items():
        mark = "✓" if ok else "✗ not met"
        lines.append(f"- {mark}: {name.replace('_', ' ')} ({_claim_detail(name, results)})")
    return "\n".join(lines)


def _claim_detail(name: str, results: dict[str, Any]) -> str:
    tools = results["corpus"]["tools"]
    ours = tools["garrison"]
    peer = name.rsplit("_", 1)[-1]
    if name.startswith("detects_more_than"):
        return f"{ours['detected']} vs {tools[peer]['detected']}"
    if name.startswith("no_more_false_positives"):
        return f"{len(ours['false_positives'])} vs {len(tools[peer]['false_positives'])}"
    cases = list(results["scale"])
    case = next((c for c in cases if c.split("_")[0] in name), None)
    case = case or next(c for c in cases if c.split("_")[-1] in name)  # pickles_5x_faster...
    detail = _speed_detail(results["scale"][case]["tools"])
    floor = results["scale"][case].get("floor")
    if floor:  # what a bare pure-Python opcode walk costs on the same files
        detail += f"; floor: python + pickletools.genops alone {floor['seconds']:.2f} s"
    startup = results["scale"][case].get("startup")
    if startup:
        detail += "; " + scanning_detail(results["scale"][case]["tools"], startup)
    return detail


def scanning_detail(row: dict[str, Any], startup: dict[str, float]) -> str:
    """Each tool's time less its own start-up on an empty directory."""
    spent = {
        tool: max(row[tool]["seconds"] - first, 0.001)
        for tool, first in startup.items()
        if "seconds" in row.get(tool, {})
    }
    cells = ", ".join(f"{tool} {startup[tool]:.2f} s + {spent[tool]:.3f} s" for tool in spent)
    ratio = ""
    if "garrison" in spent and "modelscan" in spent:
        ratio = f"; scanning alone {spent['modelscan'] / spent['garrison']:.1f}x modelscan"
    return f"start-up + scanning: {cells}{ratio}"


def _speed_detail(row: dict[str, Any]) -> str:
    return ", ".join(
        f"{tool} {r['seconds']:.2f} s / {r['peak_rss_mb']:.0f} MB"
        for tool, r in row.items()
        if "seconds" in r
    )


def _by_format(results: dict[str, Any]) -> str:
    """Malicious files detected, per corpus format, per tool."""
    tools = list(results["corpus"]["tools"])
    counts: dict[str, dict[str, int]] = {}
    for row in results["corpus"]["files"]:
        if not row["malicious"]:
            continue
        cell = counts.setdefault(row["format"], {"total": 0} | dict.fromkeys(tools, 0))
        cell["total"] += 1
        for tool in tools:
            cell[tool] += row["verdicts"][tool].split(" ")[0] in ("high", "critical")
    head = (
        "| format | malicious | " + " | ".join(tools) + " |\n| --- |" + " ---: |" * (len(tools) + 1)
    )
    rows = [
        f"| {fmt} | {c['total']} | " + " | ".join(str(c[t]) for t in tools) + " |"
        for fmt, c in sorted(counts.items(), key=lambda item: -item[1]["total"])
    ]
    return "\n".join([head, *rows])


def _accuracy_table(results: dict[str, Any]) -> str:
    corpus = results["corpus"]
    head = (
        f"| tool | version | detected (of {corpus['malicious']}) | false positives "
        f"(of {corpus['benign']}) | errors | seconds | peak RSS MB |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
    )
    rows = [
        f"| {name} | {results['meta']['versions'].get(name, '?')} | {row['detected']} | "
        f"{len(row['false_positives'])} | {len(row['errors'])} | {row['seconds']:.1f} | "
        f"{row['peak_rss_mb']:.0f} |"
        for name, row in corpus["tools"].items()
    ]
    return "\n".join([head, *rows])


def _scale_table(results: dict[str, Any]) -> str:
    tools = list(results["corpus"]["tools"])
    head = "| input | " + " | ".join(tools) + " |\n| --- |" + " ---: |" * len(tools)
    rows = []
    for case, data in results["scale"].items():
        label = CASES.get(case, case)
        if case == "mixed_corpus":
            label = f"mixed corpus ({data['files']} files)"
        cells = [_cell(data["tools"][t]) for t in tools]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join([head, *rows])


def _cell(row: dict[str, Any]) -> str:
    if "not_run" in row:
        return "not run"
    text = f"{row['seconds']:.2f} s / {row['peak_rss_mb']:.0f} MB"
    if row.get("error"):
        text += " (error)"
    elif row.get("verdict") == "skipped":
        text += " (skipped)"
    return text


def _misses(results: dict[str, Any]) -> str:
    lines = ["| tool | missed malicious files | false positives |", "| --- | --- | --- |"]
    for name, row in results["corpus"]["tools"].items():
        missed = ", ".join(f"`{i}`" for i in row["missed"]) or "none"
        fps = ", ".join(f"`{i}`" for i in row["false_positives"]) or "none"
        lines.append(f"| {name} | {missed} | {fps} |")
    return "\n".join(lines)
