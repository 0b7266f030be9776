"""Who sees which background jobs: their own, and every job for administrators."""

from hongniang.jobs.models import Job
from hongniang.staff.permissions import can
from hongniang.staff.visibility import DataScope, user_scope


def may_see_all_jobs(user) -> bool:
    """Administrators: the settings module with the scope "all"."""
    return can(user, "settings", "view") and user_scope(user) == DataScope.ALL


def jobs_visible_to(user):
    qs = Job.objects.select_related("created_by")
    if may_see_all_jobs(user):
        return qs
    return qs.filter(created_by=user)


def job_list(*, viewer, state: str = "", kind: str = "", q: str = ""):
    qs = jobs_visible_to(viewer)
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(title__icontains=q)
    return qs.order_by("-created_at")


def periodic_schedules() -> list:
    """The periodic jobs with their schedule rows (None for one never seen by a worker)."""
    from hongniang.jobs.models import PeriodicSchedule
    from hongniang.jobs.periodic import registered

    rows = {s.name: s for s in PeriodicSchedule.objects.select_related("last_job")}
    return [(entry, rows.get(name)) for name, entry in sorted(registered().items())]
