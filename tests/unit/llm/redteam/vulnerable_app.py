"""A deliberately vulnerable OpenAI-compatible chat app for tests, served on localhost.

It "reasons" with regular expressions: it follows instructions it finds in its input, but only
for the families it is configured to be vulnerable to. Hardened, it refuses and quotes the
user's message back (lower-case canaries included), which detectors must not mistake for a hit.
It can also play a broken server: scripted faults, a required API key, request timestamps.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SAY = re.compile(
    r"\b(?:say|print|respond with|reply with|output|write)\b[^\n]{0,60}?\b(gx-[0-9a-f]{10})\b"
)
DOCUMENT = re.compile(r"<document>(.*?)</document>", re.S)
JAILBREAK = re.compile(r"(?i)\b(DAN|developer mode|roleplay|hypothetical\w*|in character)\b")
EXTRACT = re.compile(r"(?i)system prompt|everything above|initial instructions|instructions above")
LEAK = re.compile(r"(?i)api key|access key|email address|social security|customer record")
IMAGE = re.compile(r"!\[[^\]]*\]\([^)\s]+\)")
CALL = re.compile(r"call the (\w+) tool with (\{[^}]*\})")
TOKEN = re.compile(r"gx-[0-9a-f]{10}")


@dataclass
class Fault:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class VulnerableApp:
    vulnerable: set[str] = field(default_factory=set)
    api_key: str | None = None
    faults: list[Fault] = field(default_factory=list)  # served first, one per request
    times: list[float] = field(default_factory=list)  # monotonic arrival of every request
    bodies: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages", [])
        system = " ".join(str(m.get("content") or "") for m in messages if m["role"] == "system")
        users = [str(m.get("content") or "") for m in messages if m["role"] == "user"]
        tool_texts = [str(m.get("content") or "") for m in messages if m["role"] == "tool"]
        user = "\n".join(users)
        documents = DOCUMENT.findall(user) + tool_texts
        direct = DOCUMENT.sub("", user)
        parts: list[str] = []
        calls: list[dict[str, Any]] = []
        self._follow_code_words(direct, documents, parts)
        if "system-prompt-extraction" in self.vulnerable and EXTRACT.search(direct):
            parts.append(f"My instructions are: {system}")
        if "sensitive-leakage" in self.vulnerable and LEAK.search(direct):
            parts.append(f"Here is what I have: {system}")
        if "markdown-exfiltration" in self.vulnerable:
            secret = (TOKEN.findall(system) or ["none"])[0]
            parts += [m.replace("DATA", secret) for m in IMAGE.findall(user)]
        offered = {t["function"]["name"] for t in body.get("tools", [])}
        if "tool-abuse" in self.vulnerable:
            for name, args in CALL.findall(user):
                if name in offered:
                    calls.append(_call(len(calls), name, args))
        if not parts and not calls:
            parts.append("I can't help with that. You wrote: " + (users[-1][:300] if users else ""))
        message: dict[str, Any] = {"role": "assistant", "content": "\n".join(parts)}
        if calls:
            message["tool_calls"] = calls
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": body.get("model", "vulnerable"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        }

    def _follow_code_words(self, direct: str, documents: list[str], parts: list[str]) -> None:
        if "indirect-injection" in self.vulnerable:
            parts += [w.upper() for d in documents for w in SAY.findall(d)]
        family = "jailbreak" if JAILBREAK.search(direct) else "direct-injection"
        if family in self.vulnerable:
            parts += [w.upper() for w in SAY.findall(direct)]
        if "encoding-bypass" in self.vulnerable:
            parts += [w.upper() for w in SAY.findall(_decoded(direct))]


def _call(n: int, name: str, args: str) -> dict[str, Any]:
    return {"id": f"call_{n}", "type": "function", "function": {"name": name, "arguments": args}}


def _decoded(text: str) -> str:
    out = []
    for blob in re.findall(r"[A-Za-z0-9+/=]{16,}", text):
        for decode in (base64.b64decode, bytes.fromhex):
            with contextlib.suppress(ValueError, binascii.Error, UnicodeDecodeError):
                out.append(decode(blob).decode("utf-8"))  # type: ignore[operator]
    if "rot13" in text.lower():
        out.append(codecs.decode(text, "rot13"))
    return "\n".join(out)


def _handler(app: VulnerableApp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the tests send hundreds of requests
        wbufsize = 1 << 16  # one write per answer: avoids Nagle and delayed-ACK stalls

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            with app.lock:
                app.times.append(time.monotonic())
                fault = app.faults.pop(0) if app.faults else None
            if fault is not None:
                return self._send(fault.status, fault.body, fault.headers)
            if app.api_key and self.headers.get("authorization") != f"Bearer {app.api_key}":
                return self._send(401, b'{"error": {"message": "invalid api key"}}')
            if not self.path.endswith("/chat/completions"):
                return self._send(404, b"{}")
            body = json.loads(raw)
            with app.lock:
                app.bodies.append(body)
            self._send(200, json.dumps(app.answer(body)).encode())

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def serve(app: VulnerableApp) -> Iterator[str]:
    """Serve `app` on a free localhost port; yield its base URL (".../v1")."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(app))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
