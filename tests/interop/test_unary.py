"""Interop tests: grpcio clients of the streaming article's unary and bidirectional services.

Both services are served at DEMO_ADDR (host:port); see conftest.py.
"""

import queue

import bidirectional_pb2
import bidirectional_pb2_grpc
import pytest
import unary_pb2
import unary_pb2_grpc

TIMEOUT_S = 5
# Distinct and none a substring of another, so a reply can be matched to what was sent.
STREAMED_TEXTS = ["alpha message", "bravo message", "charlie message"]


@pytest.fixture(scope="module")
def unary_client(demo_channel):
    return unary_pb2_grpc.UnaryStub(demo_channel)


@pytest.fixture(scope="module")
def bidirectional_client(demo_channel):
    return bidirectional_pb2_grpc.BidirectionalStub(demo_channel)


def test_unary_acknowledges_the_message(unary_client):
    text = "Hello Server! Are you listening?"
    response = unary_client.GetServerResponse(unary_pb2.Message(message=text), timeout=TIMEOUT_S)
    assert response.received is True
    assert text in response.message


def test_bidirectional_answers_every_message_in_order(bidirectional_client):
    def requests():
        for text in STREAMED_TEXTS:
            yield bidirectional_pb2.Message(message=text)

    responses = list(bidirectional_client.GetServerResponse(requests(), timeout=TIMEOUT_S))
    assert len(responses) == len(STREAMED_TEXTS)
    for sent, response in zip(STREAMED_TEXTS, responses, strict=True):
        assert sent in response.message


def test_bidirectional_answers_before_the_client_stream_ends(bidirectional_client):
    """Each reply must arrive while the request stream is still open (ping-pong)."""
    outbox = queue.Queue()

    def requests():
        while (message := outbox.get()) is not None:
            yield message

    call = bidirectional_client.GetServerResponse(requests(), timeout=TIMEOUT_S)
    try:
        for text in STREAMED_TEXTS:
            outbox.put(bidirectional_pb2.Message(message=text))
            assert text in next(call).message
        outbox.put(None)
        assert list(call) == []
    finally:
        outbox.put(None)
        call.cancel()
