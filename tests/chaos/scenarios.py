"""The chaos suite's scenarios: each puts load on the system through `loadgen`, does one kind of
harm on a schedule, and returns what loadgen measured with the targets it is judged by.

A scenario returns a dict: `loads` (loadgen's figures by label), `events` (what was done, when,
in seconds from the load's start), `targets` (each a `Target`), `notes`. A target is `gating`
when CI fails on a miss (scenarios 1-3: counts, not timings); the others are timing-based on a
shared 2-core machine and only reported. Durations come from `Settings`, short or full.
"""

import json
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cluster import (ADMIN_PORT, DEGRADED_TEXT, GRPC_PORT, LONE_ADMIN, LONE_IP, LONE_PORT, REPLICA_IPS,
                     Cluster, help_has, proc_sample, wait_until, http_ok)

WARMUP_S = 1.0  # loadgen's unmeasured warm-up before each measured window
LOAD_MARGIN_S = 60.0  # how long a loadgen may outlast its own duration before it is killed


@dataclass
class Settings:
    """How long each scenario runs: the short (CI) or the full suite."""
    fault_s: float  # scenarios 1 and 3: the measured window
    rolling_s: float  # scenario 2's window (the restarts must fit in it)
    slow_s: float  # baseline and slow-replica windows
    soak_s: float
    soak_warmup_s: float
    sample_every_s: float
    homepage_rate: float  # open-loop pages/s for the p99 comparisons and the soak


SHORT = Settings(12, 20, 10, 120, 30, 5, 300)
FULL = Settings(30, 40, 30, 600, 60, 5, 300)


def target(what, goal, measured, ok, gating=False):
    """One target's verdict."""
    return {"what": what, "goal": goal, "measured": measured,
            "verdict": "PASS" if ok else "MISS", "gating": gating}


class Ctx:
    """What every scenario needs: the binaries, where to write, the settings."""

    def __init__(self, bin_dir: Path, out: Path, settings: Settings, machine):
        self.bin, self.out, self.s, self.machine = bin_dir, out, settings, machine

    def load(self, label: str, seconds: float, args: list[str]) -> "Load":
        return Load(self, label, seconds, args)


class Load:
    """One loadgen run of `seconds` (after the warm-up) in the background; `result()` waits
    for it (killing it, and failing, once it is LOAD_MARGIN_S late) and reads its JSON."""

    def __init__(self, ctx: Ctx, label: str, seconds: float, args: list[str]):
        self.json = ctx.out / f"{label}.json"
        self.json.unlink(missing_ok=True)
        self.label = label
        self.started = time.monotonic()
        self.deadline = self.started + WARMUP_S + seconds + LOAD_MARGIN_S
        self.child = ctx.machine.spawn(
            [str(ctx.bin / "loadgen"), *args, "-d", f"{seconds}s", "--label", label,
             "--warmup", f"{WARMUP_S}s", "-q", "--json", str(self.json)],
            ctx.out / "logs" / f"loadgen-{label}.log")

    def at(self, seconds: float) -> None:
        """Sleeps until `seconds` after the load started."""
        time.sleep(max(0.0, self.started + seconds - time.monotonic()))

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 2)

    def result(self) -> dict:
        try:
            self.child.wait(timeout=max(0.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait()
            raise RuntimeError(f"loadgen {self.label} still running {LOAD_MARGIN_S:.0f} s past "
                               "its duration; killed") from None
        if not self.json.exists():
            raise RuntimeError(f"loadgen {self.label} wrote no result (exit {self.child.returncode})")
        report = json.loads(self.json.read_text())
        by = report.get("latency_by_outcome", {})
        return {
            "requests": report["requests"], "ok": report["ok"],
            "failed": report["requests"] - report["ok"], "errors": report["errors"],
            "degraded": report["errors"].get("degraded", 0),
            "p50_ms": report["latency"]["p50_us"] / 1e3,
            "p99_ms": report["latency"]["p99_us"] / 1e3,
            "by_outcome_ms": {k: {"p50": v["p50_us"] / 1e3, "p99": v["p99_us"] / 1e3,
                                  "max": v["max_us"] / 1e3} for k, v in by.items()},
            "rate": report["rate"], "elapsed_s": report["elapsed_s"],
        }


def homepage(ctx: Ctx, cluster: Cluster, label: str, seconds: float, rate=None) -> Load:
    """Homepage load from 8 clients (closed loop, or open at `rate`); degraded pages fail."""
    args = ["homepage", "--url", cluster.market_url(), "-c", "8",
            "--timeout", "5s", "--fail-if-body-contains", DEGRADED_TEXT]
    return ctx.load(label, seconds, args + (["--rate", str(rate)] if rate else []))


def clean(result: dict) -> tuple[str, bool]:
    """The gating figure of scenarios 1-3: failed calls (degraded pages among them)."""
    return (f"{result['failed']} failed ({result['degraded']} degraded) of "
            f"{result['requests']}", result["failed"] == 0)


def kill9(ctx: Ctx, cluster: Cluster) -> dict:
    """1. A replica killed with -9 under homepage load, restarted later."""
    window, victim = ctx.s.fault_s, REPLICA_IPS[1]
    load = homepage(ctx, cluster, "kill9", window)
    events = []
    load.at(WARMUP_S + window * 0.25)
    cluster.kill_replica(victim)
    events.append((load.elapsed(), f"kill -9 {victim}"))
    load.at(WARMUP_S + window * 0.6)
    ready = cluster.start_replica(victim)
    events.append((load.elapsed(), f"{victim} restarted, healthy after {ready:.2f} s"))
    result = load.result()
    measured, ok = clean(result)
    return {"loads": {"homepage": result}, "events": events,
            "targets": [target("failed calls, degraded pages", "0", measured, ok, True)]}


def rolling(ctx: Ctx, cluster: Cluster) -> dict:
    """2. Every replica in turn: SIGTERM, wait for the drain and exit, start, wait healthy."""
    window = ctx.s.rolling_s
    load = homepage(ctx, cluster, "rolling", window)
    events = []
    load.at(WARMUP_S + 2)
    for ip in REPLICA_IPS:
        code, drained = cluster.stop_replica(ip)
        events.append((load.elapsed(), f"{ip} exited {code} {drained:.2f} s after SIGTERM"))
        ready = cluster.start_replica(ip)
        events.append((load.elapsed(), f"{ip} healthy {ready:.2f} s after start"))
        time.sleep(1)
    notes = []
    if load.elapsed() > WARMUP_S + window:
        notes.append("the restarts outlasted the measured window: lengthen rolling_s")
    result = load.result()
    measured, ok = clean(result)
    return {"loads": {"homepage": result}, "events": events, "notes": notes,
            "targets": [target("failed calls, degraded pages", "0", measured, ok, True)]}


def silent(ctx: Ctx, cluster: Cluster) -> dict:
    """3. A replica that goes silent: its packets dropped (no reset) for 4 s, then back."""
    window, victim = ctx.s.fault_s, REPLICA_IPS[2]
    load = homepage(ctx, cluster, "silent", window)
    events = []
    load.at(WARMUP_S + window * 0.25)
    try:
        ctx.machine.silence(victim, GRPC_PORT)
        events.append((load.elapsed(), f"iptables DROP to/from {victim}:{GRPC_PORT}"))
        time.sleep(4)
    finally:
        ctx.machine.unsilence()
    events.append((load.elapsed(), "rules removed"))
    result = load.result()
    measured, ok = clean(result)
    return {"loads": {"homepage": result}, "events": events,
            "targets": [target("failed calls, degraded pages", "0", measured, ok, True)]}


def slow(ctx: Ctx, cluster: Cluster) -> dict:
    """4. One replica made slow by fault injection, on every call (a replica outlier
    ejection can spot) and on half of them (one only hedging can hide); homepage p99 of each
    against the healthy cluster's."""
    if not help_has(ctx.bin / "recommendations", "--fault-delay"):
        return {"skipped": "recommendations has no --fault-delay flag in this build"}
    rate, window, victim = ctx.s.homepage_rate, ctx.s.slow_s, REPLICA_IPS[2]
    variants = [("every call", "slow-every-call", ["--fault-delay", "200ms"])]
    if help_has(ctx.bin / "recommendations", "--fault-delay-percent"):
        variants.append(("half the calls", "slow-half-calls",
                         ["--fault-delay", "200ms", "--fault-delay-percent", "50"]))
    begun = time.monotonic()
    loads = {"healthy": homepage(ctx, cluster, "slow-baseline", window, rate).result()}
    events, targets = [], []
    for name, label, flags in variants:
        cluster.stop_replica(victim)
        cluster.extra[victim] = flags
        try:
            cluster.start_replica(victim)
            time.sleep(1)
            events.append((round(time.monotonic() - begun, 2),
                           f"{label}: {victim} restarted with {' '.join(flags)}"))
            loads[f"slow, {name}"] = homepage(ctx, cluster, label, window, rate).result()
        finally:
            cluster.extra.pop(victim, None)
            if victim in cluster.replicas:
                cluster.stop_replica(victim)
            cluster.start_replica(victim)
        slowed, healthy = loads[f"slow, {name}"], loads["healthy"]
        ratio = slowed["p99_ms"] / max(healthy["p99_ms"], 1e-3)
        targets.append(target(f"homepage p99, slow on {name} / healthy", "<= 2x",
                              f"{slowed['p99_ms']:.1f} / {healthy['p99_ms']:.1f} ms = "
                              f"{ratio:.1f}x", ratio <= 2))
    return {"loads": loads, "events": events, "targets": targets}


def overload(ctx: Ctx, cluster: Cluster) -> dict:
    """5. One server with a concurrency limit and a known service time, driven over gRPC at
    twice its capacity; shed calls' latency and admitted calls' p99 against an unloaded run."""
    binary = ctx.bin / "recommendations"
    if not help_has(binary, "--max-concurrent-calls", "--fault-delay"):
        return {"skipped": "recommendations has no --max-concurrent-calls/--fault-delay flags"}
    limit, delay_ms = 4, 20
    capacity = limit * 1000 / delay_ms
    argv = cluster.replica_argv(LONE_IP, LONE_PORT, LONE_ADMIN) + [
        "--max-concurrent-calls", str(limit), "--fault-delay", f"{delay_ms}ms"]
    server = ctx.machine.spawn(argv, ctx.out / "logs" / "recommendations-overload.log")
    try:
        wait_until(lambda: http_ok(f"http://{LONE_IP}:{LONE_ADMIN}/healthz"), 30, "overload")
        call = ["recommend-v1", "--addr", f"http://{LONE_IP}:{LONE_PORT}", "-c", "4", "-m", "16",
                "--timeout", "5s", *cluster.tls_client_flags("loadgen")]
        unloaded = ctx.load("overload-unloaded", 5, call + [
            "--rate", str(capacity / 4)]).result()
        loaded = ctx.load("overload-2x", ctx.s.slow_s, call + [
            "--rate", str(capacity * 2)]).result()
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    shed = loaded["by_outcome_ms"].get("grpc RESOURCE_EXHAUSTED")
    admitted = loaded["by_outcome_ms"].get("ok")
    base = unloaded["by_outcome_ms"].get("ok")
    targets = []
    if shed:
        targets.append(target("shed calls' p99 (RESOURCE_EXHAUSTED)", "< 5 ms",
                              f"{shed['p99']:.2f} ms", shed["p99"] < 5))
    else:
        targets.append(target("calls shed at 2x capacity", "> 0", "none shed", False))
    if admitted and base:
        ratio = admitted["p99"] / max(base["p99"], 1e-3)
        targets.append(target("admitted p99, 2x load / unloaded", "<= 3x",
                              f"{admitted['p99']:.1f} / {base['p99']:.1f} ms = {ratio:.1f}x",
                              ratio <= 3))
    return {"loads": {"unloaded": unloaded, "2x capacity": loaded},
            "events": [(0, f"limit {limit}, delay {delay_ms} ms: capacity {capacity:.0f}/s; "
                           f"unloaded at {capacity / 4:.0f}/s, loaded at {capacity * 2:.0f}/s")],
            "targets": targets}


def soak(ctx: Ctx, cluster: Cluster) -> dict:
    """6. Mixed load with a replica restart every 30 s and a certificate rotation halfway,
    sampling the resident memory and open descriptors of the processes never restarted."""
    s = ctx.s
    steady, rotating = REPLICA_IPS[0], REPLICA_IPS[1:]
    watched = {"marketplace": cluster.market.pid, f"replica {steady}": cluster.replicas[steady].pid}
    samples = {name: [] for name in watched}
    pages = homepage(ctx, cluster, "soak-homepage", s.soak_s, s.homepage_rate)
    calls = ctx.load("soak-recommend", s.soak_s, [
        "recommend-v1", "--addr", f"http://{steady}:{GRPC_PORT}", "-c", "2", "-m",
        "4", "--rate", str(s.homepage_rate), "--timeout", "5s",
        *cluster.tls_client_flags("loadgen")])
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            now = pages.elapsed()
            for name, pid in watched.items():
                got = proc_sample(pid)
                if got:
                    samples[name].append((now, got[0], got[1]))
            stop.wait(s.sample_every_s)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    events, rotated, turn, next_restart = [], False, 0, 30.0
    end = WARMUP_S + s.soak_s
    try:
        while pages.elapsed() < end - 5:
            if not rotated and pages.elapsed() >= WARMUP_S + s.soak_s / 2:
                cluster.install_leaf("b")
                rotated = True
                events.append((pages.elapsed(), "certificates rotated (generation b)"))
            if pages.elapsed() >= next_restart:
                ip = rotating[turn % 2]
                turn += 1
                code, _ = cluster.stop_replica(ip)
                ready = cluster.start_replica(ip)
                events.append((pages.elapsed(), f"{ip} restarted (exit {code}, healthy in "
                                                f"{ready:.2f} s)"))
                next_restart += 30
            cluster.check_alive()
            time.sleep(0.5)
        results = {"homepage": pages.result(), "recommend-v1": calls.result()}
    finally:
        stop.set()
        sampler.join()
    reloads = tls_reloads(steady)
    events.append((pages.elapsed(), f"{steady} tls_reloads_total ok={reloads}"))
    served = served_generation(cluster, steady)
    targets = [growth_target(name, series, s.soak_warmup_s) for name, series in samples.items()]
    targets.append(target("rotation picked up by the running replica", ">= 1 reload",
                          str(reloads), bool(reloads)))
    targets.append(target("certificate a new connection to it gets", "generation b",
                          served, served == "b"))
    return {"loads": results, "events": events, "targets": [t for t in targets if t],
            "samples": samples}


def tls_reloads(ip: str) -> int:
    """The replica's `tls_reloads_total{result="ok"}`."""
    with urllib.request.urlopen(f"http://{ip}:{ADMIN_PORT}/metrics", timeout=2) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("tls_reloads_total") and 'result="ok"' in line:
                return int(float(line.split()[-1]))
    return 0


def served_generation(cluster: Cluster, ip: str) -> str:
    """Which generation of certificate (a, b, or neither) `ip` shows a new TLS connection,
    connecting as loadgen does (client certificate, ALPN h2, verified as `recommendations`)."""
    tls = cluster.tls
    context = ssl.create_default_context(cafile=str(tls / "ca-bundle.pem"))
    context.load_cert_chain(tls / "a/loadgen.pem", tls / "a/loadgen.key")
    context.set_alpn_protocols(["h2"])
    with socket.create_connection((ip, GRPC_PORT), timeout=3) as raw:
        with context.wrap_socket(raw, server_hostname="recommendations") as conn:
            der = conn.getpeercert(binary_form=True)
    for gen in ("a", "b"):
        pem = (tls / gen / "recommendations.pem").read_text()
        if ssl.PEM_cert_to_DER_cert(pem) == der:
            return gen
    return "neither"


# Growth tolerated after warm-up between the median of the first three samples and of the last
# three (see RELIABILITY.md for why): allocator high-water marks and connections that happen to
# be open at a sample move these figures a little; a leak moves them every minute.
RSS_TOLERANCE_KIB, RSS_TOLERANCE_SHARE, FD_TOLERANCE = 4096, 0.10, 5


def growth_target(name: str, series: list, warmup_s: float):
    """Whether `name`'s memory and descriptors level off after `warmup_s`."""
    after = [point for point in series if point[0] >= warmup_s]
    if len(after) < 6:
        return target(f"{name}: memory and fds level off", "enough samples",
                      f"{len(after)} samples after warm-up", False)

    def median(values):
        return sorted(values)[len(values) // 2]

    first_rss, last_rss = median([p[1] for p in after[:3]]), median([p[1] for p in after[-3:]])
    first_fd, last_fd = median([p[2] for p in after[:3]]), median([p[2] for p in after[-3:]])
    rss_ok = last_rss - first_rss <= max(RSS_TOLERANCE_KIB, first_rss * RSS_TOLERANCE_SHARE)
    fd_ok = last_fd - first_fd <= FD_TOLERANCE
    return target(f"{name}: RSS and fds after warm-up, first -> last",
                  "levels off (RSS +<=max(4 MiB,10%), fds +<=5)",
                  f"RSS {first_rss / 1024:.1f} -> {last_rss / 1024:.1f} MiB, "
                  f"fds {first_fd} -> {last_fd}: "
                  + ("levels off" if rss_ok and fd_ok else "grows"), rss_ok and fd_ok)
