"""In a browser on a phone (issue 13, family profiles): a father drafts his son's profile on the
public site, the son opens the invitation from the SMS, corrects a field and approves, lets his
father see his introductions, and the father sees the approved state and the introductions.
Every new screen is shot, with no CSP violation."""

import re
from datetime import date

import pytest

from hongniang.conftest import login, shot
from hongniang.family.models import DraftState, FamilyProfile
from hongniang.frontdesk.models import FrontDeskSettings
from hongniang.matching.models import Recommendation
from hongniang.members import choices as c
from hongniang.members.tests.helpers import add_member
from hongniang.messaging.sms import LoggingSmsBackend
from hongniang.portal.centre_selectors import peer
from hongniang.staff.tests.factories import PASSWORD

PHONE = {"width": 390, "height": 844}


def _phone(browser, refused):
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.set_default_timeout(30000)
    page.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return ctx, page


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_parent_drafts_the_child_approves_and_the_parent_sees_it_on_a_phone(
    browser, live_server, org, regions, settings
):
    settings.SMS_BACKEND = "hongniang.messaging.sms.LoggingSmsBackend"
    LoggingSmsBackend.outbox.clear()
    front = FrontDeskSettings.load()
    front.default_store = org["store_a"]
    front.save()
    base = live_server.url
    refused: list[str] = []

    # The father, on his phone, from the public site's form.
    ctx, page = _phone(browser, refused)
    page.goto(f"{base}/family/")
    shot(page, "family-register-phone")
    page.fill("#id_relative_name", "王建国")
    page.fill("#id_relative_mobile", "13600001111")
    page.fill("#id_relative_password", "Parent-pass-2026")
    page.select_option("#id_relationship", "father")
    page.fill("#id_mobile", "13811112222")
    page.fill("#id_name", "王小明")
    page.select_option("#id_sex", c.Sex.MALE)
    page.fill("#id_birthday", "1994-05-06")
    page.select_option("select[name=region_province]", "440000")
    page.wait_for_selector("select[name=region_city] option[value='440100']", state="attached")
    page.select_option("select[name=region_city]", "440100")
    page.wait_for_selector("select[name=region_county] option[value='440106']", state="attached")
    page.select_option("select[name=region_county]", "440106")
    page.select_option("#id_marital_status", c.MaritalStatus.SINGLE)
    page.select_option("#id_education", str(c.Education.BACHELOR))
    page.fill("#id_height", "175")
    page.fill("#id_pref-age_min", "24")
    page.fill("#id_pref-age_max", "34")
    page.click("#family-register button[type=submit]")
    page.wait_for_url(f"{base}/family/thanks/")
    shot(page, "family-thanks-phone")
    page.goto(f"{base}/family/login/")
    page.fill("#id_mobile", "13600001111")
    page.fill("#id_password", "Parent-pass-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/family/centre/")
    assert "等待本人确认" in page.inner_text("main")
    shot(page, "family-centre-pending-phone")
    profile = FamilyProfile.objects.get()
    child = profile.member
    assert child.is_hidden

    # Staff see the draft on the member's page, marked, to follow the father up.
    staff_ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    staff = staff_ctx.new_page()
    staff.base_url = base
    login(staff, "admin", PASSWORD)
    staff.goto(f"{base}/members/{child.pk}/")
    assert "亲属代填 · 待本人确认" in staff.inner_text("#family-panel")
    shot(staff, "family-staff-member-page")
    staff_ctx.close()

    # The son opens the link of the SMS on his own phone, corrects his height and approves.
    mobile, text = LoggingSmsBackend.outbox[-1]
    assert mobile == "13811112222"
    link = re.search(r"https?://\S+/family/invite/[\w-]+/", text).group(0)
    son_ctx, son = _phone(browser, refused)
    son.goto(link)
    assert son.input_value("#id_height") == "175"
    assert son.input_value("#id_birthday") == "1994-05-06"  # the date round-trips
    shot(son, "family-invitation-phone")
    son.fill("#id_height", "178")
    son.fill("#id_password", "Child-own-2026")
    son.click("button[value=approve]")
    son.wait_for_url(f"{base}/m/")
    shot(son, "family-child-centre-phone")
    child.refresh_from_db()
    assert child.height == 178 and not child.is_hidden
    profile.refresh_from_db()
    assert profile.state == DraftState.APPROVED

    # A matchmaker's recommendation; the son lets his father see his introductions.
    her = add_member(org["bb1"], name="欧阳小红", sex=c.Sex.FEMALE, birthday=date(1996, 3, 3))
    Recommendation.objects.create(
        member=child, candidate=her, recommended_by=org["aa1"], reason="性格相投"
    )
    son.click("#family-card a")
    son.wait_for_url(f"{base}/m/family/")
    shot(son, "family-share-phone")
    son.click("#share-on")
    son.wait_for_selector(".alert-success")
    son_ctx.close()

    # The father sees the approved state and the introductions, read-only.
    page.goto(f"{base}/family/centre/")
    assert "本人已确认" in page.inner_text("main")
    shot(page, "family-centre-approved-phone")
    page.click(f"#draft-{profile.pk} a")
    page.wait_for_url(f"{base}/family/centre/{profile.pk}/introductions/")
    main = page.inner_text("main")
    assert peer(child.pk, her).name in main and "欧阳" not in main
    assert page.locator("main form[action*='answer']").count() == 0
    shot(page, "family-introductions-phone")
    ctx.close()
    assert refused == [], "\n".join(refused)
