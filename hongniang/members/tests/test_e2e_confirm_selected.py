"""Buttons acting on the ticked members (claim, allocate) ask first, naming how many, and refuse
when none is ticked: dismissing changes nothing, accepting does the action."""

import pytest

from hongniang.conftest import login, shot
from hongniang.members import services as member_services
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import PASSWORD, role_with

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _answer(page, accept: bool, seen: list[str]):
    """Answer the next dialog (confirm or alert) and remember its text."""

    def handle(dialog):
        seen.append((dialog.type, dialog.message))
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", handle)


def test_claim_asks_with_the_count_and_refuses_without_a_selection(page, org):
    role = role_with("members.view", "members.add", "presales.view", "presales.add")
    for name in ("aa1", "aa2"):
        org[name].role = role
        org[name].save()
    released = [add_member(org["aa1"], name=f"公海{i}") for i in range(2)]
    for member in released:
        member_services.member_release(actor=org["aa1"], member=member, reason="联系不上")
    base = page.base_url
    login(page, "aa2", PASSWORD)
    page.goto(f"{base}/members/public-pool/")
    claim = page.locator("button:has-text('领取所选')")

    # Nothing ticked: a message, no request.
    seen = []
    _answer(page, True, seen)
    claim.click()
    assert seen == [("alert", "请先勾选至少一位会员。")]
    assert page.locator(".alert-danger, .alert-success").count() == 0

    # Both ticked, the question dismissed: nothing changes.
    page.check("input[data-select-all]")
    _answer(page, False, seen)
    claim.click()
    assert seen[-1] == ("confirm", "确定领取选中的 2 位会员？")
    page.wait_for_timeout(300)  # a submitted form would be loading by now
    assert page.locator(".alert-success").count() == 0
    assert set(Member.objects.values_list("presales_owner", flat=True)) == {None}

    # One ticked, accepted: claimed.
    page.uncheck(f"input[name=members][value='{released[1].pk}']")
    _answer(page, True, seen)
    claim.click()
    page.wait_for_selector(".alert-success")
    assert seen[-1] == ("confirm", "确定领取选中的 1 位会员？")
    owners = dict(Member.objects.values_list("pk", "presales_owner"))
    assert owners == {released[0].pk: org["aa2"].pk, released[1].pk: None}
    shot(page, "confirm-selected-claimed")


def test_reallocate_asks_with_the_count(page, org):
    members = [add_member(org["aa2"], name=f"待分配{i}") for i in range(3)]
    base = page.base_url
    login(page, "mgr1", PASSWORD)
    page.goto(f"{base}/members/reallocate/?group=not_followed")
    page.select_option("#id_to", str(org["aa1"].pk))
    allocate = page.locator("button:has-text('分配所选')")
    seen = []
    _answer(page, True, seen)
    allocate.click()
    assert seen == [("alert", "请先勾选至少一位会员。")]

    for member in members[:2]:
        page.check(f"input[name=members][value='{member.pk}']")
    _answer(page, False, seen)
    allocate.click()
    assert seen[-1] == ("confirm", "确定分配选中的 2 位会员？")
    page.wait_for_timeout(300)
    assert not Member.objects.filter(presales_owner=org["aa1"]).exists()

    _answer(page, True, seen)
    allocate.click()
    page.wait_for_selector(".alert-success")
    assert set(Member.objects.filter(presales_owner=org["aa1"]).values_list("pk", flat=True)) == {
        m.pk for m in members[:2]
    }


def test_message_selected_refuses_without_a_selection(page, org):
    member = add_member(org["aa1"], name="小芳")
    base = page.base_url
    login(page, "aa1", PASSWORD)
    page.goto(f"{base}/members/")
    seen = []
    _answer(page, True, seen)
    page.click("button:has-text('给选中的会员发消息')")
    assert seen == [("alert", "请先勾选至少一位会员。")]
    assert page.url == f"{base}/members/"
    page.check(f"input[name=members][value='{member.pk}']")
    page.click("button:has-text('给选中的会员发消息')")
    page.wait_for_url(f"{base}/messages/bulk/?members={member.pk}")
