"""The match library shows a score that follows from the parts it shows (issue 8)."""

import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from hongniang.members import choices as c
from hongniang.members.tests.helpers import add_member
from hongniang.staff.tests.factories import role_with

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def library(org, client):
    """A woman with few wishes and twelve men who all suit her fully: a pile of equal fits."""
    for key in ("aa1", "bb1"):
        org[key].role = role_with(
            "members.view", "members.add", "members.edit", "matching.view", "matching.edit"
        )
        org[key].save()
    her = add_member(
        org["aa1"],
        name="她",
        sex=c.Sex.FEMALE,
        birthday=date(1995, 1, 1),
        service_status=c.ServiceStatus.IN_SERVICE,
        sales_stage=c.SalesStage.SIGNED,
        hobbies=["travel", "photography"],
        personality=["diligent"],
        about="我们怎么说呢，可是喜欢摄影和旅游",
        preference={"age_min": 25, "age_max": 45},
    )
    year = timezone.localdate().year
    for i in range(12):
        add_member(
            org["bb1"],
            name=f"他{i}",
            sex=c.Sex.MALE,
            height=170 + i,
            birthday=date(year - 30 - i % 4, 3, 1),
            service_status=c.ServiceStatus.IN_SERVICE,
            sales_stage=c.SalesStage.SIGNED,
            hobbies=["travel"] if i % 2 else ["outdoors"],
            personality=["diligent"] if i % 3 == 0 else [],
            about="可是怎么说，爱摄影" if i % 4 == 0 else "",
        )
    client.force_login(org["aa1"])
    return client.get(reverse("matching:library", args=[her.pk]))


def _number(text: str) -> float:
    return float(text.strip())


def test_every_card_states_a_total_that_its_parts_add_up_to(library):
    assert library.status_code == 200
    page = library.content.decode()
    cards = page.split('data-candidate="')[1:]
    assert len(cards) == 12
    for card in cards:
        shown = _number(re.search(r"data-score>([^<]+)<", card).group(1))
        line = re.search(r"data-score-line>(.*?)</div>", card, re.S).group(1)
        total = _number(re.search(r"data-total>([^<]+)<", line).group(1))
        parts = [_number(v) for v in re.findall(r'data-part="\w+">([^<]+)<', line)]
        assert shown == total
        assert round(sum(parts), 1) == total
        assert "情缘匹配值" in line and "双向合计" in line and "× 80%" in line


def test_equal_scores_are_ordered_by_the_documented_tie_breaker(library):
    results = [cand.result for cand in library.context["candidates"]]
    keys = [
        (-round(r.score, 1), -round(min(r.fit_a_to_b, r.fit_b_to_a), 3), r.candidate_id)
        for r in results
    ]
    assert keys == sorted(keys)


def test_explanations_show_labels_and_no_stop_words(library):
    page = library.content.decode()
    texts = re.findall(r"兴趣与自我介绍相近[^<]*", page)
    assert texts, "some candidates share interests with her"
    joined = " ".join(texts)
    assert "旅游" in joined or "户外" in joined or "踏实" in joined
    for noise in ("travel", "outdoors", "diligent", "怎么", "可是", "我们"):
        assert noise not in joined
