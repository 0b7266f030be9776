"""The allocation pools: who sees which member, who may take it, to whom it may go."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from hongniang.members import choices as c
from hongniang.members import selectors, services
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.messaging.models import Notice
from hongniang.staff.tests.factories import StaffFactory, role_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(org):
    """mgr1's team gains a pure pre-sales and a pure after-sales matchmaker; both managers are
    in the same store, so store alone does not separate the two teams."""
    pre = role_with("members.view", "members.edit", "presales.view", "presales.edit")
    after = role_with("members.view", "members.edit", "aftersales.view", "aftersales.edit")
    org["pre1"] = StaffFactory(
        username="pre1", role=pre, store=org["store_a"], supervisor=org["mgr1"]
    )
    org["after1"] = StaffFactory(
        username="after1", role=after, store=org["store_a"], supervisor=org["mgr1"]
    )
    # A matchmaker of mgr2's team in the same store as mgr1.
    org["cc2"] = StaffFactory(
        username="cc2", role=org["mm_role"], store=org["store_a"], supervisor=org["mgr2"]
    )
    return org


def pool_names(viewer, pool):
    return {m.name for m in selectors.pool_members(viewer=viewer, pool=pool)}


def test_pools_hold_no_member_of_a_peer_team(team):
    signed = add_member(team["cc2"], name="同行已签", sales_stage=c.SalesStage.SIGNED)
    abandoned = add_member(team["cc2"], name="同行放弃", sales_stage=c.SalesStage.ABANDONED)
    own = add_member(team["aa1"], name="本队已签", sales_stage=c.SalesStage.SIGNED)
    assert pool_names(team["mgr1"], "signed") == {"本队已签"}
    assert pool_names(team["mgr1"], "abandoned") == set()
    assert pool_names(team["mgr2"], "signed") == {"同行已签"}
    assert pool_names(team["mgr2"], "abandoned") == {"同行放弃"}
    assert pool_names(team["admin"], "signed") == {"同行已签", "本队已签"}
    for member in (signed, abandoned):
        with pytest.raises(PermissionDenied):
            services.members_allocate(actor=team["mgr1"], members=[member], to=team["aa1"])
        member.refresh_from_db()
        assert member.presales_owner == team["cc2"] and member.aftersales_owner is None
    # The peer team still has its members.
    assert set(Member.objects.visible_to(team["mgr2"]).values_list("name", flat=True)) == {
        "同行已签",
        "同行放弃",
    }
    assert own.pk


def test_pool_page_does_not_list_a_peer_teams_member(client, team):
    add_member(team["cc2"], name="同行已签", sales_stage=c.SalesStage.SIGNED)
    client.force_login(team["mgr1"])
    page = client.get(reverse("members:pools"), {"pool": "signed"})
    assert "同行已签" not in page.content.decode()


def test_signed_pool_sets_after_sales_and_keeps_pre_sales(team):
    member = add_member(team["aa1"], name="已签", sales_stage=c.SalesStage.SIGNED)
    services.members_allocate(actor=team["mgr1"], members=[member], to=team["after1"])
    member.refresh_from_db()
    assert member.presales_owner == team["aa1"] and member.aftersales_owner == team["after1"]
    assert Member.objects.visible_to(team["aa1"]).filter(pk=member.pk).exists()
    assert pool_names(team["mgr1"], "signed") == set()


def test_abandoned_pool_replaces_the_owner(team):
    member = add_member(team["aa1"], name="放弃", sales_stage=c.SalesStage.ABANDONED)
    Member.objects.filter(pk=member.pk).update(aftersales_owner=team["aa2"])
    services.members_allocate(actor=team["mgr1"], members=[member], to=team["pre1"])
    member.refresh_from_db()
    assert member.presales_owner == team["pre1"] and member.aftersales_owner is None
    assert not Member.objects.visible_to(team["aa1"]).filter(pk=member.pk).exists()
    assert not Member.objects.visible_to(team["aa2"]).filter(pk=member.pk).exists()


def test_a_member_goes_only_to_a_role_of_its_kind(team):
    signed = add_member(team["aa1"], sales_stage=c.SalesStage.SIGNED)
    new = add_member(team["aa1"])
    Member.objects.filter(pk=new.pk).update(presales_owner=None)
    with pytest.raises(ValidationError) as info:
        services.members_allocate(actor=team["mgr1"], members=[signed], to=team["pre1"])
    assert "to" in info.value.message_dict
    with pytest.raises(ValidationError):
        services.members_allocate(actor=team["mgr1"], members=[new], to=team["after1"])
    signed.refresh_from_db()
    assert signed.aftersales_owner is None
    assert services.members_allocate(actor=team["mgr1"], members=[new], to=team["pre1"]) == 1


@pytest.mark.parametrize(
    "pool,offered,not_offered",
    [
        ("unsigned", {"pre1", "aa1", "aa2", "mgr1"}, {"after1", "cc2", "bb1", "mgr2"}),
        ("abandoned", {"pre1", "aa1"}, {"after1", "cc2"}),
        ("signed", {"after1", "aa1", "mgr1"}, {"pre1", "cc2", "bb1"}),
    ],
)
def test_assignee_list_fits_the_pool_and_the_actors_team(client, team, pool, offered, not_offered):
    member = add_member(team["aa1"], sales_stage=c.SalesStage.SIGNED)
    Member.objects.filter(pk=member.pk).update(presales_owner=None, sales_stage=pool_stage(pool))
    client.force_login(team["mgr1"])
    page = client.get(reverse("members:pools"), {"pool": pool})
    usernames = {s.username for s in page.context["allocate_form"].fields["to"].queryset}
    assert offered <= usernames
    assert not usernames & not_offered


def pool_stage(pool):
    return {
        "unsigned": c.SalesStage.NEW,
        "signed": c.SalesStage.SIGNED,
        "abandoned": c.SalesStage.ABANDONED,
    }[pool]


def test_pool_shows_contact_data_masked(client, team):
    member = add_member(
        team["aa1"], name="掩码", username="yanma", mobile="13912345678", wechat="wx_secret_1"
    )
    Member.objects.filter(pk=member.pk).update(presales_owner=None)
    client.force_login(team["mgr1"])
    page = client.get(reverse("members:pools")).content.decode()
    assert "掩码" in page and "139****5678" in page
    assert "13912345678" not in page and "wx_secret_1" not in page


def test_assignee_gets_a_notice_that_opens_the_member(client, team):
    member = add_member(team["aa1"], name="通知我", sales_stage=c.SalesStage.SIGNED)
    services.members_allocate(actor=team["mgr1"], members=[member], to=team["after1"])
    (notice,) = Notice.objects.filter(recipient=team["after1"])
    assert "通知我" in notice.text and team["mgr1"].name in notice.text
    client.force_login(team["after1"])
    assert client.get(notice.link).status_code == 200
    # Nothing to tell when nothing moved, and nobody notifies themselves.
    services.members_allocate(actor=team["mgr1"], members=[member], to=team["after1"])
    assert Notice.objects.filter(recipient=team["after1"]).count() == 1


def test_notice_for_several_members_names_a_few_and_counts_the_rest(team):
    members = [add_member(team["aa1"], name=f"批{i}") for i in range(7)]
    Member.objects.filter(pk__in=[m.pk for m in members]).update(presales_owner=None)
    services.members_allocate(actor=team["mgr1"], members=members, to=team["pre1"])
    (notice,) = Notice.objects.filter(recipient=team["pre1"])
    assert notice.link == f"{reverse('members:list')}?owner={team['pre1'].pk}"
    assert len(re.findall("批", notice.text)) == services.NOTICE_NAMES


@pytest.mark.parametrize(
    "nxt", ["members:list", "foo", "https://evil.example/x", "//evil.example/", "javascript:x", ""]
)
def test_allocate_with_an_unexpected_next_goes_back_to_the_pools(client, team, nxt):
    member = add_member(team["aa1"])
    Member.objects.filter(pk=member.pk).update(presales_owner=None)
    client.force_login(team["mgr1"])
    response = client.post(
        reverse("members:allocate"), {"members": [member.pk], "to": team["aa2"].pk, "next": nxt}
    )
    assert response.status_code == 302 and response["Location"] == reverse("members:pools")
    member.refresh_from_db()
    assert member.presales_owner == team["aa2"]


def test_allocate_keeps_a_local_next(client, team):
    client.force_login(team["mgr1"])
    back = reverse("members:reallocate") + "?group=signed"
    response = client.post(reverse("members:allocate"), {"next": back})
    assert response["Location"] == back


@pytest.mark.parametrize("url_name", ["members:pools", "members:reallocate"])
def test_allocation_tabs_are_no_tablist_without_tabs(client, team, url_name):
    """axe aria-required-children: a role=tablist must own role=tab children."""
    client.force_login(team["mgr1"])
    page = client.get(reverse(url_name)).content.decode()
    for match in re.finditer(r'role="tablist"', page):
        fragment = page[match.start() : match.start() + 400]
        assert 'role="tab"' in fragment, fragment
    assert '<nav aria-label="' in page
