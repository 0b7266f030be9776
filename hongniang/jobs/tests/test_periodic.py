from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from hongniang.jobs.models import Job, JobKind, JobState, PeriodicSchedule
from hongniang.jobs.periodic import Periodic
from hongniang.jobs.services import start_due_periodic_jobs
from hongniang.jobs.tests.sample_jobs import make_stores

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def registry(**entries):
    return {
        name: Periodic(name=name, title=f"任务{name}", work_task=make_stores, **kw)
        for name, kw in entries.items()
    }


def test_a_daily_job_is_due_at_its_local_hour():
    nightly = Periodic(name="n", title="n", work_task=make_stores, at=time(2, 30))
    assert nightly.next_after(at(2026, 11, 25, 1, 0)) == at(2026, 11, 25, 2, 30)
    assert nightly.next_after(at(2026, 11, 25, 2, 30)) == at(2026, 11, 26, 2, 30)
    assert nightly.next_after(at(2026, 12, 31, 23, 0)) == at(2027, 1, 1, 2, 30)
    assert nightly.first_due(at(2026, 11, 25, 9, 0)) == at(2026, 11, 26, 2, 30)


@given(
    # hypothesis wants naive bounds; the values carry the time zone
    now=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(SHANGHAI),
    ),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
)
def test_the_next_daily_run_is_the_first_later_occurrence(now, hour, minute):
    due = Periodic(name="n", title="n", work_task=make_stores, at=time(hour, minute)).next_after(
        now
    )
    local = due.astimezone(SHANGHAI)
    assert (local.hour, local.minute, local.second) == (hour, minute, 0)
    assert now < due <= now + timedelta(days=1)


def test_a_schedule_needs_exactly_one_of_every_and_at():
    with pytest.raises(ValueError):
        Periodic(name="x", title="x", work_task=make_stores)
    with pytest.raises(ValueError):
        Periodic(name="x", title="x", work_task=make_stores, every=timedelta(hours=1), at=time(1))
    with pytest.raises(ValueError):
        Periodic(name="x", title="x", work_task=make_stores, every=timedelta(seconds=5))


@pytest.mark.django_db
def test_a_due_job_starts_once_and_then_waits_for_its_next_run():
    reg = registry(hourly={"every": timedelta(hours=1)})
    now = at(2026, 11, 25, 10, 0)
    [job] = start_due_periodic_jobs(now=now, registry=reg)
    job.refresh_from_db()
    assert job.kind == JobKind.NIGHTLY and job.created_by is None
    assert job.state == JobState.FAILED  # make_stores wants parameters: the failure is recorded
    schedule = PeriodicSchedule.objects.get(name="hourly")
    assert schedule.next_due_at == now + timedelta(hours=1) and schedule.last_job == job
    assert start_due_periodic_jobs(now=now + timedelta(minutes=59), registry=reg) == []
    assert len(start_due_periodic_jobs(now=now + timedelta(hours=1), registry=reg)) == 1
    assert Job.objects.filter(kind=JobKind.NIGHTLY).count() == 2


@pytest.mark.django_db
def test_two_workers_seeing_the_same_due_run_start_it_once(monkeypatch):
    reg = registry(hourly={"every": timedelta(hours=1)})
    now = at(2026, 11, 25, 10, 0)
    PeriodicSchedule.objects.create(name="hourly", next_due_at=now)
    read_by_second_worker = PeriodicSchedule.objects.get(name="hourly")
    assert len(start_due_periodic_jobs(now=now, registry=reg)) == 1
    # The second worker read the row before the first one moved it: its claim must not match.
    monkeypatch.setattr(
        PeriodicSchedule.objects,
        "get_or_create",
        lambda **kw: (read_by_second_worker, False),
    )
    assert start_due_periodic_jobs(now=now, registry=reg) == []
    assert Job.objects.filter(kind=JobKind.NIGHTLY).count() == 1


@pytest.mark.django_db
def test_a_daily_job_waits_for_the_night_on_a_fresh_install():
    reg = registry(nightly={"at": time(3, 0)})
    assert start_due_periodic_jobs(now=at(2026, 11, 25, 9, 0), registry=reg) == []
    assert PeriodicSchedule.objects.get(name="nightly").next_due_at == at(2026, 11, 26, 3, 0)
    assert len(start_due_periodic_jobs(now=at(2026, 11, 26, 3, 0), registry=reg)) == 1


@pytest.mark.django_db
def test_run_periodic_command_starts_the_declared_jobs(monkeypatch):
    from hongniang.jobs import periodic

    reg = registry(hourly={"every": timedelta(hours=1)})
    monkeypatch.setattr(periodic, "REGISTRY", reg)
    call_command("run_periodic")
    assert Job.objects.filter(kind=JobKind.NIGHTLY, title="任务hourly").count() == 1


@pytest.mark.django_db
def test_administrators_see_the_periodic_jobs_on_the_job_list(org, client, monkeypatch):
    from hongniang.jobs import periodic

    reg = registry(nightly={"at": time(3, 0)})
    monkeypatch.setattr(periodic, "REGISTRY", reg)
    start_due_periodic_jobs(now=at(2026, 11, 25, 9, 0))
    client.force_login(org["admin"])
    page = client.get(reverse("jobs:list")).content.decode()
    assert "任务nightly" in page and "03:00" in page and "2026-11-26 03:00" in page
