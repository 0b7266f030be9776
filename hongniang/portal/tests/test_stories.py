"""Success stories (whitepaper 2.5.8): staff write them with both members' consent; the public
site lists published ones with filters."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from hongniang.members.tests.helpers import add_member
from hongniang.portal.models import StoryPhoto, SuccessStory
from hongniang.staff.tests.factories import StaffFactory, role_with
from hongniang.staff.visibility import DataScope

from .test_site import PNG


@pytest.fixture
def story_role(db):
    return role_with(
        "members.view",
        "aftersales.view",
        "aftersales.add",
        "aftersales.edit",
        "aftersales.delete",
        name="售后主管",
        scope=DataScope.STORE,
    )


@pytest.fixture
def writer(org, story_role):
    """An after-sales lead of store A: sees its members, not store B's."""
    return StaffFactory(
        username="writer", role=story_role, store=org["store_a"], supervisor=org["mgr1"]
    )


@pytest.fixture
def couple(org):
    own = add_member(org["aa1"], sex="F", name="王小红", presales_owner=org["aa1"])
    other = add_member(org["bb1"], sex="M", name="李大明", presales_owner=org["bb1"])
    return own, other


def _post(client, couple, **overrides):
    own, other = couple
    today = timezone.localdate()
    data = {
        "title": "相识一年，携手走进婚姻",
        "member_a_uid": own.pk,
        "consent_a": "on",
        "consent_a_on": (today - timedelta(days=3)).isoformat(),
        "member_b_uid": other.pk,
        "consent_b": "on",
        "consent_b_on": (today - timedelta(days=2)).isoformat(),
        "happened_on": "2026-05-20",
        "text": "第一次见面是在红娘安排的茶室。",
        "published": "on",
        "photo": SimpleUploadedFile("us.png", PNG, content_type="image/png"),
    }
    data.update(overrides)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(reverse("portal:story_create"), data)


def test_staff_write_a_story_with_both_consents_and_it_is_published(client, writer, couple):
    client.force_login(writer)
    response = _post(client, couple)
    assert response.status_code == 302, response.context["form"].errors
    story = SuccessStory.objects.get()
    assert (story.member_a, story.member_b) == couple
    assert story.consent_a_by == writer and story.consent_b_by == writer
    assert story.consent_a_on and story.consent_b_on
    assert story.created_by == writer and story.store == couple[0].store
    photo = StoryPhoto.objects.get(story=story)
    # The public site shows it, with its photo, and without the members' names.
    page = client.get(reverse("portal:site_story", args=[story.pk])).content.decode()
    assert "相识一年" in page and "王小红" not in page and "李大明" not in page
    image = client.get(reverse("portal:site_story_photo", args=[story.pk, photo.pk]))
    assert image.status_code == 200
    listing = client.get(reverse("portal:site_stories")).content.decode()
    assert reverse("portal:site_story", args=[story.pk]) in listing
    # The staff list shows the other team's member masked (presenter), our own by name.
    staff_list = client.get(reverse("portal:stories_manage")).content.decode()
    assert "王小红" in staff_list and "李**" in staff_list and "李大明" not in staff_list


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"consent_a": None}, "consent_a"),
        ({"consent_b": None}, "consent_b"),
        ({"consent_b_on": ""}, "consent_b_on"),
        ({"consent_a_on": (date.today() + timedelta(days=5)).isoformat()}, "consent_a_on"),  # noqa: DTZ011
        ({"member_b_uid": "999999"}, "member_b_uid"),
        ({"happened_on": "20-05-2026"}, "happened_on"),
        (
            {"photo": SimpleUploadedFile("x.png", b"not an image", content_type="image/png")},
            "photo",
        ),
    ],
)
def test_a_story_without_consent_or_with_bad_input_is_refused(
    client, writer, couple, overrides, field_error
):
    client.force_login(writer)
    response = _post(client, couple, **overrides)
    assert response.status_code == 200
    assert field_error in response.context["form"].errors
    assert not SuccessStory.objects.exists() and not StoryPhoto.objects.exists()


def test_the_same_member_twice_is_refused(client, writer, couple):
    client.force_login(writer)
    response = _post(client, couple, member_b_uid=couple[0].pk)
    assert response.status_code == 200 and "两位不同的会员" in response.content.decode()
    assert not SuccessStory.objects.exists()


def test_one_of_the_members_must_be_ones_own(client, writer, couple, org):
    client.force_login(writer)
    stranger = add_member(org["bb1"], sex="F", presales_owner=org["bb1"])
    response = _post(client, couple, member_a_uid=stranger.pk)
    assert response.status_code == 200
    assert "member_a_uid" in response.context["form"].errors
    assert not SuccessStory.objects.exists()


def _story(couple, by, published=True):
    own, other = couple
    return SuccessStory.objects.create(
        title="慢慢来，比较快",
        member_a=own,
        member_b=other,
        consent_a_on=date(2026, 1, 1),
        consent_a_by=by,
        consent_b_on=date(2026, 1, 1),
        consent_b_by=by,
        text="……",
        happened_on=date(2025, 5, 20),
        store=own.store,
        published=published,
    )


def test_rights_and_visibility(client, org, writer, couple):
    story = _story(couple, writer)
    urls = [
        reverse("portal:stories_manage"),
        reverse("portal:story_create"),
        reverse("portal:story_edit", args=[story.pk]),
        reverse("portal:story_delete", args=[story.pk]),
    ]
    # No after-sales rights: 403 everywhere.
    viewer = StaffFactory(
        username="viewer", role=role_with("members.view", name="只读"), store=org["store_a"]
    )
    client.force_login(viewer)
    assert [client.get(u).status_code for u in urls] == [403, 403, 403, 403]
    # May view only: the list, but not write, edit or delete.
    reader = StaffFactory(
        username="reader",
        role=role_with("members.view", "aftersales.view", name="售后只读"),
        store=org["store_a"],
        supervisor=org["mgr1"],
    )
    client.force_login(reader)
    assert [client.get(u).status_code for u in urls] == [200, 403, 403, 403]
    # A story of members one cannot see answers 404, like a missing one.
    own_team_only = role_with(
        "members.view",
        "aftersales.view",
        "aftersales.edit",
        "aftersales.delete",
        name="售后红娘",
    )
    outsider = StaffFactory(
        username="outsider", role=own_team_only, store=org["store_b"], supervisor=org["mgr2"]
    )
    client.force_login(outsider)
    assert client.get(urls[2]).status_code == 404
    assert client.post(urls[3]).status_code == 404
    assert SuccessStory.objects.filter(pk=story.pk).exists()


def test_delete_asks_first_then_deletes(client, writer, couple):
    story = _story(couple, writer)
    client.force_login(writer)
    url = reverse("portal:story_delete", args=[story.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200 and "不可撤销" in confirm.content.decode()
    assert SuccessStory.objects.filter(pk=story.pk).exists()
    assert client.post(url).status_code == 302
    assert not SuccessStory.objects.filter(pk=story.pk).exists()


def test_unpublished_stories_stay_off_the_public_site(client, writer, couple):
    story = _story(couple, writer, published=False)
    photo = StoryPhoto(story=story)
    photo.image.save("a.png", SimpleUploadedFile("a.png", PNG), save=False)
    photo.save()
    assert client.get(reverse("portal:site_story", args=[story.pk])).status_code == 404
    url = reverse("portal:site_story_photo", args=[story.pk, photo.pk])
    assert client.get(url).status_code == 404
    listing = client.get(reverse("portal:site_stories")).content.decode()
    assert reverse("portal:site_story", args=[story.pk]) not in listing
    # Staff who see the couple see the photo in the workbench.
    client.force_login(writer)
    staff_url = reverse("portal:story_photo_staff", args=[story.pk, photo.pk])
    assert client.get(staff_url).status_code == 200


def test_public_list_filters_by_year_and_store(client, writer, couple, org):
    first = _story(couple, writer)
    second = _story(couple, writer)
    SuccessStory.objects.filter(pk=second.pk).update(happened_on=date(2024, 2, 1), store=None)
    page = client.get(reverse("portal:site_stories"), {"year": 2024})
    assert [s.pk for s in page.context["page"].stories] == [second.pk]
    page = client.get(reverse("portal:site_stories"), {"store": first.store_id})
    assert [s.pk for s in page.context["page"].stories] == [first.pk]
    bad = client.get(reverse("portal:site_stories"), {"year": "abc", "page": "zz"})
    assert bad.status_code == 200 and len(bad.context["page"].stories) == 2


def test_each_user_sees_the_stories_of_couples_with_a_member_they_see(org, writer):
    """`stories_visible_to` (each story's members looked up by key) lists exactly the stories
    with at least one member the user sees, for every kind of viewer."""
    from hongniang.members.models import Member
    from hongniang.portal.site_services import stories_visible_to

    owners = [org["aa1"], org["aa2"], org["bb1"]]
    members = [
        add_member(owner, sex=sex, name=f"会员{i}{sex}", presales_owner=owner)
        for i, owner in enumerate(owners)
        for sex in ("F", "M")
    ]
    women = [m for m in members if m.sex == "F"]
    men = [m for m in members if m.sex == "M"]
    for i, (a, b) in enumerate((a, b) for a in women for b in men):
        SuccessStory.objects.create(
            title=f"故事{i}",
            member_a=a,
            member_b=b,
            happened_on=date(2026, 5, i + 1),
            text=".",
            consent_a_on=date(2026, 5, 1),
            consent_b_on=date(2026, 5, 1),
            consent_a_by=writer,
            consent_b_by=writer,
        )
    for viewer in [*org.values(), writer]:
        if not hasattr(viewer, "username"):
            continue
        seen = set(Member.objects.visible_to(viewer).values_list("pk", flat=True))
        expected = {
            s.pk
            for s in SuccessStory.objects.all()
            if s.member_a_id in seen or s.member_b_id in seen
        }
        got = set(stories_visible_to(viewer).values_list("pk", flat=True))
        assert got == expected, viewer.username
    assert set(stories_visible_to(org["bb1"]).values_list("pk", flat=True)) != set(
        SuccessStory.objects.values_list("pk", flat=True)
    )
