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
    since = today - timedelta(days=3)  # the job last ran before it entered the 7-day window
    assert services.renewal_reminders_notify(today=today, since=since) == 1
    for who in ("aa1", "aa2", "mgr1"):  # signer, after-sales matchmaker, their manager
        (text, link), *rest = notices(crew[who])
        assert not rest and contract.number in text and "续费会员" in text, who
    assert notices(crew["aa1"])[0][1] == reverse("finance:contract", args=[contract.pk])
    # The manager of this org has no finance right: the notice opens the member's page.
    assert notices(crew["mgr1"])[0][1] == reverse("members:detail", args=[contract.member_id])
    assert notices(crew["fin"]) == [] and notices(crew["bb1"]) == []
    assert services.renewal_reminders_notify(today=today, since=since) == 0  # once
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


def test_a_run_reminds_only_of_contracts_that_entered_a_window_since_the_last_run(crew):
    today = timezone.localdate()
    entering = ending_in(crew, 7, name="今天进入")  # 7 days left from today
    ending_in(crew, 5, name="积压")  # in the window for two days already: the backlog
    ended = effective(
        crew,
        add_member(crew["aa1"], name="昨天到期"),
        service_start=today - timedelta(days=366),
        service_end=today - timedelta(days=1),
    )
    effective(
        crew,
        add_member(crew["aa1"], name="早已到期"),
        service_start=today - timedelta(days=370),
        service_end=today - timedelta(days=6),
    )
    # A first run (no last run): the last day only.
    assert services.renewal_reminders_notify(today=today) == 2
    texts = " ".join(text for text, _link in notices(crew["aa1"]))
    assert entering.number in texts and ended.number in texts
    assert "积压" not in texts and "早已到期" not in texts
    # Last run a week ago: what entered since then, once.
    week_ago = today - timedelta(days=7)
    assert services.renewal_reminders_notify(today=today, since=week_ago) == 2
    assert len(notices(crew["aa1"])) == 4


def test_the_job_starts_from_its_last_successful_run(crew):
    from hongniang.finance.tasks import renewal_reminders
    from hongniang.jobs.models import Job, JobKind, JobState
    from hongniang.jobs.services import job_start

    ending_in(crew, 5, name="积压")
    job = job_start(actor=None, kind=JobKind.NIGHTLY, title="renewal", work_task=renewal_reminders)
    job.refresh_from_db()
    assert (job.state, job.result["summary"]) == (JobState.SUCCEEDED, "已提醒 0 份合同。")
    # The previous run was a week ago: the contract entered its window since then.
    Job.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(days=7))
    second = job_start(
        actor=None, kind=JobKind.NIGHTLY, title="renewal", work_task=renewal_reminders
    )
    second.refresh_from_db()
    assert second.state == JobState.SUCCEEDED
    assert len(notices(crew["aa1"])) == 1
