"""The member page's journey buttons and the follow-up form, in a real browser."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hongniang.conftest import login, shot
from hongniang.finance.models import Contract
from hongniang.finance.tests.helpers import SECURE, plan
from hongniang.finance.tests.signing import finance_clerk
from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.sales.models import FollowUp
from hongniang.sales.tests.browser import (
    approve_contract,
    enter_contract,
    record_follow_up,
    take_step,
)
from hongniang.staff.tests.factories import PASSWORD, role_with

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_follow_up_then_contract_then_start_pause_service(page, org):
    role = role_with(
        "members.view",
        "members.add",
        "members.edit",
        "presales.view",
        "presales.add",
        "presales.edit",
        "presales.approve",
        "aftersales.view",
        "aftersales.add",
        "aftersales.edit",
        "finance.view",
        "finance.add",
    )
    org["aa1"].role = role
    org["aa1"].save()
    member = add_member(org["aa1"], name="小芳")
    base = page.base_url
    login(page, "aa1", PASSWORD)
    page.goto(f"{base}/members/{member.pk}/")
    steps = page.locator("#journey-steps")
    # No "mark signed": a contract approved by finance signs the member.
    assert steps.get_by_role("button", name="标记已签约").count() == 0
    assert page.locator("#contracts").get_by_role("link", name="签订合同").count() == 1
    assert steps.get_by_role("link", name="放弃").count() == 1
    assert steps.get_by_role("button", name="开始服务").count() == 0  # not signed yet
    shot(page, "journey-member-new")

    # The follow-up form of whitepaper 2.5.2.
    tomorrow = timezone.localtime() + timedelta(days=1)
    record_follow_up(
        page,
        member.pk,
        next_contact=tomorrow.replace(hour=10, minute=0),
        remark="第一次联系，主要是价格觉得比较高，重点跟进",
        tags="价格高，重点",
        shoot=lambda p: shot(p, "journey-follow-up-form"),
    )
    assert "第一次联系" in page.locator("#follow-ups").inner_text()
    shot(page, "journey-follow-ups")
    follow_up = FollowUp.objects.get()
    assert follow_up.tag_list == ["价格高", "重点"] and follow_up.intention == "strong"
    assert timezone.localtime(follow_up.next_contact_at).hour == 10
    member.refresh_from_db()
    assert member.sales_stage == c.SalesStage.FOLLOWING and member.follow_up_count == 1

    # A contract entered and submitted; finance approves it; then start and pause the service.
    today = timezone.localdate()
    enter_contract(
        page,
        member.pk,
        plan_pk=plan("金卡会员（一年）", price="12800.00").pk,
        amount="12800",
        start=today,
        end=today + timedelta(days=365),
    )
    contract = Contract.objects.get(member=member)
    fin = finance_clerk()
    page.context.clear_cookies()
    login(page, fin.username, PASSWORD)
    approve_contract(page, contract.number, security_password=SECURE)
    assert Member.objects.get(pk=member.pk).sales_stage == c.SalesStage.SIGNED
    page.context.clear_cookies()
    login(page, "aa1", PASSWORD)
    take_step(page, member.pk, "开始服务")
    page.locator("#journey-steps").get_by_role("link", name="暂停服务").click()
    page.fill("#id_reason", "出差三个月")
    page.fill("#id_until", (timezone.localdate() + timedelta(days=90)).isoformat())
    page.click("button:has-text('暂停服务')")
    page.wait_for_selector(".alert-success")
    member = Member.objects.get(pk=member.pk)
    assert (member.sales_stage, member.service_status) == (
        c.SalesStage.SIGNED,
        c.ServiceStatus.PAUSED,
    )
    assert member.pause_until == timezone.localdate() + timedelta(days=90)
    assert page.locator("#journey-steps").get_by_role("button", name="恢复服务").count() == 1
    shot(page, "journey-member-paused")


def test_lists_pool_and_candidate_setting_pages(page, org):
    from hongniang.members import services as member_services

    role = role_with(
        "members.view",
        "members.add",
        "members.edit",
        "presales.view",
        "presales.add",
        "aftersales.view",
    )
    org["aa1"].role = role
    org["aa1"].save()
    org["aa2"].role = role
    org["aa2"].save()
    add_member(org["aa1"], name="未跟进")
    released = add_member(org["aa1"], name="公海会员")
    member_services.member_release(actor=org["aa1"], member=released, reason="联系不上")
    base = page.base_url
    login(page, "aa2", PASSWORD)
    page.goto(f"{base}/members/public-pool/")
    assert "公海会员" in page.locator("tbody").inner_text()
    shot(page, "journey-public-pool")
    page.check(f"input[name=members][value='{released.pk}']")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('领取所选')")
    page.wait_for_selector(".alert-success")
    assert Member.objects.get(pk=released.pk).presales_owner_id == org["aa2"].pk
    page.goto(f"{base}/members/presales/?list=not_followed")
    assert "公海会员" in page.locator("tbody").inner_text()
    shot(page, "journey-presales-list")
    page.context.clear_cookies()
    login(page, "admin", PASSWORD)
    page.goto(f"{base}/settings/")
    page.check("input[name=candidate_states][value='following/not_started']")
    shot(page, "journey-candidate-setting")
    page.click("button:has-text('保存')")
    page.wait_for_selector(".alert-success")
    from hongniang.siteconfig.models import SiteSettings

    assert "following/not_started" in SiteSettings.load().candidate_states
