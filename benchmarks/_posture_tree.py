"""A generated tree of fake repositories and disks for the posture benchmark, with ground truth.

Each repository holds ordinary filler files, a few seeded items (shadow-AI use, provider
keys, risky configuration, model files by their bytes) and as many look-alikes that are
not (a variable named `openai_model`, a comment, a test fixture, a safe configuration, a
public website bucket, a text file called model.bin). Ground truth lists, for every seeded
and look-alike file, the labels discovery must report for it: a rule id (`GA-POST-007`) or
an asset (`asset:ai-service:openai`). Any other label reported anywhere is a false positive.
"""

# The templates are file contents: their long literal lines are what the files hold.
# ruff: noqa: E501

from __future__ import annotations

import json
import random
import string
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

GATEWAY = "https://gateway.internal/v1"
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


@dataclass(frozen=True)
class Seed:
    name: str  # path inside the repository
    content: bytes
    labels: frozenset[str]  # what discovery must report for this file
    trap: str = ""  # for look-alikes: the label a keyword search would wrongly give


Template = Callable[[random.Random, int], Seed]


def _r(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(n))
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            return value


def _sha(rng: random.Random) -> str:
    return _r(rng, 40, HEX)


def _seed(name: str, text: str | bytes, *labels: str, trap: str = "") -> Seed:
    data = text.encode() if isinstance(text, str) else text
    return Seed(name, data, frozenset(labels), trap)


# ---- seeded positives -------------------------------------------------------------------


def p_openai(rng: random.Random, i: int) -> Seed:
    text = (
        "from openai import OpenAI\n\nclient = OpenAI()\n\n\ndef ask(q):\n"
        f"    return client.chat.completions.create(model='gpt-4o-mini', messages=[{{'role': 'user', 'content': q}}])  # {i}\n"
    )
    return _seed(f"src/assistant_{i}.py", text, "asset:ai-service:openai", "GA-POST-011")


def p_openai_gateway(rng: random.Random, i: int) -> Seed:
    text = f"import openai\n\nclient = openai.OpenAI(base_url='{GATEWAY}')\nN = {i}\n"
    return _seed(f"src/llm_client_{i}.py", text, "asset:ai-service:openai")


def p_anthropic(rng: random.Random, i: int) -> Seed:
    text = (
        "import anthropic\n\nclaude = anthropic.Anthropic()\n"
        f"msg = claude.messages.create(model='claude-3-5-sonnet-latest', max_tokens={i}, messages=[])\n"
    )
    return _seed(f"tools/summarise_{i}.py", text, "asset:ai-service:anthropic", "GA-POST-011")


def p_bedrock(rng: random.Random, i: int) -> Seed:
    text = f"import boto3\n\nruntime = boto3.client('bedrock-runtime', region_name='us-east-1')\nID = {i}\n"
    return _seed(f"jobs/bedrock_{i}.py", text, "asset:ai-service:aws-bedrock", "GA-POST-011")


def p_vertex(rng: random.Random, i: int) -> Seed:
    text = (
        "import vertexai\nfrom vertexai.generative_models import GenerativeModel\n\n"
        f"vertexai.init(project='acme-{i}', location='us-central1')\n"
    )
    return _seed(f"pipelines/vertex_{i}.py", text, "asset:ai-service:google-vertex", "GA-POST-011")


def p_gemini(rng: random.Random, i: int) -> Seed:
    text = f"import google.generativeai as genai\n\nmodel = genai.GenerativeModel('gemini-1.5-pro')  # {i}\n"
    return _seed(f"src/gemini_{i}.py", text, "asset:ai-service:google-gemini", "GA-POST-011")


def p_azure(rng: random.Random, i: int) -> Seed:
    text = (
        "from openai import AzureOpenAI\n\n"
        f"aoai = AzureOpenAI(azure_endpoint='https://acme{i}.openai.azure.com/', api_version='2024-02-01')\n"
    )
    return _seed(
        f"src/azure_chat_{i}.py",
        text,
        "asset:ai-service:openai",
        "asset:ai-service:azure-openai",
        "GA-POST-011",
    )


def p_transformers_unpinned(rng: random.Random, i: int) -> Seed:
    text = (
        "from transformers import AutoModelForCausalLM\n\n"
        f"model = AutoModelForCausalLM.from_pretrained('mistralai/Mistral-7B-v0.{i % 3}')\n"
    )
    return _seed(
        f"train/load_{i}.py", text, "asset:ai-service:huggingface-transformers", "GA-POST-006"
    )


def p_trust_remote_code(rng: random.Random, i: int) -> Seed:
    text = (
        "from transformers import AutoModel\n\n"
        f"m = AutoModel.from_pretrained('acme/encoder-{i}', revision='{_sha(rng)}', trust_remote_code=True)\n"
    )
    return _seed(
        f"train/encoder_{i}.py", text, "asset:ai-service:huggingface-transformers", "GA-POST-002"
    )


def p_torch_load(rng: random.Random, i: int) -> Seed:
    text = f"import torch\n\n\ndef restore(path):\n    return torch.load(path, map_location='cpu')  # {i}\n"
    return _seed(f"train/checkpoint_{i}.py", text, "GA-POST-003")


def p_pickle_download(rng: random.Random, i: int) -> Seed:
    text = (
        "import pickle\nimport requests\n\n"
        f"blob = requests.get('https://models.acme.example/clf-{i}.pkl').content\nclf = pickle.loads(blob)\n"
    )
    return _seed(f"serve/fetch_{i}.py", text, "GA-POST-004")


def p_joblib_hub(rng: random.Random, i: int) -> Seed:
    text = (
        "import joblib\nfrom huggingface_hub import hf_hub_download\n\n"
        f"path = hf_hub_download(repo_id='acme/clf-{i}', filename='m.joblib', revision='{_sha(rng)}')\n"
        "clf = joblib.load(path)\n"
    )
    return _seed(f"serve/hub_{i}.py", text, "asset:ai-service:huggingface-hub", "GA-POST-004")


def p_allow_pickle(rng: random.Random, i: int) -> Seed:
    text = f"import numpy as np\n\nfeatures = np.load('features_{i}.npy', allow_pickle=True)\n"
    return _seed(f"data/features_{i}.py", text, "GA-POST-005")


def p_langchain(rng: random.Random, i: int) -> Seed:
    text = f"from langchain_openai import ChatOpenAI\n\nllm = ChatOpenAI(model='gpt-4o', temperature=0.{i % 10})\n"
    return _seed(
        f"agents/agent_{i}.py",
        text,
        "asset:ai-service:langchain",
        "asset:ai-service:openai",
        "GA-POST-011",
    )


def p_llamaindex(rng: random.Random, i: int) -> Seed:
    text = f"from llama_index.core import VectorStoreIndex\n\nindex = None  # {i}\n"
    return _seed(f"rag/index_{i}.py", text, "asset:ai-service:llamaindex")


def p_vllm(rng: random.Random, i: int) -> Seed:
    text = f"from vllm import LLM\n\nllm = LLM(model='facebook/opt-{i}m')\n"
    return _seed(f"serve/offline_{i}.py", text, "asset:ai-service:vllm")


def p_ollama(rng: random.Random, i: int) -> Seed:
    text = f"import ollama\n\nreply = ollama.chat(model='llama3', messages=[])  # {i}\n"
    return _seed(f"scripts/local_llm_{i}.py", text, "asset:ai-service:ollama")


def p_requests_openai(rng: random.Random, i: int) -> Seed:
    text = (
        "import requests\n\n\ndef complete(prompt, key):\n"
        "    return requests.post('https://api.openai.com/v1/chat/completions',\n"
        f"                         headers={{'Authorization': key}}, json={{'n': {i}}})\n"
    )
    return _seed(f"legacy/raw_http_{i}.py", text, "asset:ai-service:openai", "GA-POST-011")


def p_gradio(rng: random.Random, i: int) -> Seed:
    text = (
        "import gradio as gr\n\ndemo = gr.Interface(fn=lambda x: x, inputs='text', outputs='text')\n"
        f"demo.launch(server_name='0.0.0.0', server_port={7000 + i % 999})\n"
    )
    return _seed(f"demo/app_{i}.py", text, "asset:model-server:gradio", "GA-POST-007")


def p_js_openai(rng: random.Random, i: int) -> Seed:
    text = f'import OpenAI from "openai";\n\nconst client = new OpenAI();\nexport const n = {i};\n'
    return _seed(f"web/src/ai_{i}.ts", text, "asset:ai-service:openai", "GA-POST-011")


def p_js_anthropic_gateway(rng: random.Random, i: int) -> Seed:
    text = (
        'const Anthropic = require("@anthropic-ai/sdk");\n'
        f'const c = new Anthropic({{ baseURL: "{GATEWAY}" }});\nmodule.exports = {{ c, n: {i} }};\n'
    )
    return _seed(f"web/lib/claude_{i}.js", text, "asset:ai-service:anthropic")


def p_go_openai(rng: random.Random, i: int) -> Seed:
    text = (
        'package main\n\nimport (\n\t"context"\n\topenai "github.com/sashabaranov/go-openai"\n)\n\n'
        f'func main() {{\n\tc := openai.NewClient("k")\n\t_ = c\n\t_ = context.Background()\n\t_ = {i}\n}}\n'
    )
    return _seed(f"cmd/bot{i}/main.go", text, "asset:ai-service:openai", "GA-POST-011")


def p_java_bedrock(rng: random.Random, i: int) -> Seed:
    text = (
        "package com.acme;\n\nimport software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeClient;\n\n"
        f"public class Gen{i} {{ }}\n"
    )
    return _seed(f"java/src/Gen{i}.java", text, "asset:ai-service:aws-bedrock")


def p_shell_curl(rng: random.Random, i: int) -> Seed:
    text = (
        "#!/bin/sh\nset -e\n"
        f'curl -s "https://api.anthropic.com/v1/messages" -H "x-api-key: $KEY" -d @req_{i}.json\n'
    )
    return _seed(f"scripts/ask_claude_{i}.sh", text, "asset:ai-service:anthropic", "GA-POST-011")


_KEY_LINES: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"OPENAI_API_KEY=sk-proj-{_r(r, 64)}",
    lambda r: f"ANTHROPIC_API_KEY=sk-ant-api03-{_r(r, 93)}AA",
    lambda r: f"HF_TOKEN=hf_{_r(r, 34)}",
    lambda r: f"GOOGLE_API_KEY=AIza{_r(r, 35)}",
    lambda r: f"AWS_ACCESS_KEY_ID=AKIA{_r(r, 16, string.ascii_uppercase + string.digits)}",
    lambda r: f"AZURE_OPENAI_API_KEY={_r(r, 32, HEX)}",
    lambda r: f"GROQ_API_KEY=gsk_{_r(r, 52)}",
    lambda r: f"REPLICATE_API_TOKEN=r8_{_r(r, 37)}",
    lambda r: f"COHERE_API_KEY={_r(r, 40)}",
    lambda r: f"MISTRAL_API_KEY={_r(r, 32)}",
)


def p_key_env(rng: random.Random, i: int) -> Seed:
    line = _KEY_LINES[i % len(_KEY_LINES)](rng)
    name = rng.choice(
        [".env", f"config/{i}.env", f"deploy/secrets_{i}.properties", f"settings_{i}.ini"]
    )
    return _seed(name, f"# service settings\nLOG_LEVEL=info\n{line}\nPORT=8080\n", "GA-POST-001")


def p_key_code(rng: random.Random, i: int) -> Seed:
    text = f'import os\n\nDEFAULT_TOKEN = "hf_{_r(rng, 34)}"\nLIMIT = {i}\n'
    return _seed(f"src/settings_{i}.py", text, "GA-POST-001")


def p_compose_jupyter(rng: random.Random, i: int) -> Seed:
    text = (
        "services:\n  lab:\n    image: jupyter/scipy-notebook:latest\n"
        "    command: start-notebook.sh --NotebookApp.token='' --NotebookApp.password=''\n"
        f'    ports:\n      - "{8800 + i % 99}:8888"\n'
    )
    return _seed(f"docker-compose.{i}.yml", text, "asset:model-server:jupyter", "GA-POST-007")


def p_compose_ollama(rng: random.Random, i: int) -> Seed:
    text = (
        "services:\n  ollama:\n    image: ollama/ollama:latest\n"
        f'    ports:\n      - "11434:11434"\n    volumes:\n      - ollama{i}:/root/.ollama\n'
        f"volumes:\n  ollama{i}: {{}}\n"
    )
    return _seed(
        f"infra/compose_{i}.yaml", text, "asset:model-server:ollama", "GA-POST-007", "GA-POST-010"
    )


def p_compose_vllm_privileged(rng: random.Random, i: int) -> Seed:
    text = (
        "services:\n  llm:\n    image: vllm/vllm-openai:v0.6.3\n"
        f'    command: ["--model", "acme/chat-{i}", "--api-key", "${{VLLM_KEY}}"]\n'
        '    privileged: true\n    ports:\n      - "127.0.0.1:8000:8000"\n'
    )
    return _seed(
        f"serving/compose_{i}.yml", text, "asset:model-server:vllm", "GA-POST-009", "GA-POST-010"
    )


def p_k8s_ray(rng: random.Random, i: int) -> Seed:
    text = (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ray-head-{i}\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - name: head\n          image: rayproject/ray:2.9.0\n"
        '          command: ["ray", "start", "--head", "--dashboard-host=0.0.0.0", "--block"]\n'
    )
    return _seed(f"k8s/ray_{i}.yaml", text, "asset:model-server:ray", "GA-POST-007")


def p_k8s_vllm_root(rng: random.Random, i: int) -> Seed:
    text = (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: vllm-{i}\nspec:\n  template:\n"
        "    spec:\n      securityContext:\n        runAsUser: 0\n      containers:\n"
        "        - name: server\n          image: vllm/vllm-openai:latest\n"
        '          args: ["--model", "acme/llm"]\n          env:\n            - name: VLLM_API_KEY\n'
        "              valueFrom:\n                secretKeyRef: {name: vllm, key: key}\n"
        "          resources:\n            limits:\n              nvidia.com/gpu: 1\n"
    )
    return _seed(f"k8s/vllm_{i}.yaml", text, "asset:model-server:vllm", "GA-POST-010")


def p_dockerfile_root(rng: random.Random, i: int) -> Seed:
    text = (
        "FROM nvidia/cuda:12.1.0-runtime-ubuntu22.04\nRUN apt-get update && apt-get install -y python3-pip\n"
        f'RUN pip install torch transformers==4.4{i % 10}.0\nCOPY serve.py /app/serve.py\nCMD ["python3", "/app/serve.py"]\n'
    )
    return _seed(f"images/inference{i}/Dockerfile", text, "GA-POST-010")


def p_script_mlflow(rng: random.Random, i: int) -> Seed:
    text = f"#!/usr/bin/env bash\nexport PORT={5000 + i % 100}\nmlflow server \\\n  --host 0.0.0.0 \\\n  --port $PORT\n"
    return _seed(f"ops/start_mlflow_{i}.sh", text, "asset:model-server:mlflow", "GA-POST-007")


def p_script_jupyter(rng: random.Random, i: int) -> Seed:
    text = (
        f"#!/bin/bash\ncd /work/{i}\njupyter lab --ip=0.0.0.0 --no-browser --NotebookApp.token=''\n"
    )
    return _seed(f"ops/lab_{i}.sh", text, "asset:model-server:jupyter", "GA-POST-007")


def p_tf_s3(rng: random.Random, i: int) -> Seed:
    text = (
        f'resource "aws_s3_bucket" "weights" {{\n  bucket = "acme-model-weights-{i}"\n}}\n\n'
        'resource "aws_s3_bucket_acl" "weights" {\n  bucket = aws_s3_bucket.weights.id\n  acl    = "public-read"\n}\n'
    )
    return _seed(f"terraform/s3_{i}.tf", text, "GA-POST-008")


def p_tf_gcs(rng: random.Random, i: int) -> Seed:
    text = (
        f'resource "google_storage_bucket_iam_member" "public" {{\n  bucket = "acme-llm-checkpoints-{i}"\n'
        '  role   = "roles/storage.objectViewer"\n  member = "allUsers"\n}\n'
    )
    return _seed(f"terraform/gcs_{i}.tf", text, "GA-POST-008")


def p_bucket_policy(rng: random.Random, i: int) -> Seed:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::acme-model-artifacts-{i}/*",
            }
        ],
    }
    return _seed(f"policies/bucket_{i}.json", json.dumps(policy, indent=2), "GA-POST-008")


def p_safetensors(rng: random.Random, i: int) -> Seed:
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    data = struct.pack("<Q", len(header)) + header + bytes(16)
    return _seed(f"artifacts/weights_{i}.dat", data, "asset:model:safetensors")


def p_pickle_bin(rng: random.Random, i: int) -> Seed:
    import pickle

    data = pickle.dumps({"layer": list(range(i % 50 + 5)), "name": f"m{i}"}, protocol=4)
    return _seed(f"artifacts/state_{i}.bin", data, "asset:model:pickle")


def p_gguf(rng: random.Random, i: int) -> Seed:
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, 0) + bytes(32)
    return _seed(f"models/llama_{i}.q4", data, "asset:model:gguf")


def p_torch_zip(rng: random.Random, i: int) -> Seed:
    import io
    import pickle
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"ckpt{i}/data.pkl", pickle.dumps({"epoch": i}, protocol=2))
        archive.writestr(f"ckpt{i}/version", "3\n")
    return _seed(f"checkpoints/epoch_{i}.pt", buffer.getvalue(), "asset:model:pytorch")


def p_parquet(rng: random.Random, i: int) -> Seed:
    return _seed(
        f"data/part-{i:05d}.parquet",
        b"PAR1" + bytes(rng.randrange(256) for _ in range(64)) + b"PAR1",
        "asset:dataset:parquet",
    )


def p_csv(rng: random.Random, i: int) -> Seed:
    rows = "\n".join(f"{j},{rng.random():.4f},{rng.choice(['cat', 'dog'])}" for j in range(20))
    return _seed(f"data/train_{i}.csv", "id,score,label\n" + rows + "\n", "asset:dataset:csv")


def p_chroma(rng: random.Random, i: int) -> Seed:
    return _seed(
        f"rag_store_{i}/chroma.sqlite3",
        b"SQLite format 3\x00" + bytes(84),
        "asset:vector-store:chroma",
    )


def p_faiss(rng: random.Random, i: int) -> Seed:
    return _seed(
        f"index/docs_{i}.faiss",
        b"IxF2" + struct.pack("<iq", 384, 10) + bytes(40),
        "asset:vector-store:faiss",
    )


def p_requirements(rng: random.Random, i: int) -> Seed:
    text = f"requests>=2.31\nopenai>=1.{i % 40}\nlangchain-openai\npandas\n"
    return _seed(
        f"requirements-{i}.txt" if i % 2 else "requirements.txt",
        text,
        "asset:ai-dependency:openai",
        "asset:ai-dependency:langchain",
    )


def p_package_json(rng: random.Random, i: int) -> Seed:
    data = {"name": f"web-{i}", "dependencies": {"react": "^18", "@anthropic-ai/sdk": "^0.30.0"}}
    return _seed(
        f"frontend{i}/package.json", json.dumps(data, indent=2), "asset:ai-dependency:anthropic"
    )


def p_notebook(rng: random.Random, i: int) -> Seed:
    cells = [
        {"cell_type": "markdown", "source": ["# Exploration\n"]},
        {
            "cell_type": "code",
            "source": [
                "!pip install openai\n",
                "from openai import OpenAI\n",
                "client = OpenAI()\n",
            ],
        },
        {"cell_type": "code", "source": [f"x = {i}\n"]},
    ]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return _seed(
        f"notebooks/explore_{i}.ipynb",
        json.dumps(nb),
        "asset:notebook:jupyter",
        "asset:ai-service:openai",
        "GA-POST-011",
    )


POSITIVES: tuple[Template, ...] = (
    p_openai, p_openai_gateway, p_anthropic, p_bedrock, p_vertex, p_gemini, p_azure,
    p_transformers_unpinned, p_trust_remote_code, p_torch_load, p_pickle_download, p_joblib_hub,
    p_allow_pickle, p_langchain, p_llamaindex, p_vllm, p_ollama, p_requests_openai, p_gradio,
    p_js_openai, p_js_anthropic_gateway, p_go_openai, p_java_bedrock, p_shell_curl, p_key_env,
    p_key_code, p_compose_jupyter, p_compose_ollama, p_compose_vllm_privileged, p_k8s_ray,
    p_k8s_vllm_root, p_dockerfile_root, p_script_mlflow, p_script_jupyter, p_tf_s3, p_tf_gcs,
    p_bucket_policy, p_safetensors, p_pickle_bin, p_gguf, p_torch_zip, p_parquet, p_csv,
    p_chroma, p_faiss, p_requirements, p_package_json, p_notebook,
)  # fmt: skip


# ---- look-alikes: what a keyword search flags, and discovery must not -------------------


def l_variable_names(rng: random.Random, i: int) -> Seed:
    text = (
        f"# TODO: maybe call openai or anthropic here one day ({i})\n"
        "openai_model = 'gpt-4'\nanthropic_enabled = False\n\n\n"
        "def describe():\n    return 'we do not use openai, huggingface or bedrock'\n"
    )
    return _seed(f"src/naming_{i}.py", text, trap="asset:ai-service:openai")


def l_docstring(rng: random.Random, i: int) -> Seed:
    text = (
        '"""Never call torch.load(path) or pickle.load on downloads; never trust_remote_code=True.\n\n'
        'See https://api.openai.com/docs for why.\n"""\n\nimport torch\n\n\n'
        f"def restore(p):\n    return torch.load(p, weights_only=True)  # {i}\n"
    )
    return _seed(f"src/safe_restore_{i}.py", text, trap="GA-POST-003")


def l_local_pickle(rng: random.Random, i: int) -> Seed:
    text = (
        "import pickle\nimport numpy as np\n\n"
        f"with open('cache_{i}.pkl', 'rb') as f:\n    cache = pickle.load(f)\n"
        "arr = np.load('a.npy', allow_pickle=False)\n"
    )
    return _seed(f"src/cache_{i}.py", text, trap="GA-POST-004")


def l_fake_keys(rng: random.Random, i: int) -> Seed:
    text = (
        f'OPENAI_API_KEY = "sk-" + "x" * 48\nFAKE_OPENAI = "sk-test-key-{i}"\n'
        'HF_TOKEN = "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"\nAWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"\n'
        'ANTHROPIC_API_KEY = "sk-ant-api03-REPLACE_ME"\nGOOGLE_API_KEY = "AIza-your-key-here"\n'
    )
    return _seed(f"tests/fixtures/fake_keys_{i}.py", text, trap="GA-POST-001")


def l_js_comment(rng: random.Random, i: int) -> Seed:
    text = (
        '// import OpenAI from "openai";  -- removed, see ADR-12\n'
        f'const openaiModel = "gpt-4";\nconst note = "https://api.openai.com is blocked";\nexport default {i};\n'
    )
    return _seed(f"web/src/legacy_{i}.js", text, trap="asset:ai-service:openai")


def l_go_string(rng: random.Random, i: int) -> Seed:
    text = (
        'package util\n\nimport "fmt"\n\n'
        f'func Warn() {{ fmt.Println("openai and anthropic calls go through the gateway", {i}) }}\n'
    )
    return _seed(f"pkg/util/warn{i}.go", text, trap="asset:ai-service:openai")


def l_compose_safe_jupyter(rng: random.Random, i: int) -> Seed:
    text = (
        "services:\n  lab:\n    image: jupyter/base-notebook\n    ports:\n"
        f'      - "127.0.0.1:{8800 + i % 99}:8888"\n  db:\n    image: postgres:16\n    ports:\n      - "5432:5432"\n'
    )
    return _seed(f"dev/compose_{i}.yml", text, "asset:model-server:jupyter", trap="GA-POST-007")


def l_k8s_safe_vllm(rng: random.Random, i: int) -> Seed:
    text = (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: vllm-safe-{i}\nspec:\n  template:\n"
        "    spec:\n      securityContext:\n        runAsNonRoot: true\n        runAsUser: 1000\n"
        "      containers:\n        - name: server\n          image: vllm/vllm-openai:latest\n"
        '          args: ["--model", "acme/llm", "--host", "0.0.0.0"]\n          env:\n'
        "            - name: VLLM_API_KEY\n              valueFrom:\n                secretKeyRef: {name: v, key: k}\n"
    )
    return _seed(f"k8s/vllm_safe_{i}.yaml", text, "asset:model-server:vllm", trap="GA-POST-010")


def l_k8s_privileged_web(rng: random.Random, i: int) -> Seed:
    text = (
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: node-agent-{i}\nspec:\n  containers:\n"
        "    - name: agent\n      image: acme/node-exporter:1.2\n      securityContext:\n        privileged: true\n"
    )
    return _seed(f"k8s/agent_{i}.yaml", text, trap="GA-POST-009")


def l_dockerfile_safe(rng: random.Random, i: int) -> Seed:
    text = (
        "FROM python:3.11-slim\nRUN pip install torch transformers\nRUN useradd -u 1000 app\n"
        f'USER 1000\nCMD ["python", "serve_{i}.py"]\n'
    )
    return _seed(f"images/safe{i}/Dockerfile", text, trap="GA-POST-010")


def l_dockerfile_web(rng: random.Random, i: int) -> Seed:
    text = f'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "server{i}.js"]\n'
    return _seed(f"images/web{i}/Dockerfile", text, trap="GA-POST-010")


def l_tf_website(rng: random.Random, i: int) -> Seed:
    text = (
        f'resource "aws_s3_bucket" "site" {{\n  bucket = "acme-website-assets-{i}"\n}}\n\n'
        'resource "aws_s3_bucket_acl" "site" {\n  bucket = aws_s3_bucket.site.id\n  acl    = "public-read"\n}\n\n'
        f'resource "aws_s3_bucket" "weights" {{\n  bucket = "acme-model-weights-private-{i}"\n}}\n'
        'resource "aws_s3_bucket_acl" "weights" {\n  bucket = aws_s3_bucket.weights.id\n  acl    = "private"\n}\n'
    )
    return _seed(f"terraform/site_{i}.tf", text, trap="GA-POST-008")


def l_bucket_policy_private(rng: random.Random, i: int) -> Seed:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::1234567890{i % 10}:role/inference"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::acme-model-artifacts-{i}/*",
            }
        ],
    }
    return _seed(f"policies/private_{i}.json", json.dumps(policy, indent=2), trap="GA-POST-008")


def l_text_model_bin(rng: random.Random, i: int) -> Seed:
    text = f"placeholder: the real model.bin is downloaded at deploy time ({i})\n"
    return _seed(f"models/v{i}/model.bin", text, trap="asset:model:pickle")


def l_shell_comment(rng: random.Random, i: int) -> Seed:
    text = (
        "#!/bin/sh\n# do NOT run: jupyter lab --ip=0.0.0.0 --NotebookApp.token=''\n"
        f"jupyter lab --no-browser --port {8800 + i % 99}\n"
    )
    return _seed(f"ops/lab_local_{i}.sh", text, "asset:model-server:jupyter", trap="GA-POST-007")


def l_readme(rng: random.Random, i: int) -> Seed:
    text = (
        f"# Service {i}\n\nSet `OPENAI_API_KEY=sk-...` before running. We evaluated OpenAI, Anthropic\n"
        "and Hugging Face models; see `torch.load` notes and `trust_remote_code=True` warnings.\n"
    )
    return _seed(f"docs/README_{i}.md", text, trap="GA-POST-001")


def l_requirements_lookalike(rng: random.Random, i: int) -> Seed:
    text = "openapi-spec-validator==0.7.1\nopencv-python\nopentelemetry-sdk\nrequests\n"
    return _seed(f"tools{i}/requirements.txt", text, trap="asset:ai-dependency:openai")


def l_wrapper(rng: random.Random, i: int) -> Seed:
    text = (
        "from acme.clients import ModelGateway\n\n"
        f"client = ModelGateway(base_url='https://api.acme.internal/v{i % 3}', openai_compatible=True)\n"
    )
    return _seed(f"src/gateway_client_{i}.py", text, trap="GA-POST-011")


LOOKALIKES: tuple[Template, ...] = (
    l_variable_names, l_docstring, l_local_pickle, l_fake_keys, l_js_comment, l_go_string,
    l_compose_safe_jupyter, l_k8s_safe_vllm, l_k8s_privileged_web, l_dockerfile_safe,
    l_dockerfile_web, l_tf_website, l_bucket_policy_private, l_text_model_bin, l_shell_comment,
    l_readme, l_requirements_lookalike, l_wrapper,
)  # fmt: skip


# ---- fillers: ordinary files with nothing to find --------------------------------------


def _filler(rng: random.Random, i: int) -> tuple[str, bytes]:
    kind = rng.randrange(8)
    if kind <= 2:
        body = "\n\n".join(
            f"def f{j}_{i}(x, y={j}):\n    total = x + y\n    return [total * k for k in range({j + 2})]"
            for j in range(rng.randrange(3, 12))
        )
        return f"pkg/mod_{i}.py", f"import json\nimport os\n\n{body}\n".encode()
    if kind == 3:
        return (
            f"web/util_{i}.ts",
            f"export function add{i}(a: number, b: number) {{ return a + b; }}\n".encode(),
        )
    if kind == 4:
        return (
            f"docs/page_{i}.md",
            f"# Page {i}\n\nSome text about the service and its API.\n".encode(),
        )
    if kind == 5:
        data = {"name": f"svc{i}", "port": 8000 + i % 1000, "features": ["a", "b"]}
        return f"config/svc_{i}.json", json.dumps(data).encode()
    if kind == 6:
        return f"assets/img_{i}.png", b"\x89PNG\r\n\x1a\n" + bytes(
            rng.randrange(256) for _ in range(200)
        )
    return (
        f"ci/workflow_{i}.yml",
        f"name: ci{i}\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n".encode(),
    )


def build_tree(
    root: Path, total_files: int, seed: int = 7, seeds_per_repo: int = 4
) -> dict[str, dict[str, object]]:
    """Write the tree; returns ground truth {relative path: {labels, trap, seeded}}."""
    rng = random.Random(seed)
    files_per_repo = 200
    repos = max(1, total_files // files_per_repo)
    truth: dict[str, dict[str, object]] = {}
    counter = 0
    written = 0
    for r in range(repos):
        base = root / (f"disk{r:04d}" if r % 10 == 9 else f"repo{r:04d}")
        chosen: list[tuple[Seed, bool]] = []
        for _ in range(seeds_per_repo):
            counter += 1
            chosen.append((rng.choice(POSITIVES)(rng, counter), True))
            counter += 1
            chosen.append((rng.choice(LOOKALIKES)(rng, counter), False))
        for seed_file, positive in chosen:
            path = base / seed_file.name
            rel = str(path.relative_to(root))
            if rel in truth:
                continue
            _write(path, seed_file.content)
            truth[rel] = {
                "labels": sorted(seed_file.labels),
                "trap": seed_file.trap,
                "seeded": positive,
            }
            written += 1
        for j in range(files_per_repo - len(chosen)):
            name, data = _filler(rng, j)
            _write(base / name, data)
            written += 1
    return truth


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
