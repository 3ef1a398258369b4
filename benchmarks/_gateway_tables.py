"""Turn gateway.json into the docs table and the claim checks; validate its shape."""

from __future__ import annotations

from typing import Any

# The goals of issue 8, with guards off, through one gateway worker.
P50_GOAL_MS = 2.0
P99_GOAL_MS = 10.0
THROUGHPUT_GOAL = 1000.0
# The load generator must carry at least this multiple of the fastest proxy's rate, or the
# throughput figures would measure the generator.
CEILING_MARGIN = 2.0

ARMS = ("direct", "litellm", "garrison", "garrison_guarded")
PROXIES = ARMS[1:]
LABELS = {
    "direct": "upstream, direct",
    "litellm": "LiteLLM proxy",
    "garrison": "Garrison gateway, guards off",
    "garrison_guarded": "Garrison gateway, prompt-injection guard",
}
TOP_KEYS = ("machine", "meta", "load_generator", "arms", "claims")
MEASURED_KEYS = ("latency", "throughput")


def validate(results: dict[str, Any]) -> None:
    """Raise ValueError when the results lack a field the docs and claims read."""
    missing = [k for k in TOP_KEYS if k not in results]
    if missing:
        raise ValueError(f"results lack {', '.join(missing)}")
    if set(results["arms"]) != set(ARMS):
        raise ValueError(f"arms must be exactly {', '.join(ARMS)}")
    for name, arm in results["arms"].items():
        if "skipped" in arm:
            continue
        for key in MEASURED_KEYS:
            for field in ("requests", "errors", "p50_ms", "p99_ms", "requests_per_s"):
                if field not in arm.get(key, {}):
                    raise ValueError(f"arms.{name}.{key} lacks {field}")
        if name != "direct" and "added" not in arm:
            raise ValueError(f"arms.{name} lacks added")
    if "ceiling_requests_per_s" not in results["load_generator"]:
        raise ValueError("load_generator lacks ceiling_requests_per_s")


def claims(results: dict[str, Any]) -> dict[str, bool | None]:
    """The acceptance criteria on this run's numbers; None where an arm did not run."""
    arms = results["arms"]
    ours, peer = _measured(arms["garrison"]), _measured(arms["litellm"])
    out: dict[str, bool | None] = {
        "garrison_p50_added_under_2ms": None,
        "garrison_p99_added_under_10ms": None,
        "garrison_at_least_1000_rps": None,
        "garrison_p50_added_below_litellm": None,
        "garrison_p99_added_below_litellm": None,
        "garrison_throughput_above_litellm": None,
        "guarded_gateway_blocks_an_injection": _blocks(arms["garrison_guarded"]),
        "no_errors": _no_errors(arms),
        "load_generator_not_the_bottleneck": _ceiling_ok(results),
    }
    if ours is not None:
        out["garrison_p50_added_under_2ms"] = ours["added"]["added_p50_ms"] < P50_GOAL_MS
        out["garrison_p99_added_under_10ms"] = ours["added"]["added_p99_ms"] < P99_GOAL_MS
        out["garrison_at_least_1000_rps"] = _rps(ours) >= THROUGHPUT_GOAL
    if ours is not None and peer is not None:
        for p in ("p50", "p99"):
            key = f"added_{p}_ms"
            out[f"garrison_{p}_added_below_litellm"] = ours["added"][key] < peer["added"][key]
        out["garrison_throughput_above_litellm"] = _rps(ours) > _rps(peer)
    return out


def markdown(results: dict[str, Any]) -> str:
    parts = [_machine(results), _table(results), _generator(results), _claims(results)]
    return "\n\n".join(parts) + "\n"


def one_line(name: str, arm: dict[str, Any]) -> str:
    if "skipped" in arm:
        return f"{name}: skipped ({arm['skipped']})"
    lat, thr = arm["latency"], arm["throughput"]
    added = arm.get("added", {})
    extra = f" added p50 {added['added_p50_ms']} p99 {added['added_p99_ms']}" if added else ""
    return (
        f"{name}: p50 {lat['p50_ms']} ms p99 {lat['p99_ms']} ms{extra}; "
        f"{thr['requests_per_s']} req/s at {thr['concurrency']}; errors "
        f"{lat['errors'] + thr['errors']}"
    )


def _measured(arm: dict[str, Any]) -> dict[str, Any] | None:
    return None if "skipped" in arm else arm


def _rps(arm: dict[str, Any]) -> float:
    value: float = arm["throughput"]["requests_per_s"]
    return value


def _blocks(arm: dict[str, Any]) -> bool | None:
    """The guarded arm refused the probe injection, so it measured a guard that works."""
    return None if "skipped" in arm else arm.get("injection_probe_status") in (400, 403)


def _no_errors(arms: dict[str, Any]) -> bool:
    return all(
        arm[key]["errors"] == 0
        for arm in arms.values()
        if "skipped" not in arm
        for key in MEASURED_KEYS
    )


def _ceiling_ok(results: dict[str, Any]) -> bool | None:
    rates = [_rps(a) for n, a in results["arms"].items() if n != "direct" and "skipped" not in a]
    if not rates:
        return None
    ceiling: float = results["load_generator"]["ceiling_requests_per_s"]
    return ceiling >= CEILING_MARGIN * max(rates)


def _machine(results: dict[str, Any]) -> str:
    m, meta = results["machine"], results["meta"]
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    quick = " (--quick)" if meta.get("quick") else ""
    load = m.get("load_average_before")
    busy = f", load average {load[0]:.2f} at the start" if load else ""
    return (
        f"{m['platform']}, {m['cpu']}, {m['cpus']} CPUs, {m['memory_gb']} GB RAM, Python "
        f"{m['python']}{busy}{quick}. Versions: {versions}. CPUs: {meta['pinning']}."
    )


def _table(results: dict[str, Any]) -> str:
    meta = results["meta"]
    c = meta["concurrency"]
    head = (
        f"| one worker, loopback | p50 ms | p99 ms | added p50 ms | added p99 ms "
        f"| req/s at {c} concurrent | p99 ms at {c} | proxy CPU ms/request | errors |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    rows = [head]
    for name in ARMS:
        arm = results["arms"][name]
        label = LABELS[name]
        if name == "litellm" and "version" in arm:
            label = f"LiteLLM {arm['version']} proxy"
        if "skipped" in arm:
            rows.append(f"| {label} | not run: {arm['skipped']} |" + " |" * 7)
            continue
        lat, thr, added = arm["latency"], arm["throughput"], arm.get("added")
        cpu = thr.get("server_cpu_ms_per_request")
        rows.append(
            f"| {label} | {lat['p50_ms']:.3f} | {lat['p99_ms']:.3f} "
            f"| {_added(added, 'p50')} | {_added(added, 'p99')} "
            f"| {thr['requests_per_s']:,.0f} | {thr['p99_ms']:.1f} "
            f"| {'' if cpu is None else f'{cpu:.2f}'} | {lat['errors'] + thr['errors']} |"
        )
    return "\n".join(rows)


def _added(added: dict[str, float] | None, p: str) -> str:
    return "" if added is None else f"{added[f'added_{p}_ms']:.3f}"


def _generator(results: dict[str, Any]) -> str:
    gen, meta = results["load_generator"], results["meta"]
    httpx = gen.get("httpx_ceiling_requests_per_s")
    versus = f" (httpx AsyncClient: {httpx:,.0f} req/s)" if httpx else ""
    return (
        f"Latency: {meta['latency_requests']:,} sequential requests per arm after "
        f"{meta['warmup_requests']} unmeasured ones; added latency is the proxied "
        f"percentile minus the direct one measured just before. Throughput: "
        f"{meta['concurrency']} keep-alive connections for {meta['throughput_seconds']} s. "
        f"Load generator: {gen['client']}, {gen['ceiling_requests_per_s']:,.0f} req/s "
        f"against the upstream directly{versus}."
    )


def _claims(results: dict[str, Any]) -> str:
    marks = {True: "yes", False: "NO", None: "not measured"}
    lines = [f"- {name}: {marks[value]}" for name, value in results["claims"].items()]
    return "Goals:\n" + "\n".join(lines)
