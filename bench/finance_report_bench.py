"""The sales report over 1,000,000 payments (whitepaper 2.6.4; target: under 500 ms on SQLite).

    python bench/finance_report_bench.py [--payments 1000000] [--repeat 15]

Builds a scratch database (bench/finance-bench.sqlite3, or DATABASE_URL when set): the demo staff,
2,000 members, 40,000 effective contracts and the payments spread over three years, then the
report's daily totals by the same function that repairs them (`rebuild_sales_days`). It prints
the time of that rebuild, then the report's median and p95 for an administrator, a manager and
a matchmaker over a month, a year and three years.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_MS = 500


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--reuse", action="store_true", help="keep a scratch database made by an earlier run"
    )
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        scratch = ROOT / "bench" / "finance-bench.sqlite3"
        for suffix in ("", "-wal", "-shm") if not args.reuse else ():
            Path(f"{scratch}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongniang.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from hongniang.finance import selectors, services
    from hongniang.finance.models import Contract, ContractStatus, Payment, SalesDay
    from hongniang.members.models import Member
    from hongniang.staff.models import Staff

    call_command("migrate", verbosity=0)
    if args.reuse and Payment.objects.count() >= args.payments:
        print(f"database: {connection.vendor}; payments: {Payment.objects.count():,} (reused)")
        report(args, selectors, Staff, timezone)
        return
    call_command("load_regions", verbosity=0)
    call_command("seed_demo", members=2000, quiet=True)
    rng = random.Random(7)
    today = timezone.localdate()
    members = list(
        Member.objects.exclude(presales_owner=None).values_list(
            "pk", "presales_owner_id", "store_id"
        )
    )
    sellers = dict(Staff.objects.values_list("pk", "store_id"))
    started = time.perf_counter()
    contracts = []
    for i in range(40_000):
        member, owner, store = members[i % len(members)]
        start = today - timedelta(days=rng.randrange(0, 3 * 365))
        contracts.append(
            Contract(
                number=f"BENCH{i:07d}",
                member_id=member,
                amount=Decimal(rng.choice([6800, 12800, 19800])),
                service_start=start,
                service_end=start + timedelta(days=365),
                signed_by_id=owner,
                store_id=store or sellers[owner],
                status=ContractStatus.EFFECTIVE,
                created_by_id=owner,
                approved_at=timezone.make_aware(
                    timezone.datetime.combine(start, timezone.datetime.min.time())
                ),
            )
        )
    Contract.objects.bulk_create(contracts, batch_size=2000)
    ids = list(
        Contract.objects.filter(number__startswith="BENCH").values_list(
            "pk", "member_id", "service_start"
        )
    )
    batch = []
    for n in range(args.payments):
        pk, member, start = ids[n % len(ids)]
        batch.append(
            Payment(
                contract_id=pk,
                member_id=member,
                paid_on=min(start + timedelta(days=rng.randrange(0, 300)), today),
                amount=Decimal(rng.choice([500, 1000, 2000, 3000])),
                method="wechat",
                recorded_by_id=1,
            )
        )
        if len(batch) == 20_000:
            Payment.objects.bulk_create(batch)
            batch = []
    Payment.objects.bulk_create(batch)
    print(
        f"database: {connection.vendor}; payments: {Payment.objects.count():,}; "
        f"contracts: {Contract.objects.count():,} (made in {time.perf_counter() - started:.1f} s)"
    )
    t0 = time.perf_counter()
    services.rebuild_sales_days()
    print(
        f"daily totals rebuilt from the payments in {time.perf_counter() - t0:.1f} s "
        f"({SalesDay.objects.count():,} rows)"
    )
    report(args, selectors, Staff, timezone)


def report(args, selectors, Staff, timezone):
    today = timezone.localdate()
    print(f"\n{'user':<8}{'window':<10}{'median ms':>10}{'p95 ms':>9}{'CPU ms':>9}")
    worst = 0.0
    for username in ("admin", "mgr11", "hn111"):
        user = Staff.objects.get(username=username)
        for label, days in (("month", 30), ("year", 365), ("3 years", 3 * 365)):
            times, cpu = [], []
            for _ in range(args.repeat):
                t, c = time.perf_counter(), time.process_time()
                selectors.sales_report(
                    viewer=user, start=today - timedelta(days=days - 1), end=today
                )
                times.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
            worst = max(worst, p95)
            print(
                f"{username:<8}{label:<10}{statistics.median(times):>10.1f}{p95:>9.1f}"
                f"{statistics.median(cpu):>9.1f}"
            )
    verdict = "met" if worst < TARGET_MS else "NOT met"
    print(f"\nworst p95: {worst:.1f} ms (target < {TARGET_MS} ms): {verdict}")


if __name__ == "__main__":
    main()
