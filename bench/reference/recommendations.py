"""The tutorial's Recommendations microservice, kept faithful as a Python performance baseline.

This is the server from Real Python's "Python Microservices With gRPC" (thread-pool grpc.server,
nine books, random.sample, NOT_FOUND abort, graceful SIGTERM handling). It is not part of the
product. Only two things differ from the tutorial: the port is configurable and the stubs are
generated at start-up (see legacy_stubs.py).

    python recommendations.py [--port 50051]    # or RECOMMENDATIONS_PORT=50051
"""

import argparse
import os
import random
from concurrent import futures
from signal import SIGTERM, signal

import grpc

import legacy_stubs

legacy_stubs.load()

import recommendations_pb2_grpc  # noqa: E402  (imported by legacy_stubs.load)
from recommendations_pb2 import (  # noqa: E402
    BookCategory,
    BookRecommendation,
    RecommendationResponse,
)

books_by_category = {
    BookCategory.MYSTERY: [
        BookRecommendation(id=1, title="The Maltese Falcon"),
        BookRecommendation(id=2, title="Murder on the Orient Express"),
        BookRecommendation(id=3, title="The Hound of the Baskervilles"),
    ],
    BookCategory.SCIENCE_FICTION: [
        BookRecommendation(id=4, title="The Hitchhiker's Guide to the Galaxy"),
        BookRecommendation(id=5, title="Ender's Game"),
        BookRecommendation(id=6, title="The Dune Chronicles"),
    ],
    BookCategory.SELF_HELP: [
        BookRecommendation(id=7, title="The 7 Habits of Highly Effective People"),
        BookRecommendation(id=8, title="How to Win Friends and Influence People"),
        BookRecommendation(id=9, title="Man's Search for Meaning"),
    ],
}


class RecommendationService(recommendations_pb2_grpc.RecommendationsServicer):
    def Recommend(self, request, context):
        if request.category not in books_by_category:
            context.abort(grpc.StatusCode.NOT_FOUND, "Category not found")

        books_for_category = books_by_category[request.category]
        num_results = min(request.max_results, len(books_for_category))
        books_to_recommend = random.sample(books_for_category, num_results)

        return RecommendationResponse(recommendations=books_to_recommend)


def serve(port: int) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=10))
    recommendations_pb2_grpc.add_RecommendationsServicer_to_server(RecommendationService(), server)
    bound_port = server.add_insecure_port(f"[::]:{port}")
    server.start()
    print(f"Recommendations listening on port {bound_port}", flush=True)

    def handle_sigterm(*_):
        print("Received shutdown signal")
        all_rpcs_done_event = server.stop(30)
        all_rpcs_done_event.wait(30)
        print("Shut down gracefully")

    signal(SIGTERM, handle_sigterm)
    server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.getenv("RECOMMENDATIONS_PORT", "50051")),
        help="port to listen on (default: $RECOMMENDATIONS_PORT or 50051; 0 picks a free one)",
    )
    serve(parser.parse_args().port)


if __name__ == "__main__":
    main()
