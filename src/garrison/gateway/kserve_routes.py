"""The KServe V2 inference protocol: infer, model metadata, and the health probes."""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.types import Receive, Scope, Send

from garrison.gateway import bounds, errors
from garrison.gateway.errors import GatewayError
from garrison.gateway.handling import JSON_TYPE, Call, Gateway, new_request_id, send_body

# KServe model names; anything else (a dot segment, an escape) never reaches the upstream's path.
_MODEL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:\-]{0,199}")


def _model(gateway: Gateway, scope: Scope, call: Call) -> str:
    key = gateway.authorize(scope, call, "infer")
    name = str(scope["path_params"]["name"])
    if not _MODEL_NAME.fullmatch(name):
        raise errors.invalid_model_name()
    gateway.check_model(call, key, name)
    return f"{gateway.upstream.kserve_base}/v2/models/{quote(name, safe='')}"


async def handle_infer(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """POST /v2/models/{name}/infer: JSON tensors in and out, the bytes passed as they are."""
    call = gateway.begin("infer")

    async def steps() -> None:
        cfg = gateway.config
        url = _model(gateway, scope, call) + "/infer"
        if call.headers.inference_header is not None:
            raise errors.invalid_json("the binary tensor extension is not supported: send JSON")
        raw = await bounds.read_body(receive, cfg.max_body_bytes, call.headers.content_length)
        bounds.parse_object(raw, cfg.max_json_depth)
        assert call.key is not None
        await gateway.admit(call, call.key, 0)
        response = await gateway.forward(call, "POST", url, raw)
        await gateway.respond(call, send, response.status_code, response.content)

    await gateway.run(call, send, steps)


async def handle_metadata(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """GET /v2/models/{name}: the upstream's description of the model."""
    call = gateway.begin("infer")

    async def steps() -> None:
        response = await gateway.forward(call, "GET", _model(gateway, scope, call), None)
        await gateway.respond(call, send, response.status_code, response.content)

    await gateway.run(call, send, steps)


async def handle_live(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    await send_body(send, 200, b'{"live":true}', [JSON_TYPE])


async def handle_ready(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """Ready when the KServe upstream says it is; a probe, so no key is asked for."""
    url = f"{gateway.upstream.kserve_base}/v2/health/ready"
    try:
        response = await gateway.upstream.request("GET", url, new_request_id())
        ready = response.status_code == 200
    except GatewayError:
        ready = False
    body = b'{"ready":true}' if ready else b'{"ready":false}'
    await send_body(send, 200 if ready else 503, body, [JSON_TYPE])
