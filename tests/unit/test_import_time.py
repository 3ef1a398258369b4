import subprocess
import sys


def test_import_garrison_loads_no_heavy_modules() -> None:
    code = (
        "import sys, garrison; "
        "heavy = [m for m in ('torch', 'numpy', 'sklearn', 'onnx', 'h5py', 'pydantic', 'rich')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_scanner_modules_do_not_import_heavy_libraries() -> None:
    code = (
        "import sys; from garrison.rules import all_rules; all_rules(); "
        "heavy = [m for m in ('torch', 'numpy', 'sklearn', 'onnx', 'h5py', 'keras')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
