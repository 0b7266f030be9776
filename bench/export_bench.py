"""Member export as a background job at 100,000 members (the bench database of pages_bench.py).

    python bench/export_bench.py [--users admin,mgr11]

Runs the export job in this process (the job code is what the worker runs) for each user, masked,
and prints the rows written, the seconds taken (wall clock, and this process's CPU: on a shared
machine the wall clock also counts other processes; on PostgreSQL on this machine, the server's
CPU too) and the number of SQL queries.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(ROOT / "bench" / "bench.sqlite3"))
    parser.add_argument("--users", default="admin,mgr11")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{args.db}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongniang.settings")
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.server_cpu import server_cpu
    from hongniang.jobs.models import JobKind
    from hongniang.jobs.services import job_start
    from hongniang.members import tasks
    from hongniang.members.models import Member
    from hongniang.staff.models import Staff

    call_command("migrate", verbosity=0)
    if Member.objects.count() < 1000:
        call_command("seed_demo", members=100_000, quiet=True)
    print(f"database: {connection.vendor}; members: {Member.objects.count():,}")
    print(
        f"{'user':<10} {'rows':>8} {'wall s':>8} {'CPU s':>8} {'server CPU s':>13} {'queries':>8}"
        "  state (target ≤ 20 s)"
    )
    for username in args.users.split(","):
        user = Staff.objects.get(username=username)
        server = server_cpu(connection)
        with CaptureQueriesContext(connection) as ctx:
            t0, cpu = time.perf_counter(), time.process_time()
            job = job_start(
                actor=user,
                kind=JobKind.MEMBER_EXPORT,
                title="bench export",
                work_task=tasks.export_members,
                params={"query": "", "full": False},
            )
            elapsed = time.perf_counter() - t0
            cpu = time.process_time() - cpu
        server = "-" if server is None else f"{server_cpu(connection) - server:.1f}"
        job.refresh_from_db()
        rows = job.result.get("count", 0)
        queries = len(ctx.captured_queries)
        print(
            f"{username:<10} {rows:>8,} {elapsed:>8.1f} {cpu:>8.1f} {server:>13} {queries:>8}"
            f"  {job.state}"
        )
        job.result_file.delete(save=False)
        job.delete()


if __name__ == "__main__":
    main()
