"""The deployment rules a schema cannot express, checked on rendered Kubernetes manifests.

    python3 deploy/ci/kubernetes_policy.py [--mtls] < rendered.yaml

kubernetes-validate says the manifests are well-formed; this says they are what issue 6 and
the README promise: every Deployment runs 3 replicas, unprivileged (non-root, read-only root
filesystem, no capabilities, no privilege escalation, RuntimeDefault seccomp), with resource
requests and limits, readiness and liveness probes (native gRPC ones for gRPC services, unless
--mtls, where they must not be gRPC because Kubernetes' gRPC probes cannot speak TLS), a
termination grace period above the services' 30 s, no service-link variables, Prometheus scrape
annotations and a PodDisruptionBudget; every service has a headless Service, and
deploy/prometheus/kubernetes.yml scrapes it, as a job of the service's name, on the port its
annotation names; every gRPC service has a ClusterIP Service, every web app a LoadBalancer and
calls its upstream through the headless Service with client-side load balancing on; with --mtls
every Deployment mounts its <name>-tls Secret.
Prints one line per broken rule and exits 1 if there is any.
"""

import sys
from pathlib import Path

import yaml

PROMETHEUS_CONFIG = Path(__file__).resolve().parents[1] / "prometheus" / "kubernetes.yml"

SERVICES_GRACE_SECONDS = 30
GRPC = {"recommendations", "factorial", "demo"}
WEB = {"marketplace", "ncr-gateway"}


def check_deployment(deployment, mtls, fail):
    name = deployment["metadata"]["name"]
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    annotations = spec["template"]["metadata"].get("annotations", {})
    pod_security = pod.get("securityContext", {})

    def require(condition, rule):
        if not condition:
            fail(f"deployment/{name}: {rule}")

    require(spec.get("replicas") == 3, "replicas must be 3")
    require(pod.get("enableServiceLinks") is False, "enableServiceLinks must be false")
    require(
        pod.get("terminationGracePeriodSeconds", 30) > SERVICES_GRACE_SECONDS,
        f"terminationGracePeriodSeconds must exceed the services' {SERVICES_GRACE_SECONDS} s grace",
    )
    require(pod_security.get("runAsNonRoot") is True, "runAsNonRoot must be true")
    require(
        pod_security.get("seccompProfile", {}).get("type") == "RuntimeDefault",
        "seccompProfile must be RuntimeDefault",
    )
    require(annotations.get("prometheus.io/scrape") == "true", "needs prometheus.io/scrape")
    require("prometheus.io/port" in annotations, "needs prometheus.io/port")
    for container in pod["containers"]:
        security = container.get("securityContext", {})
        resources = container.get("resources", {})
        require(
            security.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation: false"
        )
        require(security.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem: true")
        require(security.get("capabilities", {}).get("drop") == ["ALL"], "capabilities drop ALL")
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                require(resource in resources.get(kind, {}), f"resources.{kind}.{resource}")
        for probe in ("readinessProbe", "livenessProbe"):
            require(probe in container, f"needs a {probe}")
            if name in GRPC and probe in container:
                if mtls:
                    require("grpc" not in container[probe], f"{probe} cannot be gRPC over mTLS")
                else:
                    require("grpc" in container[probe], f"{probe} must be a native gRPC probe")
        if name in WEB:
            env = {variable["name"]: variable.get("value") for variable in container.get("env", [])}
            hosts = [value for key, value in env.items() if key.endswith("_HOST")]
            require(
                len(hosts) == 1 and hosts[0].endswith("-headless"),
                "must call its upstream through the headless Service",
            )
            require(env.get("UPSTREAM_LOAD_BALANCE") == "true", "UPSTREAM_LOAD_BALANCE must be on")
        if mtls:
            mounts = {mount["name"] for mount in container.get("volumeMounts", [])}
            require("tls" in mounts, "must mount the tls volume")
    if mtls:
        secrets = {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
        require(f"{name}-tls" in secrets, f"must mount the Secret {name}-tls")


def check_scrape_config(deployments, fail):
    """deploy/prometheus/kubernetes.yml scrapes every Deployment where its annotation says."""
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for name, deployment in deployments.items():
        annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
        port = int(annotations.get("prometheus.io/port", 0))
        wanted = {"names": [f"{name}-headless"], "type": "A", "port": port}
        found = jobs.get(name, {}).get("dns_sd_configs", [])
        if found != [wanted]:
            config = PROMETHEUS_CONFIG.name
            fail(f"{config}: job {name} must have dns_sd_configs {[wanted]}, not {found}")


def main():
    mtls = "--mtls" in sys.argv[1:]
    documents = [d for d in yaml.safe_load_all(sys.stdin) if d]
    by_kind = {}
    for document in documents:
        by_kind.setdefault(document["kind"], {})[document["metadata"]["name"]] = document
    failures = []
    fail = failures.append

    deployments = by_kind.get("Deployment", {})
    services = by_kind.get("Service", {})
    budgets = by_kind.get("PodDisruptionBudget", {})
    if set(deployments) != GRPC | WEB:
        fail(f"expected Deployments {sorted(GRPC | WEB)}, found {sorted(deployments)}")
    for deployment in deployments.values():
        check_deployment(deployment, mtls, fail)
        name = deployment["metadata"]["name"]
        if name not in budgets:
            fail(f"deployment/{name}: needs a PodDisruptionBudget")
    for name in GRPC:
        if services.get(name, {}).get("spec", {}).get("type", "ClusterIP") != "ClusterIP":
            fail(f"service/{name}: must be a ClusterIP Service")
    for name in GRPC | WEB:
        if services.get(f"{name}-headless", {}).get("spec", {}).get("clusterIP") != "None":
            fail(f"service/{name}-headless: must exist and be headless (clusterIP: None)")
    check_scrape_config(deployments, fail)
    for name in WEB:
        if services.get(name, {}).get("spec", {}).get("type") != "LoadBalancer":
            fail(f"service/{name}: must be a LoadBalancer Service")

    for failure in failures:
        print(failure)
    what = "mTLS overlay" if mtls else "base"
    if failures:
        print(f"kubernetes policy ({what}): {len(failures)} rule(s) broken")
        sys.exit(1)
    print(f"kubernetes policy ({what}): {len(documents)} objects, every rule holds")


if __name__ == "__main__":
    main()
