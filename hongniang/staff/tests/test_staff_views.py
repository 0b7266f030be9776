from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from hongniang.staff.models import Role, Staff, StaffStatus
from hongniang.staff.tests.factories import PASSWORD, StaffFactory


def png_bytes(size=(1200, 900), color=(200, 50, 80)) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def new_staff_data(org, **extra):
    data = {
        "username": "newbie",
        "password": "Longer-pass-2026",
        "name": "王红娘",
        "mobile": "13800138000",
        "role": org["mm_role"].pk,
        "store": org["store_a"].pk,
        "supervisor": org["mgr1"].pk,
        "sort_order": 0,
        "motto": "用心",
        "show_on_site": "on",
    }
    data.update(extra)
    return data


@pytest.mark.django_db
def test_admin_creates_matchmaker_under_manager_who_then_manages_them(client, org):
    client.force_login(org["admin"])
    response = client.post(reverse("staff:create"), new_staff_data(org))
    assert response.status_code == 302
    newbie = Staff.objects.get(username="newbie")
    assert newbie.supervisor == org["mgr1"] and newbie.check_password("Longer-pass-2026")
    assert newbie.path == f"{org['mgr1'].path}{newbie.pk}/"

    client.force_login(org["mgr1"])
    assert "王红娘" in client.get(reverse("staff:list")).content.decode()
    edit = client.post(
        reverse("staff:edit", args=[newbie.pk]),
        new_staff_data(org, name="王老师", username="changed", password=""),
    )
    assert edit.status_code == 302
    newbie.refresh_from_db()
    assert newbie.name == "王老师"
    assert newbie.username == "newbie"  # the account name cannot change
    assert newbie.check_password("Longer-pass-2026")  # empty password keeps the old one

    client.force_login(org["mgr2"])
    assert "王老师" not in client.get(reverse("staff:list")).content.decode()
    assert client.get(reverse("staff:detail", args=[newbie.pk])).status_code == 404
    assert client.get(reverse("staff:edit", args=[newbie.pk])).status_code == 404


@pytest.mark.django_db
def test_invalid_form_rerenders_with_errors_and_saves_nothing(client, org):
    client.force_login(org["admin"])
    before = Staff.objects.count()
    response = client.post(
        reverse("staff:create"), new_staff_data(org, username="x", password="123", name="")
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert {"username", "password", "name"} <= set(form.errors)
    assert Staff.objects.count() == before


@pytest.mark.django_db
def test_manager_cannot_place_someone_outside_their_team_or_grant_more_rights(client, org):
    client.force_login(org["mgr1"])
    # The peer manager is not a valid supervisor for mgr1.
    response = client.post(reverse("staff:create"), new_staff_data(org, supervisor=org["mgr2"].pk))
    assert response.status_code == 200 and "supervisor" in response.context["form"].errors
    # The administrator role has more rights than a manager's.
    response = client.post(reverse("staff:create"), new_staff_data(org, role=org["admin_role"].pk))
    assert response.status_code == 200 and "role" in response.context["form"].errors
    assert not Staff.objects.filter(username="newbie").exists()


@pytest.mark.django_db
def test_lock_needs_security_password_and_ends_sessions(client, org):
    from django.test import Client

    victim_client = Client()
    victim_client.force_login(org["aa1"])
    assert victim_client.get(reverse("home:index")).status_code == 200

    client.force_login(org["mgr1"])
    url = reverse("staff:set_status", args=[org["aa1"].pk])
    client.post(url, {"status": "locked", "security_password": "wrong"})
    org["aa1"].refresh_from_db()
    assert org["aa1"].status == StaffStatus.NORMAL
    client.post(url, {"status": "locked", "security_password": "Secure-999"})
    org["aa1"].refresh_from_db()
    assert org["aa1"].status == StaffStatus.LOCKED

    # The locked user's open session no longer works, and they cannot log in again.
    assert victim_client.get(reverse("home:index")).status_code == 302
    login = Client().post(reverse("staff:login"), {"username": "aa1", "password": PASSWORD})
    assert login.status_code == 200 and not login.wsgi_request.user.is_authenticated


@pytest.mark.django_db
def test_delete_needs_security_password_and_refuses_supervisors(client, org):
    client.force_login(org["admin"])
    response = client.post(
        reverse("staff:delete", args=[org["mgr1"].pk]),
        {"security_password": "Secure-999"},
        follow=True,
    )
    assert Staff.objects.filter(pk=org["mgr1"].pk).exists()
    assert "supervises" in response.content.decode() or "下属" in response.content.decode()
    client.post(reverse("staff:delete", args=[org["aa2"].pk]), {"security_password": "nope"})
    assert Staff.objects.filter(pk=org["aa2"].pk).exists()
    client.post(reverse("staff:delete", args=[org["aa2"].pk]), {"security_password": "Secure-999"})
    assert not Staff.objects.filter(pk=org["aa2"].pk).exists()


@pytest.mark.django_db
def test_user_without_security_password_is_told_to_set_one(client, org):
    org["mgr1"].set_security_password(None)
    org["mgr1"].save()
    client.force_login(org["mgr1"])
    response = client.post(
        reverse("staff:set_status", args=[org["aa1"].pk]),
        {"status": "locked", "security_password": "anything"},
        follow=True,
    )
    org["aa1"].refresh_from_db()
    assert org["aa1"].status == StaffStatus.NORMAL
    assert response.context["messages"]


@pytest.mark.django_db
def test_role_delete_refused_while_held_and_role_grants_saved(client, org):
    client.force_login(org["admin"])
    client.post(reverse("staff:role_delete", args=[org["mm_role"].pk]))
    assert Role.objects.filter(pk=org["mm_role"].pk).exists()
    response = client.post(
        reverse("staff:role_create"),
        {
            "name": "售后红娘",
            "description": "",
            "data_scope": "self",
            "grant__members__view": "on",
            "grant__matching__add": "on",
        },
    )
    assert response.status_code == 302
    role = Role.objects.get(name="售后红娘")
    assert sorted(role.grants) == ["matching.add", "members.view"]
    client.post(reverse("staff:role_delete", args=[role.pk]))
    assert not Role.objects.filter(pk=role.pk).exists()


@pytest.mark.django_db
def test_matchmaker_cannot_open_role_management(client, org):
    client.force_login(org["aa1"])
    assert client.get(reverse("staff:roles")).status_code == 403
    assert client.get(reverse("staff:role_create")).status_code == 403


@pytest.mark.django_db
def test_avatar_upload_checked_and_resized(client, org):
    client.force_login(org["admin"])
    fake = SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", content_type="image/png")
    response = client.post(reverse("staff:create"), {**new_staff_data(org), "avatar": fake})
    assert response.status_code == 200 and "avatar" in response.context["form"].errors
    good = SimpleUploadedFile("me.png", png_bytes(), content_type="image/png")
    response = client.post(reverse("staff:create"), {**new_staff_data(org), "avatar": good})
    assert response.status_code == 302
    avatar = Staff.objects.get(username="newbie").avatar
    with Image.open(avatar.path) as img:
        assert max(img.size) == 400


@pytest.mark.django_db
def test_avatar_too_large_is_refused(client, org, settings):
    settings.IMAGE_UPLOAD_MAX_BYTES = 1024
    client.force_login(org["admin"])
    big = SimpleUploadedFile("big.png", png_bytes(), content_type="image/png")
    response = client.post(reverse("staff:create"), {**new_staff_data(org), "avatar": big})
    assert response.status_code == 200 and "avatar" in response.context["form"].errors


@pytest.mark.django_db
def test_repeated_failed_logins_lock_out(client, org, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("staff:login"), {"username": "aa1", "password": "bad"})
    response = client.post(reverse("staff:login"), {"username": "aa1", "password": PASSWORD})
    assert response.status_code == 429
    assert not response.wsgi_request.user.is_authenticated


@pytest.mark.django_db
def test_account_password_and_security_password(client, org):
    user = org["aa1"]
    client.force_login(user)
    response = client.post(
        reverse("staff:account"),
        {
            "sec-current_password": "wrong",
            "sec-security_password1": "abcdef12",
            "sec-security_password2": "abcdef12",
        },
    )
    assert response.status_code == 200 and response.context["security_form"].errors
    client.post(
        reverse("staff:account"),
        {
            "sec-current_password": PASSWORD,
            "sec-security_password1": "abcdef12",
            "sec-security_password2": "abcdef12",
        },
    )
    user.refresh_from_db()
    assert user.security_password_matches("abcdef12")
    client.post(
        reverse("staff:account"),
        {
            "pw-old_password": PASSWORD,
            "pw-new_password1": "Brand-new-2026",
            "pw-new_password2": "Brand-new-2026",
        },
    )
    user.refresh_from_db()
    assert user.check_password("Brand-new-2026")
    assert client.get(reverse("home:index")).status_code == 200  # still logged in


@pytest.mark.django_db
def test_staff_list_search_filter_sort_and_paginate(client, org):
    from hongniang.siteconfig.models import SiteSettings

    site = SiteSettings.load()
    site.matchmaker_page_size = 5
    site.save()
    for i in range(7):
        StaffFactory(
            username=f"extra{i}",
            name=f"翻页{i}",
            role=org["mm_role"],
            store=org["store_b"],
            supervisor=org["mgr1"],
        )
    client.force_login(org["admin"])
    page1 = client.get(reverse("staff:list"), {"sort": "username"})
    assert len(page1.context["page"].object_list) == 5
    assert page1.context["page"].paginator.count == 13
    names = [s.username for s in page1.context["page"].object_list]
    assert names == sorted(names)
    found = client.get(reverse("staff:list"), {"q": "翻页3"}).context["page"].object_list
    assert [s.username for s in found] == ["extra3"]
    by_store = client.get(reverse("staff:list"), {"store": org["store_b"].pk})
    assert by_store.context["page"].paginator.count == 8
    empty = client.get(reverse("staff:list"), {"q": "没有这个人"})
    assert empty.context["page"].paginator.count == 0
    assert "empty-title" in empty.content.decode()


@pytest.mark.django_db
def test_role_and_store_lists_search_and_sort(client, org):
    client.force_login(org["admin"])
    roles = client.get(reverse("staff:roles"), {"q": "经理"}).context["roles"]
    assert [r.name for r in roles] == ["经理"]
    ordered = client.get(reverse("staff:roles"), {"sort": "-users"}).context["roles"]
    counts = [r.user_count for r in ordered]
    assert counts == sorted(counts, reverse=True)
    stores = client.get(reverse("staff:stores"), {"q": "B店"}).context["stores"]
    assert [s.name for s in stores] == ["B店"]
