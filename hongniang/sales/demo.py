"""Demo follow-ups: notes behind the demo members' follow-up counts (for the first members only:
the 100,000-member bench keeps its counts without writing half a million notes)."""

from collections import Counter, defaultdict
from datetime import timedelta

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from hongniang.members.models import AllocationKind, Member
from hongniang.sales.models import FollowUp, Intention, SignState, UnsignedReason, join_tags
from hongniang.sales.services import contact_month

REMARKS = (
    "第一次联系，主要是价格觉得比较高，重点跟进",
    "会员在对比其他机构，约了周末到店面谈",
    "电话未接通，已发短信",
    "聊了择偶要求，希望对方在广州有房",
    "会员最近工作忙，下周再联系",
    "介绍了服务套餐，会员有兴趣",
)
TAGS = (("价格高",), ("对比",), ("未接通",), ("择偶要求",), ("忙",), ("有意向", "重点"))


def seed_follow_ups(*, first: int = 2000) -> int:
    """Write the notes the demo counts promise, for the first `first` members that have none."""
    has_notes = FollowUp.objects.filter(member=OuterRef("pk"))
    members = (
        Member.objects.filter(Q(follow_up_count__gt=0) | Q(service_note_count__gt=0))
        .exclude(Exists(has_notes))
        .filter(Q(presales_owner__isnull=False) | Q(aftersales_owner__isnull=False))
        .order_by("pk")[:first]
    )
    intentions, states, reasons = Intention.values, SignState.values, UnsignedReason.values
    rows = []
    now = timezone.now()
    for member in members:
        start = member.registered_at
        span = max((now - start).total_seconds(), 3600)
        notes = [(AllocationKind.PRESALES, member.presales_owner_id)] * member.follow_up_count
        notes += [
            (AllocationKind.AFTERSALES, member.aftersales_owner_id or member.presales_owner_id)
        ] * member.service_note_count
        for i, (phase, author) in enumerate(notes):
            author = author or member.presales_owner_id or member.aftersales_owner_id
            k = member.pk + i
            contacted = start + timedelta(seconds=span * (i + 1) / (len(notes) + 1))
            rows.append(
                FollowUp(
                    member_id=member.pk,
                    author_id=author,
                    phase=phase,
                    effective=k % 4 != 0,
                    intention=intentions[k % len(intentions)],
                    sign_state=states[k % len(states)] if phase == AllocationKind.PRESALES else "",
                    unsigned_reason=reasons[k % len(reasons)]
                    if phase == AllocationKind.PRESALES
                    else "",
                    contacted_at=contacted,
                    next_contact_at=contacted + timedelta(days=3),
                    remark=REMARKS[k % len(REMARKS)],
                    tags=join_tags(TAGS[k % len(TAGS)]),
                )
            )
    FollowUp.objects.bulk_create(rows, batch_size=2000)
    # "Last followed up" is the newest note, as followup_record keeps it.
    newest = (
        FollowUp.objects.filter(member=OuterRef("pk"))
        .order_by("-contacted_at")
        .values("contacted_at")[:1]
    )
    ids = sorted({row.member_id for row in rows})
    for start in range(0, len(ids), 1000):
        Member.objects.filter(pk__in=ids[start : start + 1000]).update(
            followed_up_at=Subquery(newest)
        )
    # ... and the month counter (these members had no notes before)
    months = {}
    for row in rows:
        month = contact_month(row.contacted_at)
        months[row.member_id] = max(months.get(row.member_id, month), month)
    in_month = Counter(
        (row.member_id, months[row.member_id])
        for row in rows
        if contact_month(row.contacted_at) == months[row.member_id]
    )
    groups = defaultdict(list)
    for (member, month), n in in_month.items():
        groups[(month, n)].append(member)
    for (month, n), members in groups.items():
        for start in range(0, len(members), 1000):
            Member.objects.filter(pk__in=members[start : start + 1000]).update(
                follow_up_month=month, month_follow_ups=n
            )
    return len(rows)
