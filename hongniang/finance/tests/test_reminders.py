"""Renewal reminders as notices: seven days before a contract ends, and once it has expired
without renewal, to the signer, the after-sales matchmaker and their managers; once each."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hongniang.finance import services
from hongniang.finance.tests.helpers import draft, effective, finance_crew
from hongniang.jobs.periodic import registered
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.messaging.models import Notice

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    return finance_crew(org)


def ending_in(crew, days, name="续费会员"):
    member = add_member(crew["aa1"], name=name)
    end = timezone.localdate() + timedelta(days=days)
    return effective(crew, member, service_start=end - timedelta(days=365), service_end=end)


def notices(user):
    return list(Notice.objects.filter(recipient=user).values_list("text", "link"))


def test_reminded_once_before_the_end_and_once_after_it(crew):
    contract = ending_in(crew, 5)
    Member.objects.filter(pk=contract.member_id).update(aftersales_owner=crew["aa2"])
    ending_in(crew, 20, name="还早")  # not yet
    today = timezone.localdate()
    assert services.renewal_reminders_notify(today=today) == 1
    for who in ("aa1", "aa2", "mgr1"):  # signer, after-sales matchmaker, their manager
        (text, link), *rest = notices(crew[who])
        assert not rest and contract.number in text and "续费会员" in text, who
    assert notices(crew["aa1"])[0][1] == reverse("finance:contract", args=[contract.pk])
    # The manager of this org has no finance right: the notice opens the member's page.
    assert notices(crew["mgr1"])[0][1] == reverse("members:detail", args=[contract.member_id])
    assert notices(crew["fin"]) == [] and notices(crew["bb1"]) == []
    assert services.renewal_reminders_notify(today=today) == 0  # once
    # After the end, not renewed: reminded again, once.
    later = contract.service_end + timedelta(days=1)
    assert services.renewal_reminders_notify(today=later) == 1
    assert len(notices(crew["aa1"])) == 2
    assert services.renewal_reminders_notify(today=later + timedelta(days=1)) == 0


def test_a_renewed_contract_is_not_reminded_after_its_end(crew):
    contract = ending_in(crew, 3)
    draft(crew["aa1"], contract.member, renewal_of=contract)
    after = contract.service_end + timedelta(days=2)
    assert services.renewal_reminders_notify(today=after) == 0
    assert not Notice.objects.exists()


def test_the_daily_job_is_declared():
    entry = registered()["renewal_reminders"]
    assert entry.at is not None and entry.every is None
