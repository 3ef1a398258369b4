"""Hold-out cases for `garrison discover`, written from docs/posture.md alone.

`build_holdout(root)` writes one small fake repository per case under `root` and returns the
ground truth: relative path -> {"seeded", "rules", "allowed", "assets", "forbid_assets", "why"}.
Seeded cases must produce `rules` (and the inventory categories in `assets`); look-alikes must
produce no finding at medium or above and none of `forbid_assets`. `allowed` lists rules the docs
leave open for that file (e.g. GA-POST-011 on a client that uses the SDK's default endpoint), so
they count neither as found nor as unexpected. Provider keys are random strings of the real
shape, generated from a fixed seed; none is a real credential.
"""

from __future__ import annotations

import io
import json
import pickle
import random
import re
import sqlite3
import string
import struct
import textwrap
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

SEED = 20240611
GATEWAY = "https://gw.internal/v1"

ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"
K001, K002, K003, K004, K005, K006 = (f"GA-POST-00{i}" for i in range(1, 7))
K007, K008, K009, K010, K011 = (f"GA-POST-0{i:02d}" for i in range(7, 12))


@dataclass(frozen=True)
class Case:
    main: str  # the file the truth is about, relative to the case directory
    files: dict[str, str | bytes]
    seeded: bool
    why: str
    rules: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    assets: tuple[str, ...] = ()  # inventory "category" or "category:name" expected on main
    forbid_assets: tuple[str, ...] = ()  # inventory categories a look-alike must not produce
    stretch: bool = False  # in scope, but a spelling the docs do not name outright


@dataclass
class _Keys:
    """Synthetic provider keys: the real prefix, length and alphabet, random body."""

    rng: random.Random
    made: list[str] = field(default_factory=list)

    def _r(self, n: int, alphabet: str = ALNUM) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def _keep(self, key: str) -> str:
        self.made.append(key)
        return key

    def sha(self) -> str:
        return self._r(40, HEX)

    def hexs(self, n: int) -> str:
        return self._r(n, HEX)

    def openai(self) -> str:
        return self._keep(f"sk-{self._r(20)}T3BlbkFJ{self._r(20)}")

    def openai_proj(self) -> str:
        return self._keep(f"sk-proj-{self._r(74, B64URL)}T3BlbkFJ{self._r(74, B64URL)}")

    def openai_svcacct(self) -> str:
        return self._keep(f"sk-svcacct-{self._r(74, B64URL)}T3BlbkFJ{self._r(74, B64URL)}")

    def anthropic(self) -> str:
        return self._keep(f"sk-ant-api03-{self._r(93, B64URL)}AA")

    def hf(self) -> str:
        return self._keep(f"hf_{self._r(34, string.ascii_letters)}")

    def google(self) -> str:
        return self._keep(f"AIzaSy{self._r(33, B64URL)}")

    def aws(self) -> tuple[str, str]:
        access = self._keep(f"AKIA{self._r(16, string.ascii_uppercase + '234567')}")
        return access, self._keep(self._r(40, ALNUM + "/+"))

    def groq(self) -> str:
        return self._keep(f"gsk_{self._r(52)}")

    def replicate(self) -> str:
        return self._keep(f"r8_{self._r(37)}")

    def xai(self) -> str:
        return self._keep(f"xai-{self._r(80)}")

    def perplexity(self) -> str:
        return self._keep(f"pplx-{self._r(48)}")

    def azure(self) -> str:
        return self._keep(self._r(32, HEX))

    def cohere(self) -> str:
        return self._keep(self._r(40))

    def mistral(self) -> str:
        return self._keep(self._r(32))

    def together(self) -> str:
        return self._keep(self._r(64, HEX))


def _t(text: str, **subs: str) -> str:
    out = textwrap.dedent(text).lstrip("\n")
    for token, value in subs.items():
        out = out.replace(f"@{token}@", value)
    return out


def _body(path: str, text: str | bytes, subs: dict[str, str]) -> str | bytes:
    if isinstance(text, bytes):
        return text
    out = _t(text, **subs)
    if path.endswith(".go"):  # gofmt indents with tabs
        out = re.sub(r"^(?:    )+", lambda m: "\t" * (len(m.group(0)) // 4), out, flags=re.M)
    return out


def _seed(
    path: str,
    text: str | bytes,
    rules: tuple[str, ...] | list[str],
    why: str,
    *,
    allowed: tuple[str, ...] = (),
    assets: tuple[str, ...] = (),
    extra: dict[str, str | bytes] | None = None,
    stretch: bool = False,
    **subs: str,
) -> Case:
    body = _body(path, text, subs)
    files = {path: body, **(extra or {})}
    return Case(path, files, True, why, tuple(rules), allowed, assets, stretch=stretch)


def _look(
    path: str,
    text: str | bytes,
    why: str,
    *,
    forbid: tuple[str, ...] = (),
    extra: dict[str, str | bytes] | None = None,
    **subs: str,
) -> Case:
    body = _body(path, text, subs)
    return Case(path, {path: body, **(extra or {})}, False, why, forbid_assets=forbid)


def _notebook(*cells: tuple[str, str]) -> str:
    out = []
    for i, (kind, source) in enumerate(cells):
        lines = _t(source).rstrip("\n").split("\n")
        cell: dict[str, object] = {
            "cell_type": kind,
            "id": f"c{i:04d}-{kind}",
            "metadata": {},
            "source": [line + "\n" for line in lines[:-1]] + lines[-1:],
        }
        if kind == "code":
            cell.update(execution_count=i + 1, outputs=[])
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


AI = ("ai-service",)
SERVER = ("model-server",)
NO_AI = ("ai-service",)
NO_MODEL = ("model",)
ALLOW_GW = (K011,)


def _seeded_keys(k: _Keys) -> list[Case]:
    aws_a, aws_s = k.aws()
    aws_b, aws_t = k.aws()
    return [
        _seed(
            "src/chat.py",
            """
            from openai import OpenAI

            client = OpenAI(api_key="@K@")


            def ask(question: str) -> str:
                resp = client.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=[{"role": "user", "content": question}],
                )
                return resp.choices[0].message.content or ""
            """,
            [K001],
            "OpenAI sk-proj- key passed to the client",
            allowed=ALLOW_GW,
            assets=("ai-service:openai",),
            K=k.openai_proj(),
        ),
        _seed(
            "app/settings.py",
            """
            import os
            from pathlib import Path

            BASE_DIR = Path(__file__).resolve().parent.parent
            DEBUG = os.environ.get("DEBUG", "0") == "1"
            ALLOWED_HOSTS = ["support.acme.example"]

            # LLM summaries of tickets
            OPENAI_API_KEY = "@K@"
            OPENAI_MODEL = "gpt-4o-mini"
            """,
            [K001],
            "legacy sk- OpenAI key in Django settings",
            K=k.openai(),
        ),
        _seed(
            "notebooks/ticket_triage.ipynb",
            _notebook(
                ("markdown", "# Ticket triage experiments\nTry GPT on last week's tickets."),
                ("code", 'import os\nos.environ["OPENAI_API_KEY"] = "@K@"'),
                ("code", "from openai import OpenAI\nclient = OpenAI()"),
                ("code", "import pandas as pd\ndf = pd.read_csv('tickets.csv')\ndf.head()"),
            ),
            [K001],
            "key set in a notebook cell",
            allowed=ALLOW_GW,
            assets=("notebook", "ai-service:openai"),
            K=k.openai_proj(),
        ),
        _seed(
            ".env",
            """
            DATABASE_URL=postgresql://app:app@db:5432/app
            REDIS_URL=redis://redis:6379/0
            OPENAI_API_KEY=@K@
            LOG_LEVEL=info
            """,
            [K001],
            "sk-svcacct- key in a .env file",
            K=k.openai_svcacct(),
        ),
        _seed(
            "config/llm.yaml",
            """
            default_provider: anthropic
            anthropic:
              api_key: @K@
              model: claude-3-5-sonnet-latest
              max_tokens: 1024
            retry:
              attempts: 3
            """,
            [K001],
            "Anthropic sk-ant- key in YAML config",
            K=k.anthropic(),
        ),
        _seed(
            "src/summarize.ts",
            """
            import Anthropic from "@anthropic-ai/sdk";

            const anthropic = new Anthropic({ apiKey: "@K@" });

            export async function summarize(text: string): Promise<string> {
              const msg = await anthropic.messages.create({
                model: "claude-3-5-haiku-latest",
                max_tokens: 512,
                messages: [{ role: "user", content: `Summarize:\\n${text}` }],
              });
              return msg.content[0].type === "text" ? msg.content[0].text : "";
            }
            """,
            [K001],
            "Anthropic key in TypeScript",
            allowed=ALLOW_GW,
            assets=("ai-service:anthropic",),
            K=k.anthropic(),
        ),
        _seed(
            "claude_client.py",
            """
            import anthropic as ant

            ANTHROPIC_KEY = (
                "@K@"
            )

            claude = ant.Anthropic(api_key=ANTHROPIC_KEY)
            """,
            [K001],
            "Anthropic key in a parenthesised constant, aliased import",
            allowed=ALLOW_GW,
            assets=("ai-service:anthropic",),
            K=k.anthropic(),
        ),
        _seed(
            "scripts/push_model.py",
            """
            from huggingface_hub import HfApi

            api = HfApi(token="@K@")
            api.upload_folder(
                folder_path="outputs/final",
                repo_id="acme/churn-classifier",
                repo_type="model",
            )
            """,
            [K001],
            "Hugging Face hf_ token in code",
            assets=("ai-service",),
            K=k.hf(),
        ),
        _seed(
            "scripts/download_weights.sh",
            """
            #!/usr/bin/env bash
            set -euo pipefail
            export HF_TOKEN=@K@
            huggingface-cli download meta-llama/Llama-3.1-8B-Instruct --local-dir /models/llama
            """,
            [K001],
            "hf_ token exported in a shell script",
            K=k.hf(),
        ),
        _seed(
            "notebooks/finetune.ipynb",
            _notebook(
                ("code", 'from huggingface_hub import login\nlogin(token="@K@")'),
                ("code", "import torch\nprint(torch.cuda.is_available())"),
            ),
            [K001],
            "hf_ token in a notebook login() call",
            assets=("notebook",),
            K=k.hf(),
        ),
        _seed(
            "gemini.py",
            """
            import google.generativeai as genai

            genai.configure(api_key="@K@")
            model = genai.GenerativeModel("gemini-1.5-flash")


            def caption(image_bytes: bytes) -> str:
                return model.generate_content(["Describe this image", image_bytes]).text
            """,
            [K001],
            "Google AIza key in genai.configure",
            allowed=ALLOW_GW,
            assets=("ai-service",),
            K=k.google(),
        ),
        _seed(
            "web/src/gemini.js",
            """
            import { GoogleGenerativeAI } from "@google/generative-ai";

            const genAI = new GoogleGenerativeAI("@K@");
            export const model = genAI.getGenerativeModel({ model: "gemini-1.5-pro" });
            """,
            [K001],
            "Google key positional in JavaScript",
            allowed=ALLOW_GW,
            assets=("ai-service",),
            K=k.google(),
        ),
        _seed(
            "app/src/main/java/com/acme/notes/ai/Gemini.kt",
            """
            package com.acme.notes.ai

            import com.google.ai.client.generativeai.GenerativeModel

            object Gemini {
                private const val GEMINI_API_KEY = "@K@"
                val model = GenerativeModel(modelName = "gemini-1.5-flash", apiKey = GEMINI_API_KEY)
            }
            """,
            [K001],
            "Google key in Kotlin",
            allowed=ALLOW_GW,
            K=k.google(),
        ),
        _seed(
            "bedrock_client.py",
            """
            import json

            import boto3

            runtime = boto3.client(
                "bedrock-runtime",
                region_name="us-east-1",
                aws_access_key_id="@A@",
                aws_secret_access_key="@S@",
            )


            def invoke(prompt: str) -> str:
                body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 256,
                        "messages": [{"role": "user", "content": prompt}]}
                out = runtime.invoke_model(modelId="anthropic.claude-3-haiku-20240307-v1:0",
                                           body=json.dumps(body))
                return json.loads(out["body"].read())["content"][0]["text"]
            """,
            [K001],
            "AWS access key pair passed to a Bedrock client",
            allowed=ALLOW_GW,
            assets=("ai-service",),
            A=aws_a,
            S=aws_s,
        ),
        _seed(
            "infra/bedrock.tf",
            """
            provider "aws" {
              region     = "us-east-1"
              access_key = "@A@"
              secret_key = "@S@"
            }

            resource "aws_bedrockagent_agent" "support" {
              agent_name              = "support-agent"
              foundation_model        = "anthropic.claude-3-5-sonnet-20240620-v1:0"
              agent_resource_role_arn = aws_iam_role.bedrock.arn
              instruction             = "Answer questions about invoices using the knowledge base."
            }
            """,
            [K001],
            "AWS keys in the Terraform provider of a Bedrock agent",
            A=aws_b,
            S=aws_t,
        ),
        _seed(
            "groq_chat.py",
            """
            from groq import Groq

            client = Groq(api_key="@K@")
            reply = client.chat.completions.create(
                model="llama-3.1-70b-versatile",
                messages=[{"role": "user", "content": "ping"}],
            )
            """,
            [K001],
            "Groq gsk_ key",
            allowed=ALLOW_GW,
            assets=("ai-service",),
            K=k.groq(),
        ),
        _seed(
            "cmd/digest/main.go",
            """
            package main

            import (
                "context"
                "fmt"

                openai "github.com/sashabaranov/go-openai"
            )

            const groqKey = "@K@"

            func main() {
                cfg := openai.DefaultConfig(groqKey)
                cfg.BaseURL = "https://api.groq.com/openai/v1"
                client := openai.NewClientWithConfig(cfg)
                req := openai.ChatCompletionRequest{
                    Model:    "llama-3.1-8b-instant",
                    Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "digest"}},
                }
                resp, err := client.CreateChatCompletion(context.Background(), req)
                if err != nil {
                    panic(err)
                }
                fmt.Println(resp.Choices[0].Message.Content)
            }
            """,
            [K001],
            "Groq key in Go",
            allowed=ALLOW_GW,
            assets=("ai-service",),
            K=k.groq(),
        ),
        _seed(
            "replicate_run.py",
            """
            import os

            import replicate

            os.environ["REPLICATE_API_TOKEN"] = "@K@"

            output = replicate.run(
                "stability-ai/sdxl:39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b",
                input={"prompt": "an astronaut riding a horse"},
            )
            """,
            [K001],
            "Replicate r8_ token",
            allowed=ALLOW_GW,
            assets=("ai-service",),
            K=k.replicate(),
        ),
        _seed(
            "grok.py",
            """
            from openai import OpenAI

            xai = OpenAI(
                api_key="@K@",
                base_url="https://api.x.ai/v1",
            )
            completion = xai.chat.completions.create(
                model="grok-beta", messages=[{"role": "user", "content": "hi"}]
            )
            """,
            [K001, K011],
            "xAI key and a base URL that is not the gateway",
            assets=("ai-service",),
            K=k.xai(),
        ),
        _seed(
            "src/search.js",
            """
            const PPLX_KEY = "@K@";

            export async function search(query) {
              const res = await fetch("https://api.perplexity.ai/chat/completions", {
                method: "POST",
                headers: {
                  Authorization: `Bearer ${PPLX_KEY}`,
                  "Content-Type": "application/json",
                },
                body: JSON.stringify({
                  model: "sonar",
                  messages: [{ role: "user", content: query }],
                }),
              });
              return (await res.json()).choices[0].message.content;
            }
            """,
            [K001],
            "Perplexity pplx- key in JavaScript",
            allowed=ALLOW_GW,
            K=k.perplexity(),
        ),
        _seed(
            "azure_chat.py",
            """
            from openai import AzureOpenAI

            AZURE_OPENAI_API_KEY = "@K@"

            client = AzureOpenAI(
                api_key=AZURE_OPENAI_API_KEY,
                api_version="2024-06-01",
                azure_endpoint="https://contoso-eastus.openai.azure.com/",
            )
            """,
            [K001],
            "32-hex Azure OpenAI key next to AZURE_OPENAI_API_KEY",
            allowed=ALLOW_GW,
            assets=("ai-service",),
            K=k.azure(),
        ),
        _seed(
            "deploy/.env.production",
            """
            AZURE_OPENAI_ENDPOINT=https://contoso-prod.openai.azure.com/
            AZURE_OPENAI_KEY=@K@
            AZURE_OPENAI_DEPLOYMENT=gpt-4o
            """,
            [K001],
            "Azure OpenAI key in an env file",
            K=k.azure(),
        ),
        _seed(
            "rerank.py",
            """
            import cohere

            COHERE_API_KEY = "@K@"
            co = cohere.ClientV2(api_key=COHERE_API_KEY)


            def rerank(query: str, docs: list[str]) -> list[int]:
                res = co.rerank(model="rerank-english-v3.0", query=query, documents=docs)
                return [r.index for r in res.results]
            """,
            [K001],
            "Cohere key next to COHERE_API_KEY",
            allowed=ALLOW_GW,
            assets=("ai-service",),
            K=k.cohere(),
        ),
        _seed(
            "docker-compose.yml",
            """
            services:
              worker:
                image: registry.acme.example/summarizer-worker:1.8.2
                user: "10001:10001"
                environment:
                  MISTRAL_API_KEY: "@K@"
                  QUEUE_URL: amqp://rabbit:5672
            """,
            [K001],
            "Mistral key next to MISTRAL_API_KEY in compose",
            K=k.mistral(),
        ),
        _seed(
            "eval/run_eval.sh",
            """
            #!/bin/sh
            export TOGETHER_API_KEY=@K@
            python -m eval.harness --provider together --model meta-llama/Llama-3-70b-chat-hf
            """,
            [K001],
            "Together key (64 hex) next to TOGETHER_API_KEY",
            K=k.together(),
        ),
        _seed(
            "src/main/java/com/acme/support/SupportBot.java",
            """
            package com.acme.support;

            import com.openai.client.OpenAIClient;
            import com.openai.client.okhttp.OpenAIOkHttpClient;

            public final class SupportBot {
                private static final String OPENAI_KEY = "@K@";

                private final OpenAIClient client =
                        OpenAIOkHttpClient.builder().apiKey(OPENAI_KEY).build();
            }
            """,
            [K001],
            "OpenAI key in Java",
            allowed=ALLOW_GW,
            assets=("ai-service",),
            K=k.openai_proj(),
        ),
        _seed(
            "tools/classify.py",
            """
            from openai import OpenAI

            # client = OpenAI(api_key="@K@")
            client = OpenAI()
            """,
            [K001],
            "a commented-out key is still a key written in the file",
            allowed=ALLOW_GW,
            K=k.openai(),
        ),
        _seed(
            "appsettings.json",
            """
            {
              "Logging": { "LogLevel": { "Default": "Information" } },
              "OpenAI": {
                "ApiKey": "@K@",
                "Model": "gpt-4o"
              }
            }
            """,
            [K001],
            "OpenAI key in a JSON settings file",
            K=k.openai_proj(),
        ),
        _seed(
            ".streamlit/secrets.toml",
            """
            OPENAI_API_KEY = "@K@"

            [connections.snowflake]
            account = "acme-xy12345"
            """,
            [K001],
            "OpenAI key in Streamlit secrets.toml",
            K=k.openai(),
        ),
        _seed(
            "k8s/llm-secret.yaml",
            """
            apiVersion: v1
            kind: Secret
            metadata:
              name: llm-credentials
              namespace: support
            type: Opaque
            stringData:
              ANTHROPIC_API_KEY: @K@
            """,
            [K001],
            "Anthropic key in a Kubernetes Secret's stringData",
            K=k.anthropic(),
        ),
        _seed(
            "chains/qa.py",
            """
            from langchain_anthropic import ChatAnthropic
            from langchain_core.prompts import ChatPromptTemplate

            llm = ChatAnthropic(model="claude-3-5-sonnet-latest",
                                anthropic_api_key="@K@")
            prompt = ChatPromptTemplate.from_template("Answer briefly: {question}")
            chain = prompt | llm
            """,
            [K001],
            "Anthropic key as a LangChain keyword argument",
            allowed=ALLOW_GW,
            assets=("ai-service",),
            K=k.anthropic(),
        ),
        _seed(
            "bedrock_env.sh",
            """
            #!/usr/bin/env bash
            export AWS_ACCESS_KEY_ID=@A@
            export AWS_SECRET_ACCESS_KEY=@S@
            export AWS_REGION=us-west-2
            aws bedrock-runtime converse --model-id anthropic.claude-3-haiku-20240307-v1:0 \\
              --messages '[{"role":"user","content":[{"text":"hello"}]}]'
            """,
            [K001],
            "AWS key pair exported before a Bedrock CLI call",
            **dict(zip(("A", "S"), k.aws(), strict=True)),
        ),
    ]


def _seeded_loaders(k: _Keys) -> list[Case]:
    return [
        # GA-POST-002 trust_remote_code=True
        _seed(
            "train/phi.py",
            """
            from transformers import AutoModelForCausalLM, AutoTokenizer

            REV = "@SHA@"
            tok = AutoTokenizer.from_pretrained("microsoft/phi-2", revision=REV)
            model = AutoModelForCausalLM.from_pretrained(
                "microsoft/phi-2",
                revision="@SHA@",
                trust_remote_code=True,
                torch_dtype="auto",
            )
            """,
            [K002],
            "trust_remote_code=True with a pinned revision",
            allowed=(K006,),
            SHA=k.sha(),
        ),
        _seed(
            "embed/nomic.py",
            """
            from transformers import AutoModel

            model = AutoModel.from_pretrained(
                "nomic-ai/nomic-embed-text-v1.5", trust_remote_code=True
            )
            """,
            [K002, K006],
            "trust_remote_code=True and an unpinned hub id",
        ),
        _seed(
            "serve/falcon_pipe.py",
            """
            import transformers

            generator = transformers.pipeline(
                "text-generation",
                model="tiiuae/falcon-7b-instruct",
                revision="@SHA@",
                trust_remote_code=True,
                device_map="auto",
            )
            """,
            [K002],
            "pipeline(..., trust_remote_code=True), module-qualified call",
            SHA=k.sha(),
        ),
        _seed(
            "data/stack.py",
            """
            from datasets import load_dataset

            ds = load_dataset(
                "bigcode/the-stack-smol", revision="@SHA@", split="train", trust_remote_code=True
            )
            """,
            [K002],
            "load_dataset with trust_remote_code=True",
            SHA=k.sha(),
        ),
        _seed(
            "serve/offline_batch.py",
            """
            from vllm import LLM, SamplingParams

            llm = LLM(model="Qwen/Qwen2-7B-Instruct", trust_remote_code=True,
                      tensor_parallel_size=2)
            params = SamplingParams(temperature=0.2, max_tokens=256)
            outputs = llm.generate(["Summarize the release notes."], params)
            """,
            [K002],
            "vLLM LLM(..., trust_remote_code=True)",
            allowed=(K006, *ALLOW_GW),
            assets=("ai-service",),
        ),
        _seed(
            "notebooks/embeddings.ipynb",
            _notebook(
                ("code", "from sentence_transformers import SentenceTransformer"),
                (
                    "code",
                    """
                    model = SentenceTransformer(
                        "jinaai/jina-embeddings-v2-base-en",
                        revision="@SHA@",
                        trust_remote_code=True,
                    )
                    """.replace("@SHA@", k.sha()),
                ),
            ),
            [K002],
            "trust_remote_code=True in a notebook cell",
            assets=("notebook",),
        ),
        _seed(
            "configs/load_cfg.py",
            """
            from transformers import AutoConfig

            MODEL_ID = "mosaicml/mpt-7b"
            config = AutoConfig.from_pretrained(MODEL_ID, trust_remote_code=True)
            config.max_seq_len = 4096
            """,
            [K002],
            "trust_remote_code=True, hub id held in a variable",
            allowed=(K006,),
        ),
        _seed(
            "models/tokenize.py",
            """
            from transformers import AutoTokenizer as Tok

            tokenizer = Tok.from_pretrained(
                "THUDM/chatglm3-6b", revision="@SHA@", trust_remote_code=True
            )
            """,
            [K002],
            "aliased AutoTokenizer with trust_remote_code=True",
            SHA=k.sha(),
        ),
        # GA-POST-003 torch.load without weights_only=True
        _seed(
            "eval/evaluate.py",
            """
            import torch

            from model import Net

            net = Net()
            net.load_state_dict(torch.load("checkpoints/best.pt"))
            net.eval()
            """,
            [K003],
            "bare torch.load",
        ),
        _seed(
            "infer.py",
            """
            import torch


            def load(path: str) -> dict:
                return torch.load(path, map_location="cpu")
            """,
            [K003],
            "torch.load with map_location only",
        ),
        _seed(
            "resume.py",
            """
            import torch

            state = torch.load("runs/last.ckpt", weights_only=False)
            optimizer_state = state["optimizer"]
            """,
            [K003],
            "explicit weights_only=False",
        ),
        _seed(
            "lightning_utils.py",
            """
            import torch as T


            def restore(ckpt_path, device):
                ckpt = T.load(ckpt_path, map_location=device)
                return ckpt["state_dict"]
            """,
            [K003],
            "torch imported as T",
        ),
        _seed(
            "ckpt_io.py",
            """
            from torch import load as torch_load


            def read_checkpoint(p):
                return torch_load(p)
            """,
            [K003],
            "from torch import load as torch_load",
        ),
        _seed(
            "trainer/checkpointing.py",
            """
            import os

            import torch


            def load_optimizer(args, optimizer):
                checkpoint = torch.load(
                    os.path.join(args.output_dir, "optimizer.pt"),
                    map_location=lambda storage, loc: storage,
                )
                optimizer.load_state_dict(checkpoint)
            """,
            [K003],
            "multi-line torch.load",
        ),
        _seed(
            "notebooks/inspect_ckpt.ipynb",
            _notebook(
                ("markdown", "Inspect the checkpoint from run 42"),
                ("code", "import torch\nsd = torch.load('run42/model.pt')\nlist(sd)[:5]"),
            ),
            [K003],
            "torch.load in a notebook cell",
            assets=("notebook",),
        ),
        _seed(
            "serving/model_wrapper.py",
            """
            import torch


            class Wrapper:
                def __init__(self, model, ckpt: str) -> None:
                    self.model = model
                    self.ckpt = ckpt

                def restore(self) -> None:
                    self.model.load_state_dict(torch.load(self.ckpt))
            """,
            [K003],
            "torch.load inside a method",
        ),
        _seed(
            "io_helpers.py",
            """
            import torch


            def read(path):
                with open(path, "rb") as fh:
                    obj = torch.load(fh)
                return obj
            """,
            [K003],
            "torch.load of an open file handle",
        ),
        _seed(
            "cache/blob_loader.py",
            """
            import io

            import torch


            def from_bytes(blob: bytes):
                return torch.load(io.BytesIO(blob))
            """,
            [K003],
            "torch.load of BytesIO",
        ),
        # GA-POST-004 unpickling a downloaded file
        _seed(
            "predict_churn.py",
            """
            import joblib
            from huggingface_hub import hf_hub_download

            path = hf_hub_download(repo_id="acme/churn-model", filename="model.joblib")
            model = joblib.load(path)
            """,
            [K004, K006],
            "joblib.load of hf_hub_download without revision",
        ),
        _seed(
            "sk_model.py",
            """
            import pickle

            from huggingface_hub import hf_hub_download

            local = hf_hub_download(
                repo_id="acme/fraud-gbm", filename="gbm.pkl", revision="@SHA@"
            )
            clf = pickle.load(open(local, "rb"))
            """,
            [K004],
            "pickle.load(open(path)) of a pinned hub download",
            SHA=k.sha(),
        ),
        _seed(
            "loader_with.py",
            """
            import pickle

            from huggingface_hub import hf_hub_download

            with open(
                hf_hub_download("acme/ranker", "ranker.pkl", revision="@SHA@"), "rb"
            ) as f:
                ranker = pickle.load(f)
            """,
            [K004],
            "with open(hf_hub_download(...)) as f: pickle.load(f)",
            SHA=k.sha(),
        ),
        _seed(
            "remote_model.py",
            """
            import pickle

            import requests

            MODEL_URL = "https://artifacts.acme.example/models/latest.pkl"

            resp = requests.get(MODEL_URL, timeout=30)
            resp.raise_for_status()
            model = pickle.loads(resp.content)
            """,
            [K004],
            "pickle.loads of requests.get(...).content",
        ),
        _seed(
            "fetch_model.py",
            """
            import urllib.request

            import joblib

            URL = "https://example-bucket.s3.amazonaws.com/models/forest.joblib"
            path, _ = urllib.request.urlretrieve(URL, "forest.joblib")
            forest = joblib.load(path)
            """,
            [K004],
            "joblib.load of urlretrieve's path",
        ),
        _seed(
            "feature_store.py",
            """
            import pickle
            from urllib.request import urlopen


            def load_features(url: str):
                data = urlopen(url).read()
                return pickle.loads(data)
            """,
            [K004],
            "pickle.loads of urlopen(...).read()",
        ),
        _seed(
            "reports/monthly.py",
            """
            import pandas as pd

            df = pd.read_pickle("https://storage.acme.example/features/2024-05.pkl")
            print(df.describe())
            """,
            [K004],
            "pandas.read_pickle of a URL",
        ),
        _seed(
            "load_remote_ckpt.py",
            """
            import torch
            from huggingface_hub import hf_hub_download

            weights = hf_hub_download("acme/detector", "pytorch_model.bin", revision="@SHA@")
            state_dict = torch.load(weights)
            """,
            [K003, K004],
            "torch.load (no weights_only) of a hub download",
            SHA=k.sha(),
        ),
        _seed(
            "s3_model.py",
            """
            import pickle

            import boto3

            s3 = boto3.client("s3")
            obj = s3.get_object(Bucket="ml-artifacts", Key="models/churn.pkl")
            model = pickle.loads(obj["Body"].read())
            """,
            [K004],
            "pickle.loads of an S3 get_object body",
        ),
        _seed(
            "batch/score.py",
            """
            import boto3
            import joblib

            BUCKET = "ml-artifacts"
            KEY = "models/churn/2024-06-01/model.joblib"


            def main() -> None:
                local_path = "/tmp/churn.joblib"
                boto3.client("s3").download_file(BUCKET, KEY, local_path)
                model = joblib.load(local_path)
                print(model)
            """,
            [K004],
            "joblib.load of a file written by S3 download_file (an out-parameter)",
            stretch=True,
        ),
        _seed(
            "udf_loader.py",
            """
            import dill
            import requests

            FEATURE_FN_URL = "https://features.acme.example/fn/normalize.dill"
            normalize = dill.loads(requests.get(FEATURE_FN_URL, timeout=10).content)
            """,
            [K004],
            "dill.loads of a download",
        ),
        _seed(
            "remote_fn.py",
            """
            from urllib.request import urlopen

            import cloudpickle


            def fetch(url):
                with urlopen(url) as resp:
                    return cloudpickle.load(resp)
            """,
            [K004],
            "cloudpickle.load of a urlopen response",
        ),
        _seed(
            "sklearn_hub.py",
            """
            import joblib
            from huggingface_hub import hf_hub_download

            pipe = joblib.load(
                hf_hub_download(
                    repo_id="scikit-learn/tabular-playground", filename="sklearn_model.joblib"
                )
            )
            """,
            [K004, K006],
            "joblib.load(hf_hub_download(...)) nested, unpinned",
        ),
        # GA-POST-005 allow_pickle=True
        _seed(
            "features.py",
            """
            import numpy as np

            feats = np.load("features.npy", allow_pickle=True)
            """,
            [K005],
            "np.load(..., allow_pickle=True)",
        ),
        _seed(
            "vocab.py",
            """
            import numpy


            def load_vocab(path):
                return numpy.load(path, allow_pickle=True).item()
            """,
            [K005],
            "numpy.load(...).item() with allow_pickle=True",
        ),
        _seed(
            "mmap_loader.py",
            """
            from numpy import load

            arr = load("cache/index.npy", mmap_mode="r", allow_pickle=True)
            """,
            [K005],
            "from numpy import load; allow_pickle=True",
        ),
        _seed(
            "datasets/npz_dataset.py",
            """
            import numpy as np
            from torch.utils.data import Dataset


            class NpzDataset(Dataset):
                def __init__(self, path: str) -> None:
                    data = np.load(
                        path,
                        allow_pickle = True,
                    )
                    self.x, self.y = data["x"], data["y"]

                def __len__(self) -> int:
                    return len(self.x)
            """,
            [K005],
            "multi-line np.load with spaces around =",
        ),
        _seed(
            "notebooks/eda.ipynb",
            _notebook(
                ("code", "import numpy as np"),
                ("code", "meta = np.load('meta.npy', allow_pickle=True)\nmeta[:3]"),
            ),
            [K005],
            "allow_pickle=True in a notebook",
            assets=("notebook",),
        ),
        # GA-POST-006 hub downloads without a pinned commit
        _seed(
            "nlp/tokenize.py",
            """
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")
            """,
            [K006],
            "from_pretrained of a bare hub id",
        ),
        _seed(
            "nlp/sentiment.py",
            """
            from transformers import AutoModelForSequenceClassification

            MODEL = AutoModelForSequenceClassification.from_pretrained(
                "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
                revision="main",
            )
            """,
            [K006],
            "revision='main' is a branch, not a commit",
        ),
        _seed(
            "summarizer.py",
            """
            from transformers import pipeline

            summarizer = pipeline("summarization", model="facebook/bart-large-cnn")
            """,
            [K006],
            "pipeline(model=hub id)",
        ),
        _seed(
            "bootstrap/fetch_llama.py",
            """
            from huggingface_hub import snapshot_download

            snapshot_download(
                repo_id="meta-llama/Llama-3.1-8B-Instruct",
                local_dir="/models/llama-3.1-8b",
                allow_patterns=["*.json", "*.safetensors"],
            )
            """,
            [K006],
            "snapshot_download without revision",
        ),
        _seed(
            "bootstrap/fetch_gguf.py",
            """
            from huggingface_hub import hf_hub_download

            gguf = hf_hub_download(
                repo_id="TheBloke/Mistral-7B-Instruct-v0.2-GGUF",
                filename="mistral-7b-instruct-v0.2.Q4_K_M.gguf",
            )
            """,
            [K006],
            "hf_hub_download without revision",
        ),
        _seed(
            "data/pretrain_mix.py",
            """
            from datasets import load_dataset

            web = load_dataset("HuggingFaceFW/fineweb-edu", split="train", streaming=True)
            """,
            [K006],
            "load_dataset of a hub dataset",
        ),
        _seed(
            "search/embed.py",
            """
            from sentence_transformers import SentenceTransformer

            encoder = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")
            """,
            [K006],
            "SentenceTransformer of a hub id",
        ),
        _seed(
            "asr/whisper.py",
            """
            from transformers import WhisperForConditionalGeneration, WhisperProcessor

            processor = WhisperProcessor.from_pretrained("openai/whisper-small", revision="v1.0")
            model = WhisperForConditionalGeneration.from_pretrained("openai/whisper-small")
            """,
            [K006],
            "revision set to a tag, and one unpinned",
        ),
        _seed(
            "t5_finetune.py",
            """
            from transformers import T5ForConditionalGeneration

            model = T5ForConditionalGeneration.from_pretrained(
                "google/flan-t5-base", revision="a1b2c3d"
            )
            """,
            [K006],
            "short 7-character sha is not a 40-character commit",
        ),
        _seed(
            "notebooks/qa.ipynb",
            _notebook(
                ("code", "from datasets import load_dataset\nsquad = load_dataset('squad')"),
            ),
            [K006],
            "load_dataset in a notebook",
            assets=("notebook",),
        ),
        _seed(
            "vision/clip_index.py",
            """
            import torch
            from transformers import CLIPModel

            clip = CLIPModel.from_pretrained(
                "openai/clip-vit-base-patch32", torch_dtype=torch.float16
            )
            """,
            [K006],
            "multi-line from_pretrained",
        ),
        _seed(
            "gen/sd.py",
            """
            from diffusers import StableDiffusionPipeline

            pipe = StableDiffusionPipeline.from_pretrained("stabilityai/stable-diffusion-2-1")
            pipe = pipe.to("cuda")
            """,
            [K006],
            "diffusers from_pretrained",
            allowed=ALLOW_GW,
        ),
    ]


def _seeded_servers() -> list[Case]:
    return [
        _seed(
            "docker-compose.yml",
            """
            services:
              notebook:
                image: quay.io/jupyter/scipy-notebook:2024-07-08
                command: start-notebook.sh --NotebookApp.token='' --NotebookApp.password=''
                ports:
                  - "8888:8888"
                volumes:
                  - ./work:/home/jovyan/work
            """,
            [K007],
            "Jupyter with an empty token on a published port",
            allowed=(K010,),
            assets=SERVER,
        ),
        _seed(
            "compose.yaml",
            """
            services:
              tracking:
                image: ghcr.io/mlflow/mlflow:v2.15.1
                command: >
                  mlflow server --host 0.0.0.0 --port 5000
                  --backend-store-uri postgresql://mlflow:mlflow@db/mlflow
                  --artifacts-destination s3://acme-mlflow-artifacts
                ports:
                  - "5000:5000"
              db:
                image: postgres:16
                environment:
                  POSTGRES_PASSWORD: mlflow
            """,
            [K007],
            "MLflow on 0.0.0.0 without basic-auth, published",
            allowed=(K010,),
            assets=SERVER,
        ),
        _seed(
            "ollama/docker-compose.yaml",
            """
            services:
              ollama:
                image: ollama/ollama:0.3.12
                ports:
                  - 11434:11434
                volumes:
                  - ollama:/root/.ollama
            volumes:
              ollama: {}
            """,
            [K007],
            "Ollama published (Ollama has no auth)",
            allowed=(K010,),
            assets=SERVER,
        ),
        _seed(
            "llm/docker-compose.yml",
            """
            services:
              vllm:
                image: vllm/vllm-openai:v0.6.3
                command: --model mistralai/Mistral-7B-Instruct-v0.3 --max-model-len 8192
                ports:
                  - "8000:8000"
                deploy:
                  resources:
                    reservations:
                      devices:
                        - driver: nvidia
                          count: 1
                          capabilities: [gpu]
            """,
            [K007],
            "vLLM published without --api-key",
            allowed=(K010,),
            assets=SERVER,
        ),
        _seed(
            "ray/docker-compose.yml",
            """
            services:
              ray-head:
                image: rayproject/ray-ml:2.34.0-gpu
                command: ray start --head --dashboard-host=0.0.0.0 --block
                ports:
                  - "8265:8265"
                  - "10001:10001"
                shm_size: 8gb
            """,
            [K007],
            "Ray dashboard on 0.0.0.0, published",
            allowed=(K010,),
            assets=SERVER,
        ),
        _seed(
            "scripts/start_lab.sh",
            """
            #!/usr/bin/env bash
            cd /srv/notebooks
            exec jupyter lab --ip=0.0.0.0 --port=8888 --no-browser --allow-root \\
                --ServerApp.token='' --ServerApp.password=''
            """,
            [K007],
            "Jupyter Lab on 0.0.0.0 with an empty token from a launch script",
            assets=SERVER,
        ),
        _seed(
            "ops/mlflow.sh",
            """
            #!/bin/sh
            mlflow server \\
              --host 0.0.0.0 \\
              --port 5000 \\
              --backend-store-uri sqlite:////var/lib/mlflow/mlflow.db \\
              --default-artifact-root /var/lib/mlflow/artifacts
            """,
            [K007],
            "MLflow server on 0.0.0.0 without basic-auth",
            assets=SERVER,
        ),
        _seed(
            "serve/run_vllm.sh",
            """
            #!/usr/bin/env bash
            set -e
            MODEL=${MODEL:-meta-llama/Llama-3.1-8B-Instruct}
            vllm serve "$MODEL" --host 0.0.0.0 --port 8000 --gpu-memory-utilization 0.9
            """,
            [K007],
            "vllm serve on 0.0.0.0 without --api-key",
            assets=SERVER,
        ),
        _seed(
            "gpu-box/ollama.sh",
            """
            #!/bin/sh
            export OLLAMA_HOST=0.0.0.0:11434
            ollama serve &
            sleep 3
            ollama pull llama3.1:8b
            wait
            """,
            [K007],
            "Ollama on all interfaces",
            assets=SERVER,
        ),
        _seed(
            "cluster/start_head.sh",
            """
            #!/usr/bin/env bash
            ray start --head --port=6379 --dashboard-host 0.0.0.0 --dashboard-port 8265
            """,
            [K007],
            "Ray head with the dashboard on 0.0.0.0",
            assets=SERVER,
        ),
        _seed(
            "demo/app.py",
            """
            import gradio as gr


            def answer(question: str) -> str:
                return question[::-1]


            demo = gr.Interface(fn=answer, inputs="text", outputs="text")
            demo.launch(server_name="0.0.0.0", server_port=7860)
            """,
            [K007],
            "Gradio on 0.0.0.0 without auth",
        ),
        _seed(
            "ui/chat_ui.py",
            """
            import gradio as gr

            with gr.Blocks() as ui:
                box = gr.Chatbot()
                msg = gr.Textbox()

            if __name__ == "__main__":
                ui.queue().launch(
                    server_name="0.0.0.0",
                    show_api=False,
                )
            """,
            [K007],
            "Gradio Blocks launched on 0.0.0.0 via a chained call",
        ),
        _seed(
            "k8s/jupyter.yaml",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: team-notebook
            spec:
              replicas: 1
              selector:
                matchLabels: {app: team-notebook}
              template:
                metadata:
                  labels: {app: team-notebook}
                spec:
                  containers:
                    - name: lab
                      image: quay.io/jupyter/pytorch-notebook:cuda12-2024-07-08
                      args:
                        - start-notebook.py
                        - --IdentityProvider.token=
                        - --ServerApp.ip=0.0.0.0
                      ports:
                        - containerPort: 8888
            """,
            [K007],
            "Jupyter pod with an empty token",
            allowed=(K010,),
            assets=SERVER,
        ),
        _seed(
            "k8s/vllm-deployment.yaml",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: llama-serving
              namespace: ml
            spec:
              replicas: 2
              selector:
                matchLabels:
                  app: llama-serving
              template:
                metadata:
                  labels:
                    app: llama-serving
                spec:
                  containers:
                    - name: vllm
                      image: vllm/vllm-openai:v0.6.3
                      args:
                        - --model
                        - meta-llama/Llama-3.1-8B-Instruct
                        - --port
                        - "8000"
                      ports:
                        - containerPort: 8000
                      resources:
                        limits:
                          nvidia.com/gpu: 1
            """,
            [K007],
            "vLLM pod without --api-key or VLLM_API_KEY",
            allowed=(K010,),
            assets=SERVER,
        ),
        _seed(
            "k8s/mlflow.yaml",
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
                    runAsUser: 1000
                  containers:
                    - name: mlflow
                      image: ghcr.io/mlflow/mlflow:v2.15.1
                      command: ["mlflow", "server", "--host", "0.0.0.0", "--port", "5000"]
                      ports:
                        - containerPort: 5000
            """,
            [K007],
            "MLflow pod on 0.0.0.0 without basic-auth",
            assets=SERVER,
        ),
    ]


def _seeded_buckets() -> list[Case]:
    return [
        _seed(
            "infra/s3.tf",
            """
            resource "aws_s3_bucket" "weights" {
              bucket = "acme-model-weights"
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
            [K008],
            "public-read ACL on a bucket named model-weights",
        ),
        _seed(
            "terraform/legacy_buckets.tf",
            """
            resource "aws_s3_bucket" "checkpoints" {
              bucket = "ml-checkpoints-prod"
              acl    = "public-read"

              versioning {
                enabled = true
              }
            }
            """,
            [K008],
            "legacy inline acl = public-read on a checkpoints bucket",
        ),
        _seed(
            "terraform/llm_artifacts.tf",
            """
            resource "aws_s3_bucket" "llm" {
              bucket = "acme-llm-artifacts"
            }

            resource "aws_s3_bucket_policy" "llm_public" {
              bucket = aws_s3_bucket.llm.id
              policy = jsonencode({
                Version = "2012-10-17"
                Statement = [{
                  Sid       = "PublicRead"
                  Effect    = "Allow"
                  Principal = "*"
                  Action    = "s3:GetObject"
                  Resource  = "${aws_s3_bucket.llm.arn}/*"
                }]
              })
            }
            """,
            [K008],
            "Principal * policy in Terraform jsonencode on an llm bucket",
        ),
        _seed(
            "policies/gguf-mirror-policy.json",
            """
            {
              "Version": "2012-10-17",
              "Statement": [
                {
                  "Sid": "AllowPublicDownloads",
                  "Effect": "Allow",
                  "Principal": "*",
                  "Action": ["s3:GetObject"],
                  "Resource": "arn:aws:s3:::acme-gguf-mirror/*"
                }
              ]
            }
            """,
            [K008],
            "bucket-policy JSON, Principal *, gguf bucket",
        ),
        _seed(
            "policies/lora-bucket.json",
            """
            {
              "Version": "2012-10-17",
              "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": ["arn:aws:s3:::team-lora-adapters", "arn:aws:s3:::team-lora-adapters/*"]
              }]
            }
            """,
            [K008],
            'Principal {"AWS": "*"} on a lora bucket',
        ),
        _seed(
            "gcp/storage.tf",
            """
            resource "google_storage_bucket" "onnx" {
              name     = "acme-onnx-models"
              location = "EU"
            }

            resource "google_storage_bucket_iam_member" "public" {
              bucket = google_storage_bucket.onnx.name
              role   = "roles/storage.objectViewer"
              member = "allUsers"
            }
            """,
            [K008],
            "GCS allUsers objectViewer on an onnx models bucket",
        ),
        _seed(
            "gcp/mlflow_bucket.tf",
            """
            resource "google_storage_bucket_iam_binding" "mlflow_readers" {
              bucket  = "mlflow-artifacts-prod"
              role    = "roles/storage.objectViewer"
              members = [
                "allUsers",
              ]
            }
            """,
            [K008],
            "GCS allUsers binding on an mlflow bucket",
        ),
        _seed(
            "azure/storage.tf",
            """
            resource "azurerm_storage_account" "ml" {
              name                     = "acmemlstore"
              resource_group_name      = azurerm_resource_group.ml.name
              location                 = "westeurope"
              account_tier             = "Standard"
              account_replication_type = "LRS"
            }

            resource "azurerm_storage_container" "weights" {
              name                  = "model-weights"
              storage_account_name  = azurerm_storage_account.ml.name
              container_access_type = "blob"
            }
            """,
            [K008],
            "Azure container model-weights with blob access",
        ),
        _seed(
            "azure/ckpt.tf",
            """
            resource "azurerm_storage_container" "ckpt" {
              name                  = "checkpoints"
              storage_account_name  = "acmetraining"
              container_access_type = "container"
            }
            """,
            [K008],
            "Azure container checkpoints with container access",
        ),
        _seed(
            "infra/staging.tf",
            """
            resource "aws_s3_bucket" "staging_weights" {
              bucket = "acme-weights-staging"
              acl    = "public-read-write"
            }
            """,
            [K008],
            "public-read-write is public too",
        ),
    ]


def _seeded_containers() -> list[Case]:
    return [
        _seed(
            "gpu/docker-compose.yml",
            """
            services:
              inference:
                image: vllm/vllm-openai:v0.6.3
                command: --model Qwen/Qwen2.5-7B-Instruct --api-key ${VLLM_API_KEY}
                privileged: true
                user: "1000:1000"
                ipc: host
            """,
            [K009],
            "privileged vLLM container",
            allowed=(K010,),
            assets=SERVER,
        ),
        _seed(
            "k8s/trainer-pod.yaml",
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: finetune-llama
            spec:
              restartPolicy: Never
              containers:
                - name: trainer
                  image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime
                  command: ["torchrun", "--nproc_per_node=8", "train.py"]
                  securityContext:
                    privileged: true
                  resources:
                    limits:
                      nvidia.com/gpu: 8
            """,
            [K009],
            "privileged PyTorch GPU pod",
            allowed=(K010,),
        ),
        _seed(
            "k8s/notebook-privileged.yaml",
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: research-notebook
            spec:
              containers:
                - name: notebook
                  image: quay.io/jupyter/tensorflow-notebook:2024-07-08
                  securityContext:
                    privileged: true
            """,
            [K009],
            "privileged notebook pod",
            allowed=(K010,),
        ),
        _seed(
            "compose.gpu.yml",
            """
            services:
              embedder:
                build: ./embedder
                image: registry.acme.example/embedder:2.1.0
                privileged: true
                user: "1000"
                deploy:
                  resources:
                    reservations:
                      devices:
                        - driver: nvidia
                          count: all
                          capabilities: [gpu]
            """,
            [K009],
            "privileged custom container with a GPU reservation",
            allowed=(K010,),
        ),
        _seed(
            "k8s/triton.yaml",
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
                  containers:
                    - name: triton
                      image: nvcr.io/nvidia/tritonserver:24.07-py3
                      args: ["tritonserver", "--model-repository=s3://acme-triton-repo/models"]
                      securityContext:
                        privileged: true
                        runAsNonRoot: true
                        runAsUser: 1000
                      resources:
                        limits:
                          nvidia.com/gpu: 1
            """,
            [K009],
            "privileged Triton inference server",
        ),
        _seed(
            "services/ranker/Dockerfile",
            """
            FROM python:3.11-slim
            WORKDIR /app
            RUN pip install --no-cache-dir torch==2.3.1 transformers==4.44.2 fastapi uvicorn
            COPY . /app
            EXPOSE 8080
            CMD ["uvicorn", "ranker.api:app", "--host", "0.0.0.0", "--port", "8080"]
            """,
            [K010],
            "ML image with no USER runs as root",
        ),
        _seed(
            "images/embedder/Dockerfile",
            """
            FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04
            RUN apt-get update && apt-get install -y python3-pip && rm -rf /var/lib/apt/lists/*
            RUN useradd --create-home app
            USER app
            RUN pip install --user sentence-transformers==3.0.1
            USER root
            COPY serve.py /srv/serve.py
            CMD ["python3", "/srv/serve.py"]
            """,
            [K010],
            "ML image whose last USER is root",
        ),
        _seed(
            "Dockerfile",
            """
            FROM pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime
            WORKDIR /workspace
            COPY requirements.txt .
            RUN pip install -r requirements.txt
            COPY src/ ./src/
            CMD ["python", "-m", "src.serve"]
            """,
            [K010],
            "PyTorch base image, no USER",
        ),
        _seed(
            "lab/docker-compose.yml",
            """
            services:
              lab:
                image: quay.io/jupyter/datascience-notebook:2024-07-08
                user: root
                environment:
                  GRANT_SUDO: "yes"
                ports:
                  - "127.0.0.1:8888:8888"
            """,
            [K010],
            "notebook container with user: root",
            assets=SERVER,
        ),
        _seed(
            "k8s/vllm-root.yaml",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: chat-llm
            spec:
              selector:
                matchLabels: {app: chat-llm}
              template:
                metadata:
                  labels: {app: chat-llm}
                spec:
                  containers:
                    - name: server
                      image: vllm/vllm-openai:v0.6.3
                      args: ["--model", "microsoft/Phi-3-mini-4k-instruct"]
                      env:
                        - name: VLLM_API_KEY
                          valueFrom:
                            secretKeyRef: {name: vllm, key: api-key}
                      securityContext:
                        runAsUser: 0
                      resources:
                        limits:
                          nvidia.com/gpu: 1
            """,
            [K010],
            "vLLM pod with runAsUser: 0",
            assets=SERVER,
        ),
        _seed(
            "k8s/triton-root.yaml",
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: triton-debug
            spec:
              securityContext:
                runAsUser: 0
                runAsGroup: 0
              containers:
                - name: triton
                  image: nvcr.io/nvidia/tritonserver:24.07-py3
                  args: ["tritonserver", "--model-repository=/models"]
            """,
            [K010],
            "Triton pod, pod-level runAsUser: 0",
        ),
        _seed(
            "docker/vllm/Dockerfile",
            """
            FROM vllm/vllm-openai:v0.6.3
            COPY chat_template.jinja /opt/chat_template.jinja
            CMD ["--model", "microsoft/Phi-3-mini-4k-instruct", \\
                 "--chat-template", "/opt/chat_template.jinja"]
            """,
            [K010],
            "vLLM image with no USER",
            allowed=(K007,),
        ),
    ]


def _seeded_gateway() -> list[Case]:
    return [
        _seed(
            "llm/direct.py",
            """
            from openai import OpenAI

            client = OpenAI(base_url="https://api.openai.com/v1")
            """,
            [K011],
            "explicit provider base URL",
            assets=("ai-service:openai",),
        ),
        _seed(
            "llm/local_vllm.py",
            """
            from openai import OpenAI

            client = OpenAI(
                base_url="http://vllm.ml.svc.cluster.local:8000/v1",
                api_key="EMPTY",
            )
            """,
            [K011],
            "self-hosted vLLM base URL that is not the gateway",
            assets=AI,
        ),
        _seed(
            "llm/together_async.py",
            """
            import os

            from openai import AsyncOpenAI

            client = AsyncOpenAI(
                api_key=os.environ["TOGETHER_API_KEY"],
                base_url="https://api.together.xyz/v1",
            )
            """,
            [K011],
            "AsyncOpenAI to Together",
            assets=AI,
        ),
        _seed(
            "llm/claude_proxy.py",
            """
            import anthropic

            claude = anthropic.Anthropic(base_url="https://llm-proxy.corp.example.com/anthropic")
            """,
            [K011],
            "Anthropic client to a non-gateway proxy",
            assets=AI,
        ),
        _seed(
            "llm/azure.py",
            """
            import os

            from openai import AzureOpenAI

            client = AzureOpenAI(
                azure_endpoint="https://contoso-eastus.openai.azure.com/",
                api_key=os.environ["AZURE_OPENAI_API_KEY"],
                api_version="2024-06-01",
            )
            """,
            [K011],
            "Azure OpenAI endpoint literal",
            assets=AI,
        ),
        _seed(
            "agents/router.py",
            """
            import os

            from langchain_openai import ChatOpenAI

            llm = ChatOpenAI(
                model="anthropic/claude-3.5-sonnet",
                base_url="https://openrouter.ai/api/v1",
                api_key=os.environ["OPENROUTER_API_KEY"],
            )
            """,
            [K011],
            "LangChain ChatOpenAI to OpenRouter",
            assets=AI,
        ),
        _seed(
            "llm/deepseek.py",
            """
            import openai as oa

            client = oa.OpenAI(base_url="https://api.deepseek.com", api_key=oa.api_key)
            """,
            [K011],
            "aliased module, client to DeepSeek",
            assets=AI,
        ),
        _seed(
            "llm/groq_client.py",
            """
            import os

            from groq import Groq

            groq = Groq(api_key=os.environ["GROQ_API_KEY"], base_url="https://api.groq.com")
            """,
            [K011],
            "Groq client with an explicit base URL",
            assets=AI,
        ),
        _seed(
            "legacy/completions.py",
            """
            import openai

            openai.api_type = "azure"
            openai.api_base = "https://contoso-legacy.openai.azure.com/"
            openai.api_version = "2023-05-15"

            resp = openai.ChatCompletion.create(engine="gpt-35-turbo", messages=[])
            """,
            [K011],
            "legacy openai<1 module-level api_base (no client object)",
            stretch=True,
            assets=AI,
        ),
    ]


def _seeded_sdks() -> list[Case]:
    py = (
        (
            "chat/local_llm.py",
            "import ollama\n\nreply = ollama.chat(model='llama3.1', "
            "messages=[{'role': 'user', 'content': 'hi'}])\n",
            "ollama",
        ),
        (
            "rag/index.py",
            "from llama_index.core import SimpleDirectoryReader, VectorStoreIndex\n\n"
            "docs = SimpleDirectoryReader('docs').load_data()\n"
            "index = VectorStoreIndex.from_documents(docs)\n",
            "llama",
        ),
        (
            "gcp/vertex.py",
            "import vertexai\nfrom vertexai.generative_models import GenerativeModel"
            "\n\nvertexai.init(project='acme-ml', location='us-central1')\n"
            "model = GenerativeModel('gemini-1.5-pro')\n",
            "vertex",
        ),
        (
            "aws/bedrock_kw.py",
            "import boto3\n\nsession = boto3.Session(profile_name='ml')\n"
            "brt = session.client(service_name='bedrock-runtime', region_name='eu-west-1')\n",
            "bedrock",
        ),
        (
            "aws/bedrock_pos.py",
            "import boto3\n\nclient = boto3.client('bedrock-runtime')\n",
            "bedrock",
        ),
        (
            "mistral_chat.py",
            "import os\n\nfrom mistralai import Mistral\n\n"
            "client = Mistral(api_key=os.environ['MISTRAL_API_KEY'])\n",
            "mistral",
        ),
        ("rerank_cohere.py", "import cohere\n\nco = cohere.Client()\n", "cohere"),
        (
            "img/replicate_gen.py",
            "import replicate\n\nout = replicate.run("
            "'black-forest-labs/flux-schnell', input={'prompt': 'a cat'})\n",
            "replicate",
        ),
        (
            "router/llm.py",
            "import litellm\n\nresp = litellm.completion(model='gpt-4o-mini', "
            "messages=[{'role': 'user', 'content': 'hi'}])\n",
            "litellm",
        ),
        (
            "agents/graph.py",
            "from langgraph.graph import END, StateGraph\n\n"
            "graph = StateGraph(dict)\ngraph.add_edge('plan', END)\n",
            "lang",
        ),
        (
            "hf/inference.py",
            "from huggingface_hub import InferenceClient\n\n"
            "client = InferenceClient()\nprint(client.text_generation('hello', "
            "model='HuggingFaceH4/zephyr-7b-beta'))\n",
            "hugging",
        ),
        (
            "http_claude.py",
            "import os\n\nimport requests\n\nresp = requests.post(\n"
            "    'https://api.anthropic.com/v1/messages',\n"
            "    headers={'x-api-key': os.environ['ANTHROPIC_API_KEY']},\n"
            "    json={'model': 'claude-3-5-haiku-latest', 'max_tokens': 64, 'messages': []},\n"
            "    timeout=30,\n)\n",
            "anthropic",
        ),
        ("assist/openai_default.py", "from openai import OpenAI\n\nclient = OpenAI()\n", "openai"),
    )
    cases = [
        _seed(p, body, [], f"Python SDK use: {name}", allowed=ALLOW_GW, assets=(f"{AI[0]}:{name}",))
        for p, body, name in py
    ]
    other = (
        (
            "web/src/openai.js",
            'import OpenAI from "openai";\n\nconst client = new OpenAI();\n'
            "export default client;\n",
        ),
        (
            "server/claude.cjs",
            'const { Anthropic } = require("@anthropic-ai/sdk");\n\n'
            "module.exports = new Anthropic();\n",
        ),
        (
            "web/src/chain.ts",
            'import { ChatOpenAI } from "@langchain/openai";\n\n'
            'export const llm = new ChatOpenAI({ model: "gpt-4o-mini", temperature: 0 });\n',
        ),
        ("web/src/groq.mjs", 'import Groq from "groq-sdk";\n\nexport const groq = new Groq();\n'),
        (
            "internal/llm/client.go",
            'package llm\n\nimport (\n\t"context"\n\n'
            '\t"github.com/anthropics/anthropic-sdk-go"\n)\n\n'
            "func New(ctx context.Context) *anthropic.Client {\n"
            "\treturn anthropic.NewClient()\n}\n",
        ),
        (
            "internal/local/ollama.go",
            'package local\n\nimport "github.com/ollama/ollama/api"\n\n'
            "func Client() (*api.Client, error) { return api.ClientFromEnvironment() }\n",
        ),
        (
            "src/main/java/com/acme/ai/Claude.java",
            "package com.acme.ai;\n\n"
            "import com.anthropic.client.AnthropicClient;\n"
            "import com.anthropic.client.okhttp.AnthropicOkHttpClient;\n\n"
            "public class Claude {\n"
            "    final AnthropicClient client = AnthropicOkHttpClient.fromEnv();\n}\n",
        ),
        (
            "src/main/kotlin/com/acme/Summaries.kt",
            "package com.acme\n\n"
            "import com.openai.client.okhttp.OpenAIOkHttpClient\n\n"
            "val client = OpenAIOkHttpClient.fromEnv()\n",
        ),
        (
            "scripts/smoke_openai.sh",
            '#!/usr/bin/env bash\ncurl -s "https://api.openai.com/v1/'
            'chat/completions" \\\n  -H "Authorization: Bearer $OPENAI_API_KEY" \\\n'
            '  -H "Content-Type: application/json" \\\n'
            """  -d '{"model": "gpt-4o-mini",\n"""
            """       "messages": [{"role": "user", "content": "ping"}]}'\n""",
        ),
    )
    cases += [
        _seed(p, body, [], "SDK use outside Python", allowed=ALLOW_GW, assets=AI)
        for p, body in other
    ]
    deps = (
        ("requirements.txt", "fastapi==0.112.0\nopenai==1.51.0\nanthropic>=0.34\npydantic>=2.7\n"),
        (
            "pyproject.toml",
            '[project]\nname = "acme-rag"\nversion = "0.3.0"\n'
            'dependencies = [\n  "langchain-openai>=0.2",\n  "llama-index-core>=0.11",\n'
            '  "httpx",\n]\n',
        ),
        (
            "package.json",
            '{\n  "name": "support-bot",\n  "version": "1.4.0",\n'
            '  "dependencies": {\n    "openai": "^4.67.0",\n    "@anthropic-ai/sdk": "^0.29.0",\n'
            '    "express": "^4.19.2"\n  }\n}\n',
        ),
        (
            "go.mod",
            "module github.com/acme/digest\n\ngo 1.22\n\n"
            "require (\n\tgithub.com/sashabaranov/go-openai v1.32.0\n"
            "\tgithub.com/spf13/cobra v1.8.1\n)\n",
        ),
        ("requirements-serve.txt", "vllm==0.6.3\ntransformers==4.45.2\n"),
    )
    cases += [
        _seed(p, body, [], "AI SDK declared in a manifest", assets=("ai-dependency",))
        for p, body in deps
    ]
    return cases


def _safetensors() -> bytes:
    header = {
        "__metadata__": {"format": "pt"},
        "classifier.bias": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "classifier.weight": {"dtype": "F32", "shape": [2, 2], "data_offsets": [8, 24]},
    }
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + struct.pack("<6f", 0.1, -0.1, 0.5, 0.2, -0.3, 0.9)


def _gguf() -> bytes:
    def text(value: str) -> bytes:
        return struct.pack("<Q", len(value)) + value.encode()

    kv = [
        (text("general.architecture"), 8, text("llama")),
        (text("general.name"), 8, text("TinyLlama-1.1B-Chat")),
        (text("llama.context_length"), 4, struct.pack("<I", 2048)),
    ]
    out = b"GGUF" + struct.pack("<IQQ", 3, 1, len(kv))
    for key, kind, value in kv:
        out += key + struct.pack("<I", kind) + value
    out += text("token_embd.weight") + struct.pack("<IQIQ", 1, 4, 0, 0)  # 1 dim of 4, F32
    out += b"\0" * (-len(out) % 32)
    return out + struct.pack("<4f", 0.25, 0.5, 0.75, 1.0)


def _sklearn_pickle(protocol: int) -> bytes:
    state = {"coef": [[0.12, -0.4, 0.33]], "intercept": [0.05], "classes": [0, 1]}
    return pickle.dumps(state, protocol=protocol)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 6, 1, 0, 0, 0)), data)
    return buf.getvalue()


def _torch_zip(prefix: str) -> bytes:
    state = {"epoch": 3, "state_dict": {"fc.weight": [[0.1, 0.2]], "fc.bias": [0.0]}}
    return _zip(
        {
            f"{prefix}/data.pkl": pickle.dumps(state, protocol=2),
            f"{prefix}/byteorder": b"little",
            f"{prefix}/version": b"3\n",
        }
    )


def _hdf5() -> bytes:
    superblock = b"\x89HDF\r\n\x1a\n" + bytes([0, 0, 0, 0, 0, 8, 8, 0, 4, 0, 16, 0])
    return superblock + b"\0" * (2048 - len(superblock))


def _varint(n: int) -> bytes:
    out = b""
    while True:
        low, n = n & 0x7F, n >> 7
        out += bytes([low | (0x80 if n else 0)])
        if not n:
            return out


def _pb(field_no: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return _varint(field_no << 3) + _varint(payload)
    return _varint(field_no << 3 | 2) + _varint(len(payload)) + payload


def _onnx() -> bytes:
    tensor_type = _pb(1, 1) + _pb(2, _pb(1, _pb(1, 1)) + _pb(1, _pb(1, 4)))  # float [1, 4]
    value_x = _pb(1, b"x") + _pb(2, _pb(1, tensor_type))
    value_y = _pb(1, b"y") + _pb(2, _pb(1, tensor_type))
    node = _pb(1, b"x") + _pb(2, b"y") + _pb(3, b"relu_0") + _pb(4, b"Relu")
    graph = _pb(1, node) + _pb(2, b"main_graph") + _pb(11, value_x) + _pb(12, value_y)
    return (
        _pb(1, 8)
        + _pb(2, b"pytorch")
        + _pb(3, b"2.3.1")
        + _pb(7, graph)
        + _pb(8, _pb(1, b"") + _pb(2, 17))
    )


def _tflite() -> bytes:
    return struct.pack("<I", 28) + b"TFL3" + b"\0" * 120


def _keras_v3() -> bytes:
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "clf"}}
    return _zip(
        {
            "metadata.json": json.dumps({"keras_version": "3.4.1"}).encode(),
            "config.json": json.dumps(config).encode(),
            "model.weights.h5": _hdf5(),
        }
    )


def _faiss() -> bytes:
    d, n = 4, 2
    header = b"IxF2" + struct.pack("<iqqqBi", d, n, 1 << 20, 1 << 20, 1, 1)
    return header + struct.pack("<Q", n * d * 4) + struct.pack(f"<{n * d}f", *range(n * d))


def _chroma() -> bytes:
    db = sqlite3.connect(":memory:")
    db.executescript(
        """
        CREATE TABLE collections (id TEXT PRIMARY KEY, name TEXT NOT NULL, dimension INTEGER);
        CREATE TABLE embeddings (id INTEGER PRIMARY KEY, segment_id TEXT, embedding_id TEXT);
        INSERT INTO collections VALUES ('c1', 'support-docs', 384);
        INSERT INTO embeddings VALUES (1, 's1', 'doc-1');
        """
    )
    data = db.serialize()
    db.close()
    return data


def _npy() -> bytes:
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }"
    header += " " * (-(len(header) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 16


def _parquet() -> bytes:
    return (
        b"PAR1"
        + b"\x15\x00\x15\x1c\x15\x1c\x2c\x15\x04"
        + b"\0" * 32
        + struct.pack("<I", 41)
        + b"PAR1"
    )


def _seeded_files() -> list[Case]:
    model = "model"
    return [
        _seed("weights/model.safetensors", _safetensors(), [], "safetensors", assets=(model,)),
        _seed(
            "export/adapter_model.bin",
            _safetensors(),
            [],
            "safetensors named .bin",
            assets=(model,),
        ),
        _seed("models/tinyllama.Q4_K_M.gguf", _gguf(), [], "GGUF v3", assets=(model,)),
        _seed(
            "blobs/sha256-7f3a9c",
            _gguf(),
            [],
            "GGUF with no extension (Ollama blob)",
            assets=(model,),
        ),
        _seed(
            "sklearn/classifier.pkl", _sklearn_pickle(4), [], "pickle protocol 4", assets=(model,)
        ),
        _seed(
            "cache/vectorizer.joblib",
            _sklearn_pickle(2),
            [],
            "joblib file is a pickle",
            assets=(model,),
        ),
        _seed(
            "ckpt/epoch_3.pt", _torch_zip("epoch_3"), [], "PyTorch zip checkpoint", assets=(model,)
        ),
        _seed(
            "hf/pytorch_model.bin",
            _torch_zip("pytorch_model"),
            [],
            "PyTorch zip named pytorch_model.bin",
            assets=(model,),
        ),
        _seed("keras/model.h5", _hdf5(), [], "HDF5 by signature", assets=(model,)),
        _seed("onnx/classifier.onnx", _onnx(), [], "ONNX ModelProto", assets=(model,)),
        _seed("mobile/model.tflite", _tflite(), [], "TFLite flatbuffer", assets=(model,)),
        _seed("keras/clf.keras", _keras_v3(), [], "Keras v3 zip", assets=(model,)),
        _seed("index/docs.faiss", _faiss(), [], "FAISS IndexFlatL2", assets=("vector-store",)),
        _seed(
            "vectordb/chroma.sqlite3",
            _chroma(),
            [],
            "Chroma SQLite store",
            assets=("vector-store",),
        ),
        _seed("data/embeddings.npy", _npy(), [], "NumPy array", assets=("dataset",)),
        _seed("data/train.parquet", _parquet(), [], "Parquet by magic", assets=("dataset",)),
    ]


def _lookalike_mentions() -> list[Case]:
    return [
        _look(
            "app/config.py",
            """
            from dataclasses import dataclass


            @dataclass(frozen=True)
            class LLMSettings:
                openai_model: str = "gpt-4o-mini"
                anthropic_model: str = "claude-3-5-sonnet-latest"
                embedding_model: str = "text-embedding-3-small"
                temperature: float = 0.2
            """,
            "variables named after providers",
            forbid=NO_AI,
        ),
        _look(
            "utils/retry.py",
            """
            import logging
            import time

            log = logging.getLogger(__name__)


            def backoff(attempt: int) -> None:
                # openai and anthropic both answer 429 when we exceed the rate limit
                delay = min(2**attempt, 30)
                log.warning("openai rate limited, retrying in %s s", delay)
                time.sleep(delay)
            """,
            "comment and log message mention providers",
            forbid=NO_AI,
        ),
        _look(
            "gateway_client.py",
            '''
            """Thin client for the internal LLM gateway.

            We used to call https://api.openai.com/v1 directly with
            `from openai import OpenAI`; every call now goes through the gateway.
            """

            import httpx

            GATEWAY = "@GW@"


            def complete(p: str, key: str) -> str:
                r = httpx.post(
                    f"{GATEWAY}/chat/completions",
                    headers={"Authorization": f"Bearer {key}"},
                    json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": p}]},
                )
                return r.json()["choices"][0]["message"]["content"]
            ''',
            "docstring mentions a provider URL and import; calls go to the gateway",
            GW=GATEWAY,
        ),
        _look(
            "tickets/models.py",
            """
            from django.db import models


            class Ticket(models.Model):
                subject = models.CharField(max_length=200)
                openai_summary = models.TextField(blank=True)
                anthropic_enabled = models.BooleanField(default=False)
            """,
            "model fields named after providers",
            forbid=NO_AI,
        ),
        _look(
            "providers.py",
            """
            PROVIDERS = {
                "openai": "OpenAI",
                "anthropic": "Anthropic",
                "bedrock": "AWS Bedrock",
                "vertexai": "Google Vertex AI",
                "ollama": "Ollama (local)",
            }


            def display_name(key: str) -> str:
                return PROVIDERS.get(key, key)
            """,
            "provider names as dictionary strings",
            forbid=NO_AI,
        ),
        _look(
            "tests/test_settings.py",
            """
            from app.settings import load


            def test_default_provider():
                settings = load({})
                assert settings.llm_provider == "openai"
                assert settings.llm_model.startswith("gpt-")
            """,
            "test asserting a provider name",
            forbid=NO_AI,
        ),
        _look(
            "web/src/Footer.jsx",
            """
            export function Footer() {
              return (
                <footer className="footer">
                  <span>Answers are generated with OpenAI and Anthropic models.</span>
                </footer>
              );
            }
            """,
            "JSX text mentions providers",
            forbid=NO_AI,
        ),
        _look(
            "web/src/legacy.js",
            """
            // import OpenAI from "openai";
            // const client = new OpenAI();

            export function legacySummary(text) {
              return text.slice(0, 200);
            }
            """,
            "commented-out JS import",
            forbid=NO_AI,
        ),
        _look(
            "web/src/docs.ts",
            """
            /**
             * Example for the integration guide:
             *
             *   import Anthropic from "@anthropic-ai/sdk";
             *   const client = new Anthropic();
             */
            export const INTEGRATION_GUIDE_VERSION = 3;
            """,
            "SDK import inside a JSDoc block comment",
            forbid=NO_AI,
        ),
        _look(
            "internal/config/config.go",
            """
            package config

            // The summarizer used to import "github.com/sashabaranov/go-openai" directly.

            type LLM struct {
                OpenAIModel string `json:"openai_model"`
                MaxTokens   int    `json:"max_tokens"`
            }
            """,
            "Go struct tag and comment mention openai",
            forbid=NO_AI,
        ),
        _look(
            "src/main/java/com/acme/Settings.java",
            """
            package com.acme;

            // import com.openai.client.OpenAIClient;

            public class Settings {
                private String openAiModel = "gpt-4o";

                public String getOpenAiModel() {
                    return openAiModel;
                }
            }
            """,
            "Java field and commented-out import",
            forbid=NO_AI,
        ),
        _look(
            "api/spec.py",
            """
            from openapi_core import OpenAPI
            from openapi_spec_validator import validate

            spec = OpenAPI.from_file_path("openapi.yaml")
            validate(spec.spec.contents())
            """,
            "openapi is not openai",
            forbid=NO_AI,
        ),
        _look(
            "requirements.txt",
            """
            flask==3.0.3
            openapi-spec-validator==0.7.1
            openapi-core==0.19.2
            requests==2.32.3
            """,
            "openapi packages are not AI SDKs",
            forbid=("ai-dependency",),
        ),
        _look(
            "package.json",
            """
            {
              "name": "dashboard",
              "version": "2.0.1",
              "dependencies": {
                "openapi-fetch": "^0.10.0",
                "react": "^18.3.1"
              },
              "devDependencies": { "openapi-typescript": "^7.0.0" }
            }
            """,
            "openapi npm packages",
            forbid=("ai-dependency",),
        ),
        _look(
            "go.mod",
            """
            module github.com/acme/petstore

            go 1.22

            require github.com/getkin/kin-openapi v0.127.0
            """,
            "kin-openapi is not an AI SDK",
            forbid=("ai-dependency",),
        ),
        _look(
            "README.md",
            """
            # Support bot

            The bot calls OpenAI through our gateway. For local experiments:

            ```python
            from openai import OpenAI
            client = OpenAI(api_key="YOUR_KEY_HERE")
            model = torch.load("model.pt")
            ```
            """,
            "markdown prose and code block",
            forbid=NO_AI,
        ),
        _look(
            "docs/usage.rst",
            """
            Usage
            =====

            .. code-block:: python

               model = AutoModel.from_pretrained("bert-base-uncased", trust_remote_code=True)
               arr = np.load("x.npy", allow_pickle=True)
            """,
            "reStructuredText documentation",
            forbid=NO_AI,
        ),
        _look(
            "CHANGELOG.md",
            """
            ## 1.4.0
            - Bump anthropic from 0.34 to 0.40.
            - Replace torch.load without weights_only by safetensors.
            - Drop trust_remote_code=True from the embedding loader.
            """,
            "changelog prose",
            forbid=NO_AI,
        ),
        _look(
            ".github/workflows/ci.yml",
            """
            name: ci
            on: [push]
            jobs:
              test:
                runs-on: ubuntu-latest
                env:
                  OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}
                steps:
                  - uses: actions/checkout@v4
                  - run: pip install -e . && pytest -q
            """,
            "CI secret reference, not a key",
        ),
        _look(
            "scripts/check_env.sh",
            """
            #!/usr/bin/env bash
            # To test your key by hand:
            #   curl https://api.openai.com/v1/models -H "Authorization: Bearer $OPENAI_API_KEY"
            if [ -z "${OPENAI_API_KEY:-}" ]; then
              echo "OPENAI_API_KEY is not set" >&2
              exit 1
            fi
            """,
            "API URL only in a shell comment",
            forbid=NO_AI,
        ),
        _look(
            "tools/classify_old.py",
            """
            # from openai import OpenAI
            # client = OpenAI()


            def classify(text: str) -> str:
                return "spam" if "win money" in text.lower() else "ham"
            """,
            "commented-out Python import",
            forbid=NO_AI,
        ),
        _look(
            "cli/errors.py",
            """
            class MissingKeyError(RuntimeError):
                def __init__(self) -> None:
                    super().__init__("Set OPENAI_API_KEY or pass --provider local")
            """,
            "error message mentions an env var",
            forbid=NO_AI,
        ),
        _look(
            "core/provider_enum.py",
            """
            from enum import Enum


            class Provider(str, Enum):
                OPENAI = "openai"
                ANTHROPIC = "anthropic"
                OLLAMA = "ollama"
                VLLM = "vllm"
            """,
            "enum of provider names",
            forbid=NO_AI,
        ),
        _look(
            "ui/legacy_demo.py",
            '''
            """The Gradio demo was removed: demo.launch(server_name="0.0.0.0") had no auth."""

            import json


            def export(results: dict) -> str:
                return json.dumps(results)
            ''',
            "docstring mentions an exposed Gradio launch",
            forbid=("model-server",),
        ),
        _look(
            "security/messages.py",
            """
            TORCH_LOAD_WARNING = "never call torch.load on untrusted files without weights_only"
            REMOTE_CODE_NOTE = "models needing trust_remote_code=True are rejected"
            """,
            "risky-call text in string constants",
        ),
        _look(
            "notebooks/report.ipynb",
            _notebook(
                (
                    "markdown",
                    """
                    # Quarterly report
                    We compared OpenAI and Anthropic; the old pipeline used
                    `torch.load(path)` and `trust_remote_code=True`, both removed.
                    """,
                ),
                ("code", "import pandas as pd\ndf = pd.read_csv('costs.csv')\ndf.sum()"),
            ),
            "risky calls and providers only in markdown cells",
            forbid=NO_AI,
        ),
        _look(
            "config/app.yaml",
            """
            llm:
              provider: openai
              model: gpt-4o
              temperature: 0.2
            features:
              summaries: true
            """,
            "YAML naming a provider",
        ),
        _look(
            "metrics/labels.py",
            """
            import logging

            logger = logging.getLogger("billing")


            def record(provider: str, tokens: int) -> None:
                logger.info("usage provider=%s tokens=%d (e.g. openai, bedrock)", provider, tokens)
            """,
            "log format string mentions providers",
            forbid=NO_AI,
        ),
    ]


def _lookalike_keys(k: _Keys) -> list[Case]:
    return [
        _look(
            "tests/fixtures/fake_keys.py",
            """
            FAKE_OPENAI_KEY = "sk-test-not-a-real-key"
            FAKE_ANTHROPIC_KEY = "sk-ant-fake"
            """,
            "obviously fake keys in a test fixture",
        ),
        _look(
            "app/settings_template.py",
            """
            # Copy to settings_local.py and fill in.
            OPENAI_API_KEY = "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            """,
            "xxxx run placeholder",
        ),
        _look(
            ".env.example",
            """
            OPENAI_API_KEY=
            ANTHROPIC_API_KEY=your-anthropic-key-here
            HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
            GROQ_API_KEY=gsk_your_key_here
            REPLICATE_API_TOKEN=r8_<your-token>
            """,
            "placeholders in an example env file",
        ),
        _look(
            "docs_snippets/anthropic_setup.py",
            """
            import os

            os.environ.setdefault("ANTHROPIC_API_KEY", "sk-ant-REPLACE_ME")
            """,
            "REPLACE_ME placeholder",
        ),
        _look(
            "scripts/bedrock_example_env.sh",
            """
            #!/bin/sh
            # values from the AWS documentation, for the local mock only
            export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
            export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
            export AWS_ENDPOINT_URL=http://localhost:4566
            """,
            "AWS documentation example key",
        ),
        _look(
            "hub_login.py",
            """
            from huggingface_hub import login

            hf_token = "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            login(token=hf_token)
            """,
            "hf_ placeholder made of x",
        ),
        _look(
            "maps/config.py",
            """
            GOOGLE_API_KEY = "AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
            GEOCODER_URL = "https://maps.example.internal/geocode"
            """,
            "AIza placeholder of X",
        ),
        _look(
            "web/static/spinner.css",
            """
            .sk-fading-circle { margin: 100px auto; width: 40px; height: 40px; }
            .sk-circle-bounce-delay-animation-keyframes { animation: sk-circleFadeDelay 1.2s; }
            .sk-chase-dot-before-pseudo-element-rotation { transform: rotate(45deg); }
            """,
            "SpinKit CSS class names start with sk-",
        ),
        _look(
            "support/queues.yaml",
            """
            queues:
              - name: billing
                queue_id: helpdesk-@H@
              - name: outage
                queue_id: helpdesk-@I@
            """,
            "ids containing 'sk-' inside a word",
            H=k.hexs(32),
            I=k.hexs(32),
        ),
        _look(
            "tests/fixtures/audit_log.json",
            """
            {"event": "key.rotated", "key": "sk-proj-****************************3f2a", "by": "ops"}
            """,
            "masked key in a log fixture",
        ),
        _look(
            "downloader.py",
            """
            import hashlib

            MODEL_MD5 = "@M@"
            TOKENIZER_SHA256 = "@S@"


            def verify(path: str) -> bool:
                with open(path, "rb") as fh:
                    return hashlib.md5(fh.read()).hexdigest() == MODEL_MD5
            """,
            "hex digests next to md5/sha256 names",
            M=k.hexs(32),
            S=k.hexs(64),
        ),
        _look(
            "models.lock.json",
            """
            {
              "bert-base-uncased": {"commit": "@C@", "sha256": "@S@"},
              "all-MiniLM-L6-v2": {"commit": "@D@", "sha256": "@T@"}
            }
            """,
            "commit shas and sha256 digests in a lock file",
            C=k.sha(),
            D=k.sha(),
            S=k.hexs(64),
            T=k.hexs(64),
        ),
        _look(
            "org_settings.py",
            """
            import os

            OPENAI_ORG_ID = "org-@O@"
            OPENAI_API_KEY = os.environ["OPENAI_API_KEY"]
            """,
            "OpenAI organisation id is not a key; key from the environment",
            O=k._r(24),
        ),
        _look(
            "secrets_loader.py",
            """
            import boto3


            def openai_key() -> str:
                sm = boto3.client("secretsmanager")
                return sm.get_secret_value(SecretId="prod/openai")["SecretString"]
            """,
            "key read from a secret manager",
        ),
        _look(
            "infra/variables.tf",
            """
            variable "openai_api_key" {
              type      = string
              sensitive = true
            }

            variable "anthropic_api_key" {
              type    = string
              default = ""
            }
            """,
            "Terraform variables with no key values",
        ),
        _look(
            "k8s/app-env.yaml",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              selector:
                matchLabels: {app: web}
              template:
                metadata:
                  labels: {app: web}
                spec:
                  securityContext:
                    runAsNonRoot: true
                    runAsUser: 10001
                  containers:
                    - name: web
                      image: registry.acme.example/web:3.2.0
                      env:
                        - name: OPENAI_API_KEY
                          valueFrom:
                            secretKeyRef: {name: llm-credentials, key: OPENAI_API_KEY}
            """,
            "key from a secretKeyRef",
        ),
        _look(
            "tests/test_masking.py",
            """
            from app.masking import mask


            def test_mask_keeps_prefix():
                assert mask("sk-proj-abc123") == "sk-p****"
                assert mask("hf_abc") == "hf_****"
            """,
            "short key-prefixed strings in a unit test",
        ),
        _look(
            "agents/mistral_agents.py",
            """
            MISTRAL_AGENT_ID = "ag:3996db2b:20240805:french-agent:a8b9c2d1"
            MISTRAL_MODEL = "mistral-large-latest"
            """,
            "Mistral agent id and model name, not a key",
        ),
        _look(
            "docs_snippets/setup_notes.py",
            """
            # e.g. export OPENAI_API_KEY=sk-proj-xxxxxxxxxxxxxxxxxxxxxxxx
            # or   export ANTHROPIC_API_KEY=sk-ant-api03-...
            STEPS = ["create a key", "export it", "run make dev"]
            """,
            "elided keys in comments",
        ),
        _look(
            "web/src/llm.ts",
            """
            import OpenAI from "openai";

            export const client = new OpenAI({
              apiKey: process.env.OPENAI_API_KEY,
              baseURL: "@GW@",
            });
            """,
            "JS key from process.env, gateway base URL",
            GW=GATEWAY,
        ),
        _look(
            "cohere_settings.py",
            """
            import os

            COHERE_API_KEY = os.getenv("COHERE_API_KEY", "")
            COHERE_MODEL = "command-r-plus"
            """,
            "Cohere key from the environment",
        ),
        _look(
            "clients/vllm_local.py",
            """
            from openai import OpenAI

            client = OpenAI(base_url="@GW@", api_key="EMPTY")
            """,
            "api_key='EMPTY' with the gateway base URL",
            GW=GATEWAY,
        ),
        _look(
            "ios/Config.xcconfig",
            """
            // Filled in by CI from the secret store
            OPENAI_API_KEY = $(OPENAI_API_KEY_FROM_CI)
            """,
            "build-setting reference",
        ),
    ]


def _lookalike_loaders(k: _Keys) -> list[Case]:
    hf_dir = {"config.json": '{"model_type": "bert", "hidden_size": 384}\n'}
    return [
        _look(
            "eval/safe_eval.py",
            """
            import torch

            state = torch.load("checkpoints/best.pt", weights_only=True)
            """,
            "torch.load with weights_only=True",
        ),
        _look(
            "trainer/restore.py",
            """
            import os

            import torch


            def restore(args, model):
                state = torch.load(
                    os.path.join(args.output_dir, "model.pt"),
                    map_location="cpu",
                    weights_only=True,
                )
                model.load_state_dict(state)
            """,
            "multi-line torch.load, weights_only=True last",
        ),
        _look(
            "serve/load_weights.py",
            """
            import torch as T


            def load(model, path):
                sd = T.load(path, map_location="cpu", weights_only=True, mmap=True)
                model.load_state_dict(sd)
            """,
            "aliased torch, weights_only=True",
        ),
        _look(
            "export/to_safetensors.py",
            """
            import torch
            from safetensors.torch import load_file, save_file


            def convert(src: str, dst: str) -> None:
                save_file(load_file(src), dst)
                torch.save({"converted": True}, dst + ".meta")
            """,
            "safetensors load and torch.save",
        ),
        _look(
            "ckpt/reader.py",
            '''
            """Checkpoint reader.

            Unlike ``torch.load(path)``, this never unpickles anything: the weights are
            stored as safetensors and read with ``safe_open``.
            """

            from safetensors import safe_open


            def tensor_names(path: str) -> list[str]:
                with safe_open(path, framework="pt") as f:
                    return list(f.keys())
            ''',
            "docstring mentions torch.load",
        ),
        _look(
            "features_safe.py",
            """
            import numpy as np

            a = np.load("features.npy")
            b = np.load("labels.npy", allow_pickle=False)
            np.savez_compressed("bundle.npz", a=a, b=b)
            """,
            "np.load default and allow_pickle=False",
        ),
        _look(
            "arrays.py",
            """
            import numpy as np


            def load(path: str) -> np.ndarray:
                # do not pass allow_pickle=True here: object arrays run code when loaded
                return np.load(path)
            """,
            "allow_pickle=True only in a comment",
        ),
        _look(
            "cache/tokens.py",
            """
            import pickle


            def load_cached_tokens():
                with open("cache/tokens.pkl", "rb") as fh:
                    return pickle.load(fh)
            """,
            "pickle.load of a local cache file, not a download",
        ),
        _look(
            "sync/metadata.py",
            """
            import pickle

            import requests

            META_URL = "https://catalog.acme.example/api/meta"


            def refresh() -> dict:
                meta = requests.get(META_URL, timeout=10).json()
                with open("state/last_run.pkl", "rb") as fh:
                    last = pickle.load(fh)
                return {**last, **meta}
            """,
            "a download and a local pickle in one file, unrelated",
        ),
        _look(
            "hub/config_fetch.py",
            """
            import json

            from huggingface_hub import hf_hub_download

            path = hf_hub_download(
                repo_id="acme/ranker", filename="config.json", revision="@SHA@"
            )
            with open(path) as fh:
                config = json.load(fh)
            """,
            "pinned hub download read as JSON",
            SHA=k.sha(),
        ),
        _look(
            "nlp/pinned.py",
            """
            from transformers import AutoModel, AutoTokenizer

            REPO = "sentence-transformers/all-MiniLM-L6-v2"
            tokenizer = AutoTokenizer.from_pretrained(
                "sentence-transformers/all-MiniLM-L6-v2", revision="@SHA@"
            )
            model = AutoModel.from_pretrained(
                "sentence-transformers/all-MiniLM-L6-v2",
                revision="@SHA@",
            )
            """,
            "from_pretrained pinned to a 40-character commit",
            SHA=k.sha(),
        ),
        _look(
            "search/local_encoder.py",
            """
            from sentence_transformers import SentenceTransformer

            encoder = SentenceTransformer("models/minilm")
            """,
            "SentenceTransformer of a directory next to the file",
            extra={
                "search/models/minilm/config.json": hf_dir["config.json"],
                "search/models/minilm/modules.json": "[]\n",
            },
        ),
        _look(
            "train/continue.py",
            """
            from transformers import AutoModelForCausalLM

            model = AutoModelForCausalLM.from_pretrained("./checkpoints/final")
            """,
            "from_pretrained of ./checkpoints/final that exists",
            extra={"train/checkpoints/final/config.json": hf_dir["config.json"]},
        ),
        _look(
            "intent/serve.py",
            """
            from transformers import pipeline

            classify = pipeline("text-classification", model="intent-clf")
            """,
            "pipeline(model=) of a directory next to the file",
            extra={"intent/intent-clf/config.json": hf_dir["config.json"]},
        ),
        _look(
            "models/no_remote_code.py",
            """
            from transformers import AutoModel

            model = AutoModel.from_pretrained(
                "BAAI/bge-small-en-v1.5", revision="@SHA@", trust_remote_code=False
            )
            """,
            "trust_remote_code=False and pinned",
            SHA=k.sha(),
        ),
        _look(
            "bootstrap/pinned_snapshot.py",
            """
            from huggingface_hub import snapshot_download

            snapshot_download(
                repo_id="Qwen/Qwen2.5-0.5B-Instruct",
                revision="@SHA@",
                allow_patterns=["*.safetensors", "*.json"],
            )
            """,
            "snapshot_download pinned",
            SHA=k.sha(),
        ),
        _look(
            "data/local_csv.py",
            """
            from datasets import load_dataset

            ds = load_dataset("csv", data_files={"train": "train.csv", "test": "test.csv"})
            """,
            "load_dataset('csv', data_files=...) is a packaged loader, not a hub id",
        ),
        _look(
            "data/local_parquet.py",
            """
            from datasets import load_dataset

            ds = load_dataset("parquet", data_files="exports/*.parquet", split="train")
            """,
            "load_dataset('parquet', ...) on local files",
        ),
        _look(
            "data/pinned_hub.py",
            """
            from datasets import load_dataset

            imdb = load_dataset("stanfordnlp/imdb", revision="@SHA@")
            """,
            "load_dataset pinned",
            SHA=k.sha(),
        ),
        _look(
            "train/save.py",
            """
            import joblib
            import pickle


            def save(model, path: str) -> None:
                joblib.dump(model, path)
                with open(path + ".meta.pkl", "wb") as fh:
                    pickle.dump({"version": 2}, fh)
            """,
            "dumping, not loading",
        ),
        _look(
            "config/remote_yaml.py",
            """
            import requests
            import yaml


            def fetch(url: str) -> dict:
                return yaml.safe_load(requests.get(url, timeout=10).text)
            """,
            "downloaded YAML parsed with safe_load",
        ),
        _look(
            "rpc/encode.py",
            """
            import pickle


            def encode(obj) -> bytes:
                return pickle.dumps(obj, protocol=5)
            """,
            "pickle.dumps only",
        ),
        _look(
            "notebooks/safe_loading.ipynb",
            _notebook(
                ("code", "import torch, numpy as np"),
                ("code", "sd = torch.load('model.pt', weights_only=True)\nx = np.load('x.npy')"),
            ),
            "notebook with safe loads",
        ),
        _look(
            "keras_app/load.py",
            """
            import keras

            model = keras.saving.load_model("artifacts/classifier.keras", safe_mode=True)
            """,
            "Keras load_model with safe_mode",
        ),
        _look(
            "nlp/tokenizer_dir.py",
            """
            from pathlib import Path

            from transformers import AutoTokenizer

            TOKENIZER_DIR = Path(__file__).parent / "tokenizer"
            tokenizer = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
            """,
            "from_pretrained of a local Path",
            extra={"nlp/tokenizer/tokenizer_config.json": "{}\n"},
        ),
        _look(
            "policy/warnings.py",
            """
            import warnings


            def check(kwargs: dict) -> None:
                if kwargs.get("trust_remote_code"):
                    warnings.warn("trust_remote_code=True is not allowed; ignoring", stacklevel=2)
                    kwargs["trust_remote_code"] = False
            """,
            "trust_remote_code=True only in a warning text",
        ),
        _look(
            "ckpt/torch_save_only.py",
            """
            import torch


            def checkpoint(model, step: int) -> None:
                torch.save(model.state_dict(), f"ckpt/step_{step}.pt")
            """,
            "torch.save only",
        ),
        _look(
            "data/pickle_protocol.py",
            """
            import pandas as pd

            df = pd.read_parquet("features/2024-05.parquet")
            df.to_pickle("cache/features.pkl")
            """,
            "to_pickle (writing) of a local dataframe",
        ),
    ]


def _lookalike_servers() -> list[Case]:
    return [
        _look(
            "dev/docker-compose.yml",
            """
            services:
              notebook:
                image: quay.io/jupyter/scipy-notebook:2024-07-08
                command: start-notebook.sh --NotebookApp.token=''
                ports:
                  - "127.0.0.1:8888:8888"
            """,
            "Jupyter with an empty token bound to 127.0.0.1 only",
        ),
        _look(
            "lab/compose.yaml",
            """
            services:
              lab:
                image: quay.io/jupyter/minimal-notebook:2024-07-08
                command: start-notebook.py --IdentityProvider.token=${JUPYTER_TOKEN}
                ports:
                  - "8888:8888"
            """,
            "Jupyter published with a token from the environment",
        ),
        _look(
            "team/docker-compose.yml",
            """
            services:
              jupyter:
                image: quay.io/jupyter/datascience-notebook:2024-07-08
                ports:
                  - "8888:8888"
                volumes:
                  - ./notebooks:/home/jovyan/work
            """,
            "Jupyter with its default (random) token",
        ),
        _look(
            "tracking/docker-compose.yml",
            """
            services:
              mlflow:
                image: ghcr.io/mlflow/mlflow:v2.15.1
                user: "1000:1000"
                command: mlflow server --host 0.0.0.0 --port 5000 --app-name basic-auth
                ports:
                  - "5000:5000"
            """,
            "MLflow with basic-auth",
        ),
        _look(
            "mlflow-local/docker-compose.yml",
            """
            services:
              mlflow:
                image: ghcr.io/mlflow/mlflow:v2.15.1
                user: "1000:1000"
                command: mlflow server --host 0.0.0.0 --port 5000
                ports:
                  - "127.0.0.1:5000:5000"
            """,
            "MLflow published on 127.0.0.1 only",
        ),
        _look(
            "internal/docker-compose.yml",
            """
            services:
              notebook:
                image: quay.io/jupyter/scipy-notebook:2024-07-08
                command: start-notebook.sh --NotebookApp.token=''
                expose:
                  - "8888"
              proxy:
                image: oauth2-proxy/oauth2-proxy:v7.6.0
                ports:
                  - "4180:4180"
            """,
            "empty-token Jupyter only exposed to an auth proxy, not published",
        ),
        _look(
            "scripts/lab_local.sh",
            """
            #!/usr/bin/env bash
            jupyter lab --ip=127.0.0.1 --port=8888 --ServerApp.token='' --no-browser
            """,
            "Jupyter on 127.0.0.1",
        ),
        _look(
            "scripts/mlflow_ui.sh",
            """
            #!/bin/sh
            mlflow ui --port 5000 --backend-store-uri ./mlruns
            """,
            "mlflow ui on its default 127.0.0.1",
        ),
        _look(
            "serve/vllm_auth.sh",
            """
            #!/usr/bin/env bash
            set -euo pipefail
            vllm serve Qwen/Qwen2.5-7B-Instruct --host 0.0.0.0 --port 8000 \\
              --api-key "$VLLM_API_KEY"
            """,
            "vLLM on 0.0.0.0 with --api-key",
        ),
        _look(
            "serve/vllm_env_key.sh",
            """
            #!/usr/bin/env bash
            export VLLM_API_KEY="$(cat /run/secrets/vllm_api_key)"
            exec python -m vllm.entrypoints.openai.api_server \\
              --model microsoft/Phi-3-mini-4k-instruct --host 0.0.0.0 --port 8000
            """,
            "vLLM on 0.0.0.0 with VLLM_API_KEY set",
        ),
        _look(
            "desktop/ollama_local.sh",
            """
            #!/bin/sh
            OLLAMA_HOST=127.0.0.1:11434 ollama serve
            """,
            "Ollama on 127.0.0.1",
        ),
        _look(
            "cluster/head_local.sh",
            """
            #!/usr/bin/env bash
            ray start --head --dashboard-host=127.0.0.1 --dashboard-port=8265
            """,
            "Ray dashboard on 127.0.0.1",
        ),
        _look(
            "demo/local_app.py",
            """
            import gradio as gr

            demo = gr.Interface(fn=str.upper, inputs="text", outputs="text")
            demo.launch()
            """,
            "Gradio launch() on its default 127.0.0.1",
        ),
        _look(
            "demo/loopback.py",
            """
            import gradio as gr

            demo = gr.Interface(fn=str.lower, inputs="text", outputs="text")
            demo.launch(server_name="127.0.0.1", server_port=7861)
            """,
            "Gradio on 127.0.0.1",
        ),
        _look(
            "demo/auth_tuple.py",
            """
            import os

            import gradio as gr

            demo = gr.Interface(fn=str.title, inputs="text", outputs="text")
            demo.launch(server_name="0.0.0.0", auth=("admin", os.environ["DEMO_PASSWORD"]))
            """,
            "Gradio on 0.0.0.0 with auth=",
        ),
        _look(
            "demo/auth_fn.py",
            """
            import hmac
            import os

            import gradio as gr


            def verify(user: str, password: str) -> bool:
                return hmac.compare_digest(password, os.environ["DEMO_PASSWORD"])


            with gr.Blocks() as app:
                gr.Markdown("internal demo")

            app.launch(server_name="0.0.0.0", server_port=7860, auth=verify)
            """,
            "Gradio on 0.0.0.0 with an auth function",
        ),
        _look(
            "k8s/vllm-secure.yaml",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: llm-serving
            spec:
              selector:
                matchLabels: {app: llm-serving}
              template:
                metadata:
                  labels: {app: llm-serving}
                spec:
                  securityContext:
                    runAsNonRoot: true
                    runAsUser: 1000
                  containers:
                    - name: vllm
                      image: vllm/vllm-openai:v0.6.3
                      args: ["--model", "Qwen/Qwen2.5-7B-Instruct", "--api-key", "$(VLLM_API_KEY)"]
                      env:
                        - name: VLLM_API_KEY
                          valueFrom:
                            secretKeyRef: {name: vllm, key: api-key}
                      securityContext:
                        privileged: false
                        allowPrivilegeEscalation: false
                      resources:
                        limits:
                          nvidia.com/gpu: 1
            """,
            "vLLM with an API key, non-root, not privileged",
        ),
        _look(
            "k8s/jupyter-token.yaml",
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: notebook
            spec:
              securityContext:
                runAsNonRoot: true
                runAsUser: 1000
              containers:
                - name: lab
                  image: quay.io/jupyter/scipy-notebook:2024-07-08
                  env:
                    - name: JUPYTER_TOKEN
                      valueFrom:
                        secretKeyRef: {name: jupyter, key: token}
            """,
            "Jupyter pod with a token from a Secret, non-root",
        ),
        _look(
            "k8s/mlflow-auth.yaml",
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
                    runAsUser: 1000
                  containers:
                    - name: mlflow
                      image: ghcr.io/mlflow/mlflow:v2.15.1
                      command: ["mlflow", "server", "--host", "0.0.0.0", "--app-name", "basic-auth"]
            """,
            "MLflow pod with basic-auth, non-root",
        ),
        _look(
            "ollama-local/docker-compose.yml",
            """
            services:
              ollama:
                image: ollama/ollama:0.3.12
                user: "1000:1000"
                ports:
                  - "127.0.0.1:11434:11434"
                environment:
                  OLLAMA_MODELS: /models
            """,
            "Ollama published on 127.0.0.1 only, non-root",
        ),
        _look(
            "scripts/lab_default.sh",
            """
            #!/usr/bin/env bash
            jupyter lab --no-browser --port 8899
            """,
            "Jupyter with default localhost bind and token",
        ),
        _look(
            "stack/docker-compose.yml",
            """
            services:
              web:
                image: registry.acme.example/shop-web:5.1.0
                ports: ["0.0.0.0:80:8080"]
              db:
                image: postgres:16
                environment:
                  POSTGRES_PASSWORD_FILE: /run/secrets/db
              cache:
                image: redis:7
            """,
            "non-AI stack published on 0.0.0.0",
            forbid=("model-server",),
        ),
        _look(
            "api/main.py",
            """
            import uvicorn
            from fastapi import FastAPI

            app = FastAPI()


            @app.get("/health")
            def health() -> dict:
                return {"ok": True}


            if __name__ == "__main__":
                uvicorn.run(app, host="0.0.0.0", port=8080)
            """,
            "web API on 0.0.0.0, not a model server",
            forbid=("model-server",),
        ),
        _look(
            "scripts/serve_docs.sh",
            """
            #!/bin/sh
            python -m http.server --bind 0.0.0.0 8000 --directory site
            """,
            "static file server on 0.0.0.0",
            forbid=("model-server",),
        ),
        _look(
            "monitoring/docker-compose.yml",
            """
            services:
              grafana:
                image: grafana/grafana:11.1.0
                ports: ["3000:3000"]
              prometheus:
                image: prom/prometheus:v2.53.0
                ports: ["9090:9090"]
            """,
            "monitoring stack, not AI",
            forbid=("model-server",),
        ),
    ]


def _lookalike_buckets() -> list[Case]:
    return [
        _look(
            "infra/website.tf",
            """
            resource "aws_s3_bucket" "site" {
              bucket = "acme-marketing-site"
            }

            resource "aws_s3_bucket_acl" "site" {
              bucket = aws_s3_bucket.site.id
              acl    = "public-read"
            }
            """,
            "public website bucket, name says nothing about models",
        ),
        _look(
            "infra/model_bucket.tf",
            """
            resource "aws_s3_bucket" "weights" {
              bucket = "acme-model-weights-private"
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
            "private model bucket with a public access block",
        ),
        _look(
            "policies/checkpoints-policy.json",
            """
            {
              "Version": "2012-10-17",
              "Statement": [{
                "Sid": "TrainingRoleRead",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:role/sagemaker-training"},
                "Action": ["s3:GetObject"],
                "Resource": "arn:aws:s3:::acme-ml-checkpoints/*"
              }]
            }
            """,
            "model bucket readable by one role only",
        ),
        _look(
            "policies/weights-tls-only.json",
            """
            {
              "Version": "2012-10-17",
              "Statement": [{
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::acme-llm-weights", "arn:aws:s3:::acme-llm-weights/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
              }]
            }
            """,
            "Principal * in a Deny statement makes nothing public",
        ),
        _look(
            "gcp/model_bucket.tf",
            """
            resource "google_storage_bucket" "models" {
              name                        = "acme-models-eu"
              location                    = "EU"
              uniform_bucket_level_access = true
              public_access_prevention    = "enforced"
            }

            resource "google_storage_bucket_iam_member" "ml_team" {
              bucket = google_storage_bucket.models.name
              role   = "roles/storage.objectViewer"
              member = "group:ml-team@acme.example"
            }
            """,
            "GCS model bucket readable by a group",
        ),
        _look(
            "gcp/docs_site.tf",
            """
            resource "google_storage_bucket_iam_member" "docs_public" {
              bucket = "acme-docs-site"
              role   = "roles/storage.objectViewer"
              member = "allUsers"
            }
            """,
            "public docs bucket, not models",
        ),
        _look(
            "azure/private.tf",
            """
            resource "azurerm_storage_container" "weights" {
              name                  = "model-weights"
              storage_account_name  = "acmemlstore"
              container_access_type = "private"
            }
            """,
            "Azure model container, private",
        ),
        _look(
            "azure/images.tf",
            """
            resource "azurerm_storage_container" "images" {
              name                  = "public-images"
              storage_account_name  = "acmewebstore"
              container_access_type = "blob"
            }
            """,
            "public Azure container of website images",
        ),
        _look(
            "policies/static-downloads.json",
            """
            {
              "Version": "2012-10-17",
              "Statement": [{
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::acme-static-downloads/*"
              }]
            }
            """,
            "public bucket of installers, not models",
        ),
        _look(
            "infra/cdn_weights.tf",
            """
            resource "aws_s3_bucket" "model_cdn" {
              bucket = "acme-onnx-models"
            }

            resource "aws_s3_bucket_public_access_block" "model_cdn" {
              bucket                  = aws_s3_bucket.model_cdn.id
              block_public_acls       = true
              block_public_policy     = true
              ignore_public_acls      = true
              restrict_public_buckets = true
            }

            resource "aws_s3_bucket_policy" "model_cdn" {
              bucket = aws_s3_bucket.model_cdn.id
              policy = jsonencode({
                Version = "2012-10-17"
                Statement = [{
                  Effect    = "Allow"
                  Principal = { Service = "cloudfront.amazonaws.com" }
                  Action    = "s3:GetObject"
                  Resource  = "${aws_s3_bucket.model_cdn.arn}/*"
                }]
              })
            }
            """,
            "model bucket readable by the CloudFront service principal only",
        ),
    ]


def _lookalike_containers() -> list[Case]:
    return [
        _look(
            "k8s/node-exporter.yaml",
            """
            apiVersion: apps/v1
            kind: DaemonSet
            metadata:
              name: node-exporter
              namespace: monitoring
            spec:
              selector:
                matchLabels: {app: node-exporter}
              template:
                metadata:
                  labels: {app: node-exporter}
                spec:
                  hostNetwork: true
                  containers:
                    - name: node-exporter
                      image: quay.io/prometheus/node-exporter:v1.8.1
                      securityContext:
                        privileged: true
            """,
            "privileged monitoring DaemonSet, not an inference container",
        ),
        _look(
            "ci/docker-compose.yml",
            """
            services:
              dind:
                image: docker:24-dind
                privileged: true
                environment:
                  DOCKER_TLS_CERTDIR: /certs
              runner:
                image: gitlab/gitlab-runner:v17.1.0
            """,
            "privileged docker-in-docker CI service",
        ),
        _look(
            "k8s/gpu-job.yaml",
            """
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: embed-corpus
            spec:
              template:
                spec:
                  restartPolicy: Never
                  securityContext:
                    runAsNonRoot: true
                    runAsUser: 1000
                    runAsGroup: 1000
                  containers:
                    - name: embed
                      image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime
                      command: ["python", "embed.py"]
                      securityContext:
                        privileged: false
                        allowPrivilegeEscalation: false
                      resources:
                        limits:
                          nvidia.com/gpu: 1
            """,
            "GPU job, non-root, not privileged",
        ),
        _look(
            "services/classifier/Dockerfile",
            """
            FROM python:3.11-slim
            RUN pip install --no-cache-dir torch==2.3.1 transformers==4.44.2 fastapi uvicorn
            RUN useradd --uid 1000 --create-home app
            WORKDIR /home/app
            COPY --chown=app:app . .
            USER 1000
            CMD ["uvicorn", "classifier.api:app", "--host", "0.0.0.0", "--port", "8080"]
            """,
            "ML image ending with USER 1000",
        ),
        _look(
            "services/embedder/Dockerfile",
            """
            FROM python:3.11 AS build
            RUN pip wheel --wheel-dir /wheels torch==2.3.1 sentence-transformers==3.0.1

            FROM python:3.11-slim
            COPY --from=build /wheels /wheels
            RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels \\
                && useradd --uid 10001 app
            USER app
            COPY serve.py /srv/serve.py
            CMD ["python", "/srv/serve.py"]
            """,
            "multi-stage build whose final stage sets USER",
        ),
        _look(
            "notebook-image/Dockerfile",
            """
            FROM quay.io/jupyter/pytorch-notebook:2024-07-08
            USER root
            RUN apt-get update && apt-get install -y --no-install-recommends graphviz \\
                && rm -rf /var/lib/apt/lists/*
            USER ${NB_UID}
            RUN pip install --no-cache-dir transformers==4.44.2
            """,
            "temporary USER root, final USER is the notebook user",
        ),
        _look(
            "frontend/Dockerfile",
            """
            FROM node:20-alpine
            WORKDIR /app
            COPY package*.json ./
            RUN npm ci
            COPY . .
            CMD ["npm", "start"]
            """,
            "non-ML image without USER",
        ),
        _look(
            "services/gateway/Dockerfile",
            """
            FROM golang:1.22 AS build
            WORKDIR /src
            COPY . .
            RUN CGO_ENABLED=0 go build -o /out/gateway ./cmd/gateway

            FROM gcr.io/distroless/static-debian12:nonroot
            COPY --from=build /out/gateway /gateway
            ENTRYPOINT ["/gateway"]
            """,
            "Go service on a distroless nonroot image",
        ),
        _look(
            "workers/docker-compose.yml",
            """
            services:
              embed-worker:
                image: registry.acme.example/embed-worker:1.2.0
                user: "1000:1000"
                environment:
                  MODEL_DIR: /models
                deploy:
                  resources:
                    reservations:
                      devices:
                        - driver: nvidia
                          count: 1
                          capabilities: [gpu]
            """,
            "GPU worker with a non-root user, no ports",
        ),
        _look(
            "k8s/nginx.yaml",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: nginx
            spec:
              selector:
                matchLabels: {app: nginx}
              template:
                metadata:
                  labels: {app: nginx}
                spec:
                  containers:
                    - name: nginx
                      image: nginx:1.27
                      ports:
                        - containerPort: 80
            """,
            "nginx without securityContext, not ML",
        ),
        _look(
            "services/scorer/Dockerfile",
            """
            FROM python:3.12-slim
            RUN pip install --no-cache-dir scikit-learn==1.5.1 joblib onnxruntime==1.18.1
            COPY model.onnx app.py /srv/
            USER nobody
            CMD ["python", "/srv/app.py"]
            """,
            "ML image with USER nobody",
        ),
        _look(
            "k8s/triton-nonroot.yaml",
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
                    fsGroup: 1000
                  containers:
                    - name: triton
                      image: nvcr.io/nvidia/tritonserver:24.07-py3
                      args: ["tritonserver", "--model-repository=/models"]
                      securityContext:
                        allowPrivilegeEscalation: false
                        capabilities: {drop: ["ALL"]}
            """,
            "Triton with runAsNonRoot at pod level",
        ),
    ]


def _lookalike_gateway() -> list[Case]:
    return [
        _look(
            "llm/via_gateway.py",
            """
            import os

            from openai import OpenAI

            client = OpenAI(base_url="@GW@", api_key=os.environ["GARRISON_API_KEY"])
            """,
            "client pointed at the gateway",
            GW=GATEWAY,
        ),
        _look(
            "llm/env_base.py",
            """
            import os

            from openai import OpenAI

            client = OpenAI(base_url=os.environ["OPENAI_BASE_URL"])
            """,
            "base URL from the environment is not judged",
        ),
        _look(
            "llm/env_getenv.py",
            """
            import os

            from openai import AsyncOpenAI

            client = AsyncOpenAI(
                base_url=os.getenv("LLM_GATEWAY_URL"),
                api_key=os.getenv("LLM_GATEWAY_KEY"),
            )
            """,
            "os.getenv base URL",
        ),
        _look(
            "agents/gw_chain.py",
            """
            import os

            from langchain_openai import ChatOpenAI

            llm = ChatOpenAI(model="gpt-4o-mini", base_url="@GW@",
                             api_key=os.environ["GARRISON_API_KEY"])
            """,
            "LangChain ChatOpenAI through the gateway",
            GW=GATEWAY,
        ),
        _look(
            "llm/const_gateway.py",
            """
            import os

            from openai import OpenAI

            GATEWAY_URL = "@GW@"
            client = OpenAI(base_url=GATEWAY_URL, api_key=os.environ["GARRISON_API_KEY"])
            """,
            "gateway URL through a module constant",
            GW=GATEWAY,
        ),
        _look(
            "llm/azure_env.py",
            """
            import os

            from openai import AzureOpenAI

            client = AzureOpenAI(
                azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"],
                api_key=os.environ["AZURE_OPENAI_API_KEY"],
                api_version="2024-06-01",
            )
            """,
            "Azure endpoint from the environment",
        ),
    ]


def _lookalike_files() -> list[Case]:
    lfs = (
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7b1b7f3c2e5a9b0c6f8d1e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d\n"
        "size 437985376\n"
    )
    html = (
        "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
        "<body><h1>Not Found</h1><p>The requested URL was not found.</p></body></html>\n"
    )
    return [
        _look(
            "models/model.bin",
            "placeholder: run scripts/fetch_weights.sh\n",
            "text file called model.bin",
            forbid=NO_MODEL,
        ),
        _look(
            "weights/model.safetensors", lfs, "Git LFS pointer named .safetensors", forbid=NO_MODEL
        ),
        _look("checkpoints/best.pt", html, "HTML error page saved as best.pt", forbid=NO_MODEL),
        _look(
            "hub/model.safetensors",
            '{"error":"Repository Not Found for url"}\n',
            "JSON error body saved as .safetensors",
            forbid=NO_MODEL,
        ),
        _look(
            "keras/model.h5",
            "TODO: export the Keras model here\n",
            "text file called model.h5",
            forbid=NO_MODEL,
        ),
        _look("export/model.onnx", b"", "empty file called model.onnx", forbid=NO_MODEL),
        _look(
            "bert/config.json",
            '{"architectures": ["BertModel"], "hidden_size": 768}\n',
            "Hugging Face config.json, no weights",
            forbid=NO_MODEL,
        ),
        _look(
            "models/model.pkl.sha256",
            "9f2c1d7e3b4a5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f  model.pkl\n",
            "checksum file next to a model name",
            forbid=NO_MODEL,
        ),
    ]


def _seeded_key_variants(k: _Keys) -> list[Case]:
    return [
        _seed(
            "helm/values.yaml",
            """
            replicaCount: 2
            image:
              repository: registry.acme.example/assistant
              tag: 2.4.0
            assistant:
              openaiApiKey: "@K@"
              model: gpt-4o
            """,
            [K001],
            "OpenAI key in Helm values (camelCase name)",
            K=k.openai_proj(),
        ),
        _seed(
            "compose.override.yml",
            """
            services:
              api:
                environment:
                  - LOG_LEVEL=debug
                  - ANTHROPIC_API_KEY=@K@
            """,
            [K001],
            "Anthropic key in a compose environment list",
            K=k.anthropic(),
        ),
        _seed(
            "images/trainer/Dockerfile",
            """
            FROM python:3.11-slim
            RUN pip install --no-cache-dir transformers==4.44.2 datasets==2.20.0
            ENV HF_TOKEN=@K@
            RUN useradd --uid 1000 trainer
            USER trainer
            COPY train.py /home/trainer/train.py
            CMD ["python", "/home/trainer/train.py"]
            """,
            [K001],
            "hf_ token baked into a Dockerfile ENV",
            K=k.hf(),
        ),
        _seed(
            ".continue/config.json",
            """
            {
              "models": [
                {
                  "title": "Claude 3.5 Sonnet",
                  "provider": "anthropic",
                  "model": "claude-3-5-sonnet-latest",
                  "apiKey": "@K@"
                }
              ]
            }
            """,
            [K001],
            "Anthropic key in an IDE assistant config",
            K=k.anthropic(),
        ),
        _seed(
            "clients/raw_http.py",
            """
            import httpx

            HEADERS = {"Authorization": f"Bearer @K@", "Content-Type": "application/json"}


            def models() -> list[str]:
                r = httpx.get("https://api.openai.com/v1/models", headers=HEADERS)
                return [m["id"] for m in r.json()["data"]]
            """,
            [K001],
            "OpenAI key inside an f-string header",
            allowed=ALLOW_GW,
            assets=AI,
            K=k.openai_proj(),
        ),
        _seed(
            "notebooks/quickstart.ipynb",
            _notebook(
                ("code", "%env OPENAI_API_KEY=@K@"),
                ("code", "from openai import OpenAI\nclient = OpenAI()"),
            ),
            [K001],
            "key set with the %env magic in a notebook",
            allowed=ALLOW_GW,
            assets=("notebook",),
            K=k.openai(),
        ),
        _seed(
            "config/providers.ini",
            """
            [openai]
            api_key = @K@
            organization = org-acme

            [retry]
            attempts = 3
            """,
            [K001],
            "OpenAI key in an INI file",
            K=k.openai(),
        ),
        _seed(
            "cmd/seed/main.go",
            """
            package main

            import (
                "os"

                "github.com/anthropics/anthropic-sdk-go"
            )

            func main() {
                os.Setenv("ANTHROPIC_API_KEY", "@K@")
                _ = anthropic.NewClient()
            }
            """,
            [K001],
            "Anthropic key set with os.Setenv in Go",
            allowed=ALLOW_GW,
            assets=AI,
            K=k.anthropic(),
        ),
        _seed(
            "scripts/smoke.sh",
            """
            #!/usr/bin/env bash
            curl -sS https://api.openai.com/v1/models \\
              -H "Authorization: Bearer @K@" | jq '.data[].id'
            """,
            [K001],
            "OpenAI key in a curl header",
            allowed=ALLOW_GW,
            K=k.openai_proj(),
        ),
        _seed(
            "scripts/clone_private_model.sh",
            """
            #!/bin/sh
            git lfs install
            git clone https://acme-bot:@K@@huggingface.co/acme/private-ranker /models/ranker
            """,
            [K001],
            "hf_ token embedded in a clone URL",
            K=k.hf(),
        ),
        _seed(
            "web/.env.local",
            """
            NEXT_PUBLIC_SITE_NAME=Acme Assistant
            NEXT_PUBLIC_OPENAI_API_KEY=@K@
            """,
            [K001],
            "OpenAI key in a Next.js env file",
            K=k.openai_proj(),
        ),
        _seed(
            "appsettings.Development.json",
            """
            {
              "AzureOpenAI": {
                "Endpoint": "https://contoso-dev.openai.azure.com/",
                "azureOpenAIKey": "@K@"
              }
            }
            """,
            [K001],
            "Azure OpenAI key, camelCase name",
            K=k.azure(),
        ),
        _seed(
            "mistral_client.py",
            """
            from mistralai import Mistral

            client = Mistral(api_key="@K@")
            """,
            [K001],
            "Mistral key passed to the Mistral client (the name says whose)",
            allowed=ALLOW_GW,
            assets=AI,
            stretch=True,
            K=k.mistral(),
        ),
    ]


def _seeded_call_variants(k: _Keys) -> list[Case]:
    return [
        _seed(
            "embed/langchain_hf.py",
            """
            from langchain_huggingface import HuggingFaceEmbeddings

            emb = HuggingFaceEmbeddings(
                model_name="nomic-ai/nomic-embed-text-v1",
                model_kwargs={"trust_remote_code": True, "device": "cuda"},
            )
            """,
            [K002],
            "trust_remote_code as a dict key in model_kwargs",
            allowed=(K006,),
            stretch=True,
        ),
        _seed(
            "models/spaced.py",
            """
            from transformers import AutoModelForCausalLM

            m = AutoModelForCausalLM.from_pretrained(
                "internlm/internlm2-chat-7b", revision="@SHA@", trust_remote_code = True
            )
            """,
            [K002],
            "trust_remote_code = True with spaces",
            SHA=k.sha(),
        ),
        _seed(
            "legacy/dill_ckpt.py",
            """
            import dill
            import torch

            state = torch.load("legacy.pt", pickle_module=dill)
            """,
            [K003],
            "torch.load with pickle_module=dill",
        ),
        _seed(
            "remote/torch_bytes.py",
            """
            import io

            import requests
            import torch

            blob = requests.get("https://models.acme.example/detector.pt", timeout=60).content
            model = torch.load(io.BytesIO(blob), weights_only=False)
            """,
            [K003, K004],
            "torch.load of downloaded bytes, weights_only=False",
        ),
        _seed(
            "features/s3_pickle.py",
            """
            import pandas as pd

            BUCKET = "acme-feature-store"
            features = pd.read_pickle(f"s3://{BUCKET}/daily/features.pkl")
            """,
            [K004],
            "read_pickle of an s3:// URL",
        ),
        _seed(
            "remote/npy_hub.py",
            """
            import numpy as np
            from huggingface_hub import hf_hub_download

            centroids = np.load(hf_hub_download("acme/kmeans", "centroids.npy"), allow_pickle=True)
            """,
            [K005, K006],
            "allow_pickle=True on a hub download",
        ),
        _seed(
            "s3_resource.py",
            """
            import pickle

            import boto3

            s3 = boto3.resource("s3")
            body = s3.Object("ml-artifacts", "models/ranker.pkl").get()["Body"].read()
            ranker = pickle.loads(body)
            """,
            [K004],
            "pickle.loads of an S3 resource Object body",
        ),
        _seed(
            "download_then_load.py",
            """
            import pickle

            import requests

            URL = "https://artifacts.acme.example/models/tfidf.pkl"
            resp = requests.get(URL, timeout=60)
            with open("tfidf.pkl", "wb") as out:
                out.write(resp.content)
            with open("tfidf.pkl", "rb") as fh:
                vectorizer = pickle.load(fh)
            """,
            [K004],
            "download written to a file, then unpickled from that file name",
            stretch=True,
        ),
        _seed(
            "npformat.py",
            """
            from numpy.lib import format as npformat

            with open("objects.npy", "rb") as fh:
                arr = npformat.read_array(fh, allow_pickle=True)
            """,
            [K005],
            "allow_pickle=True on numpy.lib.format.read_array",
        ),
        _seed(
            "nlp/kw_from_pretrained.py",
            """
            from transformers import AutoModel

            model = AutoModel.from_pretrained(pretrained_model_name_or_path="intfloat/e5-base-v2")
            """,
            [K006],
            "hub id as a keyword argument",
        ),
        _seed(
            "nlp/revision_none.py",
            """
            from transformers import AutoModel

            model = AutoModel.from_pretrained("intfloat/e5-large-v2", revision=None)
            """,
            [K006],
            "revision=None",
        ),
        _seed(
            "ner.py",
            """
            from transformers import pipeline

            ner = pipeline(task="ner", model="dslim/bert-base-NER", aggregation_strategy="simple")
            """,
            [K006],
            "pipeline with task= and model= keywords",
        ),
        _seed(
            "zero_shot.py",
            """
            from transformers import pipeline

            clf = pipeline("zero-shot-classification", "facebook/bart-large-mnli")
            """,
            [K006],
            "pipeline with the model as second positional argument",
        ),
        _seed(
            "search/bge.py",
            """
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(model_name_or_path="BAAI/bge-base-en-v1.5", device="cpu")
            """,
            [K006],
            "SentenceTransformer with model_name_or_path=",
        ),
        _seed(
            "nlp/pr_revision.py",
            """
            from transformers import AutoModel

            model = AutoModel.from_pretrained("jinaai/jina-bert-v2-qk", revision="refs/pr/12")
            """,
            [K006],
            "revision is a PR ref, not a commit",
        ),
        _seed(
            "bootstrap/tagged.py",
            """
            from huggingface_hub import snapshot_download

            path = snapshot_download("mistralai/Mistral-7B-v0.1", revision="v2.0.1")
            """,
            [K006],
            "snapshot_download pinned to a tag",
        ),
        _seed(
            "data/qualified.py",
            """
            import datasets

            ds = datasets.load_dataset("allenai/c4", "en", split="validation", streaming=True)
            """,
            [K006],
            "datasets.load_dataset module-qualified",
        ),
        _seed(
            "lora/apply.py",
            """
            from peft import PeftModel
            from transformers import AutoModelForCausalLM

            base = AutoModelForCausalLM.from_pretrained(
                "meta-llama/Llama-3.1-8B", revision="@SHA@"
            )
            model = PeftModel.from_pretrained(base, "acme/llama-support-lora")
            """,
            [K006],
            "PeftModel.from_pretrained(base, hub id): the hub id is the second argument",
            SHA=k.sha(),
        ),
        _seed(
            "lm/gpt2.py",
            """
            from transformers import GPT2LMHeadModel

            model = GPT2LMHeadModel.from_pretrained("gpt2")
            """,
            [K006],
            "canonical hub id without an organisation",
        ),
    ]


def _seeded_config_variants() -> list[Case]:
    return [
        _seed(
            "nb/docker-compose.yml",
            """
            services:
              jupyter:
                image: quay.io/jupyter/base-notebook:2024-07-08
                command: ["start-notebook.py", "--ServerApp.token=", "--ServerApp.password="]
                ports:
                  - target: 8888
                    published: 8888
                    protocol: tcp
            """,
            [K007],
            "Jupyter, empty token, long-syntax published port",
            allowed=(K010,),
            assets=SERVER,
        ),
        _seed(
            "research/docker-compose.yml",
            """
            services:
              lab:
                image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime
                command: ["jupyter", "lab", "--ip=0.0.0.0", "--NotebookApp.token=", "--allow-root"]
                ports: ["8888:8888"]
            """,
            [K007],
            "Jupyter started by a list command on a PyTorch image",
            allowed=(K010,),
            assets=SERVER,
        ),
        _seed(
            "bin/notebook.sh",
            """
            #!/bin/bash
            nohup jupyter notebook --ip 0.0.0.0 --port 8888 --NotebookApp.token="" > nb.log 2>&1 &
            """,
            [K007],
            "Jupyter, space-separated --ip, double-quoted empty token",
            assets=SERVER,
        ),
        _seed(
            "serve/openai_api.sh",
            """
            #!/usr/bin/env bash
            python -m vllm.entrypoints.openai.api_server \\
                --host 0.0.0.0 \\
                --model NousResearch/Meta-Llama-3-8B-Instruct \\
                --dtype auto
            """,
            [K007],
            "vLLM API server module on 0.0.0.0",
            assets=SERVER,
        ),
        _seed(
            "ops/mlflow_ui.sh",
            """
            #!/bin/sh
            mlflow ui --host 0.0.0.0 --port 5001
            """,
            [K007],
            "mlflow ui on 0.0.0.0",
            assets=SERVER,
        ),
        _seed(
            "k8s/ollama.yaml",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: ollama
            spec:
              selector:
                matchLabels: {app: ollama}
              template:
                metadata:
                  labels: {app: ollama}
                spec:
                  containers:
                    - name: ollama
                      image: ollama/ollama:0.3.12
                      ports:
                        - containerPort: 11434
            """,
            [K007],
            "Ollama pod (no authentication at all)",
            allowed=(K010,),
            assets=SERVER,
        ),
        _seed(
            "k8s/ray-head.yaml",
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: ray-head
            spec:
              securityContext:
                runAsNonRoot: true
                runAsUser: 1000
              containers:
                - name: ray-head
                  image: rayproject/ray-ml:2.34.0
                  command: ["ray", "start", "--head", "--dashboard-host=0.0.0.0", "--block"]
                  ports:
                    - containerPort: 8265
            """,
            [K007],
            "Ray head pod, dashboard on 0.0.0.0",
            assets=SERVER,
        ),
        _seed(
            "demo/chat.py",
            """
            import os

            import gradio as gr


            def respond(message, history):
                return message

            gr.ChatInterface(respond).launch(
                server_name="0.0.0.0", server_port=int(os.environ.get("PORT", "7860"))
            )
            """,
            [K007],
            "Gradio ChatInterface on 0.0.0.0",
        ),
        _seed(
            "infra/policy_doc.tf",
            """
            resource "aws_s3_bucket" "ckpt" {
              bucket = "acme-training-checkpoints"
            }

            data "aws_iam_policy_document" "public_read" {
              statement {
                effect    = "Allow"
                actions   = ["s3:GetObject"]
                resources = ["${aws_s3_bucket.ckpt.arn}/*"]
                principals {
                  type        = "*"
                  identifiers = ["*"]
                }
              }
            }

            resource "aws_s3_bucket_policy" "ckpt" {
              bucket = aws_s3_bucket.ckpt.id
              policy = data.aws_iam_policy_document.public_read.json
            }
            """,
            [K008],
            "Principal * written as an aws_iam_policy_document",
            stretch=True,
        ),
        _seed(
            "infra/heredoc_policy.tf",
            """
            resource "aws_s3_bucket_policy" "weights" {
              bucket = "acme-llm-weights-public"
              policy = <<POLICY
            {
              "Version": "2012-10-17",
              "Statement": [{
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::acme-llm-weights-public/*"
              }]
            }
            POLICY
            }
            """,
            [K008],
            "Principal * in a heredoc policy",
        ),
        _seed(
            "gcp/acl.tf",
            """
            resource "google_storage_bucket_access_control" "public_rule" {
              bucket = "acme-gguf-models"
              role   = "READER"
              entity = "allUsers"
            }
            """,
            [K008],
            "GCS allUsers bucket ACL on a gguf bucket",
        ),
        _seed(
            "policies/weights-list-principal.json",
            """
            {
              "Version": "2012-10-17",
              "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::acme-model-zoo/*"
              }]
            }
            """,
            [K008],
            'Principal {"AWS": ["*"]} list form',
        ),
        _seed(
            "jupyter/docker-compose.yml",
            """
            services:
              notebook:
                image: quay.io/jupyter/pytorch-notebook:cuda12-2024-07-08
                privileged: true
                ports:
                  - "127.0.0.1:8888:8888"
            """,
            [K009],
            "privileged notebook container",
            allowed=(K010,),
            assets=SERVER,
        ),
        _seed(
            "k8s/ollama-privileged.yaml",
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: ollama-gpu
            spec:
              containers:
                - name: ollama
                  image: ollama/ollama:0.3.12
                  securityContext:
                    privileged: true
            """,
            [K009],
            "privileged Ollama pod",
            allowed=(K007, K010),
            assets=SERVER,
        ),
        _seed(
            "serving/docker-compose.yml",
            """
            services:
              vllm:
                image: vllm/vllm-openai:v0.6.3
                user: root
                command: --model Qwen/Qwen2.5-1.5B-Instruct --api-key ${VLLM_API_KEY}
                ports:
                  - "8000:8000"
            """,
            [K010],
            "vLLM with user: root",
            assets=SERVER,
        ),
        _seed(
            "ollama/Dockerfile",
            """
            FROM ollama/ollama:0.3.12
            COPY Modelfile /Modelfile
            RUN ollama serve & sleep 5 && ollama create support -f /Modelfile
            """,
            [K010],
            "Ollama image without USER",
            allowed=(K007,),
        ),
        _seed(
            "conda/Dockerfile",
            """
            FROM continuumio/miniconda3:24.5.0-0
            RUN conda install -y -c pytorch -c nvidia pytorch pytorch-cuda=12.1 \\
                && conda clean -afy
            COPY infer.py /opt/infer.py
            CMD ["python", "/opt/infer.py"]
            """,
            [K010],
            "conda-installed PyTorch, no USER",
        ),
        _seed(
            "uid0/Dockerfile",
            """
            FROM python:3.11-slim
            RUN pip install --no-cache-dir vllm==0.6.3
            USER 0
            CMD ["vllm", "serve", "Qwen/Qwen2.5-0.5B-Instruct", "--api-key", "change-me"]
            """,
            [K010],
            "USER 0 is root",
            allowed=(K007,),
            stretch=True,
        ),
    ]


def _seeded_use_variants() -> list[Case]:
    py = (
        (
            "llm/gw_lookalike_host.py",
            "from openai import OpenAI\n\nclient = OpenAI(base_url="
            '"https://gw.internal.example.net/v1")\n',
            [K011],
            "host that only starts like the gateway's",
        ),
        (
            "agents/claude_lc.py",
            "from langchain_anthropic import ChatAnthropic\n\n"
            'llm = ChatAnthropic(model="claude-3-5-haiku-latest", '
            'base_url="https://api.anthropic.com")\n',
            [K011],
            "ChatAnthropic with base_url",
        ),
        (
            "llm/ollama_openai.py",
            "from openai import OpenAI\n\nclient = OpenAI("
            'base_url="http://localhost:11434/v1", api_key="ollama")\n',
            [K011],
            "OpenAI client to a local Ollama",
        ),
        (
            "llm/azure_async.py",
            "import os\n\nfrom openai import AsyncAzureOpenAI\n\n"
            'client = AsyncAzureOpenAI(\n    azure_endpoint="https://contoso-westus.openai.'
            'azure.com",\n    api_key=os.environ["AZURE_OPENAI_API_KEY"],\n'
            '    api_version="2024-06-01",\n)\n',
            [K011],
            "AsyncAzureOpenAI endpoint literal",
        ),
        (
            "legacy/lc_openai.py",
            "from langchain_openai import ChatOpenAI\n\n"
            'llm = ChatOpenAI(openai_api_base="https://api.fireworks.ai/inference/v1")\n',
            [K011],
            "legacy openai_api_base keyword",
        ),
    )
    cases = [_seed(p, body, rules, why, assets=AI) for p, body, rules, why in py]
    cases[-1] = Case(**{**cases[-1].__dict__, "stretch": True})
    sdk = (
        (
            "gemini_new.py",
            "from google import genai\n\nclient = genai.Client()\n"
            "resp = client.models.generate_content(model='gemini-2.0-flash', contents='hi')\n",
            "gemini",
        ),
        (
            "claude_bedrock.py",
            "from anthropic import AnthropicBedrock\n\n"
            "client = AnthropicBedrock(aws_region='us-east-1')\n",
            "anthropic",
        ),
        (
            "aws/lc_bedrock.py",
            "from langchain_aws import ChatBedrock\n\n"
            "llm = ChatBedrock(model_id='anthropic.claude-3-haiku-20240307-v1:0')\n",
            "lang",
        ),
        (
            "rag/local_llm.py",
            "from llama_index.llms.ollama import Ollama\n\n"
            "llm = Ollama(model='llama3.1', request_timeout=60.0)\n",
            "llama",
        ),
        ("together_batch.py", "from together import Together\n\nclient = Together()\n", "together"),
        (
            "lazy_import.py",
            "def summarize(text: str) -> str:\n    from openai import OpenAI\n\n"
            "    client = OpenAI()\n    r = client.responses.create(model='gpt-4o-mini', "
            "input=text)\n    return r.output_text\n",
            "openai",
        ),
        (
            "gemini_rest.py",
            'import requests\n\nURL = "https://generativelanguage.googleapis.com'
            '/v1beta/models/gemini-1.5-flash:generateContent"\n\n\ndef ask(key: str, q: str):\n'
            '    return requests.post(URL, params={"key": key}, json={"contents": '
            '[{"parts": [{"text": q}]}]}, timeout=30)\n',
            "gemini",
        ),
        (
            "aws/agents.py",
            "import boto3\n\nagents = boto3.client('bedrock-agent-runtime')\n",
            "bedrock",
        ),
    )
    cases += [
        _seed(p, body, [], f"Python SDK use: {name}", allowed=ALLOW_GW, assets=(f"{AI[0]}:{name}",))
        for p, body, name in sdk
    ]
    cases[-1] = Case(**{**cases[-1].__dict__, "stretch": True})
    other = (
        (
            "web/src/types.ts",
            'import type { ChatCompletion } from "openai/resources";\n\n'
            "export type Reply = ChatCompletion;\n",
        ),
        ("server/ai.js", "const OpenAI = require('openai');\n\nmodule.exports = new OpenAI();\n"),
        (
            "internal/ai/openai.go",
            'package ai\n\nimport (\n\t"github.com/openai/openai-go"\n'
            '\t"github.com/openai/openai-go/option"\n)\n\n'
            "func New() *openai.Client { return openai.NewClient(option.WithMaxRetries(2)) }\n",
        ),
        (
            "internal/chain/chain.go",
            'package chain\n\nimport "github.com/tmc/langchaingo/llms/'
            'openai"\n\nfunc LLM() (*openai.LLM, error) { return openai.New() }\n',
        ),
        (
            "src/main/java/com/acme/azure/Chat.java",
            "package com.acme.azure;\n\n"
            "import com.azure.ai.openai.OpenAIClient;\nimport com.azure.ai.openai.OpenAIClient"
            "Builder;\n\npublic class Chat {\n    OpenAIClient client = new OpenAIClientBuilder()"
            ".buildClient();\n}\n",
        ),
        (
            "src/main/scala/acme/Llm.scala",
            "package acme\n\nimport com.openai.client.okhttp."
            "OpenAIOkHttpClient\n\nobject Llm {\n  val client = OpenAIOkHttpClient.fromEnv()\n}\n",
        ),
        (
            "scripts/claude.sh",
            "#!/bin/sh\ncurl -s 'https://api.anthropic.com/v1/messages' \\\n"
            '  -H "x-api-key: $ANTHROPIC_API_KEY" -H "anthropic-version: 2023-06-01" \\\n'
            """  -d '{"model": "claude-3-5-haiku-latest", "max_tokens": 16, "messages": []}'\n""",
        ),
    )
    cases += [
        _seed(p, body, [], "SDK use outside Python", allowed=ALLOW_GW, assets=AI)
        for p, body in other
    ]
    deps = (
        ("requirements-ml.txt", 'openai[datalib]>=1.0 ; python_version >= "3.9"\nnumpy\n'),
        (
            "poetry/pyproject.toml",
            '[tool.poetry]\nname = "assistant"\nversion = "0.1.0"\n\n'
            '[tool.poetry.dependencies]\npython = "^3.11"\nanthropic = "^0.34"\n',
        ),
        (
            "ui/package.json",
            '{\n  "name": "ui",\n  "devDependencies": {\n'
            '    "@google/generative-ai": "^0.17.0"\n  }\n}\n',
        ),
    )
    cases += [
        _seed(p, body, [], "AI SDK declared in a manifest", assets=("ai-dependency",))
        for p, body in deps
    ]
    return cases


def _legacy_torch() -> bytes:
    magic, protocol = 0x1950A86A20F9469CFC6C, 1001
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"int": 4}}
    state = {"fc.weight": [[0.1, 0.2]], "fc.bias": [0.0]}
    return b"".join(pickle.dumps(x, protocol=2) for x in (magic, protocol, sys_info, state))


def _saved_model() -> bytes:
    meta_info = _pb(4, b"serve") + _pb(5, b"2.16.1")
    return _pb(1, 1) + _pb(2, _pb(1, meta_info))


def _seeded_file_variants() -> list[Case]:
    model = ("model",)
    return [
        _seed("legacy/svm.pkl", _sklearn_pickle(0), [], "pickle protocol 0", assets=model),
        _seed("legacy/tree.pkl", _sklearn_pickle(1), [], "pickle protocol 1", assets=model),
        _seed(
            "legacy/old_format.pt", _legacy_torch(), [], "legacy (non-zip) torch.save", assets=model
        ),
        _seed("llm/ggml-model-q4_0.bin", _gguf(), [], "GGUF named .bin", assets=model),
        _seed(
            "export/serving/1/saved_model.pb",
            _saved_model(),
            [],
            "TF SavedModel",
            assets=model,
            extra={"export/serving/1/variables/variables.index": b"\0" * 16},
        ),
        _seed(
            "index/ip.faiss",
            b"IxFI" + _faiss()[4:],
            [],
            "FAISS IndexFlatIP",
            assets=("vector-store",),
        ),
    ]


def _lookalike_variants(k: _Keys) -> list[Case]:
    return [
        _look(
            "tests/test_client.py",
            """
            from unittest.mock import patch

            from app.summary import summarize


            @patch("openai.OpenAI")
            def test_summarize(client_cls):
                client_cls.return_value.chat.completions.create.return_value.choices = []
                assert summarize("") == ""
            """,
            "mock target string names openai; the file does not use it",
            forbid=NO_AI,
        ),
        _look(
            "tests/test_scanner.py",
            """
            from app.scanner import scan

            RISKY = "state = torch.load('x.pt')"
            REMOTE = "AutoModel.from_pretrained('org/m', trust_remote_code=True)"


            def test_scan_flags_risky_code():
                assert scan(RISKY)
                assert scan(REMOTE)
            """,
            "risky calls held as test strings",
        ),
        _look(
            "parsing/loaders.py",
            """
            import json
            import tomllib

            import yaml


            def read_all(a, b, c):
                with open(a) as fa, open(b, "rb") as fb, open(c) as fc:
                    return json.load(fa), tomllib.load(fb), yaml.load(fc, Loader=yaml.SafeLoader)
            """,
            "other .load functions",
        ),
        _look(
            "pipelines/train.py",
            """
            from kfp import dsl
            from sklearn.pipeline import Pipeline
            from sklearn.preprocessing import StandardScaler


            @dsl.pipeline(name="churn-training", description="train and register")
            def churn_pipeline(data_path: str):
                pass


            prep = Pipeline([("scale", StandardScaler())])
            """,
            "Kubeflow and scikit-learn pipelines, not transformers.pipeline",
        ),
        _look(
            "azure/ids.py",
            """
            AZURE_TENANT_ID = "@T@"
            AZURE_SUBSCRIPTION_ID = "@S@"
            """,
            "Azure tenant and subscription ids are UUIDs, not keys",
            T=_uuid(k),
            S=_uuid(k),
        ),
        _look(
            "infra/site_and_models.tf",
            """
            resource "aws_s3_bucket" "site" {
              bucket = "acme-www"
              acl    = "public-read"
            }

            resource "aws_s3_bucket" "models" {
              bucket = "acme-model-registry"
              acl    = "private"
            }
            """,
            "public website bucket next to a private model bucket",
        ),
        _look(
            "azure/containers.tf",
            """
            resource "azurerm_storage_container" "site" {
              name                  = "website-assets"
              storage_account_name  = "acmeweb"
              container_access_type = "blob"
            }

            resource "azurerm_storage_container" "weights" {
              name                  = "llm-checkpoints"
              storage_account_name  = "acmeweb"
              container_access_type = "private"
            }
            """,
            "public Azure website container next to a private checkpoint container",
        ),
        _look(
            "services/asr/Dockerfile",
            """
            FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04
            ARG UID=1000
            RUN apt-get update && apt-get install -y python3-pip \\
                && pip3 install torch==2.3.1 openai-whisper==20231117 \\
                && useradd --uid ${UID} asr
            USER ${UID}
            CMD ["python3", "-m", "asr.server"]
            """,
            "ML image, USER from a build argument",
        ),
        _look(
            "services/tagger/Dockerfile",
            """
            FROM python:3.11-slim
            RUN pip install --no-cache-dir spacy==3.7.5 transformers==4.44.2 \\
                && groupadd app && useradd -g app app
            USER app:app
            CMD ["python", "-m", "tagger"]
            """,
            "ML image with USER app:app",
        ),
        _look(
            "gpu-workers/docker-compose.yml",
            """
            services:
              trainer:
                image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime
                user: "${UID:-1000}:${GID:-1000}"
                command: python train.py
            """,
            "ML container with a non-root user from variables",
        ),
        _look(
            "k8s/container-nonroot.yaml",
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: scorer
            spec:
              containers:
                - name: scorer
                  image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime
                  command: ["python", "score.py"]
                  securityContext:
                    runAsNonRoot: true
                    runAsUser: 1000
                  resources:
                    limits:
                      nvidia.com/gpu: 1
            """,
            "runAsNonRoot at container level",
        ),
        _look(
            "llm/docker-compose.yml",
            """
            services:
              vllm:
                image: vllm/vllm-openai:v0.6.3
                user: "1000:1000"
                command: --model Qwen/Qwen2.5-7B-Instruct --api-key ${VLLM_API_KEY}
                environment:
                  HF_HOME: /cache
                ports:
                  - "8000:8000"
            """,
            "published vLLM with --api-key and a non-root user",
        ),
        _look(
            "ray/compose.yaml",
            """
            services:
              head:
                image: rayproject/ray:2.34.0
                user: "1000:100"
                command: ray start --head --dashboard-host=0.0.0.0 --block
                ports:
                  - "127.0.0.1:8265:8265"
            """,
            "Ray dashboard published on 127.0.0.1 only",
        ),
        _look(
            "app/keys_masked.py",
            """
            KEY_PATTERNS = {
                "openai": r"sk-(proj-)?[A-Za-z0-9_-]{20,}",
                "anthropic": r"sk-ant-api03-[A-Za-z0-9_-]{93}AA",
                "huggingface": r"hf_[A-Za-z]{34}",
            }
            """,
            "regexes that describe keys",
        ),
        _look(
            "llm/gateway_slash.py",
            """
            import os

            from openai import OpenAI

            client = OpenAI(base_url="@GW@/", api_key=os.environ["GARRISON_API_KEY"])
            """,
            "the gateway URL with a trailing slash",
            GW=GATEWAY,
        ),
    ]


def _lookalike_safe_variants(k: _Keys) -> list[Case]:
    return [
        _look(
            "llm/describe.py",
            '''
            def endpoint_for(provider: str) -> str:
                """Return the gateway route for a provider.

                Upstreams such as "https://api.anthropic.com/v1/messages" are configured in
                the gateway, never called from here.
                """
                return f"/v1/{provider}"
            ''',
            "provider URL only in a function docstring",
            forbid=NO_AI,
        ),
        _look(
            "scripts/lab_token.sh",
            """
            #!/usr/bin/env bash
            : "${JUPYTER_TOKEN:?set JUPYTER_TOKEN}"
            jupyter lab --ip=0.0.0.0 --port=8888 --no-browser --ServerApp.token="$JUPYTER_TOKEN"
            """,
            "Jupyter on 0.0.0.0 with a token",
        ),
        _look(
            "ops/mlflow_auth.sh",
            """
            #!/bin/sh
            mlflow server --host 0.0.0.0 --port 5000 --app-name basic-auth \\
              --backend-store-uri postgresql://mlflow@db/mlflow
            """,
            "MLflow on 0.0.0.0 with basic-auth",
        ),
        _look(
            "cluster/head_default.sh",
            """
            #!/usr/bin/env bash
            ray start --head --port=6379
            """,
            "Ray head with the dashboard on its default 127.0.0.1",
        ),
        _look(
            "desktop/ollama_default.sh",
            """
            #!/bin/sh
            ollama serve
            """,
            "Ollama on its default 127.0.0.1",
        ),
        _look(
            "demo/localhost.py",
            """
            import gradio as gr

            demo = gr.Interface(fn=len, inputs="text", outputs="number")
            demo.launch(server_name="localhost")
            """,
            "Gradio on localhost",
        ),
        _look(
            "k8s/jupyter-sidecar.yaml",
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: notebook-proxied
            spec:
              securityContext:
                runAsNonRoot: true
                runAsUser: 1000
              containers:
                - name: lab
                  image: quay.io/jupyter/scipy-notebook:2024-07-08
                  args:
                    - start-notebook.py
                    - --ServerApp.ip=127.0.0.1
                    - --IdentityProvider.token=
                - name: auth-proxy
                  image: quay.io/oauth2-proxy/oauth2-proxy:v7.6.0
                  args: ["--upstream=http://127.0.0.1:8888", "--http-address=0.0.0.0:4180"]
                  ports:
                    - containerPort: 4180
            """,
            "empty-token Jupyter bound to 127.0.0.1 behind an auth proxy sidecar",
        ),
        _look(
            "nlp/pinned_const.py",
            """
            from transformers import AutoModelForSequenceClassification

            MODEL_COMMIT = "@SHA@"

            model = AutoModelForSequenceClassification.from_pretrained(
                "cardiffnlp/twitter-roberta-base-sentiment-latest", revision=MODEL_COMMIT
            )
            """,
            "revision pinned through a module constant",
            SHA=k.sha(),
        ),
        _look(
            "data/images.py",
            """
            from datasets import load_dataset

            ds = load_dataset("imagefolder", data_dir="images/train")
            """,
            "load_dataset('imagefolder', data_dir=...) on local files",
        ),
        _look(
            "hub/mixed.py",
            """
            import json
            import pickle

            from huggingface_hub import hf_hub_download


            def load() -> tuple[dict, dict]:
                cfg_path = hf_hub_download("acme/ranker", "config.json", revision="@SHA@")
                with open(cfg_path) as fh:
                    cfg = json.load(fh)
                with open("cache/ranker_state.pkl", "rb") as fh:
                    state = pickle.load(fh)
                return cfg, state
            """,
            "the download is JSON; the pickle is a local cache",
            SHA=k.sha(),
        ),
        _look(
            "k8s/run-as-user.yaml",
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: embedder
            spec:
              securityContext:
                runAsUser: 1000
                runAsGroup: 1000
              containers:
                - name: embed
                  image: pytorch/pytorch:2.3.1-cuda12.1-cudnn8-runtime
                  command: ["python", "embed.py"]
                  resources:
                    limits:
                      nvidia.com/gpu: 1
            """,
            "runAsUser 1000 overrides the image's root user",
        ),
        _look(
            "api/json_download.py",
            """
            import json

            import requests


            def labels(url: str) -> dict:
                return json.loads(requests.get(url, timeout=10).content)
            """,
            "downloaded JSON, not a pickle",
        ),
    ]


def _uuid(k: _Keys) -> str:
    h = k.hexs(32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def all_cases(seed: int = SEED) -> list[Case]:
    keys = _Keys(random.Random(seed))
    return [
        *_seeded_keys(keys),
        *_seeded_loaders(keys),
        *_seeded_servers(),
        *_seeded_buckets(),
        *_seeded_containers(),
        *_seeded_gateway(),
        *_seeded_sdks(),
        *_seeded_files(),
        *_seeded_key_variants(keys),
        *_seeded_call_variants(keys),
        *_seeded_config_variants(),
        *_seeded_use_variants(),
        *_seeded_file_variants(),
        *_lookalike_mentions(),
        *_lookalike_keys(keys),
        *_lookalike_loaders(keys),
        *_lookalike_servers(),
        *_lookalike_buckets(),
        *_lookalike_containers(),
        *_lookalike_gateway(),
        *_lookalike_files(),
        *_lookalike_variants(keys),
        *_lookalike_safe_variants(keys),
    ]


def build_holdout(root: Path, seed: int = SEED) -> dict[str, dict]:
    """Write every case in its own directory under `root`; return the ground truth."""
    cases = all_cases(seed)
    order = list(range(len(cases)))
    random.Random(seed + 1).shuffle(order)  # seeded and look-alike repos interleave
    truth: dict[str, dict] = {}
    for slot, index in enumerate(order):
        case = cases[index]
        repo = f"proj{slot:03d}"
        for rel, body in case.files.items():
            path = root / repo / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(body, bytes):
                path.write_bytes(body)
            else:
                path.write_text(body, encoding="utf-8")
        truth[f"{repo}/{case.main}"] = {
            "seeded": case.seeded,
            "rules": list(case.rules),
            "allowed": list(case.allowed),
            "assets": list(case.assets),
            "forbid_assets": list(case.forbid_assets),
            "stretch": case.stretch,
            "why": case.why,
        }
    return truth
