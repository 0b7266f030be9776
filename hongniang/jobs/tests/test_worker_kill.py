import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path


def test_a_killed_worker_leaves_nothing_and_the_job_runs_again(tmp_path):
    """Real processes on a real database file: start a slow job, kill -9 its worker half-way,
    start another worker: the job runs once more and its rows exist exactly once."""
    root = Path(__file__).resolve().parents[3]
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DJANGO_SETTINGS_MODULE": "hongniang.settings",
    }
    manage = [sys.executable, str(root / "manage.py")]

    def run(*args, **kw):
        return subprocess.run([*manage, *args], env=env, cwd=root, check=True, timeout=120, **kw)  # noqa: S603

    run("migrate", "-v", "0")
    run(
        "shell",
        "-c",
        "from hongniang.jobs.services import job_start;"
        "from hongniang.jobs.tests.sample_jobs import make_stores;"
        "job_start(actor=None, kind='other', title='slow', work_task=make_stores,"
        " params={'names': ['慢%d' % i for i in range(40)], 'pause': 0.1})",
    )
    db = sqlite3.connect(tmp_path / "jobs.sqlite3")

    def job_state():
        return db.execute("select state, attempts from jobs_job").fetchone()

    worker = subprocess.Popen([*manage, "run_worker", "-v", "0"], env=env, cwd=root)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while job_state()[0] != "running" and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        worker.kill()
        worker.wait()
        assert job_state() == ("running", 1)
        assert db.execute("select count(*) from staff_store").fetchone()[0] == 0
        run("run_worker", "--batch", "-v", "0")
    finally:
        if worker.poll() is None:
            worker.kill()
    assert job_state() == ("succeeded", 2)
    assert db.execute("select count(*) from staff_store where name like '慢%'").fetchone()[0] == 40
