"""Writes of the public site: success stories (whitepaper 2.5.8).

A story is after-sales work: the after-sales module's add / edit / delete rights, on stories of
a couple of whom the actor sees at least one member (`visible_to`, as any record of a member).
Both members' consent to publication is recorded (when, and by whom); without it there is no
story.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.members.models import Member
from hongniang.staff.permissions import can

from .models import StoryPhoto, SuccessStory

MAX_STORY_PHOTOS = 6


def stories_visible_to(user):
    """Stories of couples of whom the user sees at least one member (each story's two members
    looked up by key: stories are few, a manager's members are ~23,000 at 100k)."""
    return SuccessStory.objects.filter(
        Member.objects.key_visible_q(user, "member_a_id")
        | Member.objects.key_visible_q(user, "member_b_id")
    )


def _check(actor, story: SuccessStory, action: str) -> None:
    if not can(actor, "aftersales", action):
        raise PermissionDenied
    ids = {story.member_a_id, story.member_b_id}
    if not Member.objects.visible_to(actor).filter(pk__in=ids).exists():
        raise PermissionDenied


@transaction.atomic
def story_save(
    *,
    actor,
    story: SuccessStory,
    consent_a_changed: bool,
    consent_b_changed: bool,
    new_photos=(),
    removed_photos=(),
) -> SuccessStory:
    """Create or update a story with its photos. The consents' recorder is the actor when the
    consent date is entered or changed."""
    creating = story.pk is None
    _check(actor, story, "add" if creating else "edit")
    if story.member_a_id == story.member_b_id:
        raise ValidationError({"member_b": _("A story needs two different members.")})
    today = timezone.localdate()
    for field in ("consent_a_on", "consent_b_on"):
        when = getattr(story, field)
        if when is None:
            raise ValidationError({field: _("Both members' consent is required.")})
        if when > today:
            raise ValidationError({field: _("A consent cannot be given in the future.")})
    if consent_a_changed or creating:
        story.consent_a_by = actor
    if consent_b_changed or creating:
        story.consent_b_by = actor
    if creating:
        story.created_by = actor
        story.store_id = story.member_a.store_id
    kept = story.photos.exclude(pk__in=[p.pk for p in removed_photos]).count() if story.pk else 0
    if kept + len(new_photos) > MAX_STORY_PHOTOS:
        raise ValidationError(_("A story can have at most %(n)s photos.") % {"n": MAX_STORY_PHOTOS})
    story.full_clean(exclude=["consent_a_by", "consent_b_by"])
    story.save()
    for photo in removed_photos:
        photo.image.delete(save=False)
        photo.delete()
    for image in new_photos:
        photo = StoryPhoto(story=story)
        photo.image.save(image.name, image, save=False)
        photo.save()
    return story


@transaction.atomic
def story_delete(*, actor, story: SuccessStory) -> None:
    _check(actor, story, "delete")
    for photo in story.photos.all():
        photo.image.delete(save=False)
    story.delete()
