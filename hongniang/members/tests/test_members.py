from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from hongniang.members import choices as c
from hongniang.members import personal_data as pd
from hongniang.members import selectors, services
from hongniang.members.models import Allocation, Member, RevealLog
from hongniang.members.tests.helpers import add_member, resident_id
from hongniang.staff.tests.factories import StaffFactory, role_with

pytestmark = pytest.mark.django_db


def visible_names(user):
    return set(Member.objects.visible_to(user).values_list("name", flat=True))


def test_member_belongs_to_who_entered_it_and_is_seen_up_the_tree_only(org):
    add_member(org["aa1"], name="甲")
    add_member(org["bb1"], name="乙")
    assert visible_names(org["aa1"]) == {"甲"}
    assert visible_names(org["aa2"]) == set()  # a peer matchmaker
    assert visible_names(org["mgr1"]) == {"甲"}  # their manager
    assert visible_names(org["mgr2"]) == {"乙"}  # the peer manager sees only their own team
    assert visible_names(org["admin"]) == {"甲", "乙"}


def test_member_visible_through_after_sales_owner_too(org):
    member = add_member(org["aa1"], name="丙", sales_stage=c.SalesStage.SIGNED)
    services.members_allocate(actor=org["admin"], members=[member], to=org["bb1"])
    member.refresh_from_db()
    assert member.aftersales_owner == org["bb1"] and member.presales_owner == org["aa1"]
    assert "丙" in visible_names(org["mgr2"]) and "丙" in visible_names(org["mgr1"])


def test_peer_manager_gets_404_on_detail_and_edit(client, org):
    member = add_member(org["aa1"])
    client.force_login(org["mgr2"])
    assert client.get(reverse("members:detail", args=[member.pk])).status_code == 404
    assert client.get(reverse("members:edit", args=[member.pk])).status_code == 404
    client.force_login(org["mgr1"])
    assert client.get(reverse("members:detail", args=[member.pk])).status_code == 200


@pytest.mark.parametrize(
    "raw,ok",
    [
        ("11010519491231002X", True),
        ("11010519491231002x", True),  # lower-case check letter is accepted
        ("110105194912310021", False),  # wrong check digit
        ("11010519491331002X", False),  # month 13
        ("1101051949123100", False),  # too short
        ("", False),
        ("44010619840807001X", False),  # wrong check letter
        ("440106198408070013", True),  # born before 天河区 existed: still a valid ID
        ("440106209901010015", False),  # born in the future
    ],
)
def test_resident_id_validation(raw, ok):
    if ok:
        assert pd.normalize_resident_id(raw) == raw.upper()
    else:
        with pytest.raises(ValidationError):
            pd.normalize_resident_id(raw)


@given(
    st.dates(min_value=date(1940, 1, 1), max_value=date(2006, 12, 31)),
    st.sampled_from([c.Sex.MALE, c.Sex.FEMALE]),
    st.integers(0, 99),
)
@settings(max_examples=200)
def test_resident_id_facts_round_trip(birthday, sex, seq):
    number = resident_id(birthday, sex, seq=seq)
    assert pd.normalize_resident_id(number) == number
    assert pd.resident_id_facts(number) == (birthday, sex)


def test_id_fills_birthday_and_must_agree_with_sex_and_birthday(org):
    number = resident_id(date(1990, 3, 4), c.Sex.MALE)
    member = add_member(org["aa1"], sex=c.Sex.MALE, birthday=None, id_number=number)
    assert member.birthday == date(1990, 3, 4)
    assert member.id_number_masked == number[:4] + "**********" + number[-4:]
    assert pd.decrypt(member.id_number_encrypted) == number
    assert number not in member.id_number_encrypted
    with pytest.raises(ValidationError) as exc:
        add_member(
            org["aa1"], sex=c.Sex.FEMALE, id_number=resident_id(date(1991, 1, 1), c.Sex.MALE)
        )
    assert "id_number" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        add_member(
            org["aa1"],
            sex=c.Sex.MALE,
            birthday=date(1991, 1, 2),
            id_number=resident_id(date(1991, 1, 1), c.Sex.MALE, seq=5),
        )
    assert "id_number" in exc.value.message_dict
    assert Member.objects.count() == 1


def test_mobile_and_id_unique_and_masked(org):
    number = resident_id(date(1992, 6, 1), c.Sex.FEMALE)
    member = add_member(org["aa1"], mobile="13812347996", id_number=number, birthday=None)
    assert member.mobile_masked == "138****7996"
    assert "13812347996" not in member.mobile_encrypted
    with pytest.raises(ValidationError) as exc:
        add_member(org["bb1"], mobile="138 1234 7996")
    assert "mobile" in exc.value.message_dict
    with pytest.raises(ValidationError):
        add_member(org["bb1"], sex=c.Sex.FEMALE, birthday=None, id_number=number)
    with pytest.raises(ValidationError):
        add_member(org["bb1"], mobile="12345")
    assert Member.objects.count() == 1


def test_live_mobile_check(client, org):
    add_member(org["aa1"], mobile="13812347996")
    client.force_login(org["aa1"])
    url = reverse("members:check_mobile")
    assert "已" in client.get(url, {"mobile": "13812347996"}).content.decode()
    assert "可用" in client.get(url, {"mobile": "13912345678"}).content.decode()
    assert "有效" in client.get(url, {"mobile": "1234"}).content.decode()


def test_reveal_needs_permission_security_password_and_is_logged(client, org):
    member = add_member(org["aa1"], mobile="13812347996")
    url = reverse("members:reveal", args=[member.pk, "mobile"])
    client.force_login(org["aa1"])  # the matchmaker role has no reveal
    assert client.post(url, HTTP_HX_PROMPT="Secure-999").status_code == 403
    client.force_login(org["admin"])
    wrong = client.post(url, HTTP_HX_PROMPT="wrong")
    assert "13812347996" not in wrong.content.decode() and not RevealLog.objects.exists()
    response = client.post(url, HTTP_HX_PROMPT="Secure-999")
    assert response.status_code == 200 and "13812347996" in response.content.decode()
    log = RevealLog.objects.get()
    assert (log.staff, log.field, log.member) == (org["admin"], "mobile", member)
    client.force_login(org["mgr2"])  # has no reveal, and the member is outside their team
    assert client.post(url, HTTP_HX_PROMPT="Secure-999").status_code in (403, 404)


def test_every_filter(org, regions):
    today = timezone.localdate()
    a = add_member(
        org["aa1"],
        name="甲",
        sex=c.Sex.MALE,
        birthday=today.replace(year=today.year - 30),
        education=c.Education.MASTER,
        region="440106",
        email="a@x.cn",
        marital_status=c.MaritalStatus.DIVORCED,
        mobile="13812340001",
    )
    b = add_member(
        org["aa2"],
        name="乙",
        sex=c.Sex.FEMALE,
        birthday=today.replace(year=today.year - 25),
        education=c.Education.BACHELOR,
        region="310101",
        sales_stage=c.SalesStage.SIGNED,
        service_status=c.ServiceStatus.IN_SERVICE,
    )
    Member.objects.filter(pk=b.pk).update(registered_at=timezone.now() - timedelta(days=100))

    def names(**filters):
        return {m.name for m in selectors.member_list(viewer=org["admin"], filters=filters)}

    assert names(member_id=a.pk) == {"甲"}
    assert names(username=a.username[:5]) == {"甲", "乙"} & names(username=a.username[:5])
    assert names(mobile="13812340001") == {"甲"}
    assert names(mobile="138-1234-0001") == {"甲"}
    assert names(mobile="bogus") == set()
    assert names(email="A@x.cn") == {"甲"}
    assert names(sex=c.Sex.FEMALE) == {"乙"}
    assert names(age_min=28, age_max=35) == {"甲"}
    assert names(age_min=25, age_max=25) == {"乙"}
    assert names(education=c.Education.MASTER) == {"甲"}
    assert names(education=c.Education.BACHELOR) == {"甲", "乙"}
    assert names(marital_status=c.MaritalStatus.DIVORCED) == {"甲"}
    assert names(region="440000") == {"甲"}
    assert names(region="440100") == {"甲"}
    assert names(region="310000") == {"乙"}
    assert names(window="1m") == {"甲"}
    assert names(window="6m") == {"甲", "乙"}
    assert names(registered_to=today - timedelta(days=50)) == {"乙"}
    assert names(registered_from=today - timedelta(days=5)) == {"甲"}
    assert names(owner=org["aa2"]) == {"乙"}
    assert names(sales_stage=c.SalesStage.SIGNED) == {"乙"}
    assert names(service_status=c.ServiceStatus.IN_SERVICE) == {"乙"}


def test_list_view_filters_and_paginates(client, org, regions):
    for i in range(3):
        add_member(org["aa1"], name=f"列表{i}")
    client.force_login(org["mgr1"])
    response = client.get(reverse("members:list"), {"name": "列表1"})
    assert response.status_code == 200
    assert [m.name for m in response.context["rows"]] == ["列表1"]
    response = client.get(reverse("members:list"), {"age_min": 40, "age_max": 30})
    assert response.context["filter_form"].errors


def test_allocation_refused_without_permission_or_outside_team(org):
    pool_member = add_member(org["aa1"])
    Member.objects.filter(pk=pool_member.pk).update(presales_owner=None)
    pool_member.refresh_from_db()
    with pytest.raises(PermissionDenied):  # matchmakers may not allocate
        services.members_allocate(actor=org["aa1"], members=[pool_member], to=org["aa2"])
    allocator = role_with("members.view", "members.allocate", "staff.view")
    org["mgr1"].role = allocator
    org["mgr1"].save()
    with pytest.raises(ValidationError):  # bb1 is in the peer manager's team
        services.members_allocate(actor=org["mgr1"], members=[pool_member], to=org["bb1"])
    other = add_member(org["bb1"])  # a member of the peer team
    with pytest.raises(PermissionDenied):
        services.members_allocate(actor=org["mgr1"], members=[pool_member, other], to=org["aa2"])
    pool_member.refresh_from_db()
    assert pool_member.presales_owner is None  # all or nothing
    assert (
        services.members_allocate(
            actor=org["mgr1"], members=[pool_member], to=org["aa2"], remark="新资源"
        )
        == 1
    )
    pool_member.refresh_from_db()
    assert pool_member.presales_owner == org["aa2"] and pool_member.allocated_at
    record = Allocation.objects.get(member=pool_member, by=org["mgr1"])
    assert (record.from_staff, record.to_staff, record.by, record.remark) == (
        None,
        org["aa2"],
        org["mgr1"],
        "新资源",
    )


def test_pools_and_windows(org):
    allocator = role_with("members.view", "members.allocate", "staff.view")
    org["mgr1"].role = allocator
    org["mgr1"].save()
    unsigned = add_member(org["aa1"], name="未成交")
    signed = add_member(org["aa1"], name="已成交", sales_stage=c.SalesStage.SIGNED)
    abandoned = add_member(org["aa1"], name="已放弃", sales_stage=c.SalesStage.ABANDONED)
    elsewhere = add_member(org["bb1"], name="别店", store=org["store_b"])
    Member.objects.filter(pk__in=[unsigned.pk, elsewhere.pk]).update(presales_owner=None)
    Member.objects.filter(pk=unsigned.pk).update(registered_at=timezone.now() - timedelta(days=40))

    def pool(name, **filters):
        return {
            m.name for m in selectors.pool_members(viewer=org["mgr1"], pool=name, filters=filters)
        }

    assert pool("unsigned") == {"未成交"}  # 别店 belongs to another store
    assert pool("signed") == {"已成交"}
    assert pool("abandoned") == {"已放弃"}
    assert pool("unsigned", window="1m") == set()
    assert pool("unsigned", window="3m") == {"未成交"}
    assert {m.name for m in selectors.pool_members(viewer=org["admin"], pool="unsigned")} == {
        "未成交",
        "别店",
    }
    assert not selectors.pool_members(viewer=org["aa1"], pool="unsigned").exists()
    assert signed.pk and abandoned.pk


def test_allocate_view_assigns_several_and_reallocate_lists_them(client, org):
    members = [add_member(org["aa1"], name=f"批量{i}") for i in range(3)]
    Member.objects.filter(pk__in=[m.pk for m in members]).update(presales_owner=None)
    client.force_login(org["admin"])
    page = client.get(reverse("members:pools"))
    assert {m.name for m in page.context["rows"]} >= {"批量0", "批量1", "批量2"}
    response = client.post(
        reverse("members:allocate"),
        {
            "members": [m.pk for m in members[:2]],
            "to": org["aa2"].pk,
            "remark": "批量分配",
            "next": reverse("members:pools"),
        },
    )
    assert response.status_code == 302
    assert set(Member.objects.filter(presales_owner=org["aa2"]).values_list("name", flat=True)) == {
        "批量0",
        "批量1",
    }
    page = client.get(reverse("members:reallocate"), {"group": "not_followed"})
    assert {"批量0", "批量1"} <= {m.name for m in page.context["rows"]}
    # Reallocate one of them to bb1 (another team; the admin sees everyone).
    client.post(reverse("members:allocate"), {"members": [members[0].pk], "to": org["bb1"].pk})
    members[0].refresh_from_db()
    assert members[0].presales_owner == org["bb1"]
    history = list(
        members[0].allocations.values_list(
            "from_staff__username", "to_staff__username", "by__username"
        )
    )
    # Newest first: admin moved it aa2 → bb1, admin gave it from the pool to aa2, and at the
    # start aa1 entered it (and owned it until the test emptied the owner).
    assert history == [("aa2", "bb1", "admin"), (None, "aa2", "admin"), (None, "aa1", "aa1")]


def test_member_form_create_and_edit_through_views(client, org, regions):
    client.force_login(org["aa1"])
    number = resident_id(date(1993, 8, 8), c.Sex.FEMALE)
    data = {
        "username": "xiaomei",
        "name": "小美",
        "mobile": "13912345678",
        "id_type": "resident_id",
        "id_number": number,
        "sex": c.Sex.FEMALE,
        "region_province": "440000",
        "region_city": "440100",
        "region_county": "440106",
        "height": 165,
        "marital_status": "single",
        "education": c.Education.MASTER,
        "hobbies": ["travel"],
        "older_brothers": 0,
        "older_sisters": 0,
        "younger_brothers": 1,
        "younger_sisters": 0,
        "pref-age_min": 28,
        "pref-age_max": 35,
        "pref-age_must": "on",
        "pref-age_importance": 3,
        "pref-marital": ["single"],
        "pref-education_min": c.Education.BACHELOR,
        "pref-height_importance": 1,
        "pref-weight_importance": 1,
        "pref-children_importance": 1,
        "pref-education_importance": 2,
        "pref-income_importance": 1,
        "pref-car_importance": 0,
        "pref-house_importance": 1,
        "pref-marital_importance": 1,
        "pref-region_importance": 1,
    }
    response = client.post(reverse("members:create"), data)
    assert response.status_code == 302, response.context["form"].errors
    member = Member.objects.get(username="xiaomei")
    assert member.presales_owner == org["aa1"] and member.birthday == date(1993, 8, 8)
    assert member.preference.age_must and member.preference.age_max == 35
    assert member.hobbies == ["travel"] and member.region == "440106"
    # Edit with an empty mobile keeps it; a bad range is refused and nothing changes.
    bad = {**data, "mobile": "", "id_number": "", "name": "改名", "pref-age_min": 40}
    response = client.post(reverse("members:edit", args=[member.pk]), bad)
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.name == "小美"
    good = {**data, "mobile": "", "id_number": "", "name": "改名"}
    assert client.post(reverse("members:edit", args=[member.pk]), good).status_code == 302
    member.refresh_from_db()
    assert member.name == "改名" and member.mobile_masked == "139****5678"
    assert member.history.count() >= 2
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "139****5678" in page and "13912345678" not in page


def test_matchmaker_cannot_see_staff_only_pools(client, org):
    client.force_login(org["aa1"])
    assert client.get(reverse("members:pools")).status_code == 403
    assert client.post(reverse("members:allocate"), {}).status_code == 403


def test_store_scope_role_sees_store_members(org):
    add_member(org["aa1"], name="A店会员")
    add_member(org["bb1"], name="B店会员", store=org["store_b"])
    store_viewer = StaffFactory(
        role=role_with("members.view", scope="store"), store=org["store_b"], supervisor=org["admin"]
    )
    assert visible_names(store_viewer) == {"B店会员"}


def test_photos_upload_review_avatar_delete(client, org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from hongniang.staff.tests.test_staff_views import png_bytes

    member = add_member(org["aa1"])
    client.force_login(org["aa1"])
    url = reverse("members:photo_add", args=[member.pk])
    client.post(url, {"image": SimpleUploadedFile("a.png", png_bytes(), "image/png")})
    client.post(url, {"image": SimpleUploadedFile("b.png", png_bytes(), "image/png")})
    client.post(url, {"image": SimpleUploadedFile("c.png", b"not an image", "image/png")})
    first, second = member.photos.order_by("pk")
    assert member.photos.count() == 2
    assert first.is_avatar and first.status == c.PhotoStatus.PENDING
    # The matchmaker's role cannot approve; the administrator can.
    review = reverse("members:photo_review", args=[member.pk, first.pk])
    assert client.post(review, {"decision": "approve"}).status_code == 403
    client.force_login(org["admin"])
    client.post(review, {"decision": "approve"})
    first.refresh_from_db()
    assert first.status == c.PhotoStatus.APPROVED and first.reviewed_by == org["admin"]
    client.post(reverse("members:photo_avatar", args=[member.pk, second.pk]))
    assert list(member.photos.filter(is_avatar=True)) == [second]
    client.post(reverse("members:photo_delete", args=[member.pk, second.pk]))
    assert list(member.photos.values_list("pk", "is_avatar")) == [(first.pk, True)]
    # Another team's manager cannot touch them.
    client.force_login(org["mgr2"])
    assert (
        client.post(reverse("members:photo_delete", args=[member.pk, first.pk])).status_code == 404
    )


def test_live_id_number_check(client, org):
    number = resident_id(date(1990, 3, 4), c.Sex.MALE)
    client.force_login(org["aa1"])
    url = reverse("members:check_id_number")
    page = client.get(url, {"id_number": number}).content.decode()
    assert "1990-03-04" in page and "text-success" in page
    add_member(org["aa1"], sex=c.Sex.MALE, birthday=None, id_number=number)
    assert "已" in client.get(url, {"id_number": number}).content.decode()
    assert "text-danger" in client.get(
        url, {"id_number": number[:-1] + "0"}
    ).content.decode() or number.endswith("0")
    assert client.get(url, {"id_number": "x", "id_type": "passport"}).content == b""
