"""Interop tests: the tutorial's grpcio client against the Recommendations server.

The target is RECOMMENDATIONS_ADDR (host:port); see conftest.py.
"""

import grpc
import pytest
from recommendations_pb2 import BookCategory, RecommendationRequest
from recommendations_pb2_grpc import RecommendationsStub

TIMEOUT_S = 5

# The tutorial's nine books. The Rust catalog has more books, but keeps these ids in these
# categories.
TUTORIAL_CATEGORY_BY_ID = {
    1: BookCategory.MYSTERY,
    2: BookCategory.MYSTERY,
    3: BookCategory.MYSTERY,
    4: BookCategory.SCIENCE_FICTION,
    5: BookCategory.SCIENCE_FICTION,
    6: BookCategory.SCIENCE_FICTION,
    7: BookCategory.SELF_HELP,
    8: BookCategory.SELF_HELP,
    9: BookCategory.SELF_HELP,
}


@pytest.fixture(scope="module")
def client(recommendations_channel):
    return RecommendationsStub(recommendations_channel)


def recommend(client, category, max_results):
    request = RecommendationRequest(user_id=1, category=category, max_results=max_results)
    return client.Recommend(request, timeout=TIMEOUT_S).recommendations


def assert_books_of_category(books, category):
    ids = [book.id for book in books]
    assert len(set(ids)) == len(ids), f"duplicate ids in {ids}"
    assert all(book.title for book in books), f"empty title in {books}"
    for book in books:
        expected = TUTORIAL_CATEGORY_BY_ID.get(book.id, category)
        assert expected == category, (
            f"book {book.id} ({book.title!r}) is {BookCategory.Name(expected)}, "
            f"not {BookCategory.Name(category)}"
        )


def test_three_mystery_books(client):
    books = recommend(client, BookCategory.MYSTERY, 3)
    assert len(books) == 3
    assert_books_of_category(books, BookCategory.MYSTERY)


@pytest.mark.parametrize("category", BookCategory.values(), ids=BookCategory.Name)
def test_every_category_has_books(client, category):
    books = recommend(client, category, 3)
    assert 1 <= len(books) <= 3
    assert_books_of_category(books, category)


def test_max_results_one(client):
    """The tutorial's own unit test, over the wire."""
    books = recommend(client, BookCategory.MYSTERY, 1)
    assert len(books) == 1
    assert_books_of_category(books, BookCategory.MYSTERY)


def test_max_results_above_catalog_size_is_capped(client):
    """The tutorial caps max_results at the catalog size instead of failing."""
    books = recommend(client, BookCategory.SCIENCE_FICTION, 1000)
    assert 3 <= len(books) < 1000
    assert_books_of_category(books, BookCategory.SCIENCE_FICTION)


def test_unknown_category_is_not_found(client):
    # Proto3 enums are open: a number outside BookCategory still goes over the wire.
    with pytest.raises(grpc.RpcError) as excinfo:
        recommend(client, 42, 3)
    assert excinfo.value.code() == grpc.StatusCode.NOT_FOUND
    assert excinfo.value.details() == "Category not found"


@pytest.mark.port_only
def test_negative_max_results_is_invalid_argument(client):
    with pytest.raises(grpc.RpcError) as excinfo:
        recommend(client, BookCategory.MYSTERY, -1)
    assert excinfo.value.code() == grpc.StatusCode.INVALID_ARGUMENT
