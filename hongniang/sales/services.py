"""Writes of follow-ups. Recording one keeps the member's follow-up columns (count, last and next
contact) current and takes a new member to "following" through the journey."""

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.members import choices as c
from hongniang.members import journey
from hongniang.members.models import AllocationKind, EventKind, Member, MemberEvent
from hongniang.sales.models import FollowUp, join_tags
from hongniang.staff.permissions import can

MAX_TAGS = 10


def may_follow_up(actor) -> bool:
    return can(actor, "presales", "add") or can(actor, "aftersales", "add")


def contact_month(when) -> date:
    """The local calendar month (its first day) of a contact: the home page's "this month"."""
    return timezone.localtime(when).date().replace(day=1)


def _month_counter(stored: Member, contacted) -> dict:
    """The member's month counter (`follow_up_month`, `month_follow_ups`) as a follow-up
    contacted at `contacted` is added: a later month starts it again, the same month adds one,
    an earlier month leaves it."""
    month = contact_month(contacted)
    if stored.follow_up_month is None or month > stored.follow_up_month:
        return {"follow_up_month": month, "month_follow_ups": 1}
    if month == stored.follow_up_month:
        return {"month_follow_ups": F("month_follow_ups") + 1}
    return {}


@transaction.atomic
def followup_record(*, actor, member: Member, follow_up: FollowUp, tags=()) -> FollowUp:
    """Save a follow-up of a member the actor may see; the first one moves a new member to
    "following"; the member's counter and last/next contact follow."""
    if not may_follow_up(actor):
        raise PermissionDenied
    if not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise PermissionDenied
    tags = [t for t in tags if t and t.strip()]
    errors = {}
    if len(tags) > MAX_TAGS:
        errors["tags"] = _("At most %(n)s tags.") % {"n": MAX_TAGS}
    elif any("," in t for t in tags):
        errors["tags"] = _("A tag cannot contain a comma.")
    if not (follow_up.remark or "").strip():
        errors["remark"] = _("Please write what was said.")
    now = timezone.now()
    contacted = follow_up.contacted_at or now
    if contacted > now + timedelta(minutes=5):
        errors["contacted_at"] = _("This contact cannot be in the future.")
    if follow_up.next_contact_at and follow_up.next_contact_at <= contacted:
        errors["next_contact_at"] = _("The next contact must come after this one.")
    if errors:
        raise ValidationError(errors)
    # The few minutes' grace is for a browser clock ahead of ours; the contact happened now.
    # (Kept as typed, a contact at 23:58 on the last day of a month, saved at 23:56, would move
    # the member's month counter to the next month and drop the month's count until midnight.)
    contacted = min(contacted, now)
    stored = Member.objects.select_for_update().get(pk=member.pk)
    after = stored.sales_stage == c.SalesStage.SIGNED
    follow_up.phase = AllocationKind.AFTERSALES if after else AllocationKind.PRESALES
    follow_up.member = member
    follow_up.author = actor
    follow_up.contacted_at = contacted
    follow_up.tags = join_tags(tags)
    if len(follow_up.tags) > 300:
        raise ValidationError({"tags": _("The tags are too long.")})
    follow_up.full_clean()
    follow_up.save()
    # The latest contact counts as "last followed up", even when an older one is entered later.
    last = max(filter(None, [stored.followed_up_at, contacted]))
    latest = last == contacted
    counter = "service_note_count" if after else "follow_up_count"
    updates = {counter: F(counter) + 1, "followed_up_at": last}
    updates.update(_month_counter(stored, contacted))
    if latest:
        updates["next_contact_at"] = follow_up.next_contact_at
    if stored.public_pool_at and stored.presales_owner_id:
        updates["public_pool_at"] = None
    Member.objects.filter(pk=member.pk).update(**updates)
    MemberEvent.objects.create(
        member=member,
        actor=actor,
        kind=EventKind.FOLLOW_UP,
        summary=follow_up.remark[:120],
        data={"follow_up": follow_up.pk},
    )
    if stored.sales_stage == c.SalesStage.NEW:
        journey.advance(actor=actor, member=stored, step="follow", check_visible=False)
    member.refresh_from_db()
    return follow_up
