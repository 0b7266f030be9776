"""The saved column mappings' own screen: listed as they are offered (the clerk's own and their
store's), renamed, deleted after a confirmation; another store's mapping is a 404, and a role
that may not import gets no screen at all."""

import pytest
from django.urls import reverse

from hongniang.members.importing import mapping as m
from hongniang.members.models import ImportMapping
from hongniang.staff.tests.factories import StaffFactory, role_with

pytestmark = pytest.mark.django_db

HEADERS = ["客户姓名", "性别", "联系电话"]
MAPPING = ["name", "sex", "mobile"]


@pytest.fixture
def saved(org):
    return {
        "own": m.save_mapping(org["aa1"], "老系统导出", HEADERS, MAPPING),
        "colleague": m.save_mapping(org["aa2"], "同事的模板", HEADERS, MAPPING),
        "other_store": m.save_mapping(org["bb1"], "B店模板", HEADERS, MAPPING),
    }


def test_the_list_shows_own_and_store_mappings_only(client, org, saved):
    client.force_login(org["aa1"])
    response = client.get(reverse("members:saved_mappings"))
    assert response.status_code == 200
    shown = {mp.name for mp in response.context["page"].object_list}
    assert shown == {"老系统导出", "同事的模板"}
    html = response.content.decode()
    assert "B店模板" not in html
    assert "客户姓名 → " in html  # which column gives which field


def test_the_list_searches_by_name_and_says_when_there_is_none(client, org, saved):
    client.force_login(org["aa1"])
    response = client.get(reverse("members:saved_mappings"), {"q": "同事"})
    assert [mp.name for mp in response.context["page"].object_list] == ["同事的模板"]
    client.force_login(org["mgr2"])  # store A: sees A's; nothing of their own
    ImportMapping.objects.filter(store=org["aa1"].store).delete()
    response = client.get(reverse("members:saved_mappings"))
    assert response.status_code == 200 and not response.context["page"].object_list
    assert "还没有保存的列对应" in response.content.decode()


def test_rename(client, org, saved):
    client.force_login(org["aa1"])
    url = reverse("members:saved_mapping_rename", args=[saved["own"].pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "  旧CRM导出 "})
    assert response.status_code == 302
    saved["own"].refresh_from_db()
    assert saved["own"].name == "旧CRM导出"


def test_a_rename_to_a_name_the_maker_already_uses_is_refused(client, org, saved):
    m.save_mapping(org["aa1"], "第二个", HEADERS, MAPPING)
    client.force_login(org["aa1"])
    url = reverse("members:saved_mapping_rename", args=[saved["own"].pk])
    response = client.post(url, {"name": "第二个"})
    assert response.status_code == 200
    assert "已经有一个名为“第二个”的列对应" in response.content.decode()
    saved["own"].refresh_from_db()
    assert saved["own"].name == "老系统导出"
    response = client.post(url, {"name": "   "})
    assert response.status_code == 200 and response.context["form"].errors


def test_delete_asks_first_then_deletes(client, org, saved):
    client.force_login(org["aa1"])
    url = reverse("members:saved_mapping_delete", args=[saved["own"].pk])
    response = client.get(url)
    assert response.status_code == 200
    assert "老系统导出" in response.content.decode()
    assert ImportMapping.objects.filter(pk=saved["own"].pk).exists()  # only asked
    response = client.post(url)
    assert response.status_code == 302
    assert not ImportMapping.objects.filter(pk=saved["own"].pk).exists()


@pytest.mark.parametrize("name", ["saved_mapping_rename", "saved_mapping_delete"])
@pytest.mark.parametrize("whose", ["other_store", "colleague"])
def test_others_mappings_are_not_found(client, org, saved, name, whose):
    """A colleague's mapping is listed and offered, but only its maker renames or deletes it."""
    client.force_login(org["aa1"])
    url = reverse(f"members:{name}", args=[saved[whose].pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "改名"}).status_code == 404
    before = saved[whose].name
    saved[whose].refresh_from_db()
    assert saved[whose].name == before


def test_only_own_mappings_have_rename_and_delete_links(client, org, saved):
    client.force_login(org["aa1"])
    html = client.get(reverse("members:saved_mappings")).content.decode()
    assert reverse("members:saved_mapping_rename", args=[saved["own"].pk]) in html
    assert reverse("members:saved_mapping_rename", args=[saved["colleague"].pk]) not in html


def test_roles_that_may_not_import_get_no_screen(client, org, saved):
    viewer = StaffFactory(role=role_with("members.view"), store=org["aa1"].store)
    client.force_login(viewer)
    assert client.get(reverse("members:saved_mappings")).status_code == 403
    url = reverse("members:saved_mapping_delete", args=[saved["own"].pk])
    assert client.post(url).status_code == 403
    assert ImportMapping.objects.filter(pk=saved["own"].pk).exists()


def test_the_upload_page_says_what_files_are_accepted(client, org):
    client.force_login(org["aa1"])
    response = client.get(reverse("members:import"))
    html = response.content.decode()
    for words in (".xlsx", ".xls", ".csv", "GBK", "标题行", "列对应", "500,000"):
        assert words in html, words
    assert reverse("members:import_template") in html  # the template stays one option
    assert reverse("members:saved_mappings") in html


def test_the_mapping_name_reads_as_a_title_not_a_persons_name(client, org, saved):
    """The column and the rename field say 名称 (a mapping's name), not 姓名 (a person's)."""
    client.force_login(org["aa1"])
    html = client.get(reverse("members:saved_mappings")).content.decode()
    assert "<th>名称</th>" in html and "<th>姓名</th>" not in html
    url = reverse("members:saved_mapping_rename", args=[saved["own"].pk])
    html = client.get(url).content.decode()
    assert "名称" in html and "姓名" not in html
