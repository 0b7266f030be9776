"""The contract list searched by a member's name: the rows are the viewer's contracts whose
member's name holds the text, each linked to the contract and (for the viewer's own members) to
the member, in a number of queries that does not grow with the rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hongniang.finance import services
from hongniang.finance.tests.helpers import approve, draft, effective, finance_crew
from hongniang.members.tests.helpers import add_member
from hongniang.siteconfig.models import SiteSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    crew = finance_crew(org)
    site = SiteSettings.load()
    site.crm_page_size = 100
    site.save()
    theirs = add_member(crew["bb1"], name="王外店", store=crew["store_b"])
    other = draft(crew["bb1"], theirs)
    services.contract_submit(actor=crew["bb1"], contract=other)
    approve(crew["fin"], other)
    effective(crew, add_member(crew["aa1"], name="李不相干"))
    return crew


def _sign(crew, n, start):
    return [effective(crew, add_member(crew["aa1"], name=f"王{start + i}号")) for i in range(n)]


@pytest.mark.parametrize("who", ["aa1", "fin"])
def test_searching_by_name_lists_the_viewers_matches_in_fixed_queries(client, crew, who):
    client.force_login(crew[who])

    def search():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("finance:contracts"), {"q": "王"})
        assert response.status_code == 200
        return response, len(ctx.captured_queries)

    signed = _sign(crew, 2, 0)
    search()  # the first request fills the per-process caches
    _response, few = search()
    signed += _sign(crew, 6, 2)
    response, many = search()
    assert many == few
    shown = {c.number for c, _m in response.context["rows"]}
    expected = {k.number for k in signed}
    if who == "fin":  # finance sees every store's contracts
        assert shown - expected and all(n.startswith("HT") for n in shown)
    else:
        assert shown == expected
    html = response.content.decode()
    for contract in signed:
        assert f'href="{reverse("finance:contract", args=[contract.pk])}"' in html
        assert f'href="{reverse("members:detail", args=[contract.member_id])}"' in html
        assert f"{contract.service_start:%Y-%m-%d} ~ {contract.service_end:%Y-%m-%d}" in html
    assert "李不相干" not in html
