"""Shared set-up of the finance tests: an agency with sales staff and a finance user."""

from datetime import timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from hongniang.finance import services
from hongniang.finance.models import Contract, FeeType, ServicePlan
from hongniang.staff.tests.factories import StaffFactory, role_with
from hongniang.staff.visibility import DataScope

SECURE = "Secure-999"
_serial = count(1)


def finance_crew(org) -> dict:
    """`org` plus rights: matchmakers enter contracts, `fin` approves (scope all)."""
    sales = role_with(
        "members.view",
        "members.add",
        "members.edit",
        "presales.view",
        "presales.add",
        "finance.view",
        "finance.add",
        name="销售红娘",
    )
    for key in ("aa1", "aa2", "bb1"):
        org[key].role = sales
        org[key].save()
    org["fin"] = StaffFactory(
        username="fin",
        role=role_with(
            "members.view",
            "finance.view",
            "finance.add",
            "finance.edit",
            "finance.approve",
            "finance.export",
            scope=DataScope.ALL,
            name="财务",
        ),
        store=org["store_a"],
        supervisor=org["admin"],
    )
    org["fin2"] = StaffFactory(
        username="fin2", role=org["fin"].role, store=org["store_a"], supervisor=org["admin"]
    )
    return org


def plan(name=None, price="19800.00", months=12, intros=2, dates=1, **kw) -> ServicePlan:
    return ServicePlan.objects.create(
        name=name or f"白金套餐{next(_serial)}",
        fee_type=kw.pop("fee_type", FeeType.ONE_OFF),
        price=Decimal(price),
        duration_months=months,
        introductions_per_month=intros,
        dates_per_month=dates,
        **kw,
    )


def draft(actor, member, plans=None, amount="19800.00", **fields) -> Contract:
    instalments = fields.pop("instalments", None)
    start = fields.pop("service_start", timezone.localdate())
    contract = Contract(
        member=member,
        amount=Decimal(amount),
        service_start=start,
        service_end=fields.pop("service_end", start + timedelta(days=365)),
        signed_by=fields.pop("signed_by", actor),
        store=fields.pop("store", actor.store),
        **fields,
    )
    return services.contract_save(
        actor=actor,
        contract=contract,
        plans=plans or [plan()],
        instalments=instalments,
    )


def approve(fin, contract, amount=None, **kw) -> Contract:
    return services.contract_approve(
        actor=fin,
        contract=contract,
        security_password=kw.pop("security_password", SECURE),
        amount=amount if amount is not None else contract.amount,
        method=kw.pop("method", "wechat"),
        paid_on=kw.pop("paid_on", timezone.localdate()),
        reference=kw.pop("reference", "WX0001"),
    )


def effective(org, member, **kw) -> Contract:
    contract = draft(org["aa1"], member, **kw)
    services.contract_submit(actor=org["aa1"], contract=contract)
    return approve(org["fin"], contract)
