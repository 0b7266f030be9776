"""The stored birthday keys behind "birthday today / this month": each member's "MM-DD" in the
column of the calendar they celebrate, kept by every writer (form, import, demo seeder), and the
lists by those keys equal to the rule computed from the birthday itself."""

import calendar
import random
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from hongniang.jobs.models import JobState
from hongniang.members import choices as c
from hongniang.members.birthdays import birthday_keys, lunar_month_day, lunar_today
from hongniang.members.models import Member
from hongniang.members.selectors import birthday_count, birthday_q
from hongniang.members.tests.helpers import add_member
from hongniang.members.tests.test_import_export import confirm, good_row, upload, xlsx


def _celebrates(birthday: date, lunar_md: str | None, today: date, lunar_keys, *, month: bool):
    """The rule, from the birthday itself (no stored key); `lunar_md` for a lunar member,
    `lunar_keys` the lunar days and month of `today` (computed once: the lunar calendar is slow)."""
    keys, lunar_month = lunar_keys
    if lunar_md is not None:
        return lunar_md.startswith(f"{lunar_month}-") if month and lunar_month else lunar_md in keys
    if month:
        return birthday.month == today.month
    if (birthday.month, birthday.day) == (today.month, today.day):
        return True
    leap_day = (birthday.month, birthday.day) == (2, 29)
    return leap_day and (today.month, today.day) == (2, 28) and not calendar.isleap(today.year)


@pytest.mark.django_db
def test_the_lists_by_stored_keys_equal_the_rule_on_every_day_of_two_years(org):
    rng = random.Random(20261125)
    # 29 February in either calendar, and a lunar leap month (2004-04-01 is in 闰二月).
    people = [(date(1992, 2, 29), False), (date(1992, 2, 29), True), (date(2004, 4, 1), True)]
    people += [
        (date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 45)), rng.random() < 0.4)
        for _ in range(40)
    ]
    members = {
        add_member(org["aa1"], birthday=born, lunar_birthday=lunar).pk: (
            born,
            lunar_month_day(born) if lunar else None,
        )
        for born, lunar in people
    }
    for day in [date(2027, 1, 1) + timedelta(days=i) for i in range(365 + 366)]:
        lunar_keys = lunar_today(day)
        for month in (False, True) if day.day in (1, 28) else (False,):
            found = set(
                Member.objects.filter(birthday_q(day, month=month)).values_list("pk", flat=True)
            )
            expected = {
                pk
                for pk, (born, lunar_md) in members.items()
                if _celebrates(born, lunar_md, day, lunar_keys, month=month)
            }
            assert found == expected, (day, month)
            # the home page's count: one count per calendar, the same number
            assert birthday_count(Member.objects.all(), day, month=month) == len(expected)


@pytest.mark.django_db
def test_the_keys_follow_the_birthday_and_the_calendar(org):
    member = add_member(org["aa1"], birthday=date(1990, 5, 3))
    member.refresh_from_db()
    assert (member.birthday_md, member.lunar_birthday_md) == ("05-03", "")
    member.lunar_birthday = True
    member.save(update_fields=["lunar_birthday"])
    member.refresh_from_db()
    assert (member.birthday_md, member.lunar_birthday_md) == ("", "04-09")
    member.lunar_birthday, member.birthday = False, date(1991, 12, 31)
    member.save(update_fields=["lunar_birthday", "birthday"])
    member.refresh_from_db()
    assert (member.birthday_md, member.lunar_birthday_md) == ("12-31", "")
    member.birthday = None
    member.save()
    member.refresh_from_db()
    assert (member.birthday_md, member.lunar_birthday_md) == ("", "")


@pytest.mark.django_db
def test_an_edit_of_the_birthday_names_the_birthday_not_its_keys(client, org):
    from hongniang.members import services
    from hongniang.members.models import EventKind, MatePreference

    member = add_member(org["aa1"], birthday=date(1990, 5, 3))
    member.birthday = date(1990, 6, 4)
    services.member_update(
        actor=org["aa1"], member=member, preference=MatePreference.objects.get(member=member)
    )
    event = member.events.filter(kind=EventKind.UPDATED).latest("pk")
    assert event.data["fields"] == ["birthday"]
    member.refresh_from_db()
    assert member.birthday_md == "06-04"


@pytest.mark.django_db
def test_imported_members_get_their_keys_and_an_update_moves_them(client, org, regions):
    client.force_login(org["aa1"])
    rows = [good_row(1, birthday=date(1990, 5, 3)), good_row(2, birthday=date(1990, 5, 3))]
    rows[1]["lunar_birthday"] = "是"
    job, _r = confirm(client, upload(client, xlsx(rows)))
    assert job.state == JobState.SUCCEEDED, job.error
    solar, lunar = (Member.objects.get(name=row["name"]) for row in rows)
    assert (solar.birthday_md, solar.lunar_birthday_md) == ("05-03", "")
    assert (lunar.birthday_md, lunar.lunar_birthday_md) == ("", "04-09")
    assert lunar.lunar_birthday

    # An import in update mode that changes the birthday moves the key along.
    moved = good_row(1, birthday=date(1990, 5, 3))
    moved["name"], moved["birthday"] = "改生日", date(1990, 7, 8)
    job, _r = confirm(
        client, upload(client, xlsx([moved])), mode="update", security_password="Secure-999"
    )
    assert job.state == JobState.SUCCEEDED, job.error
    solar.refresh_from_db()
    assert (solar.birthday, solar.birthday_md) == (date(1990, 7, 8), "07-08")


def test_keys_of_a_member_without_a_birthday_are_empty():
    assert birthday_keys(None, True) == ("", "")
    assert birthday_keys(date(2000, 2, 29), False) == ("02-29", "")


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_keys_of_existing_members():
    before, after = (
        [("members", "0019_contract_event")],
        [("members", "0020_birthday_month_day")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps.get_model("members", "Member")
        now = timezone.now()

        def make(username, **fields):
            return old.objects.create(
                username=username, name="某", sex=c.Sex.FEMALE, registered_at=now, **fields
            ).pk

        solar = make("u1", birthday=date(1988, 2, 29))
        # Imported before the import derived the lunar key: the flag without the key.
        lunar = make("u2", birthday=date(1990, 5, 3), lunar_birthday=True)
        unknown = make("u3")
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps.get_model("members", "Member")
        keys = {m.pk: (m.birthday_md, m.lunar_birthday_md) for m in new.objects.all()}
        assert keys == {solar: ("02-29", ""), lunar: ("", "04-09"), unknown: ("", "")}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
