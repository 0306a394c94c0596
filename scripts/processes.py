"""Start, watch and stop real processes; tiny HTTP client; deadline polling.

Nothing here sleeps to "let things settle": every wait polls a condition until
a deadline and fails with a message saying what never happened.
"""

from __future__ import annotations

import contextlib
import json
import random
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

POLL_INTERVAL = 0.1


class DeadlineExceeded(AssertionError):
    """A condition polled with a deadline never became true."""


def wait_for[T](
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = POLL_INTERVAL,
) -> T:
    """Call ``probe`` until it returns something other than None or False."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None and result is not False:
            return result
        if time.monotonic() >= deadline:
            raise DeadlineExceeded(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, chosen outside the ephemeral range.

    A port from bind(0) comes from the ephemeral range, so the kernel may hand
    it out again as the local end of some outgoing connection (our own polling
    makes hundreds) before the node binds it: "address already in use", seen
    here. Ports below that range are only ever taken by an explicit bind.
    """
    low = _ephemeral_range_start()
    floor = 10000  # clear of well-known and registered service ports
    if low - floor >= 2000:
        for _ in range(100):
            port = random.randrange(floor, low)
            if _bindable(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        kernel_pick: int = sock.getsockname()[1]
        return kernel_pick


def _ephemeral_range_start() -> int:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    timeout: float = 2.0,
) -> HttpResponse | None:
    """One request; the response whatever its status, None if nobody answered."""
    request = urllib.request.Request(url, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpResponse(response.status, response.read())
    except urllib.error.HTTPError as error:
        return HttpResponse(error.code, error.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


@dataclass
class ManagedProcess:
    """A child process whose stdout and stderr go to files.

    Files, not pipes: nobody has to drain them while the test does other
    things, and they stay readable after the process is gone.
    """

    name: str
    popen: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def output_tail(self, lines: int = 40) -> str:
        tail = "\n".join(self.stderr().splitlines()[-lines:])
        return (
            f"--- {self.name} (pid {self.pid}) stderr, last {lines} lines ---\n{tail}"
        )

    def terminate(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait; the exit code, or None if it had to be killed."""
        if self.running():
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        if self.running():
            self.popen.kill()
            self.popen.wait(timeout=10)


def start_process(
    name: str,
    args: Sequence[str | Path],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_dir: Path,
) -> ManagedProcess:
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path = _fresh_log(log_dir, f"{name}.stdout")
    stderr_path = _fresh_log(log_dir, f"{name}.stderr")
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        popen = subprocess.Popen(
            [str(arg) for arg in args],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    return ManagedProcess(name, popen, stdout_path, stderr_path)


@contextlib.contextmanager
def stopped_at_exit(process: ManagedProcess) -> Iterator[ManagedProcess]:
    """Make sure ``process`` is gone when the block ends, however it ends."""
    try:
        yield process
    finally:
        process.kill()


def _fresh_log(log_dir: Path, stem: str) -> Path:
    """A log path not used before in ``log_dir`` (restarts keep earlier logs)."""
    path = log_dir / f"{stem}.log"
    counter = 1
    while path.exists():
        counter += 1
        path = log_dir / f"{stem}.{counter}.log"
    return path


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects among ``text``'s lines (structured log records)."""
    records = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                records.append(record)
    return records
