"""Cells as agencies write them → member field values: the synonym tables (data), units, dates,
regions and addresses, incomes, preferences, text hygiene, and messages that quote the cell."""

from datetime import date, datetime, timedelta

# Excel cells hold naive date-times; so do these tests.
# ruff: noqa: DTZ001
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hongniang.members import choices as c
from hongniang.members.excel import COLUMNS, PREF
from hongniang.members.importing import synonyms
from hongniang.members.importing.addresses import RegionResolver
from hongniang.members.importing.hygiene import clean_text, spreadsheet_safe
from hongniang.members.importing.mapping import FIELDS
from hongniang.members.importing.normalise import (
    RowNormaliser,
    parse_amount,
    parse_date,
    parse_measure,
)
from hongniang.members.regions import read_regions_file

CHOICE_TABLES = synonyms.data()["choices"]


@pytest.fixture(scope="module")
def normaliser():
    # One normaliser for the module, its regions read straight from the packaged file (the
    # table's source) so that no test needs the database.
    n = RowNormaliser()
    n._regions = RegionResolver(read_regions_file())
    return n


def one(normaliser, key, raw):
    result = normaliser.normalise({key: raw})
    return result.values.get(key), result


# --- The data file ----------------------------------------------------------------------------


def test_every_header_synonym_names_a_field_and_every_choice_table_a_choice_field(normaliser):
    assert set(synonyms.data()["headers"]) <= set(FIELDS)
    column_keys = {key for _h, key in COLUMNS}
    for field, table in CHOICE_TABLES.items():
        assert field in column_keys, field
        offered = normaliser.choices.values(field)
        assert set(table) <= set(offered), (field, set(table) - set(offered))


def test_no_word_means_two_values_of_one_field():
    for field, table in CHOICE_TABLES.items():
        seen = {}
        for value, words in table.items():
            for word in words:
                key = synonyms.word_key(word)
                assert seen.setdefault(key, value) == value, (field, word)


CASES = [
    (field, value, word)
    for field, table in CHOICE_TABLES.items()
    for value, words in table.items()
    for word in words
]


@pytest.mark.parametrize(("field", "value", "word"), CASES)
def test_every_synonym_of_every_table_is_understood(normaliser, field, value, word):
    result, detail = one(normaliser, field, word)
    assert str(result) == value, detail.problems
    assert not detail.problems


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("education", "高中及以下", c.Education.SENIOR_HIGH),
        ("education", "大学本科", c.Education.BACHELOR),
        ("education", "研究生", c.Education.MASTER),
        ("education", "专科", c.Education.JUNIOR_COLLEGE),
        ("education", " 本 科 ", c.Education.BACHELOR),
        ("education", "Bachelor's degree", c.Education.BACHELOR),  # the English label
        ("education", "60", c.Education.BACHELOR),  # the stored value
        ("marital_status", "离婚", c.MaritalStatus.DIVORCED),
        ("house", "按揭", c.HouseStatus.MORTGAGE),
        ("house", "租房", c.HouseStatus.RENTING),
        ("sex", "Ｍ", c.Sex.MALE),  # full-width
        ("ethnicity", "汉", "01"),
        ("blood_type", "O型血", c.BloodType.O),
        ("smoking", "戒烟中", c.Smoking.QUITTING),
    ],
)
def test_the_spellings_the_issue_names(normaliser, key, raw, expected):
    value, result = one(normaliser, key, raw)
    assert value == expected and not result.problems
    assert type(value) is type(expected.value if hasattr(expected, "value") else expected)


@pytest.mark.parametrize(
    ("raw", "flag", "children"),
    [
        ("离异带孩", True, c.ChildrenStatus.LIVES_WITH_ME),
        ("离异带小孩", True, c.ChildrenStatus.LIVES_WITH_ME),
        ("离异无孩", False, c.ChildrenStatus.NONE),
        ("丧偶带孩", True, c.ChildrenStatus.LIVES_WITH_ME),
        ("离异", None, None),
    ],
)
def test_marital_status_with_children_keeps_a_child_flag(normaliser, raw, flag, children):
    value, result = one(normaliser, "marital_status", raw)
    assert value in (c.MaritalStatus.DIVORCED, c.MaritalStatus.WIDOWED)
    assert result.extras.get("has_children") is flag
    assert result.values.get("children") == children
    assert not result.problems


def test_the_children_cell_wins_over_the_marital_status(normaliser):
    result = normaliser.normalise({"marital_status": "离异带孩", "children": "有，不跟随自己"})
    assert result.values["children"] == c.ChildrenStatus.NOT_WITH_ME
    assert result.extras["has_children"] is True


def test_has_children_without_where_asks_for_the_children_cell(normaliser):
    value, result = one(normaliser, "marital_status", "离异有孩")
    assert value == c.MaritalStatus.DIVORCED and "children" not in result.values
    (problem,) = result.problems
    assert problem.key == "children" and "“离异有孩”" in problem.message
    assert "小孩情况" in problem.message


def test_children_yes_without_where_is_a_problem_that_says_what_to_write(normaliser):
    value, result = one(normaliser, "children", "有")
    assert value is None and result.extras["has_children"] is True
    (problem,) = result.problems
    assert problem.key == "children" and problem.raw_text == "有"
    assert "“有”" in problem.message and "有，和我住一起" in problem.message


# --- Incomes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "raw", "band"),
    [
        ("monthly_income", "1万-2万元", c.MonthlyIncome.FROM_10K_TO_20K),
        ("monthly_income", "8000", c.MonthlyIncome.FROM_8K_TO_10K),
        ("monthly_income", 8000.0, c.MonthlyIncome.FROM_8K_TO_10K),
        ("monthly_income", "5千", c.MonthlyIncome.FROM_4K_TO_6K),
        ("monthly_income", "15k", c.MonthlyIncome.FROM_10K_TO_20K),
        ("monthly_income", "月薪6000-8000元", c.MonthlyIncome.FROM_6K_TO_8K),
        ("monthly_income", "2000以下", c.MonthlyIncome.UNDER_2K),
        ("monthly_income", "5万以上", c.MonthlyIncome.OVER_50K),
        ("monthly_income", "1-2万", c.MonthlyIncome.FROM_10K_TO_20K),  # the label itself
        ("annual_income", "15万", c.AnnualIncome.FROM_100K_TO_200K),
        ("annual_income", "15", c.AnnualIncome.FROM_100K_TO_200K),  # 万 understood
        ("annual_income", "120000", c.AnnualIncome.FROM_100K_TO_200K),
        ("annual_income", "年薪20-30万", c.AnnualIncome.FROM_200K_TO_300K),
        ("annual_income", "100万以上", c.AnnualIncome.OVER_1M),
    ],
)
def test_income_amounts_and_ranges_become_bands(normaliser, key, raw, band):
    value, result = one(normaliser, key, raw)
    assert value == band, result.problems
    assert not result.problems


def test_a_monthly_income_gives_the_annual_band_when_the_file_has_none(normaliser):
    result = normaliser.normalise({"monthly_income": "1万-2万元"})
    assert result.values["annual_income"] == c.AnnualIncome.FROM_100K_TO_200K
    given_annual = normaliser.normalise({"monthly_income": "1万-2万元", "annual_income": "50万"})
    assert given_annual.values["annual_income"] == c.AnnualIncome.FROM_500K_TO_1M
    assert "monthly_amount" not in result.extras


def test_parse_amount_refuses_words():
    assert parse_amount("面议") is None and parse_amount("很多") is None


# --- Preferences -------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["不限", "无要求", "都可以", " 不 限 "])
def test_no_preference_words(normaliser, word):
    result = normaliser.normalise(
        {
            f"{PREF}education_min": word,
            f"{PREF}marital": word,
            f"{PREF}age_min": word,
            f"{PREF}height_range": word,
        }
    )
    assert not result.problems
    assert result.values[f"{PREF}education_min"] is None
    assert result.values[f"{PREF}marital"] == []
    assert result.values[f"{PREF}age_min"] is None
    assert result.values[f"{PREF}height_min"] is None and result.values[f"{PREF}height_max"] is None


@pytest.mark.parametrize(
    ("key", "raw", "low", "high"),
    [
        (f"{PREF}age_range", "25-35", 25, 35),
        (f"{PREF}age_range", "25岁-35岁", 25, 35),
        (f"{PREF}age_range", "25至35岁", 25, 35),
        (f"{PREF}age_range", "30岁以上", 30, None),
        (f"{PREF}age_range", "35岁以下", None, 35),
        (f"{PREF}height_range", "165-180cm", 165, 180),
        (f"{PREF}height_range", "1.65-1.80米", 165, 180),
    ],
)
def test_preference_ranges_in_one_cell(normaliser, key, raw, low, high):
    result = normaliser.normalise({key: raw})
    name = "age" if "age" in key else "height"
    assert not result.problems
    assert result.values.get(f"{PREF}{name}_min") == low
    assert result.values.get(f"{PREF}{name}_max") == high


def test_preference_choices_use_the_fields_synonyms(normaliser):
    result = normaliser.normalise(
        {f"{PREF}education_min": "大学本科", f"{PREF}marital": "未婚/离婚"}
    )
    assert result.values[f"{PREF}education_min"] == c.Education.BACHELOR
    assert result.values[f"{PREF}marital"] == [c.MaritalStatus.SINGLE, c.MaritalStatus.DIVORCED]


# --- Units ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("175cm", "length", 175),
        ("175 CM", "length", 175),
        ("175厘米", "length", 175),
        ("175公分", "length", 175),
        ("1.75米", "length", 175),
        ("1.75m", "length", 175),
        ("1.75", "length", 175),
        (1.75, "length", 175),
        ("175", "length", 175),
        (175.0, "length", 175),
        ("１７５", "length", 175),
        ("60kg", "weight", 60),
        ("60KG", "weight", 60),
        ("60公斤", "weight", 60),
        ("60千克", "weight", 60),
        ("120斤", "weight", 60),
        ("121斤", "weight", 61),  # 60.5 rounds half up
        ("60", "weight", 60),
        (60.4, "weight", 60),
        ("2个", "count", 2),
        ("两个", "count", 2),
        ("无", "count", 0),
        ("28岁", "count", 28),
    ],
)
def test_units(raw, kind, expected):
    assert parse_measure(raw, kind) == expected


@pytest.mark.parametrize(
    ("raw", "kind"),
    [("一米六", "length"), ("1.5吨", "weight"), ("很高", "length"), ("2.5", "count")],
)
def test_unreadable_measures(raw, kind):
    assert parse_measure(raw, kind) is None


def test_a_refused_number_is_quoted_with_examples(normaliser):
    value, result = one(normaliser, "height", "一米六")
    assert value is None
    (problem,) = result.problems
    assert problem.key == "height" and "“一米六”" in problem.message and "1.75米" in problem.message


# --- Dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        date(1990, 5, 3),
        datetime(1990, 5, 3, 0, 0),
        datetime(1990, 5, 3, 14, 30),
        19900503,
        19900503.0,
        "19900503",
        32996,  # Excel's day number
        32996.5,
        "32996",
        "1990-05-03",
        "1990-5-3",
        "1990/05/03",
        "1990.5.3",
        "1990年5月3日",
        "1990 年 5 月 3 日",
        "1990-05-03 00:00:00",
        "1990-05-03T00:00:00",
        "1990/5/3 0:00",
        "１９９０－０５－０３",
    ],
)
def test_date_forms(raw):
    assert parse_date(raw) == date(1990, 5, 3)


@pytest.mark.parametrize("raw", ["3.5.1990", "1990年5月", "1990-02-30", "明年", "", True, 123])
def test_dates_that_are_refused(raw):
    assert parse_date(raw) is None


FORMS = [
    lambda d: d,
    lambda d: datetime(d.year, d.month, d.day),
    lambda d: (d - date(1899, 12, 30)).days,
    lambda d: float((d - date(1899, 12, 30)).days),
    lambda d: int(d.strftime("%Y%m%d")),
    lambda d: d.strftime("%Y%m%d"),
    lambda d: d.isoformat(),
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d.isoformat()} 00:00:00",
]


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(min_value=date(1901, 1, 1), max_value=date(2099, 12, 31)),
    form=st.sampled_from(FORMS),
)
def test_dates_round_trip_in_every_form(day, form):
    assert parse_date(form(day)) == day


def test_a_refused_date_is_quoted(normaliser):
    value, result = one(normaliser, "birthday", "1990年5月")
    assert value is None
    assert "“1990年5月”" in result.problems[0].message


# --- Regions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("北京市 北京市 东城区", "110101"),
        ("北京市北京市东城区", "110101"),
        ("北京 市辖区 东城区", "110101"),
        ("北京 东城区", "110101"),
        ("北京东城", "110101"),
        ("上海市 上海市 浦东新区", "310115"),
        ("广州 天河", "440106"),
        ("广州 天河区", "440106"),
        ("广东 广州 天河区", "440106"),
        ("广东省广州市天河区", "440106"),
        ("广东/广州/天河区", "440106"),
        ("天河区", "440106"),
        ("440106", "440106"),
        ("广东", "440000"),
        ("吉林", "220000"),  # the province, not 吉林市 inside it
        ("吉林 吉林市 船营区", "220204"),
        ("东莞", "441900"),  # a city without counties
        ("重庆市 县 城口县", "500229"),
    ],
)
def test_region_forms(normaliser, raw, code):
    value, result = one(normaliser, "region", raw)
    assert value == code, result.problems
    assert not result.problems


def test_a_full_address_gives_the_county_and_keeps_the_street(normaliser):
    value, result = one(normaliser, "region", "广东省深圳市南山区解放路91号")
    assert value == "440305" and result.values["address"] == "解放路91号"
    result = normaliser.normalise({"address_full": "北京市朝阳区建国路88号SOHO现代城"})
    assert result.values["region"] == "110105"
    assert result.values["address"] == "建国路88号SOHO现代城"


def test_the_street_address_field_takes_a_full_address_too(normaliser):
    result = normaliser.normalise({"address": "广东省深圳市南山区解放路91号"})
    assert result.values == {"region": "440305", "address": "解放路91号"}
    given_region = normaliser.normalise(
        {"region": "广州 天河", "address": "深圳市南山区解放路91号"}
    )
    assert given_region.values == {"region": "440106", "address": "解放路91号"}
    street_only = normaliser.normalise({"address": "解放路91号", "region": "广州 天河"})
    assert street_only.values == {"region": "440106", "address": "解放路91号"}
    assert not street_only.problems


def test_a_street_is_not_read_as_a_county_short_name(normaliser):
    # 朝阳门 is a street in 东城区; 朝阳 alone would be 朝阳区.
    result = normaliser.normalise({"address_full": "北京市朝阳门外大街1号"})
    assert result.values["region"] == "110000"
    assert result.values["address"] == "朝阳门外大街1号"


def test_province_city_and_county_in_separate_columns(normaliser):
    result = normaliser.normalise(
        {"region_province": "广东省", "region_city": "深圳市", "region_county": "南山区"}
    )
    assert result.values["region"] == "440305" and not result.problems
    municipality = normaliser.normalise(
        {"region_province": "北京市", "region_city": "北京市", "region_county": "东城区"}
    )
    assert municipality.values["region"] == "110101"
    just_city = normaliser.normalise({"region_province": "广东", "region_city": "广州"})
    assert just_city.values["region"] == "440100"


def test_separate_columns_and_an_address_together(normaliser):
    result = normaliser.normalise(
        {
            "region_province": "广东",
            "region_city": "深圳",
            "region_county": "南山区",
            "address_full": "广东省深圳市南山区解放路91号",
        }
    )
    assert result.values["region"] == "440305" and result.values["address"] == "解放路91号"


def test_hukou_goes_down_to_the_city_only(normaliser):
    value, _result = one(normaliser, "hukou_region", "广东 广州 天河区")
    assert value == "440100"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("鼓楼区", ["“鼓楼区”", "省和市"]),
        ("广东 成都", ["“成都”", "“广东”"]),  # quoted as written
        ("火星 奥林匹斯山", ["“火星 奥林匹斯山”"]),
        ("999999", ["“999999”"]),
    ],
)
def test_region_problems_quote_the_cell(normaliser, raw, words):
    value, result = one(normaliser, "region", raw)
    assert value is None
    (problem,) = result.problems
    assert problem.key == "region" and problem.raw_text == raw
    for word in words:
        assert word in problem.message


def test_a_bad_region_part_is_reported_on_its_column(normaliser):
    result = normaliser.normalise({"region_province": "广东", "region_county": "朝阳区"})
    assert "region" not in result.values
    assert [p.key for p in result.problems] == ["region_county"]


# --- Hygiene ----------------------------------------------------------------------------------


def test_control_and_bidi_characters_are_stripped(normaliser):
    raw = "\u202e张\u200b小\x07美\u2066\u2069\ufeff\r\n"
    assert clean_text(raw) == "张小美"
    result = normaliser.normalise({"name": raw, "about": "第一行\r\n第二行\x00"})
    assert result.values["name"] == "张小美"
    assert result.values["about"] == "第一行\n第二行"


@pytest.mark.parametrize("text", ["=1+2", "+86 138", "-5", "@SUM(A1)", '=HYPERLINK("x")'])
def test_formula_like_text_is_kept_as_text_and_made_inert_for_csv(normaliser, text):
    value, _result = one(normaliser, "about", text)
    assert value == text
    assert spreadsheet_safe(text) == "'" + text
    assert spreadsheet_safe("张三") == "张三"


def test_mobile_and_id_numbers_typed_as_numbers(normaliser):
    assert one(normaliser, "mobile", 13800138000.0)[0] == "13800138000"
    value, result = one(normaliser, "id_number", 4.40106199001030e17)
    assert value is None and "格式" in result.problems[0].message or result.problems


def test_empty_words_are_blank_and_unknown_keys_ignored(normaliser):
    result = normaliser.normalise(
        {"education": "-", "weight": "未填", "name": "  ", "nonsense": "x"}
    )
    assert result.values == {} and result.problems == []


def test_every_problem_of_a_row_is_reported_at_once(normaliser):
    result = normaliser.normalise(
        {
            "education": "学前班",
            "height": "很高",
            "birthday": "去年",
            "region": "火星",
            "pref-marital": "未婚、外星人",
            "sex": "女",
        }
    )
    assert sorted(p.key for p in result.problems) == sorted(
        ["education", "height", "birthday", "region", "pref-marital"]
    )
    assert result.values["sex"] == c.Sex.FEMALE
    assert result.values["pref-marital"] == [c.MaritalStatus.SINGLE]


def test_an_excel_day_number_is_not_taken_for_yyyymmdd():
    assert parse_date(19900503) == date(1990, 5, 3)
    assert parse_date(45000) == date(1899, 12, 30) + timedelta(days=45000)


def test_an_unreadable_income_says_amounts_are_welcome(normaliser):
    value, result = one(normaliser, "monthly_income", "面议")
    assert value is None
    (problem,) = result.problems
    assert "“面议”" in problem.message and "1万-2万元" in problem.message
