"""The public pool (公海): release, the nightly return, claims up to the limit; allocations
waiting for acceptance, declined with a reason or expired back to the allocator."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from hongniang.jobs.models import Job
from hongniang.members import choices as c
from hongniang.members import selectors, services
from hongniang.members.models import Allocation, AllocationStatus, EventKind, Member, MemberEvent
from hongniang.members.tests.helpers import add_member
from hongniang.messaging.models import Notice
from hongniang.siteconfig.models import SiteSettings
from hongniang.staff.tests.factories import role_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    role = role_with(
        "members.view",
        "members.add",
        "members.edit",
        "presales.view",
        "presales.add",
        "aftersales.view",
    )
    for key in ("aa1", "aa2", "bb1"):
        org[key].role = role
        org[key].save()
    org["mgr1"].role.grants = [*org["mgr1"].role.grants, "presales.add"]
    org["mgr1"].role.save()
    return org


def settings(**values):
    site = SiteSettings.load()
    for k, v in values.items():
        setattr(site, k, v)
    site.save()


def test_release_puts_the_member_in_the_public_pool_of_the_store(crew):
    member = add_member(crew["aa1"], name="放手")
    services.member_release(actor=crew["aa1"], member=member, reason="联系不上")
    member.refresh_from_db()
    assert member.presales_owner is None and member.public_pool_at is not None
    assert MemberEvent.objects.filter(member=member, kind=EventKind.POOL).exists()
    assert member in selectors.public_pool_members(viewer=crew["aa2"])
    assert member not in selectors.public_pool_members(viewer=crew["bb1"])  # another store
    assert not Member.objects.visible_to(crew["aa1"]).filter(pk=member.pk).exists()


def test_only_the_owner_or_an_allocator_releases_an_unsigned_member(crew):
    member = add_member(crew["aa1"])
    with pytest.raises(PermissionDenied):
        services.member_release(actor=crew["bb1"], member=member)
    Member.objects.filter(pk=member.pk).update(sales_stage=c.SalesStage.SIGNED)
    with pytest.raises(ValidationError):
        services.member_release(actor=crew["aa1"], member=member)


def test_claims_stop_at_the_limit_all_or_nothing(crew):
    settings(pool_claim_limit=2)
    add_member(crew["aa2"], name="已有")
    pooled = [add_member(crew["aa1"], name=f"池{i}") for i in range(3)]
    for m in pooled:
        services.member_release(actor=crew["aa1"], member=m)
    with pytest.raises(ValidationError) as exc:
        services.pool_claim(actor=crew["aa2"], members=pooled[:2])
    assert "2" in exc.value.messages[0]
    assert Member.objects.filter(presales_owner=crew["aa2"]).count() == 1
    assert services.pool_claim(actor=crew["aa2"], members=pooled[:1]) == 1
    m = Member.objects.get(pk=pooled[0].pk)
    assert m.presales_owner == crew["aa2"] and m.public_pool_at is None
    with pytest.raises(ValidationError):
        services.pool_claim(actor=crew["aa2"], members=pooled[1:2])
    # Another store's matchmaker cannot claim at all.
    with pytest.raises(ValidationError):
        services.pool_claim(actor=crew["bb1"], members=pooled[2:])


def test_nightly_return_takes_back_members_not_followed_up_in_time(crew):
    settings(pool_return_days=10)
    now = timezone.now()
    stale = add_member(crew["aa1"], name="久未跟进")
    fresh = add_member(crew["aa1"], name="刚跟进")
    signed = add_member(crew["aa1"], name="已签")
    Member.objects.filter(pk=stale.pk).update(followed_up_at=now - timedelta(days=11))
    Member.objects.filter(pk=fresh.pk).update(followed_up_at=now - timedelta(days=2))
    Member.objects.filter(pk=signed.pk).update(
        sales_stage=c.SalesStage.SIGNED, followed_up_at=now - timedelta(days=30)
    )
    assert services.public_pool_return(now=now) == 1
    assert services.public_pool_return(now=now) == 0  # idempotent
    stale.refresh_from_db()
    assert stale.presales_owner is None and stale.public_pool_at == now
    event = MemberEvent.objects.filter(member=stale, kind=EventKind.POOL).get()
    assert event.actor is None and "10" in event.summary
    assert Notice.objects.filter(recipient=crew["aa1"], text__contains="公海").exists()
    assert Member.objects.get(pk=fresh.pk).presales_owner == crew["aa1"]
    assert Member.objects.get(pk=signed.pk).presales_owner == crew["aa1"]
    # Never followed up: counted from the allocation.
    Member.objects.filter(pk=fresh.pk).update(
        followed_up_at=None, allocated_at=now - timedelta(days=12)
    )
    assert services.public_pool_return(now=now) == 1


def test_allocation_waits_for_acceptance_then_accept(crew):
    member = add_member(crew["mgr1"])
    Member.objects.filter(pk=member.pk).update(presales_owner=None)
    services.members_allocate(actor=crew["mgr1"], members=[member], to=crew["aa1"])
    allocation = Allocation.objects.filter(member=member).first()
    assert allocation.status == AllocationStatus.PENDING
    assert Notice.objects.filter(recipient=crew["aa1"], text__contains="小时").exists()
    with pytest.raises(PermissionDenied):
        services.allocation_answer(actor=crew["aa2"], allocation=allocation, accept=True)
    services.allocation_answer(actor=crew["aa1"], allocation=allocation, accept=True)
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.ACCEPTED and allocation.decided_at
    with pytest.raises(ValidationError):
        services.allocation_answer(
            actor=crew["aa1"], allocation=allocation, accept=False, reason="x"
        )


def test_decline_needs_a_reason_and_returns_the_member_to_the_allocators_list(crew, client):
    member = add_member(crew["mgr1"])
    Member.objects.filter(pk=member.pk).update(presales_owner=None)
    services.members_allocate(actor=crew["mgr1"], members=[member], to=crew["aa1"])
    allocation = Allocation.objects.filter(member=member).first()
    client.force_login(crew["aa1"])
    url = reverse("members:allocation_answer", args=[allocation.pk])
    client.post(url, {"answer": "decline", "reason": ""})
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.PENDING
    client.post(url, {"answer": "decline", "reason": "客户在外地"})
    allocation.refresh_from_db()
    member.refresh_from_db()
    assert allocation.status == AllocationStatus.DECLINED
    assert allocation.decline_reason == "客户在外地"
    assert member.presales_owner is None
    assert member in selectors.pool_members(viewer=crew["mgr1"], pool="unsigned")
    assert Notice.objects.filter(recipient=crew["mgr1"], text__contains="客户在外地").exists()


def test_unaccepted_allocations_expire_back_with_a_notice(crew):
    settings(allocation_accept_hours=24)
    member = add_member(crew["aa2"])
    services.members_allocate(actor=crew["mgr1"], members=[member], to=crew["aa1"])
    allocation = Allocation.objects.filter(member=member).first()
    assert services.allocations_expire(now=timezone.now() + timedelta(hours=23)) == 0
    assert services.allocations_expire(now=timezone.now() + timedelta(hours=25)) == 1
    allocation.refresh_from_db()
    member.refresh_from_db()
    assert allocation.status == AllocationStatus.EXPIRED
    assert member.presales_owner == crew["aa2"]  # back where it came from
    assert Notice.objects.filter(recipient=crew["mgr1"], text__contains="24").exists()


def test_periodic_jobs_return_members_and_allocations(crew):
    from hongniang.jobs.services import job_start
    from hongniang.members.tasks import allocation_expiry, pool_return

    settings(pool_return_days=1)
    member = add_member(crew["aa1"])
    Member.objects.filter(pk=member.pk).update(followed_up_at=timezone.now() - timedelta(days=3))
    for task in (pool_return, allocation_expiry):
        job_start(actor=None, kind="nightly", title="t", work_task=task)
    assert Job.objects.filter(state="succeeded").count() == 2
    member.refresh_from_db()
    assert member.presales_owner is None


def test_pool_pages(client, crew):
    settings(pool_claim_limit=5)
    member = add_member(crew["aa1"], name="公海会员")
    client.force_login(crew["aa1"])
    response = client.post(reverse("members:release", args=[member.pk]))
    assert response.status_code == 302
    client.force_login(crew["aa2"])
    page = client.get(reverse("members:public_pool"))
    assert "公海会员" in page.content.decode()
    client.post(reverse("members:pool_claim"), {"members": [member.pk]})
    member.refresh_from_db()
    assert member.presales_owner == crew["aa2"]
    assert client.get(reverse("members:pending")).status_code == 200
