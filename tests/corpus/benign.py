"""Benign corpus: files written by the real libraries, as users produce them every day.

A scanner that flags any of these at MEDIUM or above is a false positive. Seeds are fixed
and models are tiny so the whole set builds in seconds and every file stays under 2 MB.
"""

from __future__ import annotations

import json
import os
import pickle
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.corpus.chat_templates import TEMPLATES
from tests.corpus.registry import Registry

REGISTRY = Registry()
register = REGISTRY.register

_X = [
    [0.0, 1.0],
    [1.0, 0.0],
    [2.0, 1.0],
    [3.0, 3.0],
    [4.0, 2.0],
    [5.0, 5.0],
    [6.0, 4.0],
    [7.0, 7.0],
]
_Y = [0, 0, 0, 1, 0, 1, 1, 1]


# ---------------------------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------------------------


def _torch() -> Any:
    import torch

    torch.manual_seed(0)
    return torch


def _mlp() -> Any:
    torch = _torch()
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 2, 3),
        nn.BatchNorm2d(2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Dropout(0.1),
        nn.Linear(8, 4),
        nn.LayerNorm(4),
        nn.GELU(),
        nn.Linear(4, 2),
    )


@register("torch-state-dict-zip", "pytorch", "torch-state-dict.pt")
def _sd_zip(path: Path) -> None:
    """state_dict of a small conv net, default zip format."""
    _torch().save(_mlp().state_dict(), path)


@register("torch-state-dict-legacy", "pytorch", "torch-state-dict-legacy.pt")
def _sd_legacy(path: Path) -> None:
    """state_dict saved in the legacy (pre-1.6, non-zip) format."""
    _torch().save(_mlp().state_dict(), path, _use_new_zipfile_serialization=False)


@register("torch-whole-module", "pytorch", "torch-whole-module.pt")
def _whole(path: Path) -> None:
    """A whole nn.Sequential of standard layers pickled by torch.save."""
    _torch().save(_mlp(), path)


@register("torch-whole-module-legacy", "pytorch", "torch-whole-module-legacy.pt")
def _whole_legacy(path: Path) -> None:
    """A whole nn.Sequential in the legacy format."""
    _torch().save(_mlp(), path, _use_new_zipfile_serialization=False)


def _checkpoint(optimizer_name: str) -> dict[str, Any]:
    torch = _torch()
    model = _mlp()
    if optimizer_name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    loss = model(torch.randn(2, 1, 4, 4)).sum()
    loss.backward()
    opt.step()
    sched.step()
    return {
        "epoch": 3,
        "step": 120,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "loss": loss.item(),
        "rng_state": torch.get_rng_state(),
    }


@register("torch-checkpoint-sgd", "pytorch", "torch-checkpoint-sgd.pt")
def _ckpt_sgd(path: Path) -> None:
    """Training checkpoint: model, SGD (momentum) state, StepLR, epoch, RNG state."""
    _torch().save(_checkpoint("sgd"), path)


@register("torch-checkpoint-adamw", "pytorch", "torch-checkpoint-adamw.tar")
def _ckpt_adam(path: Path) -> None:
    """Training checkpoint with AdamW state, saved under the customary .tar name."""
    _torch().save(_checkpoint("adamw"), path)


@register("torch-checkpoint-legacy", "pytorch", "torch-checkpoint-legacy.pth")
def _ckpt_legacy(path: Path) -> None:
    """SGD training checkpoint in the legacy format."""
    _torch().save(_checkpoint("sgd"), path, _use_new_zipfile_serialization=False)


@register("torch-dtypes", "pytorch", "torch-dtypes.pt")
def _dtypes(path: Path) -> None:
    """Tensors of many dtypes (fp16, bf16, int8, bool, complex) plus a quantized tensor."""
    torch = _torch()
    base = torch.randn(4, 4)
    tensors = {
        str(dt): base.to(dt)
        for dt in (
            torch.float16,
            torch.bfloat16,
            torch.float64,
            torch.int8,
            torch.int64,
            torch.bool,
        )
    }
    tensors["complex"] = torch.complex(base, base)
    with warnings.catch_warnings():  # quantized tensors are deprecated, still in checkpoints
        warnings.simplefilter("ignore")
        tensors["quantized"] = torch.quantize_per_tensor(base, 0.1, 0, torch.qint8)
    tensors["view"] = base[1:3]
    torch.save(tensors, path)


@register("torch-hf-pytorch-model-bin", "pytorch", "pytorch_model.bin")
def _hf_bin(path: Path) -> None:
    """A transformer-like state dict (embeddings, attention, layernorm) as pytorch_model.bin."""
    torch = _torch()
    from collections import OrderedDict

    sd = OrderedDict()
    sd["embed_tokens.weight"] = torch.randn(32, 8)
    for i in range(2):
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            sd[f"layers.{i}.self_attn.{name}.weight"] = torch.randn(8, 8)
        sd[f"layers.{i}.input_layernorm.weight"] = torch.ones(8)
    sd["lm_head.weight"] = sd["embed_tokens.weight"]  # tied weights share one storage
    torch.save(sd, path)


@register("torch-namespace-args", "pytorch", "torch-with-args.pt")
def _namespace(path: Path) -> None:
    """A checkpoint carrying argparse.Namespace hyper-parameters (fairseq-style)."""
    import argparse

    torch = _torch()
    args = argparse.Namespace(lr=0.01, arch="mlp", layers=[4, 2], dropout=0.1)
    torch.save({"args": args, "model": _mlp().state_dict()}, path)


@register("torch-jit-script", "pytorch", "torch-jit-script.pt")
def _jit_script(path: Path) -> None:
    """torch.jit.script of an nn.Module saved with torch.jit.save."""
    torch = _torch()
    torch.jit.save(torch.jit.script(_mlp().eval()), path)


@register("torch-jit-trace", "pytorch", "torch-jit-trace.pt")
def _jit_trace(path: Path) -> None:
    """torch.jit.trace of an nn.Module saved with torch.jit.save."""
    torch = _torch()
    traced = torch.jit.trace(_mlp().eval(), torch.randn(1, 1, 4, 4))
    torch.jit.save(traced, path)


# ---------------------------------------------------------------------------------------------
# scikit-learn through pickle and joblib
# ---------------------------------------------------------------------------------------------


def _estimator(kind: str) -> Any:
    from sklearn.cluster import KMeans  # type: ignore[import-untyped]
    from sklearn.compose import ColumnTransformer  # type: ignore[import-untyped]
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
    from sklearn.preprocessing import OneHotEncoder, StandardScaler  # type: ignore[import-untyped]
    from sklearn.svm import SVC  # type: ignore[import-untyped]
    from sklearn.tree import DecisionTreeRegressor  # type: ignore[import-untyped]

    makers: dict[str, Callable[[], Any]] = {
        "logreg": lambda: LogisticRegression(random_state=0),
        "forest": lambda: RandomForestClassifier(n_estimators=3, max_depth=2, random_state=0),
        "pipeline": lambda: Pipeline([("scale", StandardScaler()), ("svc", SVC(random_state=0))]),
        "gboost": lambda: GradientBoostingClassifier(n_estimators=3, random_state=0),
        "kmeans": lambda: KMeans(n_clusters=2, n_init=2, random_state=0),
        "tree": lambda: DecisionTreeRegressor(max_depth=2, random_state=0),
        "columns": lambda: Pipeline(
            [
                (
                    "prep",
                    ColumnTransformer(
                        [
                            ("onehot", OneHotEncoder(handle_unknown="ignore"), [0]),
                            ("scale", StandardScaler(), [1]),
                        ]
                    ),
                ),
                ("clf", LogisticRegression(random_state=0)),
            ]
        ),
    }
    model = makers[kind]()
    if kind == "kmeans":
        return model.fit(_X)
    return model.fit(_X, _Y)


_PICKLED = (
    ("logreg", 2),
    ("forest", 3),
    ("pipeline", 4),
    ("gboost", 5),
    ("kmeans", 4),
    ("columns", 5),
)
for _kind, _proto in _PICKLED:

    def _pickle_maker(path: Path, kind: str = _kind, proto: int = _proto) -> None:
        path.write_bytes(pickle.dumps(_estimator(kind), protocol=proto))

    REGISTRY.add(
        f"sklearn-{_kind}-pickle-p{_proto}",
        "pickle",
        f"sklearn-{_kind}-p{_proto}.pkl",
        f"scikit-learn {_kind} fitted and pickled at protocol {_proto}",
        "garrison",
        _pickle_maker,
    )

_JOBLIB = (
    ("pipeline", 0),
    ("forest", ("zlib", 3)),
    ("gboost", ("gzip", 3)),
    ("logreg", ("bz2", 3)),
    ("tree", ("xz", 3)),
    ("columns", ("lzma", 3)),
    ("kmeans", 3),
)
for _kind, _compress in _JOBLIB:
    _label = (
        _compress[0] if isinstance(_compress, tuple) else ("zlib-default" if _compress else "plain")
    )

    def _joblib_maker(path: Path, kind: str = _kind, compress: Any = _compress) -> None:
        import joblib  # type: ignore[import-untyped]

        joblib.dump(_estimator(kind), path, compress=compress)

    REGISTRY.add(
        f"sklearn-{_kind}-joblib-{_label}",
        "joblib",
        f"sklearn-{_kind}-{_label}.joblib",
        f"scikit-learn {_kind} through joblib.dump ({_label})",
        "garrison",
        _joblib_maker,
    )


# ---------------------------------------------------------------------------------------------
# NumPy and plain Python pickles
# ---------------------------------------------------------------------------------------------


def _rng() -> Any:
    import numpy as np

    return np.random.default_rng(0)


@register("numpy-npy-float", "numpy", "numpy-float.npy")
def _npy(path: Path) -> None:
    """np.save of a float32 matrix."""
    import numpy as np

    np.save(path, _rng().standard_normal((8, 8)).astype(np.float32))


@register("numpy-npy-structured", "numpy", "numpy-structured.npy")
def _npy_structured(path: Path) -> None:
    """np.save of a structured (record) array without objects."""
    import numpy as np

    arr = np.zeros(4, dtype=[("id", "<i8"), ("score", "<f4"), ("tag", "S8")])
    np.save(path, arr)


@register("numpy-npz", "numpy", "numpy-arrays.npz")
def _npz(path: Path) -> None:
    """np.savez of several arrays (int, float, bool, datetime64)."""
    import numpy as np

    np.savez(
        path,
        w=_rng().standard_normal((4, 4)),
        idx=np.arange(10),
        mask=np.ones(3, bool),
        when=np.array(["2024-01-01", "2024-06-30"], dtype="datetime64[D]"),
    )


@register("numpy-npz-compressed", "numpy", "numpy-compressed.npz")
def _npz_compressed(path: Path) -> None:
    """np.savez_compressed of arrays."""
    import numpy as np

    np.savez_compressed(path, w=_rng().standard_normal((16, 16)), b=np.zeros(16))


@register("numpy-objects-pickle", "pickle", "numpy-objects.pkl")
def _numpy_pickle(path: Path) -> None:
    """pickle.dumps of numpy arrays, scalars, datetime64/timedelta64, complex, dtypes."""
    import numpy as np

    obj = {
        "arr": np.arange(6).reshape(2, 3),
        "f32": np.float32(1.5),
        "i64": np.int64(7),
        "c": np.complex128(1 + 2j),
        "dt": np.datetime64("2024-01-01T12:00"),
        "td": np.timedelta64(5, "s"),
        "dtype": np.dtype("<f4"),
        "bool": np.bool_(True),
        "masked": np.ma.masked_array([1, 2, 3], mask=[False, True, False]),
    }
    path.write_bytes(pickle.dumps(obj, protocol=4))


@register("python-stdlib-pickle", "pickle", "python-stdlib.pkl")
def _stdlib_pickle(path: Path) -> None:
    """Protocol 5 pickle of stdlib values: Decimal, OrderedDict, Counter, datetime, sets..."""
    import collections
    import datetime
    import decimal
    import fractions
    import uuid

    obj = {
        "decimal": decimal.Decimal("1.10"),
        "ordered": collections.OrderedDict(a=1, b=2),
        "counter": collections.Counter("garrison"),
        "when": datetime.datetime(2024, 1, 2, 3),
        "date": datetime.date(2024, 1, 2),
        "delta": datetime.timedelta(seconds=5),
        "set": {1, 2},
        "frozen": frozenset({3}),
        "complex": 1 + 2j,
        "bytes": b"\x00\x01",
        "bytearray": bytearray(b"ab"),
        "fraction": fractions.Fraction(1, 3),
        "uuid": uuid.UUID(int=0),
        "deque": collections.deque([1, 2]),
        "range": range(3),
        "slice": slice(1, 5),
    }
    path.write_bytes(pickle.dumps(obj, protocol=5))


@register("python-pickle-p0-list", "pickle", "python-p0.pkl")
def _p0(path: Path) -> None:
    """Protocol 0 (text) pickle of plain containers."""
    path.write_bytes(pickle.dumps({"a": [1, 2.5, "x", None, True], "b": ("t",)}, protocol=0))


# ---------------------------------------------------------------------------------------------
# safetensors and ONNX
# ---------------------------------------------------------------------------------------------


@register("safetensors-torch", "safetensors", "model-torch.safetensors")
def _st_torch(path: Path) -> None:
    """safetensors.torch.save_file of a state dict, with metadata."""
    from safetensors.torch import save_file

    save_file(_mlp().state_dict(), str(path), metadata={"format": "pt"})


@register("safetensors-numpy", "safetensors", "model-numpy.safetensors")
def _st_numpy(path: Path) -> None:
    """safetensors.numpy.save_file of several dtypes."""
    import numpy as np
    from safetensors.numpy import save_file

    rng = _rng()
    save_file(
        {
            "f16": rng.standard_normal((4, 4)).astype(np.float16),
            "i32": np.arange(8, dtype=np.int32),
            "empty": np.zeros((0, 3), np.float32),
        },
        str(path),
    )


def _onnx_graph() -> Any:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = _rng()
    w1 = numpy_helper.from_array(rng.standard_normal((4, 64)).astype(np.float32), "W1")
    w2 = numpy_helper.from_array(rng.standard_normal((64, 2)).astype(np.float32), "W2")
    nodes = [
        helper.make_node("MatMul", ["X", "W1"], ["H"]),
        helper.make_node("Relu", ["H"], ["A"]),
        helper.make_node("MatMul", ["A", "W2"], ["Y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 2])],
        [w1, w2],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@register("onnx-mlp", "onnx", "onnx-mlp.onnx")
def _onnx(path: Path) -> None:
    """An MLP built with onnx.helper and saved with onnx.save_model."""
    import onnx

    onnx.save_model(_onnx_graph(), str(path))


@register("onnx-external-data", "onnx", "onnx-external/model.onnx")
def _onnx_external(path: Path) -> None:
    """onnx.save_model with save_as_external_data: weights in a file beside the model."""
    import onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(
        _onnx_graph(),
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="model.onnx.data",
        size_threshold=0,
    )


# ---------------------------------------------------------------------------------------------
# Keras 3 (torch backend)
# ---------------------------------------------------------------------------------------------


def _keras() -> Any:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras  # type: ignore[import-untyped]

    keras.utils.set_random_seed(0)
    return keras


def _keras_functional() -> Any:
    keras = _keras()
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="functional_cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


@register("keras-v3-sequential", "keras", "keras-sequential.keras")
def _keras_seq(path: Path) -> None:
    """Keras 3 Sequential of Dense layers saved as .keras."""
    keras = _keras()
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)]
    )
    model.save(path)


@register("keras-v3-functional", "keras", "keras-functional.keras")
def _keras_func(path: Path) -> None:
    """Keras 3 functional CNN (compiled, with optimizer config) saved as .keras."""
    _keras_functional().save(path)


@register("keras-h5-legacy", "keras", "keras-legacy.h5")
def _keras_h5(path: Path) -> None:
    """Keras 3 functional CNN saved in the legacy HDF5 format."""
    _keras_functional().save(path)


@register("keras-v3-normalization-embedding", "keras", "keras-preprocessing.keras")
def _keras_prep(path: Path) -> None:
    """Keras 3 model with Normalization (adapted) and Embedding layers, no lambdas."""
    import numpy as np

    keras = _keras()
    norm = keras.layers.Normalization()
    norm.adapt(np.asarray(_X, dtype=np.float32))
    inputs = keras.Input((2,))
    ids = keras.Input((3,), dtype="int32")
    emb = keras.layers.Flatten()(keras.layers.Embedding(10, 2)(ids))
    x = keras.layers.Concatenate()([norm(inputs), emb])
    keras.Model([inputs, ids], keras.layers.Dense(1)(x)).save(path)


# ---------------------------------------------------------------------------------------------
# GGUF with real chat templates, and a Hugging Face model directory
# ---------------------------------------------------------------------------------------------


def _gguf(path: Path, template: str) -> None:
    import gguf
    import numpy as np

    tokens = ["<unk>", "<s>", "</s>", *[f"tok{i}" for i in range(13)]]
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name(path.stem)
    writer.add_context_length(2048)
    writer.add_embedding_length(8)
    writer.add_block_count(1)
    writer.add_feed_forward_length(16)
    writer.add_head_count(2)
    writer.add_head_count_kv(2)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * len(tokens))
    writer.add_token_types([gguf.TokenType.NORMAL] * len(tokens))
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_chat_template(template)
    rng = _rng()
    writer.add_tensor("token_embd.weight", rng.standard_normal((16, 8)).astype(np.float32))
    writer.add_tensor("output_norm.weight", np.ones(8, dtype=np.float32))
    writer.add_tensor("blk.0.attn_q.weight", rng.standard_normal((8, 8)).astype(np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


for _family, _template in TEMPLATES.items():

    def _gguf_maker(path: Path, template: str = _template) -> None:
        _gguf(path, template)

    REGISTRY.add(
        f"gguf-{_family}",
        "gguf",
        f"gguf-{_family}.gguf",
        f"GGUF written by gguf.GGUFWriter with the {_family} chat template",
        "garrison",
        _gguf_maker,
    )


@register("hf-llama-directory", "hf-directory", "hf-llama")
def _hf_dir(path: Path) -> None:
    """HF model dir: config.json (no auto_map), tokenizer_config with chat_template, weights."""
    from safetensors.torch import save_file

    torch = _torch()
    path.mkdir()
    save_file(
        {"model.embed_tokens.weight": torch.randn(16, 8)},
        str(path / "model.safetensors"),
        metadata={"format": "pt"},
    )
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": 8,
        "num_hidden_layers": 1,
        "torch_dtype": "float32",
        "vocab_size": 16,
    }
    tokenizer = {
        "bos_token": "<|begin_of_text|>",
        "eos_token": "<|eot_id|>",
        "chat_template": TEMPLATES["llama-3.1"],
        "model_max_length": 2048,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }
    files: dict[str, dict[str, Any]] = {
        "config.json": config,
        "tokenizer_config.json": tokenizer,
        "generation_config.json": {"bos_token_id": 0, "eos_token_id": 1, "do_sample": True},
        "special_tokens_map.json": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    }
    for name, content in files.items():
        (path / name).write_text(json.dumps(content, indent=2))


@register("hf-qwen-directory-jinja-file", "hf-directory", "hf-qwen")
def _hf_qwen(path: Path) -> None:
    """HF dir in the newer layout: chat_template.jinja beside tokenizer_config.json."""
    import numpy as np
    from safetensors.numpy import save_file

    path.mkdir()
    save_file({"lm_head.weight": np.zeros((4, 4), np.float32)}, str(path / "model.safetensors"))
    (path / "config.json").write_text(
        json.dumps({"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"]})
    )
    (path / "tokenizer_config.json").write_text(json.dumps({"eos_token": "<|im_end|>"}))
    (path / "chat_template.jinja").write_text(TEMPLATES["qwen-2.5"])


@register("hf-trainer-checkpoint", "hf-directory", "hf-trainer-checkpoint")
def _hf_trainer_checkpoint(path: Path) -> None:
    """The files transformers' Trainer writes beside the weights of every checkpoint."""
    import random

    import numpy as np
    import transformers

    torch = _torch()
    path.mkdir()
    args = transformers.TrainingArguments(
        output_dir=str(path / "out"), eval_strategy="steps", report_to=[]
    )
    torch.save(args, path / "training_args.bin")
    rng = {"python": random.getstate(), "numpy": np.random.get_state(),
           "cpu": torch.random.get_rng_state()}  # fmt: skip
    torch.save(rng, path / "rng_state.pth")
    model = torch.nn.Linear(4, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(3, 4)).sum().backward()
    optimizer.step()
    torch.save(optimizer.state_dict(), path / "optimizer.pt")
    torch.save(torch.optim.lr_scheduler.StepLR(optimizer, 10).state_dict(), path / "scheduler.pt")
    config = transformers.BertConfig(
        hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8,
        vocab_size=30,
    )  # fmt: skip
    transformers.BertModel(config).save_pretrained(path)


SAMPLES = REGISTRY.samples
