"""Member import at 100,000 rows into a database of 100,000 members.

    python bench/import_bench.py [--rows 100000] [--style messy|template] [--user hn111]
                                 [--phases] [--profile DIR]
    bash deploy/with-postgres.sh python bench/import_bench.py   # the same on PostgreSQL

Copies the seeded bench database (bench/bench.sqlite3, made by pages_bench.py; seeded here if
missing) to a scratch file, generates a file of realistic, messy rows (bench/import_data.py),
then runs the import's two jobs in this process — the code the worker runs — and prints the
preview and confirm times (wall clock and this process's CPU), the total against the 60 s
target and the SQL queries per 1,000 rows; ``--phases`` adds the CPU seconds of each step of the
import, ``--profile`` writes cProfile stats. With DATABASE_URL set (deploy/with-postgres.sh) it
runs on that database instead of a copy (seeding 100,000 demo members there first if empty).
"""

import argparse
import cProfile
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
    parser.add_argument("--style", choices=["template", "messy"], default="messy")
    parser.add_argument("--user", default="hn111")
    parser.add_argument(
        "--phases", action="store_true", help="print the CPU seconds of each phase of the import"
    )
    parser.add_argument(
        "--profile", metavar="DIR", help="write each step's cProfile stats (.prof) to DIR"
    )
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
    from bench.server_cpu import server_cpu
    from hongniang.jobs.models import JobKind
    from hongniang.jobs.services import job_start
    from hongniang.matching import index
    from hongniang.members import excel, tasks
    from hongniang.members import personal_data as pd
    from hongniang.members.importing import pipeline, writer
    from hongniang.members.models import Member
    from hongniang.staff.models import Staff
    from hongniang.workbench import bulk

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
    phases = _time_phases() if args.phases else None
    queries = {"n": 0}

    def count(execute, sql, params, many, context):
        queries["n"] += 1
        return execute(sql, params, many, context)

    # A bulk insert (COPY on PostgreSQL) bypasses the wrappers: count it as the query it is.
    def counted_insert(*args, _insert=bulk.insert_rows, **kwargs):
        queries["n"] += 1
        return _insert(*args, **kwargs)

    writer.insert_rows = index.insert_rows = counted_insert

    def run(step, work_task):
        queries["n"] = 0
        profiler = cProfile.Profile() if args.profile else None
        server_before = server_cpu(connection)
        with connection.execute_wrapper(count):
            started, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
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
            if profiler:
                profiler.disable()
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
        server = None if server_before is None else server_cpu(connection) - server_before
        if profiler:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(Path(args.profile) / f"{step}.prof")
        job.refresh_from_db()
        if job.error:
            print(job.error)
        return job, elapsed, cpu, queries["n"], server

    preview, preview_s, preview_cpu, preview_q, preview_srv = run(
        tasks.PREVIEW, tasks.import_preview
    )
    if phases:
        _print_phases("preview", phases)
    confirm, confirm_s, confirm_cpu, confirm_q, confirm_srv = run(
        tasks.CONFIRM, tasks.import_confirm
    )
    if phases:
        _print_phases("confirm", phases)
    total = preview_s + confirm_s
    per_k = 1000 / max(args.rows, 1)
    result = confirm.result
    # CPU seconds of this process beside the wall clock: on a shared machine the wall clock
    # also counts the time other processes had the cores.
    queries_total = preview_q + confirm_q
    print(f"database: {connection.vendor}; {args.rows:,} {args.style} rows")
    # The server's CPU (PostgreSQL on this machine): the inserts' and index upkeep's share.
    srv_total = None if preview_srv is None else preview_srv + confirm_srv
    print(
        f"{'step':<10} {'wall s':>8} {'CPU s':>8} {'server CPU s':>13} {'queries':>8} "
        f"{'per 1,000 rows':>15}  state"
    )
    for step, seconds, cpu, srv, count, job in (
        ("preview", preview_s, preview_cpu, preview_srv, preview_q, preview),
        ("confirm", confirm_s, confirm_cpu, confirm_srv, confirm_q, confirm),
        ("total", total, preview_cpu + confirm_cpu, srv_total, queries_total, None),
    ):
        srv = "-" if srv is None else f"{srv:.1f}"
        print(
            f"{step:<10} {seconds:>8.1f} {cpu:>8.1f} {srv:>13} {count:>8} {count * per_k:>15.1f}"
            f"  {job.state if job else ''}"
        )
    verdict = "met" if total <= TARGET_SECONDS else "NOT met"
    print(
        f"target: preview + confirm ≤ {TARGET_SECONDS} s wall — {verdict} ({total:.1f} s wall, "
        f"{preview_cpu + confirm_cpu:.1f} s CPU of this process)"
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


def _time_phases() -> dict:
    """Wrap the import's main steps to add up their CPU seconds (cProfile's overhead on the
    many small calls of a row distorts their share; this costs a microsecond a call)."""
    from hongniang.matching import index
    from hongniang.members.importing import normalise, pipeline, report, snapshot, sources, writer

    totals = {}
    targets = [
        (pipeline, "open_upload"),
        (sources.Source, "iter_rows"),
        (normalise.RowNormaliser, "normalise"),
        (pipeline.FieldRules, "clean"),
        (pipeline.Checker, "_personal_data"),
        (pipeline.Checker, "check_row"),
        (pipeline.Checker, "_hash"),
        (pipeline, "_flag_duplicates_in_file"),
        (pipeline.Checker, "match_database"),
        (report, "rows_to_fix"),
        (report, "samples"),
        (snapshot, "save"),
        (snapshot, "load"),
        (writer, "prepare"),
        (writer._Table, "row"),
        (writer._Table, "row_from"),
        (writer._Table, "insert"),
        (writer, "_turn_away_registered_meanwhile"),
        (index, "record_members"),
    ]
    for owner, name in targets:
        original = getattr(owner, name)
        label = f"{getattr(owner, '__name__', owner)}.{name}".rsplit(".", 2)[-2:]
        label = ".".join(label)
        depth = {"n": 0}

        def timed(*a, _original=original, _label=label, _depth=depth, **kw):
            if _depth["n"]:  # re-entered (a generator's own calls): counted once
                return _original(*a, **kw)
            _depth["n"] += 1
            started = time.process_time()
            try:
                result = _original(*a, **kw)
            finally:
                _depth["n"] -= 1
                if _label == "_Table.insert":  # per table
                    _label = f"insert {a[0].model._meta.db_table}"
                totals[_label] = totals.get(_label, 0.0) + time.process_time() - started
            return result

        if name == "iter_rows":  # a generator: time its steps

            def timed(self, _original=original, _label=label):  # noqa: F811
                it = _original(self)
                while True:
                    started = time.process_time()
                    try:
                        item = next(it)
                    except StopIteration:
                        totals[_label] = totals.get(_label, 0.0) + time.process_time() - started
                        return
                    totals[_label] = totals.get(_label, 0.0) + time.process_time() - started
                    yield item

        setattr(
            owner,
            name,
            staticmethod(timed)
            if isinstance(owner, type) and isinstance(owner.__dict__.get(name), staticmethod)
            else timed,
        )
    return totals


def _print_phases(step: str, totals: dict) -> None:
    print(f"  {step} phases (CPU s; nested phases are inside their callers):")
    for label, seconds in sorted(totals.items(), key=lambda item: -item[1]):
        print(f"    {label:<45} {seconds:>7.2f}")
    totals.clear()


if __name__ == "__main__":
    main()
