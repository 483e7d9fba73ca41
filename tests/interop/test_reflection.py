"""Interop tests: gRPC server reflection on the Recommendations server (RECOMMENDATIONS_ADDR).

Uses grpcio-reflection's client, which speaks grpc.reflection.v1alpha.
"""

import pytest
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

pytestmark = pytest.mark.port_only


def test_lists_the_recommendations_service(recommendations_channel):
    services = ProtoReflectionDescriptorDatabase(recommendations_channel).get_services()
    assert "Recommendations" in services


def test_describes_the_recommend_method(recommendations_channel):
    pool = DescriptorPool(ProtoReflectionDescriptorDatabase(recommendations_channel))
    method = pool.FindServiceByName("Recommendations").FindMethodByName("Recommend")
    assert method.input_type.full_name == "RecommendationRequest"
    assert method.output_type.full_name == "RecommendationResponse"
