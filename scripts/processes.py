"""Start, watch and stop real processes; tiny HTTP client; deadline polling.

Nothing here sleeps to "let things settle": every wait polls a condition until
a deadline and fails with a message saying what never happened.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

POLL_INTERVAL = 0.1


def _load_ports_module() -> Any:
    # The generated packages' tests ship the one port chooser (standard
    # library only); the template's scripts use that same file.
    path = Path(__file__).parents[1] / "template/tests/managed/ports.py"
    spec = importlib.util.spec_from_file_location("generated_test_ports", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


free_port: Callable[[], int] = _load_ports_module().free_port


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
    data: bytes | None = None,
    timeout: float = 2.0,
) -> HttpResponse | None:
    """One request; the response whatever its status, None if nobody answered."""
    request = urllib.request.Request(
        url, data=data, method=method, headers=dict(headers or {})
    )
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


def resident_mib(pid: int) -> float:
    """Resident memory (VmRSS) of process ``pid`` in MiB; Linux only."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    kib = next(line for line in status.splitlines() if line.startswith("VmRSS"))
    return int(kib.split()[1]) / 1024


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects among ``text``'s lines (structured log records)."""
    records = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                records.append(record)
    return records
