"""The chaos suite's processes and the machine state it changes, and how all of it is undone.

A `Cluster` is three `recommendations` replicas on 127.0.0.2-4 (same port) behind one host
name listed in /etc/hosts, and a `marketplace` that load-balances over that name; it can be
run over mutual TLS with certificates it makes (and rotates). `Machine` owns what outlives a
process: /etc/hosts lines and iptables rules, each tagged with `TAG` so that the leftovers of
an earlier run that crashed are found and removed at start, and child process ids, written to
a file for the same reason (with the program each runs, so a reused pid is left alone).
Children also die with the suite itself: each asks the kernel (prctl PR_SET_PDEATHSIG) for a
SIGKILL when the thread that started it ends, so a `kill -9` of the suite (CI's timeout) leaves
none running; children are therefore started from the main thread only.
Nothing here measures anything: that is scenarios.py's.
"""

import ctypes
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

TAG = "bookstore-chaos"
HOST_NAME = "recommendations.chaos.internal"
REPLICA_IPS = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
GRPC_PORT = 23051
ADMIN_PORT = 23101
MARKET_IP, MARKET_PORT = "127.0.0.1", 23500
LONE_IP, LONE_PORT, LONE_ADMIN = "127.0.0.10", 23061, 23111  # scenario 5's own server
DEGRADED_TEXT = "Recommendations are unavailable right now"  # crates/marketplace/src/error.rs
# One line add_hosts writes; at the end of a line it did not start, it was glued by an older run
# onto a last line that had no newline (only that part is ours to remove).
HOSTS_ENTRY = re.compile(rf"(?:\d{{1,3}}\.){{3}}\d{{1,3}} \S+ # {re.escape(TAG)}[ \t]*$")
PR_SET_PDEATHSIG = 1
_prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before any fork, not in the child


def _die_with(parent: int):
    """A `preexec_fn`: the child gets SIGKILL when its parent (thread) ends, and exits at once
    if the parent already ended before the request was made."""
    def arm() -> None:
        _prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), *[ctypes.c_ulong(0)] * 3)
        if os.getppid() != parent:
            os._exit(1)
    return arm


class Machine:
    """The hosts file, the firewall and the children: everything that must be put back."""

    def __init__(self, state_dir: Path):
        self.pid_file = state_dir / "children.pids"
        self.children: list[subprocess.Popen] = []
        self.rules: list[list[str]] = []

    # -- leftovers of an earlier run ---------------------------------------------------------
    def clean_leftovers(self) -> list[str]:
        """Removes tagged hosts lines and iptables rules, and kills the recorded children of
        an earlier run that still run the program they were started with. Returns what it
        removed."""
        removed = []
        if self.pid_file.exists():
            for line in self.pid_file.read_text().splitlines():
                pid, _, program = line.partition(" ")
                try:
                    exe = os.readlink(f"/proc/{pid}/exe")
                except OSError:
                    continue
                if exe.removesuffix(" (deleted)") == program:
                    os.kill(int(pid), signal.SIGKILL)
                    removed.append(f"process {pid} ({program})")
                    _wait_gone(int(pid))  # its ports free before this run binds them
            self.pid_file.unlink()
        removed += [f"hosts line {line!r}" for line in self.drop_hosts()]
        for rule in self._tagged_rules():
            subprocess.run(["iptables", "-D", *rule], check=False)
            removed.append("iptables " + " ".join(rule))
        return removed

    # -- /etc/hosts --------------------------------------------------------------------------
    def add_hosts(self, name: str, ips: tuple[str, ...]) -> None:
        """Lists `name` for every address in `ips`, appended (and /etc/hosts changed in place,
        never renamed: it is often a bind mount), after a newline if its last line lacks one."""
        with open("/etc/hosts", "rb") as hosts:
            text = hosts.read()
        with open("/etc/hosts", "a", encoding="utf-8") as hosts:
            if text and not text.endswith(b"\n"):
                hosts.write("\n")
            for ip in ips:
                hosts.write(f"{ip} {name} # {TAG}\n")

    def drop_hosts(self) -> list[str]:
        """Removes every line add_hosts wrote (and, from a line an older run glued one onto,
        only that part); returns what it removed. Other lines are left byte for byte."""
        text = Path("/etc/hosts").read_text(encoding="utf-8")
        keep, dropped = [], []
        for line in text.splitlines(keepends=True):
            body = line.rstrip("\r\n")
            found = HOSTS_ENTRY.search(body)
            if found is None:
                keep.append(line)
            elif not body[:found.start()].strip():
                dropped.append(body)
            else:
                keep.append(body[:found.start()] + line[len(body):])
                dropped.append(found.group())
        if dropped:
            Path("/etc/hosts").write_text("".join(keep), encoding="utf-8")
        return [line.strip() for line in dropped]

    # -- iptables ----------------------------------------------------------------------------
    def silence(self, ip: str, port: int) -> None:
        """Drops every packet to and from `ip:port` (no reset: the peer just hears nothing).
        On loopback both directions pass the OUTPUT chain."""
        for match in (["-d", ip, "--dport", str(port)], ["-s", ip, "--sport", str(port)]):
            rule = ["OUTPUT", "-p", "tcp", *match, "-m", "comment", "--comment", TAG, "-j", "DROP"]
            subprocess.run(["iptables", "-I", rule[0], "1", *rule[1:]], check=True)
            self.rules.append(rule)

    def unsilence(self) -> None:
        """Removes the rules `silence` added."""
        while self.rules:
            subprocess.run(["iptables", "-D", *self.rules.pop()], check=False)

    @staticmethod
    def _tagged_rules() -> list[list[str]]:
        listing = subprocess.run(["iptables", "-S"], capture_output=True, text=True, check=False)
        return [
            line.split()[1:]
            for line in listing.stdout.splitlines()
            if line.startswith("-A ") and TAG in line
        ]

    # -- children ----------------------------------------------------------------------------
    def spawn(self, argv: list[str], log: Path) -> subprocess.Popen:
        """Starts a child in a session of its own (a Ctrl-C reaches only the suite, which
        then stops every child itself) that dies with the suite, its output to `log`, its pid
        recorded. From the main thread only (the death signal follows the starting thread)."""
        with open(log, "ab") as out:
            child = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=_die_with(os.getpid()),
            )
        self.children.append(child)
        self._write_pids()
        return child

    def _write_pids(self) -> None:
        alive = [c for c in self.children if c.poll() is None]
        self.pid_file.write_text("".join(
            f"{c.pid} {Path(c.args[0]).resolve()}\n" for c in alive))

    def restore(self) -> None:
        """Undoes everything: children stopped (SIGTERM, then SIGKILL after 5 s), rules and
        hosts lines removed. Safe to call twice."""
        for child in self.children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 5
        for child in self.children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.children.clear()
        self.unsilence()
        for rule in self._tagged_rules():
            subprocess.run(["iptables", "-D", *rule], check=False)
        self.drop_hosts()
        self.pid_file.unlink(missing_ok=True)


def _wait_gone(pid: int, timeout: float = 5) -> None:
    """Waits until `pid` has exited (gone, or a zombie its new parent has yet to reap)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return
        if stat.rpartition(")")[2].split()[0] in ("Z", "X"):
            return
        time.sleep(0.05)


def http_ok(url: str, timeout: float = 0.5) -> bool:
    """Whether `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_until(check, timeout: float, what: str) -> float:
    """Polls `check` every 50 ms until it is true; returns how long that took, or raises."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.05)
    raise RuntimeError(f"{what} not ready within {timeout:.0f} s")


class Cluster:
    """Three replicas and a marketplace, plaintext or mutual TLS."""

    def __init__(self, machine: Machine, bin_dir: Path, logs: Path, tls_dir: Path | None = None):
        self.machine, self.bin, self.logs, self.tls = machine, bin_dir, logs, tls_dir
        self.replicas: dict[str, subprocess.Popen] = {}
        self.extra: dict[str, list[str]] = {}  # per-replica extra flags (fault injection)
        self.market: subprocess.Popen | None = None
        self.crashes: list[str] = []

    # -- TLS material: two generations of certificates, both CAs trusted -----------------------
    def make_certs(self) -> None:
        """Writes generations a and b with `bookstore certs`, a CA bundle trusting both (as a
        real rotation does: trust first, then swap leaves), and the live files from a."""
        assert self.tls is not None
        for gen in ("a", "b"):
            out = self.tls / gen
            subprocess.run([str(self.bin / "bookstore"), "certs", "--out", str(out), "--force"],
                           check=True, stdout=subprocess.DEVNULL)
        bundle = (self.tls / "a/ca.pem").read_text() + (self.tls / "b/ca.pem").read_text()
        (self.tls / "ca-bundle.pem").write_text(bundle)
        self.install_leaf("a")

    def install_leaf(self, gen: str) -> None:
        """Makes generation `gen` the replicas' live certificate and key (each file replaced
        by a rename, so a reload never reads half a file)."""
        assert self.tls is not None
        for ext in ("pem", "key"):
            tmp = self.tls / f"live.{ext}.tmp"
            shutil.copyfile(self.tls / gen / f"recommendations.{ext}", tmp)
            os.replace(tmp, self.tls / f"live.{ext}")

    def tls_client_flags(self, client: str) -> list[str]:
        """The platform's upstream TLS flags for `client` (marketplace or loadgen)."""
        if self.tls is None:
            return []
        return ["--upstream-ca", str(self.tls / "ca-bundle.pem"),
                "--upstream-cert", str(self.tls / f"a/{client}.pem"),
                "--upstream-key", str(self.tls / f"a/{client}.key"),
                "--upstream-server-name", "recommendations"]

    # -- processes ---------------------------------------------------------------------------
    def start(self) -> None:
        """Lists the host name, starts every replica and the marketplace, waits for health."""
        self.machine.add_hosts(HOST_NAME, REPLICA_IPS)
        for ip in REPLICA_IPS:
            self.start_replica(ip, wait=False)
        self.market = self.machine.spawn(
            [str(self.bin / "marketplace"), "--host", MARKET_IP, "--port", str(MARKET_PORT),
             "--recommendations-host", HOST_NAME, "--recommendations-port", str(GRPC_PORT),
             "--upstream-load-balance", "--access-log", "false", "--grace-period", "5s",
             *self.tls_client_flags("marketplace")],
            self.logs / "marketplace.log")
        for ip in REPLICA_IPS:
            self.wait_replica(ip)
        wait_until(lambda: http_ok(f"{self.market_url()}healthz"), 30, "marketplace")
        # Every replica in the marketplace's pool before load starts.
        wait_until(self._all_books, 30, "homepage with books")

    def _all_books(self) -> bool:
        try:
            with urllib.request.urlopen(self.market_url(), timeout=2) as response:
                return DEGRADED_TEXT not in response.read().decode()
        except (urllib.error.URLError, OSError):
            return False

    def market_url(self) -> str:
        return f"http://{MARKET_IP}:{MARKET_PORT}/"

    def replica_argv(self, ip: str, port: int = GRPC_PORT, admin: int = ADMIN_PORT) -> list[str]:
        argv = [str(self.bin / "recommendations"), "--host", ip, "--port", str(port),
                "--metrics-port", str(admin), "--grace-period", "5s", "--log-format", "text"]
        if self.tls is not None:
            argv += ["--tls-cert", str(self.tls / "live.pem"), "--tls-key",
                     str(self.tls / "live.key"), "--tls-client-ca",
                     str(self.tls / "ca-bundle.pem"), "--allowed-clients",
                     "marketplace,loadgen", "--tls-reload-interval", "2s"]
        return argv + self.extra.get(ip, [])

    def start_replica(self, ip: str, wait: bool = True) -> float:
        """Starts the replica on `ip`; returns how long it took to turn healthy (0 if not
        waited for)."""
        self.replicas[ip] = self.machine.spawn(self.replica_argv(ip),
                                               self.logs / f"recommendations-{ip}.log")
        return self.wait_replica(ip) if wait else 0.0

    def wait_replica(self, ip: str) -> float:
        return wait_until(lambda: http_ok(f"http://{ip}:{ADMIN_PORT}/healthz"), 30,
                          f"replica {ip}")

    def kill_replica(self, ip: str) -> None:
        """`kill -9`: no drain, no goodbye."""
        child = self.replicas.pop(ip)
        child.kill()
        child.wait()

    def stop_replica(self, ip: str, timeout: float = 15) -> tuple[int, float]:
        """SIGTERM, then waits for the drain to end; returns the exit status and the time.
        One still running after `timeout` is killed (so no twin shares its address) and the
        scenario fails with an error."""
        child = self.replicas[ip]
        start = time.monotonic()
        child.terminate()
        try:
            code = child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            del self.replicas[ip]
            raise RuntimeError(f"replica {ip} still running {timeout:.0f} s after SIGTERM; "
                               "killed") from None
        del self.replicas[ip]
        if code != 0:
            self.crashes.append(f"replica {ip} exited {code} after SIGTERM")
        return code, time.monotonic() - start

    def check_alive(self) -> list[str]:
        """Notes (and returns) every process of ours that died without being told to."""
        dead = [f"replica {ip} died (status {c.returncode})"
                for ip, c in self.replicas.items() if c.poll() is not None]
        if self.market is not None and self.market.poll() is not None:
            dead.append(f"marketplace died (status {self.market.returncode})")
        self.crashes += [d for d in dead if d not in self.crashes]
        return dead

    def stop(self) -> None:
        """Stops the marketplace and the replicas (gracefully) and unlists the host name."""
        self.check_alive()
        for child in [*self.replicas.values(), self.market]:
            if child is not None and child.poll() is None:
                child.terminate()
        for child in [*self.replicas.values(), self.market]:
            if child is not None:
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        self.replicas.clear()
        self.market = None
        self.machine.drop_hosts()


def proc_sample(pid: int) -> tuple[int, int] | None:
    """(resident memory in KiB, open file descriptors) of `pid`, or None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        rss = next(int(line.split()[1]) for line in status.splitlines()
                   if line.startswith("VmRSS:"))
        return rss, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration, ValueError):
        return None


def help_has(binary: Path, *flags: str) -> bool:
    """Whether `binary --help` lists every one of `flags`."""
    text = subprocess.run([str(binary), "--help"], capture_output=True, text=True,
                          check=False).stdout
    return all(flag in text for flag in flags)
