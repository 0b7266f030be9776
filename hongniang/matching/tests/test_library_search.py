"""The match library's search box names members the member lists' way (`name_q`): a part of the
name, Latin letters in any case, or a part of the user name; only the viewer's members."""

import pytest

from hongniang.matching import selectors
from hongniang.members.tests.helpers import add_member

pytestmark = pytest.mark.django_db


def test_the_library_search_finds_members_by_part_of_the_name_or_user_name(org):
    wang = add_member(org["aa1"], name="王小芳", username="xiaofang88")
    ann = add_member(org["aa1"], name="Ann Li")
    add_member(org["bb1"], name="王别店", store=org["store_b"])

    def found(q):
        return set(selectors.library_members(viewer=org["aa1"], filters={"q": q}))

    assert found("王") == {wang}
    assert found("小芳") == {wang}
    assert found("ANN") == {ann} and found("li") == {ann}
    assert found("fang88") == {wang}
