"""Member import at 100,000 rows into a database of 100,000 members.

    python bench/import_bench.py [--rows 100000] [--style template|messy] [--user hn111]

Copies the seeded bench database (bench/bench.sqlite3, made by pages_bench.py; seeded here if
missing) to a scratch file, generates a file of realistic, messy rows (bench/import_data.py),
then runs the import's two jobs in this process — the code the worker runs — and prints the
preview time, the confirm time, the total and the SQL queries per 1,000 rows. With
DATABASE_URL set (deploy/with-postgres.sh) it runs on that database instead of a copy.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 60


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default=str(ROOT / "bench" / "bench.sqlite3"))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--style", choices=["template", "messy"], default="template")
    parser.add_argument("--user", default="hn111")
    args = parser.parse_args()
    scratch = None
    if "DATABASE_URL" not in os.environ:
        scratch = ROOT / "bench" / "import-bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{scratch}{suffix}").unlink(missing_ok=True)
        if Path(args.source).exists():
            shutil.copyfile(args.source, scratch)
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongniang.settings")
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    media = Path(tempfile.mkdtemp(prefix="import-bench-"))
    os.environ["MEDIA_ROOT"] = str(media)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import translation

    from bench import import_data
    from hongniang.jobs.models import JobKind
    from hongniang.jobs.services import job_start
    from hongniang.members import excel, tasks
    from hongniang.members import personal_data as pd
    from hongniang.members.importing import pipeline
    from hongniang.members.models import Member
    from hongniang.staff.models import Staff

    call_command("migrate", verbosity=0)
    if Member.objects.count() < 1000:
        call_command("load_regions", verbosity=0)
        call_command("seed_demo", members=100_000, quiet=True)
    before = Member.objects.count()
    print(f"database: {connection.vendor}; members before: {before:,}")

    # Some rows are members already registered (their mobiles, decrypted with the dev key).
    registered = [
        pd.decrypt(m) for m in Member.objects.values_list("mobile_encrypted", flat=True)[:300]
    ]
    with translation.override("zh-hans"):
        headers = [str(excel.HEADERS[k]) for k in import_data.TEMPLATE_KEYS]
    excel.upload_dir().mkdir(parents=True, exist_ok=True)
    token = "b" * 32  # the upload's name (what the upload view would have stored)
    path = excel.upload_path(token)
    t0 = time.perf_counter()
    import_data.write(
        path,
        rows=args.rows,
        style=args.style,
        registered_mobiles=[m for m in registered if m],
        template_headers=headers,
    )
    print(
        f"file: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB, "
        f"generated in {time.perf_counter() - t0:.1f} s"
    )
    user = Staff.objects.get(username=args.user)
    queries = {"n": 0}

    def count(execute, sql, params, many, context):
        queries["n"] += 1
        return execute(sql, params, many, context)

    def run(step, work_task):
        queries["n"] = 0
        with connection.execute_wrapper(count):
            started, cpu = time.perf_counter(), time.process_time()
            job = job_start(
                actor=user,
                kind=JobKind.MEMBER_IMPORT,
                title=f"bench import {step}",
                work_task=work_task,
                params={
                    "step": step,
                    "token": token,
                    "file_name": "bench.xlsx",
                    "mapping": None,
                    "mode": pipeline.Mode.SKIP,
                },
            )
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
        job.refresh_from_db()
        if job.error:
            print(job.error)
        return job, elapsed, cpu, queries["n"]

    preview, preview_s, preview_cpu, preview_q = run(tasks.PREVIEW, tasks.import_preview)
    confirm, confirm_s, confirm_cpu, confirm_q = run(tasks.CONFIRM, tasks.import_confirm)
    total = preview_s + confirm_s
    per_k = 1000 / max(args.rows, 1)
    result = confirm.result
    # CPU seconds of this process beside the wall clock: on a shared machine the wall clock
    # also counts the time other processes had the cores.
    print(f"{'step':<10} {'seconds':>8} {'cpu s':>8} {'queries':>8} {'per 1,000 rows':>15}  state")
    for step, seconds, cpu, count, job in (
        ("preview", preview_s, preview_cpu, preview_q, preview),
        ("confirm", confirm_s, confirm_cpu, confirm_q, confirm),
    ):
        print(
            f"{step:<10} {seconds:>8.1f} {cpu:>8.1f} {count:>8} {count * per_k:>15.1f}  {job.state}"
        )
    print(
        f"{'total':<10} {total:>8.1f} {preview_cpu + confirm_cpu:>8.1f}"
        f"   (target ≤ {TARGET_SECONDS} s)"
    )
    print(f"preview counts: {preview.result.get('counts')}")
    print(
        f"imported {result.get('created', 0):,}, skipped {result.get('skipped', 0):,}, "
        f"rejected {result.get('rejected', 0):,}, warned {result.get('warned', 0):,}; "
        f"members after: {Member.objects.count():,}"
    )
    shutil.rmtree(media, ignore_errors=True)
    if scratch is not None:
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{scratch}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
