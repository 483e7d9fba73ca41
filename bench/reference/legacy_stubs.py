"""Makes the Python stubs for proto/legacy/recommendations.proto importable.

The reference servers call ``load()`` before importing ``recommendations_pb2`` and
``recommendations_pb2_grpc``. By default the stubs are generated with grpc_tools.protoc into a
temporary directory, imported, and the directory is deleted straight away (the modules stay in
sys.modules); set REFERENCE_STUBS_DIR to a directory that already holds them to skip generation.
Stubs are never committed.
"""

import importlib
import os
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_FILE = REPO_ROOT / "proto" / "legacy" / "recommendations.proto"
STUB_MODULES = ("recommendations_pb2", "recommendations_pb2_grpc")


def generate(out_dir: str) -> None:
    """Compile recommendations.proto into message and gRPC stub modules in ``out_dir``."""
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"--proto_path={PROTO_FILE.parent}",
            f"--proto_path={resources.files('grpc_tools') / '_proto'}",
            f"--python_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            str(PROTO_FILE),
        ]
    )
    if status != 0:
        raise RuntimeError(f"grpc_tools.protoc failed (exit {status}) on {PROTO_FILE}")


def load() -> None:
    """Import the recommendations stubs into sys.modules, generating them unless provided."""
    stubs_dir = os.getenv("REFERENCE_STUBS_DIR")
    if stubs_dir:
        _import_from(stubs_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="reference-stubs-") as tmp_dir:
            generate(tmp_dir)
            _import_from(tmp_dir)


def _import_from(stubs_dir: str) -> None:
    sys.path.insert(0, stubs_dir)
    try:
        for module in STUB_MODULES:
            importlib.import_module(module)
    finally:
        sys.path.remove(stubs_dir)
