import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hongniang.siteconfig.models import SiteImage, SiteSettings
from hongniang.staff.tests.test_staff_views import png_bytes

BASE = Path(__file__).resolve().parents[3]


def settings_data(**extra):
    data = {
        "crm_name": "幸福红娘",
        "version": "v2.0",
        "hotline": "400-800-1234",
        "contact_phone": "020-1234567",
        "address": "广州",
        "email": "a@b.cn",
        "member_page_size": 15,
        "matchmaker_page_size": 10,
        "crm_page_size": 30,
        "about_us": "关于我们",
        "candidate_states": ["signed/in_service"],
        "candidate_consenting": "on",
        "pool_return_days": 15,
        "pool_claim_limit": 50,
        "allocation_accept_hours": 24,
        "stalled_pair_days": 7,
        "family_draft_days": 30,
        "peer_avatars": "on",
        "reveal_name": "full",
    }
    data.update(extra)
    return data


@pytest.mark.django_db
def test_settings_saved_cached_and_shown(client, org):
    client.force_login(org["admin"])
    SiteSettings.load()  # warm the cache; saving must refresh it
    response = client.post(reverse("siteconfig:edit"), settings_data())
    assert response.status_code == 302
    assert SiteSettings.load().crm_name == "幸福红娘"
    page = client.get(reverse("home:index")).content.decode()
    assert "幸福红娘" in page and "400-800-1234" in page


@pytest.mark.django_db
def test_invalid_settings_rerender_and_change_nothing(client, org):
    client.force_login(org["admin"])
    response = client.post(
        reverse("siteconfig:edit"), settings_data(member_page_size=0, email="not-an-email")
    )
    assert response.status_code == 200
    assert {"member_page_size", "email"} <= set(response.context["form"].errors)
    assert SiteSettings.load().crm_name != "幸福红娘"


@pytest.mark.django_db
def test_settings_view_only_role_cannot_save(client, org):
    from hongniang.staff.tests.factories import StaffFactory, role_with

    viewer = StaffFactory(role=role_with("settings.view"), supervisor=org["admin"])
    client.force_login(viewer)
    assert client.get(reverse("siteconfig:edit")).status_code == 200
    client.post(reverse("siteconfig:edit"), settings_data())
    assert SiteSettings.load().crm_name != "幸福红娘"


@pytest.mark.django_db
def test_banners_added_in_order_and_deleted(client, org):
    client.force_login(org["admin"])
    for order, title in ((2, "第二张"), (1, "第一张")):
        upload = SimpleUploadedFile("b.png", png_bytes((2400, 800)), content_type="image/png")
        response = client.post(
            reverse("siteconfig:image_create"),
            {
                "kind": "banner",
                "title": title,
                "image": upload,
                "sort_order": order,
                "is_active": "on",
            },
        )
        assert response.status_code == 302
    assert list(SiteImage.objects.filter(kind="banner").values_list("title", flat=True)) == [
        "第一张",
        "第二张",
    ]
    banner = SiteImage.objects.get(title="第一张")
    assert banner.image.width == 1920
    client.post(reverse("siteconfig:image_delete", args=[banner.pk]))
    assert not SiteImage.objects.filter(pk=banner.pk).exists()
    not_image = SimpleUploadedFile("x.png", b"GIF89a-not-really", content_type="image/png")
    response = client.post(
        reverse("siteconfig:image_create"),
        {"kind": "advert", "title": "坏图", "image": not_image, "sort_order": 0},
    )
    assert response.status_code == 200 and "image" in response.context["form"].errors


@pytest.mark.django_db
def test_audit_trail_records_who_changed_what(client, org):
    client.force_login(org["admin"])
    client.post(
        reverse("staff:edit", args=[org["aa1"].pk]),
        {
            "name": "改过的名字",
            "role": org["mm_role"].pk,
            "store": org["store_a"].pk,
            "supervisor": org["mgr1"].pk,
            "sort_order": 3,
        },
    )
    client.post(reverse("siteconfig:edit"), settings_data())
    page = client.get(reverse("siteconfig:audit"))
    entries = page.context["page"].object_list
    staff_change = next(e for e in entries if e.kind == "staff" and e.record.history_type == "~")
    assert staff_change.record.history_user == org["admin"]
    changed = {label: (old, new) for label, old, new in staff_change.changes()}
    assert any(new == "改过的名字" for _old, new in changed.values())
    assert any(e.kind == "settings" for e in entries)
    only_settings = client.get(reverse("siteconfig:audit"), {"kind": "settings"})
    assert {e.kind for e in only_settings.context["page"].object_list} == {"settings"}


def test_check_deploy_is_clean_under_production_settings():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env |= {
        "HONGNIANG_ENV": "production",
        "SECRET_KEY": "x" * 60 + "-Yz9!kq",
        "FIELD_ENCRYPTION_KEY": "k" * 40,
        "ALLOWED_HOSTS": "crm.example.cn",
        "DATABASE_URL": f"sqlite:///{BASE / 'unused.sqlite3'}",
    }
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secrets():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY")}
    env["HONGNIANG_ENV"] = "production"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY and FIELD_ENCRYPTION_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_audit_trail_includes_member_changes(client, org):
    from hongniang.members.tests.helpers import add_member

    member = add_member(org["aa1"], name="原名")
    member.name = "新名"
    member.save()
    client.force_login(org["admin"])
    page = client.get(reverse("siteconfig:audit"), {"kind": "member"})
    entries = page.context["page"].object_list
    change = next(e for e in entries if e.record.history_type == "~")
    assert any(new == "新名" for _label, _old, new in change.changes())


@pytest.mark.django_db
def test_candidate_setting_saved_from_the_form(client, org):
    client.force_login(org["admin"])
    response = client.post(
        reverse("siteconfig:edit"),
        settings_data(candidate_states=["signed/in_service", "new/not_started"]),
    )
    assert response.status_code == 302
    site = SiteSettings.load()
    assert set(site.candidate_states) == {"signed/in_service", "new/not_started"}
    # A state that is never offered is not a choice.
    response = client.post(
        reverse("siteconfig:edit"), settings_data(candidate_states=["abandoned/not_started"])
    )
    assert response.status_code == 200
    assert set(SiteSettings.load().candidate_states) == {"signed/in_service", "new/not_started"}
