"""Second posture hold-out set: cases written blind from docs/posture.md.

`build_holdout(root)` writes about 150 seeded files (each must produce the rules or inventory
categories the documentation promises) and about 150 look-alikes (each must produce no finding at
medium or above) shaped like real teams' repositories, and returns the ground truth that
`posture_holdout.py --set 2` scores. The cases were written from the user documentation only,
without reading the detector or the first hold-out set. Provider keys are random characters of
the right shape, never real; model files are harmless bytes (headers, plain-data pickles).
"""

from __future__ import annotations

import io
import json
import pickle
import random
import string
import struct
import textwrap
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GATEWAY = "https://ai-gateway.platform.acme-corp.net/v1"
SEED = 907_213
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"
BASE32 = string.ascii_uppercase + "234567"
BASE64 = ALNUM + "+/"
ZIP_TIME = (2024, 5, 17, 9, 30, 0)


@dataclass
class _Set:
    """The files of the set and their ground truth, written as the cases are added."""

    root: Path
    rng: random.Random
    truth: dict[str, dict[str, Any]] = field(default_factory=dict)

    def write(self, path: str, content: str | bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(_dedent(content))

    def seeded(
        self,
        path: str,
        content: str | bytes,
        rules: Iterable[int],
        assets: Iterable[str],
        why: str,
        *,
        allowed: Iterable[int] = (),
        stretch: bool = False,
    ) -> None:
        self._add(path, content, why, seeded=True, rules=rules, assets=assets, allowed=allowed)
        self.truth[path]["stretch"] = stretch

    def lookalike(
        self, path: str, content: str | bytes, why: str, *, forbid: Iterable[str] = ()
    ) -> None:
        self._add(path, content, why, seeded=False, forbid=forbid)

    def _add(
        self,
        path: str,
        content: str | bytes,
        why: str,
        *,
        seeded: bool,
        rules: Iterable[int] = (),
        assets: Iterable[str] = (),
        allowed: Iterable[int] = (),
        forbid: Iterable[str] = (),
    ) -> None:
        if path in self.truth:
            raise ValueError(f"duplicate case {path}")
        self.write(path, content)
        self.truth[path] = {
            "seeded": seeded,
            "rules": [_rule(n) for n in rules],
            "assets": list(assets),
            "allowed": [_rule(n) for n in allowed],
            "forbid_assets": list(forbid),
            "stretch": False,
            "why": why,
        }

    # Synthetic secrets and ids: random characters in the documented shapes.
    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def openai_key(self) -> str:
        return f"sk-{self.chars(ALNUM, 20)}T3BlbkFJ{self.chars(ALNUM, 20)}"

    def openai_project_key(self, kind: str = "proj") -> str:
        return f"sk-{kind}-{self.chars(URLSAFE, 74)}T3BlbkFJ{self.chars(URLSAFE, 74)}"

    def anthropic_key(self, kind: str = "api03") -> str:
        return f"sk-ant-{kind}-{self.chars(URLSAFE, 93)}AA"

    def hf_token(self) -> str:
        return "hf_" + self.chars(string.ascii_letters, 34)

    def google_key(self) -> str:
        return "AIzaSy" + self.chars(URLSAFE, 33)

    def aws_key_id(self) -> str:
        return "AKIA" + self.chars(BASE32, 16)

    def aws_secret(self) -> str:
        return self.chars(BASE64, 40)

    def groq_key(self) -> str:
        return "gsk_" + self.chars(ALNUM, 52)

    def replicate_token(self) -> str:
        return "r8_" + self.chars(ALNUM, 37)

    def xai_key(self) -> str:
        return "xai-" + self.chars(ALNUM, 80)

    def perplexity_key(self) -> str:
        return "pplx-" + self.chars(ALNUM, 48)

    def commit(self) -> str:
        return self.chars(HEX, 40)

    def noise(self, n: int) -> bytes:
        return bytes(self.rng.getrandbits(8) for _ in range(n))


def _rule(n: int) -> str:
    return f"GA-POST-{n:03d}"


def _dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _fill(text: str, **values: str) -> str:
    """Dedent a template and put values in its %%name%% slots."""
    text = _dedent(text)
    for name, value in values.items():
        text = text.replace(f"%%{name}%%", value)
    if "%%" in text:
        raise ValueError(f"unfilled slot in template: {text[:80]!r}")
    return text


def _notebook(*cells: tuple[str, str]) -> str:
    """An nbformat 4 notebook from (cell_type, source) pairs."""
    out = []
    for n, (kind, source) in enumerate(cells):
        lines = _dedent(source).rstrip("\n").splitlines(keepends=True)
        cell: dict[str, Any] = {"cell_type": kind, "id": f"c{n:02d}", "metadata": {}}
        cell["source"] = lines
        if kind == "code":
            cell |= {"execution_count": None, "outputs": []}
        out.append(cell)
    nb = {
        "cells": out,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.9"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, indent=1) + "\n"


# Model, dataset and vector-store bytes: real headers, harmless content.
def _safetensors(s: _Set, tensors: dict[str, list[int]], meta: dict[str, str]) -> bytes:
    header: dict[str, Any] = {}
    offset = 0
    for name, shape in tensors.items():
        size = 2
        for dim in shape:
            size *= dim
        header[name] = {"dtype": "F16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    header["__metadata__"] = meta
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + s.noise(offset)


def _gguf(metadata: dict[str, str]) -> bytes:
    def text(value: str) -> bytes:
        data = value.encode()
        return struct.pack("<Q", len(data)) + data

    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(metadata))
    for key, value in metadata.items():
        out += text(key) + struct.pack("<I", 8) + text(value)
    return out + b"\0" * (-len(out) % 32)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_TIME), data)
    return buf.getvalue()


def _torch_zip(s: _Set, prefix: str, state: dict[str, Any]) -> bytes:
    return _zip(
        {
            f"{prefix}/data.pkl": pickle.dumps(state, protocol=2),
            f"{prefix}/byteorder": b"little",
            f"{prefix}/data/0": s.noise(96),
            f"{prefix}/version": b"3\n",
            f"{prefix}/.data/serialization_id": b"1024517893220385174700987654321\n",
        }
    )


def _hdf5(s: _Set) -> bytes:
    superblock = b"\x89HDF\r\n\x1a\n" + bytes([0, 0, 0, 0, 0, 8, 8, 0, 4, 0, 16, 0])
    return superblock + b"\0" * 4 + b"\xff" * 8 + s.noise(1000)


def _tflite(s: _Set) -> bytes:
    return struct.pack("<I", 28) + b"TFL3" + b"\0" * 20 + s.noise(480)


def _varint(n: int) -> bytes:
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def _pb(field_no: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return _varint(field_no << 3) + _varint(value)
    return _varint(field_no << 3 | 2) + _varint(len(value)) + value


def _onnx(s: _Set) -> bytes:
    node = _pb(1, b"input") + _pb(2, b"output") + _pb(3, b"/fc/Gemm") + _pb(4, b"Gemm")
    initializer = _pb(1, 4) + _pb(1, 8) + _pb(2, 1) + _pb(8, b"fc.weight") + _pb(9, s.noise(128))
    graph = _pb(1, node) + _pb(2, b"main_graph") + _pb(5, initializer)
    opset = _pb(1, b"") + _pb(2, 17)
    return _pb(1, 8) + _pb(2, b"pytorch") + _pb(3, b"2.3.1") + _pb(7, graph) + _pb(8, opset)


def _npy(s: _Set, shape: tuple[int, ...]) -> bytes:
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * (-(len(header) + 11) % 64) + "\n"
    size = 4
    for dim in shape:
        size *= dim
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + s.noise(size)


def _parquet(s: _Set) -> bytes:
    footer = b"\x15\x00\x19\x2c\x48\x0cschema" + s.noise(60)
    return b"PAR1" + s.noise(400) + footer + struct.pack("<I", len(footer)) + b"PAR1"


def _arrow_file(s: _Set) -> bytes:
    return b"ARROW1\0\0" + b"\xff\xff\xff\xff" + s.noise(300) + b"ARROW1"


def _crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data: bytes) -> bytes:
    crc = _crc32c(data)
    return struct.pack("<I", (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF)


def _tfrecord(s: _Set, records: int) -> bytes:
    """TFRecord framing: length, masked CRC-32C of the length, data, masked CRC-32C of data."""
    out = b""
    for _ in range(records):
        data = b"\n\x1c\n\x0e\n\x05label\x12\x05\x1a\x03\n\x01" + s.noise(20)
        length = struct.pack("<Q", len(data))
        out += length + _masked_crc(length) + data + _masked_crc(data)
    return out


def _sqlite(s: _Set) -> bytes:
    header = b"SQLite format 3\0" + struct.pack(">HBBBBBB", 4096, 1, 1, 0, 64, 32, 32)
    return (header + s.noise(77)).ljust(8192, b"\0")


def _faiss(s: _Set, fourcc: bytes, dim: int, count: int) -> bytes:
    head = fourcc + struct.pack("<iqqq?i", dim, count, 1 << 20, 1 << 20, True, 1)
    return head + struct.pack("<Q", dim * count * 4) + s.noise(dim * count * 4)


def _python_services(s: _Set) -> None:
    """AI SDK use in Python apps: imports, client constructors, calls and API URLs."""
    s.seeded(
        "support-bot/app/llm.py",
        r'''
        """Chat completion helper for the support bot."""

        from __future__ import annotations

        from openai import OpenAI

        _client = OpenAI()


        def answer(question: str, context: list[str]) -> str:
            messages = [
                {"role": "system", "content": "Answer only from the context."},
                {"role": "user", "content": "\n".join(context) + "\n\n" + question},
            ]
            reply = _client.chat.completions.create(model="gpt-4o-mini", messages=messages)
            return reply.choices[0].message.content or ""
        ''',
        [],
        ["ai-service:openai"],
        "OpenAI client built at import in a small helper module",
        allowed=[11],
    )
    s.seeded(
        "support-bot/app/summarize.py",
        r"""
        import asyncio
        from dataclasses import dataclass

        import anthropic


        @dataclass(frozen=True)
        class Summary:
            ticket_id: str
            text: str


        class TicketSummarizer:
            def __init__(self, model: str = "claude-3-5-haiku-latest") -> None:
                self._client = anthropic.AsyncAnthropic()
                self._model = model

            async def summarize(self, ticket_id: str, body: str) -> Summary:
                msg = await self._client.messages.create(
                    model=self._model,
                    max_tokens=300,
                    messages=[{"role": "user", "content": f"Summarize:\n{body}"}],
                )
                return Summary(ticket_id, msg.content[0].text)

            async def many(self, tickets: dict[str, str]) -> list[Summary]:
                return await asyncio.gather(*(self.summarize(k, v) for k, v in tickets.items()))
        """,
        [],
        ["ai-service:anthropic"],
        "async Anthropic client inside a class",
        allowed=[11],
    )
    s.seeded(
        "claims-extractor/extract/bedrock_client.py",
        r"""
        import json
        import logging

        import boto3

        log = logging.getLogger(__name__)
        runtime = boto3.client("bedrock-runtime", region_name="eu-central-1")


        def extract_fields(document: str) -> dict:
            body = {
                "anthropic_version": "bedrock-2023-05-31",
                "max_tokens": 1024,
                "messages": [{"role": "user", "content": document}],
            }
            resp = runtime.invoke_model(
                modelId="anthropic.claude-3-haiku-20240307-v1:0", body=json.dumps(body)
            )
            payload = json.loads(resp["body"].read())
            log.debug("bedrock usage %s", payload.get("usage"))
            return json.loads(payload["content"][0]["text"])
        """,
        [],
        ["ai-service:bedrock"],
        "boto3 bedrock-runtime client with invoke_model",
        allowed=[11],
    )
    s.seeded(
        "claims-extractor/extract/vertex.py",
        r"""
        import vertexai
        from vertexai.generative_models import GenerationConfig, GenerativeModel

        vertexai.init(project="acme-claims-prod", location="europe-west4")
        _model = GenerativeModel("gemini-1.5-pro-002")


        def classify(text: str) -> str:
            cfg = GenerationConfig(temperature=0.0, max_output_tokens=16)
            return _model.generate_content(f"Category of: {text}", generation_config=cfg).text
        """,
        [],
        ["ai-service:vertex"],
        "Vertex AI SDK init and GenerativeModel",
        allowed=[11],
    )
    s.seeded(
        "search-rerank/rerank/gemini_rerank.py",
        r"""
        from google import genai
        from google.genai import types

        client = genai.Client()


        def rerank(query: str, passages: list[str]) -> list[int]:
            prompt = "Rank the passages for the query. Return indexes.\n" + query
            for i, passage in enumerate(passages):
                prompt += f"\n[{i}] {passage}"
            out = client.models.generate_content(
                model="gemini-2.0-flash",
                contents=prompt,
                config=types.GenerateContentConfig(response_mime_type="application/json"),
            )
            return [int(i) for i in out.parsed or []]
        """,
        [],
        ["ai-service:gemini"],
        "google-genai client (from google import genai)",
        allowed=[11],
    )
    s.seeded(
        "marketing-copy/copygen/legacy_gemini.py",
        r"""
        import os

        import google.generativeai as genai

        genai.configure(api_key=os.environ["GOOGLE_API_KEY"])
        model = genai.GenerativeModel("gemini-1.5-flash")


        def tagline(product: str) -> str:
            return model.generate_content(f"Write a tagline for {product}").text.strip()
        """,
        [],
        ["ai-service:gemini"],
        "legacy google.generativeai module aliased as genai",
        allowed=[11],
    )
    s.seeded(
        "hr-assistant/backend/azure_chat.py",
        r"""
        import os

        from openai import AzureOpenAI

        client = AzureOpenAI(
            api_version="2024-06-01",
            azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"],
            api_key=os.environ["AZURE_OPENAI_API_KEY"],
        )


        def ask(question: str) -> str:
            r = client.chat.completions.create(
                model="gpt-4o-hr-prod", messages=[{"role": "user", "content": question}]
            )
            return r.choices[0].message.content
        """,
        [],
        ["ai-service:azure"],
        "Azure OpenAI client with the endpoint from the environment",
        allowed=[11],
    )
    s.seeded(
        "search-rerank/rerank/cohere_rerank.py",
        r"""
        import cohere

        co = cohere.ClientV2()


        def top_k(query: str, docs: list[str], k: int = 5) -> list[str]:
            result = co.rerank(model="rerank-english-v3.0", query=query, documents=docs, top_n=k)
            return [docs[r.index] for r in result.results]
        """,
        [],
        ["ai-service:cohere"],
        "Cohere ClientV2 rerank",
        allowed=[11],
    )
    s.seeded(
        "doc-translate/translate/mistral.py",
        r"""
        import os

        from mistralai import Mistral


        def translate(text: str, target: str = "fr") -> str:
            with Mistral(api_key=os.getenv("MISTRAL_API_KEY", "")) as mistral:
                res = mistral.chat.complete(
                    model="mistral-small-latest",
                    messages=[{"role": "user", "content": f"Translate to {target}: {text}"}],
                )
            return res.choices[0].message.content
        """,
        [],
        ["ai-service:mistral"],
        "Mistral client used as a context manager",
        allowed=[11],
    )
    s.seeded(
        "slack-digest/digest/fast_llm.py",
        r"""
        from groq import Groq

        _groq = Groq()


        def digest(messages: list[str]) -> str:
            chat = _groq.chat.completions.create(
                model="llama-3.1-8b-instant",
                messages=[{"role": "user", "content": "Digest:\n" + "\n".join(messages)}],
            )
            return chat.choices[0].message.content
        """,
        [],
        ["ai-service:groq"],
        "Groq client",
        allowed=[11],
    )
    s.seeded(
        "eval-harness/harness/providers.py",
        r"""
        from typing import Any

        from litellm import acompletion, completion

        MODELS = ["gpt-4o-mini", "claude-3-5-sonnet-20240620", "gemini/gemini-1.5-flash"]


        def run_all(prompt: str) -> dict[str, Any]:
            return {
                m: completion(model=m, messages=[{"role": "user", "content": prompt}])
                for m in MODELS
            }


        async def run_one(model: str, prompt: str) -> Any:
            return await acompletion(model=model, messages=[{"role": "user", "content": prompt}])
        """,
        [],
        ["ai-service:litellm"],
        "LiteLLM completion across providers",
        allowed=[11],
    )
    s.seeded(
        "kb-assistant/kb/chain.py",
        r"""
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate
        from langchain_openai import ChatOpenAI

        prompt = ChatPromptTemplate.from_messages(
            [("system", "You answer from the knowledge base."), ("human", "{question}")]
        )
        chain = prompt | ChatOpenAI(model="gpt-4o", temperature=0) | StrOutputParser()


        def ask(question: str) -> str:
            return chain.invoke({"question": question})
        """,
        [],
        ["ai-service:langchain"],
        "LangChain LCEL chain with ChatOpenAI",
        allowed=[11],
    )
    s.seeded(
        "kb-assistant/kb/agent_graph.py",
        r"""
        from typing import TypedDict

        from langgraph.graph import END, StateGraph


        class State(TypedDict):
            question: str
            answer: str


        def retrieve(state: State) -> State:
            return {**state, "answer": ""}


        graph = StateGraph(State)
        graph.add_node("retrieve", retrieve)
        graph.set_entry_point("retrieve")
        graph.add_edge("retrieve", END)
        app = graph.compile()
        """,
        [],
        ["ai-service:lang"],
        "LangGraph StateGraph agent",
        allowed=[11],
    )
    s.seeded(
        "kb-assistant/kb/index_docs.py",
        r"""
        from pathlib import Path

        from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex


        def build(docs_dir: Path, persist_dir: Path) -> None:
            documents = SimpleDirectoryReader(str(docs_dir), recursive=True).load_data()
            index = VectorStoreIndex.from_documents(documents, show_progress=True)
            index.storage_context.persist(persist_dir=str(persist_dir))


        def load(persist_dir: Path) -> VectorStoreIndex:
            from llama_index.core import load_index_from_storage

            ctx = StorageContext.from_defaults(persist_dir=str(persist_dir))
            return load_index_from_storage(ctx)
        """,
        [],
        ["ai-service:llama"],
        "LlamaIndex indexing job",
        allowed=[11],
    )
    s.seeded(
        "creative-studio/studio/replicate_jobs.py",
        r"""
        import replicate


        def render(prompt: str) -> list[str]:
            output = replicate.run(
                "black-forest-labs/flux-schnell",
                input={"prompt": prompt, "num_outputs": 2, "output_format": "webp"},
            )
            return [str(item) for item in output]
        """,
        [],
        ["ai-service:replicate"],
        "Replicate run",
        allowed=[11],
    )
    s.seeded(
        "eval-harness/harness/together_batch.py",
        r"""
        from together import Together

        client = Together()


        def score(prompts: list[str]) -> list[str]:
            out = []
            for p in prompts:
                r = client.chat.completions.create(
                    model="meta-llama/Llama-3.3-70B-Instruct-Turbo",
                    messages=[{"role": "user", "content": p}],
                )
                out.append(r.choices[0].message.content)
            return out
        """,
        [],
        ["ai-service:together"],
        "Together client",
        allowed=[11],
    )
    s.seeded(
        "homelab-notes/notes/local_llm.py",
        r"""
        import ollama


        def tag_note(text: str) -> list[str]:
            resp = ollama.chat(
                model="llama3.1:8b",
                messages=[{"role": "user", "content": f"Three tags for: {text}"}],
            )
            return [t.strip() for t in resp["message"]["content"].split(",")]
        """,
        [],
        ["ai-service:ollama"],
        "Ollama Python module call",
        allowed=[11],
    )
    s.seeded(
        "batch-infer/infer/offline.py",
        r"""
        import json
        import sys

        from vllm import LLM, SamplingParams


        def main(path: str) -> None:
            llm = LLM(model="/mnt/models/llama-3.1-8b-instruct", tensor_parallel_size=2)
            params = SamplingParams(temperature=0.2, max_tokens=256)
            prompts = [json.loads(line)["prompt"] for line in open(path)]
            for out in llm.generate(prompts, params):
                print(json.dumps({"text": out.outputs[0].text}))


        if __name__ == "__main__":
            main(sys.argv[1])
        """,
        [],
        ["ai-service:vllm"],
        "vLLM offline inference on a local model directory",
        allowed=[11],
    )
    s.seeded(
        "support-bot/app/hf_endpoint.py",
        r"""
        from huggingface_hub import InferenceClient

        client = InferenceClient(timeout=30)


        def embed(texts: list[str]) -> list[list[float]]:
            return [client.feature_extraction(t).tolist() for t in texts]
        """,
        [],
        ["ai-service"],
        "huggingface_hub InferenceClient",
        allowed=[11],
    )
    s.seeded(
        "legacy-scripts/embed_requests.py",
        r"""
        import os

        import requests

        EMBEDDINGS_URL = "https://api.openai.com/v1/embeddings"


        def embed(texts):
            headers = {"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]}
            r = requests.post(
                EMBEDDINGS_URL,
                headers=headers,
                json={"model": "text-embedding-3-small", "input": texts},
                timeout=60,
            )
            r.raise_for_status()
            return [d["embedding"] for d in r.json()["data"]]
        """,
        [],
        ["ai-service:openai"],
        "raw HTTP to the OpenAI embeddings URL with requests",
        allowed=[11],
    )
    s.seeded(
        "legacy-scripts/claude_httpx.py",
        r"""
        import os

        import httpx


        async def complete(prompt: str) -> str:
            async with httpx.AsyncClient(timeout=120) as http:
                r = await http.post(
                    "https://api.anthropic.com/v1/messages",
                    headers={
                        "x-api-key": os.environ["ANTHROPIC_API_KEY"],
                        "anthropic-version": "2023-06-01",
                    },
                    json={
                        "model": "claude-3-5-sonnet-latest",
                        "max_tokens": 512,
                        "messages": [{"role": "user", "content": prompt}],
                    },
                )
            return r.json()["content"][0]["text"]
        """,
        [],
        ["ai-service:anthropic"],
        "raw httpx call to the Anthropic messages URL",
        allowed=[11],
    )
    s.seeded(
        "support-bot/app/lazy_client.py",
        r"""
        from functools import cache


        @cache
        def client():
            from anthropic import Anthropic

            return Anthropic(max_retries=5)


        def reply(text: str) -> str:
            msg = client().messages.create(
                model="claude-3-5-sonnet-latest",
                max_tokens=400,
                messages=[{"role": "user", "content": text}],
            )
            return msg.content[0].text
        """,
        [],
        ["ai-service:anthropic"],
        "import inside a cached factory function",
        allowed=[11],
    )
    s.seeded(
        "ops-tools/ops/fireworks_summary.py",
        r"""
        from fireworks.client import Fireworks

        fw = Fireworks()


        def summarize_incident(log: str) -> str:
            r = fw.chat.completions.create(
                model="accounts/fireworks/models/llama-v3p1-70b-instruct",
                messages=[{"role": "user", "content": log[-8000:]}],
            )
            return r.choices[0].message.content
        """,
        [],
        ["ai-service:fireworks"],
        "Fireworks Python client",
        allowed=[11],
    )
    # Base URLs that bypass the gateway: GA-POST-011.
    s.seeded(
        "ops-tools/ops/deepseek_sql.py",
        r"""
        import os

        from openai import OpenAI

        deepseek = OpenAI(base_url="https://api.deepseek.com", api_key=os.environ["DS_KEY"])


        def to_sql(question: str, schema: str) -> str:
            r = deepseek.chat.completions.create(
                model="deepseek-chat",
                messages=[
                    {"role": "system", "content": schema},
                    {"role": "user", "content": question},
                ],
            )
            return r.choices[0].message.content
        """,
        [11],
        ["ai-service:deepseek"],
        "OpenAI client pointed at DeepSeek, bypassing the gateway",
    )
    s.seeded(
        "kb-assistant/kb/openrouter.py",
        r"""
        import os

        from langchain_openai import ChatOpenAI

        llm = ChatOpenAI(
            model="anthropic/claude-3.5-sonnet",
            base_url="https://openrouter.ai/api/v1",
            api_key=os.environ["OPENROUTER_API_KEY"],
        )
        """,
        [11],
        ["ai-service:openrouter"],
        "LangChain ChatOpenAI with an OpenRouter base URL",
    )
    s.seeded(
        "research-agent/agent/search_llm.py",
        r"""
        import os

        from openai import OpenAI

        pplx = OpenAI(api_key=os.environ["PPLX_API_KEY"], base_url="https://api.perplexity.ai")


        def search(q: str) -> str:
            r = pplx.chat.completions.create(
                model="sonar-pro", messages=[{"role": "user", "content": q}]
            )
            return r.choices[0].message.content
        """,
        [11],
        ["ai-service:perplexity"],
        "OpenAI client pointed at Perplexity",
    )
    s.seeded(
        "research-agent/agent/grok.py",
        r"""
        import os

        from openai import AsyncOpenAI

        grok = AsyncOpenAI(base_url="https://api.x.ai/v1", api_key=os.environ["XAI_API_KEY"])


        async def ask(q: str) -> str:
            r = await grok.chat.completions.create(
                model="grok-2-latest", messages=[{"role": "user", "content": q}]
            )
            return r.choices[0].message.content
        """,
        [11],
        ["ai-service:xai"],
        "AsyncOpenAI pointed at xAI",
    )
    s.seeded(
        "batch-infer/infer/cluster_client.py",
        r"""
        from openai import AsyncOpenAI

        VLLM = AsyncOpenAI(
            base_url="http://vllm.inference.svc.cluster.local:8000/v1", api_key="EMPTY"
        )


        async def generate(prompt: str) -> str:
            r = await VLLM.completions.create(
                model="llama-3.1-8b-instruct", prompt=prompt, max_tokens=200
            )
            return r.choices[0].text
        """,
        [11],
        ["ai-service:openai"],
        "in-cluster vLLM reached directly instead of through the gateway",
    )
    s.seeded(
        "support-bot/app/claude_proxy.py",
        r"""
        from anthropic import Anthropic

        client = Anthropic(base_url="https://claude-proxy.tools.acme-corp.net")
        """,
        [11],
        ["ai-service:anthropic"],
        "Anthropic client with a team proxy base URL",
    )
    s.seeded(
        "hr-assistant/backend/azure_direct.py",
        r"""
        import os

        from openai import AzureOpenAI

        client = AzureOpenAI(
            azure_endpoint="https://acme-hr-eastus2.openai.azure.com/",
            api_version="2024-08-01-preview",
            api_key=os.environ["AZURE_OPENAI_API_KEY"],
        )
        """,
        [11],
        ["ai-service:azure"],
        "Azure OpenAI endpoint hard-coded (azure_endpoint is its base URL)",
        stretch=True,
    )
    s.seeded(
        "homelab-notes/notes/remote_ollama.py",
        r"""
        from ollama import Client

        gpu_box = Client(host="http://gpu-box-3.lan:11434")


        def describe(path: str) -> str:
            r = gpu_box.generate(model="llava:13b", prompt="Describe", images=[path])
            return r["response"]
        """,
        [11],
        ["ai-service:ollama"],
        "Ollama client with a host= URL that is not the gateway",
        stretch=True,
    )
    s.seeded(
        "eval-harness/harness/legacy_openai.py",
        r"""
        import openai

        openai.base_url = "https://llm-proxy.research.acme-corp.net/v1/"


        def grade(answer: str) -> str:
            r = openai.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Grade: " + answer}]
            )
            return r.choices[0].message.content
        """,
        [11],
        ["ai-service:openai"],
        "module-level openai.base_url assignment",
        stretch=True,
    )


def _python_hub(s: _Set) -> None:
    """Hub downloads without a pinned commit (006) and remote code (002)."""
    s.seeded(
        "fin-sentiment/sentiment/model.py",
        r"""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        MODEL_ID = "ProsusAI/finbert"
        tokenizer = AutoTokenizer.from_pretrained("ProsusAI/finbert")
        model = AutoModelForSequenceClassification.from_pretrained("ProsusAI/finbert")
        model.eval()
        """,
        [6],
        ["ai-service"],
        "from_pretrained of an org/name hub id, no revision",
    )
    s.seeded(
        "news-digest/digest/summarizer.py",
        r"""
        from transformers import pipeline

        summarizer = pipeline("summarization", model="facebook/bart-large-cnn", device=0)


        def summarize(article: str) -> str:
            return summarizer(article, max_length=130, min_length=30)[0]["summary_text"]
        """,
        [6],
        ["ai-service"],
        "pipeline(task, model=hub id) without revision",
    )
    s.seeded(
        "news-digest/digest/ner.py",
        r"""
        from transformers import pipeline

        ner = pipeline(
            "token-classification",
            model="dslim/bert-base-NER",
            revision="main",
            aggregation_strategy="simple",
        )
        """,
        [6],
        ["ai-service"],
        "revision='main' is a branch, not a 40-character commit",
    )
    s.seeded(
        "intent-router/router/tokenize.py",
        r"""
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained("bert-base-uncased")


        def encode(texts: list[str]) -> dict:
            return tok(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
        """,
        [6],
        ["ai-service"],
        "canonical hub id without an organisation",
    )
    s.seeded(
        "llm-serving/scripts/fetch_weights.py",
        r"""
        from pathlib import Path

        from huggingface_hub import snapshot_download

        TARGET = Path("/mnt/models/mistral-7b-instruct")

        if __name__ == "__main__":
            snapshot_download(
                repo_id="mistralai/Mistral-7B-Instruct-v0.3",
                local_dir=TARGET,
                allow_patterns=["*.safetensors", "*.json", "tokenizer.model"],
            )
        """,
        [6],
        ["ai-service"],
        "snapshot_download of a hub repo, no revision",
    )
    s.seeded(
        "llm-serving/scripts/fetch_config.py",
        r"""
        import json

        from huggingface_hub import hf_hub_download

        path = hf_hub_download(repo_id="Qwen/Qwen2.5-7B-Instruct", filename="config.json")
        with open(path) as f:
            print(json.load(f)["max_position_embeddings"])
        """,
        [6],
        ["ai-service"],
        "hf_hub_download of a JSON file, unpinned",
    )
    s.seeded(
        "sft-recipes/recipes/data.py",
        r"""
        from datasets import load_dataset


        def sft_split(n: int | None = None):
            ds = load_dataset("HuggingFaceH4/ultrachat_200k", split="train_sft")
            return ds.select(range(n)) if n else ds
        """,
        [6],
        ["ai-service"],
        "load_dataset of an org/name dataset without revision",
    )
    s.seeded(
        "qa-baseline/qa/data.py",
        r"""
        import datasets

        squad = datasets.load_dataset("squad", split="validation")
        """,
        [6],
        ["ai-service"],
        "load_dataset of a canonical dataset id via the module attribute",
    )
    s.seeded(
        "semantic-search/search/encoder.py",
        r"""
        from sentence_transformers import SentenceTransformer

        _encoder = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2", device="cpu")


        def encode(texts: list[str]):
            return _encoder.encode(texts, normalize_embeddings=True, batch_size=64)
        """,
        [6],
        [],
        "SentenceTransformer of a hub id without revision",
    )
    s.seeded(
        "semantic-search/search/bge.py",
        r"""
        from sentence_transformers import SentenceTransformer

        bge = SentenceTransformer("BAAI/bge-small-en-v1.5", revision="v1.5")
        """,
        [6],
        [],
        "revision is a tag, not a commit",
    )
    s.seeded(
        "creative-studio/studio/sdxl.py",
        r"""
        import torch
        from diffusers import StableDiffusionXLPipeline

        pipe = StableDiffusionXLPipeline.from_pretrained(
            "stabilityai/stable-diffusion-xl-base-1.0",
            torch_dtype=torch.float16,
            variant="fp16",
            use_safetensors=True,
        ).to("cuda")


        def render(prompt: str):
            return pipe(prompt, num_inference_steps=30).images[0]
        """,
        [6],
        ["ai-service"],
        "diffusers pipeline from_pretrained, unpinned",
    )
    base_rev = s.commit()
    s.seeded(
        "support-bot/train/adapter.py",
        _fill(
            r"""
            from peft import PeftModel
            from transformers import AutoModelForCausalLM

            base = AutoModelForCausalLM.from_pretrained(
                "meta-llama/Llama-3.1-8B-Instruct", revision="%%rev%%", torch_dtype="auto"
            )
            model = PeftModel.from_pretrained(base, "acme-ml/support-bot-lora")
            """,
            rev=base_rev,
        ),
        [6],
        ["ai-service"],
        "base model pinned, PEFT adapter from the hub unpinned",
    )
    s.seeded(
        "semantic-search/search/e5.py",
        r"""
        from transformers import AutoModel

        model = AutoModel.from_pretrained("intfloat/e5-large-v2", revision=None)
        """,
        [6],
        ["ai-service"],
        "explicit revision=None",
    )
    s.seeded(
        "code-review-bot/bot/model.py",
        r"""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        NAME = "deepseek-ai/deepseek-coder-6.7b-instruct"
        tokenizer = AutoTokenizer.from_pretrained(
            "deepseek-ai/deepseek-coder-6.7b-instruct", trust_remote_code=True
        )
        model = AutoModelForCausalLM.from_pretrained(
            "deepseek-ai/deepseek-coder-6.7b-instruct",
            trust_remote_code=True,
            device_map="auto",
        )
        """,
        [2, 6],
        ["ai-service"],
        "trust_remote_code=True on an unpinned hub model",
    )
    s.seeded(
        "doc-ocr/ocr/florence.py",
        _fill(
            r"""
            from transformers import AutoModelForCausalLM, AutoProcessor

            REPO = "microsoft/Florence-2-large"
            REV = "%%rev%%"

            processor = AutoProcessor.from_pretrained(
                "microsoft/Florence-2-large", revision="%%rev%%", trust_remote_code=True
            )
            model = AutoModelForCausalLM.from_pretrained(
                "microsoft/Florence-2-large", revision="%%rev%%", trust_remote_code=True
            )
            """,
            rev=s.commit(),
        ),
        [2],
        ["ai-service"],
        "trust_remote_code=True even with a pinned commit",
    )
    s.seeded(
        "long-context/lc/config_probe.py",
        _fill(
            r"""
            from transformers import AutoConfig

            cfg = AutoConfig.from_pretrained(
                "THUDM/chatglm3-6b", trust_remote_code=True, revision="%%rev%%"
            )
            print(cfg.seq_length)
            """,
            rev=s.commit(),
        ),
        [2],
        ["ai-service"],
        "AutoConfig with trust_remote_code=True",
    )
    s.seeded(
        "batch-infer/infer/moe_offline.py",
        r"""
        from vllm import LLM, SamplingParams

        llm = LLM(
            model="/mnt/models/deepseek-v2-lite-chat",
            trust_remote_code=True,
            max_model_len=8192,
        )
        params = SamplingParams(max_tokens=128)
        """,
        [2],
        ["ai-service:vllm"],
        "vLLM LLM(..., trust_remote_code=True)",
        allowed=[11],
    )
    s.seeded(
        "sft-recipes/recipes/math_data.py",
        r"""
        from datasets import load_dataset

        gsm = load_dataset("openai/gsm8k", "main", split="train", trust_remote_code=True)
        """,
        [2, 6],
        ["ai-service"],
        "load_dataset with trust_remote_code=True, unpinned",
    )
    s.seeded(
        "long-context/lc/kwargs.py",
        r"""
        from transformers import AutoModelForCausalLM

        LOAD_KWARGS = {"trust_remote_code": True, "torch_dtype": "auto"}

        model = AutoModelForCausalLM.from_pretrained("/mnt/models/internlm2-chat-7b", **LOAD_KWARGS)
        """,
        [2],
        ["ai-service"],
        "trust_remote_code passed through a kwargs dict",
        stretch=True,
    )
    s.seeded(
        "sft-recipes/recipes/train_lora.py",
        r"""
        from dataclasses import dataclass

        import torch
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments


        @dataclass
        class Config:
            output_dir: str = "out/lora"
            rank: int = 16


        def main(cfg: Config) -> None:
            tok = AutoTokenizer.from_pretrained("Qwen/Qwen2.5-1.5B-Instruct")
            model = AutoModelForCausalLM.from_pretrained(
                "Qwen/Qwen2.5-1.5B-Instruct", torch_dtype=torch.bfloat16
            )
            model = get_peft_model(model, LoraConfig(r=cfg.rank, target_modules="all-linear"))
            args = TrainingArguments(cfg.output_dir, per_device_train_batch_size=4)
            Trainer(model=model, args=args, tokenizer=tok).train()


        if __name__ == "__main__":
            main(Config())
        """,
        [6],
        ["ai-service"],
        "fine-tuning script inside a function with a dataclass config",
    )


def _python_loads(s: _Set) -> None:
    """Unsafe deserialisation: torch.load (003), downloaded pickles (004), allow_pickle (005)."""
    s.seeded(
        "vision-ranker/serve/load.py",
        r"""
        import torch

        from .net import Ranker


        def load_model(ckpt_path: str) -> Ranker:
            model = Ranker()
            state = torch.load(ckpt_path, map_location="cpu")
            model.load_state_dict(state["model"])
            return model.eval()
        """,
        [3],
        [],
        "torch.load with map_location only",
    )
    s.seeded(
        "vision-ranker/train/resume.py",
        r"""
        import argparse

        import torch

        parser = argparse.ArgumentParser()
        parser.add_argument("--resume", required=True)
        args = parser.parse_args()

        model = torch.nn.Linear(512, 10)
        model.load_state_dict(torch.load(args.resume))
        """,
        [3],
        [],
        "torch.load nested inside load_state_dict",
    )
    s.seeded(
        "speech-kws/kws/export.py",
        r"""
        import torch


        def export(src: str, dst: str) -> None:
            ckpt = torch.load(src, map_location="cpu", weights_only=False)
            scripted = torch.jit.script(ckpt["model"])
            scripted.save(dst)
        """,
        [3],
        [],
        "weights_only=False written out",
    )
    s.seeded(
        "speech-kws/kws/compat.py",
        r"""
        import torch as th


        def restore(path):
            return th.load(path)
        """,
        [3],
        [],
        "torch imported as th",
        stretch=True,
    )
    s.seeded(
        "speech-kws/kws/compat_load.py",
        r"""
        from torch import load as torch_load


        def restore(path):
            return torch_load(path, map_location="cpu")
        """,
        [3],
        [],
        "torch.load imported under another name",
        stretch=True,
    )
    s.seeded(
        "vision-ranker/train/trainer.py",
        r"""
        import os
        from pathlib import Path

        import torch


        class CheckpointingTrainer:
            def __init__(self, model: torch.nn.Module, output_dir: Path) -> None:
                self.model = model
                self.output_dir = output_dir
                self.optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)

            def save(self, step: int) -> None:
                torch.save(self.optimizer.state_dict(), self.output_dir / f"opt-{step}.pt")

            def restore_optimizer(self, step: int) -> None:
                path = os.path.join(self.output_dir, f"opt-{step}.pt")
                self.optimizer.load_state_dict(torch.load(path, map_location="cuda"))
        """,
        [3],
        [],
        "torch.load in a trainer method",
    )
    s.seeded(
        "churn-model/serving/model_store.py",
        r"""
        import joblib
        from huggingface_hub import hf_hub_download


        def load_churn_model():
            path = hf_hub_download(repo_id="acme-ds/churn-xgb", filename="model.joblib")
            return joblib.load(path)
        """,
        [4, 6],
        ["ai-service"],
        "joblib.load of an hf_hub_download result",
    )
    s.seeded(
        "churn-model/serving/pinned_store.py",
        _fill(
            r"""
            import pickle

            from huggingface_hub import hf_hub_download

            local = hf_hub_download(
                repo_id="acme-ds/churn-xgb", filename="encoder.pkl", revision="%%rev%%"
            )
            with open(local, "rb") as fh:
                encoder = pickle.load(fh)
            """,
            rev=s.commit(),
        ),
        [4],
        ["ai-service"],
        "pinned download is still a downloaded pickle (through with open)",
    )
    s.seeded(
        "pricing-svc/pricing/remote_model.py",
        r"""
        import pickle

        import requests

        MODEL_URL = "https://artifacts.acme-corp.net/pricing/gbm-2024-09.pkl"


        def fetch_model():
            resp = requests.get(MODEL_URL, timeout=30)
            resp.raise_for_status()
            return pickle.loads(resp.content)
        """,
        [4],
        [],
        "pickle.loads of requests.get content",
    )
    s.seeded(
        "pricing-svc/pricing/bootstrap.py",
        r"""
        import urllib.request

        import joblib

        SRC = "https://models.acme-corp.net/pricing/latest/model.joblib"
        DEST = "/tmp/pricing_model.joblib"


        def bootstrap():
            urllib.request.urlretrieve(SRC, DEST)
            return joblib.load(DEST)
        """,
        [4],
        [],
        "urlretrieve to a destination then joblib.load of it",
    )
    s.seeded(
        "fraud-feats/feats/remote_frame.py",
        r"""
        import pandas as pd

        features = pd.read_pickle("https://data.acme-corp.net/fraud/features-2024-10.pkl.gz")
        """,
        [4],
        [],
        "pandas.read_pickle of a URL",
    )
    s.seeded(
        "vision-ranker/serve/hub_ckpt.py",
        r"""
        import torch
        from huggingface_hub import hf_hub_download

        state = torch.load(hf_hub_download("acme-vision/ranker", "pytorch_model.bin"))
        """,
        [3, 4, 6],
        ["ai-service"],
        "torch.load of an unpinned hub download, positional repo id",
    )
    s.seeded(
        "churn-model/batch/score.py",
        r"""
        import boto3
        import joblib

        s3 = boto3.client("s3")


        def load(bucket: str, key: str):
            local_path = "/tmp/" + key.rsplit("/", 1)[-1]
            s3.download_file(bucket, key, local_path)
            return joblib.load(local_path)
        """,
        [4],
        [],
        "joblib.load of an S3 download_file destination",
    )
    s.seeded(
        "fraud-feats/feats/dill_fetch.py",
        r"""
        from urllib.request import urlopen

        import dill


        def load_transformer(url: str):
            with urlopen(url) as response:
                return dill.load(response)
        """,
        [4],
        [],
        "dill.load of a urlopen response",
    )
    s.seeded(
        "fraud-feats/feats/cloud_fn.py",
        r"""
        import cloudpickle
        import requests


        def remote_fn(url: str):
            blob = requests.get(url, timeout=10).content
            fn = cloudpickle.loads(blob)
            return fn
        """,
        [4],
        [],
        "cloudpickle.loads of downloaded bytes via a variable",
    )
    s.seeded(
        "recsys/recsys/embeddings.py",
        r"""
        import numpy as np


        def load_item_vectors(path: str) -> dict:
            data = np.load(path, allow_pickle=True)
            return data.item()
        """,
        [5],
        [],
        "np.load with allow_pickle=True",
    )
    s.seeded(
        "recsys/recsys/legacy_io.py",
        r"""
        import numpy


        def read_meta(f):
            return numpy.load(f, allow_pickle=True, encoding="latin1")["meta"]
        """,
        [5],
        [],
        "numpy.load with allow_pickle=True via the full module name",
    )
    s.seeded(
        "image-caption/app.py",
        _fill(
            r"""
        import gradio as gr
        from transformers import pipeline

        captioner = pipeline(
            "image-to-text", model="Salesforce/blip-image-captioning-base", revision="%%rev%%"
        )


        def caption(image):
            return captioner(image)[0]["generated_text"]


        demo = gr.Interface(fn=caption, inputs=gr.Image(type="pil"), outputs="text")

        if __name__ == "__main__":
            demo.launch(server_name="0.0.0.0", server_port=7860)
        """,
            rev=s.commit(),
        ),
        [7],
        ["model-server:gradio"],
        "Gradio app on all interfaces without auth=",
        stretch=True,
    )


def _keys(s: _Set) -> None:
    """Hard-coded provider keys (001) in the places teams leave them."""
    s.seeded(
        "support-bot/app/settings.py",
        _fill(
            r"""
            from pydantic_settings import BaseSettings


            class Settings(BaseSettings):
                openai_api_key: str = "%%key%%"
                model: str = "gpt-4o-mini"
                max_tokens: int = 800


            settings = Settings()
            """,
            key=s.openai_key(),
        ),
        [1],
        [],
        "legacy OpenAI key as a settings default",
    )
    s.seeded(
        "invoice-parser/parser/llm.py",
        _fill(
            r"""
            from openai import OpenAI

            client = OpenAI(api_key="%%key%%")


            def parse(text: str) -> str:
                r = client.responses.create(model="gpt-4o-mini", input=text)
                return r.output_text
            """,
            key=s.openai_project_key(),
        ),
        [1],
        ["ai-service:openai"],
        "project key given to the client",
        allowed=[11],
    )
    s.seeded(
        "invoice-parser/.env",
        _fill(
            """
            DATABASE_URL=postgresql://invoices:invoices@localhost:5432/invoices
            ANTHROPIC_API_KEY=%%key%%
            LOG_LEVEL=info
            """,
            key=s.anthropic_key(),
        ),
        [1],
        [],
        "Anthropic key in a committed .env",
    )
    s.seeded(
        "llm-serving/scripts/login.sh",
        _fill(
            """
            #!/usr/bin/env bash
            set -euo pipefail
            huggingface-cli login --token %%key%% --add-to-git-credential
            python scripts/fetch_weights.py
            """,
            key=s.hf_token(),
        ),
        [1],
        [],
        "Hugging Face token on a CLI login line",
    )
    s.seeded(
        "marketing-copy/copygen/quick.py",
        _fill(
            r"""
            import google.generativeai as genai

            genai.configure(api_key="%%key%%")
            model = genai.GenerativeModel("gemini-1.5-flash")
            """,
            key=s.google_key(),
        ),
        [1],
        ["ai-service:gemini"],
        "Google AI key passed to genai.configure",
        allowed=[11],
    )
    s.seeded(
        "claims-extractor/extract/bedrock_dev.py",
        _fill(
            r"""
            import boto3

            bedrock = boto3.client(
                "bedrock-runtime",
                region_name="us-east-1",
                aws_access_key_id="%%kid%%",
                aws_secret_access_key="%%secret%%",
            )
            """,
            kid=s.aws_key_id(),
            secret=s.aws_secret(),
        ),
        [1],
        ["ai-service:bedrock"],
        "AWS access key pair on a Bedrock client",
        allowed=[11],
    )
    s.seeded(
        "creative-studio/.env.production",
        _fill(
            """
            NEXT_PUBLIC_SITE=https://studio.acme-corp.net
            REPLICATE_API_TOKEN=%%key%%
            """,
            key=s.replicate_token(),
        ),
        [1],
        [],
        "Replicate token in an env file",
    )
    s.seeded(
        "research-agent/config/providers.yaml",
        _fill(
            """
            providers:
              xai:
                base_url: https://api.x.ai/v1
                api_key: %%key%%
                model: grok-2-latest
              local:
                base_url: http://localhost:11434/v1
            """,
            key=s.xai_key(),
        ),
        [1],
        [],
        "xAI key in a YAML provider config",
    )
    s.seeded(
        "research-agent/web/src/lib/search.ts",
        _fill(
            """
            const PPLX_KEY = "%%key%%";

            export async function search(q: string): Promise<string> {
              const res = await fetch("https://api.perplexity.ai/chat/completions", {
                method: "POST",
                headers: {
                  Authorization: `Bearer ${PPLX_KEY}`,
                  "Content-Type": "application/json",
                },
                body: JSON.stringify({ model: "sonar", messages: [{ role: "user", content: q }] }),
              });
              return (await res.json()).choices[0].message.content;
            }
            """,
            key=s.perplexity_key(),
        ),
        [1],
        [],
        "Perplexity key in TypeScript",
        allowed=[11],
    )
    s.seeded(
        "hr-assistant/backend/config.py",
        _fill(
            """
            AZURE_OPENAI_ENDPOINT = "https://acme-hr-eastus2.openai.azure.com/"
            AZURE_OPENAI_API_KEY = "%%key%%"
            AZURE_OPENAI_DEPLOYMENT = "gpt-4o-hr-prod"
            """,
            key=s.chars(HEX, 32),
        ),
        [1],
        [],
        "Azure OpenAI key next to AZURE_OPENAI_API_KEY",
        allowed=[11],
    )
    s.seeded(
        "search-rerank/config/rerank.yaml",
        _fill(
            """
            rerank:
              provider: cohere
              model: rerank-english-v3.0
              cohere_api_key: "%%key%%"
              top_n: 20
            """,
            key=s.chars(ALNUM, 40),
        ),
        [1],
        [],
        "Cohere key next to cohere_api_key in YAML",
    )
    s.seeded(
        "doc-translate/.env",
        _fill(
            """
            MISTRAL_API_KEY=%%key%%
            TARGET_LANGS=fr,de,es
            """,
            key=s.chars(ALNUM, 32),
        ),
        [1],
        [],
        "Mistral key in .env",
    )
    s.seeded(
        "eval-harness/harness/secrets_local.py",
        _fill(
            """
            # local overrides, do not commit (it was committed)
            TOGETHER_API_KEY = "%%key%%"
            """,
            key=s.chars(HEX, 64),
        ),
        [1],
        [],
        "Together key assigned to TOGETHER_API_KEY",
    )
    s.seeded(
        "invoice-parser/docker-compose.yml",
        _fill(
            """
            services:
              api:
                build: .
                ports:
                  - "8080:8080"
                environment:
                  OPENAI_API_KEY: %%key%%
                  DATABASE_URL: postgresql://invoices:invoices@db:5432/invoices
                user: "10001"
              db:
                image: postgres:16
                environment:
                  POSTGRES_PASSWORD: invoices
            """,
            key=s.openai_project_key(),
        ),
        [1],
        [],
        "OpenAI key in a compose environment block",
    )
    s.seeded(
        "kb-assistant/deploy/secret.yaml",
        _fill(
            """
            apiVersion: v1
            kind: Secret
            metadata:
              name: kb-assistant-llm
              namespace: kb
            type: Opaque
            stringData:
              ANTHROPIC_API_KEY: %%key%%
            """,
            key=s.anthropic_key(),
        ),
        [1],
        [],
        "Anthropic key in a Kubernetes Secret stringData",
    )
    s.seeded(
        "kb-assistant/infra/terraform.tfvars",
        _fill(
            """
            environment    = "prod"
            region         = "eu-west-1"
            openai_api_key = "%%key%%"
            """,
            key=s.openai_key(),
        ),
        [1],
        [],
        "OpenAI key in terraform.tfvars",
    )
    s.seeded(
        "claims-java/src/main/resources/application.yml",
        _fill(
            """
            spring:
              application:
                name: claims-assistant
              ai:
                openai:
                  api-key: %%key%%
                  chat:
                    options:
                      model: gpt-4o-mini
            """,
            key=s.openai_project_key(),
        ),
        [1],
        [],
        "Spring AI key in application.yml",
    )
    s.seeded(
        "kb-assistant/.github/workflows/eval.yml",
        _fill(
            """
            name: nightly-eval
            on:
              schedule:
                - cron: "0 3 * * *"
            jobs:
              eval:
                runs-on: ubuntu-latest
                env:
                  OPENAI_API_KEY: %%key%%
                steps:
                  - uses: actions/checkout@v4
                  - run: pip install -r requirements.txt && python -m kb.eval
            """,
            key=s.openai_key(),
        ),
        [1],
        [],
        "OpenAI key in a CI workflow env",
    )
    s.seeded(
        "kb-assistant/config/llm.json",
        _fill(
            """
            {
              "default_provider": "anthropic",
              "anthropic": {"api_key": "%%key%%", "model": "claude-3-5-sonnet-latest"},
              "timeout_s": 60
            }
            """,
            key=s.anthropic_key(),
        ),
        [1],
        [],
        "Anthropic key in a JSON config",
    )
    s.seeded(
        "llm-serving/scripts/hub_login.py",
        _fill(
            """
            from huggingface_hub import login

            login(token="%%key%%")
            """,
            key=s.hf_token(),
        ),
        [1],
        ["ai-service"],
        "Hugging Face token passed to login()",
    )
    s.seeded(
        "marketing-copy/.env.local",
        _fill(
            """
            GEMINI_API_KEY=%%key%%
            """,
            key=s.google_key(),
        ),
        [1],
        [],
        "Gemini key in .env.local",
    )
    s.seeded(
        "slack-digest/digest/client.py",
        _fill(
            """
            from groq import Groq

            groq_client = Groq(api_key="%%key%%")
            """,
            key=s.groq_key(),
        ),
        [1],
        ["ai-service:groq"],
        "Groq key given to the client",
        allowed=[11],
    )
    s.seeded(
        "ops-tools/ops/admin_usage.py",
        _fill(
            """
            import requests

            ADMIN_KEY = "%%key%%"


            def usage_report():
                return requests.get(
                    "https://api.anthropic.com/v1/organizations/usage_report/messages",
                    headers={"x-api-key": ADMIN_KEY, "anthropic-version": "2023-06-01"},
                    timeout=30,
                ).json()
            """,
            key=s.anthropic_key("admin01"),
        ),
        [1],
        ["ai-service:anthropic"],
        "Anthropic admin key (sk-ant-admin01-)",
        allowed=[11],
    )
    s.seeded(
        "ops-tools/ops/svc_account.py",
        _fill(
            """
            OPENAI_SERVICE_ACCOUNT_KEY = "%%key%%"
            """,
            key=s.openai_project_key("svcacct"),
        ),
        [1],
        [],
        "OpenAI service-account key (sk-svcacct-)",
    )
    s.seeded(
        "support-bot/.streamlit/secrets.toml",
        _fill(
            """
            [openai]
            api_key = "%%key%%"

            [db]
            url = "sqlite:///support.db"
            """,
            key=s.openai_project_key(),
        ),
        [1],
        [],
        "OpenAI key in Streamlit secrets.toml",
    )
    s.seeded(
        "claims-android/app/src/main/java/net/acme/claims/AiConfig.kt",
        _fill(
            """
            package net.acme.claims

            object AiConfig {
                const val OPENAI_KEY = "%%key%%"
                const val MODEL = "gpt-4o-mini"
            }
            """,
            key=s.openai_key(),
        ),
        [1],
        [],
        "OpenAI key in a Kotlin constant",
    )
    s.seeded(
        "llm-serving/docker/Dockerfile.download",
        _fill(
            """
            FROM python:3.11-slim
            RUN pip install --no-cache-dir "huggingface_hub[cli]" transformers
            ENV HF_TOKEN=%%key%%
            RUN huggingface-cli download meta-llama/Llama-3.2-1B --local-dir /models/llama
            CMD ["python", "-m", "http.server", "8080", "--directory", "/models"]
            """,
            key=s.hf_token(),
        ),
        [1, 10],
        [],
        "HF token baked into an image that installs ML packages and never sets USER",
    )
    s.seeded(
        "churn-model/notebooks/explore_groq.ipynb",
        _notebook(
            ("markdown", "# Trying Groq for churn reasons\n"),
            ("code", f'import os\nos.environ["GROQ_API_KEY"] = "{s.groq_key()}"\n'),
            (
                "code",
                """
                from groq import Groq
                client = Groq()
                client.chat.completions.create(
                    model="llama-3.1-70b-versatile",
                    messages=[{"role": "user", "content": "Why do customers churn?"}],
                )
                """,
            ),
        ),
        [1],
        ["notebook", "ai-service:groq"],
        "Groq key set in a notebook cell",
        allowed=[11],
    )
    s.seeded(
        "creative-studio/scripts/render_batch.sh",
        _fill(
            """
            #!/bin/sh
            export REPLICATE_API_TOKEN="%%key%%"
            for p in $(cat prompts.txt); do
              curl -s -X POST "https://api.replicate.com/v1/predictions" \\
                -H "Authorization: Bearer $REPLICATE_API_TOKEN" \\
                -d "{\\"version\\": \\"flux\\", \\"input\\": {\\"prompt\\": \\"$p\\"}}"
            done
            """,
            key=s.replicate_token(),
        ),
        [1],
        ["ai-service:replicate"],
        "Replicate token exported in a shell script that calls the API URL",
        allowed=[11],
    )


def _other_languages(s: _Set) -> None:
    """JavaScript/TypeScript, Go and JVM code by their imports."""
    s.seeded(
        "helpdesk-web/src/server/llm.ts",
        """
        import OpenAI from "openai";
        import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";

        const client = new OpenAI();

        export async function reply(history: ChatCompletionMessageParam[]): Promise<string> {
          const r = await client.chat.completions.create({
            model: "gpt-4o-mini",
            messages: history,
          });
          return r.choices[0]?.message?.content ?? "";
        }
        """,
        [],
        ["ai-service:openai"],
        "openai npm package in TypeScript",
        allowed=[11],
    )
    s.seeded(
        "helpdesk-web/src/server/claude.js",
        """
        "use strict";
        const Anthropic = require("@anthropic-ai/sdk");

        const anthropic = new Anthropic();

        async function summarize(text) {
          const msg = await anthropic.messages.create({
            model: "claude-3-5-haiku-latest",
            max_tokens: 256,
            messages: [{ role: "user", content: text }],
          });
          return msg.content[0].text;
        }

        module.exports = { summarize };
        """,
        [],
        ["ai-service:anthropic"],
        "@anthropic-ai/sdk through require()",
        allowed=[11],
    )
    s.seeded(
        "helpdesk-web/src/server/rag.ts",
        """
        import { ChatOpenAI } from "@langchain/openai";
        import { ChatPromptTemplate } from "@langchain/core/prompts";

        const model = new ChatOpenAI({ model: "gpt-4o", temperature: 0 });
        const prompt = ChatPromptTemplate.fromTemplate("Answer: {question}");

        export const chain = prompt.pipe(model);
        """,
        [],
        ["ai-service:langchain"],
        "LangChain.js",
        allowed=[11],
    )
    s.seeded(
        "landing-gen/lib/gemini.mjs",
        """
        import { GoogleGenerativeAI } from "@google/generative-ai";

        const genAI = new GoogleGenerativeAI(process.env.GEMINI_API_KEY);
        const model = genAI.getGenerativeModel({ model: "gemini-1.5-flash" });

        export async function hero(product) {
          const result = await model.generateContent(`Hero text for ${product}`);
          return result.response.text();
        }
        """,
        [],
        ["ai-service:gemini"],
        "Gemini JS SDK in an .mjs module",
        allowed=[11],
    )
    s.seeded(
        "claims-lambda/src/handler.ts",
        """
        import { BedrockRuntimeClient, ConverseCommand } from "@aws-sdk/client-bedrock-runtime";

        const bedrock = new BedrockRuntimeClient({ region: "us-west-2" });

        export const handler = async (event: { text: string }) => {
          const out = await bedrock.send(
            new ConverseCommand({
              modelId: "anthropic.claude-3-haiku-20240307-v1:0",
              messages: [{ role: "user", content: [{ text: event.text }] }],
            }),
          );
          return out.output?.message?.content?.[0]?.text;
        };
        """,
        [],
        ["ai-service:bedrock"],
        "AWS SDK v3 Bedrock runtime client in a Lambda",
        allowed=[11],
    )
    s.seeded(
        "helpdesk-web/src/server/hf.ts",
        """
        import { HfInference } from "@huggingface/inference";

        const hf = new HfInference(process.env.HF_TOKEN);

        export const sentiment = (text: string) =>
          hf.textClassification({
            model: "distilbert-base-uncased-finetuned-sst-2-english",
            inputs: text,
          });
        """,
        [],
        ["ai-service"],
        "Hugging Face inference JS client",
        allowed=[11],
    )
    s.seeded(
        "slack-bot-js/src/groq.js",
        """
        import Groq from "groq-sdk";

        const groq = new Groq({ apiKey: process.env.GROQ_API_KEY });

        export async function tldr(thread) {
          const c = await groq.chat.completions.create({
            model: "llama-3.1-8b-instant",
            messages: [{ role: "user", content: `TL;DR:\\n${thread}` }],
          });
          return c.choices[0].message.content;
        }
        """,
        [],
        ["ai-service:groq"],
        "groq-sdk in JavaScript",
        allowed=[11],
    )
    s.seeded(
        "slack-bot-js/src/mistral.ts",
        """
        import { Mistral } from "@mistralai/mistralai";

        const mistral = new Mistral({ apiKey: process.env.MISTRAL_API_KEY ?? "" });

        export async function translate(text: string): Promise<string> {
          const r = await mistral.chat.complete({
            model: "mistral-small-latest",
            messages: [{ role: "user", content: `Translate to German: ${text}` }],
          });
          return String(r.choices?.[0]?.message?.content ?? "");
        }
        """,
        [],
        ["ai-service:mistral"],
        "Mistral TypeScript SDK",
        allowed=[11],
    )
    s.seeded(
        "desktop-notes/src/main/ollama.ts",
        """
        import ollama from "ollama";

        export async function complete(prompt: string): Promise<string> {
          const r = await ollama.generate({ model: "llama3.2", prompt });
          return r.response;
        }
        """,
        [],
        ["ai-service:ollama"],
        "ollama JS package",
        allowed=[11],
    )
    s.seeded(
        "helpdesk-web/app/api/chat/route.ts",
        _fill(
            """
            import Anthropic from "@anthropic-ai/sdk";
            import { NextResponse } from "next/server";

            const anthropic = new Anthropic({ apiKey: "%%key%%" });

            export async function POST(req: Request) {
              const { message } = await req.json();
              const r = await anthropic.messages.create({
                model: "claude-3-5-sonnet-latest",
                max_tokens: 512,
                messages: [{ role: "user", content: message }],
              });
              const first = r.content[0];
              return NextResponse.json({ text: first.type === "text" ? first.text : "" });
            }
            """,
            key=s.anthropic_key(),
        ),
        [1],
        ["ai-service:anthropic"],
        "Next.js route handler with an Anthropic key in the constructor",
        allowed=[11],
    )
    s.seeded(
        "landing-gen/lib/ai.ts",
        """
        import { openai } from "@ai-sdk/openai";
        import { generateText } from "ai";

        export async function blurb(topic: string) {
          const { text } = await generateText({ model: openai("gpt-4o-mini"), prompt: topic });
          return text;
        }
        """,
        [],
        ["ai-service:openai"],
        "Vercel AI SDK OpenAI provider",
        allowed=[11],
        stretch=True,
    )
    s.seeded(
        "landing-gen/lib/raw_fetch.js",
        """
        export async function complete(prompt) {
          const res = await fetch("https://api.openai.com/v1/chat/completions", {
            method: "POST",
            headers: {
              Authorization: `Bearer ${process.env.OPENAI_API_KEY}`,
              "Content-Type": "application/json",
            },
            body: JSON.stringify({
              model: "gpt-4o-mini",
              messages: [{ role: "user", content: prompt }],
            }),
          });
          return (await res.json()).choices[0].message.content;
        }
        """,
        [],
        ["ai-service:openai"],
        "fetch() to the OpenAI API URL with no SDK import",
        allowed=[11],
        stretch=True,
    )
    s.seeded(
        "gateway-go/internal/llm/openai.go",
        """
        package llm

        import (
        \t"context"

        \t"github.com/openai/openai-go"
        \t"github.com/openai/openai-go/option"
        )

        type Client struct{ c *openai.Client }

        func New(key string) *Client {
        \tc := openai.NewClient(option.WithAPIKey(key))
        \treturn &Client{c: &c}
        }

        func (c *Client) Ask(ctx context.Context, q string) (string, error) {
        \tr, err := c.c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
        \t\tModel:    openai.ChatModelGPT4oMini,
        \t\tMessages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(q)},
        \t})
        \tif err != nil {
        \t\treturn "", err
        \t}
        \treturn r.Choices[0].Message.Content, nil
        }
        """,
        [],
        ["ai-service:openai"],
        "official openai-go in an import block",
        allowed=[11],
    )
    s.seeded(
        "gateway-go/internal/llm/claude.go",
        """
        package llm

        import (
        \t"github.com/anthropics/anthropic-sdk-go"
        \t"github.com/anthropics/anthropic-sdk-go/option"
        )

        func NewClaude(key string) anthropic.Client {
        \treturn anthropic.NewClient(option.WithAPIKey(key))
        }
        """,
        [],
        ["ai-service:anthropic"],
        "anthropic-sdk-go",
        allowed=[11],
    )
    s.seeded(
        "triage-cli/cmd/summarize.go",
        _fill(
            """
            package cmd

            import (
            \t"context"
            \t"fmt"

            \topenai "github.com/sashabaranov/go-openai"
            )

            func summarize(text string) (string, error) {
            \tclient := openai.NewClient("%%key%%")
            \treq := openai.ChatCompletionRequest{
            \t\tModel:    openai.GPT4oMini,
            \t\tMessages: []openai.ChatCompletionMessage{{Role: "user", Content: text}},
            \t}
            \tresp, err := client.CreateChatCompletion(context.Background(), req)
            \tif err != nil {
            \t\treturn "", fmt.Errorf("summarize: %w", err)
            \t}
            \treturn resp.Choices[0].Message.Content, nil
            }
            """,
            key=s.openai_key(),
        ),
        [1],
        ["ai-service:openai"],
        "go-openai with an aliased import and a hard-coded key",
        allowed=[11],
    )
    s.seeded(
        "claims-go/bedrock/invoke.go",
        """
        package bedrock

        import (
        \t"context"

        \t"github.com/aws/aws-sdk-go-v2/config"
        \t"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
        )

        func NewRuntime(ctx context.Context) (*bedrockruntime.Client, error) {
        \tcfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
        \tif err != nil {
        \t\treturn nil, err
        \t}
        \treturn bedrockruntime.NewFromConfig(cfg), nil
        }
        """,
        [],
        ["ai-service:bedrock"],
        "aws-sdk-go-v2 bedrockruntime",
        allowed=[11],
    )
    s.seeded(
        "gateway-go/internal/llm/gemini.go",
        """
        package llm

        import "context"
        import "google.golang.org/genai"

        func Gemini(ctx context.Context) (*genai.Client, error) {
        \treturn genai.NewClient(ctx, &genai.ClientConfig{Backend: genai.BackendGeminiAPI})
        }
        """,
        [],
        ["ai-service:gemini"],
        "Google Gen AI Go SDK on a single import line",
        allowed=[11],
    )
    s.seeded(
        "claims-java/src/main/java/net/acme/claims/ai/OpenAiSummarizer.java",
        """
        package net.acme.claims.ai;

        import com.openai.client.OpenAIClient;
        import com.openai.client.okhttp.OpenAIOkHttpClient;
        import com.openai.models.ChatModel;
        import com.openai.models.chat.completions.ChatCompletionCreateParams;

        public final class OpenAiSummarizer {
            private final OpenAIClient client = OpenAIOkHttpClient.fromEnv();

            public String summarize(String text) {
                var params = ChatCompletionCreateParams.builder()
                        .model(ChatModel.GPT_4O_MINI)
                        .addUserMessage("Summarize: " + text)
                        .build();
                return client.chat().completions().create(params).choices().get(0)
                        .message().content().orElse("");
            }
        }
        """,
        [],
        ["ai-service:openai"],
        "official openai-java",
        allowed=[11],
    )
    s.seeded(
        "claims-java/src/main/java/net/acme/claims/ai/BedrockClassifier.java",
        """
        package net.acme.claims.ai;

        import software.amazon.awssdk.core.SdkBytes;
        import software.amazon.awssdk.regions.Region;
        import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeClient;
        import software.amazon.awssdk.services.bedrockruntime.model.InvokeModelRequest;

        public class BedrockClassifier {
            private final BedrockRuntimeClient client =
                    BedrockRuntimeClient.builder().region(Region.EU_CENTRAL_1).build();

            public String classify(String json) {
                var req = InvokeModelRequest.builder()
                        .modelId("amazon.titan-text-express-v1")
                        .body(SdkBytes.fromUtf8String(json))
                        .build();
                return client.invokeModel(req).body().asUtf8String();
            }
        }
        """,
        [],
        ["ai-service:bedrock"],
        "AWS SDK for Java v2 Bedrock runtime",
        allowed=[11],
    )
    s.seeded(
        "claims-java/src/main/java/net/acme/claims/ai/VertexTriage.java",
        """
        package net.acme.claims.ai;

        import com.google.cloud.vertexai.VertexAI;
        import com.google.cloud.vertexai.generativeai.GenerativeModel;

        public class VertexTriage {
            public String triage(String text) throws Exception {
                try (VertexAI vertex = new VertexAI("acme-claims-prod", "europe-west4")) {
                    var model = new GenerativeModel("gemini-1.5-pro-002", vertex);
                    return model.generateContent(text).toString();
                }
            }
        }
        """,
        [],
        ["ai-service:vertex"],
        "Vertex AI Java SDK",
        allowed=[11],
    )
    s.seeded(
        "claims-android/app/src/main/java/net/acme/claims/Assistant.kt",
        """
        package net.acme.claims

        import com.anthropic.client.AnthropicClient
        import com.anthropic.client.okhttp.AnthropicOkHttpClient
        import com.anthropic.models.messages.MessageCreateParams
        import com.anthropic.models.messages.Model

        class Assistant(private val client: AnthropicClient = AnthropicOkHttpClient.fromEnv()) {
            fun ask(q: String): String {
                val params = MessageCreateParams.builder()
                    .model(Model.CLAUDE_3_5_HAIKU_LATEST)
                    .maxTokens(256)
                    .addUserMessage(q)
                    .build()
                return client.messages().create(params).content().first().text().get().text()
            }
        }
        """,
        [],
        ["ai-service:anthropic"],
        "Anthropic Java SDK from Kotlin",
        allowed=[11],
    )
    s.seeded(
        "claims-java/src/main/java/net/acme/claims/ai/AzureChat.java",
        """
        package net.acme.claims.ai;

        import com.azure.ai.openai.OpenAIClient;
        import com.azure.ai.openai.OpenAIClientBuilder;
        import com.azure.identity.DefaultAzureCredentialBuilder;

        public class AzureChat {
            static OpenAIClient build(String endpoint) {
                return new OpenAIClientBuilder()
                        .credential(new DefaultAzureCredentialBuilder().build())
                        .endpoint(endpoint)
                        .buildClient();
            }
        }
        """,
        [],
        ["ai-service"],
        "Azure OpenAI Java SDK",
        allowed=[11],
    )
    s.seeded(
        "risk-spark/src/main/scala/net/acme/risk/Explain.scala",
        """
        package net.acme.risk

        import com.openai.client.okhttp.OpenAIOkHttpClient
        import com.openai.models.chat.completions.ChatCompletionCreateParams

        object Explain {
          private lazy val client = OpenAIOkHttpClient.fromEnv()

          def why(row: String): String =
            client.chat().completions().create(
              ChatCompletionCreateParams.builder().model("gpt-4o-mini").addUserMessage(row).build()
            ).choices().get(0).message().content().orElse("")
        }
        """,
        [],
        ["ai-service:openai"],
        "openai-java from Scala",
        allowed=[11],
    )
    s.seeded(
        "claims-java/src/main/java/net/acme/claims/ai/Lc4jAssistant.java",
        """
        package net.acme.claims.ai;

        import dev.langchain4j.model.chat.ChatLanguageModel;
        import dev.langchain4j.model.openai.OpenAiChatModel;

        public class Lc4jAssistant {
            private final ChatLanguageModel model = OpenAiChatModel.builder()
                    .apiKey(System.getenv("OPENAI_API_KEY"))
                    .modelName("gpt-4o-mini")
                    .build();

            public String chat(String q) {
                return model.generate(q);
            }
        }
        """,
        [],
        ["ai-service"],
        "LangChain4j OpenAI model",
        allowed=[11],
        stretch=True,
    )


def _shell(s: _Set) -> None:
    """Shell scripts: quoted API URLs and model servers started on all interfaces."""
    s.seeded(
        "ops-tools/bin/list-models.sh",
        """
        #!/usr/bin/env bash
        # Lists the models our org can use; needs OPENAI_API_KEY in the environment.
        set -euo pipefail
        curl -sS "https://api.openai.com/v1/models" \\
          -H "Authorization: Bearer ${OPENAI_API_KEY}" | jq -r '.data[].id' | sort
        """,
        [],
        ["ai-service:openai"],
        "curl to a quoted OpenAI API URL",
        allowed=[11],
    )
    s.seeded(
        "ops-tools/bin/claude-oneshot.sh",
        """
        #!/bin/sh
        curl https://api.anthropic.com/v1/messages \\
          --header "x-api-key: $ANTHROPIC_API_KEY" \\
          --header "anthropic-version: 2023-06-01" \\
          --header "content-type: application/json" \\
          --data '{"model":"claude-3-5-haiku-latest","max_tokens":200,'\\
        '"messages":[{"role":"user","content":"'"$1"'"}]}'
        """,
        [],
        ["ai-service:anthropic"],
        "curl to an unquoted Anthropic API URL",
        allowed=[11],
        stretch=True,
    )
    s.seeded(
        "research-infra/bin/start_jupyter.sh",
        """
        #!/usr/bin/env bash
        # Shared GPU box: start JupyterLab for the team.
        source /opt/conda/etc/profile.d/conda.sh
        conda activate research
        cd /data/work
        jupyter lab --ip=0.0.0.0 --port=8888 --no-browser --ServerApp.token='' --allow-root
        """,
        [7],
        ["model-server:jupyter"],
        "JupyterLab on all interfaces with an empty token",
    )
    s.seeded(
        "research-infra/bin/ray_head.sh",
        """
        #!/usr/bin/env bash
        set -e
        ray stop --force || true
        ray start --head --port=6379 --dashboard-host=0.0.0.0 --dashboard-port=8265 \\
          --num-gpus=8
        """,
        [7],
        ["model-server:ray"],
        "Ray head with the dashboard on all interfaces",
    )
    s.seeded(
        "research-infra/bin/mlflow_server.sh",
        """
        #!/usr/bin/env bash
        exec mlflow server \\
          --backend-store-uri postgresql://mlflow@db.internal/mlflow \\
          --artifacts-destination s3://acme-mlflow-artifacts \\
          --host 0.0.0.0 --port 5000 --workers 4
        """,
        [7],
        ["model-server:mlflow"],
        "MLflow tracking server on all interfaces without basic-auth",
    )
    s.seeded(
        "llm-serving/bin/serve_llama.sh",
        """
        #!/usr/bin/env bash
        set -euo pipefail
        MODEL=${MODEL:-meta-llama/Llama-3.1-8B-Instruct}
        vllm serve "$MODEL" \\
          --host 0.0.0.0 --port 8000 \\
          --tensor-parallel-size 2 --max-model-len 16384 --gpu-memory-utilization 0.92
        """,
        [7],
        ["model-server:vllm"],
        "vllm serve on all interfaces without --api-key",
    )
    s.seeded(
        "llm-serving/bin/serve_legacy.sh",
        """
        #!/bin/bash
        python3 -m vllm.entrypoints.openai.api_server \\
            --model /mnt/models/qwen2.5-14b-instruct \\
            --served-model-name qwen14b \\
            --host 0.0.0.0 \\
            --port 8001
        """,
        [7],
        ["model-server:vllm"],
        "vLLM OpenAI server via python -m on all interfaces",
    )
    s.seeded(
        "homelab-notes/bin/ollama_lan.sh",
        """
        #!/usr/bin/env bash
        # make the box reachable from the laptop
        export OLLAMA_HOST=0.0.0.0:11434
        export OLLAMA_KEEP_ALIVE=24h
        nohup ollama serve > /var/log/ollama.log 2>&1 &
        """,
        [7],
        ["model-server:ollama"],
        "Ollama served on all interfaces through OLLAMA_HOST",
    )
    s.seeded(
        "research-infra/bin/ollama_gpu2.sh",
        """
        #!/bin/sh
        CUDA_VISIBLE_DEVICES=2 OLLAMA_HOST=0.0.0.0 ollama serve
        """,
        [7],
        ["model-server:ollama"],
        "OLLAMA_HOST=0.0.0.0 on the same line as ollama serve",
    )
    s.seeded(
        "teaching/bin/notebook.sh",
        """
        #!/bin/bash
        jupyter notebook --ip 0.0.0.0 --port 9999 --NotebookApp.token="" --NotebookApp.password=""
        """,
        [7],
        ["model-server:jupyter"],
        "classic notebook, empty token and password, space-separated --ip",
    )
    s.seeded(
        "llm-serving/bin/serve_default_host.sh",
        """
        #!/usr/bin/env bash
        vllm serve Qwen/Qwen2.5-7B-Instruct --port 8000 --max-model-len 8192
        """,
        [7],
        ["model-server:vllm"],
        "vllm serve relies on its default host, which is every interface",
        stretch=True,
    )
    s.seeded(
        "llm-serving/Makefile",
        """
        MODEL ?= mistralai/Mistral-7B-Instruct-v0.3

        .PHONY: serve bench

        serve:
        \tvllm serve $(MODEL) --host 0.0.0.0 --port 8000

        bench:
        \tpython bench/throughput.py --url http://localhost:8000/v1
        """,
        [7],
        ["model-server:vllm"],
        "Makefile target launching vLLM on all interfaces",
        stretch=True,
    )
    s.seeded(
        "research-infra/bin/mlflow_ui.sh",
        """
        #!/bin/sh
        cd /data/mlruns && mlflow ui -h 0.0.0.0 -p 5001
        """,
        [7],
        ["model-server:mlflow"],
        "mlflow ui with the short -h flag",
        stretch=True,
    )
    s.seeded(
        "teaching/docker/entrypoint.sh",
        """
        #!/bin/bash
        set -e
        exec jupyter lab --ip='*' --port=8888 --IdentityProvider.token='' \\
          --ServerApp.allow_origin='*'
        """,
        [7],
        ["model-server:jupyter"],
        "JupyterLab with --ip='*' and an empty IdentityProvider token",
        stretch=True,
    )


def _dockerfiles(s: _Set) -> None:
    """Inference and notebook images that run as root (010)."""
    s.seeded(
        "vision-ranker/Dockerfile",
        """
        FROM pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime
        WORKDIR /app
        COPY requirements.txt .
        RUN pip install --no-cache-dir -r requirements.txt
        COPY . .
        EXPOSE 8080
        CMD ["python", "-m", "serve.app", "--port", "8080"]
        """,
        [10],
        [],
        "PyTorch base image, no USER",
    )
    s.seeded(
        "intent-router/Dockerfile",
        """
        FROM python:3.11-slim
        ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
        RUN pip install torch==2.4.1 --index-url https://download.pytorch.org/whl/cpu \\
            && pip install transformers==4.44.2 fastapi uvicorn
        WORKDIR /srv
        COPY router/ router/
        CMD ["uvicorn", "router.api:app", "--host", "0.0.0.0", "--port", "8000"]
        """,
        [10],
        [],
        "slim Python image that installs torch and transformers, no USER",
    )
    s.seeded(
        "speech-kws/Dockerfile",
        """
        FROM python:3.11 AS build
        RUN useradd -m builder
        USER builder
        WORKDIR /home/builder
        COPY --chown=builder . .
        RUN pip wheel --wheel-dir /home/builder/wheels .

        FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04
        RUN apt-get update && apt-get install -y python3-pip && rm -rf /var/lib/apt/lists/*
        COPY --from=build /home/builder/wheels /wheels
        RUN pip3 install /wheels/*.whl
        CMD ["kws-serve"]
        """,
        [10],
        [],
        "multi-stage: USER only in the build stage, the CUDA runtime stage runs as root",
    )
    s.seeded(
        "llm-serving/docker/vllm.Dockerfile",
        """
        FROM vllm/vllm-openai:v0.6.3
        USER root
        RUN apt-get update && apt-get install -y --no-install-recommends curl
        COPY chat_template.jinja /templates/
        ENTRYPOINT ["vllm", "serve", "/models/llama", \\
                    "--chat-template", "/templates/chat_template.jinja"]
        """,
        [10],
        ["model-server:vllm"],
        "vLLM image with USER root as the last USER",
        allowed=[7],
    )
    s.seeded(
        "churn-model/Dockerfile",
        """
        FROM python:3.12-slim
        RUN pip install --no-cache-dir scikit-learn==1.5.2 xgboost==2.1.1 joblib pandas
        COPY serving/ /srv/serving/
        USER 0
        CMD ["python", "/srv/serving/app.py"]
        """,
        [10],
        [],
        "ML packages installed and USER 0",
    )
    s.seeded(
        "teaching/docker/Dockerfile",
        """
        FROM python:3.11
        RUN pip install --no-cache-dir jupyterlab==4.2.5 torch torchvision matplotlib
        WORKDIR /work
        EXPOSE 8888
        CMD ["jupyter", "lab", "--ip=0.0.0.0", "--ServerApp.token=", "--allow-root", "--no-browser"]
        """,
        [10],
        ["model-server:jupyter"],
        "notebook image running JupyterLab as root",
        allowed=[7],
    )
    s.seeded(
        "llm-serving/docker/tgi.Dockerfile",
        """
        FROM ghcr.io/huggingface/text-generation-inference:2.2.0
        ENV MODEL_ID=/data/model
        COPY model/ /data/model/
        """,
        [10],
        [],
        "text-generation-inference image, no USER",
    )
    s.seeded(
        "vision-ranker/Dockerfile.gpu",
        """
        FROM continuumio/miniconda3:24.7.1-0
        RUN conda install -y -c pytorch -c nvidia pytorch pytorch-cuda=12.1 && conda clean -afy
        COPY . /app
        WORKDIR /app
        CMD ["python", "-m", "serve.app"]
        """,
        [10],
        [],
        "conda-installed PyTorch, no USER",
    )
    s.seeded(
        "doc-ocr/Dockerfile",
        """
        FROM nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04
        RUN useradd -u 1001 -m ocr
        USER ocr
        COPY --chown=ocr requirements.txt /home/ocr/
        RUN pip install --user -r /home/ocr/requirements.txt
        USER root
        RUN apt-get update && apt-get install -y tesseract-ocr poppler-utils
        COPY --chown=ocr ocr/ /home/ocr/ocr/
        CMD ["python3", "-m", "ocr.worker"]
        """,
        [10],
        [],
        "USER ocr set, then USER root for apt and never switched back",
    )
    s.seeded(
        "homelab-notes/ollama/Dockerfile",
        """
        FROM ollama/ollama:0.3.12
        ENV OLLAMA_HOST=0.0.0.0:11434
        COPY Modelfile /Modelfile
        RUN ollama serve & sleep 5 && ollama create notes -f /Modelfile
        EXPOSE 11434
        ENTRYPOINT ["/bin/ollama"]
        CMD ["serve"]
        """,
        [10],
        ["model-server:ollama"],
        "Ollama image, no USER",
        allowed=[7],
    )
    s.seeded(
        "vision-ranker/Containerfile",
        """
        FROM docker.io/pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime
        COPY . /app
        CMD ["python", "/app/serve/app.py"]
        """,
        [10],
        [],
        "Podman Containerfile with a PyTorch base, no USER",
        stretch=True,
    )
    s.seeded(
        "triton-serving/Dockerfile",
        """
        FROM nvcr.io/nvidia/tritonserver:24.08-py3
        COPY model_repository /models
        CMD ["tritonserver", "--model-repository=/models", "--strict-model-config=false"]
        """,
        [10],
        [],
        "Triton inference server image, no USER",
    )


def _compose(s: _Set) -> None:
    """docker compose files: published ports without auth (007), root (010), privileged (009)."""
    s.seeded(
        "research-infra/docker-compose.notebooks.yml",
        """
        services:
          lab:
            image: quay.io/jupyter/pytorch-notebook:cuda12-2024-10-07
            command: start-notebook.py --IdentityProvider.token=''
            ports:
              - "8888:8888"
            volumes:
              - /data/shared:/home/jovyan/shared
            deploy:
              resources:
                reservations:
                  devices:
                    - driver: nvidia
                      count: 1
                      capabilities: [gpu]
        """,
        [7],
        ["model-server:jupyter"],
        "compose Jupyter with an empty token and a published port",
        allowed=[10],
    )
    s.seeded(
        "homelab-notes/docker-compose.yml",
        """
        services:
          ollama:
            image: ollama/ollama:0.3.12
            restart: unless-stopped
            ports:
              - 11434:11434
            volumes:
              - ollama:/root/.ollama
          notes:
            build: .
            environment:
              OLLAMA_URL: http://ollama:11434
            depends_on: [ollama]
        volumes:
          ollama: {}
        """,
        [7],
        ["model-server:ollama"],
        "Ollama with its port published",
        allowed=[10],
    )
    s.seeded(
        "research-infra/docker-compose.mlflow.yaml",
        """
        services:
          mlflow:
            image: ghcr.io/mlflow/mlflow:v2.16.2
            command: >
              mlflow server --host 0.0.0.0 --port 5000
              --backend-store-uri postgresql://mlflow:mlflow@postgres/mlflow
              --default-artifact-root s3://acme-mlflow-artifacts/
            ports:
              - "5000:5000"
            depends_on: [postgres]
          postgres:
            image: postgres:16-alpine
            environment:
              POSTGRES_USER: mlflow
              POSTGRES_PASSWORD: mlflow
        """,
        [7],
        ["model-server:mlflow"],
        "MLflow server published without basic-auth",
        allowed=[10],
    )
    s.seeded(
        "llm-serving/compose.yaml",
        """
        services:
          vllm:
            image: vllm/vllm-openai:v0.6.3
            command: ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--max-model-len", "8192"]
            ports:
              - "8000:8000"
            environment:
              HUGGING_FACE_HUB_TOKEN: ${HF_TOKEN}
            ipc: host
            deploy:
              resources:
                reservations:
                  devices:
                    - driver: nvidia
                      count: all
                      capabilities: [gpu]
        """,
        [7],
        ["model-server:vllm"],
        "vLLM image published on 8000 without --api-key",
        allowed=[10],
    )
    s.seeded(
        "batch-infer/docker-compose.yml",
        """
        services:
          worker:
            image: vllm/vllm-openai:v0.6.3
            user: root
            entrypoint: ["python3", "-m", "infer.worker"]
            environment:
              VLLM_API_KEY: ${VLLM_API_KEY:?set it}
            volumes:
              - ./infer:/app/infer
        """,
        [10],
        [],
        "inference worker with user: root written out",
        allowed=[7],
    )
    s.seeded(
        "vision-ranker/docker-compose.gpu.yml",
        """
        services:
          ranker:
            image: registry.acme-corp.net/vision/ranker:1.14.0
            privileged: true
            runtime: nvidia
            environment:
              NVIDIA_VISIBLE_DEVICES: all
            ports:
              - "127.0.0.1:8080:8080"
            deploy:
              resources:
                reservations:
                  devices:
                    - driver: nvidia
                      count: 1
                      capabilities: [gpu]
        """,
        [9],
        [],
        "privileged GPU inference service",
        allowed=[10],
    )
    s.seeded(
        "research-infra/docker-compose.ray.yml",
        """
        services:
          ray-head:
            image: rayproject/ray-ml:2.37.0-gpu
            command: ray start --head --dashboard-host=0.0.0.0 --block
            ports:
              - "8265:8265"
              - "10001:10001"
            shm_size: 8gb
        """,
        [7],
        ["model-server:ray"],
        "Ray dashboard published",
        allowed=[10],
    )
    s.seeded(
        "teaching/compose.yml",
        """
        services:
          notebook:
            build: ./docker
            command: jupyter lab --ip=0.0.0.0 --NotebookApp.token="" --no-browser
            ports:
              - "0.0.0.0:8888:8888"
            user: "1000:100"
        """,
        [7],
        ["model-server:jupyter"],
        "explicit 0.0.0.0 port binding and an empty token",
    )
    s.seeded(
        "research-infra/docker-compose.ollama.yml",
        """
        services:
          ollama:
            image: ollama/ollama:latest
            ports:
              - target: 11434
                published: 11434
                protocol: tcp
        """,
        [7],
        ["model-server:ollama"],
        "long-syntax published port",
        allowed=[10],
        stretch=True,
    )
    s.seeded(
        "homelab-notes/compose.hostnet.yml",
        """
        services:
          ollama:
            image: ollama/ollama:0.3.12
            network_mode: host
            environment:
              OLLAMA_HOST: 0.0.0.0
        """,
        [7],
        ["model-server:ollama"],
        "host network with OLLAMA_HOST=0.0.0.0, no ports section",
        allowed=[10],
        stretch=True,
    )


def _kubernetes(s: _Set) -> None:
    """Kubernetes workloads: servers without auth (007), privileged (009), root (010)."""
    s.seeded(
        "llm-platform/k8s/vllm-deployment.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: llama-8b
          namespace: inference
          labels: {app: llama-8b}
        spec:
          replicas: 2
          selector:
            matchLabels: {app: llama-8b}
          template:
            metadata:
              labels: {app: llama-8b}
            spec:
              containers:
                - name: vllm
                  image: vllm/vllm-openai:v0.6.3
                  args:
                    - --model=meta-llama/Llama-3.1-8B-Instruct
                    - --host=0.0.0.0
                    - --port=8000
                  ports:
                    - containerPort: 8000
                  resources:
                    limits:
                      nvidia.com/gpu: 1
        """,
        [7],
        ["model-server:vllm"],
        "vLLM Deployment without --api-key or VLLM_API_KEY",
        allowed=[10],
    )
    s.seeded(
        "llm-platform/k8s/ollama-statefulset.yaml",
        """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: ollama
          namespace: llm
        spec:
          serviceName: ollama
          replicas: 1
          selector:
            matchLabels: {app: ollama}
          template:
            metadata:
              labels: {app: ollama}
            spec:
              containers:
                - name: ollama
                  image: ollama/ollama:0.3.12
                  env:
                    - name: OLLAMA_HOST
                      value: "0.0.0.0:11434"
                  ports:
                    - containerPort: 11434
                  volumeMounts:
                    - name: models
                      mountPath: /root/.ollama
          volumeClaimTemplates:
            - metadata:
                name: models
              spec:
                accessModes: [ReadWriteOnce]
                resources:
                  requests:
                    storage: 200Gi
        """,
        [7],
        ["model-server:ollama"],
        "Ollama StatefulSet listening on all interfaces",
        allowed=[10],
    )
    s.seeded(
        "llm-platform/k8s/tgi-privileged.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: tgi-mixtral
        spec:
          selector:
            matchLabels: {app: tgi-mixtral}
          template:
            metadata:
              labels: {app: tgi-mixtral}
            spec:
              containers:
                - name: tgi
                  image: ghcr.io/huggingface/text-generation-inference:2.2.0
                  args: ["--model-id", "/data/mixtral", "--num-shard", "2"]
                  securityContext:
                    privileged: true
                  resources:
                    limits:
                      nvidia.com/gpu: 2
        """,
        [9],
        [],
        "TGI container privileged",
        allowed=[10],
    )
    s.seeded(
        "vision-ranker/k8s/train-job.yaml",
        """
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: ranker-train-2024-10
        spec:
          backoffLimit: 1
          template:
            spec:
              restartPolicy: Never
              containers:
                - name: train
                  image: registry.acme-corp.net/vision/ranker-train:1.14.0
                  command: ["torchrun", "--nproc_per_node=4", "train.py"]
                  resources:
                    limits:
                      nvidia.com/gpu: 4
                  securityContext:
                    privileged: true
        """,
        [9],
        [],
        "privileged training Job recognised by its GPU request",
        allowed=[10],
    )
    s.seeded(
        "teaching/k8s/notebook-pod.yaml",
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: course-notebook
          labels: {app: course-notebook}
        spec:
          containers:
            - name: lab
              image: quay.io/jupyter/scipy-notebook:2024-10-07
              command: ["start-notebook.py"]
              args: ["--ServerApp.ip=0.0.0.0", "--IdentityProvider.token="]
              ports:
                - containerPort: 8888
        """,
        [7],
        ["model-server:jupyter"],
        "Jupyter pod with an empty token",
        allowed=[10],
    )
    s.seeded(
        "fin-sentiment/k8s/deployment.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: fin-sentiment
        spec:
          selector:
            matchLabels: {app: fin-sentiment}
          template:
            metadata:
              labels: {app: fin-sentiment}
            spec:
              securityContext:
                runAsUser: 0
                fsGroup: 0
              containers:
                - name: api
                  image: pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime
                  command: ["python", "-m", "sentiment.api"]
        """,
        [10],
        [],
        "pod-level runAsUser: 0 on a PyTorch container",
    )
    s.seeded(
        "triton-serving/k8s/triton.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: triton
        spec:
          selector:
            matchLabels: {app: triton}
          template:
            metadata:
              labels: {app: triton}
            spec:
              securityContext:
                runAsNonRoot: true
                runAsUser: 1000
              containers:
                - name: triton
                  image: nvcr.io/nvidia/tritonserver:24.08-py3
                  args: ["tritonserver", "--model-repository=s3://acme-triton-models/repo"]
                  securityContext:
                    runAsUser: 0
                    runAsNonRoot: false
                  resources:
                    limits:
                      nvidia.com/gpu: 1
        """,
        [10],
        [],
        "container-level runAsUser: 0 overrides the pod's non-root setting",
    )
    s.seeded(
        "churn-model/k8s/cronjob.yaml",
        """
        apiVersion: batch/v1
        kind: CronJob
        metadata:
          name: churn-nightly-score
        spec:
          schedule: "15 2 * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: OnFailure
                  containers:
                    - name: score
                      image: pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime
                      command: ["python", "-m", "batch.score"]
                      securityContext:
                        privileged: true
                      resources:
                        limits:
                          nvidia.com/gpu: 1
        """,
        [9],
        [],
        "privileged container nested in a CronJob jobTemplate",
        allowed=[10],
    )
    s.seeded(
        "research-infra/k8s/ray-head.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: ray-head
        spec:
          selector:
            matchLabels: {app: ray-head}
          template:
            metadata:
              labels: {app: ray-head}
            spec:
              containers:
                - name: ray-head
                  image: rayproject/ray:2.37.0-py311-gpu
                  command: ["/bin/bash", "-c"]
                  args:
                    - ray start --head --dashboard-host=0.0.0.0 --port=6379 --block
                  ports:
                    - containerPort: 8265
                    - containerPort: 6379
        """,
        [7],
        ["model-server:ray"],
        "Ray head pod with the dashboard on all interfaces",
        allowed=[10],
    )
    s.seeded(
        "research-infra/k8s/mlflow.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: mlflow
        spec:
          selector:
            matchLabels: {app: mlflow}
          template:
            metadata:
              labels: {app: mlflow}
            spec:
              securityContext:
                runAsNonRoot: true
                runAsUser: 10001
              containers:
                - name: mlflow
                  image: ghcr.io/mlflow/mlflow:v2.16.2
                  command:
                    - mlflow
                    - server
                    - --host
                    - 0.0.0.0
                    - --backend-store-uri
                    - postgresql://mlflow@pg.mlops/mlflow
        """,
        [7],
        ["model-server:mlflow"],
        "MLflow Deployment without basic-auth, non-root",
    )
    s.seeded(
        "llm-platform/k8s/qwen.yaml",
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: qwen
        spec:
          type: LoadBalancer
          selector: {app: qwen}
          ports:
            - port: 80
              targetPort: 8000
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: qwen
        spec:
          selector:
            matchLabels: {app: qwen}
          template:
            metadata:
              labels: {app: qwen}
            spec:
              containers:
                - name: server
                  image: vllm/vllm-openai:v0.6.3
                  command:
                    - vllm
                    - serve
                    - Qwen/Qwen2.5-32B-Instruct
                    - --tensor-parallel-size=4
                  securityContext:
                    privileged: true
                  resources:
                    limits:
                      nvidia.com/gpu: 4
        """,
        [7, 9],
        ["model-server:vllm"],
        "multi-document file: LoadBalancer Service and a privileged vLLM without a key",
        allowed=[10],
    )
    s.seeded(
        "llm-platform/k8s/edge-daemonset.yaml",
        """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: edge-llm
        spec:
          selector:
            matchLabels: {app: edge-llm}
          template:
            metadata:
              labels: {app: edge-llm}
            spec:
              hostNetwork: true
              containers:
                - name: vllm
                  image: vllm/vllm-openai:v0.6.3
                  args: ["--model", "/models/phi-3.5-mini", "--port", "8010"]
        """,
        [7],
        ["model-server:vllm"],
        "vLLM on the host network of every node, no key",
        allowed=[10],
    )
    s.seeded(
        "vision-ranker/k8s/batch-pod.yaml",
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: ranker-backfill
        spec:
          restartPolicy: Never
          containers:
            - name: backfill
              image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime
              command: ["python", "-m", "train.backfill"]
        """,
        [10],
        [],
        "PyTorch image (root by default) with no securityContext at all",
    )


def _chart(s: _Set, base: str, name: str, templates: dict[str, str]) -> None:
    s.write(
        f"{base}/Chart.yaml",
        f"apiVersion: v2\nname: {name}\ndescription: {name} for the platform team\n"
        'type: application\nversion: 0.4.2\nappVersion: "1.0"\n',
    )
    for path, text in templates.items():
        s.write(f"{base}/templates/{path}", text)


DEPLOYMENT_TEMPLATE = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "chart.fullname" . }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ include "chart.name" . }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ include "chart.name" . }}
    spec:
      {{- if .Values.hostNetwork }}
      hostNetwork: true
      {{- end }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
"""

SERVICE_TEMPLATE = """
apiVersion: v1
kind: Service
metadata:
  name: {{ include "chart.fullname" . }}
spec:
  type: {{ .Values.service.type }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: http
"""


def _helm(s: _Set) -> None:
    """Helm values: exposed servers (007), privileged (009), root (010); templates unrendered."""
    plain = {"deployment.yaml": DEPLOYMENT_TEMPLATE, "service.yaml": SERVICE_TEMPLATE}
    _chart(s, "llm-platform/charts/vllm", "vllm", plain)
    s.seeded(
        "llm-platform/charts/vllm/values.yaml",
        """
        replicaCount: 1
        image:
          repository: vllm/vllm-openai
          tag: v0.6.3
        model: meta-llama/Llama-3.1-8B-Instruct
        service:
          type: LoadBalancer
          port: 8000
        podSecurityContext:
          runAsNonRoot: true
          runAsUser: 1000
        securityContext:
          allowPrivilegeEscalation: false
        resources:
          limits:
            nvidia.com/gpu: 1
        """,
        [7],
        ["model-server:vllm"],
        "vLLM chart exposed through a LoadBalancer with no apiKey value",
    )
    _chart(s, "homelab-notes/charts/ollama", "ollama", plain)
    s.seeded(
        "homelab-notes/charts/ollama/values.yaml",
        """
        replicaCount: 1
        image:
          repository: ollama/ollama
          tag: 0.3.12
        hostNetwork: true
        service:
          type: ClusterIP
          port: 11434
        podSecurityContext: {}
        securityContext: {}
        resources: {}
        """,
        [7],
        ["model-server:ollama"],
        "Ollama chart on the host network",
        allowed=[10],
    )
    _chart(s, "llm-platform/charts/inference", "inference", plain)
    s.seeded(
        "llm-platform/charts/inference/values.yaml",
        """
        replicaCount: 2
        image:
          repository: registry.acme-corp.net/llm/inference-server
          tag: "2.3.0"
        service:
          type: ClusterIP
          port: 8080
        podSecurityContext:
          runAsNonRoot: true
          runAsUser: 1000
        securityContext:
          privileged: true
        resources:
          limits:
            nvidia.com/gpu: 1
        """,
        [9],
        [],
        "privileged securityContext on an image mapping with a GPU, used by the templates",
    )
    nested = {
        "deployment.yaml": DEPLOYMENT_TEMPLATE.replace(".Values.image", ".Values.server.image")
        .replace(".Values.securityContext", ".Values.server.containerSecurityContext")
        .replace(".Values.resources", ".Values.server.resources"),
        "service.yaml": SERVICE_TEMPLATE,
    }
    _chart(s, "llm-platform/charts/chat-backend", "chat-backend", nested)
    s.seeded(
        "llm-platform/charts/chat-backend/values.yaml",
        """
        replicaCount: 1
        podSecurityContext:
          runAsNonRoot: true
          runAsUser: 2000
        server:
          image:
            repository: vllm/vllm-openai
            tag: v0.6.3
          containerSecurityContext:
            privileged: true
          resources:
            limits:
              nvidia.com/gpu: 1
        service:
          type: ClusterIP
          port: 8000
        vllmApiKey: ""
        """,
        [9],
        [],
        "containerSecurityContext privileged inside the server mapping",
        allowed=[7],
    )
    _chart(s, "fin-sentiment/charts/sentiment", "sentiment", plain)
    s.lookalike(
        "fin-sentiment/charts/sentiment/values.yaml",
        """
        replicaCount: 2
        image:
          repository: registry.acme-corp.net/ml/fin-sentiment
          tag: "3.1.0"
        service:
          type: ClusterIP
          port: 8080
        podSecurityContext:
          runAsNonRoot: true
          runAsUser: 1000
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
        resources:
          limits:
            nvidia.com/gpu: 1
        """,
        "base values of a GPU chart: non-root, not privileged, internal service",
    )
    s.seeded(
        "fin-sentiment/charts/sentiment/values-gpu-debug.yaml",
        """
        podSecurityContext:
          runAsNonRoot: false
          runAsUser: 0
        """,
        [10],
        [],
        "override values file switching the GPU pod to root",
    )
    s.lookalike(
        "fin-sentiment/charts/sentiment/values-staging.yaml",
        """
        replicaCount: 1
        image:
          tag: "3.1.0-rc2"
        """,
        "override that changes only replicas and tag: nothing to report",
    )
    _chart(s, "research-infra/charts/mlflow", "mlflow", plain)
    s.seeded(
        "research-infra/charts/mlflow/values.yaml",
        """
        replicaCount: 1
        image:
          repository: ghcr.io/mlflow/mlflow
          tag: v2.16.2
        backendStore:
          postgres:
            host: pg.mlops
        service:
          type: NodePort
          port: 5000
        podSecurityContext:
          runAsNonRoot: true
          runAsUser: 1001
        securityContext: {}
        resources: {}
        """,
        [7],
        ["model-server:mlflow"],
        "MLflow chart on a NodePort without auth.enabled",
    )
    _chart(s, "teaching/charts/lab", "lab", plain)
    s.seeded(
        "teaching/charts/lab/values.yaml",
        """
        replicaCount: 1
        image:
          repository: quay.io/jupyter/pytorch-notebook
          tag: cuda12-2024-10-07
        service:
          type: ClusterIP
          port: 8888
        podSecurityContext:
          runAsUser: 0
          fsGroup: 100
        securityContext: {}
        resources:
          limits:
            nvidia.com/gpu: 1
        """,
        [10],
        [],
        "notebook chart with podSecurityContext.runAsUser: 0",
    )


def _terraform(s: _Set) -> None:
    """Public buckets that hold models (008), read as Terraform modules."""
    s.write(
        "ml-infra/aws-weights/providers.tf",
        """
        terraform {
          required_providers {
            aws = { source = "hashicorp/aws", version = "~> 5.60" }
          }
        }

        provider "aws" {
          region = "eu-west-1"
        }
        """,
    )
    s.seeded(
        "ml-infra/aws-weights/main.tf",
        """
        resource "aws_s3_bucket" "weights" {
          bucket = "acme-llm-weights-prod"
        }

        resource "aws_s3_bucket_ownership_controls" "weights" {
          bucket = aws_s3_bucket.weights.id
          rule {
            object_ownership = "BucketOwnerPreferred"
          }
        }

        resource "aws_s3_bucket_acl" "weights" {
          depends_on = [aws_s3_bucket_ownership_controls.weights]
          bucket     = aws_s3_bucket.weights.id
          acl        = "public-read"
        }
        """,
        [8],
        [],
        "separate aws_s3_bucket_acl public-read on a weights bucket",
    )
    s.write(
        "ml-infra/aws-checkpoints/variables.tf",
        """
        variable "bucket_name" {
          type    = string
          default = "acme-checkpoints-eu"
        }

        variable "environment" {
          type    = string
          default = "prod"
        }
        """,
    )
    s.seeded(
        "ml-infra/aws-checkpoints/main.tf",
        """
        resource "aws_s3_bucket" "this" {
          bucket = var.bucket_name
          tags = {
            Environment = var.environment
          }
        }

        resource "aws_s3_bucket_public_access_block" "this" {
          bucket                  = aws_s3_bucket.this.id
          block_public_acls       = true
          block_public_policy     = false
          ignore_public_acls      = true
          restrict_public_buckets = false
        }

        resource "aws_s3_bucket_policy" "public_read" {
          bucket = aws_s3_bucket.this.id
          policy = jsonencode({
            Version = "2012-10-17"
            Statement = [{
              Sid       = "PublicRead"
              Effect    = "Allow"
              Principal = "*"
              Action    = ["s3:GetObject"]
              Resource  = "${aws_s3_bucket.this.arn}/*"
            }]
          })
        }
        """,
        [8],
        [],
        "bucket name from a variable, jsonencode policy with Principal *; ACLs blocked only",
    )
    s.write(
        "ml-infra/gguf-mirror/variables.tf",
        """
        variable "team" {
          type    = string
          default = "platform"
        }
        """,
    )
    s.seeded(
        "ml-infra/gguf-mirror/main.tf",
        """
        locals {
          bucket_name = "${var.team}-gguf-mirror"
        }

        resource "aws_s3_bucket" "mirror" {
          bucket = local.bucket_name
        }

        data "aws_iam_policy_document" "anonymous_read" {
          statement {
            sid     = "AnonymousRead"
            effect  = "Allow"
            actions = ["s3:GetObject", "s3:ListBucket"]
            principals {
              type        = "*"
              identifiers = ["*"]
            }
            resources = [aws_s3_bucket.mirror.arn, "${aws_s3_bucket.mirror.arn}/*"]
          }
        }

        resource "aws_s3_bucket_policy" "mirror" {
          bucket = aws_s3_bucket.mirror.id
          policy = data.aws_iam_policy_document.anonymous_read.json
        }
        """,
        [8],
        [],
        "name built in locals, policy document data source with a * principal",
    )
    s.seeded(
        "ml-infra/mlflow-artifacts/main.tf",
        """
        resource "aws_s3_bucket" "artifacts" {
          bucket = "acme-mlflow-artifacts"
        }

        resource "aws_s3_bucket_policy" "artifacts" {
          bucket = aws_s3_bucket.artifacts.id
          policy = <<POLICY
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Principal": "*",
              "Action": "s3:GetObject",
              "Resource": "arn:aws:s3:::acme-mlflow-artifacts/*"
            }
          ]
        }
        POLICY
        }
        """,
        [8],
        [],
        "heredoc JSON policy on the MLflow artifact bucket",
    )
    s.seeded(
        "ml-infra/legacy-models/main.tf",
        """
        resource "aws_s3_bucket" "assets" {
          bucket = "acme-prod-7f3a2c"
          acl    = "public-read"

          tags = {
            Team     = "vision"
            Contents = "model-weights"
          }
        }
        """,
        [8],
        [],
        "opaque bucket name; tags say it holds model weights; inline acl (provider v3 style)",
    )
    s.seeded(
        "ml-infra/adapters/main.tf",
        """
        resource "aws_s3_bucket" "lora_adapters" {
          bucket = "acme-team-bkt-0042"
        }

        resource "aws_s3_bucket_acl" "lora_adapters" {
          bucket = aws_s3_bucket.lora_adapters.id
          acl    = "public-read"
        }
        """,
        [8],
        [],
        "only the resource label says LoRA adapters",
    )
    s.seeded(
        "ml-infra/onnx-exports/main.tf",
        """
        data "aws_canonical_user_id" "current" {}

        resource "aws_s3_bucket" "onnx" {
          bucket = "acme-onnx-exports"
        }

        resource "aws_s3_bucket_acl" "onnx" {
          bucket = aws_s3_bucket.onnx.id
          access_control_policy {
            grant {
              grantee {
                type = "Group"
                uri  = "http://acs.amazonaws.com/groups/global/AllUsers"
              }
              permission = "READ"
            }
            owner {
              id = data.aws_canonical_user_id.current.id
            }
          }
        }
        """,
        [8],
        [],
        "AllUsers grant in an access_control_policy",
    )
    s.seeded(
        "ml-infra/gcp-registry/main.tf",
        """
        resource "google_storage_bucket" "model_registry" {
          name                        = "acme-model-registry"
          location                    = "EU"
          uniform_bucket_level_access = true
        }

        resource "google_storage_bucket_iam_member" "public_read" {
          bucket = google_storage_bucket.model_registry.name
          role   = "roles/storage.objectViewer"
          member = "allUsers"
        }
        """,
        [8],
        [],
        "GCS model registry readable by allUsers",
    )
    s.write(
        "ml-infra/gcp-onnx/variables.tf",
        """
        variable "bucket" {
          description = "Where exported models are published"
          type        = string
          default     = "acme-onnx-public-exports"
        }
        """,
    )
    s.seeded(
        "ml-infra/gcp-onnx/main.tf",
        """
        resource "google_storage_bucket" "exports" {
          name     = var.bucket
          location = "US"
        }

        resource "google_storage_bucket_iam_binding" "viewers" {
          bucket  = google_storage_bucket.exports.name
          role    = "roles/storage.objectViewer"
          members = ["allUsers", "group:ml-eng@acme-corp.net"]
        }
        """,
        [8],
        [],
        "GCS iam_binding members include allUsers; name from a variable",
    )
    s.seeded(
        "ml-infra/azure-models/main.tf",
        """
        resource "azurerm_storage_account" "ml" {
          name                     = "acmemlstore01"
          resource_group_name      = "rg-ml"
          location                 = "westeurope"
          account_tier             = "Standard"
          account_replication_type = "LRS"
        }

        resource "azurerm_storage_container" "checkpoints" {
          name                  = "checkpoints"
          storage_account_name  = azurerm_storage_account.ml.name
          container_access_type = "blob"
        }
        """,
        [8],
        [],
        "Azure container named checkpoints with blob access",
    )
    s.seeded(
        "ml-infra/azure-finetunes/main.tf",
        """
        resource "azurerm_storage_account" "ft" {
          name                            = "acmeftstore"
          resource_group_name             = "rg-llm"
          location                        = "swedencentral"
          account_tier                    = "Standard"
          account_replication_type        = "ZRS"
          allow_nested_items_to_be_public = true
        }

        resource "azurerm_storage_container" "llm_finetunes" {
          name                  = "llm-finetunes"
          storage_account_id    = azurerm_storage_account.ft.id
          container_access_type = "container"
        }
        """,
        [8],
        [],
        "Azure container with container-level public access",
    )
    s.write(
        "ml-infra/aws-artifacts-tfvars/variables.tf",
        """
        variable "bucket_name" {
          type    = string
          default = "acme-scratch"
        }

        variable "acl" {
          type    = string
          default = "private"
        }
        """,
    )
    s.write(
        "ml-infra/aws-artifacts-tfvars/terraform.tfvars",
        """
        bucket_name = "acme-model-artifacts"
        acl         = "public-read"
        """,
    )
    s.seeded(
        "ml-infra/aws-artifacts-tfvars/main.tf",
        """
        resource "aws_s3_bucket" "store" {
          bucket = var.bucket_name
        }

        resource "aws_s3_bucket_acl" "store" {
          bucket = aws_s3_bucket.store.id
          acl    = var.acl
        }
        """,
        [8],
        [],
        "name and public ACL only in terraform.tfvars",
    )
    s.write(
        "ml-infra/split-files/buckets.tf",
        """
        resource "aws_s3_bucket" "models" {
          bucket = "acme-shared-models"
        }
        """,
    )
    s.seeded(
        "ml-infra/split-files/policy.tf",
        """
        resource "aws_s3_bucket_policy" "models" {
          bucket = aws_s3_bucket.models.id
          policy = jsonencode({
            Version = "2012-10-17"
            Statement = [{
              Effect    = "Allow"
              Principal = { AWS = "*" }
              Action    = "s3:GetObject"
              Resource  = "${aws_s3_bucket.models.arn}/*"
            }]
          })
        }
        """,
        [8],
        [],
        "policy in another file of the module than its bucket; Principal {AWS: *}",
        stretch=True,
    )
    s.seeded(
        "ml-infra/gcp-legacy-acl/main.tf",
        """
        resource "google_storage_bucket" "weights" {
          name     = "acme-legacy-weights"
          location = "EU"
        }

        resource "google_storage_bucket_acl" "weights" {
          bucket         = google_storage_bucket.weights.name
          predefined_acl = "publicRead"
        }
        """,
        [8],
        [],
        "GCS legacy predefined ACL publicRead",
        stretch=True,
    )
    s.seeded(
        "ml-infra/bucket-policies/mlflow-public.json",
        """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "ReadArtifacts",
              "Effect": "Allow",
              "Principal": "*",
              "Action": ["s3:GetObject"],
              "Resource": ["arn:aws:s3:::acme-mlflow-runs/*"]
            }
          ]
        }
        """,
        [8],
        [],
        "bucket-policy JSON with Principal * on an MLflow bucket",
    )
    s.seeded(
        "ml-infra/bucket-policies/weights-cdn.json",
        """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Principal": {"AWS": "*"},
              "Action": "s3:GetObject",
              "Resource": "arn:aws:s3:::acme-public-model-weights/releases/*"
            }
          ]
        }
        """,
        [8],
        [],
        "bucket-policy JSON with Principal {AWS: *} on a weights bucket",
    )


def _notebooks(s: _Set) -> None:
    """Notebooks: the inventory entry, and code cells through the Python checks."""
    s.seeded(
        "support-bot/notebooks/prompt_tuning.ipynb",
        _notebook(
            ("markdown", "## Prompt experiments\nComparing system prompts on 50 tickets.\n"),
            ("code", "import pandas as pd\ntickets = pd.read_csv('../data/tickets_sample.csv')\n"),
            (
                "code",
                f'from openai import OpenAI\nclient = OpenAI(api_key="{s.openai_project_key()}")\n',
            ),
            (
                "code",
                """
                def run(system):
                    return [
                        client.chat.completions.create(
                            model="gpt-4o-mini",
                            messages=[{"role": "system", "content": system},
                                      {"role": "user", "content": t}],
                        ).choices[0].message.content
                        for t in tickets.body[:50]
                    ]
                """,
            ),
        ),
        [1],
        ["notebook", "ai-service:openai"],
        "OpenAI key in a notebook cell",
        allowed=[11],
    )
    s.seeded(
        "fin-sentiment/notebooks/finetune.ipynb",
        _notebook(
            ("code", "%pip install -q transformers==4.44.2 datasets accelerate\n"),
            ("code", "!nvidia-smi\n"),
            (
                "code",
                """
                from transformers import AutoModelForSequenceClassification, AutoTokenizer
                tok = AutoTokenizer.from_pretrained("yiyanghkust/finbert-tone")
                model = AutoModelForSequenceClassification.from_pretrained(
                    "yiyanghkust/finbert-tone", num_labels=3
                )
                """,
            ),
        ),
        [6],
        ["notebook", "ai-service"],
        "magics in other cells; from_pretrained unpinned",
    )
    s.seeded(
        "vision-ranker/notebooks/inspect_ckpt.ipynb",
        _notebook(
            ("markdown", "Look at the last checkpoint's metrics.\n"),
            (
                "code",
                """
                import torch
                ckpt = torch.load("../runs/ranker-v14/last.ckpt", map_location="cpu")
                ckpt["metrics"]
                """,
            ),
        ),
        [3],
        ["notebook"],
        "torch.load in a notebook cell",
    )
    s.seeded(
        "recsys/notebooks/vectors.ipynb",
        _notebook(
            (
                "code",
                """
                import numpy as np
                vecs = np.load("item_vecs.npz", allow_pickle=True)
                list(vecs.keys())[:5]
                """,
            ),
        ),
        [5],
        ["notebook"],
        "allow_pickle=True in a notebook",
    )
    s.seeded(
        "long-context/notebooks/try_glm.ipynb",
        _notebook(
            ("markdown", "# GLM long-context smoke test\n"),
            (
                "code",
                """
                from transformers import AutoModel, AutoTokenizer
                tokenizer = AutoTokenizer.from_pretrained(
                    "THUDM/glm-4-9b-chat", trust_remote_code=True
                )
                """,
            ),
            ("code", "tokenizer('hello')\n"),
        ),
        [2, 6],
        ["notebook", "ai-service"],
        "trust_remote_code=True, unpinned, in the second cell",
    )
    s.seeded(
        "churn-model/notebooks/baseline.ipynb",
        _notebook(
            (
                "code",
                """
                import joblib
                from huggingface_hub import hf_hub_download
                baseline = joblib.load(hf_hub_download("acme-ds/churn-baseline", "model.joblib"))
                """,
            ),
        ),
        [4, 6],
        ["notebook", "ai-service"],
        "joblib.load of a hub download in a notebook",
    )
    s.seeded(
        "fraud-feats/notebooks/eda.ipynb",
        _notebook(
            ("markdown", "# Fraud features EDA\n"),
            (
                "code",
                """
                import pandas as pd
                import matplotlib.pyplot as plt
                df = pd.read_parquet("../data/features.parquet")
                df.describe()
                """,
            ),
            ("code", "df.amount.hist(bins=50); plt.show()\n"),
        ),
        [],
        ["notebook"],
        "plain analysis notebook: inventory only",
    )
    s.seeded(
        "support-bot/notebooks/claude_eval.ipynb",
        _notebook(
            (
                "code",
                """
                import anthropic
                client = anthropic.Anthropic()
                """,
            ),
            (
                "code",
                """
                r = client.messages.create(model="claude-3-5-sonnet-latest", max_tokens=100,
                                           messages=[{"role": "user", "content": "ping"}])
                """,
            ),
        ),
        [],
        ["notebook", "ai-service:anthropic"],
        "Anthropic SDK in a notebook",
        allowed=[11],
    )


def _manifests(s: _Set) -> None:
    """Dependency manifests that declare AI SDKs (ai-dependency)."""
    s.seeded(
        "support-bot/requirements.txt",
        """
        fastapi==0.115.0
        uvicorn[standard]==0.30.6
        openai==1.51.0
        anthropic>=0.36,<1
        pydantic-settings==2.5.2
        """,
        [],
        ["ai-dependency"],
        "requirements.txt pinning openai and anthropic",
    )
    s.seeded(
        "llm-serving/requirements-gpu.txt",
        """
        --extra-index-url https://download.pytorch.org/whl/cu121
        torch==2.4.1
        transformers[torch]>=4.44
        vllm==0.6.3.post1  # serving
        """,
        [],
        ["ai-dependency"],
        "requirements-gpu.txt with vLLM and transformers extras",
    )
    s.seeded(
        "kb-assistant/pyproject.toml",
        """
        [project]
        name = "kb-assistant"
        version = "0.9.0"
        requires-python = ">=3.11"
        dependencies = [
            "langchain-openai>=0.2",
            "langgraph>=0.2.30",
            "llama-index-core>=0.11",
            "httpx",
        ]

        [project.optional-dependencies]
        dev = ["pytest", "ruff"]
        """,
        [],
        ["ai-dependency"],
        "PEP 621 dependencies with LangChain, LangGraph, LlamaIndex",
    )
    s.seeded(
        "claims-extractor/pyproject.toml",
        """
        [tool.poetry]
        name = "claims-extractor"
        version = "1.2.0"
        description = "Extracts claim fields"
        authors = ["Claims Team <claims@acme-corp.net>"]

        [tool.poetry.dependencies]
        python = "^3.11"
        boto3 = "^1.35"
        google-cloud-aiplatform = "^1.70"
        cohere = "^5.11"

        [build-system]
        requires = ["poetry-core"]
        build-backend = "poetry.core.masonry.api"
        """,
        [],
        ["ai-dependency"],
        "Poetry dependencies with Vertex AI and Cohere SDKs",
    )
    s.seeded(
        "helpdesk-web/package.json",
        """
        {
          "name": "helpdesk-web",
          "private": true,
          "scripts": {"dev": "next dev", "build": "next build"},
          "dependencies": {
            "@anthropic-ai/sdk": "^0.29.0",
            "@langchain/openai": "^0.3.5",
            "next": "14.2.15",
            "openai": "^4.67.3",
            "react": "18.3.1"
          }
        }
        """,
        [],
        ["ai-dependency"],
        "package.json with openai, @anthropic-ai/sdk and LangChain",
    )
    s.seeded(
        "slack-bot-js/package.json",
        """
        {
          "name": "slack-bot-js",
          "type": "module",
          "dependencies": {"@slack/bolt": "^3.21.4"},
          "devDependencies": {"groq-sdk": "^0.7.0", "@mistralai/mistralai": "^1.1.0"}
        }
        """,
        [],
        ["ai-dependency"],
        "AI SDKs only in devDependencies",
    )
    s.seeded(
        "gateway-go/go.mod",
        """
        module github.com/acme-corp/gateway-go

        go 1.22

        require (
        \tgithub.com/anthropics/anthropic-sdk-go v0.2.0-alpha.4
        \tgithub.com/openai/openai-go v0.1.0-alpha.31
        \tgithub.com/prometheus/client_golang v1.20.4
        )
        """,
        [],
        ["ai-dependency"],
        "go.mod requiring the OpenAI and Anthropic Go SDKs",
    )
    s.seeded(
        "eval-harness/requirements/base.txt",
        """
        litellm==1.48.2
        together==1.3.1
        pandas
        """,
        [],
        ["ai-dependency"],
        "requirements/base.txt: a requirements directory rather than requirements*.txt",
        stretch=True,
    )
    s.seeded(
        "sft-recipes/requirements.txt",
        """
        # training stack
        -r requirements-base.txt
        accelerate>=0.34
        peft==0.13.2
        datasets~=3.0
        sentence-transformers
        diffusers[torch]  # image experiments
        """,
        [],
        ["ai-dependency"],
        "requirements with includes, comments and extras",
    )
    s.seeded(
        "eval-harness/pyproject.toml",
        """
        [project]
        name = "eval-harness"
        version = "0.3.0"
        dependencies = ["pandas>=2", "rich"]

        [project.optional-dependencies]
        providers = ["litellm>=1.40", "mistralai>=1.0", "groq>=0.11"]
        """,
        [],
        ["ai-dependency"],
        "AI SDKs in optional-dependencies",
    )


def _artifacts(s: _Set) -> None:
    """Model files, datasets and vector stores recognised by their bytes."""
    tensors = {"embed.weight": [32, 16], "lm_head.weight": [16, 32]}
    s.seeded(
        "llm-serving/models/tiny-chat/model.safetensors",
        _safetensors(s, tensors, {"format": "pt"}),
        [],
        ["model"],
        "safetensors file",
    )
    s.seeded(
        "llm-serving/artifacts/blobs/9f2c41d7e0b85a36c0a4d1e8f7b2c3d4a5e6f708",
        _safetensors(s, {"w": [8, 8]}, {"format": "pt", "source": "hub-cache"}),
        [],
        ["model"],
        "safetensors blob without an extension (hub-cache style)",
    )
    s.seeded(
        "homelab-notes/models/notes-3b-q4_k_m.gguf",
        _gguf({"general.architecture": "llama", "general.name": "notes-3b"}),
        [],
        ["model"],
        "GGUF file",
    )
    s.seeded(
        "homelab-notes/models/latest.bin",
        _gguf({"general.architecture": "qwen2", "general.file_type": "q8_0"}),
        [],
        ["model"],
        "GGUF bytes behind a .bin name",
    )
    s.seeded(
        "churn-model/artifacts/encoder.pkl",
        pickle.dumps(
            {"columns": ["tenure", "plan", "mrr"], "categories": {"plan": ["a", "b"]}}, protocol=4
        ),
        [],
        ["model"],
        "small plain-data pickle (protocol 4)",
    )
    s.seeded(
        "churn-model/artifacts/thresholds.dat",
        pickle.dumps({"churn": 0.42, "upsell": 0.61, "version": 7}, protocol=2),
        [],
        ["model"],
        "protocol 2 pickle with a neutral .dat name",
    )
    s.seeded(
        "vision-ranker/runs/ranker-v14/last.ckpt",
        _torch_zip(s, "last", {"epoch": 14, "metrics": {"ndcg@10": 0.713}}),
        [],
        ["model"],
        "zip-based PyTorch checkpoint (.ckpt)",
    )
    s.seeded(
        "speech-kws/export/kws_small.pt",
        _torch_zip(s, "kws_small", {"conv1.weight": [0.1, 0.2], "fc.bias": [0.0]}),
        [],
        ["model"],
        "zip-based PyTorch file (.pt)",
    )
    s.seeded(
        "intent-router/checkpoints/checkpoint-1200/pytorch_model.bin",
        _torch_zip(s, "pytorch_model", {"classifier.bias": [0.0, 0.0, 0.0]}),
        [],
        ["model"],
        "zip-based pytorch_model.bin inside a HF checkpoint directory",
    )
    s.seeded(
        "speech-kws/export/kws.keras",
        _zip(
            {
                "metadata.json": b'{"keras_version": "3.5.0", "date_saved": "2024-10-01"}',
                "config.json": b'{"class_name": "Sequential", "config": {"name": "kws"}}',
                "model.weights.h5": _hdf5(s),
            }
        ),
        [],
        ["model"],
        "Keras v3 .keras zip",
    )
    s.seeded(
        "speech-kws/export/kws_legacy.h5",
        _hdf5(s),
        [],
        ["model"],
        "HDF5 file",
    )
    s.seeded(
        "doc-ocr/models/detector.tflite",
        _tflite(s),
        [],
        ["model"],
        "TFLite flatbuffer",
    )
    s.seeded(
        "intent-router/export/router.onnx",
        _onnx(s),
        [],
        ["model"],
        "ONNX protobuf written field by field",
    )
    s.seeded(
        "recsys/exports/two_tower",
        _onnx(s),
        [],
        ["model"],
        "ONNX protobuf with no extension",
        stretch=True,
    )
    s.seeded(
        "recsys/data/interactions-2024-09.parquet",
        _parquet(s),
        [],
        ["dataset"],
        "Parquet by its magic bytes",
    )
    s.seeded(
        "recsys/data/snapshot",
        _parquet(s),
        [],
        ["dataset"],
        "Parquet bytes with no extension",
    )
    s.seeded(
        "fraud-feats/data/features.arrow",
        _arrow_file(s),
        [],
        ["dataset"],
        "Arrow IPC file",
    )
    s.seeded(
        "support-bot/data/tickets_sample.csv",
        "ticket_id,created_at,channel,body,label\n"
        + "".join(
            f'{1000 + i},2024-09-{i % 28 + 1:02d},email,"Cannot log in after reset {i}",auth\n'
            for i in range(40)
        ),
        [],
        ["dataset"],
        "CSV with a header and rows",
    )
    s.seeded(
        "intent-router/data/intents.tsv",
        "text\tintent\n"
        + "".join(f"where is my order {i}\ttrack_order\n" for i in range(30))
        + "".join(f"cancel subscription {i}\tcancel\n" for i in range(30)),
        [],
        ["dataset"],
        "TSV training data",
    )
    s.seeded(
        "sft-recipes/data/train.jsonl",
        "".join(
            json.dumps(
                {
                    "messages": [
                        {"role": "user", "content": f"q{i}"},
                        {"role": "assistant", "content": f"a{i}"},
                    ]
                }
            )
            + "\n"
            for i in range(50)
        ),
        [],
        ["dataset"],
        "JSONL chat fine-tuning data",
    )
    s.seeded(
        "speech-kws/data/train-00000-of-00004.tfrecord",
        _tfrecord(s, 12),
        [],
        ["dataset"],
        "TFRecord shard",
    )
    s.seeded(
        "recsys/data/item_embeddings.npy",
        _npy(s, (64, 16)),
        [],
        ["dataset"],
        "NumPy .npy array",
    )
    s.seeded(
        "kb-assistant/chroma_db/chroma.sqlite3",
        _sqlite(s),
        [],
        ["vector-store"],
        "Chroma's chroma.sqlite3 with the SQLite header",
    )
    s.seeded(
        "semantic-search/index/docs.faiss",
        _faiss(s, b"IxF2", 16, 20),
        [],
        ["vector-store"],
        "FAISS flat index",
    )
    s.seeded(
        "semantic-search/index/vectors.index",
        _faiss(s, b"IxFI", 16, 12),
        [],
        ["vector-store"],
        "FAISS inner-product index with a generic .index name",
    )
    s.seeded(
        "semantic-search/search/pinecone_store.py",
        r"""
        import os

        from pinecone import Pinecone

        pc = Pinecone(api_key=os.environ["PINECONE_API_KEY"])
        index = pc.Index("docs-prod")


        def upsert(ids: list[str], vectors: list[list[float]]) -> None:
            index.upsert(vectors=list(zip(ids, vectors)), namespace="kb")
        """,
        [],
        ["vector-store"],
        "Pinecone SDK in code",
    )
    s.seeded(
        "semantic-search/search/qdrant_store.py",
        r"""
        from qdrant_client import QdrantClient
        from qdrant_client.models import Distance, VectorParams

        client = QdrantClient(url="http://qdrant.search.svc:6333")
        client.recreate_collection(
            "docs", vectors_config=VectorParams(size=384, distance=Distance.COSINE)
        )
        """,
        [],
        ["vector-store"],
        "Qdrant client in code",
    )
    s.seeded(
        "kb-assistant/kb/store.py",
        r"""
        import chromadb

        client = chromadb.PersistentClient(path="chroma_db")
        collection = client.get_or_create_collection("kb")
        """,
        [],
        ["vector-store"],
        "Chroma persistent client in code",
    )
    s.seeded(
        "semantic-search/search/weaviate_store.py",
        r"""
        import weaviate

        client = weaviate.connect_to_local(host="weaviate.search.svc")
        docs = client.collections.get("Doc")
        """,
        [],
        ["vector-store"],
        "Weaviate client in code",
    )
    s.seeded(
        "semantic-search/search/milvus_store.py",
        r"""
        from pymilvus import MilvusClient

        client = MilvusClient(uri="http://milvus.search.svc:19530")
        client.create_collection("docs", dimension=384)
        """,
        [],
        ["vector-store"],
        "Milvus client in code",
    )
    s.seeded(
        "semantic-search/search/faiss_build.py",
        r"""
        import faiss
        import numpy as np

        vectors = np.random.default_rng(0).random((1000, 384), dtype=np.float32)
        index = faiss.IndexFlatIP(384)
        index.add(vectors)
        faiss.write_index(index, "index/docs.faiss")
        """,
        [],
        ["vector-store"],
        "FAISS library used in code",
        stretch=True,
    )
    s.write("kb-assistant/lancedb/docs.lance/_versions/1.manifest", s.noise(200))
    s.seeded(
        "kb-assistant/lancedb/docs.lance/data/2f6a1c3e-7b1d-4c7e-9a1f-0d5b8e2c4a11.lance",
        s.noise(512) + struct.pack("<HH", 0, 3) + b"LANC",
        [],
        ["vector-store"],
        "LanceDB data file inside a .lance table directory",
        stretch=True,
    )


def _walking(s: _Set) -> None:
    """Oversized source files (015) and links out of the roots (016)."""
    rows = "".join(f'    ("sku-{i:07d}", {i * 7 % 1000}, "{i:08x}" * 3),\n' for i in range(56_000))
    s.seeded(
        "pricing-svc/pricing/generated/sku_table.py",
        "# generated by tools/gen_sku_table.py; do not edit\nSKUS = [\n" + rows + "]\n",
        [15],
        [],
        "generated Python source over 2 MiB",
    )
    link = s.root / "llm-serving/models/shared-weights"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(Path(__file__).resolve())
    s.truth["llm-serving/models/shared-weights"] = {
        "seeded": True,
        "rules": [_rule(16)],
        "assets": [],
        "allowed": [],
        "forbid_assets": [],
        "stretch": False,
        "why": "symbolic link to a file outside the scanned roots",
    }


def _python_lookalikes(s: _Set) -> None:
    """Python that mentions AI, or loads models safely: no finding at medium or above."""
    no_ai = ["ai-service"]
    s.lookalike(
        "support-bot/app/model_names.py",
        """
        from typing import Final

        openai_model: Final = "gpt-4o-mini"
        anthropic_model: Final = "claude-3-5-sonnet-latest"
        OPENAI_MODEL_FALLBACK = "gpt-4o"
        bedrock_model_id = "anthropic.claude-3-haiku-20240307-v1:0"
        """,
        "variables named after providers hold model names; no import, client or URL",
        forbid=no_ai,
    )
    s.lookalike(
        "support-bot/app/routing.py",
        """
        # from openai import OpenAI   <- removed: every call goes through the gateway now
        # client = OpenAI()
        import logging

        log = logging.getLogger(__name__)


        def pick_route(priority: int) -> str:
            # anthropic for long tickets, openai for short ones (decided by the gateway)
            return "long" if priority > 2 else "short"
        """,
        "commented-out import and comments naming providers",
        forbid=no_ai,
    )
    s.lookalike(
        "legacy-scripts/gateway_notes.py",
        '''
        """Helpers for the migration off direct provider calls.

        We used to POST to https://api.openai.com/v1/chat/completions and
        https://api.anthropic.com/v1/messages directly; see docs/migration.md.
        """


        def migrated(service: str) -> bool:
            """Return True once `service` no longer calls https://api.openai.com/v1."""
            return service in {"support-bot", "kb-assistant"}
        ''',
        "API URLs only inside docstrings",
        forbid=no_ai,
    )
    s.lookalike(
        "ops-tools/ops/quota_alerts.py",
        """
        import logging

        log = logging.getLogger("quota")


        def on_quota(provider: str, used: float) -> None:
            if used > 0.9:
                log.warning("OpenAI quota at %d%%, falling back to Anthropic", used * 100)
            log.info("provider=%s used=%.2f (Bedrock is not metered)", provider, used)
        """,
        "log messages naming providers",
        forbid=no_ai,
    )
    s.lookalike(
        "eval-harness/harness/enums.py",
        """
        from enum import Enum


        class Provider(str, Enum):
            OPENAI = "openai"
            ANTHROPIC = "anthropic"
            BEDROCK = "bedrock"
            VERTEX = "vertexai"
            OLLAMA = "ollama"


        PRETTY = {Provider.OPENAI: "OpenAI", Provider.ANTHROPIC: "Anthropic"}
        """,
        "an enum of provider names",
        forbid=no_ai,
    )
    s.lookalike(
        "kb-assistant/kb/config.py",
        """
        from dataclasses import dataclass, field


        @dataclass(frozen=True)
        class LLMConfig:
            provider: str = "anthropic"
            model: str = "claude-3-5-sonnet-latest"
            temperature: float = 0.2
            stop: list[str] = field(default_factory=list)
            langchain_tracing: bool = False
        """,
        "a dataclass config whose defaults name a provider",
        forbid=no_ai,
    )
    s.lookalike(
        "helpdesk-api/api/spec.py",
        """
        from openapi_core import OpenAPI
        from openapi_spec_validator import validate

        spec = OpenAPI.from_file_path("openapi.yaml")


        def check(raw: dict) -> None:
            validate(raw)
        """,
        "openapi_* packages, not openai",
        forbid=no_ai,
    )
    rev = s.commit()
    s.lookalike(
        "fin-sentiment/sentiment/pinned.py",
        _fill(
            """
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained("ProsusAI/finbert", revision="%%rev%%")
            model = AutoModelForSequenceClassification.from_pretrained(
                "ProsusAI/finbert", revision="%%rev%%"
            )
            """,
            rev=rev,
        ),
        "from_pretrained pinned to a 40-character commit",
    )
    s.lookalike(
        "llm-serving/scripts/fetch_pinned.py",
        _fill(
            """
            from huggingface_hub import snapshot_download

            snapshot_download(
                repo_id="mistralai/Mistral-7B-Instruct-v0.3",
                revision="%%rev%%",
                local_dir="/mnt/models/mistral-7b",
                allow_patterns=["*.safetensors", "*.json"],
            )
            """,
            rev=s.commit(),
        ),
        "snapshot_download pinned to a commit",
    )
    s.lookalike(
        "sft-recipes/recipes/pinned_data.py",
        _fill(
            """
            from datasets import load_dataset

            ds = load_dataset("HuggingFaceH4/ultrachat_200k", split="train_sft", revision="%%rev%%")
            """,
            rev=s.commit(),
        ),
        "load_dataset pinned to a commit",
    )
    s.lookalike(
        "semantic-search/search/pinned_encoder.py",
        _fill(
            """
            from sentence_transformers import SentenceTransformer

            encoder = SentenceTransformer(
                "sentence-transformers/all-MiniLM-L6-v2", revision="%%rev%%", device="cpu"
            )
            """,
            rev=s.commit(),
        ),
        "SentenceTransformer pinned to a commit",
    )
    s.lookalike(
        "intent-router/router/serve_local.py",
        """
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        model = AutoModelForSequenceClassification.from_pretrained("./checkpoints/best")
        tokenizer = AutoTokenizer.from_pretrained("./checkpoints/best")
        """,
        "from_pretrained of a ./ local checkpoint",
    )
    s.write("intent-router/router/models/intent-bert/config.json", '{"model_type": "bert"}\n')
    s.lookalike(
        "intent-router/router/serve_bundled.py",
        """
        from transformers import AutoModelForSequenceClassification

        model = AutoModelForSequenceClassification.from_pretrained("models/intent-bert")
        """,
        "org/name-shaped path that exists next to the file: local, not a hub id",
    )
    s.lookalike(
        "sft-recipes/recipes/eval_cli.py",
        """
        import argparse

        from transformers import AutoModelForCausalLM

        parser = argparse.ArgumentParser()
        parser.add_argument("--model-name-or-path", required=True)
        parser.add_argument(
            "--trust-remote-code",
            action="store_true",
            help="forwarded as trust_remote_code=True; only for reviewed repositories",
        )
        args = parser.parse_args()
        model = AutoModelForCausalLM.from_pretrained(args.model_name_or_path)
        """,
        "hub id from the command line; trust_remote_code=True only inside a help string",
    )
    s.lookalike(
        "vision-ranker/serve/safe_load.py",
        """
        import torch


        def load_weights(path: str) -> dict:
            return torch.load(path, weights_only=True)
        """,
        "torch.load with weights_only=True",
    )
    s.lookalike(
        "vision-ranker/train/safe_trainer.py",
        """
        from pathlib import Path

        import torch


        class Restorer:
            def __init__(self, root: Path) -> None:
                self.root = root

            def restore(self, model: torch.nn.Module, step: int) -> None:
                path = self.root / f"step-{step}.pt"
                state = torch.load(path, map_location="cpu", weights_only=True)
                model.load_state_dict(state)
        """,
        "weights_only=True with map_location, inside a method",
    )
    s.lookalike(
        "recsys/recsys/safe_arrays.py",
        """
        import numpy as np


        def load_vectors(path: str) -> np.ndarray:
            return np.load(path)


        def load_meta(path: str) -> np.ndarray:
            return np.load(path, allow_pickle=False, mmap_mode="r")
        """,
        "np.load without pickles",
    )
    s.lookalike(
        "fraud-feats/feats/cache.py",
        """
        import pickle
        from pathlib import Path

        CACHE = Path(".cache_features") / "features.pkl"


        def cached(build):
            if CACHE.exists():
                with CACHE.open("rb") as f:
                    return pickle.load(f)
            value = build()
            CACHE.parent.mkdir(exist_ok=True)
            CACHE.write_bytes(pickle.dumps(value))
            return value
        """,
        "pickle.load of a local cache file the job wrote itself: not a download",
    )
    s.lookalike(
        "churn-model/serving/local_model.py",
        """
        from pathlib import Path

        import joblib

        MODEL = Path(__file__).parent / "artifacts" / "model.joblib"
        model = joblib.load(MODEL)
        """,
        "joblib.load of a model shipped next to the code",
    )
    s.lookalike(
        "churn-model/serving/publish.py",
        """
        import pickle

        import requests


        def publish(model, url: str, token: str) -> None:
            payload = pickle.dumps(model)
            headers = {"Authorization": f"Bearer {token}"}
            requests.post(url, data=payload, headers=headers, timeout=60)
        """,
        "pickle.dumps uploaded with requests: writing, not loading",
    )
    s.lookalike(
        "pricing-svc/pricing/remote_config.py",
        """
        import json

        import requests


        def fetch_config(url: str) -> dict:
            resp = requests.get(url, timeout=10)
            resp.raise_for_status()
            return json.loads(resp.text)
        """,
        "downloaded JSON parsed with json.loads",
    )
    s.lookalike(
        "llm-serving/scripts/read_pinned_config.py",
        _fill(
            """
            import json

            from huggingface_hub import hf_hub_download

            path = hf_hub_download(
                repo_id="Qwen/Qwen2.5-7B-Instruct", filename="config.json", revision="%%rev%%"
            )
            with open(path) as f:
                cfg = json.load(f)
            """,
            rev=s.commit(),
        ),
        "pinned download of a JSON file read with json.load",
    )
    s.lookalike(
        "doc-ocr/ocr/pinned_no_remote.py",
        _fill(
            """
            from transformers import AutoModelForVision2Seq, AutoProcessor

            processor = AutoProcessor.from_pretrained(
                "HuggingFaceTB/SmolVLM-Instruct", revision="%%rev%%", trust_remote_code=False
            )
            model = AutoModelForVision2Seq.from_pretrained(
                "HuggingFaceTB/SmolVLM-Instruct", revision="%%rev%%"
            )
            """,
            rev=s.commit(),
        ),
        "trust_remote_code=False and a pinned commit",
    )
    s.lookalike(
        "long-context/lc/loader.py",
        '''
        """Model loading rules for this repo.

        Never pass trust_remote_code=True: models with custom code are vendored instead.
        """

        # trust_remote_code=True would execute the repo's modeling_*.py at load time.
        SAFE_KWARGS = {"trust_remote_code": False}
        ''',
        "trust_remote_code=True only in a docstring and a comment",
    )
    s.lookalike(
        "support-bot/app/gateway_client.py",
        _fill(
            """
            import os

            from openai import OpenAI

            client = OpenAI(base_url="%%gw%%", api_key=os.environ["GARRISON_GATEWAY_KEY"])
            """,
            gw=GATEWAY,
        ),
        "OpenAI client through the Garrison gateway",
    )
    s.lookalike(
        "kb-assistant/kb/env_client.py",
        """
        import os

        from openai import OpenAI

        client = OpenAI(
            base_url=os.environ["OPENAI_BASE_URL"], api_key=os.environ["OPENAI_API_KEY"]
        )
        """,
        "base URL from the environment: not judged",
    )
    s.lookalike(
        "kb-assistant/kb/gateway_chain.py",
        _fill(
            """
            import os

            from langchain_openai import ChatOpenAI

            llm = ChatOpenAI(
                model="gpt-4o-mini", base_url="%%gw%%", api_key=os.environ["GATEWAY_KEY"]
            )
            """,
            gw=GATEWAY,
        ),
        "LangChain ChatOpenAI through the gateway",
    )
    s.lookalike(
        "support-bot/app/claude_gateway.py",
        _fill(
            """
            import os

            from anthropic import Anthropic

            claude = Anthropic(base_url="%%gw%%", api_key=os.environ["GATEWAY_KEY"])
            """,
            gw=GATEWAY,
        ),
        "Anthropic client through the gateway",
    )
    s.lookalike(
        "research-agent/agent/env_async.py",
        """
        import os

        from openai import AsyncOpenAI

        client = AsyncOpenAI(base_url=os.getenv("LLM_GATEWAY_URL"), api_key=os.getenv("LLM_KEY"))
        """,
        "base URL from os.getenv: not judged",
    )
    s.lookalike(
        "batch-infer/infer/gateway_vllm.py",
        _fill(
            """
            from openai import OpenAI

            # vLLM behind the gateway ignores the key; the gateway adds the real one.
            llm = OpenAI(base_url="%%gw%%", api_key="EMPTY")
            """,
            gw=GATEWAY,
        ),
        "api_key='EMPTY' (vLLM convention) through the gateway",
    )
    s.lookalike(
        "ops-tools/ops/key_check.py",
        """
        import os


        def openai_key() -> str:
            key = os.environ.get("OPENAI_API_KEY", "sk-...")
            if key == "sk-...":
                raise SystemExit("set OPENAI_API_KEY (sk-...) first")
            return key
        """,
        "'sk-...' placeholder as a default",
    )
    s.lookalike(
        "intent-router/router/docs_example.py",
        '''
        def load(name: str):
            """Load a classifier.

            >>> from transformers import AutoModel
            >>> model = AutoModel.from_pretrained("bert-base-uncased")
            >>> model = AutoModel.from_pretrained("bert-base-uncased", trust_remote_code=True)
            """
            raise NotImplementedError(name)
        ''',
        "hub calls only inside a doctest in a docstring",
    )
    s.lookalike(
        "sft-recipes/recipes/local_files.py",
        """
        from datasets import load_dataset

        train = load_dataset("csv", data_files={"train": "data/train.csv"}, split="train")
        chats = load_dataset("json", data_files="data/train.jsonl", split="train")
        """,
        "load_dataset with the packaged csv/json builders on local files: no hub id",
    )
    s.lookalike(
        "etl-jobs/jobs/flow.py",
        """
        from sklearn.pipeline import Pipeline, make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.linear_model import LogisticRegression


        def pipeline(stage: str) -> str:
            return f"etl:{stage}"


        clf = Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression())])
        clf2 = make_pipeline(StandardScaler(), LogisticRegression())
        STAGES = [pipeline("ingest"), pipeline("clean/normalize")]
        """,
        "scikit-learn Pipeline and a local pipeline() with a slash in its argument",
        forbid=no_ai,
    )
    s.lookalike(
        "sft-recipes/recipes/from_disk.py",
        """
        from datasets import load_from_disk

        ds = load_from_disk("data/processed/ultrachat-filtered")
        """,
        "load_from_disk of a local directory",
    )
    s.lookalike(
        "speech-kws/kws/licenses.py",
        """
        THIRD_PARTY = {
            "whisper-tiny": "https://github.com/openai/whisper/blob/main/LICENSE",
            "tiktoken": "https://github.com/openai/tiktoken/blob/main/LICENSE",
        }
        """,
        "GitHub links to OpenAI repositories, not API URLs",
        forbid=no_ai,
    )
    s.lookalike(
        "ops-tools/ops/metrics.py",
        _fill(
            """
            from datadog import initialize, statsd

            DATADOG_API_KEY = "%%key%%"
            initialize(api_key=DATADOG_API_KEY, statsd_host="127.0.0.1")
            statsd.increment("ops.quota.checked")
            """,
            key=s.chars(HEX, 32),
        ),
        "a 32-hex Datadog key: not an AI provider key",
    )
    s.lookalike(
        "llm-serving/scripts/load_safetensors.py",
        _fill(
            """
            from huggingface_hub import hf_hub_download
            from safetensors.torch import load_file

            path = hf_hub_download(
                "acme-ml/router-small", "model.safetensors", revision="%%rev%%"
            )
            state = load_file(path)
            """,
            rev=s.commit(),
        ),
        "pinned download of safetensors loaded with safetensors",
    )
    s.lookalike(
        "vision-ranker/train/save_only.py",
        """
        import torch


        def save(model: torch.nn.Module, path: str) -> None:
            # read back with torch.load(path, weights_only=True)
            torch.save(model.state_dict(), path)
        """,
        "torch.save only; torch.load only in a comment",
    )
    s.lookalike(
        "image-caption/app_auth.py",
        """
        import os

        import gradio as gr


        def echo(text: str) -> str:
            return text


        demo = gr.Interface(fn=echo, inputs="text", outputs="text")
        demo.launch(
            server_name="0.0.0.0",
            auth=("reviewer", os.environ["CAPTION_UI_PASSWORD"]),
        )
        """,
        "Gradio on all interfaces with auth=",
    )
    s.lookalike(
        "image-caption/app_local.py",
        """
        import gradio as gr

        demo = gr.Interface(fn=str.upper, inputs="text", outputs="text")
        demo.launch()
        """,
        "Gradio on its default local address",
    )
    s.lookalike(
        "support-bot/ui/streamlit_app.py",
        _fill(
            """
            import os

            import streamlit as st
            from openai import OpenAI

            client = OpenAI(base_url="%%gw%%", api_key=os.environ["GATEWAY_KEY"])

            st.title("Support bot")
            if q := st.chat_input("Ask"):
                r = client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": q}]
                )
                st.write(r.choices[0].message.content)
            """,
            gw=GATEWAY,
        ),
        "Streamlit app calling through the gateway",
    )
    s.lookalike(
        "secscan/secscan/patterns.py",
        r"""
        import re

        PATTERNS = {
            "openai": re.compile(r"sk-(?:proj-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}"),
            "anthropic": re.compile(r"sk-ant-api03-[A-Za-z0-9_-]{93}AA"),
            "huggingface": re.compile(r"hf_[A-Za-z]{34}"),
            "google": re.compile(r"AIza[0-9A-Za-z_-]{35}"),
            "aws": re.compile(r"AKIA[0-9A-Z]{16}"),
        }
        """,
        "regular expressions for keys in a secret scanner",
    )
    s.lookalike(
        "secscan/secscan/redact.py",
        """
        PREFIXES = ("sk-ant-", "sk-proj-", "sk-", "hf_", "gsk_", "r8_", "xai-", "pplx-")


        def redact(token: str) -> str:
            for prefix in PREFIXES:
                if token.startswith(prefix):
                    return prefix + "*" * 8
            return token
        """,
        "key prefixes in a redaction helper",
    )
    s.lookalike(
        "secscan/tests/test_redact.py",
        """
        from secscan.redact import redact

        FAKE_OPENAI = "sk-" + "x" * 48
        FAKE_HF = "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        FAKE_AWS = "AKIAIOSFODNN7EXAMPLE"
        FAKE_ANTHROPIC = "sk-ant-api03-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"


        def test_redact():
            assert redact(FAKE_OPENAI) == "sk-********"
            assert redact(FAKE_HF).startswith("hf_")
        """,
        "test fixtures with xxxx-run and documentation keys",
    )
    s.lookalike(
        "ops-tools/ops/localstack.py",
        """
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url="http://localhost:4566",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        """,
        "AWS's documentation key pair against LocalStack S3",
    )
    base_rev, adapter_rev = s.commit(), s.commit()
    s.lookalike(
        "support-bot/train/pinned_adapter.py",
        _fill(
            """
            from peft import PeftModel
            from transformers import AutoModelForCausalLM

            base = AutoModelForCausalLM.from_pretrained(
                "meta-llama/Llama-3.1-8B-Instruct", revision="%%base%%"
            )
            model = PeftModel.from_pretrained(
                base, "acme-ml/support-bot-lora", revision="%%adapter%%"
            )
            """,
            base=base_rev,
            adapter=adapter_rev,
        ),
        "PEFT adapter and base both pinned",
    )
    s.lookalike(
        "creative-studio/studio/pinned_sdxl.py",
        _fill(
            """
            import torch
            from diffusers import DiffusionPipeline

            pipe = DiffusionPipeline.from_pretrained(
                "stabilityai/stable-diffusion-xl-base-1.0",
                revision="%%rev%%",
                torch_dtype=torch.float16,
            )
            """,
            rev=s.commit(),
        ),
        "diffusers pipeline pinned",
    )
    s.lookalike(
        "news-digest/digest/pinned_pipeline.py",
        _fill(
            """
            from transformers import pipeline

            summarizer = pipeline(
                "summarization", model="facebook/bart-large-cnn", revision="%%rev%%"
            )
            """,
            rev=s.commit(),
        ),
        "pipeline(task, model, revision=commit)",
    )
    s.lookalike(
        "fin-sentiment/sentiment/constants_pinned.py",
        _fill(
            """
            from transformers import AutoModel

            MODEL_ID = "ProsusAI/finbert"
            REVISION = "%%rev%%"

            model = AutoModel.from_pretrained(MODEL_ID, revision=REVISION)
            """,
            rev=s.commit(),
        ),
        "hub id and pinned commit both held in module constants",
    )
    s.lookalike(
        "ops-tools/ops/errors.py",
        """
        class CheckpointError(RuntimeError):
            pass


        def explain(exc: Exception) -> str:
            return f"torch.load failed ({exc}); try trust_remote_code=True? no: re-export the model"
        """,
        "rule-shaped text inside ordinary strings",
    )
    s.lookalike(
        "support-bot/app/banner.py",
        """
        # Generated with help from ChatGPT and Claude; reviewed by the team.
        BANNER = "Powered by our own support engine"
        """,
        "a header comment naming AI assistants",
        forbid=no_ai,
    )


def _code_lookalikes(s: _Set) -> None:
    """Other languages and shell scripts that mention AI or run servers safely."""
    no_ai = ["ai-service"]
    s.lookalike(
        "helpdesk-web/src/server/legacy.ts",
        """
        // import OpenAI from "openai";
        // const client = new OpenAI();
        /* import Anthropic from "@anthropic-ai/sdk"; (moved to the gateway) */
        export const LEGACY_PROVIDER_NOTE = "calls go through the platform gateway";
        """,
        "commented-out imports in TypeScript",
        forbid=no_ai,
    )
    s.lookalike(
        "helpdesk-web/src/types/provider.ts",
        """
        export type Provider = "openai" | "anthropic" | "bedrock" | "ollama";

        export interface ModelChoice {
          provider: Provider;
          model: string; // e.g. "gpt-4o-mini" or "claude-3-5-haiku-latest"
        }

        export const DEFAULT_CHOICE: ModelChoice = { provider: "openai", model: "gpt-4o-mini" };
        """,
        "provider names as a TypeScript union type",
        forbid=no_ai,
    )
    s.lookalike(
        "helpdesk-web/src/api/client.ts",
        """
        import createClient from "openapi-fetch";
        import type { paths } from "./schema";

        export const api = createClient<paths>({ baseUrl: "/api" });
        """,
        "openapi-fetch, not openai",
        forbid=no_ai,
    )
    s.lookalike(
        "helpdesk-web/src/server/gateway.ts",
        _fill(
            """
            import OpenAI from "openai";

            export const llm = new OpenAI({
              baseURL: "%%gw%%",
              apiKey: process.env.GATEWAY_KEY,
            });
            """,
            gw=GATEWAY,
        ),
        "openai npm client through the gateway",
    )
    s.lookalike(
        "etl-js/src/copy.mjs",
        """
        import { pipeline } from "node:stream/promises";
        import { createReadStream, createWriteStream } from "node:fs";

        await pipeline(createReadStream("in.csv"), createWriteStream("out/in-copy.csv"));
        """,
        "Node's stream pipeline, not the transformers one",
        forbid=no_ai,
    )
    s.lookalike(
        "triage-cli/cmd/models.go",
        """
        package cmd

        // We used to call the OpenAI API directly from here (see git history);
        // import "github.com/sashabaranov/go-openai" was removed in v2.
        var defaultModel = "gpt-4o-mini"

        const providerName = "anthropic"
        """,
        "Go comments and strings naming providers",
        forbid=no_ai,
    )
    s.lookalike(
        "triage-cli/cmd/spec.go",
        """
        package cmd

        import (
        \t"github.com/getkin/kin-openapi/openapi3"
        )

        func loadSpec(path string) (*openapi3.T, error) {
        \treturn openapi3.NewLoader().LoadFromFile(path)
        }
        """,
        "kin-openapi import",
        forbid=no_ai,
    )
    s.lookalike(
        "claims-java/src/main/java/net/acme/claims/ai/ProviderSettings.java",
        """
        package net.acme.claims.ai;

        // import com.openai.client.OpenAIClient;  -- replaced by GatewayClient
        public record ProviderSettings(String provider, String model) {
            public static final ProviderSettings DEFAULT =
                    new ProviderSettings("openai", "gpt-4o-mini");
        }
        """,
        "Java comment with an SDK import and provider strings",
        forbid=no_ai,
    )
    s.lookalike(
        "claims-android/app/src/main/java/net/acme/claims/Labels.kt",
        """
        package net.acme.claims

        object Labels {
            const val POWERED_BY = "Answers reviewed by people; drafts by Anthropic Claude"
            val providers = listOf("anthropic", "openai")
        }
        """,
        "Kotlin strings naming providers",
        forbid=no_ai,
    )
    s.lookalike(
        "research-infra/bin/jupyter_local.sh",
        """
        #!/usr/bin/env bash
        # Reach it with: ssh -L 8888:127.0.0.1:8888 gpu-box
        jupyter lab --ip=127.0.0.1 --port=8888 --no-browser
        """,
        "Jupyter on the loopback address",
    )
    s.lookalike(
        "research-infra/bin/mlflow_auth.sh",
        """
        #!/usr/bin/env bash
        export MLFLOW_AUTH_CONFIG_PATH=/etc/mlflow/basic_auth.ini
        exec mlflow server --app-name basic-auth --host 0.0.0.0 --port 5000 \\
          --backend-store-uri postgresql://mlflow@db.internal/mlflow
        """,
        "MLflow with basic-auth on all interfaces",
    )
    s.lookalike(
        "llm-serving/bin/serve_secure.sh",
        """
        #!/usr/bin/env bash
        set -euo pipefail
        : "${VLLM_API_KEY:?VLLM_API_KEY must be set}"
        vllm serve meta-llama/Llama-3.1-8B-Instruct --host 0.0.0.0 --port 8000 \\
          --api-key "$VLLM_API_KEY"
        """,
        "vllm serve with --api-key",
    )
    s.lookalike(
        "llm-serving/bin/serve_env_key.sh",
        """
        #!/usr/bin/env bash
        export VLLM_API_KEY="$(cat /run/secrets/vllm_api_key)"
        exec vllm serve Qwen/Qwen2.5-7B-Instruct --host 0.0.0.0 --port 8000
        """,
        "vllm serve with VLLM_API_KEY exported",
    )
    s.lookalike(
        "research-infra/bin/ray_local.sh",
        """
        #!/usr/bin/env bash
        ray start --head --port=6379 --num-gpus=4
        """,
        "Ray head with the dashboard on its default local address",
    )
    s.lookalike(
        "homelab-notes/bin/ollama_local.sh",
        """
        #!/bin/sh
        ollama serve &
        sleep 2
        ollama pull llama3.1:8b
        """,
        "ollama serve on its default local address",
    )
    s.lookalike(
        "ops-tools/bin/check-env.sh",
        """
        #!/usr/bin/env bash
        # Direct calls to https://api.openai.com/v1 are blocked; use the gateway.
        if [ -z "${GATEWAY_KEY:-}" ]; then
          echo "GATEWAY_KEY missing (ask #ml-platform; OpenAI keys are not handed out)" >&2
          exit 1
        fi
        """,
        "provider URL in a shell comment, provider names in echo text",
        forbid=no_ai,
    )
    s.lookalike(
        "research-infra/bin/mlflow_ui_local.sh",
        """
        #!/bin/sh
        cd /data/mlruns && mlflow ui --port 5001
        """,
        "mlflow ui on its default local address",
    )
    s.lookalike(
        "llm-serving/bin/serve_loopback.sh",
        """
        #!/usr/bin/env bash
        # only the sidecar proxy on this host talks to vLLM
        vllm serve mistralai/Mistral-7B-Instruct-v0.3 --host 127.0.0.1 --port 8000
        """,
        "vllm serve on 127.0.0.1",
    )
    s.lookalike(
        "ops-tools/bin/gateway-smoke.sh",
        _fill(
            """
            #!/usr/bin/env bash
            curl -sS "%%gw%%/models" -H "Authorization: Bearer ${GATEWAY_KEY}"
            """,
            gw=GATEWAY,
        ),
        "curl to the gateway",
    )
    s.lookalike(
        "homelab-notes/Makefile",
        """
        .PHONY: models
        models:
        \tollama pull llama3.1:8b
        \tollama pull nomic-embed-text
        """,
        "Makefile pulling Ollama models, serving nothing",
        forbid=["model-server"],
    )


def _container_lookalikes(s: _Set) -> None:
    """Dockerfiles, compose files and Kubernetes manifests that are safe."""
    s.lookalike(
        "fin-sentiment/Dockerfile",
        """
        FROM pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime
        RUN groupadd -g 1000 app && useradd -u 1000 -g app -m app
        WORKDIR /home/app
        COPY --chown=app:app . .
        RUN pip install --no-cache-dir -r requirements.txt
        USER 1000:1000
        CMD ["python", "-m", "sentiment.api"]
        """,
        "ML image that ends with USER 1000:1000",
    )
    s.lookalike(
        "recsys/Dockerfile",
        """
        FROM python:3.11 AS build
        WORKDIR /src
        COPY . .
        RUN pip install --no-cache-dir --target /deps torch numpy faiss-cpu

        FROM gcr.io/distroless/python3-debian12:nonroot
        COPY --from=build /deps /deps
        COPY --from=build /src/recsys /app/recsys
        ENV PYTHONPATH=/deps
        USER nonroot
        CMD ["-m", "recsys.serve"]
        """,
        "root build stage, final distroless stage runs as nonroot",
    )
    s.lookalike(
        "teaching/docker/Dockerfile.stacks",
        """
        FROM quay.io/jupyter/pytorch-notebook:cuda12-2024-10-07
        USER root
        RUN apt-get update && apt-get install -y --no-install-recommends graphviz \\
            && rm -rf /var/lib/apt/lists/*
        USER ${NB_UID}
        RUN pip install --no-cache-dir torchviz
        """,
        "Jupyter stacks image: root only for apt, back to NB_UID",
    )
    s.lookalike(
        "marketing-site/Dockerfile",
        """
        FROM node:20-alpine AS build
        WORKDIR /app
        COPY . .
        RUN npm ci && npm run build

        FROM nginx:1.27-alpine
        COPY --from=build /app/dist /usr/share/nginx/html
        EXPOSE 80
        """,
        "static website image: not an inference or notebook container",
    )
    s.lookalike(
        "gateway-go/Dockerfile",
        """
        FROM golang:1.22 AS build
        WORKDIR /src
        COPY . .
        RUN CGO_ENABLED=0 go build -o /out/gateway ./cmd/gateway

        FROM alpine:3.20
        COPY --from=build /out/gateway /usr/local/bin/gateway
        ENTRYPOINT ["gateway"]
        """,
        "Go API image: not an ML container",
    )
    s.lookalike(
        "llm-serving/docker/vllm-secure.Dockerfile",
        """
        FROM vllm/vllm-openai:v0.6.3
        RUN useradd -u 1001 -m vllm
        USER 1001
        ENTRYPOINT []
        CMD vllm serve /models/llama --host 0.0.0.0 --port 8000 --api-key "$VLLM_API_KEY"
        """,
        "vLLM image as a non-root user with --api-key",
    )
    s.lookalike(
        "helpdesk-web/Dockerfile",
        """
        FROM node:20-slim
        WORKDIR /app
        COPY --chown=node:node . .
        RUN npm ci --omit=dev
        USER node
        CMD ["node", "server.js"]
        """,
        "Node app as the node user",
    )
    s.lookalike(
        "pricing-svc/Dockerfile",
        """
        FROM python:3.12-slim
        # torch and xgboost were removed in 2.0: inference moved to the ranker service
        RUN pip install --no-cache-dir flask==3.0.3 gunicorn==23.0.0
        COPY pricing/ /srv/pricing/
        CMD ["gunicorn", "-b", "0.0.0.0:8000", "pricing.web:app"]
        """,
        "web service whose only ML mention is a comment",
    )
    s.lookalike(
        "research-infra/docker-compose.lab-local.yml",
        """
        services:
          lab:
            image: quay.io/jupyter/pytorch-notebook:cuda12-2024-10-07
            command: start-notebook.py --IdentityProvider.token=''
            ports:
              - "127.0.0.1:8888:8888"
            user: "1000:100"
        """,
        "empty token, but the port is published on 127.0.0.1 only",
    )
    s.lookalike(
        "kb-assistant/docker-compose.yml",
        """
        services:
          ollama:
            image: ollama/ollama:0.3.12
            user: "1000:1000"
            volumes:
              - ./ollama:/home/ollama/.ollama
            environment:
              HOME: /home/ollama
          app:
            build: .
            environment:
              OLLAMA_URL: http://ollama:11434
            ports:
              - "8080:8080"
            user: "10001"
        """,
        "Ollama reachable only on the compose network; app published",
    )
    s.lookalike(
        "batch-infer/compose.yaml",
        """
        services:
          vllm:
            image: vllm/vllm-openai:v0.6.3
            user: "1000:1000"
            command: ["--model", "/models/llama", "--api-key", "${VLLM_API_KEY:?required}"]
            ports:
              - "8000:8000"
            volumes:
              - /mnt/models:/models:ro
        """,
        "published vLLM with --api-key, non-root",
    )
    s.lookalike(
        "research-infra/docker-compose.mlflow-auth.yml",
        """
        services:
          mlflow:
            image: ghcr.io/mlflow/mlflow:v2.16.2
            user: "1000:1000"
            command: mlflow server --app-name basic-auth --host 0.0.0.0 --port 5000
            environment:
              MLFLOW_AUTH_CONFIG_PATH: /config/basic_auth.ini
            ports:
              - "5000:5000"
        """,
        "published MLflow with basic-auth, non-root",
    )
    s.lookalike(
        "ops-tools/monitoring/docker-compose.yml",
        """
        services:
          cadvisor:
            image: gcr.io/cadvisor/cadvisor:v0.49.1
            privileged: true
            devices:
              - /dev/kmsg
            volumes:
              - /:/rootfs:ro
              - /var/run:/var/run:ro
              - /sys:/sys:ro
            ports:
              - "127.0.0.1:8081:8080"
        """,
        "privileged monitoring container: not ML",
    )
    s.lookalike(
        "helpdesk-web/docker-compose.yml",
        """
        services:
          web:
            build: .
            ports:
              - "3000:3000"
            environment:
              NODE_ENV: production
              API_URL: http://api:8080
          api:
            image: registry.acme-corp.net/helpdesk/api:4.2.0
            user: "10001"
        """,
        "web app compose, no AI server",
    )
    s.lookalike(
        "support-bot/docker-compose.yml",
        """
        services:
          db:
            image: postgres:16
            environment:
              POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}
            volumes:
              - pg:/var/lib/postgresql/data
          cache:
            image: redis:7-alpine
            command: ["redis-server", "--requirepass", "${REDIS_PASSWORD}"]
        volumes:
          pg: {}
        """,
        "database and cache only",
    )
    s.lookalike(
        "homelab-notes/docker-compose.local.yml",
        """
        services:
          ollama:
            image: ollama/ollama:0.3.12
            user: "1000:1000"
            environment:
              HOME: /home/ollama
            ports:
              - "127.0.0.1:11434:11434"
        """,
        "Ollama published on loopback only",
    )
    s.lookalike(
        "llm-platform/k8s/vllm-secure.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: llama-8b-secure
        spec:
          selector:
            matchLabels: {app: llama-8b-secure}
          template:
            metadata:
              labels: {app: llama-8b-secure}
            spec:
              securityContext:
                runAsNonRoot: true
                runAsUser: 1000
                fsGroup: 1000
              containers:
                - name: vllm
                  image: vllm/vllm-openai:v0.6.3
                  args: ["--model", "/models/llama", "--host", "0.0.0.0"]
                  env:
                    - name: VLLM_API_KEY
                      valueFrom:
                        secretKeyRef: {name: vllm-api-key, key: token}
                  securityContext:
                    allowPrivilegeEscalation: false
                  resources:
                    limits:
                      nvidia.com/gpu: 1
        """,
        "vLLM with VLLM_API_KEY from a Secret, non-root",
    )
    s.lookalike(
        "ops-tools/k8s/fluent-bit.yaml",
        """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: fluent-bit
          namespace: logging
        spec:
          selector:
            matchLabels: {app: fluent-bit}
          template:
            metadata:
              labels: {app: fluent-bit}
            spec:
              containers:
                - name: fluent-bit
                  image: cr.fluentbit.io/fluent/fluent-bit:3.1.9
                  securityContext:
                    privileged: true
                    runAsUser: 0
                  volumeMounts:
                    - {name: varlog, mountPath: /var/log}
              volumes:
                - name: varlog
                  hostPath: {path: /var/log}
        """,
        "privileged root log shipper: not an ML container",
    )
    s.lookalike(
        "semantic-search/k8s/encoder-sts.yaml",
        """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata:
          name: encoder
        spec:
          serviceName: encoder
          selector:
            matchLabels: {app: encoder}
          template:
            metadata:
              labels: {app: encoder}
            spec:
              securityContext:
                runAsNonRoot: true
                runAsUser: 1000
              containers:
                - name: encoder
                  image: pytorch/pytorch:2.4.0-cuda12.4-cudnn9-runtime
                  command: ["python", "-m", "search.serve"]
                  resources:
                    limits:
                      nvidia.com/gpu: 1
        """,
        "PyTorch StatefulSet with pod-level runAsNonRoot, no container override",
    )
    s.lookalike(
        "teaching/k8s/notebook-secure.yaml",
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: course-notebook-secure
        spec:
          securityContext:
            runAsNonRoot: true
            runAsUser: 1000
          containers:
            - name: lab
              image: quay.io/jupyter/scipy-notebook:2024-10-07
              env:
                - name: JUPYTER_TOKEN
                  valueFrom:
                    secretKeyRef: {name: lab-token, key: token}
              ports:
                - containerPort: 8888
        """,
        "Jupyter pod with a token from a Secret, non-root",
    )
    s.lookalike(
        "marketing-site/k8s/deployment.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: marketing-site
        spec:
          replicas: 3
          selector:
            matchLabels: {app: marketing-site}
          template:
            metadata:
              labels: {app: marketing-site}
            spec:
              containers:
                - name: nginx
                  image: nginx:1.27-alpine
                  ports:
                    - containerPort: 80
        """,
        "plain web Deployment",
    )
    s.lookalike(
        "research-infra/k8s/mlflow-auth.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: mlflow-auth
        spec:
          selector:
            matchLabels: {app: mlflow-auth}
          template:
            metadata:
              labels: {app: mlflow-auth}
            spec:
              securityContext:
                runAsNonRoot: true
                runAsUser: 10001
              containers:
                - name: mlflow
                  image: ghcr.io/mlflow/mlflow:v2.16.2
                  command: ["mlflow", "server", "--app-name", "basic-auth", "--host", "0.0.0.0"]
        """,
        "MLflow with basic-auth, non-root",
    )
    s.lookalike(
        "llm-platform/k8s/vllm-argkey.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: phi-mini
        spec:
          selector:
            matchLabels: {app: phi-mini}
          template:
            metadata:
              labels: {app: phi-mini}
            spec:
              securityContext:
                runAsNonRoot: true
                runAsUser: 1000
              containers:
                - name: vllm
                  image: vllm/vllm-openai:v0.6.3
                  args:
                    - --model=/models/phi-3.5-mini
                    - --api-key=$(VLLM_KEY)
                  env:
                    - name: VLLM_KEY
                      valueFrom:
                        secretKeyRef: {name: phi-key, key: token}
        """,
        "vLLM with --api-key from an env reference, non-root",
    )
    s.lookalike(
        "llm-platform/k8s/configmap.yaml",
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: router-config
        data:
          routes.yaml: |
            default_model: llama-3.1-8b-instruct
            fallbacks: [qwen2.5-7b-instruct]
            upstream: http://llama-8b-secure.inference.svc:8000/v1
        """,
        "ConfigMap with model names and an in-cluster URL",
    )
    s.lookalike(
        "llm-platform/k8s/ingress.yaml",
        """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: llm
          annotations:
            nginx.ingress.kubernetes.io/auth-url: https://auth.acme-corp.net/oauth2/auth
        spec:
          rules:
            - host: llm.acme-corp.net
              http:
                paths:
                  - path: /
                    pathType: Prefix
                    backend:
                      service: {name: llama-8b-secure, port: {number: 8000}}
        """,
        "Ingress with an auth annotation",
    )
    s.lookalike(
        "vision-ranker/k8s/train-secure.yaml",
        """
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: ranker-train-secure
        spec:
          template:
            spec:
              restartPolicy: Never
              securityContext:
                runAsNonRoot: true
                runAsUser: 1000
              containers:
                - name: train
                  image: registry.acme-corp.net/vision/ranker-train:1.14.0
                  command: ["torchrun", "--nproc_per_node=4", "train.py"]
                  securityContext:
                    privileged: false
                    allowPrivilegeEscalation: false
                  resources:
                    limits:
                      nvidia.com/gpu: 4
        """,
        "GPU training Job with privileged: false, non-root",
    )


def _infra_lookalikes(s: _Set) -> None:
    """Helm charts and Terraform that are safe or not about models."""
    plain = {"deployment.yaml": DEPLOYMENT_TEMPLATE, "service.yaml": SERVICE_TEMPLATE}
    base = "llm-platform/charts/vllm-internal"
    s.lookalike(
        f"{base}/Chart.yaml",
        """
        apiVersion: v2
        name: vllm-internal
        description: vLLM behind the platform gateway
        type: application
        version: 1.2.0
        appVersion: "0.6.3"
        keywords: [llm, vllm, inference]
        """,
        "a chart's Chart.yaml",
    )
    s.lookalike(
        f"{base}/templates/deployment.yaml",
        DEPLOYMENT_TEMPLATE,
        "an unrendered Helm template",
    )
    s.write(f"{base}/templates/service.yaml", SERVICE_TEMPLATE)
    s.lookalike(
        f"{base}/values.yaml",
        """
        replicaCount: 2
        image:
          repository: vllm/vllm-openai
          tag: v0.6.3
        service:
          type: LoadBalancer
          port: 8000
        auth:
          enabled: true
          existingSecret: vllm-api-key
        podSecurityContext:
          runAsNonRoot: true
          runAsUser: 1000
        securityContext:
          allowPrivilegeEscalation: false
        resources:
          limits:
            nvidia.com/gpu: 1
        """,
        "LoadBalancer vLLM chart with auth.enabled, non-root",
    )
    no_sc = {
        "deployment.yaml": DEPLOYMENT_TEMPLATE.replace(
            "          securityContext:\n"
            "            {{- toYaml .Values.securityContext | nindent 12 }}\n",
            "",
        ),
        "service.yaml": SERVICE_TEMPLATE,
    }
    _chart(s, "llm-platform/charts/embedder", "embedder", no_sc)
    s.lookalike(
        "llm-platform/charts/embedder/values.yaml",
        """
        replicaCount: 1
        image:
          repository: registry.acme-corp.net/llm/embedder
          tag: "0.8.1"
        service:
          type: ClusterIP
          port: 8080
        podSecurityContext:
          runAsNonRoot: true
          runAsUser: 1000
        # left over from the 0.x chart; the templates no longer render it
        securityContext:
          privileged: true
        resources:
          limits:
            nvidia.com/gpu: 1
        """,
        "privileged: true under a key the chart's templates do not use",
    )
    _chart(s, "homelab-notes/charts/ollama-internal", "ollama-internal", plain)
    s.lookalike(
        "homelab-notes/charts/ollama-internal/values.yaml",
        """
        replicaCount: 1
        image:
          repository: ollama/ollama
          tag: 0.3.12
        service:
          type: ClusterIP
          port: 11434
        podSecurityContext:
          runAsNonRoot: true
          runAsUser: 1000
        securityContext:
          allowPrivilegeEscalation: false
        resources: {}
        """,
        "Ollama chart on a ClusterIP service, non-root",
    )
    s.lookalike(
        "marketing-site/infra/main.tf",
        """
        resource "aws_s3_bucket" "site" {
          bucket = "acme-marketing-site"
        }

        resource "aws_s3_bucket_website_configuration" "site" {
          bucket = aws_s3_bucket.site.id
          index_document {
            suffix = "index.html"
          }
        }

        resource "aws_s3_bucket_acl" "site" {
          bucket = aws_s3_bucket.site.id
          acl    = "public-read"
        }
        """,
        "public website bucket: not a model bucket",
    )
    s.lookalike(
        "ml-infra/private-weights/main.tf",
        """
        resource "aws_s3_bucket" "weights" {
          bucket = "acme-llm-weights-private"
        }

        resource "aws_s3_bucket_acl" "weights" {
          bucket = aws_s3_bucket.weights.id
          acl    = "private"
        }

        resource "aws_s3_bucket_public_access_block" "weights" {
          bucket                  = aws_s3_bucket.weights.id
          block_public_acls       = true
          block_public_policy     = true
          ignore_public_acls      = true
          restrict_public_buckets = true
        }
        """,
        "private weights bucket",
    )
    s.lookalike(
        "ml-infra/blocked-checkpoints/main.tf",
        """
        resource "aws_s3_bucket" "ckpt" {
          bucket = "acme-training-checkpoints"
        }

        resource "aws_s3_bucket_acl" "ckpt" {
          bucket = aws_s3_bucket.ckpt.id
          acl    = "public-read"
        }

        resource "aws_s3_bucket_public_access_block" "ckpt" {
          bucket                  = aws_s3_bucket.ckpt.id
          block_public_acls       = true
          block_public_policy     = true
          ignore_public_acls      = true
          restrict_public_buckets = true
        }
        """,
        "public-read ACL neutralised by the bucket's public access block",
    )
    s.lookalike(
        "ml-infra/owner-enforced/main.tf",
        """
        resource "aws_s3_bucket" "models" {
          bucket = "acme-onnx-models"
        }

        resource "aws_s3_bucket_ownership_controls" "models" {
          bucket = aws_s3_bucket.models.id
          rule {
            object_ownership = "BucketOwnerEnforced"
          }
        }

        resource "aws_s3_bucket_acl" "models" {
          bucket = aws_s3_bucket.models.id
          acl    = "public-read"
        }
        """,
        "ACLs disabled by BucketOwnerEnforced",
    )
    s.lookalike(
        "ml-infra/disabled-share/main.tf",
        """
        resource "aws_s3_bucket" "gguf" {
          bucket = "acme-gguf-share"
        }

        resource "aws_s3_bucket_policy" "gguf_public" {
          count  = 0
          bucket = aws_s3_bucket.gguf.id
          policy = jsonencode({
            Version   = "2012-10-17"
            Statement = [{
              Effect    = "Allow"
              Principal = "*"
              Action    = "s3:GetObject"
              Resource  = "${aws_s3_bucket.gguf.arn}/*"
            }]
          })
        }
        """,
        "public policy resource with count = 0",
    )
    s.lookalike(
        "ml-infra/gcp-prevented/main.tf",
        """
        resource "google_storage_bucket" "weights" {
          name                        = "acme-gcp-weights"
          location                    = "EU"
          uniform_bucket_level_access = true
          public_access_prevention    = "enforced"
        }

        resource "google_storage_bucket_iam_member" "public" {
          bucket = google_storage_bucket.weights.name
          role   = "roles/storage.objectViewer"
          member = "allUsers"
        }
        """,
        "allUsers binding under enforced public access prevention",
    )
    s.lookalike(
        "ml-infra/gcp-team/main.tf",
        """
        resource "google_storage_bucket" "checkpoints" {
          name     = "acme-gcp-checkpoints"
          location = "EU"
        }

        resource "google_storage_bucket_iam_member" "team" {
          bucket = google_storage_bucket.checkpoints.name
          role   = "roles/storage.objectViewer"
          member = "group:ml-eng@acme-corp.net"
        }
        """,
        "checkpoint bucket shared with a group",
    )
    s.lookalike(
        "ml-infra/azure-private/main.tf",
        """
        resource "azurerm_storage_account" "ml" {
          name                     = "acmemlprivate"
          resource_group_name      = "rg-ml"
          location                 = "westeurope"
          account_tier             = "Standard"
          account_replication_type = "LRS"
        }

        resource "azurerm_storage_container" "models" {
          name                  = "models"
          storage_account_name  = azurerm_storage_account.ml.name
          container_access_type = "private"
        }
        """,
        "Azure models container, private",
    )
    s.lookalike(
        "ml-infra/azure-nested-off/main.tf",
        """
        resource "azurerm_storage_account" "ml" {
          name                            = "acmemlnested"
          resource_group_name             = "rg-ml"
          location                        = "westeurope"
          account_tier                    = "Standard"
          account_replication_type        = "LRS"
          allow_nested_items_to_be_public = false
        }

        resource "azurerm_storage_container" "onnx" {
          name                  = "onnx-models"
          storage_account_name  = azurerm_storage_account.ml.name
          container_access_type = "blob"
        }
        """,
        "blob access on a container of an account that forbids public items",
    )
    s.lookalike(
        "ml-infra/role-policy/main.tf",
        """
        resource "aws_s3_bucket" "lora" {
          bucket = "acme-lora-adapters"
        }

        resource "aws_s3_bucket_policy" "lora" {
          bucket = aws_s3_bucket.lora.id
          policy = jsonencode({
            Version = "2012-10-17"
            Statement = [{
              Effect    = "Allow"
              Principal = { AWS = "arn:aws:iam::123456789012:role/inference-node" }
              Action    = ["s3:GetObject"]
              Resource  = "${aws_s3_bucket.lora.arn}/*"
            }]
          })
        }
        """,
        "adapter bucket readable by one role",
    )
    s.lookalike(
        "ml-infra/mixed/main.tf",
        """
        resource "aws_s3_bucket" "docs" {
          bucket = "acme-public-docs"
          tags = {
            Purpose = "website"
          }
        }

        resource "aws_s3_bucket_acl" "docs" {
          bucket = aws_s3_bucket.docs.id
          acl    = "public-read"
        }

        resource "aws_s3_bucket" "model_registry" {
          bucket = "acme-model-registry-private"
        }

        resource "aws_s3_bucket_acl" "model_registry" {
          bucket = aws_s3_bucket.model_registry.id
          acl    = "private"
        }
        """,
        "public docs bucket next to a private model registry bucket",
    )
    s.lookalike(
        "ml-infra/bucket-policies/weights-role.json",
        """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Principal": {"AWS": "arn:aws:iam::123456789012:role/training"},
              "Action": ["s3:GetObject", "s3:PutObject"],
              "Resource": "arn:aws:s3:::acme-model-weights/*"
            }
          ]
        }
        """,
        "weights bucket policy for one role",
    )
    s.lookalike(
        "ml-infra/bucket-policies/static-assets.json",
        """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Principal": "*",
              "Action": "s3:GetObject",
              "Resource": "arn:aws:s3:::acme-static-assets/*"
            }
          ]
        }
        """,
        "public policy on a static assets bucket",
    )
    s.lookalike(
        "ml-infra/registry-vars/variables.tf",
        """
        variable "model_bucket_name" {
          description = "Bucket that holds the model registry"
          type        = string
          default     = "acme-model-registry"
        }

        variable "openai_api_key" {
          description = "Passed to the gateway as a secret"
          type        = string
          sensitive   = true
        }
        """,
        "variables only: a model bucket name and a key variable without a value",
    )


def _config_lookalikes(s: _Set) -> None:
    """Placeholders and references instead of keys, docs, notebooks, model-like files."""
    s.lookalike(
        "support-bot/.env.example",
        """
        OPENAI_API_KEY=sk-your-key-here
        ANTHROPIC_API_KEY=
        HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
        GEMINI_API_KEY=<your-gemini-key>
        AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
        """,
        "example env file with placeholders",
    )
    s.lookalike(
        "kb-assistant/config/settings.yaml",
        """
        llm:
          provider: anthropic
          api_key: ${ANTHROPIC_API_KEY}
          base_url: ${LLM_BASE_URL}
        embeddings:
          provider: openai
          api_key: "${OPENAI_API_KEY}"
        """,
        "YAML config with environment references",
    )
    s.lookalike(
        "invoice-parser/docker-compose.override.yml",
        """
        services:
          api:
            environment:
              OPENAI_API_KEY: ${OPENAI_API_KEY:?set OPENAI_API_KEY}
              LOG_LEVEL: debug
        """,
        "compose override passing a key through from the environment",
    )
    s.lookalike(
        "kb-assistant/deploy/external-secret.yaml",
        """
        apiVersion: external-secrets.io/v1beta1
        kind: ExternalSecret
        metadata:
          name: kb-assistant-llm
        spec:
          refreshInterval: 1h
          secretStoreRef: {name: vault, kind: ClusterSecretStore}
          target: {name: kb-assistant-llm}
          data:
            - secretKey: ANTHROPIC_API_KEY
              remoteRef: {key: llm/anthropic, property: api_key}
        """,
        "ExternalSecret naming the key, not holding it",
    )
    s.lookalike(
        "kb-assistant/deploy/secret-template.yaml",
        """
        apiVersion: v1
        kind: Secret
        metadata:
          name: kb-assistant-llm
        type: Opaque
        stringData:
          OPENAI_API_KEY: "<set-by-ci>"
          ANTHROPIC_API_KEY: "REPLACE_ME"
        """,
        "Secret manifest with placeholders",
    )
    s.lookalike(
        "dev-tools/.continue/config.yaml",
        """
        name: local-assistant
        models:
          - name: llama.cpp local
            provider: openai
            model: qwen2.5-coder-7b
            apiBase: http://localhost:8080/v1
            apiKey: sk-no-key-required
        """,
        "llama.cpp's conventional dummy key",
    )
    s.lookalike(
        "support-bot/README.md",
        """
        # Support bot

        Calls go through the platform gateway. For a local run against a provider:

        ```python
        from openai import OpenAI
        client = OpenAI(api_key="sk-...")
        model = AutoModel.from_pretrained("bert-base-uncased", trust_remote_code=True)
        ```

        ```bash
        export OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
        vllm serve meta-llama/Llama-3.1-8B-Instruct --host 0.0.0.0
        jupyter lab --ip=0.0.0.0 --ServerApp.token=''
        ```
        """,
        "Markdown documentation with code fences",
        forbid=["ai-service", "model-server"],
    )
    s.lookalike(
        "research-infra/docs/jupyter.md",
        """
        # Shared Jupyter

        Do **not** start Jupyter with `--ip=0.0.0.0 --NotebookApp.token=''` on the GPU boxes.
        MLflow must run with `--app-name basic-auth`. Ray's dashboard stays on 127.0.0.1.
        """,
        "Markdown warning against risky launch flags",
        forbid=["model-server"],
    )
    s.lookalike(
        "marketing-site/src/loading.html",
        """
        <div class="sk-fading-circle" role="status">
          <div class="sk-circle1 sk-circle"></div>
          <div class="sk-circle2 sk-circle"></div>
          <span class="visually-hidden">Loading the AI-powered demo...</span>
        </div>
        """,
        "SpinKit CSS classes starting with sk-",
        forbid=["ai-service"],
    )
    s.lookalike(
        "sft-recipes/lock/model-revisions.json",
        _fill(
            """
            {
              "meta-llama/Llama-3.1-8B-Instruct": {"revision": "%%a%%", "sha256": "%%b%%"},
              "Qwen/Qwen2.5-7B-Instruct": {"revision": "%%c%%", "sha256": "%%d%%"}
            }
            """,
            a=s.commit(),
            b=s.chars(HEX, 64),
            c=s.commit(),
            d=s.chars(HEX, 64),
        ),
        "lock file of commits and digests",
    )
    s.lookalike(
        "ops-tools/config/services.toml",
        """
        [metrics]
        endpoint = "https://metrics.acme-corp.net"
        request_id_header = "X-Request-Id"
        instance_id = "0f8c6d1e-9a4b-4c2e-8d7f-5b3a1e9c7d24"

        [tracing]
        sample_rate = 0.1
        """,
        "UUIDs and ids that are not provider keys",
    )
    s.lookalike(
        "fraud-feats/notebooks/overview.ipynb",
        _notebook(
            (
                "markdown",
                "# Fraud overview\nLater we may summarise cases with OpenAI or Claude; "
                "for now pure pandas.\n",
            ),
            ("code", "import pandas as pd\ndf = pd.read_parquet('../data/features.parquet')\n"),
            ("code", "df.groupby('merchant').amount.sum().nlargest(10)\n"),
        ),
        "analysis notebook whose markdown names providers",
        forbid=["ai-service"],
    )
    s.lookalike(
        "vision-ranker/notebooks/safe_inspect.ipynb",
        _notebook(
            (
                "code",
                _fill(
                    """
                    import torch
                    from transformers import AutoModel
                    state = torch.load("../runs/ranker-v14/weights.pt", weights_only=True)
                    base = AutoModel.from_pretrained(
                        "google/vit-base-patch16-224", revision="%%r%%"
                    )
                    """,
                    r=s.commit(),
                ),
            ),
        ),
        "notebook with weights_only=True and a pinned revision",
    )
    s.lookalike(
        "support-bot/notebooks/gateway_demo.ipynb",
        _notebook(
            (
                "code",
                _fill(
                    """
                    import os
                    from openai import OpenAI
                    client = OpenAI(base_url="%%gw%%", api_key=os.environ["GATEWAY_KEY"])
                    """,
                    gw=GATEWAY,
                ),
            ),
        ),
        "notebook calling through the gateway",
    )
    no_model = ["model"]
    s.lookalike(
        "intent-router/export/model.bin",
        "placeholder: run `make export` to produce the real weights\n",
        "text file called model.bin",
        forbid=no_model,
    )
    s.lookalike(
        "llm-serving/models/tiny-chat-lfs/model.safetensors",
        "version https://git-lfs.github.com/spec/v1\n"
        f"oid sha256:{s.chars(HEX, 64)}\nsize 4965799096\n",
        "Git LFS pointer named model.safetensors",
        forbid=no_model,
    )
    s.lookalike(
        "doc-ocr/models/layout.onnx",
        """
        <!DOCTYPE html>
        <html><head><title>404 Not Found</title></head>
        <body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>
        """,
        "HTML error page saved under an .onnx name",
        forbid=no_model,
    )
    s.lookalike(
        "vision-ranker/serve/net.py",
        """
        import torch
        from torch import nn


        class Ranker(nn.Module):
            def __init__(self, dim: int = 512) -> None:
                super().__init__()
                self.fc = nn.Linear(dim, 1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.fc(x).squeeze(-1)
        """,
        "model architecture source code",
        forbid=no_model,
    )
    s.lookalike(
        "llm-serving/models/tiny-chat/config.json",
        """
        {
          "architectures": ["LlamaForCausalLM"],
          "hidden_size": 32,
          "num_attention_heads": 4,
          "num_hidden_layers": 2,
          "torch_dtype": "float16",
          "vocab_size": 16
        }
        """,
        "Hugging Face config.json next to weights",
        forbid=no_model,
    )
    s.lookalike(
        "speech-kws/export/kws_small.pt.sha256",
        f"{s.chars(HEX, 64)}  kws_small.pt\n",
        "checksum file of a model",
        forbid=no_model,
    )
    s.lookalike(
        "llm-serving/models/tiny-chat/README.md",
        """
        ---
        license: apache-2.0
        library_name: transformers
        tags: [llama, tiny]
        ---
        # tiny-chat

        Weights: `model.safetensors` (fp16). Load with `from_pretrained("./")`.
        """,
        "model card",
        forbid=["model", "ai-service"],
    )
    s.lookalike(
        "kb-assistant/chroma_placeholder/chroma.sqlite3",
        "",
        "empty chroma.sqlite3 placeholder without the SQLite header",
        forbid=["vector-store"],
    )
    s.lookalike(
        "semantic-search/index/README.faiss.txt",
        "Run `python -m search.faiss_build` to create index/docs.faiss.\n",
        "note about a FAISS index",
        forbid=["vector-store"],
    )


def _more_lookalikes(s: _Set) -> None:
    """Safe shapes that sit close to a rule: deny statements, required tokens, local paths."""
    s.lookalike(
        "ml-infra/bucket-policies/weights-tls-only.json",
        """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "DenyInsecureTransport",
              "Effect": "Deny",
              "Principal": "*",
              "Action": "s3:*",
              "Resource": ["arn:aws:s3:::acme-model-weights", "arn:aws:s3:::acme-model-weights/*"],
              "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }
          ]
        }
        """,
        "Principal * in a Deny statement (TLS only) on a weights bucket: nothing is exposed",
    )
    s.lookalike(
        "ml-infra/tls-only/main.tf",
        """
        resource "aws_s3_bucket" "checkpoints" {
          bucket = "acme-run-checkpoints"
        }

        resource "aws_s3_bucket_policy" "tls_only" {
          bucket = aws_s3_bucket.checkpoints.id
          policy = jsonencode({
            Version = "2012-10-17"
            Statement = [{
              Sid       = "DenyInsecureTransport"
              Effect    = "Deny"
              Principal = "*"
              Action    = "s3:*"
              Resource  = [aws_s3_bucket.checkpoints.arn, "${aws_s3_bucket.checkpoints.arn}/*"]
              Condition = { Bool = { "aws:SecureTransport" = "false" } }
            }]
          })
        }
        """,
        "Terraform Deny statement with Principal * on a checkpoint bucket",
    )
    s.lookalike(
        "ml-infra/restricted-policy/main.tf",
        """
        resource "aws_s3_bucket" "gguf" {
          bucket = "acme-gguf-releases"
        }

        resource "aws_s3_bucket_public_access_block" "gguf" {
          bucket                  = aws_s3_bucket.gguf.id
          block_public_acls       = true
          block_public_policy     = true
          ignore_public_acls      = true
          restrict_public_buckets = true
        }

        resource "aws_s3_bucket_policy" "gguf" {
          bucket = aws_s3_bucket.gguf.id
          policy = jsonencode({
            Version = "2012-10-17"
            Statement = [{
              Effect    = "Allow"
              Principal = "*"
              Action    = "s3:GetObject"
              Resource  = "${aws_s3_bucket.gguf.arn}/*"
            }]
          })
        }
        """,
        "public policy on a GGUF bucket that restrict_public_buckets blocks",
    )
    s.lookalike(
        "research-infra/docker-compose.lab-token.yml",
        """
        services:
          lab:
            image: quay.io/jupyter/pytorch-notebook:cuda12-2024-10-07
            command: start-notebook.py --IdentityProvider.token=${JUPYTER_TOKEN:?set a token}
            ports:
              - "8888:8888"
            user: "1000:100"
        """,
        "published Jupyter whose token compose refuses to leave empty",
    )
    s.lookalike(
        "semantic-search/k8s/reranker.yaml",
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: reranker
        spec:
          selector:
            matchLabels: {app: reranker}
          template:
            metadata:
              labels: {app: reranker}
            spec:
              containers:
                - name: reranker
                  image: ghcr.io/huggingface/text-embeddings-inference:1.5
                  args: ["--model-id", "/models/bge-reranker-base"]
                  securityContext:
                    runAsNonRoot: true
                    runAsUser: 65532
                    allowPrivilegeEscalation: false
                  resources:
                    limits:
                      nvidia.com/gpu: 1
        """,
        "GPU inference container non-root at container level",
    )
    s.lookalike(
        "fin-sentiment/charts/sentiment/values-prod.yaml",
        """
        replicaCount: 4
        podSecurityContext:
          runAsNonRoot: true
          runAsUser: 1000
          fsGroup: 1000
        """,
        "override file that keeps the pod non-root",
    )
    s.lookalike(
        "intent-router/router/bundle.py",
        """
        from pathlib import Path

        from transformers import AutoTokenizer

        HERE = Path(__file__).parent
        tokenizer = AutoTokenizer.from_pretrained(HERE / "bundled" / "tokenizer")
        """,
        "from_pretrained of a path expression",
    )
    s.lookalike(
        "recsys/recsys/pinned_dataset.py",
        _fill(
            """
            import pandas as pd
            from huggingface_hub import hf_hub_download

            path = hf_hub_download(
                repo_id="acme-ds/interactions",
                filename="data/train-00000-of-00001.parquet",
                repo_type="dataset",
                revision="%%rev%%",
            )
            interactions = pd.read_parquet(path)
            """,
            rev=s.commit(),
        ),
        "pinned dataset download read as Parquet",
    )


def _walking_lookalikes(s: _Set) -> None:
    """Links inside the roots and directories that are not walked."""
    link = s.root / "llm-serving/serving/current.safetensors"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to("../models/tiny-chat/model.safetensors")
    s.truth["llm-serving/serving/current.safetensors"] = {
        "seeded": False,
        "rules": [],
        "assets": [],
        "allowed": [],
        "forbid_assets": ["model"],
        "stretch": False,
        "why": "link to a model inside the roots: skipped, its target is walked",
    }
    s.lookalike(
        "sft-recipes/.venv/lib/python3.11/site-packages/transformers/dynamic_module_utils.py",
        """
        from transformers import AutoModel

        def load(repo):
            return AutoModel.from_pretrained(repo, trust_remote_code=True)

        M = AutoModel.from_pretrained("bert-base-uncased", trust_remote_code=True)
        """,
        "installed package inside a virtual environment",
        forbid=["ai-service"],
    )
    s.lookalike(
        "helpdesk-web/node_modules/@acme/llm-kit/dist/test/fixtures.js",
        _fill(
            """
            import OpenAI from "openai";
            export const KEY = "%%key%%";
            export const client = new OpenAI({ apiKey: KEY });
            """,
            key=s.openai_project_key(),
        ),
        "node_modules is not walked",
        forbid=["ai-service"],
    )
    s.lookalike(
        "churn-model/__pycache__/leftover.py",
        _fill(
            """
            import joblib
            from huggingface_hub import hf_hub_download
            model = joblib.load(hf_hub_download("acme-ds/churn-xgb", "model.joblib"))
            API_KEY = "%%key%%"
            """,
            key=s.openai_key(),
        ),
        "a cache directory is not walked",
        forbid=["ai-service"],
    )


def build_holdout(root: Path) -> dict[str, dict[str, Any]]:
    """Write the hold-out tree under root and return its ground truth by relative path."""
    s = _Set(root=root, rng=random.Random(SEED))
    for add in (
        _python_services,
        _python_hub,
        _python_loads,
        _keys,
        _other_languages,
        _shell,
        _dockerfiles,
        _compose,
        _kubernetes,
        _helm,
        _terraform,
        _notebooks,
        _manifests,
        _artifacts,
        _walking,
        _python_lookalikes,
        _code_lookalikes,
        _container_lookalikes,
        _infra_lookalikes,
        _config_lookalikes,
        _more_lookalikes,
        _walking_lookalikes,
    ):
        add(s)
    return s.truth
