"""The matching engine at start and across processes, on a 100,000-member agency.

    python bench/engine_start_bench.py [--db bench/bench.sqlite3] [--entries 1,100,1000,10000]

Uses the seeded database of bench/pages_bench.py (SQLite file; with DATABASE_URL set, e.g. under
`bash deploy/with-postgres.sh`, that database, seeded by `pages_bench.py --only NOTHING`).
Each figure that concerns a process start is taken in a fresh process. Prints:
- before: the first match-library request when the engine is built inside it (the old way);
- the snapshot build (the worker's job) and its size on disk;
- the snapshot load in a fresh process (and that process's memory);
- the first match-library request after a restart (loads the snapshot, applies the log);
- applying N change-log rows (member changes, answers) before an answer, and the check when
  nothing changed; folding N rows into a new snapshot.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(args):
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{args.db}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongniang.settings")
    os.environ["ENGINE_SNAPSHOT_DIR"] = args.snapshots
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.DEBUG = False
    return settings


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def library_member():
    from hongniang.matching.selectors import offerable_members

    qs = offerable_members().order_by("pk")
    return qs[qs.count() // 2]


def phase_build(args):
    setup(args)
    from hongniang.matching import index

    started = time.perf_counter()
    path = index.build_snapshot()
    took = time.perf_counter() - started
    size = sum(f.stat().st_size for f in path.iterdir())
    return {"build_s": took, "snapshot_mb": size / 1e6, "name": path.name}


def phase_load(args):
    setup(args)
    from hongniang.matching import index

    before = rss_mb()
    started = time.perf_counter()
    state = index._load(index.latest_snapshot())
    took = time.perf_counter() - started
    return {"load_s": took, "members": len(state.engine), "rss_mb": rss_mb() - before}


def phase_first(args):
    settings = setup(args)
    if args.build_in_request:
        settings.ENGINE_BUILD_IN_REQUEST = True
    from django.test import Client

    from hongniang.staff.models import Staff

    member = library_member()
    client = Client()
    client.force_login(Staff.objects.get(username="admin"))
    url = f"/matching/member/{member.pk}/"
    warm_s = 0.0
    if not args.build_in_request:
        # What wsgi.py does as a web process starts (the test client does not go through it).
        from hongniang.matching import index

        started = time.perf_counter()
        thread = index.warm_up()
        if thread is not None:
            thread.join()
        warm_s = time.perf_counter() - started
    times = []
    for _ in range(3):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return {
        "warm_s": warm_s,
        "first_s": times[0],
        "next_s": min(times[1:]),
        "engine": response["X-Matching-Engine"],
        "candidates": response.content.decode().count("data-candidate="),
    }


def phase_apply(args):
    setup(args)
    import random

    from django.db import transaction

    from hongniang.matching import index
    from hongniang.matching.models import EngineChange, EngineChangeKind
    from hongniang.matching.selectors import offerable_members

    rng = random.Random(7)
    ids = list(offerable_members().values_list("pk", flat=True))
    index.get_engine()
    start = EngineChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
    out = {}
    try:
        started = time.perf_counter()
        for _ in range(20):
            index.get_engine()
        out["nothing_new_ms"] = (time.perf_counter() - started) / 20 * 1000
        for n in args.entries:
            with transaction.atomic():
                index.record_members(rng.sample(ids, n))
            started = time.perf_counter()
            index.get_engine()
            out[f"members_{n}_s"] = time.perf_counter() - started
            with transaction.atomic():
                for _ in range(n):
                    a, b = rng.sample(ids, 2)
                    index.record(
                        EngineChangeKind.FEEDBACK, a, b, liked=False, reasons=["not_my_type"]
                    )
            started = time.perf_counter()
            index.get_engine()
            out[f"answers_{n}_s"] = time.perf_counter() - started
        started = time.perf_counter()
        index.build_snapshot(full=False)
        out["fold_s"] = time.perf_counter() - started
        out["folded_rows"] = EngineChange.objects.filter(id__gt=start).count()
    finally:
        # Leave the bench database as it was (the snapshot directory is the bench's own).
        EngineChange.objects.filter(id__gt=start).delete()
    return out


PHASES = {"build": phase_build, "load": phase_load, "first": phase_first, "apply": phase_apply}


def run_phase(args, name, *extra):
    """A phase in a fresh process; returns what it measured."""
    cmd = [sys.executable, __file__, "--phase", name, "--db", args.db]
    cmd += ["--snapshots", args.snapshots, "--entries", ",".join(map(str, args.entries)), *extra]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        sys.exit(f"phase {name} failed:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(ROOT / "bench" / "bench.sqlite3"))
    parser.add_argument("--snapshots", default=str(ROOT / "bench" / "engine-snapshots"))
    parser.add_argument("--entries", default="1,100,1000,10000")
    parser.add_argument("--phase", default="")
    parser.add_argument("--build-in-request", action="store_true")
    parser.add_argument("--skip-before", action="store_true", help="skip the (slow) old way")
    args = parser.parse_args()
    args.entries = [int(n) for n in str(args.entries).split(",") if n]
    if args.phase:
        print(json.dumps(PHASES[args.phase](args)))
        return
    if not os.environ.get("DATABASE_URL") and not Path(args.db).exists():
        sys.exit(f"{args.db} does not exist: seed it with bench/pages_bench.py --only NOTHING")
    vendor = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    print(f"database: {vendor}; snapshots in {args.snapshots}")
    shutil.rmtree(args.snapshots, ignore_errors=True)
    done = subprocess.run(  # noqa: S603 (the bench database may predate the change log)
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"],
        env={**os.environ, "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{args.db}")},
        check=False,
    )
    if done.returncode:
        sys.exit("migrate failed")
    rows = []
    if not args.skip_before:
        before = run_phase(args, "first", "--build-in-request")
        rows.append(("before: first library request (builds the engine)", before["first_s"], ""))
    build = run_phase(args, "build")
    rows.append(("snapshot build (worker job)", build["build_s"], f"{build['snapshot_mb']:.0f} MB"))
    load = run_phase(args, "load")
    rows.append(
        (
            "snapshot load, fresh process",
            load["load_s"],
            f"{load['members']:,} members, +{load['rss_mb']:.0f} MB RSS",
        )
    )
    first = run_phase(args, "first")
    rows.append(("web process warm-up at start (wsgi.py)", first["warm_s"], "snapshot + jieba"))
    rows.append(
        (
            "after: first library request after a restart (warmed)",
            first["first_s"],
            f"{first['engine'].split(' position')[0]}",
        )
    )
    rows.append(("library request, engine loaded", first["next_s"], f"{first['candidates']} shown"))
    apply = run_phase(args, "apply")
    rows.append(("catch-up when nothing changed (1 query)", apply["nothing_new_ms"] / 1000, ""))
    for n in args.entries:
        rows.append((f"apply {n:,} member-change rows", apply[f"members_{n}_s"], ""))
        rows.append((f"apply {n:,} answer rows", apply[f"answers_{n}_s"], ""))
    rows.append((f"fold {apply['folded_rows']:,} rows into a new snapshot", apply["fold_s"], ""))
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'time':>10}")
    for label, seconds, note in rows:
        shown = f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"
        print(f"{label:{width}}  {shown:>10}  {note}")


if __name__ == "__main__":
    main()
