"""One bad member row never takes matching down, and who is matched at all (issue 8)."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hongniang.matching import index
from hongniang.matching.tests.conftest import MATCHING
from hongniang.members import choices as c
from hongniang.members.models import MatePreference, Member
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import role_with

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(org):
    """aa1 serves a woman; bb1 (the peer team) serves three men who all suit her."""
    for key in ("aa1", "bb1"):
        org[key].role = role_with("members.view", "members.add", "members.edit", *MATCHING)
        org[key].save()
    her = add_member(
        org["aa1"],
        name="她",
        sex=c.Sex.FEMALE,
        birthday=date(1995, 1, 1),
        service_status=c.ServiceStatus.IN_SERVICE,
        sales_stage=c.SalesStage.SIGNED,
        hobbies=["travel", "photography"],
        preference={"age_min": 25, "age_max": 40},
    )
    men = [
        add_member(
            org["bb1"],
            name=f"他{i}",
            sex=c.Sex.MALE,
            height=175,
            birthday=date(timezone.localdate().year - 30 - i, 3, 1),
            service_status=c.ServiceStatus.IN_SERVICE,
            sales_stage=c.SalesStage.SIGNED,
            hobbies=["travel"],
        )
        for i in range(3)
    ]
    return {"her": her, "men": men, **org}


def candidate_ids(client, member) -> list[int]:
    response = client.get(reverse("matching:library", args=[member.pk]))
    assert response.status_code == 200
    return [cand.member.pk for cand in response.context["candidates"]]


CORRUPT_ROWS = {
    "birthday 1800": {"birthday": date(1800, 1, 1)},
    "birthday in the future": {"birthday": date(2999, 1, 1)},
    "height 9999": {"height": 9999},
    "weight 0": {"weight": 1},
    "hobbies not a list": {"hobbies": "旅游"},
    "hobbies a dict": {"hobbies": {"travel": True}},
    "personality of numbers": {"personality": [1, 2]},
    "no sex": {"sex": ""},
    "unknown education": {"education": 42},
    "unknown marital status": {"marital_status": "complicated"},
    "unknown car": {"car": "spaceship"},
    "region not a code": {"region": "abcdef"},
    "unknown ethnicity": {"ethnicity": "99"},
}


@pytest.mark.parametrize("fields", CORRUPT_ROWS.values(), ids=CORRUPT_ROWS.keys())
def test_a_corrupt_member_is_skipped_and_reported_at_build(client, people, fields):
    bad = people["men"][1]
    Member.objects.filter(pk=bad.pk).update(**fields)  # bypasses every validation
    client.force_login(people["aa1"])
    ids = candidate_ids(client, people["her"])
    assert ids and bad.pk not in ids
    assert {people["men"][0].pk, people["men"][2].pk} <= set(ids)
    assert bad.pk in index.skipped()


@pytest.mark.parametrize(
    "fields",
    [{"age_min": 500}, {"education_min": 99}, {"region": "44xx00"}, {"marital": "single"}],
    ids=["age 500", "unknown education", "region not a code", "marital not a list"],
)
def test_corrupt_preferences_skip_only_that_member(client, people, fields):
    bad = people["men"][1]
    MatePreference.objects.filter(member=bad).update(**fields)
    client.force_login(people["aa1"])
    ids = candidate_ids(client, people["her"])
    assert people["men"][0].pk in ids and bad.pk not in ids
    assert bad.pk in index.skipped()


def test_the_corrupt_members_page_says_why_and_admins_see_the_list(client, people):
    bad = people["men"][1]
    Member.objects.filter(pk=bad.pk).update(birthday=date(1800, 1, 1), height=9999)
    client.force_login(people["bb1"])
    response = client.get(reverse("matching:library", args=[bad.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="engine-problem"' in page and "100" in page  # older than 100
    # A matchmaker without settings/approve rights gets no engine report on the index …
    response = client.get(reverse("matching:library_index"))
    assert response.status_code == 200 and 'id="engine-unusable"' not in response.content.decode()
    # … an administrator does, with the UID and the reasons (not the values).
    client.force_login(people["admin"])
    page = client.get(reverse("matching:library_index")).content.decode()
    assert 'id="engine-unusable"' in page
    assert f"UID {bad.pk}" in page and "1800" not in page and "9999" not in page


def test_a_corrupt_record_is_logged(people, caplog):
    bad = people["men"][1]
    Member.objects.filter(pk=bad.pk).update(height=9999)
    with caplog.at_level("WARNING"):
        index.get_engine()
    assert any(str(bad.pk) in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


def test_an_update_that_corrupts_a_member_does_not_break_the_running_engine(client, people):
    client.force_login(people["aa1"])
    bad = people["men"][1]
    assert bad.pk in candidate_ids(client, people["her"])  # the engine is built
    bad.height = 9999  # save() without form validation: the signal syncs the engine
    bad.hobbies = "旅游"
    bad.save()
    ids = candidate_ids(client, people["her"])
    assert bad.pk not in ids and people["men"][0].pk in ids
    assert bad.pk in index.skipped()
    bad.height, bad.hobbies = 178, ["travel"]  # corrected: back in, no longer reported
    bad.save()
    assert bad.pk in candidate_ids(client, people["her"])
    assert bad.pk not in index.skipped()


def test_corrupt_stored_answers_do_not_break_the_build(client, people):
    from hongniang.matching.models import Recommendation

    rec = Recommendation.objects.create(
        member=people["her"], candidate=people["men"][0], reason="x", status="declined"
    )
    Recommendation.objects.filter(pk=rec.pk).update(decline_reasons="too_old")
    client.force_login(people["aa1"])
    assert people["men"][1].pk in candidate_ids(client, people["her"])


# --- who is matched at all ------------------------------------------------------------------


OUT_OF_MATCHING = {
    "hidden": {"is_hidden": True},
    "abandoned": {"sales_stage": c.SalesStage.ABANDONED},
    "service finished": {"service_status": c.ServiceStatus.FINISHED},
    "service paused": {"service_status": c.ServiceStatus.PAUSED},
}


@pytest.mark.parametrize("fields", OUT_OF_MATCHING.values(), ids=OUT_OF_MATCHING.keys())
def test_excluded_members_are_never_candidates_at_build(client, people, fields):
    out = people["men"][1]
    Member.objects.filter(pk=out.pk).update(**fields)
    client.force_login(people["aa1"])
    ids = candidate_ids(client, people["her"])
    assert out.pk not in ids and people["men"][0].pk in ids
    # … and get no candidates themselves
    client.force_login(people["bb1"])
    assert candidate_ids(client, Member.objects.get(pk=out.pk)) == []


@pytest.mark.parametrize("fields", OUT_OF_MATCHING.values(), ids=OUT_OF_MATCHING.keys())
def test_excluded_members_leave_the_running_engine_at_once(client, people, fields):
    out = people["men"][1]
    client.force_login(people["aa1"])
    assert out.pk in candidate_ids(client, people["her"])
    for name, value in fields.items():
        setattr(out, name, value)
    out.save()
    assert out.pk not in candidate_ids(client, people["her"])


def test_leads_are_offered_only_with_consent_or_when_the_setting_opens_their_state(client, people):
    """The candidate setting (issue 10): by default signed members in service, and members who
    agreed to be introduced; the engine honours it at once when the setting changes."""
    from hongniang.siteconfig.models import SiteSettings

    lead = people["men"][1]
    lead.service_status, lead.sales_stage = c.ServiceStatus.NOT_STARTED, c.SalesStage.FOLLOWING
    lead.save()
    client.force_login(people["aa1"])
    assert lead.pk not in candidate_ids(client, people["her"])
    lead.consents_to_introduction = True
    lead.save()
    assert lead.pk in candidate_ids(client, people["her"])
    site = SiteSettings.load()
    site.candidate_consenting = False
    site.save()
    assert lead.pk not in candidate_ids(client, people["her"])
    site.candidate_states = ["signed/in_service", "following/not_started"]
    site.save()
    assert lead.pk in candidate_ids(client, people["her"])
    # Never a paused member, whatever the setting and the consent.
    site.candidate_states = ["signed/in_service", "following/not_started", "signed/paused"]
    site.candidate_consenting = True
    site.save()
    paused = people["men"][0]
    paused.service_status = c.ServiceStatus.PAUSED
    paused.consents_to_introduction = True
    paused.save()
    assert paused.pk not in candidate_ids(client, people["her"])


def test_birthday_older_than_100_is_the_limit(people):
    from hongniang.matching import adapter

    member = people["men"][0]
    today = date(2026, 6, 1)
    member.birthday = date(1926, 6, 1)  # 100 today
    assert adapter.profile(member, None, today=today) is not None
    member.birthday = date(1926, 5, 31)  # 100 and a day: 100 years old still
    assert adapter.profile(member, None, today=today) is not None
    member.birthday = date(1925, 6, 1)  # 101
    with pytest.raises(adapter.RecordError):
        adapter.profile(member, None, today=today)
    member.birthday = today + timedelta(days=1)
    with pytest.raises(adapter.RecordError):
        adapter.profile(member, None, today=today)
