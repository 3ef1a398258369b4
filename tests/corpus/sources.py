"""Where each corpus technique was published: advisories, issues, papers, write-ups."""

from __future__ import annotations


def gh(advisory: str, repo: str = "mmaitre314/picklescan") -> str:
    """URL of a GitHub security advisory of `repo` (picklescan by default)."""
    return f"https://github.com/{repo}/security/advisories/{advisory}"


PICKLESCAN_TESTS = "https://github.com/mmaitre314/picklescan/blob/main/tests/init_data_files.py"
PICKLESCAN_22 = "https://github.com/mmaitre314/picklescan/issues/22"
PICKLESCAN_66 = "https://github.com/mmaitre314/picklescan/issues/66"
CVE_2025_1716 = "https://nvd.nist.gov/vuln/detail/CVE-2025-1716"
JFROG_PICKLESCAN = "https://jfrog.com/blog/unveiling-3-zero-day-vulnerabilities-in-picklescan/"
SOUR_PICKLES = (
    "https://sensepost.com/cms/resources/conferences/2011/sour_pickles/"
    "BH_US_11_Slaviero_Sour_Pickles.pdf"
)
NULLIFAI = (
    "https://www.reversinglabs.com/blog/rl-identifies-malware-ml-model-hosted-on-hugging-face"
)
HIDE_AND_SEEK = "https://arxiv.org/abs/2508.19774"
MODELAUDIT_HN = "https://github.com/promptfoo/modelaudit"

MODELSCAN_85 = "https://github.com/protectai/modelscan/issues/85"
MODELSCAN_267 = "https://github.com/protectai/modelscan/issues/267"
MODELSCAN_330 = "https://github.com/protectai/modelscan/issues/330"
MODELSCAN_331 = "https://github.com/protectai/modelscan/issues/331"
MODELSCAN_338 = "https://github.com/protectai/modelscan/issues/338"
MODELSCAN_SETTINGS = "https://github.com/protectai/modelscan/blob/main/modelscan/settings.py"
MODELSCAN_README = "https://github.com/protectai/modelscan#supported-formats"

FICKLING_PR_108 = "https://github.com/trailofbits/fickling/pull/108"
FICKLING_PR_210 = "https://github.com/trailofbits/fickling/pull/210"
FICKLING_TORCH = "https://blog.trailofbits.com/2021/03/15/never-a-dill-moment-exploiting-machine-learning-pickle-files/"

TORCH_CVE_2025_32434 = "https://github.com/pytorch/pytorch/security/advisories/GHSA-53q9-r3pm-6pq6"

KERAS_CVE_2024_3660 = "https://jfrog.com/blog/keras-safe_mode-bypass-vulnerability/"
KERAS_CVE_2025_1550 = "https://github.com/keras-team/keras/security/advisories/GHSA-48g7-3x6r-xfhp"
KERAS_CVE_2025_9905 = "https://nvd.nist.gov/vuln/detail/CVE-2025-9905"
KERAS_CVE_2025_9906 = "https://nvd.nist.gov/vuln/detail/CVE-2025-9906"
KERAS_CVE_2025_8747 = "https://nvd.nist.gov/vuln/detail/CVE-2025-8747"

ONNX_CVE_2022_25882 = "https://nvd.nist.gov/vuln/detail/CVE-2022-25882"
ONNX_CVE_2024_27318 = "https://nvd.nist.gov/vuln/detail/CVE-2024-27318"
ONNX_CVE_2026_27489 = "https://nvd.nist.gov/vuln/detail/CVE-2026-27489"
ONNX_CUSTOM_OPS = "https://onnxruntime.ai/docs/reference/operators/add-custom-op.html"

LLAMA_CPP_SSTI = (
    "https://github.com/abetlen/llama-cpp-python/security/advisories/GHSA-56xg-wfcc-g829"
)
SGLANG_SSTI = "https://kb.cert.org/vuls/id/915947"
PAYLOADS_SSTI = (
    "https://github.com/swisskyrepo/PayloadsAllTheThings/blob/master/"
    "Server%20Side%20Template%20Injection/Python.md"
)

SAFETENSORS_SPEC = "https://github.com/huggingface/safetensors#format"
HF_REMOTE_CODE = "https://huggingface.co/docs/transformers/custom_models"
