"""Member photos: random file names, outside MEDIA_ROOT, shown only to who may see the member."""

import re
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hongniang.members import choices as c
from hongniang.members.models import MemberPhoto
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.test_staff_views import png_bytes

pytestmark = pytest.mark.django_db

RANDOM_NAME = re.compile(r"^photos/[0-9a-f]{2}/[0-9a-f]{32}\.(png|jpg)$")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def photo(client, org, media):
    member = add_member(org["aa1"], name="张三")
    client.force_login(org["aa1"])
    client.post(
        reverse("members:photo_add", args=[member.pk]),
        {"image": SimpleUploadedFile("张三身份证.png", png_bytes(), "image/png")},
    )
    (photo,) = member.photos.all()
    client.logout()
    return photo


def test_stored_under_a_random_name_outside_media_root(photo, media):
    assert RANDOM_NAME.match(photo.image.name), photo.image.name
    path = Path(photo.image.path)
    assert path.is_file() and "张三" not in str(path)
    assert Path(settings.MEMBER_FILES_ROOT) in path.parents
    assert not list(Path(media).rglob("*.*g"))  # nothing of it under /media/
    with pytest.raises(ValueError):
        photo.image.url  # noqa: B018 - no public URL exists


def test_anonymous_gets_the_login_page_not_the_photo(photo):
    response = Client().get(photo.url)
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_another_team_gets_404(client, org, photo):
    client.force_login(org["mgr2"])
    assert client.get(photo.url).status_code == 404
    client.force_login(org["aa2"])  # a peer matchmaker in the same store
    assert client.get(photo.url).status_code == 404


def test_own_team_sees_even_an_unapproved_photo(client, org, photo):
    assert photo.status == c.PhotoStatus.PENDING
    for user in ("aa1", "mgr1", "admin"):
        client.force_login(org[user])
        response = client.get(photo.url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == Path(photo.image.path).read_bytes()
        assert response["Content-Type"] in ("image/png", "image/jpeg")
        assert "private" in response["Cache-Control"]


def test_photo_of_another_member_is_not_reachable_through_ones_own_member(client, org, photo):
    mine = add_member(org["mgr2"])
    client.force_login(org["mgr2"])
    url = reverse("members:photo_file", args=[mine.pk, photo.pk])
    assert client.get(url).status_code == 404


def test_detail_page_links_photos_through_the_checked_view(client, org, photo):
    client.force_login(org["aa1"])
    page = client.get(reverse("members:detail", args=[photo.member_id])).content.decode()
    assert f'src="{photo.url}"' in page
    assert "/media/" not in page


def test_media_url_does_not_serve_member_photos(client, org, photo):
    client.force_login(org["admin"])
    assert client.get(f"{settings.MEDIA_URL}{photo.image.name}").status_code == 404


def test_migration_moves_old_public_photos_to_random_private_names(
    org, media, django_capture_on_commit_callbacks
):
    member = add_member(org["aa1"])
    old = default_storage.save("members/2026/01/李四身份证.png", ContentFile(png_bytes()))
    photo = MemberPhoto.objects.create(member=member, image=old)
    migration = import_module("hongniang.members.migrations.0008_member_files_private")
    with django_capture_on_commit_callbacks(execute=True):
        migration.move_files(apps, None)
    photo.refresh_from_db()
    assert RANDOM_NAME.match(photo.image.name)
    assert photo.image.storage.exists(photo.image.name)
    assert not default_storage.exists(old)
