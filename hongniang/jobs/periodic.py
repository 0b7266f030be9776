"""Periodic jobs: work the apps declare to run every so often (the pool return, reminders, the
engine snapshot), started by the worker's scheduler.

An app declares one in its ``tasks`` module:

    @periodic(name="pool_return", title=_("Return idle members to the public pool"), at=time(2, 30))
    @job_task
    def return_idle_members(run): ...

``at`` runs it daily at that local time, ``every`` at that interval. Each due run becomes an
ordinary job (kind "nightly") with progress and a page. With several workers, a run is claimed by
a conditional update of its schedule row, so exactly one of them starts it.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils import timezone
from django.utils.module_loading import autodiscover_modules


@dataclass(frozen=True)
class Periodic:
    name: str
    title: str
    work_task: object
    every: timedelta | None = None
    at: time | None = None

    def __post_init__(self):
        if (self.every is None) == (self.at is None):
            raise ValueError(f"periodic job {self.name}: give exactly one of every= and at=")
        if self.every is not None and self.every < timedelta(minutes=1):
            raise ValueError(f"periodic job {self.name}: run at most once a minute")

    def first_due(self, now: datetime) -> datetime:
        # An interval job runs once when first seen (a fresh install needs its reminders now);
        # a daily job waits for its hour, as its work belongs to the night.
        return now if self.every is not None else self.next_after(now)

    def next_after(self, now: datetime) -> datetime:
        if self.every is not None:
            return now + self.every
        local = timezone.localtime(now)
        candidate = local.replace(hour=self.at.hour, minute=self.at.minute, second=0, microsecond=0)
        if candidate <= local:
            # Add a calendar day and rebuild the local time, so a DST change keeps the hour.
            next_day = (candidate + timedelta(days=1)).date()
            candidate = timezone.make_aware(datetime.combine(next_day, self.at))
        return candidate

    def describe(self) -> str:
        if self.at is not None:
            return self.at.strftime("%H:%M")
        minutes = int(self.every.total_seconds() // 60)
        return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


REGISTRY: dict[str, Periodic] = {}


def periodic(*, name: str, title, every: timedelta | None = None, at: time | None = None):
    """Declare a job task (from `job_task`) to run periodically; see the module docstring."""

    def register(work_task):
        REGISTRY[name] = Periodic(name=name, title=title, work_task=work_task, every=every, at=at)
        return work_task

    return register


def registered() -> dict[str, Periodic]:
    """Every periodic job of the installed apps (their ``tasks`` modules declare them)."""
    autodiscover_modules("tasks")
    return REGISTRY
