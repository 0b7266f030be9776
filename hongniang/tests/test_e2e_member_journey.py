"""The member's journey of issue 10, end to end in a browser, with the demo agency's roles.

A visitor asks for a matchmaker and registers through a matchmaker's QR link; the manager
assigns the consultation; the matchmaker accepts the registered member and records a follow-up
with the next contact tomorrow, which the home page lists tomorrow; the manager enters a contract
for the member, finance approves it with the security password (which signs the member), and the
manager allocates them to an after-sales matchmaker, who accepts and starts the service; the
member is then offered in another member's match library, and an abandoned member is not.
"""

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from hongniang.conftest import login, shot
from hongniang.finance.models import Contract, ContractStatus
from hongniang.finance.tests.helpers import plan
from hongniang.frontdesk.models import Consultation, FrontDeskSettings
from hongniang.frontdesk.tests.browser import referral_link, register, submit_consultation
from hongniang.members import choices as c
from hongniang.members.models import Allocation, Member
from hongniang.members.tests.helpers import add_member, resident_id
from hongniang.sales.tests.browser import (
    approve_contract,
    enter_contract,
    record_follow_up,
    take_step,
)
from hongniang.staff.demo import DEMO_PASSWORD, DEMO_SECURITY_PASSWORD, seed_staff
from hongniang.staff.models import Staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _context(browser, base):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30000)  # a long scenario on a busy machine
    page.base_url = base
    return page


def _as(browser, base, username):
    page = _context(browser, base)
    login(page, username, DEMO_PASSWORD)
    return page


def _accept_waiting(page, member):
    """The logged-in matchmaker accepts the member waiting for them."""
    page.goto(f"{page.base_url}/members/pending/")
    row = page.locator("#pending tbody tr", has_text=f"UID {member.pk}")
    row.get_by_role("button", name="接受").click()
    page.wait_for_selector(".alert-success")


def _candidates(page, member) -> set[int]:
    page.goto(f"{page.base_url}/matching/member/{member.pk}/")
    page.wait_for_selector("#candidates")
    return {
        int(pk)
        for pk in page.locator("[data-candidate]").evaluate_all(
            "els => els.map(e => e.dataset.candidate)"
        )
    }


def test_the_member_journey(browser, live_server, regions):
    seed_staff()
    mgr, presales, aftersales = (Staff.objects.get(username=u) for u in ("mgr11", "hn111", "hn112"))
    desk = FrontDeskSettings.load()
    desk.default_store = mgr.store
    desk.save()
    gold = plan("金卡会员（一年）", price="12800.00")
    base = live_server.url
    # The member whose library is looked at (one open to matching: the engine offers nobody to
    # a member it does not offer), and a member who agreed to be introduced (offered by the
    # default candidate setting) until she is abandoned.
    seeker = add_member(
        mgr,
        name="陈先生",
        sex=c.Sex.MALE,
        birthday=date(1992, 6, 1),
        height=178,
        consents_to_introduction=True,
    )
    willing = add_member(
        presales, name="李女士", birthday=date(1994, 8, 8), consents_to_introduction=True
    )

    # A visitor asks for a matchmaker, then registers through hn111's QR link.
    matchmaker = _as(browser, base, "hn111")
    link = referral_link(matchmaker)
    visitor = _context(browser, base)
    submit_consultation(visitor, base, name="王女士", mobile="13912345670", message="想找对象")
    register(
        visitor,
        link,
        username="xiaofang",
        mobile="13812345670",
        name="王小芳",
        id_number=resident_id(date(1995, 3, 4), c.Sex.FEMALE, seq=7),
    )
    member = Member.objects.get(username="xiaofang")
    assert (member.source, member.presales_owner_id) == (c.Source.REGISTRATION, presales.pk)

    # The manager assigns the consultation to hn111.
    manager = _as(browser, base, "mgr11")
    manager.goto(f"{base}/frontdesk/consultations/")
    manager.get_by_role("link", name="王女士").click()
    manager.select_option("#id_to", str(presales.pk))
    manager.get_by_role("button", name="分配").click()
    manager.wait_for_selector(".alert-success")
    assert Consultation.objects.get().assigned_to_id == presales.pk

    # hn111 accepts the registered member and records a follow-up, next contact tomorrow 10:00.
    _accept_waiting(matchmaker, member)
    tomorrow = timezone.localdate() + timedelta(days=1)
    record_follow_up(
        matchmaker,
        member.pk,
        next_contact=datetime.combine(tomorrow, time(10, 0)),
        remark="电话沟通，有意向",
    )
    member.refresh_from_db()
    assert member.sales_stage == c.SalesStage.FOLLOWING

    # Tomorrow morning (a new working day: a new login) the follow-up is on hn111's home page.
    at = timezone.make_aware(datetime.combine(tomorrow, time(9, 0)))
    # The browser is closed overnight: whatever the hour the test runs at (the 12-hour session
    # may not have expired by 9:00 when it runs late in the evening), hn111 logs in afresh.
    matchmaker.context.clear_cookies()
    with freeze_time(at, tick=True, real_asyncio=True):
        login(matchmaker, "hn111", DEMO_PASSWORD)
        shot(matchmaker, "journey-home-tomorrow")
        due = matchmaker.locator("[data-todo=due_today]")
        assert due.locator("[data-count]").inner_text() == "1"
        assert "王小芳" in due.inner_text() and "10:00" in due.inner_text()
        assert "王女士" in matchmaker.locator("[data-todo=consultations]").inner_text()

    # The manager enters a contract; finance approves it with the security password, which
    # signs the member; the manager allocates them to the after-sales hn112.
    today = timezone.localdate()
    enter_contract(
        manager,
        member.pk,
        plan_pk=gold.pk,
        amount="12800",
        start=today,
        end=today + timedelta(days=365),
    )
    contract = Contract.objects.get(member=member)
    assert contract.status == ContractStatus.SUBMITTED
    member.refresh_from_db()
    assert member.sales_stage == c.SalesStage.FOLLOWING  # not before finance approves
    finance = _as(browser, base, "finance")
    approve_contract(finance, contract.number, security_password=DEMO_SECURITY_PASSWORD)
    member.refresh_from_db()
    assert member.sales_stage == c.SalesStage.SIGNED
    manager.goto(f"{base}/members/allocate/?pool=signed")
    manager.check(f"input[name=members][value='{member.pk}']")
    manager.select_option("#id_to", str(aftersales.pk))
    manager.once("dialog", lambda dialog: dialog.accept())
    manager.get_by_role("button", name="分配所选").click()
    manager.wait_for_selector(".alert-success")

    # hn112 accepts and starts the service.
    after = _as(browser, base, "hn112")
    _accept_waiting(after, member)
    take_step(after, member.pk, "开始服务")
    member.refresh_from_db()
    assert (member.sales_stage, member.service_status, member.aftersales_owner_id) == (
        c.SalesStage.SIGNED,
        c.ServiceStatus.IN_SERVICE,
        aftersales.pk,
    )
    assert not Allocation.objects.filter(member=member, status="pending").exists()

    # The member is offered in 陈先生's match library, so is the willing member...
    assert {member.pk, willing.pk} <= _candidates(manager, seeker)

    # ...until hn111 abandons her.
    matchmaker.goto(f"{base}/members/{willing.pk}/")
    matchmaker.locator("#journey-steps").get_by_role("link", name="放弃").click()
    matchmaker.fill("#id_reason", "已在别家机构找到对象")
    matchmaker.once("dialog", lambda dialog: dialog.accept())
    matchmaker.get_by_role("button", name="放弃").click()
    matchmaker.wait_for_selector(".alert-success")
    offered = _candidates(manager, seeker)
    shot(manager, "journey-library")
    assert member.pk in offered and willing.pk not in offered

    # From the member's page: the activity panel (loaded by htmx) and the match library.
    manager.goto(f"{base}/members/{member.pk}/")
    assert manager.inner_text("[data-activity=follow_ups]").startswith("1")
    assert "¥12800.00" in manager.inner_text("[data-activity=spending]")  # the contract's payment
    shot(manager, "journey-member-activity")
    manager.click("#library-link")
    manager.wait_for_url(f"{base}/matching/member/{member.pk}/")
