"""Stalled couples (issue 10): both said yes, or met and want to continue, and nobody followed
up for N days: both matchmakers get a task, once."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from hongniang.matching import services
from hongniang.matching.models import Appointment, Recommendation
from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.messaging.models import Notice
from hongniang.siteconfig.models import SiteSettings

pytestmark = pytest.mark.django_db

SERVED = {"sales_stage": c.SalesStage.SIGNED, "service_status": c.ServiceStatus.IN_SERVICE}


@pytest.fixture
def couple(org):
    site = SiteSettings.load()
    site.stalled_pair_days = 7
    site.save()
    her = add_member(org["aa1"], name="她", sex=c.Sex.FEMALE, birthday=date(1995, 1, 1), **SERVED)
    him = add_member(org["bb1"], name="他", sex=c.Sex.MALE, birthday=date(1992, 1, 1), **SERVED)
    return her, him


def said_yes(a, b, when):
    Recommendation.objects.create(
        member=a, candidate=b, reason="合适", status="accepted", answered_at=when
    )


def test_mutual_yes_without_follow_up_notifies_both_matchmakers_once(org, couple):
    her, him = couple
    now = timezone.now()
    said_yes(her, him, now - timedelta(days=9))
    said_yes(him, her, now - timedelta(days=8))
    assert services.stalled_pairs_notify(now=now - timedelta(days=3)) == 0  # not yet N days
    assert services.stalled_pairs_notify(now=now) == 1
    assert Notice.objects.filter(recipient=org["aa1"]).count() == 1
    assert Notice.objects.filter(recipient=org["bb1"]).count() == 1
    assert services.stalled_pairs_notify(now=now) == 0  # once per couple


def test_one_sided_yes_or_a_follow_up_or_a_later_appointment_is_not_stalled(org, couple):
    her, him = couple
    now = timezone.now()
    said_yes(her, him, now - timedelta(days=9))
    assert services.stalled_pairs(now=now) == []
    said_yes(him, her, now - timedelta(days=9))
    assert len(services.stalled_pairs(now=now)) == 1
    Member.objects.filter(pk=her.pk).update(followed_up_at=now - timedelta(days=1))
    assert services.stalled_pairs(now=now) == []
    Member.objects.filter(pk=her.pk).update(followed_up_at=None)
    Appointment.objects.create(
        member=her,
        partner=him,
        starts_at=now + timedelta(days=2),
        place="咖啡馆",
        arranged_by=org["aa1"],
    )
    assert services.stalled_pairs(now=now) == []


def test_appointment_ending_continue_then_silence_is_stalled(org, couple):
    her, him = couple
    now = timezone.now()
    appt = Appointment.objects.create(
        member=her,
        partner=him,
        starts_at=now - timedelta(days=10),
        place="公园",
        arranged_by=org["aa1"],
        status="held",
        outcome="continue",
    )
    Appointment.objects.filter(pk=appt.pk).update(created_at=now - timedelta(days=12))
    stalled = services.stalled_pairs(now=now)
    assert [(a, b) for a, b, _since in stalled] == [tuple(sorted((her.pk, him.pk)))]
    assert services.stalled_pairs_notify(now=now) == 1


def test_a_mutual_yes_in_the_member_centre_then_silence_is_stalled(org, couple):
    from hongniang.matching.models import OptIn

    her, him = couple
    now = timezone.now()
    a, b = sorted((her.pk, him.pk))
    OptIn.objects.create(
        low_id=a,
        high_id=b,
        low_answer="yes",
        high_answer="yes",
        state="mutual",
        mutual_at=now - timedelta(days=9),
    )
    assert [(x, y) for x, y, _since in services.stalled_pairs(now=now)] == [(a, b)]
    assert services.stalled_pairs(now=now - timedelta(days=5)) == []
