"""The agency's logo from settings shows as uploaded (no theme filter whitening it)."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from hongniang.conftest import login, shot
from hongniang.siteconfig.models import SiteSettings
from hongniang.staff.tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RED = (200, 30, 40)


def _png(colour) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (96, 48), colour).save(buf, format="PNG")
    return buf.getvalue()


def test_uploaded_logo_keeps_its_colours(page, org):
    site = SiteSettings.load()
    site.logo = SimpleUploadedFile("logo.png", _png(RED), content_type="image/png")
    site.save()
    # The live server runs with DEBUG off and serves no /media/: answer from MEDIA_ROOT.
    media_root = Path(settings.MEDIA_ROOT)
    page.route(
        "**/media/**",
        lambda route: route.fulfill(
            body=(media_root / route.request.url.split("/media/", 1)[1]).read_bytes(),
            content_type="image/png",
        ),
    )
    login(page, "admin", PASSWORD)
    logo = page.locator("aside .navbar-brand img")
    logo.wait_for()
    page.wait_for_function("() => document.querySelector('aside .navbar-brand img').complete")
    assert logo.evaluate("el => getComputedStyle(el).filter") == "none"
    shot(page, "logo-in-sidebar")
    pixel = Image.open(io.BytesIO(logo.screenshot())).convert("RGB")
    r, g, b = pixel.getpixel((pixel.width // 2, pixel.height // 2))
    assert r > 150 and g < 90 and b < 90, (r, g, b)
