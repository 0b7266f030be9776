"""Where members' files (photos) are kept: outside MEDIA_ROOT, under random names.

Nothing under MEDIA_URL is checked, so member files must not be there: they live under
``settings.MEMBER_FILES_ROOT``, have no URL of their own, and reach a browser only through
``members:photo_file``, which answers 404 to anyone who may not see the member. A file is named
by a random UUID (the uploaded name, e.g. 张三身份证.jpg, is personal data and is not kept).
"""

import os
import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.functional import cached_property

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp"}


class MemberFileStorage(FileSystemStorage):
    """A file system storage rooted at MEMBER_FILES_ROOT (read when used, so tests can move it)
    that refuses to make public URLs."""

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.MEMBER_FILES_ROOT)

    @cached_property
    def location(self):
        return os.path.abspath(self.base_location)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "MEMBER_FILES_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name):
        raise ValueError("Member files have no public URL; link to members:photo_file.")


_storage = MemberFileStorage()


def member_files() -> MemberFileStorage:
    """The storage of member files (a callable, so migrations do not freeze a path)."""
    return _storage


def random_photo_name(instance, filename: str) -> str:
    """photos/<2 hex>/<uuid hex><suffix>: the suffix of an image type, nothing else kept."""
    suffix = PurePath(filename).suffix.lower()
    suffix = suffix if suffix in IMAGE_SUFFIXES else ".jpg"
    name = uuid.uuid4().hex
    return f"photos/{name[:2]}/{name}{suffix}"
