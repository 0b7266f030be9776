"""Dates reach the browser in the only format an <input type=date> reads: YYYY-MM-DD."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from hongniang.members.forms import MemberFilterForm, MemberForm
from hongniang.members.tests.helpers import add_member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_member_form_renders_birthday_as_iso_in_every_language(org, language):
    member = add_member(org["aa1"], birthday=date(1999, 8, 22))
    with translation.override(language):
        html = str(MemberForm(instance=member)["birthday"])
    assert 'value="1999-08-22"' in html


def test_filter_form_dates_render_as_iso(org):
    with translation.override("zh-hans"):
        form = MemberFilterForm(initial={"registered_from": date(2024, 1, 5)}, viewer=org["admin"])
        assert 'value="2024-01-05"' in str(form["registered_from"])


def test_edit_page_keeps_birthday_when_saved_unchanged(client, org, regions):
    member = add_member(org["aa1"], birthday=date(1999, 8, 22))
    client.force_login(org["aa1"])
    page = client.get(reverse("members:edit", args=[member.pk])).content.decode()
    assert 'name="birthday" value="1999-08-22"' in page


def test_saving_unchanged_writes_no_event_and_no_history(org):
    from hongniang.members import services
    from hongniang.members.models import EventKind, MatePreference, Member

    member = add_member(org["aa1"], hobbies=["reading", "travel"])
    history = member.history.count()
    same = Member.objects.get(pk=member.pk)
    services.member_update(
        actor=org["aa1"], member=same, preference=MatePreference.objects.get(member=member)
    )
    assert member.history.count() == history
    assert not member.events.filter(kind=EventKind.UPDATED).exists()

    same.height = 170
    services.member_update(actor=org["aa1"], member=same)
    event = member.events.get(kind=EventKind.UPDATED)
    assert event.data["fields"] == ["height"]


def test_multi_selects_are_stored_in_choice_order(org):
    from hongniang.members import choices as c

    member = add_member(org["aa1"], hobbies=["travel", "reading", "travel"])
    member.refresh_from_db()
    assert member.hobbies == c.in_choice_order(["reading", "travel"], c.Hobby)
    assert len(member.hobbies) == 2
