"""The audit trail of staff records only says something when something it shows changed."""

import pytest
from django.test import Client
from django.urls import reverse

from hongniang.staff.models import Staff
from hongniang.staff.tests.factories import PASSWORD


@pytest.mark.django_db
def test_logging_in_writes_no_history_row(org):
    before = Staff.history.count()
    response = Client().post(reverse("staff:login"), {"username": "aa1", "password": PASSWORD})
    assert response.status_code == 302
    assert Staff.objects.get(pk=org["aa1"].pk).last_login is not None
    assert Staff.history.count() == before


@pytest.mark.django_db
def test_setting_the_security_password_writes_no_history_row(client, org):
    client.force_login(org["aa1"])
    before = Staff.history.count()
    client.post(
        reverse("staff:account"),
        {
            "sec-current_password": PASSWORD,
            "sec-security_password1": "abcdef12",
            "sec-security_password2": "abcdef12",
        },
    )
    assert Staff.objects.get(pk=org["aa1"].pk).security_password_matches("abcdef12")
    assert Staff.history.count() == before


@pytest.mark.django_db
def test_a_real_change_is_still_recorded(org):
    aa1 = Staff.objects.get(pk=org["aa1"].pk)
    before = aa1.history.count()
    aa1.name = "新名字"
    aa1.save(update_fields=["name"])
    assert aa1.history.count() == before + 1
    assert aa1.history.first().name == "新名字"
