"""The production server (gunicorn with config/gunicorn.py) as a child process.

For the tests and the upload benchmark: it listens on 127.0.0.1 on a free port
(``PORT=0``; the port is read from gunicorn's "Listening at" line), keeps what it
logs, and tells its workers and the CPU they used from /proc.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

BASE_DIR = Path(__file__).resolve().parent.parent
CONFIG = BASE_DIR / "config" / "gunicorn.py"
LISTENING = re.compile(r"Listening at: http://[^\s]+:(\d+)")
# config/gunicorn.py's when_ready line.
SIZING = re.compile(r"Serving with (\d+) gthread workers x (\d+) threads")


class GunicornError(RuntimeError):
    """gunicorn did not start or stop as asked; the message carries its log."""


class GunicornProcess:
    """``gunicorn -c config/gunicorn.py`` with ``env`` on top of this environment.

    ``start()`` waits (at most ``start_timeout`` seconds) until the master listens
    and every worker has booted. ``output`` holds stdout (the access log) and
    ``errors`` stderr (gunicorn's and the app's log), line by line. ``root`` is
    the project tree served: this one, or another revision's (the upload
    benchmark compares two).
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        workers: int | None = None,
        threads: int | None = None,
        start_timeout: float = 30.0,
        root: Path = BASE_DIR,
    ) -> None:
        self.root = root
        self.env = {**os.environ, "HOST": "127.0.0.1", "PORT": "0", **(env or {})}
        if workers is not None:
            self.env["WEB_CONCURRENCY"] = str(workers)
        if threads is not None:
            self.env["GUNICORN_THREADS"] = str(threads)
        # What config/gunicorn.py chose, from its log once it listens.
        self.workers = 0
        self.threads = 0
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[str] | None = None
        self.port: int | None = None
        self.output: list[str] = []
        self.errors: list[str] = []
        self._changed = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise GunicornError("gunicorn is not running")
        return self.process.pid

    def start(self) -> GunicornProcess:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        config = self.root / CONFIG.relative_to(BASE_DIR)
        self.process = subprocess.Popen(
            # INFO whatever LOG_LEVEL says: start() reads the port and sizing lines.
            [str(gunicorn), "-c", str(config), "--log-level", "info"],
            cwd=self.root,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        streams = ((self.process.stdout, self.output), (self.process.stderr, self.errors))
        for stream, lines in streams:
            threading.Thread(target=self._collect, args=(stream, lines), daemon=True).start()
        try:
            self.wait_for(lambda: self.port is not None and self.workers, "listen")
            self.wait_for(lambda: len(self.worker_pids()) >= self.workers, "boot its workers")
        except GunicornError:
            self.stop()
            raise
        return self

    def _collect(self, stream, lines: list[str]) -> None:
        for line in stream:
            with self._changed:
                lines.append(line.rstrip("\n"))
                if self.port is None and (match := LISTENING.search(line)):
                    self.port = int(match.group(1))
                if not self.workers and (match := SIZING.search(line)):
                    self.workers, self.threads = int(match.group(1)), int(match.group(2))
                self._changed.notify_all()

    def wait_for(self, condition, what: str, timeout: float | None = None) -> None:
        """Wait until ``condition()`` holds, or raise GunicornError naming ``what``."""
        deadline = time.monotonic() + (timeout or self.start_timeout)
        with self._changed:
            while not condition():
                if self.process is None or self.process.poll() is not None:
                    raise GunicornError(f"gunicorn exited before it could {what}:\n{self.log()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise GunicornError(f"gunicorn did not {what} in time:\n{self.log()}")
                self._changed.wait(min(left, 0.1))

    def log(self) -> str:
        return "\n".join(self.errors[-40:])

    def worker_pids(self) -> set[int]:
        """The master's live children (its workers), from /proc."""
        if self.process is None:
            return set()
        children = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                stat = _stat(entry.name)
                if stat and int(stat[1]) == self.process.pid:
                    children.add(int(entry.name))
        return children

    def cpu_seconds(self) -> float:
        """CPU (user + system) used by the master, its live workers and its exited ones."""
        return sum(self.cpu_by_process().values())

    def cpu_by_process(self) -> dict[str, float]:
        """CPU seconds of the master (with its exited workers) and of each live worker."""
        ticks = os.sysconf("SC_CLK_TCK")
        master = _stat(str(self.pid))
        if master is None:
            return {}
        # stat(5) fields 14-17 (utime, stime, cutime, cstime) are 11-14 here.
        found = {"master": sum(int(value) for value in master[11:15]) / ticks}
        for pid in sorted(self.worker_pids()):
            worker = _stat(str(pid))
            if worker:
                found[str(pid)] = (int(worker[11]) + int(worker[12])) / ticks
        return found

    def reload(self) -> None:
        """SIGHUP: new workers replace the old ones; waits until none of the old is left."""
        old = self.worker_pids()
        os.kill(self.pid, signal.SIGHUP)
        self.wait_for(
            lambda: not (self.worker_pids() & old) and len(self.worker_pids()) >= self.workers,
            "replace its workers after SIGHUP",
        )

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def __enter__(self) -> GunicornProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _stat(pid: str) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (state first), or None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()
