"""Messages to members at 100,000 members (the bench database of pages_bench.py).

    cp /work/bench-master.sqlite3 bench/bench.sqlite3      # or let pages_bench.py seed it
    python bench/messaging_bench.py [--db bench/bench.sqlite3] [--user mgr11] [--count 2000]

Runs a bulk message job (SMS through the logging backend, internal messages) in this process for
the first `count` members the user may see, then runs it again (nothing may be sent twice), and
times the inbox, sent box and compose pages. Prints seconds, SQL queries and per-member figures.
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
    parser.add_argument("--user", default="mgr11")
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{args.db}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongniang.settings")
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from hongniang.jobs.models import Job, JobState
    from hongniang.members.models import Member
    from hongniang.messaging import services, tasks
    from hongniang.messaging.models import Delivery
    from hongniang.messaging.sms import LoggingSmsBackend
    from hongniang.staff.models import Staff

    call_command("migrate", verbosity=0)
    if Member.objects.count() < 1000:
        call_command("seed_demo", members=100_000, quiet=True)
    user = Staff.objects.get(username=args.user)
    visible = Member.objects.visible_to(user).order_by("pk")
    print(
        f"database: {connection.vendor}; members: {Member.objects.count():,}; "
        f"visible to {user.username}: {visible.count():,}"
    )
    ids = list(visible.values_list("pk", flat=True)[: args.count])
    members = Member.objects.filter(pk__in=ids)
    print(f"{'run':<28} {'members':>8} {'seconds':>8} {'queries':>8} {'q/member':>9} {'sent':>6}")
    for channel in ("sms", "internal"):
        LoggingSmsBackend.outbox.clear()
        reset_queries()  # the query log keeps 9,000 at most
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            job = services.bulk_start(
                actor=user, channel=channel, subject="通知", body="{name}，您好！", members=members
            )
            elapsed = time.perf_counter() - t0
        job.refresh_from_db()
        n = len(ctx.captured_queries)
        print(
            f"bulk {channel:<23} {len(ids):>8} {elapsed:>8.1f} {n:>8} {n / len(ids):>9.1f} "
            f"{job.result.get('sent', 0):>6}"
        )
        Job.objects.filter(pk=job.pk).update(state=JobState.QUEUED)
        reset_queries()  # the query log keeps 9,000 at most
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            tasks.bulk_message.call(str(job.pk))
            elapsed = time.perf_counter() - t0
        extra = Delivery.objects.filter(job=job).count() - len(ids)
        n = len(ctx.captured_queries)
        print(f"  same job again{'':<13} {len(ids):>8} {elapsed:>8.1f} {n:>8} {'':>9} {extra:>6}")
    client = Client()
    client.force_login(user)
    for name, url in (
        ("inbox", "/messages/"),
        ("sent box", "/messages/sent/"),
        ("compose", f"/messages/to/{ids[0]}/"),
    ):
        times = []
        for _ in range(5):
            reset_queries()
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                status = client.get(url).status_code
                times.append(time.perf_counter() - t0)
        times.sort()
        print(
            f"page {name:<23} status {status}  median {times[2] * 1000:.0f} ms, "
            f"{len(ctx.captured_queries)} queries"
        )


if __name__ == "__main__":
    main()
