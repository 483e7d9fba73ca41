"""The tutorial's Flask Marketplace microservice, kept faithful as a Python performance baseline.

The homepage asks the Recommendations service for three mystery books over one global gRPC
channel, exactly as in Real Python's "Python Microservices With gRPC". It is not part of the
product. RECOMMENDATIONS_HOST (default localhost) and RECOMMENDATIONS_PORT (default 50051) say
where the Recommendations service is.

    python marketplace.py [--port 5000]           # Flask's threaded development server
    gunicorn -w 2 --threads 4 marketplace:app     # gunicorn (without --preload)
"""

import argparse
import os

import grpc
from flask import Flask, render_template

import legacy_stubs

legacy_stubs.load()

from recommendations_pb2 import BookCategory, RecommendationRequest  # noqa: E402
from recommendations_pb2_grpc import RecommendationsStub  # noqa: E402

app = Flask(__name__)

recommendations_host = os.getenv("RECOMMENDATIONS_HOST", "localhost")
recommendations_port = os.getenv("RECOMMENDATIONS_PORT", "50051")
recommendations_channel = grpc.insecure_channel(f"{recommendations_host}:{recommendations_port}")
recommendations_client = RecommendationsStub(recommendations_channel)


@app.route("/")
def render_homepage():
    recommendations_request = RecommendationRequest(
        user_id=1, category=BookCategory.MYSTERY, max_results=3
    )
    recommendations_response = recommendations_client.Recommend(recommendations_request)
    return render_template(
        "homepage.html",
        recommendations=recommendations_response.recommendations,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to bind (default: 5000)")
    args = parser.parse_args()
    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
