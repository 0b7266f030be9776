"""Demo finance: the agency's service plans, an effective contract with its payment behind each of
the first signed demo members (a member is signed by finance approving a contract: the demo
keeps that true), and a few contracts of members still followed up waiting for finance (written
in bulk: the 100,000-member bench must not wait for it)."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.finance import outcomes
from hongniang.finance.models import (
    Contract,
    ContractStatus,
    FeeType,
    Payment,
    PaymentMethod,
    Refund,
    ServicePlan,
)
from hongniang.finance.services import rebuild_sales_days
from hongniang.members import choices as c
from hongniang.members.models import EventKind, Member, MemberEvent
from hongniang.staff.models import Staff

PLANS = (
    ("银卡会员（半年）", FeeType.ONE_OFF, "6800", "0", "0", 6, 1, 1, "半年一对一红娘服务"),
    (
        "金卡会员（一年）",
        FeeType.ONE_OFF,
        "12800",
        "0",
        "0",
        12,
        2,
        1,
        "一年服务，每月至少推荐两位",
    ),
    (
        "钻石会员（一年）",
        FeeType.MIXED,
        "19800",
        "0",
        "10000",
        12,
        4,
        2,
        "专属红娘，成功另收成功费",
    ),
    ("月付会员", FeeType.PERIODIC, "1000", "800", "0", 12, 1, 1, "入会费 + 按月服务费"),
)


@transaction.atomic
def seed_finance(*, first: int = 300) -> int:
    for n, (name, fee, price, monthly, success, months, intros, dates, text) in enumerate(PLANS):
        ServicePlan.objects.get_or_create(
            name=name,
            defaults={
                "fee_type": fee,
                "price": Decimal(price),
                "monthly_fee": Decimal(monthly),
                "success_fee": Decimal(success),
                "duration_months": months,
                "introductions_per_month": intros,
                "dates_per_month": dates,
                "description": text,
                "sort_order": n,
            },
        )
    plans = list(ServicePlan.objects.filter(name__in=[p[0] for p in PLANS]).order_by("sort_order"))
    has_contract = Contract.objects.filter(member=OuterRef("pk"))
    without_contract = (
        Member.objects.exclude(Exists(has_contract))
        .select_related("presales_owner", "aftersales_owner")
        .order_by("pk")
    )
    signed = list(without_contract.filter(sales_stage=c.SalesStage.SIGNED)[:first])
    # Entered and submitted, not yet approved: their members are not signed yet.
    waiting = list(
        without_contract.filter(sales_stage=c.SalesStage.FOLLOWING, presales_owner__isnull=False)[
            : 5 if signed else 0
        ]
    )
    members = signed + waiting
    if not members:
        _seed_complaints()
        return 0
    admin = Staff.objects.filter(is_superuser=True).order_by("pk").first()
    finance = Staff.objects.filter(username="finance").first() or admin
    today = timezone.localdate()
    contracts = []
    for i, m in enumerate(members):
        plan = plans[i % 3]
        # Who signed: the pre-sales matchmaker, else the after-sales one, else the administrator.
        seller = m.presales_owner or m.aftersales_owner or admin
        start = (
            (m.allocated_at or m.registered_at).date()
            if (m.allocated_at or m.registered_at)
            else today
        )
        contracts.append(
            Contract(
                number=f"HT{start:%Y%m%d}{9000 + i % 1000:04d}-{m.pk}",
                member=m,
                amount=plan.price,
                service_start=start,
                service_end=start + timedelta(days=30 * plan.duration_months),
                signed_by=seller,
                store_id=m.store_id or seller.store_id,
                introductions_per_month=plan.introductions_per_month,
                dates_per_month=plan.dates_per_month,
                status=ContractStatus.EFFECTIVE,
                created_by=seller,
                approved_by=finance,
                # Approved on the day the service started (the demo's history, not today).
                approved_at=timezone.make_aware(datetime.combine(start, time(10, 0))),
                paid_total=plan.price,
            )
        )
    # The followed-up members' contracts wait for finance, so that the demo shows the approval.
    for contract in contracts[len(signed) :]:
        contract.status, contract.submitted_at = ContractStatus.SUBMITTED, timezone.now()
        contract.approved_by, contract.approved_at, contract.paid_total = None, None, 0
    Contract.objects.bulk_create(contracts, batch_size=500)
    created = list(Contract.objects.filter(member__in=members).order_by("pk"))
    through = Contract.plans.through
    by_price = {p.price: p for p in plans}
    through.objects.bulk_create(
        [through(contract_id=k.pk, serviceplan_id=by_price[k.amount].pk) for k in created],
        batch_size=1000,
    )
    methods = PaymentMethod.values
    Payment.objects.bulk_create(
        [
            Payment(
                contract=k,
                member_id=k.member_id,
                paid_on=k.service_start,
                amount=k.amount,
                method=methods[k.pk % len(methods)],
                reference=f"DEMO{k.pk:06d}",
                recorded_by_id=k.created_by_id,
            )
            for k in created
            if k.status == ContractStatus.EFFECTIVE
        ],
        batch_size=1000,
    )
    if not Refund.objects.exists() and created:
        first = created[0]
        Refund.objects.create(
            contract=first,
            number=f"TK{today:%Y%m%d}9001",
            requested_amount=Decimal("1000.00"),
            proposed_amount=Decimal("1000.00"),
            reason="会员工作调动，申请退部分费用",
            requested_by_id=first.created_by_id,
        )
    _signing_events([k for k in created if k.status == ContractStatus.EFFECTIVE], finance)
    rebuild_sales_days()
    _seed_complaints()
    outcomes.rebuild()  # the rows above were bulk-created, past the counting signals
    return len(created)


COMPLAINTS = [
    ("本月还没有收到任何推荐", ""),
    ("约见地点临时更改，没有提前通知", "已致歉，之后约见提前一天确认"),
    ("红娘回复消息太慢", ""),
    ("推荐的对象与择偶要求差距较大", "已与会员重新确认择偶要求并调整推荐"),
    ("希望更换服务红娘", ""),
    ("约见对象迟到四十分钟", "已提醒对方会员，并为会员补安排一次约见"),
]


def _seed_complaints() -> None:
    """A few complaints about the service of signed members, some closed (once)."""
    from hongniang.finance.models import Complaint, ComplaintStatus

    if Complaint.objects.exists():
        return
    served = list(
        Contract.objects.filter(status=ContractStatus.EFFECTIVE)
        .select_related("member", "signed_by")
        .order_by("-pk")[: len(COMPLAINTS) * 2]
    )
    now, today = timezone.now(), timezone.localdate()
    rows = []
    for n, contract in enumerate(served):
        summary, resolution = COMPLAINTS[n % len(COMPLAINTS)]
        m = contract.member
        rows.append(
            Complaint(
                member=m,
                about_id=m.aftersales_owner_id or m.presales_owner_id,
                received_on=today - timedelta(days=3 + 5 * n),
                summary=summary,
                status=ComplaintStatus.CLOSED if resolution else ComplaintStatus.OPEN,
                resolution=resolution,
                recorded_by_id=contract.signed_by_id,
                # Closed by the matchmaker's manager.
                closed_by_id=(contract.signed_by.supervisor_id or contract.signed_by_id)
                if resolution
                else None,
                closed_at=now if resolution else None,
            )
        )
    Complaint.objects.bulk_create(rows)


def _signing_events(contracts: list, finance) -> None:
    """The timeline a real approval writes (finance.services.contract_approve): the contract in
    effect and the member signed by it, dated on the approval, so that the member's page and the
    home's "signed this month" tell the demo's story."""
    stage = f"{c.SalesStage.FOLLOWING.label} → {c.SalesStage.SIGNED.label}"
    events = []
    for k in contracts:
        events.append(
            MemberEvent(
                member_id=k.member_id,
                actor=finance,
                kind=EventKind.STAGE,
                summary=stage,
                data={"step": "sign", "from": c.SalesStage.FOLLOWING, "to": c.SalesStage.SIGNED},
            )
        )
        events.append(
            MemberEvent(
                member_id=k.member_id,
                actor=finance,
                kind=EventKind.CONTRACT,
                summary=_("Contract %(n)s approved by finance and in effect") % {"n": k.number},
                data={"contract": k.pk, "step": "effective"},
            )
        )
    made = MemberEvent.objects.bulk_create(events, batch_size=1000)
    # auto_now_add stamped them now: one statement dates each on its contract's approval.
    approved = Contract.objects.filter(
        member_id=OuterRef("member_id"), status=ContractStatus.EFFECTIVE
    ).values("approved_at")[:1]
    ids = [e.pk for e in made]
    for start in range(0, len(ids), 1000):
        MemberEvent.objects.filter(pk__in=ids[start : start + 1000]).update(
            created_at=Subquery(approved)
        )
