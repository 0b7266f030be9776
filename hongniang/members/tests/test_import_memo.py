"""The import remembers what it worked out per distinct cell (an agency file repeats the same
education, marital status and region spellings on thousands of rows) and accepts plain text
without the form field's cleaning: both must decide exactly as the plain path does."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.members.importing.addresses import RegionResolver
from hongniang.members.importing.normalise import RowNormaliser
from hongniang.members.importing.pipeline import FieldRules
from hongniang.members.regions import read_regions_file

# Cells as the bench's messy generator and agencies write them, good and bad, per column.
POOLS = {
    "sex": ["男", "女", "M", "female", "未知", "-"],
    "birthday": ["1990-05-03", "19900503", 19900503, 33361, "1990年5月3日", "1990.5.3", "明天"],
    "education": ["大学本科", "本科", "研究生", "专科", "高中及以下", "博士后", "小学"],
    "marital_status": ["未婚", "离异", "离异带孩", "离异有孩", "丧偶无孩", "已婚?"],
    "children": ["无", "有", "跟我", "不跟我"],
    "height": ["175", "175cm", "1.75米", 175, 1.75, "一米七", "abc"],
    "weight": ["60", "60kg", "120斤", "60公斤", "胖"],
    "annual_income": ["10-20万", "15万", "面议", 150000, "1万-2万元", "20万以上"],
    "monthly_income": ["8000", "1万-2万元", "5000以下", "面议", 12000],
    "region": ["北京市 北京市 东城区", "广州 天河", "广东省深圳市南山区解放路91号", "火星"],
    "region_province": ["广东", "广东省", "北京"],
    "region_city": ["广州", "深圳市", "北京市"],
    "region_county": ["天河区", "南山", "东城区"],
    "hobbies": ["读书、旅游", "读书,电影", "打游戏", "不限"],
    "house": ["有房", "无房", "租房", "贷款买房"],
    "pref-age_range": ["25-35", "25岁以上", "35以下", "不限", "老"],
    "pref-education_min": ["本科", "不限", "大专及以上"],
    "name": ["张三", " 李四 ", "=1+1", "王\u202e五"],
    "about": ["喜欢\n旅游", "", "-"],
}


@pytest.fixture(scope="module")
def regions():
    return RegionResolver(read_regions_file())


def _normaliser(regions) -> RowNormaliser:
    n = RowNormaliser()
    n._regions = regions
    return n


def _rows():
    cell = st.sampled_from(list(POOLS.items())).flatmap(
        lambda item: st.tuples(st.just(item[0]), st.sampled_from(item[1]))
    )
    return st.lists(st.lists(cell, max_size=12).map(dict), min_size=1, max_size=25)


def _as_plain(result):
    return result.values, [(p.key, p.raw_text, p.message) for p in result.problems], result.extras


@given(rows=_rows())
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_normaliser_that_has_seen_other_rows_normalises_as_a_fresh_one(regions, rows):
    warm = _normaliser(regions)
    for cells in rows:
        seen = _as_plain(warm.normalise(cells))
        assert seen == _as_plain(_normaliser(regions).normalise(cells))


def test_a_remembered_list_is_not_shared_between_rows(regions):
    n = _normaliser(regions)
    first = n.normalise({"hobbies": "读书、旅游"}).values["hobbies"]
    first.append("changed")
    assert n.normalise({"hobbies": "读书、旅游"}).values["hobbies"] != first


def _decided(fn, key, value):
    try:
        return "ok", fn(key, value)
    except ValidationError as exc:
        return "refused", exc.messages


@pytest.fixture
def rules(db):
    return FieldRules()


def test_plain_text_fields_are_the_ones_without_other_rules(rules):
    assert {"name", "mobile", "id_number", "address", "wechat", "about"} <= set(
        rules.plain_text_limits
    )
    # A pattern (username, QQ) or a format (email) keeps the field's own cleaning.
    assert not {"username", "qq", "email"} & set(rules.plain_text_limits)


@given(
    key=st.sampled_from(["name", "mobile", "id_number", "address", "wechat", "about"]),
    value=st.one_of(
        st.text(max_size=70),
        st.text(alphabet=" \t\n\x00\u3000a张", max_size=5),
        st.text(min_size=195, max_size=205),
        st.text(min_size=1995, max_size=2005),
    ),
)
@settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_plain_text_is_decided_as_the_fields_cleaning_decides(rules, key, value):
    assert _decided(rules.clean, key, value) == _decided(rules._clean, key, value)
