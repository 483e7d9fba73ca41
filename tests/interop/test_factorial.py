"""Interop tests: a grpcio client of the nCr article's legacy Factorial service (fact.proto).

The target is FACTORIAL_ADDR (host:port); see conftest.py.
"""

import math

import grpc
import pytest
from fact_pb2 import Number
from fact_pb2_grpc import FactorialStub

TIMEOUT_S = 5


@pytest.fixture(scope="module")
def client(factorial_channel):
    return FactorialStub(factorial_channel)


def factorial(client, value):
    return client.Factorial(Number(value=value), timeout=TIMEOUT_S).value


@pytest.mark.parametrize(("n", "expected"), [(0, 1.0), (1, 1.0), (5, 120.0), (10, 3628800.0)])
def test_exact_factorials(client, n, expected):
    assert factorial(client, n) == expected


def test_largest_factorial_that_fits_a_float(client):
    # 34! ~ 2.95e38 is just below the float32 maximum (~3.40e38).
    assert math.isclose(factorial(client, 34), math.factorial(34), rel_tol=1e-5)


@pytest.mark.port_only
@pytest.mark.parametrize("n", [35, 100])
def test_factorial_overflowing_a_float_is_out_of_range(client, n):
    with pytest.raises(grpc.RpcError) as excinfo:
        factorial(client, n)
    assert excinfo.value.code() == grpc.StatusCode.OUT_OF_RANGE


@pytest.mark.port_only
@pytest.mark.parametrize("value", [-1, -5, 2.5, 0.5])
def test_negative_or_fractional_value_is_invalid_argument(client, value):
    with pytest.raises(grpc.RpcError) as excinfo:
        factorial(client, value)
    assert excinfo.value.code() == grpc.StatusCode.INVALID_ARGUMENT
