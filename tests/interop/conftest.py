"""Shared set-up for the Python grpcio interop tests that run against the Rust servers.

Usage (from the repository root)::

    python -m pip install -r tests/interop/requirements.txt
    RECOMMENDATIONS_ADDR=localhost:50051 FACTORIAL_ADDR=localhost:50052 \
        DEMO_ADDR=localhost:50053 pytest tests/interop -q

When pytest starts, the Python stubs for ``proto/legacy/*.proto`` are generated with
``grpc_tools.protoc`` into a temporary directory that is put on ``sys.path``; they are removed
again when the run ends and are never committed.

Each target comes from an environment variable holding ``host:port``:

* ``RECOMMENDATIONS_ADDR``: the ``Recommendations`` service (recommendations.proto);
* ``FACTORIAL_ADDR``: the legacy ``Factorial`` service (fact.proto);
* ``DEMO_ADDR``: the ``unary.Unary`` and ``bidirectional.Bidirectional`` services.

A test whose variable is unset is skipped, and the skip reason and a closing summary name the
variable. Set ``INTEROP_REQUIRE_ALL=1`` (e.g. in CI) to turn an unset variable into a failure.

Tests marked ``port_only`` check behaviour the Rust port adds beyond the original tutorials
(input validation, health checking, reflection). Deselect them with ``-m "not port_only"`` when
pointing the suite at the faithful Python reference server in ``bench/reference``.
"""

import os
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

import grpc
import pytest
from grpc_tools import protoc

REPO_ROOT = Path(__file__).resolve().parents[2]
LEGACY_PROTO_DIR = REPO_ROOT / "proto" / "legacy"
CONNECT_TIMEOUT_S = 10

_STUBS_DIR_KEY = pytest.StashKey[str]()
_UNSET_VARS_KEY = pytest.StashKey[set]()


def generate_stubs(out_dir: str) -> None:
    """Compile every legacy .proto into Python message and gRPC stub modules in ``out_dir``."""
    protos = sorted(str(path) for path in LEGACY_PROTO_DIR.glob("*.proto"))
    if not protos:
        raise pytest.UsageError(f"no .proto files found in {LEGACY_PROTO_DIR}")
    well_known_protos = resources.files("grpc_tools") / "_proto"
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"--proto_path={LEGACY_PROTO_DIR}",
            f"--proto_path={well_known_protos}",
            f"--python_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            *protos,
        ]
    )
    if status != 0:
        raise pytest.UsageError(f"grpc_tools.protoc failed (exit {status}) on {LEGACY_PROTO_DIR}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "port_only: behaviour the Rust port adds beyond the original tutorials "
        "(validation, health, reflection); the Python reference server lacks it",
    )
    stubs_dir = tempfile.mkdtemp(prefix="interop-stubs-")
    generate_stubs(stubs_dir)
    sys.path.insert(0, stubs_dir)
    config.stash[_STUBS_DIR_KEY] = stubs_dir
    config.stash[_UNSET_VARS_KEY] = set()


def pytest_unconfigure(config: pytest.Config) -> None:
    stubs_dir = config.stash.get(_STUBS_DIR_KEY, None)
    if stubs_dir is not None:
        if stubs_dir in sys.path:
            sys.path.remove(stubs_dir)
        shutil.rmtree(stubs_dir, ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    unset = config.stash.get(_UNSET_VARS_KEY, set())
    if unset:
        terminalreporter.section("interop targets not configured", sep="!", yellow=True)
        for var in sorted(unset):
            terminalreporter.write_line(
                f"{var} is not set: the tests that need it were SKIPPED, not run", yellow=True
            )


def _target_address(config: pytest.Config, var: str) -> str:
    """Return ``host:port`` from ``var``, or skip (fail under INTEROP_REQUIRE_ALL=1) if unset."""
    address = os.environ.get(var, "").strip()
    if address:
        return address
    reason = f"{var} is not set: export {var}=host:port to run these interop tests"
    if os.environ.get("INTEROP_REQUIRE_ALL") == "1":
        pytest.fail(f"{reason} (INTEROP_REQUIRE_ALL=1)", pytrace=False)
    config.stash[_UNSET_VARS_KEY].add(var)
    pytest.skip(reason)


def _open_channel(config: pytest.Config, var: str):
    """Yield an insecure channel to the target named by ``var`` once it is connected."""
    address = _target_address(config, var)
    with grpc.insecure_channel(address) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=CONNECT_TIMEOUT_S)
        except grpc.FutureTimeoutError:
            pytest.fail(
                f"{var}={address}: could not connect within {CONNECT_TIMEOUT_S} s", pytrace=False
            )
        yield channel


@pytest.fixture(scope="session")
def recommendations_channel(pytestconfig):
    """Channel to the Recommendations server at RECOMMENDATIONS_ADDR."""
    yield from _open_channel(pytestconfig, "RECOMMENDATIONS_ADDR")


@pytest.fixture(scope="session")
def factorial_channel(pytestconfig):
    """Channel to the legacy Factorial server at FACTORIAL_ADDR."""
    yield from _open_channel(pytestconfig, "FACTORIAL_ADDR")


@pytest.fixture(scope="session")
def demo_channel(pytestconfig):
    """Channel to the server of the unary and bidirectional demo services at DEMO_ADDR."""
    yield from _open_channel(pytestconfig, "DEMO_ADDR")
