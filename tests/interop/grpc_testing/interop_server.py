"""gRPC interop test server on grpcio (gRPC's C core): grpc.testing.TestService as
grpc/grpc's doc/interop-test-descriptions.md describes it, for checking the Rust interop client.

Usage (from the repository root, in a venv with requirements.txt installed)::

    python tests/interop/grpc_testing/interop_server.py --host 127.0.0.1 --port 10000
    python tests/interop/grpc_testing/interop_server.py --port 10000 --use_tls true \
        --cert_file server.pem --key_file server.key

It implements EmptyCall, UnaryCall, StreamingInputCall, StreamingOutputCall and FullDuplexCall
with the features the descriptions name (response sizes, ``interval_us``, compressed
responses, echo status, echo metadata); UnimplementedCall and the other methods answer
UNIMPLEMENTED. It stops cleanly on SIGTERM or SIGINT.

What grpcio cannot do here: a grpcio handler cannot see whether a request message arrived
compressed, so ``expect_compressed`` (the CompressedRequest feature) is not checked. The probe
steps of client_compressed_unary and client_compressed_streaming therefore get OK, not
INVALID_ARGUMENT, from this server; the matrix lists that as a known exception.
"""

import argparse
import signal
import sys
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc

# The protos are generated on import; the client shares them and these constants.
from testing_protos import (
    ECHO_INITIAL_KEY,
    ECHO_TRAILING_KEY,
    empty_pb2,
    messages_pb2,
    parse_bool,
    test_pb2_grpc,
)

STATUS_CODES = {code.value[0]: code for code in grpc.StatusCode}
GRACE_S = 1


def echoed_metadata(context, key):
    return tuple((k, v) for k, v in context.invocation_metadata() if k == key)


def start_response(context, compress):
    """Set the call's compression, then send initial metadata (echoing the initial key) and
    set the trailing metadata (echoing the trailing key). Compression must be chosen before
    initial metadata goes out, since grpcio announces it there."""
    if compress:
        context.set_compression(grpc.Compression.Gzip)
    context.send_initial_metadata(echoed_metadata(context, ECHO_INITIAL_KEY))
    context.set_trailing_metadata(echoed_metadata(context, ECHO_TRAILING_KEY))


def abort_with_echo_status(context, request):
    """Echo Status: end the call with the requested status, when one is set and not OK."""
    if request.HasField("response_status") and request.response_status.code != 0:
        code = STATUS_CODES.get(request.response_status.code, grpc.StatusCode.UNKNOWN)
        context.abort(code, request.response_status.message)


def payload(size):
    return messages_pb2.Payload(body=bytes(size))


def stream_responses(context, request):
    """Yield one response per ResponseParameters: sleep interval_us first, and send it
    uncompressed unless its ``compressed`` is true (the call itself is gzip-compressed)."""
    for params in request.response_parameters:
        time.sleep(params.interval_us / 1e6)
        if not params.compressed.value:
            context.disable_next_message_compression()
        yield messages_pb2.StreamingOutputCallResponse(payload=payload(params.size))


def any_compressed(request):
    return any(params.compressed.value for params in request.response_parameters)


class TestService(test_pb2_grpc.TestServiceServicer):
    """grpc.testing.TestService; methods not defined here answer UNIMPLEMENTED."""

    def EmptyCall(self, request, context):
        start_response(context, compress=False)
        return empty_pb2.Empty()

    def UnaryCall(self, request, context):
        start_response(context, compress=request.response_compressed.value)
        abort_with_echo_status(context, request)
        return messages_pb2.SimpleResponse(payload=payload(request.response_size))

    def StreamingInputCall(self, request_iterator, context):
        # expect_compressed cannot be checked: see the module docstring.
        start_response(context, compress=False)
        size = sum(len(request.payload.body) for request in request_iterator)
        return messages_pb2.StreamingInputCallResponse(aggregated_payload_size=size)

    def StreamingOutputCall(self, request, context):
        start_response(context, compress=any_compressed(request))
        abort_with_echo_status(context, request)
        yield from stream_responses(context, request)

    def FullDuplexCall(self, request_iterator, context):
        """The first request decides whether the call is compressed; a later request asking
        for compressed responses on an uncompressed call gets them uncompressed."""
        first = next(request_iterator, None)
        start_response(context, compress=first is not None and any_compressed(first))
        if first is None:
            return
        abort_with_echo_status(context, first)
        yield from stream_responses(context, first)
        for request in request_iterator:
            abort_with_echo_status(context, request)
            yield from stream_responses(context, request)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--use_tls", type=parse_bool, nargs="?", const=True, default=False)
    parser.add_argument("--cert_file", help="PEM certificate chain, with --use_tls")
    parser.add_argument("--key_file", help="PEM private key, with --use_tls")
    args = parser.parse_args(argv)
    if args.use_tls and not (args.cert_file and args.key_file):
        parser.error("--use_tls needs --cert_file and --key_file")
    return args


def add_port(server, args):
    """Listen on --host:--port; grpcio raises RuntimeError when it cannot bind."""
    address = f"{args.host}:{args.port}"
    if not args.use_tls:
        server.add_insecure_port(address)
        return
    key_pair = (Path(args.key_file).read_bytes(), Path(args.cert_file).read_bytes())
    server.add_secure_port(address, grpc.ssl_server_credentials([key_pair]))


def main(argv=None):
    args = parse_args(argv)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    test_pb2_grpc.add_TestServiceServicer_to_server(TestService(), server)
    add_port(server, args)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    print(f"interop server listening on {args.host}:{args.port} (tls: {args.use_tls})", flush=True)
    stop.wait()
    server.stop(GRACE_S).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
