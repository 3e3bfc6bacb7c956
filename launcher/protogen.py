"""Generates the Python code for every contract in `protos/` into the `oms` package.

Run `python -m launcher.protogen` after changing a .proto file; a test fails while the
generated code is stale.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

REPO_ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = REPO_ROOT / "protos"
GENERATED_PACKAGE = "oms"
HEADER = '"""Generated from protos/ by `python -m launcher.protogen`; do not edit."""\n'


def proto_files() -> list[Path]:
    return sorted(PROTO_ROOT.rglob("*.proto"))


def _plugin(name: str) -> str:
    """A protoc plugin installed beside this Python (mypy-protobuf's, from the test extras)."""
    found = Path(sys.executable).parent / name
    if not found.exists():
        raise RuntimeError(f"{name} not found beside {sys.executable}: pip install mypy-protobuf")
    return str(found)


def generate(out_dir: Path) -> None:
    """Writes the generated package into `out_dir / "oms"`, replacing what was there."""
    target = out_dir / GENERATED_PACKAGE
    with tempfile.TemporaryDirectory() as scratch:
        well_known = Path(protoc.__file__).parent / "_proto"
        args = [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{well_known}",
            f"--python_out={scratch}",
            f"--grpc_python_out={scratch}",
            # Typed stubs of the messages and the gRPC stubs (mypy-protobuf), so the type
            # checker sees enum values and RPC signatures.
            f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
            f"--mypy_out={scratch}",
            f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
            f"--mypy_grpc_out={scratch}",
            *(str(p.relative_to(PROTO_ROOT)) for p in proto_files()),
        ]
        if protoc.main(args) != 0:
            raise RuntimeError("protoc failed; see its output above")
        produced = Path(scratch) / GENERATED_PACKAGE
        for folder in [produced, *(p for p in produced.rglob("*") if p.is_dir())]:
            (folder / "__init__.py").write_text(HEADER)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(produced, target)


def main() -> int:
    generate(REPO_ROOT)
    print(f"generated {len(proto_files())} proto files into {REPO_ROOT / GENERATED_PACKAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
