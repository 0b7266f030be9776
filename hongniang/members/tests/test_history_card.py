"""The member page's timeline speaks the reader's language, and 修改记录 shows what changed."""

from datetime import date

import pytest
from django.urls import reverse

from hongniang.members.forms import MemberForm, PreferenceForm
from hongniang.members.models import EventKind, MemberEvent
from hongniang.members.tests.helpers import add_member

pytestmark = pytest.mark.django_db


def edit(client, member, **changes):
    """Post the edit form as the page shows it, with some fields changed."""
    member.refresh_from_db()
    form = MemberForm(instance=member)
    pref = PreferenceForm(instance=member.preference)
    data = {}
    for bound in [*form, *pref]:
        value = bound.value()
        if value is None:
            continue
        shown = value if isinstance(value, list) else bound.field.widget.format_value(value)
        if bound.widget_type == "regionselect":
            data[bound.html_name] = value
        elif isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
        else:
            data[bound.html_name] = "" if shown is None else shown
    data["mobile"] = ""
    data.update(changes)
    response = client.post(reverse("members:edit", args=[member.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    return response


def test_reveal_shows_the_field_label_not_its_key(client, org):
    member = add_member(org["aa1"], mobile="13812347996")
    client.force_login(org["admin"])
    client.post(
        reverse("members:reveal", args=[member.pk, "mobile"]),
        {"security_password": "Secure-999"},
    )
    # An event written before the fix, with the raw key as its summary.
    MemberEvent.objects.create(
        member=member,
        actor=org["admin"],
        kind=EventKind.REVEALED,
        summary="mobile",
        data={"field": "id_number"},
    )
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "查看个人信息</strong>: 手机" in page
    assert "查看个人信息</strong>: 证件号码" in page
    assert ": mobile" not in page and ": id_number" not in page


def test_change_history_shows_who_what_from_and_to(client, org, regions):
    member = add_member(org["aa1"], height=160, hobbies=["reading"], birthday=date(1990, 1, 2))
    client.force_login(org["aa1"])
    edit(client, member, height="168", hobbies=["reading", "travel"], birthday="1991-02-03")
    edit(client, member, **{"pref-age_min": "30"})
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    card = page[page.index('id="change-history"') :]
    assert org["aa1"].name in card
    for expected in ("身高", "160", "168", "1990-01-02", "1991-02-03", "兴趣爱好", "择偶要求"):
        assert expected in card, expected
    assert "读书</span> → 旅游、读书" in card


def test_change_history_card_is_not_empty_for_a_member_without_changes(client, org):
    member = add_member(org["aa1"])
    client.force_login(org["aa1"])
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert 'id="change-history"' in page  # the creation at least


def test_change_history_costs_the_same_queries_for_one_or_many_changes(client, org, regions):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    member = add_member(org["aa1"], height=160)
    client.force_login(org["admin"])
    url = reverse("members:detail", args=[member.pk])
    edit(client, member, height="161")
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for height in range(162, 175):
        edit(client, member, height=str(height), region=("440106", "440103")[height % 2])
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) <= len(one) + 2, [q["sql"] for q in many.captured_queries]
