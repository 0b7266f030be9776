"""Guessing which column holds which field (headers, then values), required fields, and saved
mappings offered again for files with the same headers."""

from datetime import date

import pytest
from django.utils import translation

from hongniang.members.excel import COLUMNS
from hongniang.members.importing.addresses import RegionResolver
from hongniang.members.importing.mapping import (
    FIELDS,
    Guesser,
    clean_mapping,
    duplicated,
    field_choices,
    guess_mapping,
    headers_signature,
    missing_required,
    save_mapping,
    saved_mappings_for,
)
from hongniang.members.models import ImportMapping
from hongniang.members.regions import read_regions_file
from hongniang.staff.tests.factories import StaffFactory


@pytest.fixture(scope="module")
def guesser():
    return Guesser(regions=RegionResolver(read_regions_file()))


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("手机", "mobile"),
        ("手机号", "mobile"),
        ("联系电话", "mobile"),
        ("电话", "mobile"),
        ("出生日期", "birthday"),
        ("生日", "birthday"),
        ("所在省", "region_province"),
        ("所在市", "region_city"),
        ("所在区县", "region_county"),
        ("婚姻状况", "marital_status"),
        ("最高学历", "education"),
        ("身高(cm)", "height"),
        ("身高（厘米）", "height"),
        ("*姓名", "name"),
        ("姓名：", "name"),
        ("【手机号码】", None),  # only a note: nothing left to read
        ("Mobile", "mobile"),  # the template's header in English
        ("出生日期", "birthday"),
        ("择偶年龄", "pref-age_range"),
        ("详细地址", "address"),  # the template's street-address column (takes a full address)
        ("家庭住址", "address_full"),
        ("备注2", None),
    ],
)
def test_headers_by_synonym(guesser, header, key):
    assert guess_mapping([header], [], guesser) == [key]


def test_the_templates_own_headers_map_to_their_columns(guesser):
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            headers = [str(h) for h, _k in COLUMNS]
        assert guess_mapping(headers, [], guesser) == [k for _h, k in COLUMNS]


def test_a_field_is_proposed_for_one_column_only(guesser):
    assert guess_mapping(["手机", "联系电话", "姓名"], [], guesser) == ["mobile", None, "name"]


def test_columns_with_meaningless_headers_are_guessed_from_their_values(guesser):
    headers = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K"]
    rows = [
        [
            "张三",
            "13800001111",
            "440106199005030018",
            "男",
            date(1990, 5, 3),
            "广东 广州 天河区",
            175,
            "大学本科",
            "离异带孩",
            "zhang@example.com",
            "65kg",
        ],
        [
            "李四",
            13900002222.0,
            "11010119910203002X",
            "女",
            "1991-02-03",
            "北京市 东城区",
            "162cm",
            "硕士",
            "未婚",
            "li@example.com",
            "50",
        ],
        [
            "王五",
            "+86 137 0000 3333",
            None,
            "男",
            "19881111",
            "深圳 南山",
            "1.80米",
            "大专",
            "离婚",
            None,
            "70",
        ],
    ]
    assert guess_mapping(headers, rows, guesser) == [
        None,  # names are not guessed: any text would fit
        "mobile",
        "id_number",
        "sex",
        "birthday",
        "region",
        "height",
        "education",
        "marital_status",
        "email",
        "weight",
    ]


def test_addresses_are_guessed_as_full_addresses(guesser):
    rows = [
        ["广东省深圳市南山区解放路91号"],
        ["北京市朝阳区建国路88号"],
        ["上海市浦东新区世纪大道100号"],
    ]
    assert guess_mapping(["X"], rows, guesser) == ["address_full"]


def test_a_header_guess_beats_a_value_guess(guesser):
    rows = [["13800001111", "13900002222"]]
    assert guess_mapping(["紧急联系人电话", "手机"], rows, guesser) == [None, "mobile"]


def test_values_that_fit_nothing_stay_skipped(guesser):
    rows = [["abc", 1], ["def", 2], ["ghi", 3]]
    assert guess_mapping(["X", "Y"], rows, guesser) == [None, None]


def test_required_fields_not_mapped_are_named():
    missing = missing_required(["name", "mobile", None])
    assert set(missing) == {"sex", "region", "height", "marital_status", "education"}
    parts = ["name", "sex", "mobile", "height", "marital_status", "education", "region_county"]
    assert missing_required(parts) == []
    assert missing_required([*parts[:-1], "address_full"]) == []


def test_duplicates_and_clean_mapping():
    assert duplicated(["name", "mobile", "name", None, None]) == ["name"]
    assert clean_mapping(["name", "bogus", "mobile"], 4) == ["name", None, "mobile", None]
    assert clean_mapping(["name", "mobile", "sex"], 2) == ["name", "mobile"]


def test_every_field_has_a_label():
    labels = dict(field_choices())
    assert list(labels) == FIELDS
    assert all(labels.values())


def test_header_signature_ignores_spacing_width_and_case():
    assert headers_signature(["姓名", "QQ", "手机"]) == headers_signature(
        [" 姓 名", "ｑｑ", "手机 "]
    )
    assert headers_signature(["姓名", "手机"]) != headers_signature(["手机", "姓名"])


@pytest.mark.django_db
def test_a_saved_mapping_is_offered_for_files_with_the_same_headers(org):
    clerk, colleague = org["aa1"], StaffFactory(store=org["aa1"].store)
    stranger = StaffFactory()  # another store
    headers = ["客户姓名", "电话", "备注"]
    saved = save_mapping(clerk, " 老系统导出 ", headers, ["name", "mobile", "bogus", "extra"])
    assert saved.name == "老系统导出"
    assert saved.mapping == ["name", "mobile", None]
    assert saved.store_id == clerk.store_id

    assert list(saved_mappings_for(clerk, ["客户姓名", "电话 ", "备注"])) == [saved]
    assert list(saved_mappings_for(colleague, headers)) == [saved]  # shared in the store
    assert list(saved_mappings_for(clerk, ["客户姓名", "电话"])) == []  # other headers
    assert list(saved_mappings_for(stranger, headers)) == []

    again = save_mapping(clerk, "老系统导出", headers, ["name", None, "about"])
    assert again.pk == saved.pk and again.mapping == ["name", None, "about"]
    assert ImportMapping.objects.count() == 1


def test_the_street_address_is_a_private_member_field():
    from hongniang.members.forms import MemberForm
    from hongniang.members.presenter import PUBLIC_FIELDS

    assert "address" in MemberForm.base_fields
    assert "address" not in PUBLIC_FIELDS  # other teams never see it
