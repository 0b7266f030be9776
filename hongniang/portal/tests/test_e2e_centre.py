"""In a browser on a phone (issue 13, "Done when"): a visitor searches the public site, registers
at /join/, logs in to the member centre, answers two of the day's suggestions (one "not this
type"), sees the suggestions change, asks to meet members (from a suggestion's card and from the
public member page found by the search), and the matchmaker sees the requests in the workbench.
Every member-centre page is shot on the phone, with no CSP violation."""

from datetime import date

import pytest

from hongniang.conftest import login, shot
from hongniang.frontdesk.models import FrontDeskSettings
from hongniang.frontdesk.tests.browser import fill_registration
from hongniang.matching.models import EngineChange, EngineChangeKind, IntroductionRequest
from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member, resident_id
from hongniang.portal import public_ids
from hongniang.portal.centre_selectors import peer_pk, peer_ref
from hongniang.portal.models import Suggestion, SuggestionStatus
from hongniang.siteconfig.models import SiteSettings
from hongniang.staff.tests.factories import PASSWORD, role_with

PHONE = {"width": 390, "height": 844}


def _watch_csp(page, refused):
    page.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )


def _shown(page) -> list[str]:
    return page.locator("#suggestions article[data-candidate]").evaluate_all(
        "cards => cards.map(c => c.dataset.candidate)"
    )


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_visitor_registers_answers_suggestions_and_asks_to_meet_on_a_phone(
    browser, live_server, org, regions, fresh_engine
):
    base = live_server.url
    # This agency offers new registrants too (the candidate setting of issue 7).
    site = SiteSettings.load()
    site.candidate_states = ["signed/in_service", "new/not_started"]
    site.save()
    settings_row = FrontDeskSettings.load()
    settings_row.default_store = org["store_a"]
    settings_row.save()
    aa1 = org["aa1"]
    aa1.role = role_with(
        "members.view", "members.add", "members.edit", "matching.view", "matching.edit"
    )
    aa1.save()
    men = [
        add_member(
            aa1,
            name=f"候选{n}号",
            sex=c.Sex.MALE,
            birthday=date(1989 + n % 6, 1 + n % 12, 8),
            height=172 + n,
            region="440106",
            service_status=c.ServiceStatus.IN_SERVICE,
            sales_stage=c.SalesStage.SIGNED,
            preference={"age_min": 24, "age_max": 36},
        )
        for n in range(12)
    ]
    refused: list[str] = []
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.set_default_timeout(30000)
    _watch_csp(page, refused)

    # The visitor searches the public site for men and opens one; asking to meet needs a login.
    page.goto(f"{base}/")
    form = page.locator("#site-search").first
    form.locator("select[name=sex]").select_option("M")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/search/?**")
    cards = page.locator("#site-results [data-member-card]")
    assert cards.count() >= 1
    cards.first.click()
    page.wait_for_url("**/profile/**")
    found_url = page.url
    assert "先生" in page.locator("#site-member-title").inner_text()
    assert "/m/login/?next=" in page.locator("#site-meet").get_attribute("href")
    shot(page, "centre-public-member-phone")

    # The visitor registers, then logs in.
    page.goto(f"{base}/join/")
    fill_registration(
        page,
        username="xiaoyu2026",
        mobile="13812340001",
        name="林小雨",
        id_number=resident_id(date(1995, 3, 4), c.Sex.FEMALE, seq=11),
    )
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/join/thanks/")
    page.goto(f"{base}/m/login/")
    page.fill("#id_identifier", "xiaoyu2026")
    page.fill("#id_password", "Hn-visitor-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/m/")
    shot(page, "centre-home-phone")
    me = Member.objects.get(username="xiaoyu2026")

    # The day's suggestions, explained.
    page.click("nav.portal-tabs a[href='/m/recommendations/']")
    page.wait_for_selector("#suggestions article[data-candidate]")
    shot(page, "centre-recommendations-phone")
    before = _shown(page)
    assert len(before) >= 3
    assert page.locator("#suggestions .why li").count() > 0  # the why, in plain words

    # Interested in the first; the second is "not this type".
    first, second = before[0], before[1]
    page.locator(f"#suggestions article[data-candidate='{first}'] button[name=interested]").click()
    page.wait_for_selector(".alert-success")
    card = page.locator(f"#suggestions article[data-candidate='{second}']")
    card.locator("summary").click()
    card.locator("input[value=not_my_type]").check()
    shot(page, "centre-decline-phone")
    card.locator("button[name=decline]").click()
    page.wait_for_selector(".alert-success")
    after = _shown(page)
    assert first not in after and second not in after
    assert set(after) - set(before), "new suggestions took the answered ones' place"
    shot(page, "centre-recommendations-after-phone")
    feedback = EngineChange.objects.filter(kind=EngineChangeKind.FEEDBACK, member_id=me.pk)
    assert sorted((f.other_id, f.data["liked"]) for f in feedback) == sorted(
        [(peer_pk(me.pk, first), True), (peer_pk(me.pk, second), False)]
    )
    assert Suggestion.objects.get(
        member=me, candidate_id=peer_pk(me.pk, second)
    ).decline_reasons == ["not_my_type"]
    assert Suggestion.objects.filter(member=me, status=SuggestionStatus.OPEN).count() >= 3

    # "我要认识TA" on a third one's card.
    third = after[0]
    page.locator(f"#suggestions article[data-candidate='{third}'] a.btn-outline-secondary").click()
    page.wait_for_selector("#meet")
    shot(page, "centre-card-phone")
    page.fill("#id_message", "看起来很合适")
    page.click("#meet button[type=submit]")
    page.wait_for_url(f"{base}/m/introductions/")
    assert "红娘处理中" in page.inner_text("main")
    shot(page, "centre-introductions-phone")
    request = IntroductionRequest.objects.get(member=me)
    assert request.target_id == peer_pk(me.pk, third) and request.message == "看起来很合适"

    # Back on the public member page found by the search, the member asks from the page.
    page.goto(found_url)
    page.click("#site-meet")
    page.wait_for_url(f"{base}/m/introductions/")
    found = public_ids.decode("member", found_url.rstrip("/").rsplit("/", 1)[-1])
    assert IntroductionRequest.objects.filter(member=me, target_id=found).count() == 1

    # The other pages of the centre, on the phone.
    for name, path in [
        ("appointments", "/m/appointments/"),
        ("messages", "/m/messages/"),
        ("service", "/m/service/"),
        ("profile", "/m/profile/"),
        ("photos", "/m/photos/"),
    ]:
        page.goto(f"{base}{path}")
        shot(page, f"centre-{name}-phone")
    ctx.close()

    # The matchmaker of the member asked for sees the request in the workbench.
    staff_ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    staff = staff_ctx.new_page()
    staff.base_url = base
    _watch_csp(staff, refused)
    login(staff, "aa1", PASSWORD)
    staff.goto(f"{base}/matching/introductions/?status=open")
    target = next(m for m in men if peer_ref(me.pk, m.pk) == third)
    assert target.name in staff.inner_text("main")
    shot(staff, "centre-request-in-workbench")
    staff_ctx.close()

    # Not reached from the phone: the password reset pages, shot for review.
    reset_ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
    reset_page = reset_ctx.new_page()
    _watch_csp(reset_page, refused)
    reset_page.goto(f"{base}/m/password/forgot/")
    shot(reset_page, "centre-reset-request-phone")
    reset_page.fill("#id_identifier", "13812340001")
    reset_page.click("button[type=submit]")
    reset_page.wait_for_url(f"{base}/m/password/forgot/code/")
    shot(reset_page, "centre-reset-code-phone")
    reset_ctx.close()
    assert refused == [], "\n".join(refused)
