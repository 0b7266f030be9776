"""The match library as a matchmaker uses it, in a real browser."""

from datetime import date

import pytest
from django.utils import timezone

from hongniang.conftest import login, shot
from hongniang.matching import index
from hongniang.matching.models import Appointment, Recommendation
from hongniang.members import choices as c
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import PASSWORD, role_with

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
# Signed members in service: the ones the candidate setting offers by default.
SERVED = {"sales_stage": c.SalesStage.SIGNED, "service_status": c.ServiceStatus.IN_SERVICE}


def test_recommend_decline_reranks_then_arrange_appointment(page, org):
    index.reset()
    role = role_with(
        "members.view",
        "members.add",
        "members.edit",
        "matching.view",
        "matching.add",
        "matching.edit",
        "staff.view",
    )
    org["aa1"].role = role
    org["aa1"].save()
    her = add_member(
        org["aa1"],
        **SERVED,
        name="小芳",
        sex=c.Sex.FEMALE,
        birthday=date(1995, 3, 1),
        preference={"age_min": 28, "age_max": 36, "age_importance": 3},
    )
    this_year = timezone.localdate().year
    for name, age, height in (("阿强", 30, 178), ("阿明", 34, 172), ("阿伟", 36, 170)):
        add_member(
            org["aa1"],
            **SERVED,
            name=name,
            sex=c.Sex.MALE,
            height=height,
            birthday=date(this_year - age, 6, 1),
            preference={"age_min": 24, "age_max": 33},
        )
    base = page.base_url
    login(page, "aa1", PASSWORD)
    page.goto(f"{base}/matching/member/{her.pk}/")
    shot(page, "match-library")
    names = page.locator(".candidate .fw-bold a").all_inner_texts()
    assert names[0] == "阿强"
    top = page.locator(".candidate").first
    top.locator("input[name=reason]").fill("年龄相仿，都在广州工作")
    top.locator("button:has-text('推荐')").click()
    page.wait_for_selector(".alert-success")
    rec = Recommendation.objects.get(member=her)
    assert rec.candidate.name == "阿强" and rec.reason == "年龄相仿，都在广州工作"

    # Her answer: declined, he is too old for her taste.
    form = page.locator(f"tr[data-rec='{rec.pk}'] form.answer-form")
    form.locator("input[name=accepted][value=no]").check()
    form.locator("input[name=reasons][value=too_old]").check()
    form.locator("input[name=note]").fill("她更喜欢年纪小一点的")
    form.locator("button:has-text('保存')").click()
    page.wait_for_selector(".alert-success")
    rec.refresh_from_db()
    assert rec.status == "declined" and rec.decline_reasons == ["too_old"]
    shot(page, "match-library-after-decline")
    after = page.locator(".candidate .fw-bold a").all_inner_texts()
    assert "阿强" not in after and after != names

    # Then she meets the next candidate.
    nxt = after[0]
    page.goto(f"{base}/matching/appointments/new/?member={her.pk}")
    from hongniang.members.models import Member

    partner = Member.objects.get(name=nxt)
    from hongniang.staff.tests.test_staff_a11y import UNNAMED

    assert page.evaluate(UNNAMED) == []  # the pickers keep accessible names under Tom Select
    # The partner is searched by name (Tom Select asks the server, which scopes and masks).
    page.fill("#id_partner-ts-control", nxt)
    page.locator(".ts-dropdown .option", has_text=f"UID {partner.pk}").click()
    page.fill("#id_starts_at", f"{this_year + 1}-01-10T15:00")
    page.fill("#id_place", "天河区咖啡馆")
    shot(page, "appointment-form")
    page.click("button:has-text('保存')")
    page.wait_for_url(f"{base}/matching/appointments/")
    appt = Appointment.objects.get()
    assert (appt.member, appt.partner, appt.place) == (her, partner, "天河区咖啡馆")
    shot(page, "appointments")


def test_partner_side_records_its_members_attendance(page, org):
    """The partner's matchmaker (another team) opens the appointment from the notice and
    records their member's attendance and feedback: no 403, nothing of the other side."""
    from datetime import timedelta

    from hongniang.matching import services
    from hongniang.messaging.models import Notice

    index.reset()
    role = role_with(
        "members.view",
        "members.add",
        "members.edit",
        "matching.view",
        "matching.add",
        "matching.edit",
    )
    for key in ("aa1", "bb1"):
        org[key].role = role
        org[key].save()
    her = add_member(org["aa1"], name="林晓", sex=c.Sex.FEMALE, birthday=date(1995, 3, 1), **SERVED)
    him = add_member(org["bb1"], name="周宇", sex=c.Sex.MALE, birthday=date(1992, 3, 1), **SERVED)
    appt = services.appointment_create(
        actor=org["aa1"],
        appointment=Appointment(
            member=her, partner=him, starts_at=timezone.now() + timedelta(days=1), place="公园"
        ),
    )
    Appointment.objects.filter(pk=appt.pk).update(
        starts_at=timezone.now() - timedelta(hours=3), member_feedback="她觉得还行"
    )
    notice = Notice.objects.get(recipient=org["bb1"])
    login(page, "bb1", PASSWORD)
    page.goto(f"{page.base_url}/notices/")
    assert "林**" in page.content() and "林晓" not in page.content()
    page.click(f"a[href='/notices/{notice.pk}/']")
    page.wait_for_url(f"{page.base_url}/matching/appointments/{appt.pk}/")
    assert page.locator("#id_member_feedback").count() == 0
    assert "她觉得还行" not in page.content()
    page.select_option("#id_partner_attended", "true")
    page.fill("#id_partner_feedback", "想再见一次")
    shot(page, "appointment-partner-side")
    page.click("button:has-text('保存')")
    page.wait_for_url(f"{page.base_url}/matching/appointments/")
    appt.refresh_from_db()
    assert appt.partner_attended is True and appt.partner_feedback == "想再见一次"


def test_matching_pages_name_every_control(page, org):
    """Every matching and messaging page: no control without an accessible name once the
    scripts ran, and no critical axe violation when axe-core is at hand."""
    from datetime import timedelta

    from hongniang.matching import services
    from hongniang.matching.models import IntroductionRequest
    from hongniang.staff.tests.test_staff_a11y import AXE_PATHS, CRITICAL, UNNAMED

    index.reset()
    role = role_with(
        "members.view",
        "members.add",
        "members.edit",
        "matching.view",
        "matching.add",
        "matching.edit",
    )
    for key in ("aa1", "bb1"):
        org[key].role = role
        org[key].save()
    her = add_member(org["aa1"], name="林晓", sex=c.Sex.FEMALE, birthday=date(1995, 3, 1), **SERVED)
    him = add_member(org["bb1"], name="周宇", sex=c.Sex.MALE, birthday=date(1992, 3, 1), **SERVED)
    services.recommend(actor=org["aa1"], member=her, candidate=him, reason="合适")
    appt = services.appointment_create(
        actor=org["aa1"],
        appointment=Appointment(
            member=her, partner=him, starts_at=timezone.now() + timedelta(days=1), place="公园"
        ),
    )
    services.introduction_create(
        actor=org["aa1"], request=IntroductionRequest(member=her, target=him)
    )
    axe = next((p.read_text(encoding="utf-8") for p in AXE_PATHS if p.exists()), None)
    problems = {}
    for user, urls in (
        (
            "aa1",
            [
                "/matching/",
                f"/matching/member/{her.pk}/",
                "/matching/appointments/",
                "/matching/appointments/?view=bucket&bucket=1",
                f"/matching/appointments/new/?member={her.pk}",
                f"/matching/appointments/{appt.pk}/",
                "/matching/introductions/",
                "/matching/introductions/new/",
            ],
        ),
        ("bb1", [f"/matching/appointments/{appt.pk}/", "/notices/", f"/matching/member/{him.pk}/"]),
    ):
        page.context.clear_cookies()
        login(page, user, PASSWORD)
        for url in urls:
            page.goto(page.base_url + url)
            page.wait_for_load_state("networkidle")
            found = page.evaluate(UNNAMED)
            if axe:
                page.evaluate(axe)
                found += page.evaluate(CRITICAL)
            if found:
                problems[f"{user} {url}"] = found
    assert problems == {}
