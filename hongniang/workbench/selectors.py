"""Figures for the dashboard, each computed through the viewer's visibility."""

from django.db.models import Count

from hongniang.staff.models import Staff, StaffStatus


def dashboard_figures(*, viewer) -> dict:
    team = Staff.objects.visible_to(viewer)
    by_status = dict(team.values_list("status").annotate(n=Count("pk")))
    by_role = list(team.values("role__name").annotate(n=Count("pk")).order_by("-n", "role__name"))
    by_store = list(
        team.values("store__name").annotate(n=Count("pk")).order_by("-n", "store__name")
    )
    return {
        "team_size": sum(by_status.values()),
        "locked": by_status.get(StaffStatus.LOCKED, 0),
        "active": by_status.get(StaffStatus.NORMAL, 0),
        "by_role": [{"name": r["role__name"] or "—", "value": r["n"]} for r in by_role],
        "by_store": [{"name": r["store__name"] or "—", "value": r["n"]} for r in by_store],
    }
