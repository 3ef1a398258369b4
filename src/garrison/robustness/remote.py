"""Black-box targets behind HTTP: KServe V2 inference and plain JSON predict endpoints.

Only labels or scores come back; attacks that need gradients are not offered for them.
Requests are batched and answers bounded in size.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from garrison.errors import UsageError
from garrison.robustness.target import Array, FunctionClassifier

MAX_RESPONSE_BYTES = 64 * 1024 * 1024


@dataclass
class HttpEndpoint:
    """`protocol` is "kserve-v2" (POST {url}/v2/models/{model}/infer) or "json"
    (POST {url} with {"instances": [...]}, answer {"predictions": [...]})."""

    url: str
    protocol: str = "json"
    model: str = "model"
    timeout: float = 30.0
    batch_size: int = 256
    headers: dict[str, str] = field(default_factory=dict)

    def __call__(self, x: Array) -> Array:
        parts = [self._call(x[i : i + self.batch_size]) for i in range(0, len(x), self.batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0,), np.float32)

    def _call(self, batch: Array) -> Array:
        if self.protocol == "kserve-v2":
            url = f"{self.url.rstrip('/')}/v2/models/{self.model}/infer"
            body: dict[str, Any] = {
                "inputs": [
                    {
                        "name": "input-0",
                        "shape": list(batch.shape),
                        "datatype": "FP32",
                        "data": batch.reshape(-1).tolist(),
                    }
                ]
            }
        elif self.protocol == "json":
            url, body = self.url, {"instances": batch.tolist()}
        else:
            raise UsageError(f"unknown endpoint protocol {self.protocol!r}; use kserve-v2 or json")
        answer = self._post(url, body)
        try:
            if self.protocol == "kserve-v2":
                out = answer["outputs"][0]
                data = np.asarray(out["data"], np.float32)
                shape = out.get("shape") or [len(batch)]
                return data.reshape([len(batch), *shape[1:]]) if len(shape) > 1 else data
            return np.asarray(answer["predictions"], np.float32)
        except (KeyError, IndexError, TypeError, ValueError):
            raise UsageError(f"{url}: the answer is not a {self.protocol} prediction") from None

    def _post(self, url: str, body: dict[str, Any]) -> Any:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **self.headers}
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise UsageError(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise UsageError(f"{url}: cannot reach the endpoint ({reason})") from None
        if len(raw) > MAX_RESPONSE_BYTES:
            raise UsageError(f"{url}: answer larger than {MAX_RESPONSE_BYTES} bytes")
        try:
            return json.loads(raw)
        except ValueError:
            raise UsageError(f"{url}: the answer is not JSON") from None


def endpoint_classifier(endpoint: HttpEndpoint, n_classes: int) -> FunctionClassifier:
    if not endpoint.url.startswith(("http://", "https://")):
        raise UsageError(f"endpoint must be an http(s) URL, not {endpoint.url!r}")
    return FunctionClassifier(endpoint, n_classes)
