"""From a member: the activity panel of the member page (follow-ups, service notes, matching,
messages, website login, spending) and the way into their match library."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hongniang.frontdesk.models import MemberAccount
from hongniang.matching.models import Appointment, IntroductionRequest, Recommendation
from hongniang.members import choices as c
from hongniang.members.models import AllocationKind, Member
from hongniang.members.tests.helpers import add_member
from hongniang.messaging.models import Channel, Delivery, DeliveryStatus, Message
from hongniang.sales import services as sales
from hongniang.sales.models import FollowUp
from hongniang.staff.tests.factories import role_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    role = role_with(
        "members.view",
        "members.add",
        "members.edit",
        "presales.view",
        "presales.add",
        "aftersales.view",
        "aftersales.add",
        "matching.view",
    )
    for key in ("aa1", "aa2", "bb1"):
        org[key].role = role
        org[key].save()
    return org


def activity(client, member):
    return client.get(reverse("home:member_activity", args=[member.pk]))


def note(actor, member, remark, days_ago):
    sales.followup_record(
        actor=actor,
        member=member,
        follow_up=FollowUp(remark=remark, contacted_at=timezone.now() - timedelta(days=days_ago)),
    )


def test_the_panel_counts_what_happened_around_the_member(crew, client):
    member = add_member(crew["aa1"], name="小芳")
    other = add_member(crew["bb1"], name="别店会员", sex=c.Sex.MALE)
    note(crew["aa1"], member, "第一次电话", 3)
    note(crew["aa1"], member, "第二次电话，约了面谈", 1)
    FollowUp.objects.filter(member=member, remark="第一次电话").update(
        phase=AllocationKind.AFTERSALES
    )
    Recommendation.objects.create(member=member, candidate=other, reason="合适")
    Appointment.objects.create(
        member=member, partner=other, starts_at=timezone.now(), place="咖啡馆", status="held"
    )
    IntroductionRequest.objects.create(member=other, target=member, message="想认识")
    Delivery.objects.create(
        member=member, channel=Channel.SMS, status=DeliveryStatus.SENT, body="生日快乐"
    )
    Delivery.objects.create(
        member=member, channel=Channel.EMAIL, status=DeliveryStatus.FAILED, body="x"
    )
    Message.objects.create(sender_member=member, recipient_staff=crew["aa1"], body="谢谢")
    MemberAccount.objects.create(
        member=member,
        password="x",
        last_login=timezone.make_aware(timezone.datetime(2026, 11, 20, 9, 30)),
    )
    from hongniang.finance.models import Contract, Payment

    contract = Contract.objects.create(
        number="HT-1",
        member=member,
        amount=12800,
        service_start=timezone.localdate(),
        service_end=timezone.localdate() + timedelta(days=365),
        signed_by=crew["aa1"],
        store=crew["store_a"],
        created_by=crew["aa1"],
    )
    Payment.objects.create(
        contract=contract,
        member=member,
        paid_on=timezone.localdate(),
        amount=6400,
        method="cash",
        recorded_by=crew["aa1"],
    )
    client.force_login(crew["aa1"])
    response = activity(client, member)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-activity="follow_ups">1' in html and "第二次电话" in html
    assert 'data-activity="service_notes">1' in html and "第一次电话" in html
    assert "为其推荐 1 位 · 被推荐给他人 0 次" in html
    assert 'data-activity="appointments">1 次（1 次已见面）' in html
    assert 'data-activity="introductions">1' in html
    assert 'data-activity="sent">短信 1<' in html  # the failed email is not "sent"
    assert 'data-activity="received">1' in html
    assert "2026-11-20 09:30" in html
    assert "已付 ¥6400.00，已退款 ¥0.00" in html
    assert "别店会员" not in html  # counts only: no other team's member is named


def test_an_empty_panel_says_so(crew, client):
    member = add_member(crew["aa1"], name="新会员")
    client.force_login(crew["aa1"])
    html = activity(client, member).content.decode()
    assert 'data-activity="follow_ups">0' in html
    assert 'data-activity="sent">0' in html
    assert "没有网站帐号" in html
    assert "尚无消费记录" in html


def test_a_peer_team_gets_404_for_the_panel_and_the_library(crew, client):
    member = add_member(crew["aa1"], name="小芳")
    client.force_login(crew["bb1"])
    assert activity(client, member).status_code == 404
    assert client.get(reverse("matching:library", args=[member.pk])).status_code == 404


def test_the_member_page_and_list_link_to_the_library_only_for_its_users(crew, client):
    member = add_member(crew["aa1"], name="小芳")
    library = reverse("matching:library", args=[member.pk])
    client.force_login(crew["aa1"])
    detail = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert library in detail
    assert reverse("home:member_activity", args=[member.pk]) in detail
    assert library in client.get(reverse("members:list")).content.decode()

    crew["aa1"].role = role_with("members.view", "presales.view")
    crew["aa1"].save()
    client.force_login(Member.objects.get(pk=member.pk).presales_owner)
    assert library not in client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert library not in client.get(reverse("members:list")).content.decode()


@pytest.mark.parametrize("size", [3, 25])
def test_the_member_list_query_count_does_not_grow_with_the_rows(
    crew, client, size, django_assert_max_num_queries
):
    for i in range(size):
        add_member(crew["aa1"], name=f"会员{i}")
    client.force_login(crew["aa1"])
    # 18: one of them resolves the viewer's staff ids for the visibility filters
    with django_assert_max_num_queries(18):
        response = client.get(reverse("members:list"))
    assert response.content.decode().count("/matching/member/") == min(size, 20)


def test_the_notes_follow_the_members_visibility_checked_on_that_member(crew):
    """The panel's notes are tested against the one member (a key look-up): a viewer who
    cannot see the member counts none of their notes, whoever wrote them."""
    from hongniang.home.selectors import member_activity

    theirs = add_member(crew["bb1"], name="别队会员")
    note(crew["bb1"], theirs, "电话沟通", 1)
    seen = member_activity(viewer=crew["bb1"], member=theirs)
    assert seen.follow_ups == 1 and seen.last_follow_up is not None
    hidden = member_activity(viewer=crew["aa1"], member=theirs)  # another team's member
    assert hidden.follow_ups == 0 and hidden.last_follow_up is None
    assert member_activity(viewer=crew["admin"], member=theirs).follow_ups == 1
