"""Another team's members never show through matching and messaging (issue 8, the marker test).

Team A's members carry unique marker strings in every private field. A user of team B renders
and posts everything the matching and messaging URL patterns offer (pages, fragments, flash
messages after each action, notices), with every id in play, and no marker may come back.
"""

import itertools
import json
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hongniang.matching import services
from hongniang.matching import urls as matching_urls
from hongniang.matching.models import Appointment, IntroductionRequest, Recommendation
from hongniang.matching.tests.conftest import MATCHING
from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member, resident_id
from hongniang.messaging import urls as messaging_urls
from hongniang.messaging.models import Notice
from hongniang.staff.tests.factories import role_with

pytestmark = pytest.mark.django_db(transaction=True)


def _marked(actor, tag, *, name, sex, birthday, mobile, **extra):
    number = resident_id(birthday, sex, seq=40 + len(tag))
    member = add_member(
        actor,
        name=name,
        sex=sex,
        birthday=birthday,
        username=f"mkuser_{tag}",
        email=f"mk.{tag}@example.org",
        wechat=f"mkwx_{tag}",
        qq=f"739184{len(tag)}{ord(tag[-1])}",
        mobile=mobile,
        id_number=number,
        service_status=c.ServiceStatus.IN_SERVICE,
        sales_stage=c.SalesStage.SIGNED,
        **extra,
    )
    markers = {
        member.name,
        member.username,
        member.email,
        member.wechat,
        member.qq,
        mobile,
        number,
    }
    return member, markers


@pytest.fixture
def teams(org):
    for key in ("aa1", "bb1", "mgr1", "mgr2"):
        org[key].role = role_with("members.view", "members.add", "members.edit", *MATCHING)
        org[key].save()
    a_woman, m1 = _marked(
        org["aa1"],
        "aw",
        name="甄秘兰",
        sex=c.Sex.FEMALE,
        birthday=date(1995, 3, 3),
        mobile="13911113331",
    )
    a_man, m2 = _marked(
        org["aa1"],
        "am",
        name="甄秘杰",
        sex=c.Sex.MALE,
        birthday=date(1992, 4, 4),
        mobile="13922224442",
    )
    a_hidden, m3 = _marked(
        org["aa1"],
        "ah",
        name="甄秘隐",
        sex=c.Sex.FEMALE,
        birthday=date(1996, 5, 5),
        mobile="13933335553",
        is_hidden=True,
    )
    b_man = add_member(
        org["bb1"],
        name="乙先生",
        sex=c.Sex.MALE,
        birthday=date(1993, 1, 1),
        service_status=c.ServiceStatus.IN_SERVICE,
        sales_stage=c.SalesStage.SIGNED,
    )
    b_woman = add_member(
        org["bb1"],
        name="乙女士",
        sex=c.Sex.FEMALE,
        birthday=date(1996, 1, 1),
        service_status=c.ServiceStatus.IN_SERVICE,
        sales_stage=c.SalesStage.SIGNED,
    )
    # Team A acts on team B's members: notices reach bb1, rows appear in bb1's lists.
    aa1 = org["aa1"]
    services.recommend(actor=aa1, member=a_woman, candidate=b_man, reason="合适")
    services.recommend(actor=aa1, member=a_man, candidate=b_woman, reason="合适")
    services.boost_set(actor=aa1, member=a_woman, candidate=b_man, pin=True, points=5)
    services.appointment_create(
        actor=aa1,
        appointment=Appointment(
            member=a_woman,
            partner=b_man,
            starts_at=timezone.now() + timedelta(days=3),
            place="天河咖啡馆",
        ),
    )
    services.introduction_create(
        actor=aa1, request=IntroductionRequest(member=a_man, target=b_woman, message="想认识")
    )
    return {
        **org,
        "a": [a_woman, a_man, a_hidden],
        "b": [b_man, b_woman],
        "markers": m1 | m2 | m3,
    }


# What the forms of matching and messaging may ask for, all at once.
POST_DATA = {
    "reason": "试试",
    "pin": "on",
    "points": "10",
    "place": "公园",
    "status": "arranged",
    "accepted": "no",
    "reasons": ["too_old"],
    "member_feedback": "好",
    "partner_feedback": "好",
    "partner_attended": "unknown",
}


def _text(response) -> str:
    body = response.content.decode()
    if response.get("Content-Type", "").startswith("application/json"):
        body = json.dumps(json.loads(body), ensure_ascii=False)  # "\u7504" → "甄"
    return body


def _assert_clean(response, markers, what):
    assert response.status_code in (200, 302, 403, 404, 405), (what, response.status_code)
    body = _text(response)
    leaked = [m for m in markers if m in body]
    assert not leaked, f"{what} shows {leaked}"


def _routes():
    """Every URL pattern of matching and messaging, with the names of its arguments."""
    for module in (matching_urls, messaging_urls):
        for pattern in module.urlpatterns:
            yield f"{module.app_name}:{pattern.name}", sorted(pattern.pattern.converters)


def _ids():
    """Every id in play: members of both teams and the rows between them."""
    ids = set(Member.objects.values_list("pk", flat=True))
    for model in (Appointment, IntroductionRequest, Recommendation, Notice):
        ids |= set(model.objects.values_list("pk", flat=True))
    return sorted(ids)


def test_no_marker_reaches_the_other_team(client, teams):
    markers, a_members = teams["markers"], teams["a"]
    b_man = teams["b"][0]
    future = timezone.localtime(timezone.now() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    for user in (teams["bb1"], teams["mgr2"]):
        client.force_login(user)
        ids = _ids()
        for name, args in _routes():
            for values in itertools.product(ids, repeat=len(args)):
                url = reverse(name, kwargs=dict(zip(args, values, strict=True)))
                # A form without ids is tried with each of team A's members as the partner.
                for a in a_members if not args else a_members[:1]:
                    query = {"member": b_man.pk, "partner": a.pk, "target": a.pk, "q": str(a.pk)}
                    _assert_clean(client.get(url, query, follow=True), markers, f"GET {url}")
                    data = {**POST_DATA, "member": b_man.pk, "partner": a.pk, "target": a.pk}
                    data["starts_at"] = future
                    _assert_clean(client.post(url, data, follow=True), markers, f"POST {url}")
        # The search field, asked for each marker (names, mobiles, ID numbers, UIDs).
        for marker in [*markers, *(str(a.pk) for a in a_members)]:
            for extra in ({}, {"member": b_man.pk}, {"own": "1"}):
                response = client.get(reverse("matching:member_search"), {"q": marker, **extra})
                _assert_clean(response, markers, f"search {marker}")
        # The timelines of their own members, written by matching services.
        for member in teams["b"]:
            response = client.get(reverse("members:detail", args=[member.pk]))
            _assert_clean(response, markers, f"timeline of {member.pk}")
    texts = list(
        Notice.objects.filter(recipient__in=[teams["bb1"], teams["mgr2"]]).values_list(
            "text", flat=True
        )
    )
    assert len(texts) >= 3  # recommendation, appointment, introduction request
    for text in texts:
        assert not [m for m in markers if m in text], text


def test_actions_by_uid_answer_404_unless_the_candidate_may_be_offered(client, teams):
    b_man, b_woman = teams["b"]
    a_woman, a_man, a_hidden = teams["a"]
    client.force_login(teams["bb1"])
    for name in ("matching:recommend", "matching:boost"):
        # Hidden from matching, same sex (two men), or not one's own member: all like a bad UID.
        for member, candidate in ((b_man, a_hidden), (b_man, a_man), (a_woman, b_man)):
            url = reverse(name, args=[member.pk, candidate.pk])
            assert client.post(url, {"reason": "x", "points": "10"}).status_code == 404
        ok = reverse(name, args=[b_man.pk, a_woman.pk])
        response = client.post(ok, {"reason": "合适", "points": "10"}, follow=True)
        assert response.status_code == 200
        shown = [str(m) for m in response.context["messages"]]
        assert shown and "甄**" in shown[0] and "甄秘兰" not in shown[0]
    assert Recommendation.objects.filter(member=b_man, candidate=a_woman).exists()


def test_form_initial_uid_outside_the_choices_shows_no_name(client, teams):
    a_hidden = teams["a"][2]
    client.force_login(teams["bb1"])
    for url, field in (
        (reverse("matching:appointment_create"), "partner"),
        (reverse("matching:introduction_create"), "target"),
    ):
        page = client.get(url, {field: a_hidden.pk, "member": a_hidden.pk}).content.decode()
        assert "甄**" not in page and "甄秘隐" not in page
