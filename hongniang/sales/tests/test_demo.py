import pytest

from hongniang.members.demo import seed_members
from hongniang.members.models import Member
from hongniang.sales.demo import seed_follow_ups
from hongniang.sales.models import FollowUp
from hongniang.staff.demo import seed_staff

pytestmark = pytest.mark.django_db


def test_demo_notes_match_the_demo_counts_and_are_written_once(regions):
    seed_members(target=40, people=seed_staff(), verbose=False)
    written = seed_follow_ups()
    assert written > 0
    assert seed_follow_ups() == 0
    for member in Member.objects.exclude(presales_owner=None, aftersales_owner=None):
        notes = FollowUp.objects.filter(member=member)
        assert notes.filter(phase="presales").count() == member.follow_up_count
        assert notes.filter(phase="aftersales").count() == member.service_note_count
        newest = notes.order_by("-contacted_at").first()
        if newest is not None:  # the member page's "last followed up" is the newest note
            assert member.followed_up_at == newest.contacted_at
