"""The member centre (issue 13): recommendations and the engine's suggestions answered by the
member reach the engine and the matchmaker; "我要认识TA"; appointments and feedback; messages;
my service; editing my profile and photos; another member's rows are never reachable."""

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from hongniang.finance.models import Contract, ContractStatus, FeeType, ServicePlan
from hongniang.frontdesk.models import FrontDeskSettings
from hongniang.matching import index
from hongniang.matching.models import (
    Appointment,
    AppointmentStatus,
    EngineChange,
    EngineChangeKind,
    IntroductionRequest,
    Recommendation,
    RecommendationStatus,
)
from hongniang.members import choices as c
from hongniang.members.models import EventKind, Member, MemberEvent, MemberPhoto
from hongniang.members.tests.helpers import add_member
from hongniang.messaging.models import Message, Notice
from hongniang.portal.centre_selectors import peer_ref, ref
from hongniang.portal.models import Interaction, InteractionKind, Suggestion, SuggestionStatus

from .conftest import MEMBER_PASSWORD, give_account

pytestmark = pytest.mark.django_db


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


def log_in(client, identifier="xiaofang"):
    response = client.post(
        reverse("portal:login"), {"identifier": identifier, "password": MEMBER_PASSWORD}
    )
    assert response.status_code == 302
    return response


def _recommend(world, man, reason="性格温和，工作稳定") -> Recommendation:
    return Recommendation.objects.create(
        member=world["member"], candidate=man, recommended_by=world["after1"], reason=reason
    )


# --- recommendations -----------------------------------------------------------------------


def test_member_answers_a_recommendation_and_it_reaches_the_engine(client, world):
    rec = _recommend(world, world["men"][0])
    log_in(client)
    page = client.get(reverse("portal:recommendations"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"card-rec-{ref('rec', rec.pk)}" in html and "性格温和" in html
    assert zh("Member %(uid)s") % {"uid": peer_ref(world["member"].pk, world["men"][0].pk)} in html

    response = client.post(
        reverse("portal:answer", args=["rec", ref("rec", rec.pk)]),
        {"answer": "no", "reasons": ["not_my_type", "too_old"]},
    )
    assert response.status_code == 302
    rec.refresh_from_db()
    assert rec.status == RecommendationStatus.DECLINED
    assert rec.decline_reasons == ["not_my_type", "too_old"]
    assert rec.answered_by is None  # the member answered, not staff
    change = EngineChange.objects.filter(kind=EngineChangeKind.FEEDBACK).latest("pk")
    assert (change.member_id, change.other_id) == (world["member"].pk, world["men"][0].pk)
    assert change.data == {"liked": False, "reasons": ["not_my_type", "too_old"]}
    event = MemberEvent.objects.filter(member=world["member"], kind=EventKind.MATCHING).first()
    assert event.data["recommendation"] == rec.pk
    notice = Notice.objects.get(recipient=world["after1"])
    assert "会员中心" in notice.text or "member centre" in notice.text
    assert Interaction.objects.filter(
        member=world["member"], kind=InteractionKind.ANSWER, other_id=world["men"][0].pk
    ).exists()
    # The engine holds the answer: the declined man is no longer offered.
    engine = index.get_engine()
    offered = {r.candidate_id for r in engine.recommend(world["member"].pk, k=20)}
    assert world["men"][0].pk not in offered

    again = client.post(
        reverse("portal:answer", args=["rec", ref("rec", rec.pk)]), {"answer": "yes"}, follow=True
    )
    assert zh("This recommendation has already been answered.") in again.content.decode()


def test_a_decline_needs_a_reason_and_changes_nothing_without(client, world):
    rec = _recommend(world, world["men"][0])
    log_in(client)
    response = client.post(
        reverse("portal:answer", args=["rec", ref("rec", rec.pk)]), {"answer": "no"}, follow=True
    )
    assert zh("Choose at least one reason.") in response.content.decode()
    rec.refresh_from_db()
    assert rec.status == RecommendationStatus.SENT
    assert not EngineChange.objects.filter(kind=EngineChangeKind.FEEDBACK).exists()


def test_opening_a_card_marks_it_viewed_and_records_one_view_a_day(client, world):
    rec = _recommend(world, world["men"][1])
    log_in(client)
    for _ in range(2):
        assert (
            client.get(reverse("portal:card", args=["rec", ref("rec", rec.pk)])).status_code == 200
        )
    rec.refresh_from_db()
    assert rec.status == RecommendationStatus.VIEWED
    views = EngineChange.objects.filter(
        kind=EngineChangeKind.INTERACTION, member_id=world["member"].pk
    )
    assert [v.data for v in views] == [{"kinds": ["view"]}]
    assert Interaction.objects.filter(kind=InteractionKind.VIEW).count() == 1


# --- the engine's suggestions ----------------------------------------------------------------


def test_suggestions_are_cached_per_day_and_change_after_an_answer(
    client, world, django_assert_max_num_queries
):
    log_in(client)
    html = client.get(reverse("portal:recommendations")).content.decode()
    first = list(
        Suggestion.objects.filter(member=world["member"], status=SuggestionStatus.OPEN).order_by(
            "rank"
        )
    )
    assert len(first) == 6
    for s in first:
        assert f"card-sug-{ref('sug', s.pk)}" in html
    # Both directions explained, in plain words.
    assert first[0].fits_mine or first[0].fits_theirs
    # A second visit reads the cache: no new rows, no engine call.
    client.get(reverse("portal:recommendations"))
    assert Suggestion.objects.filter(member=world["member"]).count() == 6

    liked, disliked = first[0], first[1]
    client.post(reverse("portal:answer", args=["sug", ref("sug", liked.pk)]), {"answer": "yes"})
    client.post(
        reverse("portal:answer", args=["sug", ref("sug", disliked.pk)]),
        {"answer": "no", "reasons": ["not_my_type"]},
    )
    liked.refresh_from_db()
    disliked.refresh_from_db()
    assert liked.status == SuggestionStatus.INTERESTED
    assert disliked.status == SuggestionStatus.DECLINED
    assert disliked.decline_reasons == ["not_my_type"]
    feedback = EngineChange.objects.filter(kind=EngineChangeKind.FEEDBACK).order_by("pk")
    assert [(f.other_id, f.data["liked"]) for f in feedback] == [
        (liked.candidate_id, True),
        (disliked.candidate_id, False),
    ]
    assert feedback[1].data["reasons"] == ["not_my_type"]

    html = client.get(reverse("portal:recommendations")).content.decode()
    now_open = list(Suggestion.objects.filter(member=world["member"], status=SuggestionStatus.OPEN))
    shown = {s.candidate_id for s in now_open}
    # The answered ones are gone and two new members took their place.
    assert liked.candidate_id not in shown and disliked.candidate_id not in shown
    assert shown - {s.candidate_id for s in first}
    assert f"card-sug-{ref('sug', disliked.pk)}" not in html
    # The matchmaker's timeline and notices have both answers.
    assert Notice.objects.filter(recipient=world["after1"]).count() == 2


def test_suggestions_page_is_cheap_once_cached(client, world, django_assert_max_num_queries):
    log_in(client)
    client.get(reverse("portal:recommendations"))
    with django_assert_max_num_queries(20):
        assert client.get(reverse("portal:recommendations")).status_code == 200


def test_a_member_the_engine_does_not_offer_gets_no_suggestions(client, world):
    member = world["member"]
    member.is_hidden = True
    member.save(update_fields=["is_hidden"])
    log_in(client)
    assert client.get(reverse("portal:recommendations")).status_code == 200
    assert not Suggestion.objects.filter(member=member).exists()


# --- I want to meet TA -------------------------------------------------------------------------


def test_asking_to_meet_creates_the_request_once(client, world):
    man = world["men"][2]
    log_in(client)
    response = client.post(
        reverse("portal:introduce", args=[peer_ref(world["member"].pk, man.pk)]),
        {"message": "想认识一下"},
        follow=True,
    )
    assert response.status_code == 200
    request = IntroductionRequest.objects.get(member=world["member"], target=man)
    assert request.status == "open" and request.message == "想认识一下"
    assert request.entered_by is None
    html = response.content.decode()
    assert f"introduction-{ref('introduction', request.pk)}" in html
    assert zh("Your matchmaker is on it") in html
    change = EngineChange.objects.filter(kind=EngineChangeKind.INTERACTION).latest("pk")
    assert change.data == {"kinds": ["like"]} and change.other_id == man.pk
    # Both matchmakers hear of it: the member's and the target's.
    assert Notice.objects.filter(recipient=world["after1"]).exists()
    assert Notice.objects.filter(recipient=world["org"]["bb1"]).exists()

    again = client.post(
        reverse("portal:introduce", args=[peer_ref(world["member"].pk, man.pk)]), follow=True
    )
    assert zh("You have already asked to meet this member.") in again.content.decode()
    assert IntroductionRequest.objects.filter(member=world["member"], target=man).count() == 1


def test_asking_to_meet_from_the_public_member_page(client, world):
    from hongniang.portal import public_ids

    man = world["men"][2]
    code = public_ids.encode("member", man.pk)
    page = reverse("portal:site_member", args=[code])
    ask = reverse("portal:introduce_public", args=[code])
    # A visitor is sent to the member login, to come back to this page.
    html = client.get(page).content.decode()
    assert ask not in html and f"{reverse('portal:login')}?next=" in html
    assert client.post(ask).status_code == 302
    assert not IntroductionRequest.objects.filter(target=man).exists()
    # Logged in, the member asks from the page itself.
    log_in(client)
    html = client.get(page).content.decode()
    assert f'action="{ask}"' in html
    response = client.post(ask, follow=True)
    assert response.status_code == 200
    assert IntroductionRequest.objects.filter(member=world["member"], target=man).count() == 1
    client.post(ask)
    assert IntroductionRequest.objects.filter(member=world["member"], target=man).count() == 1
    # A code that names nobody, or a GET, changes nothing.
    assert client.post(reverse("portal:introduce_public", args=["zzzzzz"])).status_code == 404
    assert client.get(ask).status_code == 405


def test_another_member_is_named_by_a_reference_of_this_viewer_only(client, world):
    """Two members comparing notes cannot tell they were shown the same person: a member's
    reference differs per viewer, and one viewer's reference means nothing to another."""
    her, man, other_viewer = world["member"], world["men"][2], world["men"][0]
    mine, theirs = peer_ref(her.pk, man.pk), peer_ref(other_viewer.pk, man.pk)
    assert mine != theirs
    log_in(client)
    assert client.post(reverse("portal:introduce", args=[theirs])).status_code == 404
    assert not IntroductionRequest.objects.filter(member=her).exists()
    assert client.post(reverse("portal:introduce", args=[mine])).status_code == 302
    assert IntroductionRequest.objects.filter(member=her, target=man).count() == 1


def test_asking_to_meet_a_hidden_or_unknown_member_is_not_found(client, world):
    hidden = world["men"][3]
    hidden.is_hidden = True
    hidden.save(update_fields=["is_hidden"])
    log_in(client)
    assert (
        client.post(
            reverse("portal:introduce", args=[peer_ref(world["member"].pk, hidden.pk)])
        ).status_code
        == 404
    )
    assert client.post(reverse("portal:introduce", args=["zzzzzzz"])).status_code == 404
    assert client.post(
        reverse("portal:introduce", args=[peer_ref(world["member"].pk, world["member"].pk)])
    ).status_code in (
        302,
        404,
    )
    assert not IntroductionRequest.objects.exists()


def test_the_matchmaker_sees_the_request_in_the_workbench(client, world):
    from hongniang.staff.tests.factories import role_with

    after1 = world["after1"]
    after1.role = role_with(
        "members.view", "members.edit", "matching.view", "matching.edit", name="售后红娘2"
    )
    after1.save()
    man = world["men"][2]
    log_in(client)
    client.post(reverse("portal:introduce", args=[peer_ref(world["member"].pk, man.pk)]))
    client.post(reverse("portal:logout"))
    client.force_login(after1)
    html = client.get(reverse("matching:introductions") + "?status=open").content.decode()
    assert "王小芳" in html


# --- appointments, messages, service -------------------------------------------------------------


def _appointment(world, man, days=-2, **fields):
    appointment = Appointment.objects.create(
        member=world["member"],
        partner=man,
        starts_at=timezone.now() + timedelta(days=days),
        place="天河咖啡馆",
        arranged_by=world["after1"],
        **fields,
    )
    return appointment


def test_appointments_and_feedback_after_the_meeting(client, world):
    past = _appointment(world, world["men"][0], status=AppointmentStatus.HELD)
    future = _appointment(world, world["men"][1], days=3)
    log_in(client)
    html = client.get(reverse("portal:appointments")).content.decode()
    assert "天河咖啡馆" in html and f"appointment-{ref('appointment', past.pk)}" in html
    response = client.post(
        reverse("portal:appointment_feedback", args=[ref("appointment", past.pk)]),
        {"feedback": "聊得很愉快"},
    )
    assert response.status_code == 302
    past.refresh_from_db()
    assert past.member_feedback == "聊得很愉快"
    refused = client.post(
        reverse("portal:appointment_feedback", args=[ref("appointment", future.pk)]),
        {"feedback": "还没见"},
        follow=True,
    )
    assert zh("Feedback is given after the meeting.") in refused.content.decode()
    future.refresh_from_db()
    assert future.member_feedback == ""
    assert Interaction.objects.filter(kind=InteractionKind.FEEDBACK).count() == 1


def test_the_partner_side_gives_its_own_feedback(client, world, org):
    # Here the member is the appointment's partner: her words go to the partner's field.
    appointment = Appointment.objects.create(
        member=world["men"][0],
        partner=world["member"],
        starts_at=timezone.now() - timedelta(days=1),
        place="珠江边",
        arranged_by=org["bb1"],
    )
    log_in(client)
    client.post(
        reverse("portal:appointment_feedback", args=[ref("appointment", appointment.pk)]),
        {"feedback": "不错"},
    )
    appointment.refresh_from_db()
    assert appointment.partner_feedback == "不错" and appointment.member_feedback == ""


def test_message_thread_with_my_matchmaker(client, world):
    member, after1 = world["member"], world["after1"]
    Message.objects.create(sender_staff=after1, recipient_member=member, body="本周六有空吗？")
    log_in(client)
    html = client.get(reverse("portal:messages")).content.decode()
    assert "本周六有空吗？" in html
    assert Message.objects.get(body="本周六有空吗？").read_at is not None
    response = client.post(reverse("portal:messages"), {"body": "有空的"})
    assert response.status_code == 302
    sent = Message.objects.get(body="有空的")
    assert sent.sender_member == member and sent.recipient_staff == after1
    assert Notice.objects.filter(recipient=after1).exists()
    empty = client.post(reverse("portal:messages"), {"body": "  "})
    assert empty.status_code == 200
    assert Message.objects.count() == 2


def test_my_service_shows_the_contract_and_the_ledger(client, world, org):
    member = world["member"]
    plan = ServicePlan.objects.create(
        name="白金套餐",
        fee_type=FeeType.ONE_OFF,
        price=Decimal("19800.00"),
        duration_months=12,
        introductions_per_month=2,
        dates_per_month=1,
    )
    today = timezone.localdate()
    contract = Contract.objects.create(
        number="HN-2026-0001",
        member=member,
        amount=Decimal("19800.00"),
        service_start=today - timedelta(days=40),
        service_end=today + timedelta(days=300),
        signed_by=org["mgr1"],
        store=org["store_a"],
        introductions_per_month=2,
        dates_per_month=1,
        created_by=org["mgr1"],
    )
    contract.plans.add(plan)
    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.EFFECTIVE)
    log_in(client)
    html = client.get(reverse("portal:service")).content.decode()
    assert "白金套餐" in html and "HN-2026-0001" in html
    assert contract.service_end.strftime("%Y-%m-%d") in html
    assert "0 / 2" in html  # introductions delivered / promised, month by month


# --- another member's rows --------------------------------------------------------------------


def test_another_members_rows_are_not_found(client, world, org):
    other = add_member(org["mgr1"], name="赵另一", username="other1", mobile="13955556666")
    give_account(other)
    rec = Recommendation.objects.create(
        member=other, candidate=world["men"][0], recommended_by=world["after1"], reason="x"
    )
    sug = Suggestion.objects.create(
        member=other, candidate=world["men"][1], day=timezone.localdate()
    )
    appointment = Appointment.objects.create(
        member=other,
        partner=world["men"][2],
        starts_at=timezone.now() - timedelta(days=1),
        place="x",
    )
    log_in(client)
    for url in [
        reverse("portal:card", args=["rec", ref("rec", rec.pk)]),
        reverse("portal:card", args=["sug", ref("sug", sug.pk)]),
        reverse("portal:card", args=["xyz", ref("rec", rec.pk)]),
    ]:
        assert client.get(url).status_code == 404, url
    for url, data in [
        (reverse("portal:answer", args=["rec", ref("rec", rec.pk)]), {"answer": "yes"}),
        (reverse("portal:answer", args=["sug", ref("sug", sug.pk)]), {"answer": "yes"}),
        (
            reverse("portal:appointment_feedback", args=[ref("appointment", appointment.pk)]),
            {"feedback": "x"},
        ),
    ]:
        assert client.post(url, data).status_code == 404, url
    rec.refresh_from_db()
    sug.refresh_from_db()
    appointment.refresh_from_db()
    assert rec.status == RecommendationStatus.SENT and sug.status == SuggestionStatus.OPEN
    assert appointment.partner_feedback == appointment.member_feedback == ""


def test_centre_pages_need_a_member_login(client, world):
    for name in ["recommendations", "introductions", "appointments", "messages", "service"]:
        response = client.get(reverse(f"portal:{name}"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("portal:login"))


# --- my profile -------------------------------------------------------------------------------


def as_posted(*forms) -> dict:
    """What a browser posts for these forms as shown (every field with its current value)."""
    data = {}
    for form in forms:
        for field in form:
            value = field.value()
            if value in (None, False):
                continue
            data[field.html_name] = value if isinstance(value, list) else str(value)
    return data


def test_member_edits_allowed_fields_only(client, world):
    member = world["member"]
    settings_row = FrontDeskSettings.load()
    settings_row.member_editable_fields = ["height", "about", "name", "sex", "preferences"]
    settings_row.save()
    log_in(client)
    page = client.get(reverse("portal:profile_change"))
    form = page.context["form"]
    assert set(form.fields) == {"height", "about"}  # name and sex: never, whatever the setting
    data = as_posted(page.context["form"], page.context["pref_form"])
    data.update(
        {
            "height": "165",
            "about": "喜欢旅行",
            "name": "改名字",
            "sex": c.Sex.MALE,
            "birthday": "1980-01-01",
            "pref-age_min": "30",
            "pref-age_max": "35",
        }
    )
    response = client.post(reverse("portal:profile_change"), data)
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.height, member.about) == (165, "喜欢旅行")
    assert member.name == "王小芳" and member.sex == c.Sex.FEMALE
    assert member.birthday == date(1995, 5, 20)
    assert member.preference.age_min == 30
    event = MemberEvent.objects.filter(member=member, kind=EventKind.UPDATED).first()
    assert set(event.data["fields"]) >= {"height", "about", "preference.age_min"}
    assert member.history.first().height == 165  # the audit trail
    assert EngineChange.objects.filter(kind=EngineChangeKind.MEMBER, member_id=member.pk).exists()


def test_implausible_values_are_refused_and_nothing_changes(client, world):
    member = world["member"]
    settings_row = FrontDeskSettings.load()
    settings_row.member_editable_fields = ["height", "preferences"]
    settings_row.save()
    log_in(client)
    page = client.get(reverse("portal:profile_change"))
    data = as_posted(page.context["form"], page.context["pref_form"])
    data.update({"height": "320", "pref-age_min": "40", "pref-age_max": "30"})
    response = client.post(reverse("portal:profile_change"), data)
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.height == 162
    assert (
        not MemberEvent.objects.filter(member=member, kind=EventKind.UPDATED)
        .exclude(actor__isnull=False)
        .exists()
    )


def _png(size=(40, 40)) -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", size, "pink").save(buffer, "PNG")
    return SimpleUploadedFile("me.png", buffer.getvalue(), content_type="image/png")


def test_photo_upload_waits_for_review_and_bad_files_are_refused(client, world):
    member = world["member"]
    log_in(client)
    response = client.post(reverse("portal:photos"), {"image": _png()})
    assert response.status_code == 302
    photo = MemberPhoto.objects.get(member=member)
    assert photo.status == c.PhotoStatus.PENDING
    assert MemberEvent.objects.filter(member=member, kind=EventKind.PHOTO).exists()
    bad = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    response = client.post(reverse("portal:photos"), {"image": bad})
    assert response.status_code == 200
    assert MemberPhoto.objects.filter(member=member).count() == 1


def test_completeness_names_what_to_add(client, world):
    log_in(client)
    page = client.get(reverse("portal:home"))
    assert page.status_code == 200
    score, missing = page.context["score"], page.context["missing"]
    assert 0 < score < 100
    assert zh("An approved photo") in [str(m) for m in missing]


def test_the_matchmaker_sees_what_the_member_did_in_the_centre(client, world):
    rec = _recommend(world, world["men"][1])
    log_in(client)
    client.get(reverse("portal:card", args=["rec", ref("rec", rec.pk)]))
    client.post(
        reverse("portal:introduce", args=[peer_ref(world["member"].pk, world["men"][1].pk)])
    )
    client.post(reverse("portal:logout"))
    client.force_login(world["after1"])
    html = client.get(reverse("home:member_activity", args=[world["member"].pk])).content.decode()
    assert f"{zh('Viewed a profile')} 1" in html and f"{zh('Asked to meet')} 1" in html


def test_hide_my_profile_from_the_public_site(client, world):
    log_in(client)
    assert 'id="site-visibility"' in client.get(reverse("portal:profile_change")).content.decode()
    assert client.post(reverse("portal:site_visibility"), {"hidden": "1"}).status_code == 302
    member = Member.objects.get(pk=world["member"].pk)
    assert member.site_hidden is True
    assert not member.is_hidden  # still matched
    client.post(reverse("portal:site_visibility"), {"hidden": "0"})
    assert Member.objects.get(pk=member.pk).site_hidden is False


# --- the matchmaker's reason, and references instead of ids (issue 13) --------------------------


def test_a_reason_with_contact_data_is_masked_in_the_centre(client, world):
    man = world["men"][0]
    _recommend(world, man, reason=f"{man.name}人很好，电话13811112222，微信 abc12345")
    log_in(client)
    html = client.get(reverse("portal:recommendations")).content.decode()
    assert "人很好" in html and "***" in html
    assert "13811112222" not in html and "abc12345" not in html and man.name not in html


def test_centre_urls_carry_references_not_ids(client, world):
    rec = _recommend(world, world["men"][0])
    log_in(client)
    html = client.get(reverse("portal:recommendations")).content.decode()
    assert reverse("portal:card", args=["rec", ref("rec", rec.pk)]) in html
    assert f"/m/recommendations/rec/{rec.pk}/" not in html
    assert zh("Member %(uid)s") % {"uid": world["men"][0].pk} not in html
    # An id in place of a reference, or a reference of another kind, is not found.
    assert client.get(f"/m/recommendations/rec/{rec.pk}/").status_code == 404
    assert client.get(reverse("portal:card", args=["sug", ref("rec", rec.pk)])).status_code == 404
    assert client.post(f"/m/meet/{world['men'][0].pk}/").status_code == 404
    # Neighbouring rows do not get neighbouring references.
    refs = [ref("rec", pk) for pk in range(1, 50)]
    assert len(set(refs)) == 49 and sorted(refs) != refs
