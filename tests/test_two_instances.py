"""The several-app-servers check (bench/bench_two_instances.py --smoke), in the suite.

Two gunicorn instances on a PostgreSQL and a redis-server of their own and the local
ImageKit server: clients upload, update, delete and read their own writes back
through the other instance with persisted GETs; then every stored image is checked
against the database and ImageKit. The script's exit status says whether anything
failed; its report is checked here too, so a silent pass cannot hide a broken run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "bench_two_instances.py"


def test_two_instances_under_load_serve_fresh_data_and_keep_every_file():
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=SCRIPT.parent.parent,
    )

    report = run.stdout
    assert run.returncode == 0, report + run.stderr[-3000:]
    assert "errors: 0" in report
    stored = re.search(r"integrity: (\d+) images stored, (\d+) deleted: passed", report)
    assert stored, report
    assert int(stored[1]) > 0, "the clients uploaded nothing"
    for kind in ("listing", "upload", "update", "delete", "read own writes"):
        assert re.search(rf"^{kind} +[1-9]\d* ", report, re.M), f"no {kind!r} request: {report}"
