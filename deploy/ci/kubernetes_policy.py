"""The deployment rules a schema cannot express, checked on rendered Kubernetes manifests.

    python3 deploy/ci/kubernetes_policy.py [--mtls] [--postgres] < rendered.yaml

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
every Deployment mounts its <name>-tls Secret. Recommendations read DATABASE_URL from the
optional Secret recommendations-database.

With --postgres (deploy/kubernetes/components/postgres is in the rendering, and must be): the
StatefulSet postgres runs one pod as unprivileged as the Deployments (non-root, read-only root
filesystem, no capabilities, no privilege escalation, RuntimeDefault seccomp, no service-account
token, no service links) with resources, readiness and liveness probes, its data on a volume
claim template with fsGroupChangePolicy OnRootMismatch, behind a headless governing Service;
the Secrets it and recommendations read are in the rendering. Without --postgres there is no
StatefulSet.

And the network policies (deploy/kubernetes/base/network-policies.yaml, and the postgres
component's) do what CALLERS below says: a default-deny-ingress policy selects every workload's
pods (Deployments and StatefulSets); each container port is open to exactly its callers in CALLERS
(nobody, if it is not there), and every port a Service exposes has callers there; no gRPC backend
port is open to everywhere; every pod selector, in a policy or in one of its peers, selects some
workload's pods, and every port a policy names is a port of the pods it selects (a typo would
otherwise select nothing, silently); no policy restricts egress.
Prints one line per broken rule and exits 1 if there is any.
"""

import sys
from pathlib import Path

import yaml

PROMETHEUS_CONFIG = Path(__file__).resolve().parents[1] / "prometheus" / "kubernetes.yml"

SERVICES_GRACE_SECONDS = 30
GRPC = {"recommendations", "factorial", "demo"}
WEB = {"marketplace", "ncr-gateway"}

# Who may connect to what: (Deployment, container port name) -> its callers, each a Deployment's
# name or one of the three below. A container port not listed is open to nobody. The manifests'
# NetworkPolicies must say exactly this; change both together.
WORLD = "anywhere"  # every source, inside the cluster or out (no `from`, or ipBlock 0.0.0.0/0)
NAMESPACE = "any pod in the namespace"  # the peer `podSelector: {}`
MONITORING = "prometheus"  # the scraper: the peer MONITORING_PEER
CALLERS = {
    ("recommendations", "grpc"): {"marketplace"},
    ("factorial", "grpc"): {"ncr-gateway"},
    ("demo", "grpc"): {NAMESPACE},  # no caller in the system: its client is run by hand
    ("marketplace", "http"): {WORLD},  # the front doors (their /metrics is on this port too)
    ("ncr-gateway", "http"): {WORLD},
    **{(name, "metrics"): {MONITORING} for name in GRPC},  # the gRPC services' admin ports
}
# The same for the postgres component (deploy/kubernetes/components/postgres), with --postgres.
POSTGRES_CALLERS = {
    ("postgres", "postgres"): {"recommendations"},  # the replicas share the catalog's database
}
# The Secret recommendations read DATABASE_URL from (optional: the built-in catalog without it).
DATABASE_SECRET = {"name": "recommendations-database", "key": "url", "optional": True}
# Who Prometheus is, exactly as the policy prometheus-scrape names it: pods of this namespace,
# where deploy/prometheus/kubernetes.yml runs. Not deployed here, so matching no pod is expected.
MONITORING_PEER = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}
# Peers that are "everywhere": never on a gRPC backend port.
EVERY_POD = "any pod in any namespace"  # namespaceSelector: {} (with no or an empty podSelector)
EVERYWHERE = {WORLD, EVERY_POD}


def check_unprivileged(pod, require):
    """What every pod of the app must be: unprivileged, limited, probed, without service links."""
    pod_security = pod.get("securityContext", {})
    require(pod.get("enableServiceLinks") is False, "enableServiceLinks must be false")
    require(pod_security.get("runAsNonRoot") is True, "runAsNonRoot must be true")
    require(
        pod_security.get("seccompProfile", {}).get("type") == "RuntimeDefault",
        "seccompProfile must be RuntimeDefault",
    )
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


def check_deployment(deployment, mtls, fail):
    name = deployment["metadata"]["name"]
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    annotations = spec["template"]["metadata"].get("annotations", {})

    def require(condition, rule):
        if not condition:
            fail(f"deployment/{name}: {rule}")

    require(spec.get("replicas") == 3, "replicas must be 3")
    require(
        pod.get("terminationGracePeriodSeconds", 30) > SERVICES_GRACE_SECONDS,
        f"terminationGracePeriodSeconds must exceed the services' {SERVICES_GRACE_SECONDS} s grace",
    )
    require(annotations.get("prometheus.io/scrape") == "true", "needs prometheus.io/scrape")
    require("prometheus.io/port" in annotations, "needs prometheus.io/port")
    check_unprivileged(pod, require)
    for container in pod["containers"]:
        if name == "recommendations":
            env = {variable["name"]: variable for variable in container.get("env", [])}
            source = env.get("DATABASE_URL", {}).get("valueFrom", {}).get("secretKeyRef")
            require(
                source == DATABASE_SECRET,
                f"DATABASE_URL must come from the optional Secret key {DATABASE_SECRET}",
            )
        for probe in ("readinessProbe", "livenessProbe"):
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


def check_statefulset(statefulset, services, secrets, fail):
    """The postgres component's database: one unprivileged pod, its data on a claimed volume."""
    name = statefulset["metadata"]["name"]
    spec = statefulset["spec"]
    pod = spec["template"]["spec"]

    def require(condition, rule):
        if not condition:
            fail(f"statefulset/{name}: {rule}")

    # More pods would be more independent databases, not replicas of one.
    require(spec.get("replicas") == 1, "replicas must be 1 (the image does not replicate)")
    require(pod.get("automountServiceAccountToken") is False, "no service-account token")
    check_unprivileged(pod, require)
    require(
        pod.get("securityContext", {}).get("fsGroupChangePolicy") == "OnRootMismatch",
        "fsGroupChangePolicy must be OnRootMismatch (a recursive change makes the data"
        " directory group-writable, which PostgreSQL refuses)",
    )
    claims = {claim["metadata"]["name"] for claim in spec.get("volumeClaimTemplates", [])}
    require(claims, "needs a volumeClaimTemplate for its data")
    for container in pod["containers"]:
        mounts = {mount["name"] for mount in container.get("volumeMounts", [])}
        require(claims <= mounts, f"must mount its claims {sorted(claims)}")
        for source in container.get("envFrom", []):
            if "secretRef" in source and not source["secretRef"].get("optional"):
                wanted = source["secretRef"]["name"]
                require(wanted in secrets, f"reads the Secret {wanted}, which is not there")
    governing = services.get(spec.get("serviceName"), {})
    require(
        governing.get("spec", {}).get("clusterIP") == "None",
        f"its serviceName {spec.get('serviceName')!r} must be a headless Service",
    )


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


def selects(selector, labels):
    """Whether a LabelSelector matches these labels ({} matches everything)."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        matched = {
            "In": lambda: labels.get(key) in values,
            "NotIn": lambda: labels.get(key) not in values,
            "Exists": lambda: key in labels,
            "DoesNotExist": lambda: key not in labels,
        }[operator]()
        if not matched:
            return False
    return True


def pod_labels(deployment):
    return deployment["spec"]["template"]["metadata"].get("labels", {})


def container_ports(deployment):
    """{port name (or number, if unnamed): (number, protocol)} of every container of the pod."""
    ports = {}
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        for port in container.get("ports", []):
            number = port["containerPort"]
            ports[port.get("name", number)] = (number, port.get("protocol", "TCP"))
    return ports


def port_matches(rule_port, name, number, protocol):
    """Whether a NetworkPolicyPort admits this container port."""
    if rule_port.get("protocol", "TCP") != protocol:
        return False
    wanted = rule_port.get("port")
    if wanted is None:
        return True
    if isinstance(wanted, str):
        return wanted == name
    return wanted <= number <= rule_port.get("endPort", wanted)


def policy_types(policy):
    spec = policy["spec"]
    return spec.get("policyTypes") or ["Ingress"] + (["Egress"] if "egress" in spec else [])


def peer_callers(peer, deployments, where, fail):
    """The callers (see CALLERS) one `from` entry admits."""
    if peer == MONITORING_PEER:
        return {MONITORING}
    if "ipBlock" in peer:
        cidr = peer["ipBlock"]["cidr"]
        return {WORLD} if cidr.endswith("/0") else {f"ipBlock {cidr}"}
    if "namespaceSelector" in peer:
        if not peer["namespaceSelector"] and not peer.get("podSelector"):
            return {EVERY_POD}
        # Namespaces' labels are not in the manifests: the only such peer known is MONITORING_PEER.
        return {f"peer {peer} (unknown: not MONITORING_PEER)"}
    selector = peer.get("podSelector", {})
    if not selector:
        return {NAMESPACE}
    selected = {name for name, d in deployments.items() if selects(selector, pod_labels(d))}
    if not selected:
        fail(f"{where}: peer podSelector {selector} selects no pod (a typo?)")
        return {f"podSelector {selector} (no pod)"}
    return selected


def admitted_callers(name, port, policies, selected, deployments):
    """{caller: the policies admitting it} for one container port of one Deployment's pods."""
    number, protocol = container_ports(deployments[name])[port]
    ingress = {n: p for n, p in policies.items() if "Ingress" in policy_types(p)}
    if not any(name in selected[n] for n in ingress):
        return {WORLD: {"no policy: the pod is not isolated"}}
    admitted = {}
    for policy_name, policy in ingress.items():
        if name not in selected[policy_name]:
            continue
        for rule in policy["spec"].get("ingress", []):
            rule_ports = rule.get("ports") or [{"protocol": protocol}]  # none: every port
            if not any(port_matches(p, port, number, protocol) for p in rule_ports):
                continue
            peers = rule.get("from") or [{"ipBlock": {"cidr": "0.0.0.0/0"}}]  # none: everywhere
            for peer in peers:
                for caller in peer_callers(peer, deployments, "", lambda _: None):
                    admitted.setdefault(caller, set()).add(policy_name)
    return admitted


def check_network_policies(deployments, services, policies, callers, fail):
    """The NetworkPolicies admit exactly `callers` (CALLERS, and POSTGRES_CALLERS with
    --postgres); see the module's docstring. `deployments` are all the workloads (Deployments
    and StatefulSets), by name."""
    selected = {}  # policy name -> the workloads whose pods it selects
    for name, policy in policies.items():
        where = f"networkpolicy/{name}"
        selector = policy["spec"]["podSelector"]
        selected[name] = {d for d, dep in deployments.items() if selects(selector, pod_labels(dep))}
        if not selected[name]:
            fail(f"{where}: podSelector {selector} selects no pod (a typo?)")
        if "Egress" in policy_types(policy):
            fail(
                f"{where}: restricts egress, which would need DNS and the OTLP collector let"
                " through (see network-policies.yaml); the policies are ingress-only"
            )
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                peer_callers(peer, deployments, where, fail)
            for rule_port in rule.get("ports", []):
                if "port" in rule_port and not any(
                    port_matches(rule_port, port, number, protocol)
                    for d in selected[name]
                    for port, (number, protocol) in container_ports(deployments[d]).items()
                ):
                    fail(f"{where}: port {rule_port['port']} is no port of the pods it selects")

    for name, deployment in deployments.items():
        where = f"{deployment['kind'].lower()}/{name}"
        if not any(
            name in selected[n] and "Ingress" in policy_types(p) and not p["spec"].get("ingress")
            for n, p in policies.items()
        ):
            fail(f"{where}: no default-deny-ingress NetworkPolicy selects its pods")
        for port, (number, _) in container_ports(deployment).items():
            admitted = admitted_callers(name, port, policies, selected, deployments)
            wanted = callers.get((name, port), set())
            if set(admitted) != wanted:
                got = ", ".join(f"{c} (by {', '.join(sorted(by))})" for c, by in admitted.items())
                fail(
                    f"{where} port {port} ({number}): open to {got or 'nobody'};"
                    f" CALLERS says {', '.join(sorted(wanted)) or 'nobody'}"
                )
            everywhere = EVERYWHERE & set(admitted)
            if (name in GRPC and port == "grpc" or name == "postgres") and everywhere:
                by = sorted(set().union(*(admitted[caller] for caller in everywhere)))
                fail(
                    f"{where}: backend port {number} is open to everywhere"
                    f" (by {', '.join(by)})"
                )

    for name, service in services.items():
        selector = {"matchLabels": service["spec"].get("selector", {})}
        for backend in [d for d in deployments.values() if selects(selector, pod_labels(d))]:
            backend_name, ports = backend["metadata"]["name"], container_ports(backend)
            for service_port in service["spec"].get("ports", []):
                target = service_port.get("targetPort", service_port["port"])
                by_number = {number: port for port, (number, _) in ports.items()}
                port = target if isinstance(target, str) else by_number.get(target, target)
                if port not in ports:
                    fail(f"service/{name}: targetPort {target} is no port of {backend_name}")
                elif (backend_name, port) not in callers:
                    fail(
                        f"service/{name}: exposes {backend_name}'s port {port},"
                        " which CALLERS lets nobody reach"
                    )
    for deployment, port in callers:
        if deployment not in deployments or port not in container_ports(deployments[deployment]):
            fail(f"CALLERS names {deployment}'s port {port}, which does not exist")


def main():
    mtls = "--mtls" in sys.argv[1:]
    postgres = "--postgres" in sys.argv[1:]
    documents = [d for d in yaml.safe_load_all(sys.stdin) if d]
    by_kind = {}
    for document in documents:
        by_kind.setdefault(document["kind"], {})[document["metadata"]["name"]] = document
    failures = []
    fail = failures.append

    deployments = by_kind.get("Deployment", {})
    statefulsets = by_kind.get("StatefulSet", {})
    services = by_kind.get("Service", {})
    budgets = by_kind.get("PodDisruptionBudget", {})
    secrets = by_kind.get("Secret", {})
    if set(deployments) != GRPC | WEB:
        fail(f"expected Deployments {sorted(GRPC | WEB)}, found {sorted(deployments)}")
    for deployment in deployments.values():
        check_deployment(deployment, mtls, fail)
        name = deployment["metadata"]["name"]
        if name not in budgets:
            fail(f"deployment/{name}: needs a PodDisruptionBudget")
    expected_statefulsets = {"postgres"} if postgres else set()
    if set(statefulsets) != expected_statefulsets:
        fail(f"expected StatefulSets {sorted(expected_statefulsets)}, found {sorted(statefulsets)}")
    for statefulset in statefulsets.values():
        check_statefulset(statefulset, services, secrets, fail)
    if postgres:
        url = secrets.get(DATABASE_SECRET["name"], {})
        if DATABASE_SECRET["key"] not in {**url.get("data", {}), **url.get("stringData", {})}:
            name, key = DATABASE_SECRET["name"], DATABASE_SECRET["key"]
            fail(f"secret/{name}: must exist with the key {key}")
    callers = {**CALLERS, **(POSTGRES_CALLERS if postgres else {})}
    for name in GRPC:
        if services.get(name, {}).get("spec", {}).get("type", "ClusterIP") != "ClusterIP":
            fail(f"service/{name}: must be a ClusterIP Service")
    for name in GRPC | WEB:
        if services.get(f"{name}-headless", {}).get("spec", {}).get("clusterIP") != "None":
            fail(f"service/{name}-headless: must exist and be headless (clusterIP: None)")
    check_scrape_config(deployments, fail)
    workloads = {**deployments, **statefulsets}
    check_network_policies(workloads, services, by_kind.get("NetworkPolicy", {}), callers, fail)
    for name in WEB:
        if services.get(name, {}).get("spec", {}).get("type") != "LoadBalancer":
            fail(f"service/{name}: must be a LoadBalancer Service")

    for failure in failures:
        print(failure)
    what = ("mTLS overlay" if mtls else "base") + (" with postgres" if postgres else "")
    if failures:
        print(f"kubernetes policy ({what}): {len(failures)} rule(s) broken")
        sys.exit(1)
    print(f"kubernetes policy ({what}): {len(documents)} objects, every rule holds")


if __name__ == "__main__":
    main()
