"""Figures for the dashboard, each computed through the viewer's visibility."""

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from hongniang.staff.models import Staff, StaffStatus


def dashboard_figures(*, viewer) -> dict:
    team = Staff.objects.visible_to(viewer)
    by_status = dict(team.values_list("status").annotate(n=Count("pk")))
    by_role = list(team.values("role__name").annotate(n=Count("pk")).order_by("-n", "role__name"))
    by_store = list(
        team.values("store__name").annotate(n=Count("pk")).order_by("-n", "store__name")
    )
    return {
        "extra": member_figures(viewer=viewer),
        "team_size": sum(by_status.values()),
        "locked": by_status.get(StaffStatus.LOCKED, 0),
        "active": by_status.get(StaffStatus.NORMAL, 0),
        "by_role": [{"name": r["role__name"] or "—", "value": r["n"]} for r in by_role],
        "by_store": [{"name": r["store__name"] or "—", "value": r["n"]} for r in by_store],
    }


def member_figures(*, viewer) -> list[dict]:
    """Member counts for the dashboard cards, each through the viewer's visibility."""
    from datetime import timedelta

    from django.utils import timezone

    from hongniang.members import choices as c
    from hongniang.members.models import Member
    from hongniang.members.selectors import pool_members
    from hongniang.staff.permissions import can

    if not can(viewer, "members", "view"):
        return []
    mine = Member.objects.visible_to(viewer)
    month_ago = timezone.now() - timedelta(days=30)
    figures = [
        {"label": _("Members"), "value": mine.count()},
        {"label": _("New in 30 days"), "value": mine.filter(registered_at__gte=month_ago).count()},
        {
            "label": _("In service"),
            "value": mine.filter(service_status=c.ServiceStatus.IN_SERVICE).count(),
        },
    ]
    if can(viewer, "members", "allocate"):
        figures.append(
            {
                "label": _("Waiting for allocation"),
                "value": pool_members(viewer=viewer, pool="unsigned").count(),
            }
        )
    return figures
