"""The other ways of testing a member's visibility give exactly `visible_to`'s members:
`visible_parts` (disjoint querysets, one per owner, summed by the home page's figures),
`keyed_q` (another table's rows whose member key is visible: one IN per owner),
`key_visible_q` (the same, each row's member looked up by its key) and
`visible_among` (rows already read, tested on the owners they carry: the presenter)."""

from itertools import product

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from hongniang.members.models import EventKind, Member, MemberEvent
from hongniang.members.presenter import present_many
from hongniang.members.selectors import name_q
from hongniang.members.tests.helpers import add_member
from hongniang.staff.visibility import Unindexed

pytestmark = pytest.mark.django_db

VIEWERS = ("aa1", "aa2", "bb1", "mgr1", "mgr2", "admin")


@pytest.fixture
def every_pair_of_owners(org):
    """One member for each (pre-sales owner, after-sales owner) pair, nobody included, each
    with an event."""
    owners = [org["aa1"], org["aa2"], org["bb1"], None]
    for pre, after in product(owners, owners):
        member = add_member(org["aa1"])
        Member.objects.filter(pk=member.pk).update(presales_owner=pre, aftersales_owner=after)
        MemberEvent.objects.create(member=member, kind=EventKind.MATCHING, summary="s")
    return org


@pytest.mark.parametrize("who", VIEWERS)
def test_visible_parts_are_disjoint_and_make_up_the_visible_members(every_pair_of_owners, who):
    viewer = every_pair_of_owners[who]
    visible = set(Member.objects.visible_to(viewer).values_list("pk", flat=True))
    parts = [set(p.values_list("pk", flat=True)) for p in Member.objects.visible_parts(viewer)]
    assert set().union(*parts) == visible
    assert sum(len(p) for p in parts) == len(visible)  # no member in two parts
    assert visible  # every viewer sees some of them


@pytest.mark.parametrize("who", VIEWERS)
@pytest.mark.parametrize("unindexed", [False, True])
def test_keyed_q_picks_the_rows_of_visible_members(every_pair_of_owners, who, unindexed):
    viewer = every_pair_of_owners[who]
    visible = set(Member.objects.visible_to(viewer).values_list("pk", flat=True))
    column = Unindexed(F("member_id")) if unindexed else F("member_id")
    events = MemberEvent.objects.filter(Member.objects.keyed_q(viewer, column))
    assert set(events.values_list("member_id", flat=True)) == visible


@pytest.mark.parametrize("who", VIEWERS)
def test_key_visible_q_picks_the_rows_of_visible_members(every_pair_of_owners, who):
    viewer = every_pair_of_owners[who]
    visible = set(Member.objects.visible_to(viewer).values_list("pk", flat=True))
    events = MemberEvent.objects.filter(Member.objects.key_visible_q(viewer, "member_id"))
    assert set(events.values_list("member_id", flat=True)) == visible
    keyed = MemberEvent.objects.filter(Member.objects.keyed_q(viewer, F("member_id")))
    assert events.count() == keyed.count()  # no row counted twice


@pytest.mark.parametrize("who", VIEWERS)
def test_visible_among_rows_read_is_visible_to_without_reading_members_again(
    every_pair_of_owners, who
):
    viewer = every_pair_of_owners[who]
    visible = set(Member.objects.visible_to(viewer).values_list("pk", flat=True))
    rows = list(Member.objects.all())
    with CaptureQueriesContext(connection) as ctx:
        assert Member.objects.visible_among(viewer, rows) == visible
        views = present_many(viewer, rows)
    assert {v.pk for v in views if v.own} == visible
    assert not [q for q in ctx.captured_queries if "members_member" in q["sql"]]
    # Rows read without their owners are asked of the database, with the same answer.
    bare = list(Member.objects.only("name"))
    assert Member.objects.visible_among(viewer, bare) is None
    assert {v.pk for v in present_many(viewer, bare) if v.own} == visible
    unsaved = Member(presales_owner=viewer, aftersales_owner=viewer)
    assert not present_many(viewer, [unsaved])[0].own


def test_a_name_without_case_is_searched_as_typed_and_a_latin_one_ignoring_case(org):
    wang = add_member(org["aa1"], name="王小芳")
    ann = add_member(org["aa1"], name="Ann Li")
    found = {text: set(Member.objects.filter(name_q(text))) for text in ("王", "小芳", "ann", "LI")}
    assert found == {"王": {wang}, "小芳": {wang}, "ann": {ann}, "LI": {ann}}
    # Chinese text: a plain LIKE, no conversion of every name to upper case.
    assert "UPPER" not in str(Member.objects.filter(name_q("王")).query)
