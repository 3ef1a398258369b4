"""Python source: AI SDK use and risky loading found through the AST, look-alikes left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.assets import Asset
from garrison.posture.observations import Observations
from garrison.posture.python_ast import analyse_python

SHA = "0123456789abcdef0123456789abcdef01234567"
AUTO = "from transformers import AutoModel\n"


def analyse(source: str, tmp_path: Path) -> Observations:
    path = tmp_path / "code.py"
    return analyse_python(source, path, Asset.from_path(path))


def rules_of(source: str, tmp_path: Path) -> list[str]:
    return sorted(f.rule for f in analyse(source, tmp_path).findings)


@pytest.mark.parametrize(
    ("source", "service"),
    [
        ("from openai import OpenAI\nc = OpenAI()\n", "openai"),
        ("import anthropic as a\n", "anthropic"),
        ("import google.generativeai as genai\n", "google-gemini"),
        ("from vertexai.generative_models import GenerativeModel\n", "google-vertex"),
        ("from transformers import pipeline\n", "huggingface-transformers"),
        ("from huggingface_hub import snapshot_download\n", "huggingface-hub"),
        ("from langchain_core.prompts import PromptTemplate\n", "langchain"),
        ("from llama_index.core import VectorStoreIndex\n", "llamaindex"),
        ("from vllm import LLM\n", "vllm"),
        ("import ollama\n", "ollama"),
        ("import boto3\nb = boto3.client('bedrock-runtime')\n", "aws-bedrock"),
        ("import requests\nrequests.post('https://api.mistral.ai/v1/chat')\n", "mistral"),
        ("import chromadb\n", "chroma"),
    ],
)
def test_sdk_use_is_an_asset(source: str, service: str, tmp_path: Path) -> None:
    names = {a.name for a in analyse(source, tmp_path).assets}
    assert service in names


def test_look_alikes_are_not_ai_use(tmp_path: Path) -> None:
    source = (
        '"""We call https://api.openai.com in production; see torch.load docs."""\n'
        "# import openai\nopenai_model = 'gpt-4'\nboto3 = None\n"
        "def f():\n    return 'anthropic'\n"
    )
    out = analyse(source, tmp_path)
    assert out.assets == [] and out.findings == [] and out.calls == []


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("from transformers import AutoModel\nAutoModel.from_pretrained("
         f"'org/m', revision='{SHA}', trust_remote_code=True)\n", "GA-POST-002"),
        ("import torch\ntorch.load('m.pt')\n", "GA-POST-003"),
        ("import torch as t\nt.load('m.pt', weights_only=False)\n", "GA-POST-003"),
        ("import pickle, requests\npickle.loads(requests.get(u).content)\n", "GA-POST-004"),
        ("import joblib\nfrom huggingface_hub import hf_hub_download as d\n"
         f"p = d('org/m', 'x.joblib', revision='{SHA}')\nm = joblib.load(p)\n", "GA-POST-004"),
        ("import pickle\nfrom urllib.request import urlretrieve\npath, _ = urlretrieve(url)\n"
         "with open(path, 'rb') as f:\n    pickle.load(f)\n", "GA-POST-004"),
        ("import numpy as np\nnp.load('a.npy', allow_pickle=True)\n", "GA-POST-005"),
        ("from transformers import AutoModel\nAutoModel.from_pretrained('org/m')\n", "GA-POST-006"),
        (AUTO + "AutoModel.from_pretrained('org/m', revision='main')\n", "GA-POST-006"),
        ("import gradio as gr\ngr.Interface(f).launch(server_name='0.0.0.0')\n", "GA-POST-007"),
        ("import gradio as gr\ngr.Interface(f).launch(share=True)\n", "GA-POST-007"),
    ],
)  # fmt: skip
def test_risky_calls_are_findings(source: str, rule: str, tmp_path: Path) -> None:
    assert rule in rules_of(source, tmp_path)


@pytest.mark.parametrize(
    "source",
    [
        "import torch\ntorch.load('m.pt', weights_only=True)\n",
        "import pickle\nwith open('local.pkl', 'rb') as f:\n    pickle.load(f)\n",
        "import numpy as np\nnp.load('a.npy')\n",
        AUTO + f"AutoModel.from_pretrained('org/m', revision='{SHA}')\n",
        "from transformers import AutoModel\nAutoModel.from_pretrained('./checkpoints/best')\n",
        "from transformers import AutoModel\nAutoModel.from_pretrained(path, revision=rev)\n",
        "import gradio as gr\ngr.Interface(f).launch(server_name='0.0.0.0', auth=('u', p))\n",
        "import datasets\ndatasets.load_dataset('csv', data_files='x.csv')\n",
    ],
)
def test_safe_calls_are_not_findings(source: str, tmp_path: Path) -> None:
    assert rules_of(source, tmp_path) == []


def test_a_local_directory_named_like_a_hub_repo_is_not_a_download(tmp_path: Path) -> None:
    (tmp_path / "models" / "bert").mkdir(parents=True)
    source = "from transformers import AutoModel\nAutoModel.from_pretrained('models/bert')\n"
    assert rules_of(source, tmp_path) == []


def test_client_base_urls_are_recorded_for_reconciliation(tmp_path: Path) -> None:
    source = (
        "import os\nfrom openai import OpenAI\nfrom anthropic import Anthropic\n"
        "a = OpenAI()\nb = OpenAI(base_url='https://gw.internal/v1')\n"
        "c = OpenAI(base_url=os.environ['BASE'])\nd = Anthropic(base_url='https://x.example')\n"
    )
    calls = [(c.provider, c.base_url, c.dynamic) for c in analyse(source, tmp_path).calls]
    assert calls == [
        ("openai", None, False),
        ("openai", "https://gw.internal/v1", False),
        ("openai", None, True),
        ("anthropic", "https://x.example", False),
    ]


def test_model_names_in_sdk_calls_are_references(tmp_path: Path) -> None:
    source = (
        "from openai import OpenAI\nc = OpenAI()\nc.chat.completions.create(model='gpt-4o')\n"
        + AUTO
        + f"AutoModel.from_pretrained('org/m', revision='{SHA}')\n"
    )
    names = sorted(m.name for m in analyse(source, tmp_path).models)
    assert names == ["gpt-4o", "org/m"]
