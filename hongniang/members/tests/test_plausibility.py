"""Only plausible members are stored: the same rules for the form, the import and the services."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from hypothesis import given, settings
from hypothesis import strategies as st

from hongniang.members import excel
from hongniang.members.models import Member, age_on
from hongniang.members.tests.helpers import add_member
from hongniang.members.tests.test_import_export import check, good_row, resident_id, xlsx
from hongniang.members.validators import (
    MAX_MEMBER_AGE,
    MIN_MEMBER_AGE,
    birthday_bounds,
    validate_birthday,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
TOO_OLD = [date(1800, 1, 1), date(1850, 6, 1), birthday_bounds()[0] - timedelta(days=1)]
TOO_YOUNG = [birthday_bounds()[1] + timedelta(days=1), TODAY - timedelta(days=365 * 10)]
FUTURE = [TODAY + timedelta(days=1), date(2999, 1, 1)]
PLAUSIBLE = [birthday_bounds()[0], birthday_bounds()[1], date(1990, 5, 20)]


@given(st.dates(min_value=date(1800, 1, 1), max_value=date(2100, 12, 31)))
@settings(max_examples=300, deadline=None)  # no timing assertions: the machine is shared
def test_a_birthday_is_accepted_exactly_for_adults_up_to_100(birthday):
    ok = birthday <= TODAY and MIN_MEMBER_AGE <= age_on(birthday, TODAY) <= MAX_MEMBER_AGE
    try:
        validate_birthday(birthday)
    except ValidationError:
        assert not ok
    else:
        assert ok


@pytest.mark.parametrize("birthday", TOO_OLD + TOO_YOUNG + FUTURE)
def test_service_refuses_an_implausible_birthday_and_saves_nothing(org, birthday):
    with pytest.raises(ValidationError) as info:
        add_member(org["aa1"], birthday=birthday)
    assert "birthday" in info.value.message_dict
    assert not Member.objects.exists()


@pytest.mark.parametrize("birthday", PLAUSIBLE)
def test_service_accepts_a_plausible_birthday(org, birthday):
    assert add_member(org["aa1"], birthday=birthday).birthday == birthday


def test_service_refuses_implausible_update(org):
    member = add_member(org["aa1"])
    member.birthday = date(1800, 1, 1)
    from hongniang.members import services

    with pytest.raises(ValidationError):
        services.member_update(actor=org["aa1"], member=member)
    member.refresh_from_db()
    assert member.birthday == date(1995, 5, 20)


@pytest.mark.parametrize(
    "field,value",
    [
        ("qq", "12ab34"),
        ("qq", "1234"),
        ("qq", "0123456"),
        ("qq", "1234567890123"),
        ("username", "张三"),
        ("username", "a b"),
        ("username", "x"),
        ("username", "bob<script>"),
        ("older_brothers", 21),
        ("younger_sisters", 99),
    ],
)
def test_service_refuses_implausible_values(org, field, value):
    with pytest.raises(ValidationError) as info:
        add_member(org["aa1"], **{field: value})
    assert field in info.value.message_dict


@pytest.mark.parametrize(
    "field,value",
    [("qq", "12345"), ("qq", "123456789012"), ("username", "li.na_88-x"), ("older_sisters", 20)],
)
def test_service_accepts_plausible_values(org, field, value):
    add_member(org["aa1"], **{field: value})


def _form_data(**over):
    data = {
        "username": "xiaoli",
        "name": "小丽",
        "mobile": "13712345678",
        "sex": "F",
        "birthday": "1994-06-15",
        "region": "440106",
        "height": "163",
        "marital_status": "single",
        "education": "60",
        "id_type": "resident_id",
    }
    data.update(over)
    return data


@pytest.mark.parametrize("birthday", ["1800-01-01", "1850-03-03", "2999-01-01", "2020-01-01"])
def test_form_refuses_implausible_birthday_with_a_message(client, org, regions, birthday):
    client.force_login(org["aa1"])
    response = client.post(reverse("members:create"), _form_data(birthday=birthday))
    assert response.status_code == 200
    assert response.context["form"].errors["birthday"]
    assert not Member.objects.exists()


def test_form_refuses_bad_qq_siblings_and_username(client, org, regions):
    client.force_login(org["aa1"])
    response = client.post(
        reverse("members:create"),
        _form_data(qq="qq123", older_brothers="30", username="小 丽"),
    )
    errors = response.context["form"].errors
    assert {"qq", "older_brothers", "username"} <= set(errors)
    assert not Member.objects.exists()


def _import_problems(org, tmp_path, **over):
    """{column: message} of the row's errors and warnings (a warned value is left out)."""
    (result,) = check(xlsx([good_row(1, **over)]), org["aa1"], tmp_path)
    return {
        str(excel.HEADERS[i.key]): i.message
        for i in result.errors + result.warnings
        if i.key in excel.HEADERS
    }


def _import_errors(org, tmp_path, **over):
    (result,) = check(xlsx([good_row(1, **over)]), org["aa1"], tmp_path)
    return {i.key: i.message for i in result.errors}


@pytest.mark.parametrize(
    "key,value",
    [
        ("birthday", date(1850, 1, 1)),
        ("birthday", "1800-01-01"),
        ("birthday", date(2999, 1, 1)),
        ("older_brothers", 21),
        ("younger_sisters", 50),
        ("qq", "12a45"),
        ("qq", 123),
        ("username", "王 五"),
        ("username", "a;drop"),
    ],
)
def test_import_refuses_implausible_values(org, regions, tmp_path, key, value):
    over = {key: value}
    if key == "birthday":
        over["id_number"] = ""
    problems = _import_problems(org, tmp_path, **over)
    assert str(excel.HEADERS[key]) in problems, problems


def test_import_refuses_a_birthday_taken_from_an_implausible_id_number(org, regions, tmp_path):
    problems = _import_problems(
        org, tmp_path, birthday=None, id_number=resident_id(date(1900, 1, 1), female=True, seq=1)
    )
    assert problems, "an ID number of someone born in 1900 must not be imported"


def test_import_rejects_members_under_the_legal_age(org, regions, tmp_path):
    too_young = birthday_bounds()[1] + timedelta(days=1)
    errors = _import_errors(org, tmp_path, birthday=too_young, id_number="")
    assert list(errors) == ["birthday"], errors
    assert str(MIN_MEMBER_AGE) in errors["birthday"]
    # Without a birthday, the one given by the ID number counts.
    errors = _import_errors(
        org, tmp_path, birthday=None, id_number=resident_id(too_young, female=True, seq=1)
    )
    assert list(errors) == ["id_number"], errors


def test_import_refuses_a_city_outside_its_province(org, regions, tmp_path):
    errors = _import_errors(org, tmp_path, region="广东 成都")
    assert errors["region"] == _("“%(part)s” is not in “%(whole)s”.") % {
        "part": "成都",
        "whole": "广东",
    }


def test_import_accepts_plausible_row(org, regions, tmp_path):
    assert (
        _import_problems(org, tmp_path, qq="12345678", older_brothers=2, username="li.na-88") == {}
    )
