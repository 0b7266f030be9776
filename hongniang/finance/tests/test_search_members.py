"""The finance search box's member part reads each way of naming a member through its own index
(UNION ALL) and finds exactly the members the single OR found, names the member lists' way."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.finance import selectors
from hongniang.members import choices as c
from hongniang.members import personal_data as pd
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member, resident_id

NAMES = ["林晓雨", "王芳", "王小明", "Lin Yu", "欧阳娜娜", "李X"]


def one_or(q: str) -> set[int]:
    """The member part as it was: one OR over every way."""
    cond = Q(username=q)
    if q.isdigit():
        cond |= Q(pk=int(q))
    if not q.upper().rstrip("X").isdigit():
        cond |= Q(name__icontains=q)
    for normalize, field in (
        (pd.normalize_mobile, "mobile_hash"),
        (pd.normalize_resident_id, "id_number_hash"),
        (selectors._other_id_number, "id_number_hash"),
    ):
        try:
            cond |= pd.hash_match(field, pd.lookup_hash(normalize(q)))
        except ValidationError:
            continue
    return set(Member.objects.filter(cond).values_list("pk", flat=True))


def _people(actor) -> list[Member]:
    existing = list(Member.objects.order_by("pk"))
    for i, name in enumerate(NAMES[len(existing) :], start=len(existing)):
        existing.append(
            add_member(
                actor,
                name=name,
                mobile=f"1391234{i:04d}",
                id_number=resident_id(date(1990, 1, 1 + i), c.Sex.FEMALE, seq=10 + i),
                birthday=date(1990, 1, 1 + i),
            )
        )
    return existing


def _texts(people):
    """Search texts: parts of names, user names, UIDs, mobiles, ID numbers, and noise."""
    pieces = []
    for m in people:
        pieces += [m.name, m.name[:1], m.name[1:], m.username, str(m.pk)]
        pieces += [pd.decrypt(m.mobile_encrypted), pd.decrypt(m.id_number_encrypted).lower()]
    return st.one_of(st.sampled_from(pieces), st.text(alphabet="王林1X9 y", min_size=1, max_size=4))


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_the_member_part_finds_what_one_or_found(org, data):
    people = _people(org["aa1"])
    q = data.draw(_texts(people)).strip()
    if not q:
        return
    found = set(
        Member.objects.filter(pk__in=selectors._members_matching(q)).values_list("pk", flat=True)
    )
    assert found == one_or(q), q
