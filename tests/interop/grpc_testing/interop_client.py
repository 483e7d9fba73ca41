"""gRPC interop test client on grpcio (gRPC's C core), written from grpc/grpc's
doc/interop-test-descriptions.md, for checking the Rust interop server.

Usage (from the repository root, in a venv with requirements.txt installed)::

    python tests/interop/grpc_testing/interop_client.py \
        --server_host 127.0.0.1 --server_port 10000 --test_case all

Exit status 0 when every selected case passed, 1 otherwise; each case prints one
``PASS name`` or ``FAIL name: reason`` line, and ``NOTE name: ...`` lines for what grpcio
cannot verify.

The Python modules for proto/third_party/grpc/testing/*.proto are generated at start-up
with grpc_tools.protoc into a temporary directory of this process (so a client and a server
started together never race over one output directory) and imported from there.

What grpcio cannot do, and so what these cases do not check:

* it cannot read a received message's compressed flag, so server_compressed_unary and
  server_compressed_streaming check sizes only, not the flag;
* it compresses per call, never per message: the "compressed" messages go on a call made with
  ``compression=grpc.Compression.Gzip``, the uncompressed probes on a call without compression,
  and in client_compressed_streaming the second message (``expect_compressed: false``) goes
  compressed too, since it shares the stream with the first.
"""

import argparse
import sys
import traceback
from pathlib import Path

import grpc

from client_cases import TEST_CASES, CaseFailed, Context
from testing_protos import parse_bool

CONNECT_TIMEOUT_S = 10


def run_case(name, channel):
    """Run one case, print its PASS/FAIL line and notes, and return whether it passed."""
    ctx = Context(channel)
    try:
        TEST_CASES[name](ctx)
        outcome = f"PASS {name}"
    except CaseFailed as error:
        outcome = f"FAIL {name}: {error}"
    except grpc.RpcError as error:
        outcome = f"FAIL {name}: unexpected status {error.code().name}: {error.details()!r}"
    except Exception:  # noqa: BLE001 - a crash in a case is that case's failure, not the run's
        outcome = f"FAIL {name}: {traceback.format_exc()}"
    for note in ctx.notes:
        print(f"NOTE {name}: {note}", flush=True)
    print(outcome, flush=True)
    return outcome.startswith("PASS")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server_host", default="localhost")
    parser.add_argument("--server_port", type=int, required=True)
    parser.add_argument(
        "--server_host_override", help="TLS name and :authority (default: --server_host)"
    )
    parser.add_argument("--test_case", required=True, choices=[*TEST_CASES, "all"])
    parser.add_argument("--use_tls", type=parse_bool, nargs="?", const=True, default=False)
    parser.add_argument(
        "--use_test_ca",
        type=parse_bool,
        nargs="?",
        const=True,
        default=False,
        help="trust only --ca_file instead of the system roots",
    )
    parser.add_argument(
        "--ca_file", help="PEM file of the CA to trust (instead of the system roots)"
    )
    args = parser.parse_args(argv)
    if args.use_test_ca and not args.ca_file:
        parser.error("--use_test_ca needs --ca_file")
    return args


def open_channel(args):
    target = f"{args.server_host}:{args.server_port}"
    options = []
    if args.server_host_override:
        options.append(("grpc.default_authority", args.server_host_override))
    if not args.use_tls:
        return grpc.insecure_channel(target, options=options)
    if args.server_host_override:
        options.append(("grpc.ssl_target_name_override", args.server_host_override))
    roots = Path(args.ca_file).read_bytes() if args.ca_file else None
    return grpc.secure_channel(
        target, grpc.ssl_channel_credentials(root_certificates=roots), options=options
    )


def main(argv=None):
    args = parse_args(argv)
    names = list(TEST_CASES) if args.test_case == "all" else [args.test_case]
    with open_channel(args) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=CONNECT_TIMEOUT_S)
        except grpc.FutureTimeoutError:
            print(
                f"FAIL: no connection to {args.server_host}:{args.server_port} "
                f"within {CONNECT_TIMEOUT_S}s",
                file=sys.stderr,
            )
            return 1
        results = [run_case(name, channel) for name in names]
    failed = results.count(False)
    if args.test_case == "all":
        print(f"{results.count(True)} passed, {failed} failed")
    if failed:
        print(f"interop client: {failed} case(s) failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
