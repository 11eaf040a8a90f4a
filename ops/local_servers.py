"""Private redis-server and PostgreSQL instances, for the tests and the load benchmark.

Each runs Debian's binaries as a child process in a folder of its own, on a free
port of 127.0.0.1, and is stopped (and its data dropped) when its context ends.
PostgreSQL refuses to run as root: under root (CI) the cluster runs as the
``postgres`` user that Debian's package creates, through ``runuser``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


class LocalServerError(RuntimeError):
    """A server would not start; the message says what to install or where its log is."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def redis_server(folder: Path, *, attempts: int = 3) -> Iterator[str]:
    """A redis-server without persistence; yields its ``redis://`` URL (database 0)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise LocalServerError("redis-server is not installed: apt-get install redis-server")
    folder.mkdir(parents=True, exist_ok=True)
    for _attempt in range(attempts):  # another process may take the free port first
        port = free_port()
        command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
        command += ["--appendonly", "no", "--dir", str(folder)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not _wait_for_port(port, process, 10):
            process.kill()
            process.wait(5)
            continue
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(10)
        return
    raise LocalServerError(f"redis-server did not start on a free port ({attempts} attempts)")


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise LocalServerError(f"PostgreSQL's {name} is missing: apt-get install postgresql")
    return found[-1]


@contextlib.contextmanager
def postgres_cluster(folder: Path) -> Iterator[str]:
    """A new PostgreSQL cluster with database ``catalog``; yields its ``postgres://`` URL."""
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    log = folder / "postgres.log"
    if as_root:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError as e:
            raise LocalServerError("no postgres user: apt-get install postgresql") from e
        prefix = ["runuser", "-u", "postgres", "--"]
        # The postgres user must reach the folder: let it through the folders on the
        # way (temporary folders are 0700), and own the folder.
        for parent in [folder, *folder.parents]:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o711)
        os.chown(folder, user.pw_uid, user.pw_gid)
    subprocess.run(
        [*prefix, _postgres_bin("initdb"), "-D", str(data), "-U", "catalog", "-A", "trust"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    port = free_port()
    options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c full_page_writes=off"
    start = [*prefix, _postgres_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-o", options]
    subprocess.run(
        [*start, "-w", "-t", "60", "start"], check=True, stdout=subprocess.DEVNULL, timeout=90
    )
    try:
        createdb = [_postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "catalog"]
        subprocess.run([*prefix, *createdb, "catalog"], check=True, timeout=60)
        yield f"postgres://catalog@127.0.0.1:{port}/catalog"
    finally:
        subprocess.run(
            [*prefix, _postgres_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
            timeout=60,
        )
