"""The match library, appointments and introduction requests through services and views."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from hongniang.matching import index, services
from hongniang.matching.models import (
    Appointment,
    IntroductionRequest,
    MatchStats,
    Recommendation,
)
from hongniang.matching.tests.conftest import MATCHING
from hongniang.members import choices as c
from hongniang.members.tests.helpers import add_member
from hongniang.messaging.models import Notice
from hongniang.staff.tests.factories import StaffFactory, role_with

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(org):
    """aa1 serves a woman; bb1 (the peer team) serves three men of different ages."""
    for key in ("aa1", "aa2", "bb1", "mgr1", "mgr2"):
        role = role_with("members.view", "members.add", "members.edit", *MATCHING)
        org[key].role = role
        org[key].save()
    her = add_member(
        org["aa1"],
        name="她",
        sex=c.Sex.FEMALE,
        birthday=date(1995, 1, 1),
        service_status=c.ServiceStatus.IN_SERVICE,
        sales_stage=c.SalesStage.SIGNED,
        preference={"age_min": 28, "age_max": 36, "age_importance": 3},
    )
    men = {
        age: add_member(
            org["bb1"],
            name=f"他{age}",
            sex=c.Sex.MALE,
            height=175,
            birthday=date(timezone.localdate().year - age, 1, 1),
            service_status=c.ServiceStatus.IN_SERVICE,
            sales_stage=c.SalesStage.SIGNED,
            preference={"age_min": 25, "age_max": 34},
        )
        for age in (29, 33, 36)
    }
    return {"her": her, "men": men, **org}


def ranking(user, member):
    from hongniang.matching.selectors import match_candidates

    # The raw rows (tests only): other teams' names reach the page only through the presenter.
    return [cand.member._member.name for cand in match_candidates(viewer=user, member=member)]


def test_library_lists_ranked_candidates_and_counts_matches(client, people):
    client.force_login(people["aa1"])
    response = client.get(reverse("matching:library", args=[people["her"].pk]))
    assert response.status_code == 200
    names = [cand.member._member.name for cand in response.context["candidates"]]
    assert names[0] == "他29" and "他33" in names
    # Another team's members are shown with only their public profile.
    assert all(not cand.visible for cand in response.context["candidates"])
    page = response.content.decode()
    assert "他29" not in page and "他**" in page  # names of another team's members are masked
    assert MatchStats.objects.get(member=people["men"][29]).times_matched == 1
    client.get(reverse("matching:library", args=[people["her"].pk]))
    assert MatchStats.objects.get(member=people["men"][29]).times_matched == 1  # once per pair


def test_library_only_for_visible_members(client, people):
    client.force_login(people["aa2"])  # a peer of aa1
    assert client.get(reverse("matching:library", args=[people["her"].pk])).status_code == 404
    client.force_login(people["mgr1"])  # aa1's manager
    assert client.get(reverse("matching:library", args=[people["her"].pk])).status_code == 200
    no_matching = StaffFactory(role=role_with("members.view"), supervisor=people["admin"])
    client.force_login(no_matching)
    assert client.get(reverse("matching:library", args=[people["her"].pk])).status_code == 403


def test_recommend_notifies_other_matchmaker_and_keeps_counts(people):
    her, him = people["her"], people["men"][29]
    rec = services.recommend(actor=people["aa1"], member=her, candidate=him, reason="年龄合适")
    assert rec.status == "sent" and rec.recommended_by == people["aa1"] and rec.score
    assert MatchStats.objects.get(member=her).times_received == 1
    assert MatchStats.objects.get(member=him).times_recommended == 1
    notice = Notice.objects.get(recipient=people["bb1"])
    # Composed for bb1: their own member in full, aa1's member masked.
    assert "她**" in notice.text and "他29" in notice.text
    with pytest.raises(ValidationError):  # twice while the first awaits an answer
        services.recommend(actor=people["aa1"], member=her, candidate=him, reason="再次")
    with pytest.raises(ValidationError):  # a reason is required
        services.recommend(actor=people["aa1"], member=her, candidate=people["men"][33], reason=" ")
    with pytest.raises(PermissionDenied):  # aa2 cannot act for aa1's member
        services.recommend(actor=people["aa2"], member=her, candidate=people["men"][33], reason="x")


def test_recommend_refuses_a_pair_that_breaks_a_rule(people):
    other_woman = add_member(
        people["bb1"], name="另一位", sex=c.Sex.FEMALE, birthday=date(1994, 1, 1)
    )
    with pytest.raises(ValidationError):
        services.recommend(
            actor=people["aa1"], member=people["her"], candidate=other_woman, reason="同性"
        )
    assert not Recommendation.objects.exists()


def test_decline_with_reason_changes_the_next_ranking(people):
    her = people["her"]
    before = ranking(people["aa1"], her)
    assert before[0] == "他29"
    rec = services.recommend(
        actor=people["aa1"], member=her, candidate=people["men"][33], reason="试试"
    )
    with pytest.raises(ValidationError):  # a decline needs a reason
        services.recommendation_answer(
            actor=people["aa1"], recommendation=rec, accepted=False, reasons=[]
        )
    services.recommendation_answer(
        actor=people["aa1"], recommendation=rec, accepted=False, reasons=["too_old"]
    )
    rec.refresh_from_db()
    assert rec.status == "declined" and rec.decline_reasons == ["too_old"]
    after = ranking(people["aa1"], her)
    assert "他33" not in after  # a rejected candidate is not shown again
    assert "他36" not in after or after.index("他36") > after.index("他29")
    with pytest.raises(ValidationError):
        services.recommendation_answer(actor=people["aa1"], recommendation=rec, accepted=True)


def test_feedback_survives_an_engine_rebuild(people):
    her = people["her"]
    rec = services.recommend(
        actor=people["aa1"], member=her, candidate=people["men"][29], reason="试试"
    )
    services.recommendation_answer(
        actor=people["aa1"], recommendation=rec, accepted=False, reasons=["not_my_type"]
    )
    index.reset()  # a restart: the engine is rebuilt from the database
    assert "他29" not in ranking(people["aa1"], her)


def test_boost_pins_a_candidate_and_shows_it(client, people):
    her = people["her"]
    assert ranking(people["aa1"], her)[0] == "他29"
    services.boost_set(
        actor=people["aa1"], member=her, candidate=people["men"][33], pin=True, points=0
    )
    client.force_login(people["aa1"])
    response = client.get(reverse("matching:library", args=[her.pk]))
    first = response.context["candidates"][0]
    assert first.member.pk == people["men"][33].pk and first.result.pinned and first.boost
    services.boost_remove(actor=people["aa1"], member=her, candidate=people["men"][33])
    assert ranking(people["aa1"], her)[0] == "他29"


def test_profile_edits_reach_the_engine(people):
    her = people["her"]
    assert "他36" not in ranking(people["aa1"], her)[:1]
    him = people["men"][29]
    him.service_status = c.ServiceStatus.PAUSED  # a paused member is never matched
    him.save()
    assert "他29" not in ranking(people["aa1"], her)
    him.delete()
    assert "他29" not in ranking(people["aa1"], her)


def test_appointments_double_booking_outcome_and_lists(client, people):
    her, him = people["her"], people["men"][29]
    when = timezone.now() + timedelta(days=2)
    appt = services.appointment_create(
        actor=people["aa1"],
        appointment=Appointment(member=her, partner=him, starts_at=when, place="天河咖啡馆"),
    )
    with pytest.raises(ValidationError) as exc:
        services.appointment_create(
            actor=people["aa1"],
            appointment=Appointment(
                member=her,
                partner=people["men"][33],
                starts_at=when + timedelta(hours=1),
                place="别处",
            ),
        )
    assert "starts_at" in exc.value.message_dict
    services.appointment_create(
        actor=people["aa1"],
        allow_double_booking=True,
        appointment=Appointment(
            member=her, partner=people["men"][33], starts_at=when + timedelta(hours=1), place="别处"
        ),
    )
    assert Notice.objects.filter(recipient=people["bb1"]).count() == 2
    client.force_login(people["aa1"])
    page = client.get(reverse("matching:appointments"), {"view": "arranged"})
    assert [m.name for m in page.context["page"].object_list] == ["她"]
    page = client.get(reverse("matching:appointments"), {"view": "bucket", "bucket": "2-3"})
    assert [m.name for m in page.context["page"].object_list] == ["她"]
    # Time passes; held, with the outcome: the engine hears of it.
    when = timezone.now() - timedelta(hours=2)
    Appointment.objects.filter(pk=appt.pk).update(starts_at=when)
    response = client.post(
        reverse("matching:appointment_edit", args=[appt.pk]),
        {
            "starts_at": timezone.localtime(when).strftime("%Y-%m-%dT%H:%M"),
            "place": "天河咖啡馆",
            "status": "held",
            "member_attended": "true",
            "member_feedback": "聊得来",
            "outcome": "continue",
        },
    )
    assert response.status_code == 302
    appt.refresh_from_db()
    assert appt.status == "held" and appt.outcome == "continue"
    bad = client.post(
        reverse("matching:appointment_edit", args=[appt.pk]),
        {
            "starts_at": timezone.localtime(when).strftime("%Y-%m-%dT%H:%M"),
            "place": "x",
            "status": "planned",
            "outcome": "stop",
        },
    )
    assert bad.status_code == 200 and "outcome" in bad.context["form"].errors
    client.force_login(people["aa2"])  # not theirs
    assert client.get(reverse("matching:appointment_edit", args=[appt.pk])).status_code == 404


def test_introduction_request_is_arranged_into_an_appointment(client, people):
    her, him = people["her"], people["men"][36]
    client.force_login(people["aa1"])
    response = client.post(
        reverse("matching:introduction_create"),
        {"member": her.pk, "target": him.pk, "message": "想认识他"},
    )
    assert response.status_code == 302
    intro = IntroductionRequest.objects.get()
    assert (
        Notice.objects.filter(recipient=people["bb1"], text__contains="想").exists()
        or Notice.objects.filter(recipient=people["bb1"]).exists()
    )
    # The target's matchmaker (another team) sees it and arranges the meeting.
    client.force_login(people["bb1"])
    assert intro in client.get(reverse("matching:introductions")).context["page"].object_list
    when = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    missing = client.post(
        reverse("matching:introduction_close", args=[intro.pk]), {"status": "arranged", "note": ""}
    )
    assert missing.status_code == 302
    intro.refresh_from_db()
    assert intro.status == "open"
    client.post(
        reverse("matching:introduction_close", args=[intro.pk]),
        {"status": "arranged", "starts_at": when, "place": "公园", "note": "双方同意"},
    )
    intro.refresh_from_db()
    # bb1 booked it for their own member: him, with her as the partner.
    assert intro.status == "arranged" and intro.appointment.member == him
    assert intro.appointment.partner == her
    # A member one cannot see cannot be entered as the requester.
    client.force_login(people["aa2"])
    response = client.post(
        reverse("matching:introduction_create"), {"member": her.pk, "target": him.pk}
    )
    assert response.status_code == 200 and "member" in response.context["form"].errors


def test_library_filters(client, people, regions):
    her = people["her"]
    client.force_login(people["aa1"])
    url = reverse("matching:library", args=[her.pk])

    def names(**params):
        response = client.get(url, params)
        return [cand.member.pk for cand in response.context["candidates"]]

    everyone = names()
    assert everyone and names(team="mine") == []  # all candidates belong to the peer team
    assert names(team="others") == everyone
    top_score = client.get(url).context["candidates"][0].result.score
    assert names(min_score=int(top_score) + 1) == []
    assert names(region_province="310000") == []  # nobody lives in Shanghai
    assert names(region_province="440000", region_city="440100") == everyone


def test_candidate_filter_form_is_on_the_member_page(client, people):
    client.force_login(people["aa1"])
    response = client.get(reverse("matching:library", args=[people["her"].pk]))
    page = response.content.decode()
    for name in ("min_score", "education", "team", "region_province"):
        assert f'name="{name}"' in page, name
    # The form keeps what was asked, so a filtered page shows its own filter.
    response = client.get(
        reverse("matching:library", args=[people["her"].pk]), {"team": "others", "min_score": 1}
    )
    assert response.context["filter_form"]["team"].value() == "others"
    assert 'value="1"' in response.content.decode()


def test_appointment_count_column_is_titled_by_count(client, people):
    client.force_login(people["aa1"])
    response = client.get(reverse("matching:appointments"), {"view": "bucket", "bucket": "0"})
    page = response.content.decode()
    assert "<th>约见次数</th>" in page and "<th>约见库</th>" not in page


def test_the_library_of_a_member_not_open_to_matching_says_why_it_is_empty(client, people):
    new = add_member(people["aa1"], name="新会员", sex=c.Sex.MALE, birthday=date(1992, 1, 1))
    client.force_login(people["aa1"])
    html = client.get(reverse("matching:library", args=[new.pk])).content.decode()
    assert 'id="not-offered"' in html
    assert "该会员目前不在配对范围内（新会员 · 未开始）" in html
    served = client.get(reverse("matching:library", args=[people["her"].pk])).content.decode()
    assert 'id="not-offered"' not in served
