"""The interop test cases on grpcio, each asserting what grpc/grpc's
doc/interop-test-descriptions.md says the client asserts (see interop_client.py for what grpcio
cannot check), and the helpers they share.
"""

import queue

import grpc

from testing_protos import (
    ECHO_INITIAL_KEY,
    ECHO_INITIAL_VALUE,
    ECHO_TRAILING_KEY,
    ECHO_TRAILING_VALUE,
    empty_pb2,
    messages_pb2,
    test_pb2_grpc,
)

RPC_TIMEOUT_S = 10
SPECIAL_STATUS_MESSAGE = (
    "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"
)



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
