"""Member list and allocation pool pages on a 100,000-member agency (SQLite by default).

    python bench/pages_bench.py [--members 100000] [--repeat 15]

Uses its own database file (bench/bench.sqlite3, created and seeded on first run, reused after),
requests each page through Django's test client as the administrator and as a manager, and prints
the median and 95th-percentile time per page and the number of SQL queries, at two page sizes to
show that the query count does not grow with the page size.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--db", default=str(ROOT / "bench" / "bench.sqlite3"))
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also print, per page, the slowest SQL query with its query plan",
    )
    parser.add_argument("--only", default="", help="run only the pages whose label contains this")
    parser.add_argument("--users", default="admin,mgr11", help="comma-separated usernames")
    parser.add_argument("--sizes", default="20,100", help="comma-separated page sizes")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{args.db}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongniang.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from hongniang.members.models import Member
    from hongniang.staff.models import Staff

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    call_command("load_regions", verbosity=0)
    started = time.perf_counter()
    call_command("seed_demo", members=args.members, quiet=True)
    print(f"database: {connection.vendor} {args.db if connection.vendor == 'sqlite' else ''}")
    print(f"members: {Member.objects.count():,} (seeded in {time.perf_counter() - started:.1f} s)")

    users = [Staff.objects.get(username=name) for name in args.users.split(",")]
    from hongniang.members import personal_data as pd

    def pages_for(user):
        visible = Member.objects.visible_to(user).order_by("pk")
        some = visible[visible.count() // 2]
        mobile = pd.decrypt(visible[visible.count() // 3].mobile_encrypted)
        return [p for p in pages(some, mobile) if args.only in p[0]]

    return run(args, users, pages_for)


def pages(some, mobile):
    return [
        ("list: no filter", "/members/", {}),
        ("list: sex + age 25-35", "/members/", {"sex": "F", "age_min": 25, "age_max": 35}),
        ("list: education ≥ bachelor", "/members/", {"education": 60}),
        ("list: marital divorced", "/members/", {"marital_status": "divorced"}),
        (
            "list: region Guangzhou",
            "/members/",
            {"region_province": "440000", "region_city": "440100"},
        ),
        ("list: registered 1 month", "/members/", {"window": "1m"}),
        ("list: stage signed", "/members/", {"sales_stage": "signed"}),
        ("list: by mobile (hash)", "/members/", {"mobile": mobile}),
        ("list: by member ID", "/members/", {"member_id": some.pk}),
        ("list: sort by age", "/members/", {"sort": "age"}),
        ("list: page 200", "/members/", {"page": 200}),
        ("pool: not signed", "/members/allocate/", {"pool": "unsigned"}),
        ("pool: signed, 3 months", "/members/allocate/", {"pool": "signed", "window": "3m"}),
        ("pool: abandoned", "/members/allocate/", {"pool": "abandoned"}),
        ("reallocate: not followed", "/members/reallocate/", {"group": "not_followed"}),
        ("reallocate: signed", "/members/reallocate/", {"group": "signed"}),
        ("member detail", f"/members/{some.pk}/", {}),
    ]


def run(args, users, pages_for):
    import time

    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from hongniang.siteconfig.models import SiteSettings

    site = SiteSettings.load()
    rows, plans = [], []
    for user in users:
        client = Client()
        client.force_login(user)
        for page_size in [int(n) for n in args.sizes.split(",")]:
            site.member_page_size = page_size
            site.save()
            for label, url, params in pages_for(user):
                times, queries, slowest = [], 0, {}
                for i in range(args.repeat + 1):
                    # The query log keeps the last 9,000 queries only: once full, a capture
                    # would count none, so empty it before each request.
                    reset_queries()
                    with CaptureQueriesContext(connection) as ctx:
                        t0 = time.perf_counter()
                        response = client.get(url, params)
                        elapsed = (time.perf_counter() - t0) * 1000
                    assert response.status_code == 200, (url, response.status_code)
                    if i:  # the first request warms caches
                        times.append(elapsed)
                        for n, q in enumerate(ctx.captured_queries):
                            slowest.setdefault(n, []).append((float(q["time"]), q["sql"]))
                    queries = len(ctx.captured_queries)
                if args.explain and slowest:
                    # the query with the highest median time over the repeats
                    med = {
                        n: (statistics.median(t for t, _ in runs), runs[-1][1])
                        for n, runs in slowest.items()
                    }
                    n, (t, sql) = max(med.items(), key=lambda item: item[1][0])
                    plans.append((user.username, page_size, label, n, t * 1000, sql, explain(sql)))
                times.sort()
                p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
                rows.append(
                    (user.username, page_size, label, statistics.median(times), p95, queries)
                )
    site.member_page_size = 20
    site.save()
    print(f"\n{'user':<7}{'size':>5}  {'page':<28}{'median ms':>10}{'p95 ms':>9}{'queries':>9}")
    for user, size, label, med, p95, q in rows:
        print(f"{user:<7}{size:>5}  {label:<28}{med:>10.1f}{p95:>9.1f}{q:>9}")
    worst = max(rows, key=lambda r: r[4])
    print(f"\nworst p95: {worst[4]:.1f} ms ({worst[0]}, {worst[2]}, page size {worst[1]})")
    grows = [
        (a[0], a[2], a[5], b[5])
        for a in rows
        for b in rows
        if a[0] == b[0] and a[2] == b[2] and a[1] == 20 and b[1] == 100 and a[5] != b[5]
    ]
    print("query count independent of page size:", "yes" if not grows else f"NO {grows}")
    for user, size, label, n, ms, sql, plan in plans:
        print(f"\n== {user} size {size} {label}: slowest query #{n + 1}, median {ms:.1f} ms")
        print(sql if len(sql) < 1500 else sql[:1500] + " …")
        print(plan)


def explain(sql: str) -> str:
    """The database's plan for a captured query (its parameters are already inlined)."""
    from django.db import connection

    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    try:
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            rows = cursor.fetchall()
    except Exception as exc:  # noqa: BLE001 - a report, not a test
        return f"(no plan: {exc})"
    if connection.vendor == "sqlite":
        return "\n".join(f"  {row[-1]}" for row in rows)
    return "\n".join(f"  {row[0]}" for row in rows)


if __name__ == "__main__":
    main()
