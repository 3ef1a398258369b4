"""The catalog of AI SDKs, packages and API hosts that discovery recognises."""

from __future__ import annotations

import re

# Python import -> service name. A dotted key matches that module and its submodules.
PYTHON_MODULES: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google.generativeai": "google-gemini",
    "google.genai": "google-gemini",
    "vertexai": "google-vertex",
    "google.cloud.aiplatform": "google-vertex",
    "azure.ai.openai": "azure-openai",
    "azure.ai.inference": "azure-ai-inference",
    "transformers": "huggingface-transformers",
    "huggingface_hub": "huggingface-hub",
    "datasets": "huggingface-datasets",
    "diffusers": "huggingface-diffusers",
    "sentence_transformers": "sentence-transformers",
    "langchain": "langchain",
    "langchain_core": "langchain",
    "langchain_community": "langchain",
    "langchain_openai": "langchain",
    "langchain_anthropic": "langchain",
    "langchain_aws": "langchain",
    "langchain_google_genai": "langchain",
    "langchain_google_vertexai": "langchain",
    "langchain_huggingface": "langchain",
    "langchain_ollama": "langchain",
    "langgraph": "langchain",
    "llama_index": "llamaindex",
    "vllm": "vllm",
    "ollama": "ollama",
    "cohere": "cohere",
    "mistralai": "mistral",
    "groq": "groq",
    "replicate": "replicate",
    "together": "together",
    "fireworks": "fireworks",
    "litellm": "litellm",
    "gradio": "gradio",
    "chromadb": "chroma",
    "pinecone": "pinecone",
    "qdrant_client": "qdrant",
    "weaviate": "weaviate",
    "pymilvus": "milvus",
    "faiss": "faiss",
    "lancedb": "lancedb",
}
VECTOR_STORE_SERVICES = frozenset(
    {"chroma", "pinecone", "qdrant", "weaviate", "milvus", "faiss", "lancedb"}
)

# npm package (or scope prefix ending in "/") -> service.
NPM_PACKAGES: dict[str, str] = {
    "openai": "openai",
    "@anthropic-ai/sdk": "anthropic",
    "@google/generative-ai": "google-gemini",
    "@google/genai": "google-gemini",
    "@google-cloud/vertexai": "google-vertex",
    "@aws-sdk/client-bedrock-runtime": "aws-bedrock",
    "@aws-sdk/client-bedrock": "aws-bedrock",
    "@azure/openai": "azure-openai",
    "@huggingface/inference": "huggingface-hub",
    "@huggingface/hub": "huggingface-hub",
    "@huggingface/transformers": "huggingface-transformers",
    "@xenova/transformers": "huggingface-transformers",
    "langchain": "langchain",
    "@langchain/": "langchain",
    "llamaindex": "llamaindex",
    "ollama": "ollama",
    "cohere-ai": "cohere",
    "@mistralai/mistralai": "mistral",
    "groq-sdk": "groq",
    "replicate": "replicate",
    "@ai-sdk/": "vercel-ai-sdk",
    "@pinecone-database/pinecone": "pinecone",
    "chromadb": "chroma",
}

# Go module path prefix -> service.
GO_MODULES: dict[str, str] = {
    "github.com/sashabaranov/go-openai": "openai",
    "github.com/openai/openai-go": "openai",
    "github.com/anthropics/anthropic-sdk-go": "anthropic",
    "github.com/aws/aws-sdk-go-v2/service/bedrockruntime": "aws-bedrock",
    "github.com/aws/aws-sdk-go-v2/service/bedrock": "aws-bedrock",
    "github.com/tmc/langchaingo": "langchain",
    "github.com/ollama/ollama/api": "ollama",
    "cloud.google.com/go/vertexai": "google-vertex",
    "github.com/google/generative-ai-go": "google-gemini",
    "google.golang.org/genai": "google-gemini",
    "github.com/Azure/azure-sdk-for-go/sdk/ai/azopenai": "azure-openai",
}

# Java/Kotlin/Scala package prefix -> service.
JVM_PACKAGES: dict[str, str] = {
    "com.openai": "openai",
    "com.theokanning.openai": "openai",
    "com.anthropic": "anthropic",
    "software.amazon.awssdk.services.bedrockruntime": "aws-bedrock",
    "software.amazon.awssdk.services.bedrock": "aws-bedrock",
    "com.google.cloud.vertexai": "google-vertex",
    "com.azure.ai.openai": "azure-openai",
    "dev.langchain4j": "langchain",
    "io.github.ollama4j": "ollama",
    "ai.djl.huggingface": "huggingface-transformers",
}

# PyPI distribution names of AI SDKs (requirements files, pyproject dependencies).
PYPI_PACKAGES: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google-generativeai": "google-gemini",
    "google-genai": "google-gemini",
    "google-cloud-aiplatform": "google-vertex",
    "azure-ai-openai": "azure-openai",
    "azure-ai-inference": "azure-ai-inference",
    "transformers": "huggingface-transformers",
    "huggingface-hub": "huggingface-hub",
    "diffusers": "huggingface-diffusers",
    "sentence-transformers": "sentence-transformers",
    "langchain": "langchain",
    "langchain-core": "langchain",
    "langchain-community": "langchain",
    "langchain-openai": "langchain",
    "langchain-anthropic": "langchain",
    "langgraph": "langchain",
    "llama-index": "llamaindex",
    "llama-index-core": "llamaindex",
    "vllm": "vllm",
    "ollama": "ollama",
    "cohere": "cohere",
    "mistralai": "mistral",
    "groq": "groq",
    "replicate": "replicate",
    "together": "together",
    "fireworks-ai": "fireworks",
    "litellm": "litellm",
    "chromadb": "chroma",
    "pinecone": "pinecone",
    "pinecone-client": "pinecone",
    "qdrant-client": "qdrant",
    "weaviate-client": "weaviate",
    "pymilvus": "milvus",
    "faiss-cpu": "faiss",
    "faiss-gpu": "faiss",
    "lancedb": "lancedb",
}

# Hosts of hosted AI APIs -> service. A URL to one of these is an AI call.
API_HOSTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), service)
    for pattern, service in (
        (r"^api\.openai\.com$", "openai"),
        (r"^api\.anthropic\.com$", "anthropic"),
        (r"^generativelanguage\.googleapis\.com$", "google-gemini"),
        (r"^(?:[a-z0-9-]+-)?aiplatform\.googleapis\.com$", "google-vertex"),
        (
            r"^bedrock(?:-runtime|-agent-runtime)?(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com$",
            "aws-bedrock",
        ),
        (r"^[a-z0-9-]+\.openai\.azure\.com$", "azure-openai"),
        (r"^(?:api-inference|router)\.huggingface\.co$", "huggingface-inference"),
        (r"^api\.cohere\.(?:ai|com)$", "cohere"),
        (r"^api\.mistral\.ai$", "mistral"),
        (r"^api\.groq\.com$", "groq"),
        (r"^api\.replicate\.com$", "replicate"),
        (r"^api\.together\.(?:xyz|ai)$", "together"),
        (r"^api\.x\.ai$", "xai"),
        (r"^api\.deepseek\.com$", "deepseek"),
        (r"^api\.perplexity\.ai$", "perplexity"),
        (r"^api\.fireworks\.ai$", "fireworks"),
        (r"^openrouter\.ai$", "openrouter"),
    )
)
# A quoted http(s) URL; the host is checked against API_HOSTS.
URL_IN_QUOTES = re.compile(r"""["'`](https?://([A-Za-z0-9.-]+)(?::\d+)?(?:/[^"'`\s]*)?)["'`]""")


def service_of_module(module: str, table: dict[str, str]) -> str | None:
    """The service of a dotted (or slashed) module name, by its longest catalogued prefix."""
    name = module
    sep = "/" if "/" in module else "."
    while name:
        service = table.get(name)
        if service is not None:
            return service
        if sep not in name:
            return None
        name = name.rsplit(sep, 1)[0]
    return None


def service_of_host(host: str) -> str | None:
    host = host.lower().rstrip(".")
    for pattern, service in API_HOSTS:
        if pattern.match(host):
            return service
    return None
