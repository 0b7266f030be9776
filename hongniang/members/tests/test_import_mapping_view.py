"""The mapping screen: guesses shown with sample values, required fields flagged, the clerk's
choice kept for the preview, mappings saved and offered again, another sheet chosen."""

import uuid

import pytest
from django.urls import reverse
from openpyxl import Workbook

from hongniang.members import excel, import_views
from hongniang.members.models import ImportMapping
from hongniang.members.regions import load_regions
from hongniang.staff.tests.factories import StaffFactory, role_with

pytestmark = pytest.mark.django_db

HEADERS = [
    "客户姓名",
    "性别",
    "联系电话",
    "生日",
    "所在省",
    "所在市",
    "所在区县",
    "身高",
    "婚姻状况",
    "学历",
    "备注",
]
ROW = [
    "张三",
    "男",
    "13800001111",
    "19900503",
    "广东省",
    "深圳市",
    "南山区",
    "175cm",
    "未婚",
    "大学本科",
    "VIP",
]
GUESS = [
    "name",
    "sex",
    "mobile",
    "birthday",
    "region_province",
    "region_city",
    "region_county",
    "height",
    "marital_status",
    "education",
    "about",
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    load_regions()
    return tmp_path


def pending(client, user, content: bytes, suffix=".csv", name="会员.csv") -> str:
    """An upload waiting in the session, as the upload view leaves it."""
    token = uuid.uuid4().hex
    path = excel.upload_path(token)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    client.force_login(user)
    session = client.session
    session[import_views.SESSION_KEY] = {token: {"owner": user.pk, "name": name, "mapping": None}}
    session.save()
    return token


def gbk_csv(headers=HEADERS, rows=(ROW,)) -> bytes:
    lines = ["某某婚介会员导出", ",".join(headers), *(",".join(r) for r in rows)]
    return "\r\n".join(lines).encode("gbk")


def url(token):
    return reverse("members:import_mapping", args=[token])


def post_data(mapping, **extra):
    data = {f"col_{i}": key or "" for i, key in enumerate(mapping)}
    data.update(extra)
    return data


def test_the_screen_shows_each_column_with_its_guess_and_samples(client, org):
    token = pending(client, org["aa1"], gbk_csv())
    response = client.get(url(token))
    assert response.status_code == 200
    ctx = response.context
    assert [c["header"] for c in ctx["columns"]] == HEADERS
    assert [c["guessed"] for c in ctx["columns"]] == GUESS
    assert ctx["columns"][2]["samples"] == ["13800001111"]
    assert ctx["origin"] == "guess" and ctx["missing"] == []
    assert ctx["source"].header_row == 2
    html = response.content.decode()
    assert "客户姓名" in html and "13800001111" in html
    assert 'value="mobile" selected' in html


def test_required_fields_without_a_column_are_flagged_and_block_continuing(client, org):
    token = pending(client, org["aa1"], gbk_csv())
    mapping = [None if k in ("sex", "education") else k for k in GUESS]
    response = client.post(url(token), post_data(mapping))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "性别" in errors and "学历" in errors
    assert client.session[import_views.SESSION_KEY][token]["mapping"] is None


def test_a_field_chosen_for_two_columns_is_refused(client, org):
    token = pending(client, org["aa1"], gbk_csv())
    mapping = list(GUESS)
    mapping[10] = "name"
    response = client.post(url(token), post_data(mapping))
    assert response.status_code == 200
    assert "姓名" in " ".join(response.context["form"].non_field_errors())


def test_the_confirmed_mapping_is_kept_for_the_preview_and_can_be_saved(client, org):
    token = pending(client, org["aa1"], gbk_csv())
    mapping = [*GUESS[:10], None]  # skip 备注
    response = client.post(url(token), post_data(mapping, save_as="老系统导出"))
    assert response.status_code == 302
    assert response["Location"] == reverse("members:import_preview", args=[token])
    entry = client.session[import_views.SESSION_KEY][token]
    assert entry["mapping"] == mapping
    saved = ImportMapping.objects.get()
    assert (saved.name, saved.created_by, saved.headers) == ("老系统导出", org["aa1"], HEADERS)
    assert saved.mapping == mapping

    # The next file of the same kind, from a colleague in the same store, gets it offered.
    colleague = org["aa2"]
    again = pending(client, colleague, gbk_csv(rows=(ROW, ROW)))
    response = client.get(url(again))
    assert response.context["origin"] == "saved"
    assert [c["field"].initial for c in response.context["columns"]][10] == ""
    assert list(response.context["saved"]) == [saved]
    assert "老系统导出" in response.content.decode()


def test_coming_back_shows_the_earlier_choice(client, org):
    token = pending(client, org["aa1"], gbk_csv())
    mapping = [*GUESS[:10], None]
    client.post(url(token), post_data(mapping))
    response = client.get(url(token))
    assert response.context["origin"] == "session"
    assert response.context["columns"][10]["guessed"] is None


def test_another_sheet_can_be_chosen(client, org):
    wb = Workbook()
    wb.active.title = "会员"
    wb.active.append(["姓名", "手机"])
    wb.active.append(["张三", "13800001111"])
    other = wb.create_sheet("已签约")
    other.append(HEADERS)
    other.append(ROW)
    path = excel.upload_dir() / "x.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    token = pending(client, org["aa1"], path.read_bytes(), name="会员.xlsx")
    first = client.get(url(token))
    assert first.context["source"].sheet_name == "会员"
    assert first.context["missing"]  # that sheet lacks required columns
    response = client.get(url(token), {"sheet": "已签约"})
    assert response.context["source"].sheet_name == "已签约"
    assert [c["guessed"] for c in response.context["columns"]] == GUESS
    client.post(url(token), post_data(GUESS, sheet="已签约"))
    assert client.session[import_views.SESSION_KEY][token]["sheet"] == "已签约"
    missing_sheet = client.get(url(token), {"sheet": "没有"})
    assert missing_sheet.status_code == 302


def test_only_the_uploader_may_map_an_upload(client, org):
    token = pending(client, org["aa1"], gbk_csv())
    client.force_login(org["aa2"])
    assert client.get(url(token)).status_code == 404
    assert client.get(url("0" * 32)).status_code == 404


def test_mapping_needs_members_add(client, org):
    token = pending(client, org["aa1"], gbk_csv())
    client.force_login(StaffFactory(role=role_with("members.view"), store=org["store_a"]))
    assert client.get(url(token)).status_code == 403


def test_an_expired_upload_goes_back_to_the_upload_page(client, org):
    token = pending(client, org["aa1"], gbk_csv())
    excel.upload_path(token).unlink()
    response = client.get(url(token))
    assert response.status_code == 302 and response["Location"] == reverse("members:import")
