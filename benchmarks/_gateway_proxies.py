"""The proxies under test: LiteLLM's proxy (the peer) and Garrison's gateway, set up alike.

Each gets one worker, an API key it checks, no database on the request path and the same
upstream, and each is started for its own measurements and stopped afterwards, so that an
idle proxy's background tasks never run beside the one being measured.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from _gateway_servers import Server, first_json, free_port, start
from _peer_install import PeerSpec, ensure_peer, venv_python

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
GARRISON = VENV_BIN / "garrison"
LITELLM = PeerSpec("litellm", "litellm", ("litellm[proxy]==1.108.7",))
LITELLM_MASTER_KEY = "sk-bench-master-key"
MODEL = "bench-model"


def ensure_litellm(peers: Path, skip_install: bool) -> str:
    """Install LiteLLM into its own venv under `peers`; return its version."""
    peers.mkdir(parents=True, exist_ok=True)
    return ensure_peer(peers, LITELLM, skip_install)


def litellm_config(upstream: str) -> str:
    """One model routed to the fake upstream through the OpenAI provider; a master key and
    no `database_url`, so keys are checked against the master key alone."""
    return (
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{MODEL}\n"
        f"      api_base: {upstream}\n"
        "      api_key: sk-upstream-unused\n"
        "general_settings:\n"
        f"  master_key: {LITELLM_MASTER_KEY}\n"
        "litellm_settings:\n"
        "  telemetry: false\n"
    )


def start_litellm(peers: Path, work: Path, upstream: str, cpus: set[int] | None) -> Server:
    config = work / "litellm.yaml"
    config.write_text(litellm_config(upstream), encoding="utf-8")
    port = free_port()
    python = venv_python(peers, LITELLM.name)
    cmd = [str(python.parent / "litellm"), "--config", str(config)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    # The bundled model cost map instead of a download at start-up (this machine may be
    # offline); no other setting differs from LiteLLM's defaults.
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "NO_COLOR": "1"}
    env.pop("DATABASE_URL", None)
    return start(
        "litellm",
        cmd,
        port=port,
        key=LITELLM_MASTER_KEY,
        log_path=work / "litellm.log",
        cpus=cpus,
        env=env,
    )


def garrison_missing() -> str | None:
    """Why Garrison's gateway cannot be benchmarked in this checkout, or None."""
    if not GARRISON.exists():
        return f"{GARRISON} not found: run `make` (or pip install -e '.[gateway]') first"
    for args in (["gateway", "serve", "--help"], ["keys", "create", "--help"]):
        done = subprocess.run(
            [str(GARRISON), *args], capture_output=True, text=True, check=False, timeout=60
        )
        if done.returncode != 0:
            return f"`garrison {' '.join(args[:2])}` is not available in this checkout yet"
    return None


def start_garrison(work: Path, upstream: str, cpus: set[int] | None, guarded: bool) -> Server:
    """`garrison gateway serve` with one worker and a key from `garrison keys create`."""
    name = "garrison_guarded" if guarded else "garrison"
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "garrison.db"
    db.unlink(missing_ok=True)  # a fresh store each run: one key, an empty audit log
    env = {**os.environ, "GARRISON_DB_URL": f"sqlite:///{db}", "NO_COLOR": "1"}
    policy = folder / "garrison.toml"
    policy.write_text(garrison_policy(guarded), encoding="utf-8")
    key = _create_key(env)
    port = free_port()
    cmd = [str(GARRISON), "gateway", "serve", "--upstream", upstream, "--workers", "1"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--policy", str(policy)]
    return start(name, cmd, port=port, key=key, log_path=folder / "gateway.log", cpus=cpus, env=env)


def garrison_policy(guarded: bool) -> str:
    """The `[gateway.guards]` table of garrison.toml: both stages off, or only the
    prompt-injection classifier on requests, in block mode (the other input guards, on by
    default, off)."""
    if not guarded:
        return '[gateway.guards]\ninput = "off"\noutput = "off"\n'
    return (
        "[gateway.guards]\n"
        'input = "block"\n'
        'output = "off"\n'
        "injection = true\n"
        "pii = false\n"
        "secrets = false\n"
        "smuggling = false\n"
        "links = false\n"
    )


def _create_key(env: dict[str, str]) -> str:
    cmd = [str(GARRISON), "keys", "create", "--owner", "benchmark", "--format", "json"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"garrison keys create failed: {done.stderr.strip()[-500:]}")
    return parse_key(done.stdout)


def parse_key(output: str) -> str:
    """The secret from `garrison keys create --format json` (log lines around it ignored)."""
    try:
        secret = first_json(output).get("secret")
    except ValueError:
        secret = None
    if not isinstance(secret, str) or not secret:
        raise RuntimeError(f"no secret in `garrison keys create` output: {output[:200]!r}")
    return secret
