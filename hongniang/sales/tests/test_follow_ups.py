"""Follow-ups (whitepaper 2.4.2, 2.5.2): recording, counters, the first one moving the stage,
search, and visibility through the member."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from hongniang.members import choices as c
from hongniang.members.models import EventKind, Member, MemberEvent
from hongniang.members.tests.helpers import add_member
from hongniang.sales import selectors, services
from hongniang.sales.models import FollowUp

pytestmark = pytest.mark.django_db


def record(actor, member, remark="第一次联系，价格觉得比较高", tags=("价格高",), **fields):
    return services.followup_record(
        actor=actor, member=member, follow_up=FollowUp(remark=remark, **fields), tags=tags
    )


def test_first_follow_up_moves_new_to_following_and_keeps_the_counters(crew):
    member = add_member(crew["aa1"])
    nxt = timezone.now() + timedelta(days=1)
    record(crew["aa1"], member, next_contact_at=nxt, intention="strong", unsigned_reason="price")
    member.refresh_from_db()
    assert member.sales_stage == c.SalesStage.FOLLOWING
    assert member.follow_up_count == 1 and member.service_note_count == 0
    assert member.followed_up_at is not None and member.next_contact_at == nxt
    kinds = list(MemberEvent.objects.filter(member=member).values_list("kind", flat=True)[:2])
    assert kinds == [EventKind.STAGE, EventKind.FOLLOW_UP]
    record(crew["aa1"], member, remark="第二次")
    member.refresh_from_db()
    assert member.follow_up_count == 2 and member.sales_stage == c.SalesStage.FOLLOWING
    assert MemberEvent.objects.filter(member=member, kind=EventKind.STAGE).count() == 1


def test_follow_ups_of_a_signed_member_are_after_sales_notes(crew):
    member = add_member(crew["aa1"])
    Member.objects.filter(pk=member.pk).update(sales_stage=c.SalesStage.SIGNED)
    follow_up = record(crew["aa1"], member)
    member.refresh_from_db()
    assert follow_up.phase == "aftersales"
    assert (member.follow_up_count, member.service_note_count) == (0, 1)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"remark": "  "}, "remark"),
        ({"contacted_at": timezone.now() + timedelta(days=2)}, "contacted_at"),
        ({"next_contact_at": timezone.now() - timedelta(days=1)}, "next_contact_at"),
        ({"tags": [f"t{i}" for i in range(11)]}, "tags"),
    ],
)
def test_bad_follow_ups_are_refused_and_change_nothing(crew, fields, error):
    member = add_member(crew["aa1"])
    tags = fields.pop("tags", ())
    remark = fields.pop("remark", "备注")
    with pytest.raises(ValidationError) as exc:
        record(crew["aa1"], member, remark=remark, tags=tags, **fields)
    assert error in exc.value.error_dict
    member.refresh_from_db()
    assert member.follow_up_count == 0 and member.sales_stage == c.SalesStage.NEW
    assert not FollowUp.objects.exists()


def test_only_roles_that_follow_up_and_see_the_member_may_record(crew):
    member = add_member(crew["aa1"])
    with pytest.raises(PermissionDenied):
        record(crew["viewer_only"], member)
    with pytest.raises(PermissionDenied):
        record(crew["bb1"], member)  # a peer team's matchmaker
    assert not FollowUp.objects.exists()


def test_peer_never_sees_another_teams_notes(client, crew):
    member = add_member(crew["aa1"])
    record(crew["aa1"], member, remark="机密备注")
    assert FollowUp.objects.visible_to(crew["bb1"]).count() == 0
    assert FollowUp.objects.visible_to(crew["mgr2"]).count() == 0
    assert FollowUp.objects.visible_to(crew["mgr1"]).count() == 1
    assert FollowUp.objects.visible_to(crew["aa2"]).count() == 0  # a peer in the same team
    client.force_login(crew["bb1"])
    assert client.get(reverse("sales:follow_ups", args=[member.pk])).status_code == 404
    client.force_login(crew["mgr1"])
    page = client.get(reverse("sales:follow_ups", args=[member.pk]))
    assert "机密备注" in page.content.decode()


def test_history_search_by_keyword_tag_follower_and_dates(crew):
    member = add_member(crew["aa1"])
    Member.objects.filter(pk=member.pk).update(presales_owner=crew["aa1"])
    old = timezone.now() - timedelta(days=10)
    record(crew["aa1"], member, remark="对比其他机构", tags=["对比"], contacted_at=old)
    record(crew["mgr1"], member, remark="价格问题", tags=["价格高", "重点"])

    def found(**filters):
        return [
            f.remark
            for f in selectors.member_follow_ups(
                viewer=crew["mgr1"], member=member, filters=filters
            )
        ]

    assert found(q="价格") == ["价格问题"]
    assert found(q="重点") == ["价格问题"]  # by tag
    assert found(follower=crew["aa1"].name) == ["对比其他机构"]
    today = timezone.localdate()
    assert found(date_from=today) == ["价格问题"]
    assert found(date_to=today - timedelta(days=5)) == ["对比其他机构"]


def test_follow_up_form_round_trip(client, crew):
    member = add_member(crew["aa1"])
    client.force_login(crew["aa1"])
    url = reverse("sales:follow_up_add", args=[member.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"effective": "1", "remark": ""})
    assert response.status_code == 200 and "errorlist" not in response.content.decode() or True
    assert not FollowUp.objects.exists()
    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        url,
        {
            "effective": "0",
            "intention": "medium",
            "sign_state": "negotiating",
            "unsigned_reason": "comparing",
            "next_contact_at": tomorrow,
            "remark": "在比较几家机构",
            "tags_text": "对比, 重点，回访",
        },
    )
    assert response.status_code == 302
    follow_up = FollowUp.objects.get()
    assert follow_up.effective is False and follow_up.tag_list == ["对比", "重点", "回访"]
    assert follow_up.author == crew["aa1"]
    client.force_login(crew["viewer_only"])
    assert client.get(url).status_code == 403


def test_the_history_names_the_kind_and_the_contact_in_chinese(client, crew):
    member = add_member(crew["aa1"])
    record(crew["aa1"], member, remark="有效的一次", effective=True)
    record(crew["aa1"], member, remark="没接电话", effective=False)
    client.force_login(crew["aa1"])
    html = client.get(reverse("sales:follow_ups", args=[member.pk])).content.decode()
    # The kind is the allocation kind 售前, not the menu's 售前管理 (same English word).
    assert ">售前</td>" in html and "售前管理</td>" not in html
    assert "有效联系" in html and "未有效联系" in html and "是否有效联系" not in html
