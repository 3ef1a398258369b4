"""Python checks that follow the code: hub ids without an organisation, where a loaded file
came from (re-bound names, download destinations, S3 objects), clients made from a session."""

from __future__ import annotations

from pathlib import Path

import pytest

from garrison.assets import Asset
from garrison.posture.observations import Observations
from garrison.posture.python_ast import analyse_python


def analyse(source: str, tmp_path: Path) -> Observations:
    path = tmp_path / "code.py"
    return analyse_python(source, path, Asset.from_path(path))


def rules_of(source: str, tmp_path: Path) -> list[str]:
    return sorted(f.rule for f in analyse(source, tmp_path).findings)


@pytest.mark.parametrize(
    "source",
    [
        "from transformers import AutoTokenizer\n"
        "AutoTokenizer.from_pretrained('bert-base-uncased')",
        "from transformers import GPT2LMHeadModel\nGPT2LMHeadModel.from_pretrained('gpt2')",
        "from datasets import load_dataset\nload_dataset('squad')",
        "from sentence_transformers import SentenceTransformer\n"
        "SentenceTransformer('all-MiniLM-L6-v2')",
        "from transformers import pipeline\n"
        "pipeline('summarization', model='facebook/bart-large-cnn')",
        "from transformers import pipeline\n"
        "pipeline('zero-shot-classification', 'facebook/bart-large-mnli')",
        "from transformers import AutoModel\n"
        "AutoModel.from_pretrained('intfloat/e5-large-v2', revision=None)",
        "from peft import PeftModel\nPeftModel.from_pretrained(base, 'acme/support-lora')",
        "from peft import PeftModel\nPeftModel.from_pretrained(base, model_id='acme/lora')",
    ],
)
def test_unpinned_hub_ids_in_every_spelling(source: str, tmp_path: Path) -> None:
    assert rules_of(source, tmp_path) == ["GA-POST-006"]


@pytest.mark.parametrize(
    "source",
    [
        "from transformers import AutoModel\nAutoModel.from_pretrained('model')",
        "from transformers import AutoModel\nAutoModel.from_pretrained('output_dir')",
        "from transformers import pipeline\npipeline('summarization')",
        "from datasets import load_dataset\nload_dataset('csv', data_files='a.csv')",
        "from sentence_transformers import SentenceTransformer\nSentenceTransformer('encoder')",
        "from transformers import AutoModel\n"
        "AutoModel.from_pretrained('bert-base-uncased', revision='" + "a" * 40 + "')",
    ],
)
def test_local_names_and_pinned_ids_are_left_alone(source: str, tmp_path: Path) -> None:
    assert rules_of(source, tmp_path) == []


@pytest.mark.parametrize(
    "source",
    [
        # boto3's resource API
        "import boto3, pickle\ns3 = boto3.resource('s3')\n"
        "body = s3.Object('b', 'k').get()['Body'].read()\nstate = pickle.loads(body)",
        "import boto3, pickle\nobj = boto3.resource('s3').Object('b', 'k')\n"
        "data = obj.get()['Body'].read()\npickle.loads(data)",
        # downloads told where to write
        "import boto3, joblib\nboto3.client('s3').download_file('b', 'k', 'model.pkl')\n"
        "joblib.load('model.pkl')",
        "import urllib.request, pickle\ndest = 'cache/m.pkl'\n"
        "urllib.request.urlretrieve('https://x.example/m.pkl', dest)\n"
        "pickle.load(open(dest, 'rb'))",
        # a download written to a file, then loaded
        "import requests, pickle\nr = requests.get(URL)\n"
        "with open('tfidf.pkl', 'wb') as f:\n    f.write(r.content)\n"
        "pickle.load(open('tfidf.pkl', 'rb'))",
    ],
)
def test_pickle_loads_of_downloaded_files(source: str, tmp_path: Path) -> None:
    assert "GA-POST-004" in rules_of(source, tmp_path)


def test_a_name_rebound_to_a_local_file_is_clean_again(tmp_path: Path) -> None:
    source = (
        "import json, pickle\nfrom huggingface_hub import hf_hub_download\n"
        "with open(hf_hub_download('acme/ranker', 'config.json', revision='"
        + "a"
        * 40
        + "')) as fh:\n    config = json.load(fh)\n"
        "with open('cache/state.pkl', 'rb') as fh:\n    state = pickle.load(fh)\n"
    )
    assert "GA-POST-004" not in rules_of(source, tmp_path)
    # ... while the same load straight after the download is still caught
    tainted = source.replace("cache/state.pkl", "x").replace(
        "with open('x', 'rb') as fh:\n", "if True:\n"
    )
    assert "GA-POST-004" in rules_of(tainted, tmp_path)


def test_bedrock_through_a_session_is_an_ai_service(tmp_path: Path) -> None:
    source = (
        "import boto3\nsession = boto3.Session()\n"
        "c = session.client(service_name='bedrock-runtime')"
    )
    services = {a.name for a in analyse(source, tmp_path).assets}
    assert "aws-bedrock" in services


def test_trust_remote_code_in_a_kwargs_dict(tmp_path: Path) -> None:
    source = (
        "from langchain_huggingface import HuggingFaceEmbeddings\n"
        "HuggingFaceEmbeddings(model_name=m, model_kwargs={'trust_remote_code': True})"
    )
    assert rules_of(source, tmp_path) == ["GA-POST-002"]


def test_a_client_with_a_base_url_is_judged_once(tmp_path: Path) -> None:
    source = "from openai import OpenAI\nc = OpenAI(base_url='https://api.openai.com/v1')"
    calls = analyse(source, tmp_path).calls
    assert [c.base_url for c in calls] == ["https://api.openai.com/v1"]


def test_a_client_pointed_at_another_provider_is_named_after_it(tmp_path: Path) -> None:
    source = "from openai import OpenAI\nc = OpenAI(base_url='https://api.deepseek.com/v1')"
    found = analyse(source, tmp_path)
    assert [c.provider for c in found.calls] == ["deepseek"]
    assert ("ai-service", "deepseek") in {(a.category, a.name) for a in found.assets}
