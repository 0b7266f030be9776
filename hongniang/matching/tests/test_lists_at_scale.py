"""The appointment and introduction lists at scale (issue 9): their query count does not grow
with the rows they show, and pages stay correct for members nobody has taken on yet."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hongniang.matching import services
from hongniang.matching.models import Appointment, IntroductionRequest
from hongniang.matching.tests.test_appointments import two_teams  # noqa: F401 - fixture
from hongniang.members.models import Member


@pytest.mark.django_db
def test_introductions_list_shows_a_member_without_any_matchmaker(client, two_teams):  # noqa: F811
    """A request about a member nobody serves (in the allocation pool) lists with "—" for that
    side's matchmaker (was a server error)."""
    t = two_teams
    services.introduction_create(
        actor=t["aa1"], request=IntroductionRequest(member=t["ann"], target=t["bob"])
    )
    Member.objects.filter(pk=t["bob"].pk).update(presales_owner=None, aftersales_owner=None)
    client.force_login(t["admin"])
    response = client.get(reverse("matching:introductions"))
    assert response.status_code == 200
    text = response.content.decode()
    assert f"{t['aa1'].name} / —" in text
