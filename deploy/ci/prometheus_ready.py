"""Asks a running Prometheus whether it sees the whole bookstore, as deploy/ci/compose.sh needs.

    python3 deploy/ci/prometheus_ready.py http://127.0.0.1:9090

Succeeds (exit 0) when every job of deploy/prometheus/prometheus.yml has at least one target
and every target is up, the rule files loaded without error, and each recording rule below
returns a number for the series it names -- which needs traffic across a few scrapes, so the
caller keeps sending requests while it polls this. Otherwise prints what is missing, exits 1.
"""

import json
import math
import sys
import urllib.parse
import urllib.request

JOBS = {"recommendations", "marketplace", "factorial", "ncr-gateway", "demo", "prometheus"}

# Recording rules, and the series of each that traffic to the homepage and /api/ncr makes.
# (Quantiles of a method nobody calls are NaN, so each names the API version the marketplace calls.)
RECOMMEND = (
    'job="recommendations",'
    'grpc_service="bookstore.recommendations.v1.RecommendationsService",grpc_method="Recommend"'
)
RECORDED = [
    f"job_grpc_method:grpc_server_handled:rate5m{{{RECOMMEND}}}",
    f"job_grpc_method:grpc_server_errors:ratio_rate5m{{{RECOMMEND}}}",
    f"job_grpc_method:grpc_server_handling_seconds:p99_rate5m{{{RECOMMEND}}}",
    'job_grpc_method:grpc_server_handled:rate5m{job="factorial",grpc_method="Factorial"}',
    'job_grpc_method:grpc_client_errors:ratio_rate5m{job="ncr-gateway",grpc_method="Factorial"}',
    'job_route:http_requests:rate5m{job="marketplace",route="/"}',
    'job_route:http_request_errors:ratio_rate5m{job="marketplace",route="/"}',
    'job_route:http_request_duration_seconds:p50_rate5m{job="ncr-gateway",route="/api/ncr/{n}/{r}"}',  # noqa: E501
    'slo:sli_error:ratio_rate5m{slo="recommend-availability"}',
    'slo:sli_error:ratio_rate5m{slo="homepage-availability"}',
    'slo:sli_error:ratio_rate5m{slo="homepage-latency"}',
]


def get(base, path, **params):
    url = f"{base}{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=5) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(f"{url}: {body}")
    return body["data"]


def problems(base):
    targets = get(base, "/api/v1/targets", state="active")["activeTargets"]
    jobs = {target["labels"]["job"] for target in targets}
    yield from (f"no target for job {job}" for job in sorted(JOBS - jobs))
    for target in targets:
        if target["health"] != "up":
            yield f"target {target['scrapeUrl']} is {target['health']}: {target.get('lastError')}"
    for group in get(base, "/api/v1/rules")["groups"]:
        for rule in group["rules"]:
            if rule.get("health") == "err":
                yield f"rule {rule['name']}: {rule.get('health')} {rule.get('lastError')}"
    for query in RECORDED:
        result = get(base, "/api/v1/query", query=query)["result"]
        values = [float(sample["value"][1]) for sample in result]
        if not values or any(math.isnan(value) for value in values):
            yield f"{query}: {values or 'no series'}"


def main():
    found = list(problems(sys.argv[1].rstrip("/")))
    for problem in found:
        print(problem)
    if found:
        sys.exit(1)
    print(f"every target of {len(JOBS)} jobs up; {len(RECORDED)} recorded series have values")


if __name__ == "__main__":
    main()
