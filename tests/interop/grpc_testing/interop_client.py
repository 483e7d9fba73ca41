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
import atexit
import queue
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

import grpc
from grpc_tools import protoc

REPO_ROOT = Path(__file__).resolve().parents[3]
PROTO_ROOT = REPO_ROOT / "proto" / "third_party"
PROTO_FILES = ("grpc/testing/empty.proto", "grpc/testing/messages.proto", "grpc/testing/test.proto")

RPC_TIMEOUT_S = 10
CONNECT_TIMEOUT_S = 10
ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_INITIAL_VALUE = "test_initial_metadata_value"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"
ECHO_TRAILING_VALUE = b"\xab\xab\xab"
SPECIAL_STATUS_MESSAGE = (
    "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"
)


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


class CaseFailed(Exception):
    """An assertion of a test case did not hold."""


class Context:
    """What a test case runs with: the stubs on one channel, and a list for its notes."""

    def __init__(self, channel):
        self.stub = test_pb2_grpc.TestServiceStub(channel)
        self.unimplemented_stub = test_pb2_grpc.UnimplementedServiceStub(channel)
        self.notes = []

    def note(self, text):
        self.notes.append(text)


class RequestPipe:
    """A request iterator fed one message at a time; the stream half-closes on close()."""

    _CLOSED = object()

    def __init__(self):
        self._queue = queue.Queue()

    def add(self, request):
        self._queue.put(request)

    def close(self):
        self._queue.put(self._CLOSED)

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is self._CLOSED:
            raise StopIteration
        return item

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


# Assertions.


def check(condition, message):
    if not condition:
        raise CaseFailed(message)


def check_equal(actual, expected, what):
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def check_payload(payload, size, what="response payload"):
    check_equal(len(payload.body), size, f"{what} size")
    check(payload.body == bytes(size), f"{what} is not all zeros")


def check_sizes(responses, sizes):
    check_equal([len(r.payload.body) for r in responses], list(sizes), "response payload sizes")
    for response, size in zip(responses, sizes, strict=True):
        check_payload(response.payload, size)


def expect_rpc_error(call, code, details=None):
    """Run ``call()``; it must fail with ``code`` (and ``details``, when given)."""
    try:
        call()
    except grpc.RpcError as error:
        check_equal(error.code(), code, "status code")
        if details is not None:
            check_equal(error.details(), details, "status message")
        return
    raise CaseFailed(f"expected status {code.name}, but the call succeeded")


# Request builders.


def payload(size):
    return messages_pb2.Payload(body=bytes(size))


def large_unary_request(**fields):
    return messages_pb2.SimpleRequest(response_size=314159, payload=payload(271828), **fields)


def duplex_request(response_size, request_size):
    return messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=response_size)],
        payload=payload(request_size),
    )


def bool_value(value):
    return messages_pb2.BoolValue(value=value)


# Test cases, in the order of the descriptions.


def empty_unary(ctx):
    response = ctx.stub.EmptyCall(empty_pb2.Empty(), timeout=RPC_TIMEOUT_S)
    check(isinstance(response, empty_pb2.Empty), f"response is not an Empty: {response!r}")


def large_unary(ctx):
    response = ctx.stub.UnaryCall(large_unary_request(), timeout=RPC_TIMEOUT_S)
    check_payload(response.payload, 314159)


def client_compressed_unary(ctx):
    """Probe (uncompressed, expect_compressed true) must get INVALID_ARGUMENT; then a
    compressed call and an uncompressed one must succeed. The later steps run even when the
    probe fails, so a server that cannot check the flag is told apart from a broken one."""
    probe_error = None
    try:
        expect_rpc_error(
            lambda: ctx.stub.UnaryCall(
                large_unary_request(expect_compressed=bool_value(True)),
                timeout=RPC_TIMEOUT_S,
                compression=grpc.Compression.NoCompression,
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
    except CaseFailed as error:
        probe_error = error
    for compressed, compression in (
        (True, grpc.Compression.Gzip),
        (False, grpc.Compression.NoCompression),
    ):
        response = ctx.stub.UnaryCall(
            large_unary_request(expect_compressed=bool_value(compressed)),
            timeout=RPC_TIMEOUT_S,
            compression=compression,
        )
        check_payload(response.payload, 314159)
    if probe_error:
        raise CaseFailed(f"probe (uncompressed, expect_compressed=true): {probe_error}")


def server_compressed_unary(ctx):
    for compressed in (True, False):
        response = ctx.stub.UnaryCall(
            large_unary_request(response_compressed=bool_value(compressed)), timeout=RPC_TIMEOUT_S
        )
        check_payload(response.payload, 314159)
    ctx.note("not verifiable with grpcio: the compressed flag of each response (sizes checked)")


def client_streaming(ctx):
    requests = [
        messages_pb2.StreamingInputCallRequest(payload=payload(n)) for n in (27182, 8, 1828, 45904)
    ]
    response = ctx.stub.StreamingInputCall(iter(requests), timeout=RPC_TIMEOUT_S)
    check_equal(response.aggregated_payload_size, 74922, "aggregated_payload_size")


def client_compressed_streaming(ctx):
    """Probe (uncompressed, expect_compressed true) must get INVALID_ARGUMENT; then one
    compressed stream of two messages must succeed. As in client_compressed_unary, the second
    step runs even when the probe fails."""

    def streaming_request(size, expect_compressed):
        return messages_pb2.StreamingInputCallRequest(
            payload=payload(size), expect_compressed=bool_value(expect_compressed)
        )

    probe_error = None
    try:
        expect_rpc_error(
            lambda: ctx.stub.StreamingInputCall(
                iter([streaming_request(27182, True)]),
                timeout=RPC_TIMEOUT_S,
                compression=grpc.Compression.NoCompression,
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
    except CaseFailed as error:
        probe_error = error
    response = ctx.stub.StreamingInputCall(
        iter([streaming_request(27182, True), streaming_request(45904, False)]),
        timeout=RPC_TIMEOUT_S,
        compression=grpc.Compression.Gzip,
    )
    check_equal(response.aggregated_payload_size, 73086, "aggregated_payload_size")
    ctx.note(
        "not doable with grpcio: sending the second message (expect_compressed=false) "
        "uncompressed on the compressed stream; it went compressed"
    )
    if probe_error:
        raise CaseFailed(f"probe (uncompressed, expect_compressed=true): {probe_error}")


def server_streaming(ctx):
    sizes = (31415, 9, 2653, 58979)
    request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=n) for n in sizes]
    )
    responses = list(ctx.stub.StreamingOutputCall(request, timeout=RPC_TIMEOUT_S))
    check_sizes(responses, sizes)


def server_compressed_streaming(ctx):
    request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[
            messages_pb2.ResponseParameters(size=31415, compressed=bool_value(True)),
            messages_pb2.ResponseParameters(size=92653, compressed=bool_value(False)),
        ]
    )
    responses = list(ctx.stub.StreamingOutputCall(request, timeout=RPC_TIMEOUT_S))
    check_sizes(responses, (31415, 92653))
    ctx.note("not verifiable with grpcio: the compressed flag of each response (sizes checked)")


def ping_pong(ctx):
    steps = ((31415, 27182), (9, 8), (2653, 1828), (58979, 45904))
    with RequestPipe() as pipe:
        responses = ctx.stub.FullDuplexCall(pipe, timeout=RPC_TIMEOUT_S)
        for response_size, request_size in steps:
            pipe.add(duplex_request(response_size, request_size))
            response = next(responses, None)
            check(response is not None, f"stream ended before the response of size {response_size}")
            check_payload(response.payload, response_size)
        pipe.close()
        extra = list(responses)
    check_equal(len(extra), 0, "responses after the fourth")


def empty_stream(ctx):
    responses = list(ctx.stub.FullDuplexCall(iter([]), timeout=RPC_TIMEOUT_S))
    check_equal(len(responses), 0, "number of responses")


def cancel_after_begin(ctx):
    with RequestPipe() as pipe:
        future = ctx.stub.StreamingInputCall.future(pipe, timeout=RPC_TIMEOUT_S)
        future.cancel()
        check(future.cancelled(), "the call was not cancelled")
        check_equal(future.code(), grpc.StatusCode.CANCELLED, "status code")


def cancel_after_first_response(ctx):
    with RequestPipe() as pipe:
        responses = ctx.stub.FullDuplexCall(pipe, timeout=RPC_TIMEOUT_S)
        pipe.add(duplex_request(31415, 27182))
        check_payload(next(responses).payload, 31415)
        responses.cancel()
        expect_rpc_error(lambda: next(responses), grpc.StatusCode.CANCELLED)


def timeout_on_sleeping_server(ctx):
    with RequestPipe() as pipe:
        responses = ctx.stub.FullDuplexCall(pipe, timeout=0.001)
        pipe.add(messages_pb2.StreamingOutputCallRequest(payload=payload(27182)))
        expect_rpc_error(lambda: list(responses), grpc.StatusCode.DEADLINE_EXCEEDED)


def status_code_and_message(ctx):
    status = messages_pb2.EchoStatus(code=2, message="test status message")
    expect_rpc_error(
        lambda: ctx.stub.UnaryCall(
            messages_pb2.SimpleRequest(response_status=status), timeout=RPC_TIMEOUT_S
        ),
        grpc.StatusCode.UNKNOWN,
        "test status message",
    )
    request = messages_pb2.StreamingOutputCallRequest(response_status=status)
    expect_rpc_error(
        lambda: list(ctx.stub.FullDuplexCall(iter([request]), timeout=RPC_TIMEOUT_S)),
        grpc.StatusCode.UNKNOWN,
        "test status message",
    )


def special_status_message(ctx):
    status = messages_pb2.EchoStatus(code=2, message=SPECIAL_STATUS_MESSAGE)
    expect_rpc_error(
        lambda: ctx.stub.UnaryCall(
            messages_pb2.SimpleRequest(response_status=status), timeout=RPC_TIMEOUT_S
        ),
        grpc.StatusCode.UNKNOWN,
        SPECIAL_STATUS_MESSAGE,
    )


def unimplemented_method(ctx):
    expect_rpc_error(
        lambda: ctx.stub.UnimplementedCall(empty_pb2.Empty(), timeout=RPC_TIMEOUT_S),
        grpc.StatusCode.UNIMPLEMENTED,
    )


def unimplemented_service(ctx):
    expect_rpc_error(
        lambda: ctx.unimplemented_stub.UnimplementedCall(empty_pb2.Empty(), timeout=RPC_TIMEOUT_S),
        grpc.StatusCode.UNIMPLEMENTED,
    )


def check_echoed_metadata(call, what):
    initial = [(k, v) for k, v in call.initial_metadata() if k == ECHO_INITIAL_KEY]
    trailing = [(k, v) for k, v in call.trailing_metadata() if k == ECHO_TRAILING_KEY]
    check_equal(initial, [(ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE)], f"{what} initial metadata")
    check_equal(trailing, [(ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE)], f"{what} trailing metadata")


def custom_metadata(ctx):
    metadata = ((ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE), (ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE))
    response, call = ctx.stub.UnaryCall.with_call(
        large_unary_request(), metadata=metadata, timeout=RPC_TIMEOUT_S
    )
    check_payload(response.payload, 314159)
    check_echoed_metadata(call, "UnaryCall")
    responses = ctx.stub.FullDuplexCall(
        iter([duplex_request(314159, 271828)]), metadata=metadata, timeout=RPC_TIMEOUT_S
    )
    check_sizes(list(responses), (314159,))
    check_echoed_metadata(responses, "FullDuplexCall")


TEST_CASES = {
    case.__name__: case
    for case in (
        empty_unary,
        large_unary,
        client_compressed_unary,
        server_compressed_unary,
        client_streaming,
        client_compressed_streaming,
        server_streaming,
        server_compressed_streaming,
        ping_pong,
        empty_stream,
        cancel_after_begin,
        cancel_after_first_response,
        timeout_on_sleeping_server,
        status_code_and_message,
        special_status_message,
        unimplemented_method,
        unimplemented_service,
        custom_metadata,
    )
}


# Running.


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


def parse_bool(text):
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return lowered == "true"


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
