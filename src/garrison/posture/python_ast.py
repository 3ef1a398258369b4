"""AI use and risky loading in Python source, read through the AST (never imported or run)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from garrison.assets import Asset
from garrison.findings import Location
from garrison.posture import rules
from garrison.posture.observations import (
    AI_SERVICE,
    MODEL_SERVER,
    VECTOR_STORE,
    AICall,
    DiscoveredAsset,
    ModelReference,
    Observations,
)
from garrison.posture.sdks import (
    PYTHON_MODULES,
    VECTOR_STORE_SERVICES,
    service_of_host,
    service_of_module,
)
from garrison.rules import Rule

# Cheap test before parsing: a file that names none of these cannot yield anything here.
TRIGGER = re.compile(
    r"openai|anthropic|bedrock|vertexai|generativeai|genai|aiplatform|azure|transformers|"
    r"huggingface|hf_hub|from_pretrained|snapshot_download|langchain|langgraph|llama_index|"
    r"vllm|ollama|cohere|mistral|groq|replicate|together|fireworks|litellm|sentence_transformers|"
    r"diffusers|datasets|torch|pickle|joblib|dill|allow_pickle|trust_remote_code|gradio|"
    r"chromadb|pinecone|qdrant|weaviate|pymilvus|faiss|lancedb|https?://"
)

_PICKLE_LOADS = frozenset(
    {
        "pickle.load",
        "pickle.loads",
        "_pickle.load",
        "_pickle.loads",
        "cPickle.load",
        "cPickle.loads",
        "dill.load",
        "dill.loads",
        "cloudpickle.load",
        "cloudpickle.loads",
        "joblib.load",
        "pandas.read_pickle",
        "sklearn.externals.joblib.load",
    }
)
# Calls whose result is a downloaded file, its path or its bytes.
_DOWNLOADS = frozenset(
    {
        "huggingface_hub.hf_hub_download",
        "huggingface_hub.snapshot_download",
        "huggingface_hub.cached_download",
        "urllib.request.urlretrieve",
        "urllib.request.urlopen",
        "requests.get",
        "requests.request",
        "httpx.get",
        "wget.download",
        "gdown.download",
        "torch.hub.download_url_to_file",
        "torch.hub.load_state_dict_from_url",
        "tensorflow.keras.utils.get_file",
        "keras.utils.get_file",
    }
)
_DOWNLOAD_METHODS = frozenset({"download_file", "get_object", "download_fileobj"})
# Downloads that write to a path they are given: call -> (positional index, keyword).
_DOWNLOAD_DESTINATIONS: dict[str, tuple[int, str]] = {
    "urllib.request.urlretrieve": (1, "filename"),
    "torch.hub.download_url_to_file": (1, "dst"),
    "wget.download": (1, "out"),
    "gdown.download": (1, "output"),
}
_BOTO3_SESSIONS = frozenset({"boto3.Session", "boto3.session.Session"})
_HUB_FETCHES = frozenset(
    {
        "huggingface_hub.hf_hub_download",
        "huggingface_hub.snapshot_download",
        "transformers.pipeline",
        "datasets.load_dataset",
        "sentence_transformers.SentenceTransformer",
        "diffusers.DiffusionPipeline.from_pretrained",
    }
)
_HUB_ID_KEYWORDS = (
    "repo_id",
    "model_id",
    "pretrained_model_name_or_path",
    "model",
    "model_name_or_path",
    "path",
)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,95}$")
# Hub ids without an organisation: the canonical models the Hub kept from before
# organisations, and sentence-transformers' short names (always hyphenated).
_CANONICAL_MODEL = re.compile(
    r"^(?:bert|distilbert|roberta|distilroberta|gpt2|distilgpt2|openai-gpt|t5|albert|xlnet|"
    r"xlm|xlm-roberta|ctrl|camembert|flaubert|transfo-xl)(?:-[\w.]+)*$"
)
_SHORT_NAME = re.compile(r"^[A-Za-z][\w.]*(?:-[\w.]+)+$")
_DATASET_NAME = re.compile(r"^[A-Za-z][\w.-]{1,95}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_FILE_SUFFIX = re.compile(r"\.(?:json|bin|pt|pth|safetensors|gguf|onnx|txt|csv|pkl|h5|ckpt|model)$")
_LOAD_DATASET_BUILDERS = frozenset(
    {"csv", "json", "parquet", "text", "imagefolder", "audiofolder", "arrow"}
)

# Client constructor -> (service, keyword arguments that set the base URL, default base URL).
_CLIENTS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "openai.OpenAI": ("openai", ("base_url",), None),
    "openai.AsyncOpenAI": ("openai", ("base_url",), None),
    "openai.AzureOpenAI": ("azure-openai", ("azure_endpoint", "base_url"), None),
    "openai.AsyncAzureOpenAI": ("azure-openai", ("azure_endpoint", "base_url"), None),
    "anthropic.Anthropic": ("anthropic", ("base_url",), None),
    "anthropic.AsyncAnthropic": ("anthropic", ("base_url",), None),
    "anthropic.AnthropicBedrock": ("aws-bedrock", ("base_url",), None),
    "anthropic.AnthropicVertex": ("google-vertex", ("base_url",), None),
    "langchain_openai.ChatOpenAI": ("openai", ("base_url", "openai_api_base"), None),
    "langchain_openai.OpenAI": ("openai", ("base_url", "openai_api_base"), None),
    "langchain_openai.OpenAIEmbeddings": ("openai", ("base_url", "openai_api_base"), None),
    "langchain_openai.AzureChatOpenAI": ("azure-openai", ("azure_endpoint",), None),
    "langchain_community.chat_models.ChatOpenAI": ("openai", ("base_url", "openai_api_base"), None),
    "langchain_anthropic.ChatAnthropic": ("anthropic", ("base_url", "anthropic_api_url"), None),
    "llama_index.llms.openai.OpenAI": ("openai", ("api_base",), None),
    "ollama.Client": ("ollama", ("host",), "http://127.0.0.1:11434"),
    "ollama.AsyncClient": ("ollama", ("host",), "http://127.0.0.1:11434"),
    "cohere.Client": ("cohere", ("base_url",), None),
    "cohere.ClientV2": ("cohere", ("base_url",), None),
    "mistralai.Mistral": ("mistral", ("server_url",), None),
    "groq.Groq": ("groq", ("base_url",), None),
    "together.Together": ("together", ("base_url",), None),
    "fireworks.client.Fireworks": ("fireworks", ("base_url",), None),
    "fireworks.Fireworks": ("fireworks", ("base_url",), None),
    "google.generativeai.GenerativeModel": ("google-gemini", (), None),
    "google.genai.Client": ("google-gemini", (), None),
    "vertexai.init": ("google-vertex", ("api_endpoint",), None),
    "litellm.completion": ("litellm", ("api_base", "base_url"), None),
}
_REMOTE_SCHEMES = ("http://", "https://", "s3://", "gs://", "hf://")
_BEDROCK_SERVICES = frozenset({"bedrock", "bedrock-runtime", "bedrock-agent-runtime"})
_MODEL_KEYWORDS = ("model", "model_name", "model_id", "modelId", "deployment_name")
_ALL_INTERFACES = frozenset({"0.0.0.0", "::", "*", ""})


@dataclass(slots=True)
class _Module:
    """What the whole module says, gathered before individual calls are judged."""

    aliases: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    services: dict[str, int] = field(default_factory=dict)  # service -> first import line
    # name -> (line, bound to downloaded data?) for each binding, in no particular order
    bindings: dict[str, dict[int, bool]] = field(default_factory=dict)
    tainted_paths: set[str] = field(default_factory=set)  # file paths a download wrote
    s3_objects: set[str] = field(default_factory=set)  # names bound to boto3 S3 Objects
    module_base_url: str | None = None  # openai.base_url = "..." at module level
    docstrings: set[int] = field(default_factory=set)  # ids of docstring Constant nodes

    def bind(self, name: str, line: int, downloaded: bool) -> bool:
        """Record a binding; True when it changed what is known."""
        lines = self.bindings.setdefault(name, {})
        changed = lines.get(line) != downloaded and (downloaded or line not in lines)
        lines[line] = lines.get(line, False) or downloaded
        return changed

    def tainted(self, name: str, line: int) -> bool:
        """Whether `name`, used at `line`, holds downloaded data: its latest binding above
        decides (so a name re-bound to a local file is clean again); a use above every
        binding (another function's) is tainted when any binding is."""
        lines = self.bindings.get(name)
        if not lines:
            return False
        above = [at for at in lines if at < line]
        return lines[max(above)] if above else any(lines.values())


def analyse_python(
    source: str, path: Path, asset: Asset, line_map: LineMap | None = None
) -> Observations:
    """Observations of one Python file (or a notebook's code joined into one module)."""
    tree = ast.parse(source, filename=str(path))
    module = _gather(tree)
    out = Observations()
    where = line_map or LineMap(str(path))
    for service, line in module.services.items():
        category = VECTOR_STORE if service in VECTOR_STORE_SERVICES else AI_SERVICE
        if service == "gradio":
            category = MODEL_SERVER
        out.assets.append(
            DiscoveredAsset(category, service, asset, where(line), f"imports {service}")
        )
    _Calls(module, path, asset, where, out).visit(tree)
    return out


class LineMap:
    """Turns a line of the analysed source into a Location (notebooks map to their cells)."""

    def __init__(self, path: str, cells: list[tuple[int, int]] | None = None) -> None:
        self.path = path
        self.cells = cells or []  # (first line in the joined source, cell index)

    def __call__(self, line: int) -> Location:
        for first, index in reversed(self.cells):
            if line >= first:
                return Location(path=self.path, member=f"cell {index}", line=line - first + 1)
        return Location(path=self.path, line=line)


def _gather(tree: ast.Module) -> _Module:
    module = _Module()
    assigns: list[ast.Assign | ast.AnnAssign | ast.With] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for name in node.names:
                module.aliases[name.asname or name.name.split(".")[0]] = (
                    name.name if name.asname else name.name.split(".")[0]
                )
                _note_service(module, name.name, node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for name in node.names:
                module.aliases[name.asname or name.name] = f"{node.module}.{name.name}"
            _note_service(module, node.module, node.lineno)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.With)):
            assigns.append(node)
        elif isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                module.docstrings.add(id(body[0].value))
    _local_handles(module, assigns)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    for _ in range(4):  # propagate taint through a few assignments (path -> open -> load)
        changed = False
        for call in calls:
            changed |= _destination(module, call)
        for node in assigns:
            changed |= _taint(module, node)
        if not changed:
            break
    return module


def _local_handles(module: _Module, assigns: list[ast.Assign | ast.AnnAssign | ast.With]) -> None:
    """Names bound to a boto3 Session (so `session.client(...)` resolves like
    `boto3.Session().client(...)`) or to an S3 resource Object."""
    for node in assigns:
        if isinstance(node, ast.With) or not isinstance(node.value, ast.Call):
            continue
        value = node.value
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if qualified(module, value.func) in _BOTO3_SESSIONS:
            module.aliases.update(dict.fromkeys(names, "boto3.Session"))
        elif isinstance(value.func, ast.Attribute) and value.func.attr == "Object":
            module.s3_objects.update(names)


def _note_service(module: _Module, name: str, line: int) -> None:
    service = service_of_module(name, PYTHON_MODULES)
    if service is not None and service not in module.services:
        module.services[service] = line


def _taint(module: _Module, node: ast.Assign | ast.AnnAssign | ast.With) -> bool:
    """Record what `node` binds; True when anything changed."""
    changed = False
    if isinstance(node, ast.With):
        for item in node.items:
            if item.optional_vars is None:
                continue
            downloaded = _downloaded(module, item.context_expr, node.lineno)
            for name in _names(item.optional_vars):
                changed |= module.bind(name, node.lineno, downloaded)
            changed |= _written_download(module, node, item)
        return changed
    value = node.value
    if value is None:
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        if (
            isinstance(target, ast.Attribute)
            and qualified(module, target)
            in (
                "openai.base_url",
                "openai.api_base",
            )
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            module.module_base_url = value.value
    downloaded = _downloaded(module, value, node.lineno)
    for target in targets:
        for name in _names(target):
            changed |= module.bind(name, node.lineno, downloaded)
    return changed


def _written_download(module: _Module, node: ast.With, item: ast.withitem) -> bool:
    """`with open("x.pkl", "wb") as f: f.write(<downloaded>)` makes "x.pkl" downloaded."""
    call = item.context_expr
    handle = item.optional_vars
    if not (isinstance(call, ast.Call) and isinstance(handle, ast.Name)):
        return False
    path = _string(call.args[0]) if call.args else None
    mode = _string(call.args[1]) if len(call.args) > 1 else None
    mode = mode or _string(getattr(_kw(call, "mode"), "value", None))
    if qualified(module, call.func) != "open" or path is None or not mode or "w" not in mode:
        return False
    for inner in ast.walk(ast.Module(body=node.body, type_ignores=[])):
        if (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Attribute)
            and inner.func.attr == "write"
            and isinstance(inner.func.value, ast.Name)
            and inner.func.value.id == handle.id
            and any(_downloaded(module, arg, inner.lineno) for arg in inner.args)
            and path not in module.tainted_paths
        ):
            module.tainted_paths.add(path)
            return True
    return False


def _destination(module: _Module, call: ast.Call) -> bool:
    """A download told where to write (`urlretrieve(url, "m.pkl")`, boto3's
    `download_file(..., Filename)`): its destination holds downloaded data."""
    name = qualified(module, call.func)
    if name in _DOWNLOAD_DESTINATIONS:
        index, keyword = _DOWNLOAD_DESTINATIONS[name]
    elif name.rsplit(".", 1)[-1] == "download_file" and isinstance(call.func, ast.Attribute):
        index, keyword = len(call.args) - 1, "Filename"  # the last positional is the file
    else:
        return False
    found = _kw(call, keyword)
    target = found.value if found else call.args[index] if 0 <= index < len(call.args) else None
    path = _string(target)
    if path is not None and path not in module.tainted_paths:
        module.tainted_paths.add(path)
        return True
    if isinstance(target, ast.Name):
        return module.bind(target.id, call.lineno, True)
    return False


def _names(target: ast.expr) -> Iterator[str]:
    for node in ast.walk(target):
        if isinstance(node, ast.Name):
            yield node.id


def _downloaded(module: _Module, expr: ast.expr, line: int) -> bool:
    """Whether `expr` (at `line`) involves a download call, a URL, a file a download wrote
    or a name bound to downloaded data."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Name) and module.tainted(node.id, line):
            return True
        value = node.value if isinstance(node, ast.Constant) else None
        if isinstance(value, str) and (
            value.startswith(_REMOTE_SCHEMES) or value in module.tainted_paths
        ):
            return True
        if isinstance(node, ast.Call):
            name = qualified(module, node.func)
            if name in _DOWNLOADS or name.rsplit(".", 1)[-1] in _DOWNLOAD_METHODS:
                return True
            if _s3_object_get(module, node):
                return True
    return False


def _s3_object_get(module: _Module, call: ast.Call) -> bool:
    """boto3's resource API: `s3.Object(bucket, key).get()`, or `obj.get()` on such a name."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in ("get", "download_fileobj"):
        return False
    owner = func.value
    if isinstance(owner, ast.Name):
        return owner.id in module.s3_objects
    return (
        isinstance(owner, ast.Call)
        and isinstance(owner.func, ast.Attribute)
        and owner.func.attr == "Object"
    )


def qualified(module: _Module, func: ast.expr) -> str:
    """The dotted name a call target resolves to through the module's imports."""
    parts: list[str] = []
    node = func
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call):  # boto3.Session().client -> boto3.Session.client
        inner = qualified(module, node.func)
        return ".".join([inner, *reversed(parts)]) if inner else ""
    if not isinstance(node, ast.Name):
        return ""
    head = module.aliases.get(node.id, node.id)
    return ".".join([head, *reversed(parts)])


def _kw(call: ast.Call, *names: str) -> ast.keyword | None:
    for keyword in call.keywords:
        if keyword.arg in names:
            return keyword
    return None


def _is_const(node: ast.expr | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def _string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


class _Calls(ast.NodeVisitor):
    def __init__(
        self, module: _Module, path: Path, asset: Asset, where: LineMap, out: Observations
    ) -> None:
        self.module = module
        self.path = path
        self.asset = asset
        self.where = where
        self.out = out
        self.judged_urls: set[int] = set()  # base-URL constants already judged with their call

    def visit_Call(self, call: ast.Call) -> None:
        name = qualified(self.module, call.func)
        loc = self.where(call.lineno)
        self._risky_arguments(call, name, loc)
        self._hub_fetch(call, name, loc)
        self._client(call, name, loc)
        self._model_names(call, loc)
        self._gradio(call, name, loc)
        self.generic_visit(call)

    def visit_Dict(self, node: ast.Dict) -> None:
        # model_kwargs={"trust_remote_code": True} reaches from_pretrained all the same
        for key, value in zip(node.keys, node.values, strict=True):
            if _string(key) == "trust_remote_code" and _is_const(value, True):
                loc = self.where(node.lineno)
                self._add(rules.TRUST_REMOTE_CODE, loc, "{'trust_remote_code': True}")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        text = node.value
        is_url = isinstance(text, str) and text.startswith(("http://", "https://"))
        if is_url and id(node) not in self.module.docstrings and id(node) not in self.judged_urls:
            self._api_url(str(text), self.where(node.lineno))

    def _risky_arguments(self, call: ast.Call, name: str, loc: Location) -> None:
        trust = _kw(call, "trust_remote_code")
        if trust is not None and _is_const(trust.value, True):
            self._add(rules.TRUST_REMOTE_CODE, loc, f"{name or 'call'}(trust_remote_code=True)")
        allow = _kw(call, "allow_pickle")
        if allow is not None and _is_const(allow.value, True):
            self._add(rules.ALLOW_PICKLE, loc, f"{name or 'call'}(allow_pickle=True)")
        if name == "torch.load":
            weights_only = _kw(call, "weights_only")
            if weights_only is None:
                self._add(rules.TORCH_LOAD, loc, "torch.load(...) without weights_only")
            elif _is_const(weights_only.value, False):
                self._add(rules.TORCH_LOAD, loc, "torch.load(..., weights_only=False)")
        if name in _PICKLE_LOADS or name == "torch.load":
            args = [
                *call.args,
                *(k.value for k in call.keywords if k.arg in (None, "file", "filename")),
            ]
            if any(_downloaded(self.module, arg, call.lineno) for arg in args):
                self._add(rules.PICKLE_DOWNLOAD, loc, f"{name}() of a downloaded file")

    def _hub_fetch(self, call: ast.Call, name: str, loc: Location) -> None:
        is_pretrained = isinstance(call.func, ast.Attribute) and call.func.attr == "from_pretrained"
        if not (is_pretrained or name in _HUB_FETCHES):
            return
        keyword = _kw(call, *_HUB_ID_KEYWORDS)
        # pipeline(task, model); PeftModel.from_pretrained(base_model, model_id)
        skip = name == "transformers.pipeline" or (call.args and _string(call.args[0]) is None)
        first = call.args[1 if skip else 0] if len(call.args) > (1 if skip else 0) else None
        repo = _string(keyword.value if keyword else None) or _string(first)
        if repo is None or not self._is_hub_id(repo, name):
            return
        self.out.models.append(ModelReference(repo, False, self.asset, loc))
        revision = _kw(call, "revision")
        pinned = False
        if revision is not None and not _is_const(revision.value, None):
            value = _string(revision.value)
            pinned = value is None or bool(_COMMIT.match(value))  # a variable: cannot tell
        if not pinned:
            shown = name.rsplit(".", 1)[-1] if name else "from_pretrained"
            self._add(rules.UNPINNED_REVISION, loc, f"{shown}({repo!r}) without a commit revision")

    def _is_hub_id(self, repo: str, name: str) -> bool:
        if _FILE_SUFFIX.search(repo):
            return False
        if name == "datasets.load_dataset" and repo in _LOAD_DATASET_BUILDERS:
            return False
        if not _HUB_ID.match(repo) and not self._short_hub_id(repo, name):
            return False
        # "models/bert" next to the file is a local directory, not a hub repository.
        return not (self.path.parent / repo).exists()

    @staticmethod
    def _short_hub_id(repo: str, name: str) -> bool:
        """An id without an organisation that still names the Hub: `load_dataset("squad")`,
        `from_pretrained("bert-base-uncased")`, `SentenceTransformer("all-MiniLM-L6-v2")`."""
        if name == "datasets.load_dataset":
            return bool(_DATASET_NAME.match(repo))
        if name == "sentence_transformers.SentenceTransformer":
            return bool(_SHORT_NAME.match(repo))
        return bool(_CANONICAL_MODEL.match(repo))

    def _client(self, call: ast.Call, name: str, loc: Location) -> None:
        spec = _CLIENTS.get(name)
        if spec is None and name.endswith(".client") and name.startswith("boto3"):
            service = _string(call.args[0]) if call.args else None
            service = service or _string(getattr(_kw(call, "service_name"), "value", None))
            if service in _BEDROCK_SERVICES:
                spec = ("aws-bedrock", ("endpoint_url",), None)
        if spec is None and name.startswith("openai.") and name.endswith(".create"):
            spec = ("openai", (), self.module.module_base_url)  # module-level client
        if spec is None:
            return
        service, keywords, default = spec
        base = _kw(call, *keywords) if keywords else None
        if base is None:
            url, dynamic = default, False
        else:
            url = _string(base.value)
            dynamic = url is None
            self.judged_urls.add(id(base.value))  # one call, one finding: not again as a URL
        host = re.match(r"https?://([A-Za-z0-9.-]+)", url or "")
        # An OpenAI client pointed at DeepSeek, xAI or OpenRouter uses that service.
        service = (service_of_host(host.group(1)) if host else None) or service
        self.out.calls.append(AICall(service, url, dynamic, self.asset, loc))
        if service not in self.module.services:
            self.module.services[service] = loc.line or 0
            self.out.assets.append(DiscoveredAsset(AI_SERVICE, service, self.asset, loc, name))

    def _model_names(self, call: ast.Call, loc: Location) -> None:
        if not self.module.services:
            return
        keyword = _kw(call, *_MODEL_KEYWORDS)
        model = _string(keyword.value) if keyword else None
        if model and len(model) <= 200 and not model.startswith(("/", ".")):
            self.out.models.append(ModelReference(model, False, self.asset, loc))

    def _gradio(self, call: ast.Call, name: str, loc: Location) -> None:
        if "gradio" not in self.module.services or not isinstance(call.func, ast.Attribute):
            return
        if call.func.attr != "launch" or _kw(call, "auth") is not None:
            return
        host = _string(getattr(_kw(call, "server_name"), "value", None))
        share = _kw(call, "share")
        if host in _ALL_INTERFACES and host is not None:
            self._add(
                rules.EXPOSED_SERVER, loc, f"gradio launch(server_name={host!r}) without auth"
            )
        elif share is not None and _is_const(share.value, True):
            self._add(rules.EXPOSED_SERVER, loc, "gradio launch(share=True) without auth")

    def _api_url(self, url: str, loc: Location) -> None:
        host = re.match(r"https?://([A-Za-z0-9.-]+)", url)
        service = service_of_host(host.group(1)) if host else None
        if service is None:
            return
        self.out.calls.append(AICall(service, url, False, self.asset, loc))
        self.out.assets.append(DiscoveredAsset(AI_SERVICE, service, self.asset, loc, url[:120]))

    def _add(self, rule: Rule, loc: Location, evidence: str) -> None:
        self.out.findings.append(rule.finding(self.asset, loc, evidence))
