"""Drafts nobody confirmed (issue 13 follow-up): a nightly job deletes a pending draft whose
last invitation expired more than the agency's N days ago (a site setting, default 30), as a
decline does — the child's personal data erased, the relative told politely."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hongniang.family import services
from hongniang.family.models import DraftState, FamilyProfile
from hongniang.family.tests.test_family import (  # noqa: F401 (the autouse fixture)
    PARENT_MOBILE,
    _setup,
    approved_child,
    draft,
    invitation_token,
    relative_client,
)
from hongniang.jobs.models import Job, JobState
from hongniang.jobs.periodic import registered
from hongniang.jobs.services import start_due_periodic_jobs
from hongniang.members.models import Member
from hongniang.messaging.models import Notice
from hongniang.messaging.sms import LoggingSmsBackend
from hongniang.siteconfig.models import SiteSettings

pytestmark = pytest.mark.django_db


def _expired(days: int) -> FamilyProfile:
    """The one draft, its invitation expired `days` days ago."""
    profile = FamilyProfile.objects.get()
    profile.token_expires_at = timezone.now() - timedelta(days=days)
    profile.save(update_fields=["token_expires_at"])
    return profile


def test_a_draft_is_kept_until_n_days_after_its_invitation_expired(org):
    draft()
    profile = _expired(29)
    assert SiteSettings.load().family_draft_days == 30
    assert services.purge_expired() == 0
    assert FamilyProfile.objects.get().state == DraftState.PENDING
    _expired(31)
    child_pk = profile.member_id
    LoggingSmsBackend.outbox.clear()
    assert services.purge_expired() == 1
    profile.refresh_from_db()
    assert profile.state == DraftState.EXPIRED and profile.member is None
    assert profile.decided_at and profile.token_hash == ""
    assert not Member.objects.filter(pk=child_pk).exists()
    assert not Member.history.filter(id=child_pk).exists()
    ((mobile, text),) = LoggingSmsBackend.outbox  # the relative, politely; the child is gone
    assert mobile == PARENT_MOBILE and "撤回" in text and "未在有效期内确认" in text
    page = relative_client().get(reverse("family:centre")).content.decode()
    assert "已撤回" in page and "王小明" not in page
    assert services.purge_expired() == 0  # once


def test_the_setting_decides_and_a_new_invitation_starts_again(org):
    draft()
    site = SiteSettings.load()
    site.family_draft_days = 3
    site.save()
    _expired(4)
    # The relative sent a new invitation meanwhile: its own expiry counts.
    relative = relative_client()
    assert (
        relative.post(reverse("family:resend", args=[FamilyProfile.objects.get().pk])).status_code
        == 302
    )
    assert services.purge_expired() == 0
    token = invitation_token()
    assert Client().get(reverse("family:invitation", args=[token])).status_code == 200
    _expired(4)
    assert services.purge_expired() == 1
    assert Client().get(reverse("family:invitation", args=[token])).status_code == 404


def test_approved_and_declined_drafts_are_never_touched(org):
    child = approved_child(org)
    _expired(400)
    assert services.purge_expired() == 0
    assert Member.objects.filter(pk=child.pk).exists()
    assert FamilyProfile.objects.get().state == DraftState.APPROVED


def test_a_draft_other_records_protect_is_withdrawn_and_staff_are_told(org, monkeypatch):
    draft()
    profile = _expired(40)
    member = profile.member
    member.presales_owner = org["aa1"]
    member.save(update_fields=["presales_owner"])
    monkeypatch.setattr(services, "_erase_member", lambda member_id: False)
    assert services.purge_expired() == 1
    assert Member.objects.filter(pk=member.pk).exists()  # kept, hidden: staff erase it
    assert FamilyProfile.objects.get().state == DraftState.EXPIRED
    notice = Notice.objects.get(recipient=org["aa1"])
    assert "一直未确认" in notice.text


def test_the_nightly_job_deletes_them(org):
    draft()
    _expired(31)
    entry = registered()["family_expired_drafts"]
    now = timezone.now()
    start_due_periodic_jobs(now=now, registry={"family_expired_drafts": entry})  # schedules it
    (job,) = start_due_periodic_jobs(
        now=entry.next_after(now) + timedelta(minutes=1),
        registry={"family_expired_drafts": entry},
    )
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.result["deleted"] == 1
    assert FamilyProfile.objects.get().state == DraftState.EXPIRED
    assert Job.objects.filter(pk=job.pk).exists()


def test_the_setting_is_on_the_settings_page(client, org):
    client.force_login(org["admin"])
    page = client.get(reverse("siteconfig:edit")).content.decode()
    assert 'name="family_draft_days"' in page
    from hongniang.siteconfig.tests.test_settings_pages import settings_data

    bad = client.post(reverse("siteconfig:edit"), settings_data(family_draft_days=0))
    assert bad.status_code == 200 and "family_draft_days" in bad.context["form"].errors
    assert SiteSettings.load().family_draft_days == 30
    assert (
        client.post(reverse("siteconfig:edit"), settings_data(family_draft_days=60)).status_code
        == 302
    )
    assert SiteSettings.load().family_draft_days == 60
