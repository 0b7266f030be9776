"""Uploaded images: checked by their content (not their name), capped in size, resized."""

from io import BytesIO

from django import forms
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


class CheckedImageField(forms.ImageField):
    """An image field that refuses non-images, odd formats and large files, then resizes.

    The cleaned value is a ContentFile holding a JPEG or PNG no larger than `max_px` on its
    longest side, so what is stored is always something we produced ourselves.
    """

    default_error_messages = {
        "too_large": _("The image is larger than %(limit)s MB."),
        "format": _("Only JPEG, PNG, WebP or GIF images are accepted."),
    }

    def __init__(self, *args, max_px: int = 800, **kwargs):
        self.max_px = max_px
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def to_python(self, data):
        if data in self.empty_values:
            return None
        if data.size > settings.IMAGE_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                self.error_messages["too_large"],
                code="too_large",
                params={"limit": settings.IMAGE_UPLOAD_MAX_BYTES // (1024 * 1024)},
            )
        checked = super().to_python(data)
        if checked.image.format not in ALLOWED_FORMATS:
            raise forms.ValidationError(self.error_messages["format"], code="format")
        return resized_copy(checked, self.max_px)


def resized_copy(upload, max_px: int) -> ContentFile:
    upload.seek(0)
    with Image.open(upload) as img:
        img = ImageOps.exif_transpose(img)
        img.thumbnail((max_px, max_px))
        keep_alpha = img.mode in ("RGBA", "LA", "P")
        out = BytesIO()
        if keep_alpha:
            img.convert("RGBA").save(out, format="PNG", optimize=True)
            ext = "png"
        else:
            img.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
            ext = "jpg"
    stem = (getattr(upload, "name", "") or "image").rsplit("/", 1)[-1].rsplit(".", 1)[0][:40]
    return ContentFile(out.getvalue(), name=f"{stem or 'image'}.{ext}")
