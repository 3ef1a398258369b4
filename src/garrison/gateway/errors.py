"""OpenAI-shaped error responses: a status, a type, a code and a message written for the client.

Nothing here ever carries an exception's text, an upstream 5xx body or a stack trace: every
message is a fixed sentence, at most echoing a bounded, JSON-escaped model name or limit.
"""

from __future__ import annotations

import json
from typing import Any

from garrison.gateway.record import BLOCK, ERROR

_MAX_ECHO = 200
_MAX_UPSTREAM_MESSAGE = 2000
# Codes an OpenAI client can branch on; the record's reason says which stage refused.
INVALID_REQUEST = "invalid_request_error"
AUTHENTICATION = "authentication_error"
PERMISSION = "permission_error"
RATE_LIMIT = "rate_limit_error"
SERVER = "server_error"


class GatewayError(Exception):
    """Ends a request with an OpenAI-shaped error; `reason` and `decision` go to its record."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = INVALID_REQUEST,
        code: str | None = None,
        reason: str = "",
        decision: str = BLOCK,
        headers: dict[str, str] | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.reason = reason
        self.decision = decision
        self.headers = headers or {}
        self.param = param

    def body(self) -> bytes:
        return error_body(self.message, self.type, self.code, self.param)


def error_body(message: str, type: str, code: str | int | None, param: str | None = None) -> bytes:
    error = {"message": message, "type": type, "param": param, "code": code}
    return json.dumps({"error": error}).encode()


def _echo(name: str) -> str:
    return name if len(name) <= _MAX_ECHO else name[:_MAX_ECHO] + "..."


def missing_key() -> GatewayError:
    return GatewayError(
        401,
        "no API key: send it as 'Authorization: Bearer <key>'",
        type=AUTHENTICATION,
        code="invalid_api_key",
        reason="auth",
    )


def invalid_key() -> GatewayError:
    # One message for unknown, revoked and expired keys: the answer says nothing about which.
    return GatewayError(
        401, "invalid API key", type=AUTHENTICATION, code="invalid_api_key", reason="auth"
    )


def scope_denied(scope: str) -> GatewayError:
    return GatewayError(
        403,
        f"this API key may not use the {scope} endpoints",
        type=PERMISSION,
        code="scope_not_allowed",
        reason="scope",
    )


def model_denied(model: str | None) -> GatewayError:
    if model is None:
        message = "this API key is limited to some models: name one in 'model'"
    else:
        message = f"this API key may not use the model {_echo(model)!r}"
    return GatewayError(403, message, type=PERMISSION, code="model_not_allowed", reason="model")


def model_not_approved(model: str | None) -> GatewayError:
    name = "this model" if model is None else f"the model {_echo(model)!r}"
    return GatewayError(
        403,
        f"{name} is not approved for serving",
        type=PERMISSION,
        code="model_not_approved",
        reason="admission",
    )


def invalid_model_name() -> GatewayError:
    return GatewayError(400, "invalid model name", code="invalid_model_name", reason="bounds")


def body_too_large(limit: int) -> GatewayError:
    return GatewayError(
        413,
        f"request body is larger than {limit} bytes",
        code="request_too_large",
        reason="bounds",
    )


def headers_too_large(limit: int) -> GatewayError:
    return GatewayError(
        431,
        f"request headers are larger than {limit} bytes",
        code="headers_too_large",
        reason="bounds",
    )


def invalid_json(why: str) -> GatewayError:
    """`why` is one of this package's fixed sentences, never a parser's message."""
    return GatewayError(400, why, code="invalid_json", reason="bounds")


def never_fits(needed: int, limit: int, what: str) -> GatewayError:
    """A request whose estimate alone exceeds a whole window: waiting never admits it."""
    return GatewayError(
        429,
        f"this request needs about {needed} tokens, more than this API key's {what} quota of "
        f"{limit}: it can never fit; lower max_tokens or shorten the prompt",
        type=RATE_LIMIT,
        code="request_exceeds_quota",
        reason="quota.size",
    )


def quota_exceeded(reason: str, retry_after_s: float, headers: dict[str, str]) -> GatewayError:
    what = {
        "quota.rpm": "requests-per-minute",
        "quota.tpm": "tokens-per-minute",
        "quota.daily": "daily token",
    }.get(reason, "rate")
    wait = max(1, round(retry_after_s + 0.499))
    return GatewayError(
        429,
        f"{what} quota of this API key reached; retry after {wait} s",
        type=RATE_LIMIT,
        code="rate_limit_exceeded",
        reason=reason or "quota",
        headers={**headers, "retry-after": str(wait)},
    )


def quota_unavailable(request_id: str) -> GatewayError:
    return GatewayError(
        503,
        f"the gateway's quota service is unavailable; retry shortly (request id {request_id})",
        type=SERVER,
        code="quota_unavailable",
        reason="quota.unavailable",
        decision=ERROR,
    )


def content_blocked(reason: str, message: str, stage: str) -> GatewayError:
    if reason.startswith("tool"):
        return GatewayError(
            403, message, type=PERMISSION, code="tool_not_allowed", reason=reason or "tool_policy"
        )
    code = "content_policy_violation" if stage == "input" else "content_filter"
    return GatewayError(400, message, code=code, reason=reason or f"guard.{stage}")


def _server(status: int, message: str, code: str, request_id: str) -> GatewayError:
    return GatewayError(
        status,
        f"{message} (request id {request_id})",
        type=SERVER,
        code=code,
        reason="upstream",
        decision=ERROR,
    )


def upstream_unavailable(request_id: str) -> GatewayError:
    return _server(502, "the model server is unavailable", "upstream_unavailable", request_id)


def upstream_timeout(request_id: str) -> GatewayError:
    return _server(504, "the model server did not answer in time", "upstream_timeout", request_id)


def upstream_failed(request_id: str) -> GatewayError:
    return _server(502, "the model server failed to answer", "upstream_error", request_id)


def internal_error(request_id: str) -> GatewayError:
    error = _server(500, "the gateway failed to handle the request", "internal_error", request_id)
    error.reason = "internal"
    return error


def upstream_client_error(status: int, content: bytes, request_id: str) -> GatewayError:
    """The upstream refused the request (4xx): its error, if it is a well-formed one."""
    if status in (401, 403, 407):
        # The gateway's own credential to the upstream is wrong: not the client's to fix.
        return upstream_failed(request_id)
    error = _wellformed(content)
    if error is None:
        return GatewayError(
            status,
            "the model server refused the request",
            code="upstream_rejected",
            reason="upstream",
            decision=ERROR,
        )
    message, type_, code, param = error
    return GatewayError(
        status, message, type=type_, code=code, param=param, reason="upstream", decision=ERROR
    )


def _wellformed(content: bytes) -> tuple[str, str, Any, str | None] | None:
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        return None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, str):  # the KServe V2 shape
        error = {"message": error}
    if not isinstance(error, dict):
        return None
    message, type_ = error.get("message"), error.get("type", INVALID_REQUEST)
    code, param = error.get("code"), error.get("param")
    if not isinstance(message, str) or not message or not isinstance(type_, str):
        return None
    if not (code is None or isinstance(code, str | int)) or isinstance(code, bool):
        return None
    if not (param is None or isinstance(param, str)):
        return None
    return message[:_MAX_UPSTREAM_MESSAGE], type_[:_MAX_ECHO], code, param
