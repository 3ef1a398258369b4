"""Turn provenance.json into the docs tables and the claim checks."""

from __future__ import annotations

from typing import Any

HASH_LABELS = {
    "sha256sum": "sha256sum",
    "openssl": "openssl dgst -sha256",
    "garrison": "Garrison hash_file",
}
MEMORY_GOAL_MB = 8.0  # "a few MB" over the interpreter with the module imported


def claims(results: dict[str, Any]) -> dict[str, bool]:
    """The acceptance criteria, evaluated on this run's numbers."""
    hashed = results["hash_2gb"]
    ours = hashed["tools"]["garrison"]
    return {
        "hash_digests_match": hashed["digests_match"],
        "hash_at_least_90pct_of_sha256sum": hashed["ratio"] >= hashed["goal_ratio"],
        "hash_memory_few_mb_over_interpreter": ours["rss_over_baseline_mb"] <= MEMORY_GOAL_MB,
    }


def hash_line(hashed: dict[str, Any]) -> str:
    cells = ", ".join(
        f"{name} {row['seconds']:.2f} s {row['mb_per_s']:.0f} MB/s"
        for name, row in hashed["tools"].items()
    )
    return f"{cells}; garrison/sha256sum {hashed['ratio']:.2f}"


def dir_cells(row: dict[str, Any]) -> str:
    return "  ".join(f"{verb} {_cell(r)}" for verb, r in row.items())


def markdown(results: dict[str, Any]) -> str:
    parts = [_machine(results), _hash_table(results), _dir_table(results), _claims(results)]
    return "\n\n".join(parts) + "\n"


def _machine(results: dict[str, Any]) -> str:
    m, meta = results["machine"], results["meta"]
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    quick = " (--quick)" if meta["quick"] else ""
    return (
        f"{m['platform']}, {m['cpu']}, {m['cpus']} CPUs, SHA extensions: "
        f"{'yes' if m['sha_extensions'] else 'no'}, {m['memory_gb']} GB RAM, Python "
        f"{m['python']}{quick}. Versions: {versions}. Median of {meta['repeats']} runs."
    )


def _hash_table(results: dict[str, Any]) -> str:
    hashed = results["hash_2gb"]
    mib = hashed["bytes"] / 2**20
    head = (
        f"| hashing {mib:,.0f} MiB, page cache warm | seconds | MB/s | peak RSS MB |\n"
        "| --- | ---: | ---: | ---: |"
    )
    rows = [
        f"| {HASH_LABELS.get(name, name)} | {_seconds(row)} | {row['mb_per_s']:.0f} | "
        f"{row['peak_rss_mb']:.0f} |"
        for name, row in hashed["tools"].items()
    ]
    ours = hashed["tools"]["garrison"]
    notes = [
        f"Garrison / sha256sum throughput: {hashed['ratio']:.2f} (goal ≥ "
        f"{hashed['goal_ratio']:.2f}), wall time of each process, interpreter start included.",
        f"Inside the process, hash_file alone: {ours.get('in_process_seconds', 0):.2f} s, "
        f"{ours.get('in_process_mb_per_s', 0):.0f} MB/s.",
        f"Peak RSS {ours['peak_rss_mb']:.1f} MB against {ours['baseline_rss_mb']:.1f} MB for "
        f"the interpreter with the module imported: {ours['rss_over_baseline_mb']:.1f} MB "
        "for hashing.",
    ]
    return "\n".join([head, *rows]) + "\n\n" + "\n".join(f"- {n}" for n in notes)


def _dir_table(results: dict[str, Any]) -> str:
    data = results["directory_1000"]
    head = (
        f"| {data['files']:,} files, {data['bytes'] / 1e6:.0f} MB | sign s | verify s | "
        "sign peak RSS MB | verify peak RSS MB |\n| --- | ---: | ---: | ---: | ---: |"
    )
    rows = []
    for name, row in data["tools"].items():
        if "sign" in row:
            sign, verify = row["sign"], row["verify"]
            rows.append(
                f"| {name} | {_seconds(sign)} | {_seconds(verify)} | "
                f"{sign['peak_rss_mb']:.0f} | {verify['peak_rss_mb']:.0f} |"
            )
        else:  # a floor: hashing only, no manifest and no signature
            hashed = row["hash"]
            rows.append(
                f"| {name} (hash only) | {_seconds(hashed)} | | {hashed['peak_rss_mb']:.0f} | |"
            )
    interop = [
        f"- {name.replace('_', ' ')}: {'yes' if ok else 'NO'}"
        for name, ok in data.get("interop", {}).items()
    ]
    return "\n".join([head, *rows]) + ("\n\n" + "\n".join(interop) if interop else "")


def _claims(results: dict[str, Any]) -> str:
    return "\n".join(
        f"- {'✓' if ok else '✗ not met'}: {name.replace('_', ' ')}"
        for name, ok in results["claims"].items()
    )


def _seconds(row: dict[str, Any]) -> str:
    return f"{row['seconds']:.2f}" + (" (error)" if row.get("error") else "")


def _cell(row: dict[str, Any]) -> str:
    text = f"{row['seconds']:.2f} s / {row['peak_rss_mb']:.0f} MB"
    return text + (f" (error: {row['error']})" if row.get("error") else "")
