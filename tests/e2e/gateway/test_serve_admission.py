"""Model admission in `garrison gateway serve`: with require_approved, a model is served once
`garrison models approve` has approved the artifact its name maps to."""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

import openai
import pytest
from typer.testing import CliRunner

from garrison.cli.main import app
from garrison.supplychain.provenance.manifest import build_manifest
from tests.e2e.gateway.harness import GUARDS_OFF, create_key, gateway_serve
from tests.unit.gateway.fakes import Seen, fake_upstream, serving

REFRESH_S = 0.5


def tiny_model(folder: Path) -> Path:
    """A one-tensor safetensors model: header length, JSON header, eight zero bytes."""
    folder.mkdir()
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + bytes(8))
    return folder


def test_an_unapproved_model_is_403_until_it_is_approved(tmp_path: Path) -> None:
    model = tiny_model(tmp_path / "llama")
    digest = build_manifest(model).root_digest
    db = f"sqlite:///{tmp_path / 'garrison.db'}"
    secret = create_key(db)
    policy = (
        f"[gateway]\nrequire_approved = true\nrefresh_s = {REFRESH_S}\n"
        f'models = {{ "llama-3-8b" = "sha256:{digest}" }}\n{GUARDS_OFF}'
    )
    with (
        serving(fake_upstream(Seen())) as upstream,
        gateway_serve(tmp_path, f"{upstream}/v1", db=db, policy=policy) as gateway,
    ):
        client = openai.OpenAI(
            base_url=f"{gateway.base}/v1", api_key=secret, max_retries=0, timeout=10
        )
        ask = [{"role": "user", "content": "hi"}]
        for name in ("llama-3-8b", "mistral-7b"):  # not yet approved; not configured at all
            with pytest.raises(openai.PermissionDeniedError) as raised:
                client.chat.completions.create(model=name, messages=ask)
            assert raised.value.code == "model_not_approved"
        assert [m.id for m in client.models.list()] == []

        approve = ["models", "approve", str(model), "--owner", "ml", "--risk-tier", "minimal"]
        approved = CliRunner().invoke(app, [*approve, "--db", db])
        assert approved.exit_code == 0, approved.stderr
        started = time.monotonic()
        while True:
            try:
                answer = client.chat.completions.create(model="llama-3-8b", messages=ask)
                break
            except openai.PermissionDeniedError:
                assert time.monotonic() - started < REFRESH_S + 2, "approval not picked up"
                time.sleep(0.05)
        assert answer.choices[0].message.content == "Hello world"
        assert [m.id for m in client.models.list()] == ["llama-3-8b"]
        with pytest.raises(openai.PermissionDeniedError):
            client.chat.completions.create(model="mistral-7b", messages=ask)
