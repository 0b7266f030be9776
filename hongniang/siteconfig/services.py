from django.core.exceptions import PermissionDenied
from django.db import transaction

from hongniang.siteconfig.models import SiteImage, SiteSettings
from hongniang.staff.permissions import can


@transaction.atomic
def settings_update(*, actor, settings_obj: SiteSettings) -> SiteSettings:
    if not can(actor, "settings", "edit"):
        raise PermissionDenied
    settings_obj.full_clean()
    settings_obj.save()
    return settings_obj


@transaction.atomic
def site_image_save(*, actor, image: SiteImage) -> SiteImage:
    if not can(actor, "settings", "edit"):
        raise PermissionDenied
    image.full_clean()
    image.save()
    return image


@transaction.atomic
def site_image_delete(*, actor, image: SiteImage) -> None:
    if not can(actor, "settings", "edit"):
        raise PermissionDenied
    image.delete()
