"""The pre-sales (2.4.1/2.4.2) and after-sales (2.5.1) follow-up lists."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hongniang.members import choices as c
from hongniang.members import selectors
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import role_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    role = role_with("members.view", "members.add", "presales.view", "aftersales.view")
    for key in ("aa1", "bb1"):
        org[key].role = role
        org[key].save()
    return org


def member(owner, name, **fields):
    m = add_member(owner, name=name, birthday=fields.pop("birthday", date(1995, 5, 20)))
    Member.objects.filter(pk=m.pk).update(**fields)
    return m


def names(qs):
    return sorted(m.name for m in qs)


def test_presales_lists(crew):
    now = timezone.now()
    today = timezone.localdate()
    member(crew["aa1"], "新", registered_at=now)
    member(
        crew["aa1"],
        "跟进两次",
        sales_stage=c.SalesStage.FOLLOWING,
        follow_up_count=2,
        registered_at=now - timedelta(days=5),
    )
    member(
        crew["aa1"],
        "已签",
        sales_stage=c.SalesStage.SIGNED,
        follow_up_count=7,
        birthday=today.replace(year=1990),
        registered_at=now - timedelta(days=60),
    )
    member(
        crew["aa1"], "放弃", sales_stage=c.SalesStage.ABANDONED, birthday=today.replace(year=1991)
    )
    member(crew["bb1"], "同行")

    def listed(listing, **filters):
        return names(
            selectors.presales_members(viewer=crew["aa1"], listing=listing, filters=filters)
        )

    assert listed("not_followed") == ["新"]
    assert listed("followed") == ["跟进两次"]
    assert listed("unsigned") == ["新", "跟进两次"]
    assert listed("birthday_today") == ["已签"]  # never the abandoned, never a peer's
    assert "已签" in listed("birthday_month")
    assert listed("unsigned", reg="today") == ["新"]
    assert listed("unsigned", reg="1w") == ["新", "跟进两次"]
    assert listed("birthday_today", reg="more") == ["已签"]
    assert listed("unsigned", fu="upto3") == ["跟进两次"]
    assert listed("unsigned", fu="never") == ["新"]
    # the tab counts (a birthday list counted per calendar) count what the lists list
    for listing in selectors.PRESALES_LISTS:
        for filters in ({}, {"reg": "more"}, {"fu": "never"}, {"reg": "today"}):
            counted = selectors.presales_count(viewer=crew["aa1"], listing=listing, filters=filters)
            assert counted == len(listed(listing, **filters)), (listing, filters)


@pytest.mark.parametrize(
    ("today", "born", "hit"),
    [
        (date(2026, 3, 1), date(1990, 3, 1), True),
        (date(2026, 3, 1), date(1990, 3, 2), False),
        (date(2027, 2, 28), date(1992, 2, 29), True),  # common year: 29 Feb celebrates on 28
        (date(2028, 2, 28), date(1992, 2, 29), False),  # leap year: on its own day
        (date(2028, 2, 29), date(1992, 2, 29), True),
        (date(2026, 12, 31), date(1980, 12, 31), True),
    ],
)
def test_birthday_today_handles_29_february(org, today, born, hit):
    m = member(org["admin"], "寿星", birthday=born)
    assert Member.objects.filter(selectors.birthday_q(today), pk=m.pk).exists() == hit


def test_birthday_month_includes_december(org):
    m = member(org["admin"], "十二月", birthday=date(1985, 12, 31))
    assert Member.objects.filter(
        selectors.birthday_q(date(2026, 12, 5), month=True), pk=m.pk
    ).exists()
    assert not Member.objects.filter(
        selectors.birthday_q(date(2026, 11, 5), month=True), pk=m.pk
    ).exists()


def test_aftersales_lists_count_service_notes(crew):
    for n in (0, 1, 3, 5, 6, 9):
        member(crew["aa1"], f"签{n}", sales_stage=c.SalesStage.SIGNED, service_note_count=n)
    member(crew["aa1"], "未签", service_note_count=1)

    def listed(listing):
        return names(selectors.aftersales_members(viewer=crew["aa1"], listing=listing))

    assert listed("all") == ["签0", "签1", "签3", "签5", "签6", "签9"]
    assert listed("never") == ["签0"]
    assert listed("once") == ["签1"]
    assert listed("upto3") == ["签1", "签3"]
    assert listed("upto5") == ["签1", "签3", "签5"]
    assert listed("six_plus") == ["签6", "签9"]


def test_list_pages_show_counts_filters_and_refuse_other_roles(client, crew):
    member(crew["aa1"], "小新")
    member(crew["aa1"], "小签", sales_stage=c.SalesStage.SIGNED, service_note_count=2)
    client.force_login(crew["aa1"])
    page = client.get(reverse("members:presales"), {"list": "not_followed", "reg": "today"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "小新" in html and "小签" not in html
    page = client.get(reverse("members:aftersales"), {"list": "upto3", "name": "小签"})
    assert "小签" in page.content.decode()
    # Unknown list and chip values fall back instead of failing.
    assert client.get(reverse("members:presales"), {"list": "x", "reg": "<b>"}).status_code == 200
    client.force_login(crew["mgr1"].__class__.objects.get(pk=crew["mgr1"].pk))
    crew["mgr1"].role = role_with("members.view")
    crew["mgr1"].save()
    assert client.get(reverse("members:presales")).status_code == 403
    assert client.get(reverse("members:aftersales")).status_code == 403
