"""Other users keep working while a large import runs (real processes, a real SQLite file in WAL
mode with a busy timeout): every login and page answers, none fails with "database is locked"."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROWS = 4000


def test_logins_and_pages_answer_while_a_large_import_runs(tmp_path):
    root = Path(__file__).resolve().parents[3]
    database = tmp_path / "import.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_SETTINGS_MODULE": "hongniang.settings",
        "AXES_FAILURE_LIMIT": "1000",
    }
    manage = [sys.executable, str(root / "manage.py")]

    def run(*args):
        subprocess.run([*manage, *args], env=env, cwd=root, check=True, timeout=600)  # noqa: S603

    run("migrate", "-v", "0")
    load = "from hongniang.members.tests import import_load as m;"
    run("shell", "-c", f"{load} m.prepare({ROWS})")
    assert sqlite3.connect(database).execute("pragma journal_mode").fetchone()[0] == "wal"

    out = tmp_path / "attempts.json"
    colleague = subprocess.Popen(  # noqa: S603
        [*manage, "shell", "-c", f"{load} m.log_in_while_importing({str(out)!r})"],
        env=env,
        cwd=root,
    )
    try:
        run("run_worker", "--batch", "--no-scheduler", "-v", "0")
        assert colleague.wait(timeout=600) == 0
    finally:
        if colleague.poll() is None:
            colleague.kill()

    db = sqlite3.connect(database)
    state, result = db.execute(
        "select state, result from jobs_job where kind = 'member_import'"
    ).fetchone()
    assert state == "succeeded", result
    assert json.loads(result)["created"] > ROWS * 0.9
    attempts = json.loads(out.read_text(encoding="utf-8"))
    failures = [a for a in attempts if "error" in a or a["login"] != 302 or a["page"] != 200]
    assert not failures, failures[:5]
    # The colleague was working while the import ran (checking and writing).
    assert any(a["state"] == "running" for a in attempts), attempts[:5]
