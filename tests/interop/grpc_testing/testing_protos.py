"""The grpc.testing protos for the Python side of the interop matrix, generated at import time,
and what the client and the server share: the echoed metadata keys and the flag parser.

protoc runs (grpc_tools.protoc) into a temporary directory of this process, so a client and a
server started together never race over one output directory.
"""

import argparse
import atexit
import shutil
import tempfile
from pathlib import Path

import grpc
from grpc_tools import protoc

REPO_ROOT = Path(__file__).resolve().parents[3]
PROTO_ROOT = REPO_ROOT / "proto" / "third_party"
PROTO_FILES = ("grpc/testing/empty.proto", "grpc/testing/messages.proto", "grpc/testing/test.proto")

ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_INITIAL_VALUE = "test_initial_metadata_value"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"
ECHO_TRAILING_VALUE = b"\xab\xab\xab"


def load_protos():
    """Generate and import the grpc.testing modules: (empty_pb2, messages_pb2, test_pb2_grpc).

    protoc names the modules ``grpc.testing.*`` after the proto paths, inside grpcio's own
    ``grpc`` package, so the generated ``grpc`` directory is appended to ``grpc.__path__``.
    """
    out_dir = tempfile.mkdtemp(prefix="interop-py-")
    atexit.register(shutil.rmtree, out_dir, ignore_errors=True)
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"--python_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            *(str(PROTO_ROOT / name) for name in PROTO_FILES),
        ]
    )
    if status != 0:
        raise SystemExit(f"grpc_tools.protoc failed (exit {status}) on {PROTO_ROOT}")
    grpc.__path__.append(str(Path(out_dir) / "grpc"))
    from grpc.testing import empty_pb2, messages_pb2, test_pb2_grpc

    return empty_pb2, messages_pb2, test_pb2_grpc


empty_pb2, messages_pb2, test_pb2_grpc = load_protos()





def parse_bool(text):
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return lowered == "true"

