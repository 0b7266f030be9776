"""Double opt-in in a browser on a phone (issue 13): she answers her matchmaker's
recommendation "interested"; he logs in and finds a masked card (no name, her approved avatar
only); he says yes; both see the other's name, photos and the next step, and nobody sees a
contact detail. Screens shot for a person to look at; no CSP violation."""

from datetime import date

import pytest

from hongniang.conftest import login, shot
from hongniang.matching.models import OptIn, Recommendation
from hongniang.members import choices as c
from hongniang.members.models import MemberPhoto
from hongniang.members.tests.helpers import add_member, resident_id
from hongniang.staff.demo import generated_avatar
from hongniang.staff.tests.factories import PASSWORD, role_with

from .conftest import MEMBER_PASSWORD, give_account

PHONE = {"width": 390, "height": 844}


def _watch_csp(page, refused):
    page.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )


def _photo(member, seed, *, avatar):
    photo = MemberPhoto(member=member, is_avatar=avatar, status="approved")
    photo.image.save(f"{seed}.png", generated_avatar(seed, member.sex == "F"), save=False)
    photo.save()


def _member_page(browser, base, identifier, refused):
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.set_default_timeout(20000)
    _watch_csp(page, refused)
    page.goto(f"{base}/m/login/")
    page.fill("#id_identifier", identifier)
    page.fill("#id_password", MEMBER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/m/")
    return ctx, page


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_both_say_yes_and_see_each_other_on_a_phone(
    browser, live_server, org, regions, fresh_engine
):
    base = live_server.url
    aa1, bb1 = org["aa1"], org["bb1"]
    for staff in (aa1, bb1):
        staff.role = role_with(
            "members.view", "members.add", "members.edit", "matching.view", "matching.edit"
        )
        staff.save()
    signed = {"service_status": c.ServiceStatus.IN_SERVICE, "sales_stage": c.SalesStage.SIGNED}
    her = add_member(
        aa1,
        name="王小芳",
        sex=c.Sex.FEMALE,
        birthday=date(1994, 5, 6),
        height=163,
        region="440106",
        username="xiaofang",
        mobile="13912345678",
        id_number=resident_id(date(1994, 5, 6), c.Sex.FEMALE, seq=21),
        address="幸福路1号",
        **signed,
    )
    him = add_member(
        bb1,
        name="陈立明",
        sex=c.Sex.MALE,
        birthday=date(1991, 2, 3),
        height=178,
        username="liming",
        mobile="13811112222",
        id_number=resident_id(date(1991, 2, 3), c.Sex.MALE, seq=33),
        wechat="liming_wx88",
        address="平安街9号",
        **signed,
    )
    for m, owner in ((her, aa1), (him, bb1)):
        m.aftersales_owner = owner
        m.save(update_fields=["aftersales_owner"])
        give_account(m)
    _photo(her, "her-avatar", avatar=True)
    _photo(her, "her-second", avatar=False)
    _photo(him, "him-avatar", avatar=True)
    Recommendation.objects.create(
        member=her, candidate=him, recommended_by=aa1, reason="性格稳重，喜欢旅行"
    )
    refused: list[str] = []

    # She says "interested" to her matchmaker's recommendation.
    her_ctx, page = _member_page(browser, base, "xiaofang", refused)
    page.goto(f"{base}/m/recommendations/")
    page.locator("#recommended article button[name=interested]").first.click()
    page.wait_for_selector(".alert-success")
    assert "陈立明" not in page.inner_text("main")

    # He finds a masked card: her avatar, no name, no contact.
    his_ctx, his = _member_page(browser, base, "liming", refused)
    his.goto(f"{base}/m/recommendations/")
    card = his.locator("#incoming article").first
    card.wait_for()
    text = card.inner_text()
    assert "红娘为您推荐" in text and "王" not in text and "13912345678" not in text
    assert card.locator("img").count() == 1  # the approved avatar
    his.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth)")
    shot(his, "optin-masked-card-phone")

    # He says yes: the revealed card, with her name, photos and the next step.
    card.locator("button[name=interested]").click()
    his.wait_for_selector("#revealed")
    main = his.inner_text("main")
    assert "王小芳" in main and "红娘会为你们安排首次约见" in main
    for secret in ("13912345678", "幸福路", resident_id(date(1994, 5, 6), c.Sex.FEMALE, seq=21)):
        assert secret not in his.content()
    assert his.locator("#revealed .portal-photo").count() == 2
    his.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth)")
    shot(his, "optin-revealed-card-phone")

    # She sees him revealed too.
    page.goto(f"{base}/m/recommendations/")
    page.locator("#mutual a.btn").first.click()
    page.wait_for_selector("#revealed")
    main = page.inner_text("main")
    assert "陈立明" in main and "liming_wx88" not in page.content()
    assert "13811112222" not in page.content() and "平安街" not in page.content()
    assert page.locator("#revealed .portal-photo").count() == 1
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth)")
    shot(page, "optin-revealed-card-her-phone")

    pair = OptIn.objects.get()
    assert pair.revealed and pair.introduction is not None

    # Her matchmaker sees the pair's state on the introductions list and ends it.
    staff_ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    staff = staff_ctx.new_page()
    staff.base_url = base
    _watch_csp(staff, refused)
    login(staff, "aa1", PASSWORD)
    staff.goto(f"{base}/matching/introductions/?status=open")
    badge = staff.locator("[data-optin=mutual]").first
    assert "双方都愿意" in badge.inner_text()
    shot(staff, "optin-introductions-workbench")
    badge.get_by_role("link", name="结束配对").click()
    staff.wait_for_selector("#optin-end-form")
    shot(staff, "optin-end-confirm")
    staff.fill("#id_note", "约见后双方不合适")
    staff.click("#optin-end")
    staff.wait_for_selector(".alert-success")
    pair.refresh_from_db()
    assert pair.state == "ended"
    page.reload()
    assert "陈立明" not in page.inner_text("main")

    staff_ctx.close()
    her_ctx.close()
    his_ctx.close()
    assert refused == []
