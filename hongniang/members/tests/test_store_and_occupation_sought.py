"""求职意向 and 所属门店 on the member form (whitepaper 2.4.1 / 2.4.4)."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from hongniang.members import excel, services
from hongniang.members.forms import PREFERENCE_ROWS
from hongniang.members.importing import pipeline, writer
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.members.tests.test_import_export import check, good_row, xlsx

pytestmark = pytest.mark.django_db


def form_data(**over):
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
        **{f"pref-{key}_importance": "1" for key, _label, _names in PREFERENCE_ROWS},
    }
    data.update(over)
    return data


def store_choices(client, url):
    form = client.get(url).context["form"]
    return {s.name for s in form.fields["store"].queryset}


def test_store_choices_follow_the_users_scope(client, org, regions):
    client.force_login(org["mgr1"])  # subtree scope, store A
    assert store_choices(client, reverse("members:create")) == {"A店"}
    client.force_login(org["admin"])  # scope all
    assert store_choices(client, reverse("members:create")) == {"A店", "B店"}


def test_new_member_gets_the_chosen_store_and_occupation_sought(client, org, regions):
    client.force_login(org["admin"])
    response = client.post(
        reverse("members:create"),
        form_data(store=org["store_b"].pk, occupation_sought="寻找教师岗位"),
    )
    assert response.status_code == 302
    member = Member.objects.get(username="xiaoli")
    assert member.store == org["store_b"] and member.occupation_sought == "寻找教师岗位"
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "寻找教师岗位" in page and "求职意向" in page


def test_a_user_cannot_put_a_member_in_another_store(client, org, regions):
    client.force_login(org["mgr1"])
    response = client.post(reverse("members:create"), form_data(store=org["store_b"].pk))
    assert response.status_code == 200 and "store" in response.context["form"].errors
    assert not Member.objects.exists()
    member = add_member(org["aa1"])
    member.store = org["store_b"]
    with pytest.raises(ValidationError) as info:
        services.member_update(actor=org["mgr1"], member=member)
    assert "store" in info.value.message_dict
    assert Member.objects.get(pk=member.pk).store == org["store_a"]


def test_empty_store_means_the_users_own(client, org, regions):
    client.force_login(org["aa1"])
    client.post(reverse("members:create"), form_data())
    assert Member.objects.get(username="xiaoli").store == org["store_a"]


def test_editing_keeps_a_store_the_user_could_not_choose(client, org, regions):
    member = add_member(org["aa1"])
    Member.objects.filter(pk=member.pk).update(store=org["store_b"])
    client.force_login(org["aa1"])
    url = reverse("members:edit", args=[member.pk])
    assert store_choices(client, url) == {"A店", "B店"}  # its own store stays selectable
    data = form_data(username=member.username, mobile="", name="改名", store=org["store_b"].pk)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    member.refresh_from_db()
    assert member.store == org["store_b"] and member.name == "改名"
    client.post(url, {**data, "store": ""})
    member.refresh_from_db()
    assert member.store == org["store_b"]  # empty keeps it: no member loses its store


def test_occupation_sought_is_imported_and_exported(client, org, regions, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    outcomes = check(xlsx([good_row(1, occupation_sought="想做销售")]), org["aa1"], tmp_path)
    assert not outcomes[0].errors, outcomes[0].errors
    writer.write(writer.prepare(outcomes, org["aa1"], mode=pipeline.Mode.SKIP), org["aa1"])
    member = Member.objects.get()
    assert member.occupation_sought == "想做销售" and member.store == org["store_a"]
    content = excel.export_workbook(Member.objects.all(), org["admin"])
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    column = header.index(str(excel.HEADERS["occupation_sought"]))
    assert sheet[2][column].value == "想做销售"
    template = load_workbook(io.BytesIO(excel.template_workbook())).worksheets[0]
    assert str(excel.HEADERS["occupation_sought"]) in [cell.value for cell in template[1]]
