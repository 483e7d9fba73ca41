"""Interop tests: the standard grpc.health.v1 health check on every target server.

Uses the grpcio-health-checking client; targets are the addresses in conftest.py.
"""

import pytest
from grpc_health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse
from grpc_health.v1.health_pb2_grpc import HealthStub

TIMEOUT_S = 5

pytestmark = pytest.mark.port_only


@pytest.mark.parametrize(
    "channel_fixture",
    ["recommendations_channel", "factorial_channel", "demo_channel"],
    ids=lambda name: name.removesuffix("_channel"),
)
def test_server_reports_serving(request, channel_fixture):
    channel = request.getfixturevalue(channel_fixture)
    response = HealthStub(channel).Check(HealthCheckRequest(service=""), timeout=TIMEOUT_S)
    assert response.status == HealthCheckResponse.SERVING
