"""The public site: who is shown, what of them, the search, the member page, photos, SEO files."""

import re
from datetime import date

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from hongniang.members import choices as c
from hongniang.members.models import Member, MemberPhoto
from hongniang.members.tests.helpers import add_member
from hongniang.portal import public_ids
from hongniang.portal import site_selectors as sel
from hongniang.siteconfig.models import SiteSettings
from hongniang.staff.tests.factories import StaffFactory, role_with


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (8, 8), (230, 100, 150)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()


def shown(member, **fields):
    """Open a member to matching (signed, in service), hence to the public site."""
    fields = {"sales_stage": "signed", "service_status": "in_service", **fields}
    Member.objects.filter(pk=member.pk).update(**fields)
    member.refresh_from_db()
    return member


def photo(member, status=c.PhotoStatus.APPROVED, avatar=True):
    p = MemberPhoto(member=member, status=status, is_avatar=avatar)
    p.image.save("a.png", ContentFile(PNG), save=False)
    p.save()
    return p


# Under the men's minimum age of 22 for a good few years.
YOUNG = date(timezone.localdate().year - 19, 1, 1)


def code(member):
    return public_ids.encode("member", member.pk)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the search limit and the cached settings start afresh in each test


@pytest.fixture
def public(org):
    admin = org["admin"]
    return {
        "woman": shown(add_member(admin, sex="F", birthday=date(1994, 3, 1), name="王小红")),
        "man": shown(add_member(admin, sex="M", birthday=date(1990, 7, 1), name="李大明")),
        "hidden": shown(add_member(admin, sex="F", name="赵隐藏"), is_hidden=True),
        "off_site": shown(add_member(admin, sex="F", name="钱不公开"), site_hidden=True),
        "married": shown(add_member(admin, sex="F", name="孙已婚", marital_status="married")),
        "not_offered": add_member(admin, sex="F", name="周未签"),  # new lead: not a candidate
        "young": shown(add_member(admin, sex="M", birthday=YOUNG)),
    }


def test_public_members_are_the_offered_visible_adult_ones(public):
    ids = set(sel.public_members().values_list("pk", flat=True))
    assert ids == {public["woman"].pk, public["man"].pk}


def test_domain_root_is_the_public_site_and_the_workbench_moved(client, public, org):
    home = client.get("/")
    assert home.status_code == 200
    assert reverse("home:index") == "/workbench/"
    assert "site-search" in home.content.decode()
    # Staff find their way: the workbench button on the public home, and login lands there.
    client.force_login(org["aa1"])
    assert reverse("home:index") in client.get("/").content.decode()


def test_home_shows_featured_members_with_approved_photos_only(client, public):
    woman, man = public["woman"], public["man"]
    Member.objects.filter(pk__in=[woman.pk, man.pk, public["hidden"].pk]).update(site_featured=True)
    photo(woman)
    photo(man, status=c.PhotoStatus.PENDING)
    photo(public["hidden"])
    page = client.get("/").content.decode()
    assert reverse("portal:site_member", args=[code(woman)]) in page
    assert code(man) not in page  # no approved photo yet
    assert code(public["hidden"]) not in page


def test_member_page_and_404_for_everyone_not_shown(client, public):
    woman = public["woman"]
    page = client.get(reverse("portal:site_member", args=[code(woman)]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "王" not in body  # not even the surname
    assert "女士" in body
    # "我要认识TA" sends a visitor to the member login and back to this page.
    assert f"{reverse('portal:login')}?next=" in body
    for key in ("hidden", "off_site", "married", "not_offered", "young"):
        response = client.get(reverse("portal:site_member", args=[code(public[key])]))
        assert response.status_code == 404, key
    # The raw primary key is not a public address.
    assert client.get(reverse("portal:site_member", args=[str(woman.pk)])).status_code == 404
    assert client.get(reverse("portal:site_member", args=["not-a-code!"])).status_code == 404


def test_photos_served_only_approved_and_only_for_members_shown(client, public):
    woman = public["woman"]
    good, pending = photo(woman), photo(woman, status=c.PhotoStatus.PENDING, avatar=False)

    def url(member, p):
        return reverse(
            "portal:site_member_photo", args=[code(member), public_ids.encode("photo", p.pk)]
        )

    response = client.get(url(woman, good))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert client.get(url(woman, pending)).status_code == 404
    page = client.get(reverse("portal:site_member", args=[code(woman)])).content.decode()
    assert url(woman, good) in page and url(woman, pending) not in page
    hidden_photo = photo(public["off_site"])
    assert client.get(url(public["off_site"], hidden_photo)).status_code == 404
    # A photo of one member under another's code is not served either.
    assert client.get(url(public["man"], good)).status_code == 404


def test_search_filters_and_pages(client, public):
    response = client.get(reverse("portal:site_search"), {"sex": "F"})
    assert response.status_code == 200
    cards = response.context["page"].cards
    assert [card.code for card in cards] == [code(public["woman"])]
    response = client.get(reverse("portal:site_search"), {"sex": "M", "age_min": "18"})
    assert [card.code for card in response.context["page"].cards] == [code(public["man"])]


def test_search_bad_input_is_a_message_not_an_error(client, public):
    response = client.get(
        reverse("portal:site_search"),
        {"age_min": "abc", "age_max": "300", "sex": "X", "education": "zz", "page": "x"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "输入整数" in body and "确保该值小于或等于99" in body
    # The bad fields are left out: both members are found.
    assert response.context["page"].total == 2
    reversed_ages = client.get(reverse("portal:site_search"), {"age_min": "40", "age_max": "30"})
    assert reversed_ages.status_code == 200
    assert "最低年龄不能高于最高年龄" in reversed_ages.content.decode()


def test_search_deep_pages_are_refused(client, public):
    response = client.get(reverse("portal:site_search"), {"page": sel.MAX_PAGES + 1})
    assert response.status_code == 404


def test_search_is_rate_limited_per_address(client, public, monkeypatch):
    from hongniang.frontdesk import throttle
    from hongniang.portal import site_views

    monkeypatch.setattr(site_views, "SEARCH_PER_ADDRESS", throttle.Limit("site-search-ip", 3, 600))
    answers = [client.get(reverse("portal:site_search")).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    other = client.get(reverse("portal:site_search"), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_robots_and_sitemap(client, public):
    site = SiteSettings.load()
    site.robots_txt = "User-agent: *\nDisallow: /workbench/"
    site.save()
    robots = client.get("/robots.txt").content.decode()
    assert robots.startswith("User-agent: *\nDisallow: /workbench/")
    assert "Sitemap: http://testserver/sitemap.xml" in robots
    index = client.get("/sitemap.xml")
    assert index.status_code == 200 and b"sitemap-members.xml" in index.content
    members = client.get("/sitemap-members.xml").content.decode()
    assert code(public["woman"]) in members and code(public["man"]) in members
    assert code(public["off_site"]) not in members and code(public["hidden"]) not in members


def test_pages_have_titles_and_descriptions(client, public):
    site = SiteSettings.load()
    site.seo_description = "广州专业婚恋服务"
    site.save()
    body = client.get("/").content.decode()
    assert '<meta name="description" content="广州专业婚恋服务">' in body
    member_page = client.get(reverse("portal:site_member", args=[code(public["woman"])]))
    assert "<title>女士" in member_page.content.decode()


# --- staff set a member's place on the public site ------------------------------------------


def test_staff_with_members_edit_feature_and_hide_a_member(client, org, public):
    woman = public["woman"]
    client.force_login(org["admin"])
    url = reverse("portal:site_flags", args=[woman.pk])
    response = client.post(url, {"site_featured": "on"})
    assert response.status_code == 302
    woman.refresh_from_db()
    assert woman.site_featured and not woman.site_hidden
    assert woman.events.filter(kind="updated", data__fields=["site_featured"]).exists()
    client.post(url, {"site_hidden": "on"})
    woman.refresh_from_db()
    assert woman.site_hidden and not woman.site_featured
    assert client.get(reverse("portal:site_member", args=[code(woman)])).status_code == 404
    detail = client.get(reverse("members:detail", args=[woman.pk])).content.decode()
    assert 'id="member-public-site"' in detail


def test_site_flags_refused_without_the_right_or_the_member(client, org, public):
    woman = public["woman"]
    viewer = StaffFactory(
        username="viewer", role=role_with("members.view", name="只读"), store=org["store_a"]
    )
    client.force_login(viewer)
    url = reverse("portal:site_flags", args=[woman.pk])
    assert client.post(url, {"site_featured": "on"}).status_code == 403
    # bb1 may edit members, but not this one (another team's): 404 like a missing member.
    client.force_login(org["bb1"])
    assert client.post(url, {"site_featured": "on"}).status_code == 404
    woman.refresh_from_db()
    assert not woman.site_featured


# --- no private field reaches a public page ----------------------------------------------------

MARK = "QXQ"


def _mark_private_fields(member):
    """Every text field of the member that is not a public choice or code holds the marker."""
    from django.db import models as m

    public = {"sex", "region", "hukou_region", "sales_stage", "service_status", "source"}
    values = {}
    for field in Member._meta.concrete_fields:
        if field.name in public or field.choices or field.name.endswith("_md"):
            continue
        if isinstance(field, m.CharField | m.TextField) and (field.max_length or 99) >= 8:
            values[field.name] = f"{MARK}{field.name}"[: field.max_length or 99]
    Member.objects.filter(pk=member.pk).update(**values)
    member.preference.other = f"{MARK}preference"
    member.preference.save()
    return values


def test_no_private_field_reaches_a_public_page(client, public, org):
    from hongniang.portal.models import SuccessStory

    woman, man = public["woman"], public["man"]
    marked = _mark_private_fields(woman)
    assert {"name", "username", "mobile_masked", "id_number_masked", "address", "wechat"} <= set(
        marked
    )
    Member.objects.filter(pk=woman.pk).update(site_featured=True)
    photo(woman)
    pending = photo(woman, status=c.PhotoStatus.PENDING, avatar=False)
    story = SuccessStory.objects.create(
        title="相识十年",
        member_a=woman,
        member_b=man,
        consent_a_on=date(2026, 1, 1),
        consent_a_by=org["admin"],
        consent_b_on=date(2026, 1, 2),
        consent_b_by=org["admin"],
        text="我们在这里相识。",
        happened_on=date(2026, 5, 1),
        published=True,
    )
    pages = [
        "/",
        reverse("portal:site_search"),
        reverse("portal:site_search") + "?sex=F",
        reverse("portal:site_member", args=[code(woman)]),
        reverse("portal:site_stories"),
        reverse("portal:site_story", args=[story.pk]),
        "/robots.txt",
        "/sitemap.xml",
        "/sitemap-members.xml",
        "/sitemap-stories.xml",
        "/sitemap-pages.xml",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert MARK not in body, url
        assert public_ids.encode("photo", pending.pk) not in body, url
        assert str(woman.pk) not in re.findall(r"/profile/([^/]+)/", body), url
    # The member was there: featured on the home page, and on her own page in public form.
    assert code(woman) in client.get("/").content.decode()
    page = client.get(reverse("portal:site_member", args=[code(woman)])).content.decode()
    assert "女士" in page and "本科" in page


# --- the search's filters (property-based) -----------------------------------------------------

EDUCATIONS = [c.Education.SENIOR_HIGH, c.Education.BACHELOR, c.Education.MASTER]
INCOMES = [c.AnnualIncome.UNDER_30K, c.AnnualIncome.FROM_100K_TO_200K, c.AnnualIncome.OVER_1M]
MARITAL = [c.MaritalStatus.SINGLE, c.MaritalStatus.DIVORCED, c.MaritalStatus.MARRIED]
OCCUPATIONS = list(c.Occupation.values)[:3]
REGIONS = ["440106", "440305", "110101", "310104"]


@pytest.fixture
def population(org, public):
    """Members of every kind: shown or not, across the filters' values."""
    admin, rows = org["admin"], []
    for i in range(24):
        member = add_member(
            admin,
            sex="FM"[i % 2],
            birthday=date(1975 + (i * 7) % 26, 1 + i % 12, 1 + i % 27),
            education=EDUCATIONS[i % 3],
            annual_income=INCOMES[(i // 2) % 3],
            marital_status=MARITAL[(i // 3) % 3],
            occupation=OCCUPATIONS[i % 3],
            region=REGIONS[i % 4],
        )
        rows.append(shown(member, site_hidden=i % 5 == 0, is_hidden=i % 7 == 0))
    return rows


def _age(birthday, today):
    return today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))


def _expected(filters, today):
    """The filters applied in Python to every member shown (the rule spelled out again)."""
    site = SiteSettings.load()
    found = []
    for m in Member.objects.all():
        minimum = site.match_min_age_male if m.sex == "M" else site.match_min_age_female
        shown_ = (
            m.sales_stage == "signed"
            and m.service_status == "in_service"
            and not m.is_hidden
            and not m.site_hidden
            and m.marital_status != c.MaritalStatus.MARRIED
            and m.birthday is not None
            and _age(m.birthday, today) >= minimum
        )
        if not shown_:
            continue
        age = _age(m.birthday, today)
        region = filters.get("region", "")
        prefix = region[:2] if region.endswith("0000") else region[:4]
        if (
            filters.get("sex", m.sex) == m.sex
            and age >= filters.get("age_min", 0)
            and age <= filters.get("age_max", 999)
            and (m.education or 0) >= filters.get("education", 0)
            and (m.annual_income or 0) >= filters.get("income", 0)
            and filters.get("marital_status", m.marital_status) == m.marital_status
            and filters.get("occupation", m.occupation) == m.occupation
            and (not region or m.region.startswith(prefix))
        ):
            found.append(m.pk)
    return set(found)


def test_search_results_satisfy_the_filters_and_only_show_public_members(population):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    today = timezone.localdate()
    filters_st = st.fixed_dictionaries(
        {},
        optional={
            "sex": st.sampled_from(["F", "M"]),
            "age_min": st.integers(18, 60),
            "age_max": st.integers(18, 60),
            "education": st.sampled_from([int(e) for e in EDUCATIONS]),
            "income": st.sampled_from([int(i) for i in INCOMES]),
            "marital_status": st.sampled_from([str(m) for m in MARITAL]),
            "occupation": st.sampled_from(OCCUPATIONS),
            "region": st.sampled_from(["440000", "440100", "440300", "110000", "310100"]),
        },
    )

    @settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(filters_st)
    def check(filters):
        page = sel.search(filters)
        found = {public_ids.decode("member", card.code) for card in page.cards}
        assert page.total == len(_expected(filters, today)) <= sel.PAGE_SIZE * sel.MAX_PAGES
        assert found <= _expected(filters, today)
        if page.total <= sel.PAGE_SIZE:
            assert found == _expected(filters, today)

    check()


def test_the_team_on_the_home_page_is_edited_where_staff_are(client, org):
    from hongniang.staff.models import Staff
    from hongniang.staff.tests.test_staff_views import new_staff_data

    client.force_login(org["admin"])
    data = new_staff_data(
        org, public_title="资深红娘王老师", years_of_experience="8", motto="用心牵线", sort_order=1
    )
    assert client.post(reverse("staff:create"), data).status_code == 302
    newbie = Staff.objects.get(username="newbie")
    assert newbie.years_of_experience == 8
    # Their manager edits them (the rights of staff editing apply); their peer's manager cannot.
    client.force_login(org["mgr2"])
    url = reverse("staff:edit", args=[newbie.pk])
    assert client.post(url, {**data, "years_of_experience": "9"}).status_code == 404
    client.force_login(org["mgr1"])
    assert client.post(url, {**data, "years_of_experience": "9", "password": ""}).status_code == 302
    client.logout()
    home = client.get("/").content.decode()
    assert "资深红娘王老师" in home and "从业9年" in home and "用心牵线" in home
    # Not shown on the site: off the home page.
    Staff.objects.filter(pk=newbie.pk).update(show_on_site=False)
    assert "资深红娘王老师" not in client.get("/").content.decode()
