"""Every workbench page on a 100,000-member agency, as three roles (SQLite by default).

    python bench/pages_bench.py [--members 100000] [--repeat 15] [--users admin,mgr11,hn111]

Uses its own database file (bench/bench.sqlite3, created and seeded on first run, reused after;
`--db` names another). With DATABASE_URL set it uses that database instead, migrated and seeded
the same way, e.g. PostgreSQL:

    DATABASE_URL='postgres://hongniang@/hongniang?host=/path/to/socket' \
        python bench/pages_bench.py --reuse-snapshot

Besides the demo members it seeds, once, what the pages list: appointments, introduction
requests, recommendations (with their history, for the audit trail), notices and jobs. Each run
folds the engine's change log into a new snapshot (the worker's job, ~150 s at 100,000 members);
`--reuse-snapshot` keeps the newest snapshot of this database when there is one.

The pages are taken from the URL configuration: every named URL is either walked (with real
records the user may see for its arguments, and with the main filters and tabs of the lists) or
listed in NOT_WALKED with the reason. A URL in neither is reported as not covered. Each page is
requested through Django's test client as each user, at two page sizes; the table shows the
median and 95th-percentile time and the number of SQL queries, then the worst p95 and whether any
query count grows with the page size. A 403 is listed as "forbidden" (some roles may not open
some pages); any other answer than 200 is a failure, and the script exits with status 1.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_MS = 150

# URL names that are not pages to walk, and why.
NOT_WALKED = {
    "set_language": "POST only",
    "staff:login": "the anonymous login form",
    "staff:logout": "POST only",
    "staff:set_status": "POST only",
    "staff:delete": "POST only",
    "staff:lockout_clear": "POST only",
    "staff:role_delete": "POST only",
    "staff:store_delete": "POST only",
    "siteconfig:image_delete": "POST only",
    "members:reveal": "POST only",
    "members:photo_add": "POST only",
    "members:photo_review": "POST only",
    "members:photo_avatar": "POST only",
    "members:photo_delete": "POST only",
    "members:allocate": "POST only",
    "members:import_confirm": "POST only",
    "members:photo_file": "a file download",
    "members:import_template": "a file download",
    "members:export": "starts an export job",
    "members:check_mobile": "live check, rate-limited per user",
    "members:check_id_number": "live check, rate-limited per user",
    "matching:recommend": "POST only",
    "matching:boost": "POST only",
    "matching:answer": "POST only",
    "matching:introduction_close": "POST only",
    "messaging:open": "marks the notice read, then redirects",
    "messaging:read_all": "POST only",
    "jobs:file": "a file download",
    "members:import_preview": "the preview of one uploaded file (bench/import_bench.py)",
    "members:import_job": "the page of one import job (bench/import_bench.py)",
    "member_messages:opt_out": "POST only",
    "member_messages:template_delete": "POST only",
    "members:release": "POST only",
    "members:allocation_answer": "POST only",
    "frontdesk:consultation_assign": "POST only",
    "frontdesk:qr": "an SVG image",
    "frontdesk:join_with_code": "a public registration page, not the workbench",
    "members:import_mapping": "the mapping screen of one uploaded file (needs an upload)",
    "portal:login": "the member centre's public login form",
    "portal:logout": "POST only",
    "portal:impersonate": "POST only (with the security password)",
    "portal:impersonation_end": "POST only",
    "portal:photo": "a file download (the member's own avatar)",
    "portal:account_open": "a form for one member without an account (answers with the password)",
    "portal:account_reset": "the same form, for one member with an account",
    "portal:account_active": "POST only",
    "members:pool_claim": "POST only",
    "portal:answer": "POST only",
    "portal:introduce": "POST only",
    "portal:introduce_public": "POST only",
    "portal:appointment_feedback": "POST only",
    "portal:pair_answer": "POST only",
    "portal:pair_withdraw": "POST only",
    "portal:peer_photo": "another member's photo (a file)",
    "matching:optin_end": "the confirmation page of one pair (POST ends it)",
    "portal:site_visibility": "POST only",
    "portal:reset_request": "the member centre's public reset form (sending is rate-limited)",
    "portal:reset_code": "the member centre's public reset form (checking is rate-limited)",
    "frontdesk:check_username": "a public live check, rate-limited per address",
    "frontdesk:check_mobile": "a public live check, rate-limited per address",
    "frontdesk:check_id_number": "a public live check, rate-limited per address",
    "finance:contract_submit": "POST only",
    "finance:contract_approve": "POST only (with the security password)",
    "finance:contract_reject": "POST only",
    "finance:payment_add": "POST only (with the security password)",
    "finance:refund_request": "POST only",
    "finance:report_export": "POST only (with the security password)",
    "finance:contract_pdf": "a PDF download",
    "finance:attachment_add": "POST only (an upload)",
    "finance:attachment_file": "a file download",
    "portal:site_member_photo": "a member's photo (a file)",
    "portal:site_story_photo": "a story's photo (a file)",
    "portal:site_flags": "POST only",
    "portal:story_photo_staff": "a story's photo (a file)",
    "family:logout": "POST only",
    "family:resend": "POST only (sends an SMS)",
}

# Family profiles: the relative's pages in a relative's session, the invitation page as the
# child, the switch in the member centre (walk_family).
FAMILY_PAGES = (
    "family:register",
    "family:thanks",
    "family:login",
    "family:centre",
    "family:introductions",
    "family:invitation",
    "family:share",
)

# The member centre's pages: walked in a member's session (one of the demo member accounts), as
# the user "member"; staff reach them only by logging in as a member.
MEMBER_PAGES = (
    "portal:home",
    "portal:password",
    "portal:recommendations",
    "portal:introductions",
    "portal:appointments",
    "portal:messages",
    "portal:service",
    "portal:profile_change",
    "portal:photos",
    "portal:card",
    "portal:pair",
)

# The public site: walked by an anonymous visitor, as the user "visitor".
PUBLIC_PAGES = (
    "portal:site_home",
    "portal:site_search",
    "portal:site_member",
    "portal:site_stories",
    "portal:site_story",
    "portal:robots_txt",
    "portal:sitemap",
    "portal:sitemap_section",
)
PUBLIC_SEARCHES = [
    ("no filter", {}),
    ("women", {"sex": "F"}),
    ("women 25-35", {"sex": "F", "age_min": 25, "age_max": 35}),
    ("education ≥ bachelor", {"education": 60}),
    ("divorced", {"marital_status": "divorced"}),
    ("occupation", {"occupation": "teacher"}),
    ("income ≥ 20万", {"income": 50}),
    ("Guangzhou", {"region_province": "440000", "region_city": "440100"}),
    (
        "every filter",
        {
            "sex": "M",
            "age_min": 28,
            "age_max": 40,
            "education": 60,
            "marital_status": "single",
            "occupation": "it",
            "income": 40,
            "region_province": "440000",
        },
    ),
    (
        "rare: men 60-70, doctorate, Lhasa",
        {"sex": "M", "age_min": 60, "age_max": 70, "education": 80, "region_province": "540000"},
    ),
    ("page 30", {"page": 30}),
]

MEMBER_FILTERS = [
    ("no filter", {}),
    ("sex + age 25-35", {"sex": "F", "age_min": 25, "age_max": 35}),
    ("education ≥ bachelor", {"education": 60}),
    ("marital divorced", {"marital_status": "divorced"}),
    ("region Guangzhou", {"region_province": "440000", "region_city": "440100"}),
    ("registered 1 month", {"window": "1m"}),
    ("stage signed", {"sales_stage": "signed"}),
    ("sort by age", {"sort": "age"}),
    ("page 200", {"page": 200}),
]


def variants(name, ctx):
    """(label, query parameters) to request for the URL `name`; one plain request by default."""
    from hongniang.matching.models import AppointmentStatus, IntroductionStatus
    from hongniang.members.selectors import POOLS, REALLOCATION_GROUPS

    if name == "members:list":
        return [
            *MEMBER_FILTERS,
            ("by mobile (hash)", {"mobile": ctx["mobile"]}),
            ("by member ID", {"member_id": ctx["member"].pk}),
        ]
    if name == "members:pools":
        return [(pool, {"pool": pool}) for pool in POOLS] + [
            ("signed, 3 months", {"pool": "signed", "window": "3m"})
        ]
    if name == "members:reallocate":
        return [(group, {"group": group}) for group in REALLOCATION_GROUPS]
    if name == "matching:appointments":
        return [
            ("list", {}),
            *[(f"status {s}", {"status": s}) for s in AppointmentStatus.values],
            ("arranged", {"view": "arranged"}),
            ("not arranged", {"view": "not_arranged"}),
            ("by count", {"view": "bucket"}),
            *[(f"by count {b}", {"view": "bucket", "bucket": b}) for b in ("0", "1", "2-3", "4+")],
        ]
    if name == "matching:introductions":
        return [("open", {}), ("all", {"status": ""})] + [
            (s, {"status": s}) for s in IntroductionStatus.values if s != "open"
        ]
    if name == "matching:library_index":
        return [("all", {}), ("matched ≥ 1", {"times_matched_min": 1}), ("page 20", {"page": 20})]
    if name == "matching:library":
        return [("ranking", {}), ("score ≥ 60, mine", {"min_score": 60, "team": "mine"})]
    if name == "matching:member_search":
        return [("by UID", {"q": str(ctx["member"].pk)}), ("by name", {"q": "王"})]
    if name == "siteconfig:audit":
        from hongniang.siteconfig.audit import audit_page

        # The trail pages by cursor: start where page 5 of 20 would (80 changes in).
        deep = audit_page(size=80).older
        return [("all", {}), ("page 5", {"before": deep} if deep else {})] + [
            (f"kind {k}", {"kind": k}) for k in ("member", "appointment", "recommendation")
        ]
    if name == "staff:list":
        return [("all", {}), ("search", {"q": "hn1"})]
    if name == "jobs:list":
        return [("all", {}), ("failed", {"state": "failed"})]
    if name == "members:region_children":
        return [("Guangdong", {"parent": "440000"})]
    if name == "member_messages:sent":
        return [("all", {}), ("sms", {"channel": "sms"})]
    if name == "messaging:list":
        return [("all", {}), ("page 3", {"page": 3})]
    if name == "finance:contracts":
        return [
            ("all", {}),
            ("waiting", {"tab": "submitted"}),
            ("ending 30", {"tab": "ending_30"}),
            ("expired", {"tab": "expired"}),
            ("search", {"q": "HT"}),
            ("search name", {"q": "王"}),
        ]
    if name in ("finance:report", "finance:report_outcomes"):
        return [(w, {"window": w}) for w in ("month", "year")]
    if name == "finance:payments":
        return [("all", {}), ("this month", {"window": "month"})]
    return [("", {})]


def url_args(name, ctx):
    """Arguments for a URL with converters, from records the user may see (None: none there)."""
    by_name = {
        "members:detail": "member",
        "members:edit": "member",
        "matching:library": "matchable",
        "matching:appointment_edit": "appointment",
        "staff:detail": "staff",
        "staff:edit": "staff",
        "staff:role_edit": "role",
        "staff:store_edit": "store",
        "siteconfig:image_edit": "image",
        "jobs:detail": "job",
        "jobs:progress": "job",
        "member_messages:detail": "message",
        "member_messages:compose": "member",
        "member_messages:template_edit": "message_template",
        "sales:follow_ups": "member",
        "sales:follow_up_add": "member",
        "frontdesk:consultation": "consultation",
        "frontdesk:consultation_convert": "consultation",
        "frontdesk:staff_link": "self",
        "frontdesk:staff_poster": "self",
        "finance:contract": "contract",
        "finance:contract_edit": "draft_contract",
        "finance:contract_new": "member",
        "finance:plan_edit": "plan",
        "finance:refund": "refund",
        "finance:complaint": "complaint",
        "home:member_ledger": "contract_member",
        "home:member_activity": "member",
        "members:saved_mapping_rename": "import_mapping",
        "members:saved_mapping_delete": "import_mapping",
        "portal:story_edit": "story",
        "portal:story_delete": "story",
    }
    if name == "members:journey_step":
        return None if ctx.get("member") is None else (ctx["member"].pk, "abandon")
    if name not in by_name:
        raise KeyError(name)
    obj = ctx.get(by_name[name])
    return None if obj is None else (obj.pk,)


def named_patterns():
    """(url name, pattern) of every named URL."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else "")
            elif isinstance(p, URLPattern) and p.name:
                yield f"{namespace}{p.name}", p

    yield from walk(get_resolver().url_patterns, "")


def context_for(user):
    """Records of each kind the user may see, to fill URL arguments."""
    from django.db.models import Q

    from hongniang.finance.models import Complaint, Contract, Refund, ServicePlan
    from hongniang.frontdesk.selectors import consultations_visible
    from hongniang.jobs.selectors import jobs_visible_to
    from hongniang.matching import selectors as ms
    from hongniang.members import personal_data as pd
    from hongniang.members.importing.mapping import mappings_of
    from hongniang.members.models import Member
    from hongniang.messaging.models import Message, MessageTemplate
    from hongniang.portal.site_services import stories_visible_to
    from hongniang.siteconfig.models import SiteImage
    from hongniang.staff.models import Role, Staff, Store

    visible = Member.objects.visible_to(user).order_by("pk")
    count = visible.count()
    member = visible[count // 2]
    matchable = visible.filter(ms.offerable_q())
    matchable = matchable[matchable.count() // 2] if matchable.exists() else None
    team = Staff.objects.visible_to(user).exclude(pk=user.pk).order_by("pk")
    contract = Contract.objects.visible_to(user).order_by("pk").first()
    return {
        "member": member,
        "mobile": pd.decrypt(visible[count // 3].mobile_encrypted),
        "matchable": matchable,
        "appointment": ms.appointments(viewer=user).order_by("pk").first(),
        "staff": team.first() or user,
        "role": Role.objects.order_by("pk").first(),
        "store": Store.objects.order_by("pk").first(),
        "image": SiteImage.objects.order_by("pk").first(),
        "job": jobs_visible_to(user).order_by("created_at").first(),
        "message": Message.objects.filter(Q(recipient_staff=user) | Q(sender_staff=user))
        .order_by("pk")
        .first(),
        "message_template": MessageTemplate.objects.order_by("pk").first(),
        "consultation": consultations_visible(user).order_by("pk").first(),
        "self": user,
        "contract": contract,
        "contract_member": contract.member if contract else None,
        "draft_contract": Contract.objects.visible_to(user)
        .filter(status__in=["draft", "rejected"])
        .order_by("pk")
        .first(),
        "plan": ServicePlan.objects.order_by("pk").first(),
        "refund": Refund.objects.visible_to(user).order_by("pk").first(),
        "complaint": Complaint.objects.visible_to(user).order_by("pk").first(),
        "import_mapping": mappings_of(user).first(),
        "story": stories_visible_to(user).order_by("pk").first(),
    }


def pages_for(user, only=""):
    """[(url name, label, path, params)] for the user, and [(url name, why)] not walked."""
    from django.urls import reverse

    ctx = context_for(user)
    pages, missing = [], []
    for name, pattern in named_patterns():
        if name in NOT_WALKED or name in (*MEMBER_PAGES, *PUBLIC_PAGES, *FAMILY_PAGES):
            continue
        if pattern.pattern.converters:
            try:
                args = url_args(name, ctx)
            except KeyError:
                missing.append((name, "not covered: add it to url_args or NOT_WALKED"))
                continue
            if args is None:
                missing.append((name, "no record to open"))
                continue
        else:
            args = ()
        path = reverse(name, args=args)
        for label, params in variants(name, ctx):
            full = f"{name} {label}".strip()
            if only in full:
                pages.append((name, full, path, params))
    return pages, missing


# --- data the pages list ----------------------------------------------------------------------


def seed_activity(seed: int = 11) -> None:
    """Appointments, introduction requests, recommendations (with history), notices and jobs,
    spread over all members; once (skipped when appointments exist)."""
    from django.db import transaction
    from django.utils import timezone
    from simple_history.utils import bulk_create_with_history

    from hongniang.jobs.models import Job, JobKind, JobState
    from hongniang.matching.counters import count_all_appointments
    from hongniang.matching.models import (
        Answer,
        Appointment,
        AppointmentOutcome,
        AppointmentStatus,
        IntroductionRequest,
        IntroductionStatus,
        Recommendation,
        RecommendationStatus,
    )
    from hongniang.messaging.models import Notice
    from hongniang.siteconfig.models import SiteImage
    from hongniang.staff.models import Staff

    if not SiteImage.objects.exists():
        # The edit page shows the stored name only: no file needs to exist.
        SiteImage.objects.create(kind="banner", title="横幅", image="site/bench.png")
    staff = list(Staff.objects.values_list("pk", flat=True))
    now = timezone.now()
    if not Job.objects.filter(task_path="bench-own").exists():
        Job.objects.bulk_create(  # everybody's own jobs (others see only their own)
            Job(
                kind=JobKind.MEMBER_EXPORT,
                title=f"导出 {pk}",
                created_by_id=pk,
                task_path="bench-own",
                state=JobState.SUCCEEDED,
                done=100,
                total=100,
                started_at=now - timedelta(hours=2),
                finished_at=now - timedelta(hours=1),
            )
            for pk in staff
        )
    if Appointment.objects.exists():
        return
    rng = random.Random(seed)
    from hongniang.members.models import Member

    ids = list(Member.objects.values_list("pk", flat=True))
    n = len(ids)

    def pairs(k):
        for _ in range(k):
            a, b = rng.sample(ids, 2)
            yield a, b

    with transaction.atomic():
        appointments = []
        for a, b in pairs(n * 3 // 10):
            status = rng.choices(list(AppointmentStatus.values), weights=(2, 6, 2))[0]
            when = now + timedelta(
                days=rng.randint(1, 60) if status == "planned" else -rng.randint(1, 700)
            )
            appointments.append(
                Appointment(
                    member_id=a,
                    partner_id=b,
                    starts_at=when,
                    place="天河路242号",
                    arranged_by_id=rng.choice(staff),
                    status=status,
                    outcome=rng.choice(AppointmentOutcome.values) if status == "held" else "",
                )
            )
        bulk_create_with_history(appointments, Appointment, batch_size=2000)
        count_all_appointments()  # bulk rows bypass the services that keep the counters
        recs = [
            Recommendation(
                member_id=a,
                candidate_id=b,
                recommended_by_id=rng.choice(staff),
                reason="性格相合",
                score=rng.randint(40, 95),
                status=rng.choice(RecommendationStatus.values),
            )
            for a, b in pairs(n * 3 // 10)
        ]
        bulk_create_with_history(recs, Recommendation, batch_size=2000)
        # What the answer services keep beside each answered recommendation (the first per
        # direction): the engine's full build and the learning step read them.
        answered = {}
        for rec in recs:
            if rec.status in ("accepted", "declined"):
                answered.setdefault((rec.member_id, rec.candidate_id), rec)
        Answer.objects.bulk_create(
            [
                Answer(
                    member_id=a,
                    other_id=b,
                    accepted=rec.status == "accepted",
                    reasons=list(rec.decline_reasons or []),
                    via="rec",
                    answered_at=now,
                )
                for (a, b), rec in answered.items()
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
        IntroductionRequest.objects.bulk_create(
            [
                IntroductionRequest(
                    member_id=a,
                    target_id=b,
                    message="想认识一下",
                    status=rng.choices(list(IntroductionStatus.values), weights=(5, 2, 2, 1))[0],
                    entered_by_id=rng.choice(staff),
                )
                for a, b in pairs(n // 10)
            ],
            batch_size=2000,
        )
        Notice.objects.bulk_create(
            [
                Notice(recipient_id=pk, text=f"通知 {i}", link="/members/")
                for pk in staff
                for i in range(60)
            ],
            batch_size=2000,
        )
        Job.objects.bulk_create(
            [
                Job(
                    kind=JobKind.MEMBER_EXPORT,
                    title=f"导出 {i}",
                    created_by_id=staff[0],
                    task_path="bench",
                    state=JobState.FAILED if i % 5 == 0 else JobState.SUCCEEDED,
                    done=100,
                    total=100,
                    started_at=now - timedelta(hours=i + 1),
                    finished_at=now - timedelta(hours=i),
                )
                for i in range(200)
            ]
        )


# --- measuring --------------------------------------------------------------------------------


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
    parser.add_argument("--users", default="admin,mgr11,hn111", help="comma-separated usernames")
    parser.add_argument("--sizes", default="20,100", help="comma-separated page sizes")
    parser.add_argument(
        "--centre-pairs",
        type=int,
        default=5,
        help="double opt-in pairs of each kind (waiting, mutual) for the walked member",
    )
    parser.add_argument(
        "--reuse-snapshot",
        action="store_true",
        help="keep the newest engine snapshot of this database instead of folding a new one",
    )
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
    grant_demo_rights()
    seed_activity()
    from hongniang.finance.demo import seed_finance

    seed_finance(first=20_000)  # a contract behind each signed member
    # The worker's engine snapshot, as in production (a request never builds the engine).
    from hongniang.matching import index

    if not (args.reuse_snapshot and index.latest_snapshot() is not None):
        call_command("build_engine_snapshot", fold=True, verbosity=0)
    if connection.vendor == "postgresql":
        # What autovacuum leaves a live database in: fresh statistics and visibility map (a bulk
        # seed leaves dead rows that make index-only scans read the table).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(f"members: {Member.objects.count():,} (seeded in {time.perf_counter() - started:.1f} s)")
    users = [Staff.objects.get(username=name) for name in args.users.split(",")]
    ok = run(args, users)
    sys.exit(0 if ok else 1)


def grant_demo_rights() -> None:
    """Give the demo roles the rights seed_demo gives them today: it creates a role only when
    missing, so a database seeded before a module existed (finance) kept roles without it."""
    from hongniang.staff.demo import ROLES
    from hongniang.staff.models import Role

    for name, _description, _scope, grants in ROLES.values():
        Role.objects.filter(name=name).update(grants=grants)


def measure(client, path, params, repeat, explain_too):
    """(status, times in ms, CPU times in ms, query count, slowest query or None) of `repeat`
    requests. The CPU time is this process's (the database runs inside it for SQLite): on a
    shared machine it shows the work a page does when the wall-clock time includes waiting."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    times, cpu, queries, slowest = [], [], 0, {}
    for i in range(repeat + 1):
        # The query log keeps the last 9,000 queries only: once full, a capture would count
        # none, so empty it before each request.
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(path, params)
            elapsed = (time.perf_counter() - t0) * 1000
            used = (time.process_time() - c0) * 1000
        if response.status_code != 200:
            return response.status_code, [], [], 0, None
        if i:  # the first request warms caches (and loads the matching engine)
            times.append(elapsed)
            cpu.append(used)
            for n, q in enumerate(ctx.captured_queries):
                slowest.setdefault(n, []).append((float(q["time"]), q["sql"]))
        queries = len(ctx.captured_queries)
    worst = None
    if explain_too and slowest:
        # the query with the highest median time over the repeats
        med = {
            n: (statistics.median(t for t, _ in runs), runs[-1][1]) for n, runs in slowest.items()
        }
        worst = max(med.items(), key=lambda item: item[1][0])
    return 200, times, cpu, queries, worst


def run(args, users) -> bool:
    from django.test import Client

    from hongniang.siteconfig.models import SiteSettings

    site = SiteSettings.load()
    sizes = [int(n) for n in args.sizes.split(",")]
    rows, plans, forbidden, failures, missing_all = [], [], [], [], {}
    for user in users:
        client = Client(raise_request_exception=False)  # a 500 is reported, not raised
        client.force_login(user)
        pages, missing = pages_for(user, args.only)
        for name, why in missing:
            missing_all.setdefault((name, why), []).append(user.username)
        for size in sizes:
            site.member_page_size = site.crm_page_size = site.matchmaker_page_size = size
            site.save()
            for _name, label, path, params in pages:
                status, times, cpu, queries, worst = measure(
                    client, path, params, args.repeat, args.explain
                )
                if status == 403:
                    if size == sizes[0]:
                        forbidden.append((user.username, label))
                    continue
                if status != 200:
                    failures.append((user.username, size, label, path, params, status))
                    continue
                times.sort()
                p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
                rows.append(
                    (
                        user.username,
                        size,
                        label,
                        statistics.median(times),
                        p95,
                        queries,
                        statistics.median(cpu),
                    )
                )
                if worst is not None:
                    n, (t, sql) = worst
                    plans.append((user.username, size, label, n, t * 1000, sql, explain(sql)))
    site.member_page_size = site.crm_page_size = site.matchmaker_page_size = 20
    site.save()
    walk_member_centre(args, sizes[0], rows, failures)
    walk_public_site(args, sizes[0], rows, failures)
    walk_family(args, sizes[0], rows, failures)
    report(rows, forbidden, failures, missing_all, plans)
    return not failures and not any(w.startswith("not covered") for _n, w in missing_all)


def walk_member_centre(args, size, rows, failures) -> None:
    """The member centre's pages in a demo member's session (logged in through the form)."""
    from django.test import Client
    from django.urls import reverse

    from hongniang.frontdesk.models import MemberAccount
    from hongniang.matching.selectors import offerable_q
    from hongniang.staff.demo import DEMO_PASSWORD

    # A member the engine offers partners to (their suggestions are part of the walk).
    accounts = MemberAccount.objects.select_related("member").order_by("pk")
    account = accounts.filter(offerable_q("member__")).first() or accounts.first()
    if account is None:
        return
    client = Client(raise_request_exception=False)
    client.post(
        reverse("portal:login"),
        {"identifier": account.member.username, "password": DEMO_PASSWORD},
    )
    from hongniang.portal.centre_selectors import ref
    from hongniang.portal.models import Suggestion

    # The day's suggestions are computed at the first visit (not measured), then read.
    client.get(reverse("portal:recommendations"))
    first = Suggestion.objects.filter(member=account.member).order_by("-day", "rank").first()
    pair = seed_pairs(account.member, args.centre_pairs)
    for name in MEMBER_PAGES:
        if args.only not in name:
            continue
        if name == "portal:card":
            if first is None:
                continue
            path = reverse(name, args=["sug", ref("sug", first.pk)])
        elif name == "portal:pair":
            if pair is None:
                continue
            path = reverse(name, args=[ref("pair", pair.pk)])
        else:
            path = reverse(name)
        status, times, cpu, queries, _worst = measure(client, path, {}, args.repeat, False)
        if status != 200:
            failures.append(("member", size, name, path, {}, status))
            continue
        times.sort()
        p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
        rows.append(
            ("member", size, name, statistics.median(times), p95, queries, statistics.median(cpu))
        )


def walk_family(args, size, rows, failures) -> None:
    """Family profiles at scale: a relative of the member-centre walk's member (who shares their
    introductions with them), with a second, pending draft whose invitation is opened."""
    import secrets

    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from hongniang.family import services as family
    from hongniang.family.models import DraftState, FamilyProfile, RelativeAccount
    from hongniang.frontdesk.models import MemberAccount
    from hongniang.matching.selectors import offerable_q
    from hongniang.members import personal_data as pd
    from hongniang.members.models import Member
    from hongniang.staff.demo import DEMO_PASSWORD

    accounts = MemberAccount.objects.select_related("member").order_by("pk")
    account = accounts.filter(offerable_q("member__")).first() or accounts.first()
    pending = Member.objects.exclude(pk=account.member_id).filter(account__isnull=True).first()
    if account is None or pending is None:
        return
    mobile = "13600000000"
    relative = RelativeAccount.objects.filter(mobile_hash=pd.lookup_hash(mobile)).first()
    if relative is None:
        relative = RelativeAccount(
            name="王父",
            mobile_encrypted=pd.encrypt(mobile),
            mobile_hash=pd.lookup_hash(mobile),
            mobile_masked=pd.mask_mobile(mobile),
        )
    relative.set_password(DEMO_PASSWORD)
    relative.save()
    shared, _created = FamilyProfile.objects.update_or_create(
        member=account.member,
        defaults={
            "relative": relative,
            "relationship": "father",
            "state": DraftState.APPROVED,
            "share_introductions": True,
        },
    )
    token = secrets.token_urlsafe(24)
    FamilyProfile.objects.update_or_create(
        member=pending,
        defaults={
            "relative": relative,
            "relationship": "mother",
            "state": DraftState.PENDING,
            "token_hash": family.token_hash(token),
            "token_expires_at": timezone.now() + timedelta(days=7),
        },
    )
    relative_client = Client(raise_request_exception=False)
    relative_client.post(reverse("family:login"), {"mobile": mobile, "password": DEMO_PASSWORD})
    member_client = Client(raise_request_exception=False)
    member_client.post(
        reverse("portal:login"),
        {"identifier": account.member.username, "password": DEMO_PASSWORD},
    )
    visitor = Client(raise_request_exception=False)
    pages = [
        ("family:register", visitor, reverse("family:register")),
        ("family:thanks", visitor, reverse("family:thanks")),
        ("family:login", visitor, reverse("family:login")),
        ("family:centre", relative_client, reverse("family:centre")),
        (
            "family:introductions",
            relative_client,
            reverse("family:introductions", args=[shared.pk]),
        ),
        ("family:invitation", visitor, reverse("family:invitation", args=[token])),
        ("family:share", member_client, reverse("family:share")),
    ]
    for label, client, path in pages:
        if args.only not in label:
            continue
        status, times, cpu, queries, _worst = measure(client, path, {}, args.repeat, False)
        if status != 200:
            failures.append(("family", size, label, path, {}, status))
            continue
        times.sort()
        p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
        rows.append(
            ("family", size, label, statistics.median(times), p95, queries, statistics.median(cpu))
        )


def seed_pairs(member, n: int):
    """Double opt-in for the walked member (issue 13): `n` members who said yes to them (masked
    cards on their recommendations page) and `n` with whom both said yes; topped up to `n`, so
    runs with a growing `--centre-pairs` show whether a page's queries grow with them. Returns a
    mutual pair (its revealed card is walked)."""
    from django.db.models import Q

    from hongniang.matching import optin
    from hongniang.matching.models import OptIn, OptInState
    from hongniang.matching.selectors import offerable_q
    from hongniang.members.models import Member

    mine = OptIn.objects.filter(Q(low=member) | Q(high=member))
    taken = {p.low_id for p in mine} | {p.high_id for p in mine} | {member.pk}
    waiting = mine.filter(state=OptInState.OPEN).count()
    mutual = mine.filter(state=OptInState.MUTUAL).count()
    others = iter(
        Member.objects.filter(offerable_q())
        .exclude(sex=member.sex)
        .exclude(pk__in=taken)
        .order_by("pk")[: 2 * n]
    )
    for _ in range(max(0, n - waiting)):
        optin.answer(member=next(others), other=member, accepted=True, via="sug")
    for _ in range(max(0, n - mutual)):
        other = next(others)
        optin.answer(member=other, other=member, accepted=True, via="sug")
        optin.answer(member=member, other=other, accepted=True, via="card")
    return mine.filter(state=OptInState.MUTUAL).order_by("pk").first()


def walk_public_site(args, size, rows, failures) -> None:
    """The public site as an anonymous visitor: home, every search filter, a member's page,
    the stories, robots.txt and the sitemap. The search's per-address limit is lifted (the
    bench asks far more often than a person)."""
    from django.test import Client
    from django.urls import reverse

    from hongniang.frontdesk import throttle
    from hongniang.portal import public_ids, site_views
    from hongniang.portal import site_selectors as sel

    site_views.SEARCH_PER_ADDRESS = throttle.Limit("bench-search", 10**9, 600)
    shown = sel.public_members().order_by("pk")
    member = shown[shown.count() // 2]
    story = sel.published_stories().order_by("pk").first()
    pages = [
        ("portal:site_home", reverse("portal:site_home"), {}),
        *[
            (f"portal:site_search {label}", reverse("portal:site_search"), params)
            for label, params in PUBLIC_SEARCHES
        ],
        (
            "portal:site_member",
            reverse("portal:site_member", args=[public_ids.encode("member", member.pk)]),
            {},
        ),
        ("portal:site_stories", reverse("portal:site_stories"), {}),
        ("portal:robots_txt", reverse("portal:robots_txt"), {}),
        ("portal:sitemap", reverse("portal:sitemap"), {}),
        (
            "portal:sitemap_section members",
            reverse("portal:sitemap_section", args=["members"]),
            {},
        ),
    ]
    if story is not None:
        pages.append(("portal:site_story", reverse("portal:site_story", args=[story.pk]), {}))
    client = Client(raise_request_exception=False)
    for label, path, params in pages:
        if args.only not in label:
            continue
        status, times, cpu, queries, _worst = measure(client, path, params, args.repeat, False)
        if status != 200:
            failures.append(("visitor", size, label, path, params, status))
            continue
        times.sort()
        p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
        rows.append(
            ("visitor", size, label, statistics.median(times), p95, queries, statistics.median(cpu))
        )


def report(rows, forbidden, failures, missing, plans):
    width = max([len(r[2]) for r in rows] + [30]) + 2
    head = f"{'median ms':>10}{'p95 ms':>9}{'queries':>9}{'cpu ms':>8}"
    print(f"\n{'user':<7}{'size':>5}  {'page':<{width}}{head}")
    for user, size, label, med, p95, q, cpu in rows:
        flag = "  !" if p95 > BUDGET_MS else ""
        print(f"{user:<7}{size:>5}  {label:<{width}}{med:>10.1f}{p95:>9.1f}{q:>9}{cpu:>8.1f}{flag}")
    if rows:
        worst = max(rows, key=lambda r: r[4])
        over = sorted({(r[0], r[2]) for r in rows if r[4] > BUDGET_MS})
        print(f"\nworst p95: {worst[4]:.1f} ms ({worst[0]}, {worst[2]}, page size {worst[1]})")
        print(f"pages over {BUDGET_MS} ms p95: {len(over)}" + (f" {over}" if over else ""))
    sizes = sorted({r[1] for r in rows})
    grows = [
        (a[0], a[2], a[5], b[5])
        for a in rows
        for b in rows
        if a[0] == b[0] and a[2] == b[2] and a[1] == sizes[0] and b[1] == sizes[-1] and a[5] != b[5]
    ]
    print("query count independent of page size:", "yes" if not grows else f"NO {grows}")
    if forbidden:
        print("\nforbidden (403, expected for the role):")
        by_user = {}
        for user, label in forbidden:
            by_user.setdefault(user, []).append(label)
        for user, labels in by_user.items():
            print(f"  {user}: {', '.join(labels)}")
    for (name, why), users in sorted(missing.items()):
        print(f"not walked: {name} ({why}; {', '.join(users)})")
    print(f"not walked by design: {', '.join(sorted(NOT_WALKED))}")
    for user, size, label, path, params, status in failures:
        print(f"FAILED: {user} size {size} {label}: GET {path} {params} answered {status}")
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
