"""The member form's remembered widget renders (issue 9): the same HTML as a fresh render,
per member value and language, and a new rendering once the region table changed."""

import json
import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from hongniang.members import choices as c
from hongniang.members import rendercache
from hongniang.members.forms import MemberForm
from hongniang.members.regions import Region, sync_regions
from hongniang.members.tests.helpers import add_member


def _without_token(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", html)


def _fresh(form) -> dict[str, str]:
    rendercache.clear()
    return {name: str(form[name]) for name in form.fields}


@pytest.mark.django_db
def test_remembered_render_is_the_fresh_render(org, regions):
    member = add_member(org["aa1"], education=c.Education.MASTER, region="440106")
    form = MemberForm(instance=member, viewer=org["admin"])
    fresh = _fresh(form)
    remembered = {name: str(form[name]) for name in form.fields}
    assert remembered == fresh
    assert 'value="440106" selected' in fresh["region"]
    assert f'value="{c.Education.MASTER.value}" selected' in fresh["education"]


@pytest.mark.django_db
def test_each_member_sees_their_own_values(client, org, regions):
    one = add_member(org["aa1"], education=c.Education.MASTER, region="440106")
    two = add_member(org["aa1"], education=c.Education.BACHELOR, region="110101")
    client.force_login(org["admin"])
    pages = {}
    for member in (one, two, one):
        html = client.get(reverse("members:edit", args=[member.pk])).content.decode()
        pages.setdefault(member.pk, []).append(html)
    first, second = pages[one.pk][0], pages[two.pk][0]
    assert 'value="440106" selected' in first and 'value="110101" selected' in second
    assert 'value="110101" selected' not in first
    assert f'value="{c.Education.BACHELOR.value}" selected' in second
    # The same member's page again: the same form (only the CSRF token differs).
    assert _without_token(pages[one.pk][0]) == _without_token(pages[one.pk][1])


@pytest.mark.django_db
def test_switching_language_renders_the_labels_again(org, regions):
    member = add_member(org["aa1"], marital_status=c.MaritalStatus.DIVORCED)
    with translation.override("zh-hans"):
        chinese = str(MemberForm(instance=member, viewer=org["admin"])["marital_status"])
    with translation.override("en"):
        english = str(MemberForm(instance=member, viewer=org["admin"])["marital_status"])
    assert "离异" in chinese and "Divorced" in english
    assert "离异" not in english


@pytest.mark.django_db
def test_region_table_change_renders_the_cascade_again(org, regions, tmp_path):
    member = add_member(org["aa1"], region="440106", birthday=date(1995, 5, 20))
    before = str(MemberForm(instance=member, viewer=org["admin"])["region"])
    assert Region.objects.get(code="440106").name in before
    # A newer edition of the table renames a district.
    edition = tmp_path / "pca-code.json"
    edition.write_text(
        json.dumps(
            [
                {
                    "code": "44",
                    "name": "广东省",
                    "children": [
                        {
                            "code": "4401",
                            "name": "广州市",
                            "children": [{"code": "440106", "name": "天河新区"}],
                        }
                    ],
                }
            ]
        ),
        encoding="utf-8",
    )
    assert sync_regions(edition).updated == 1
    after = str(MemberForm(instance=member, viewer=org["admin"])["region"])
    assert "天河新区" in after and after != before
