"""The gateway's settings: safe defaults, the [gateway] table, and what they refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.errors import PolicyError, UsageError
from garrison.gateway.config import ENV_UPSTREAM_API_KEY, GatewayConfig
from garrison.policy import Policy, load_policy

DIGEST = "ab" * 32


def test_defaults_bound_every_request() -> None:
    config = Policy().gateway
    assert config.upstream is None
    assert config.max_body_bytes == 1024 * 1024
    assert config.max_header_bytes == 16 * 1024
    assert config.max_json_depth == 32
    assert config.require_approved is False
    assert config.store_text is False
    assert config.redis_url is None


def test_reads_the_gateway_table(tmp_path: Path) -> None:
    (tmp_path / "garrison.toml").write_text(
        "[gateway]\n"
        'upstream = "http://127.0.0.1:8000/v1/"\n'
        "max_body_bytes = 2048\n"
        "require_approved = true\n"
        f'models = {{ "llama-3-8b" = "sha256:{DIGEST.upper()}" }}\n'
    )
    config = load_policy(search_from=tmp_path).gateway
    assert config.upstream == "http://127.0.0.1:8000/v1"
    assert config.max_body_bytes == 2048
    assert config.models == {"llama-3-8b": DIGEST}
    assert config.kserve_base == "http://127.0.0.1:8000"


def test_upstream_key_in_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "garrison.toml"
    path.write_text('[gateway]\nupstream_api_key = "sk-live-123"\n')
    with pytest.raises(PolicyError, match=ENV_UPSTREAM_API_KEY):
        load_policy(path)


def test_upstream_key_comes_from_the_environment() -> None:
    config = GatewayConfig(upstream="http://h/v1").with_env({ENV_UPSTREAM_API_KEY: " sk-up "})
    assert config.upstream_api_key is not None
    assert config.upstream_api_key.get_secret_value() == "sk-up"
    assert "sk-up" not in config.model_dump_json()
    assert "sk-up" not in repr(config)
    assert GatewayConfig().with_env({}).upstream_api_key is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("upstream", "ftp://host/v1"),
        ("upstream", "127.0.0.1:8000"),
        ("upstream", "http://host:99999/v1"),
        ("upstream", "http://host/v1?x=1"),
        ("redis_url", "http://localhost:6379"),
        ("models", {"m": "not-a-digest"}),
        ("max_json_depth", 1),
        ("max_body_bytes", 0),
    ],
)
def test_invalid_settings_are_refused(tmp_path: Path, field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        GatewayConfig.model_validate({field: value})


def test_kserve_upstream_can_be_set_apart() -> None:
    config = GatewayConfig(upstream="https://a.example/v1", kserve_upstream="http://b:9000/")
    assert config.kserve_base == "http://b:9000"


def test_overrides_are_validated_with_a_one_line_error() -> None:
    config = GatewayConfig().with_env({ENV_UPSTREAM_API_KEY: "sk-up"})
    updated = config.updated(upstream="http://127.0.0.1:9000/v1", redis_url=None)
    assert updated.upstream == "http://127.0.0.1:9000/v1"
    assert updated.upstream_api_key == config.upstream_api_key
    with pytest.raises(UsageError, match=r"^upstream: must be an http\(s\) URL"):
        config.updated(upstream="not a url")
