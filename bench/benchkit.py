"""What the bench scripts share: a Django on temporary folders, and how a run is reported."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path


def start_django(tmp: Path, *, migrate: bool = False, **env: str) -> None:
    """Configure config.settings on temporary folders (``env`` overrides), start Django.

    Local storage unless ``env`` sets the ImageKit variables, whatever the caller's
    environment says.
    """
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": "bench",
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "MEDIA_ROOT": str(tmp / "media"),
            "MEDIA_RENDITION_CACHE_DIR": str(tmp / "renditions"),
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "IMAGEKIT_PRIVATE_KEY": "",
            "IMAGEKIT_PUBLIC_KEY": "",
            "IMAGEKIT_URL_ENDPOINT": "",
            "LOG_LEVEL": "WARNING",
            **env,
        }
    )
    import django

    django.setup()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


@dataclass
class Row:
    """One line of a run's final summary."""

    target: str
    measured: str
    goal: str
    verdict: str


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 86 - len(title)))
    print(f"({load_note()})")


def load_note() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min)"


@dataclass(frozen=True)
class MachineCpu:
    """The whole machine's CPU time so far, all cores (/proc/stat), in seconds."""

    busy: float  # user, nice, system, irq, softirq: every process and the kernel
    idle: float  # idle and iowait
    steal: float  # taken by the hypervisor for other guests (shared machines)

    @classmethod
    def now(cls) -> MachineCpu:
        with open("/proc/stat") as stat:
            values = [int(field) for field in stat.readline().split()[1:9]]
        user, nice, system, idle, iowait, irq, softirq, steal = values + [0] * (8 - len(values))
        ticks = os.sysconf("SC_CLK_TCK")
        return cls(
            (user + nice + system + irq + softirq) / ticks, (idle + iowait) / ticks, steal / ticks
        )

    def __sub__(self, earlier: MachineCpu) -> MachineCpu:
        return MachineCpu(
            self.busy - earlier.busy, self.idle - earlier.idle, self.steal - earlier.steal
        )


def others_busy(seconds: float = 0.5) -> str:
    """CPU use by other processes: /proc/stat sampled while this process sleeps.

    The load average also counts a benchmark's own earlier sections, so it cannot
    tell on its own whether someone else was running.
    """
    try:
        before = MachineCpu.now()
        time.sleep(seconds)
        spent = MachineCpu.now() - before
    except (OSError, ValueError):
        return "CPU use by other processes unknown (no /proc/stat)"
    busy = (spent.busy + spent.steal) / max(spent.busy + spent.idle + spent.steal, 1e-9)
    return f"CPU busy with other processes {busy:.0%} (0.5 s sample while idle)"
