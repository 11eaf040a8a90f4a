"""gunicorn's settings, read from the environment: ``gunicorn -c config/gunicorn.py``.

gthread workers: two processes per core, each with a pool of threads. An upload
spends most of its time waiting on ImageKit (a thread waits, the GIL is free)
and a little in Python (one core per process, whatever the threads), so the
processes give the cores and the threads cover the waiting.

A worker accepts only as many connections as it has threads: the rest wait in
the listening socket's queue for whichever worker frees a thread first. By
default gunicorn lets a worker accept 1000, and a burst of uploads landed almost
all on one worker (one core) while the other idled: 6x slower than one upload
instead of 3x (docs/benchmarks.md, "Uploads").

Reload without dropping requests: ``kill -HUP <master pid>`` starts new workers
with fresh code and settings, then stops the old ones once their requests are
done (at most ``graceful_timeout``). Workers are also replaced after
``max_requests`` (± jitter, so they do not all restart at once).
"""

from __future__ import annotations

import os
from pathlib import Path

import environ

# As in config/settings.py: an optional .env, where variables already set win.
environ.Env.read_env(Path(__file__).resolve().parent.parent / ".env", overwrite=False)


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers)
    except AttributeError:
        return os.cpu_count() or 1


wsgi_app = "config.wsgi:application"

# --- Where -------------------------------------------------------------------

# HOST=0.0.0.0 behind a load balancer or in a container; PORT=0 picks a free port
# (the log says which: "Listening at: ...").
bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{_int('PORT', 8000)}"]

# --- How many ----------------------------------------------------------------

worker_class = "gthread"
# Two processes per core, 8 threads each. One process runs Python on one core at a
# time (the GIL): with 16 threads in each of 2 processes, a burst of uploads spent a
# quarter more CPU per upload handing the GIL around (41-50 ms instead of 32-34) and
# 32 uploads at once took 4.2-5.0x one upload; 4 x 8 took 3.5-4.3x (docs/benchmarks.md,
# "Uploads"). More processes than that only added memory (about 90 MB each).
workers = _int("WEB_CONCURRENCY", 2 * cores())
# The workers read it too (config/settings.py): the renders of the local CDN share
# the host's cores among them, instead of each worker taking one per core.
os.environ["WEB_CONCURRENCY"] = str(workers)
# An upload holds a thread for its upstream wait and a core for ~30 ms (mostly Python,
# holding the GIL): 8 threads in each of 2 processes per core cover ~500 ms of upstream
# latency. Decoding is bounded apart from threads: uploads take the image-work slots
# of media_store.limiter (MEDIA_MAX_CONCURRENT_RENDERS), with their estimated memory.
threads = _int("GUNICORN_THREADS", 8)
worker_connections = _int("GUNICORN_WORKER_CONNECTIONS", threads)

# --- How long ----------------------------------------------------------------

# An upload may wait IMAGEKIT_UPLOAD_TIMEOUT per attempt, retried IMAGEKIT_MAX_RETRIES
# times (the same variables as config/settings.py). Neither a worker's heartbeat nor
# a graceful stop may cut it short.
_upload_seconds = _float("IMAGEKIT_UPLOAD_TIMEOUT", 60.0) * (_int("IMAGEKIT_MAX_RETRIES", 2) + 1)
timeout = _int("GUNICORN_TIMEOUT", int(_upload_seconds) + 30)
graceful_timeout = timeout
# Kept-alive connections count against worker_connections: only with more
# connections than threads (gunicorn would warn otherwise).
keepalive = _int("GUNICORN_KEEPALIVE", 5 if worker_connections > threads else 0)
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max(max_requests // 10, 0))

# --- Logs --------------------------------------------------------------------

# Access log to stdout (GUNICORN_ACCESS_LOG= turns it off: the app logs one line per
# request too). The path without the query string (signed URLs carry signatures),
# and the request id the app sets, to join the two.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# --- Process -----------------------------------------------------------------

pidfile = os.environ.get("GUNICORN_PIDFILE") or None
# The heartbeat file lives in memory, not on a disk that may stall (containers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Several servers on one host would share the default control socket path;
# signals (HUP, TERM) do what is needed.
control_socket_disable = True


def when_ready(server) -> None:
    server.log.info(
        "Serving with %d gthread workers x %d threads (WEB_CONCURRENCY, GUNICORN_THREADS)",
        server.cfg.workers,
        server.cfg.threads,
    )


def post_worker_init(worker) -> None:
    """Import the URLconf, and with it the GraphQL schema, before the first request:
    after a reload, new workers answer at once."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - loading is the point
