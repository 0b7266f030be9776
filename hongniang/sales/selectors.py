"""Reads of follow-ups, scoped through the member (DESIGN.md)."""

from datetime import timedelta

from django.db.models import Q, QuerySet

from hongniang.members.selectors import day_start
from hongniang.sales.models import FollowUp


def member_follow_ups(*, viewer, member, filters: dict | None = None) -> QuerySet:
    """A member's follow-ups the viewer may read, searched by keyword (remark or tag), follower
    and a range of contact dates."""
    f = filters or {}
    qs = FollowUp.objects.visible_to(viewer).filter(member=member).select_related("author")
    if f.get("q"):
        qs = qs.filter(Q(remark__icontains=f["q"]) | Q(tags__icontains=f["q"]))
    if f.get("follower"):
        qs = qs.filter(author__name__icontains=f["follower"])
    if f.get("date_from"):
        qs = qs.filter(contacted_at__gte=day_start(f["date_from"]))
    if f.get("date_to"):
        qs = qs.filter(contacted_at__lt=day_start(f["date_to"] + timedelta(days=1)))
    return qs
