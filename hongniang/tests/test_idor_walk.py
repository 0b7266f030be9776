"""Every workbench URL that carries a record's id, asked for by every kind of outsider: a peer
matchmaker, another manager's team, another store, each holding every right of the catalogue
(so that nothing but the record's visibility stands in the way). Each answers 404 exactly as a
missing record would (a POST-only page may say 405 to a GET), and the POSTs change nothing.
The records' owner gets the pages, which proves the URLs point at real records."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from hongniang.frontdesk.models import Consultation
from hongniang.frontdesk.services import referral_code_for
from hongniang.jobs.models import Job, JobKind, JobState
from hongniang.matching.models import Appointment, IntroductionRequest, OptIn, Recommendation
from hongniang.members import choices as c
from hongniang.members.importing.mapping import save_mapping
from hongniang.members.models import Allocation, AllocationKind, Member, MemberEvent, MemberPhoto
from hongniang.members.tests.helpers import add_member
from hongniang.messaging.models import Message, Notice
from hongniang.portal.models import StoryPhoto, SuccessStory
from hongniang.sales.models import FollowUp
from hongniang.staff.demo import generated_avatar
from hongniang.staff.permissions import ALL_GRANTS
from hongniang.staff.tests.factories import role_with

pytestmark = pytest.mark.django_db

# Records of the agency as a whole (staff, roles, stores, site images, message templates) are
# walked by workbench/tests/test_url_permissions.py: they are guarded by rights, not owners. The
# public link of a referral code is for everyone (frontdesk/tests/test_referral_codes.py).
GLOBAL = (
    "staff:",
    "siteconfig:",
    "member_messages:template",
    "portal:impersonation",
    "frontdesk:join_with_code",
    # Contracts and refunds landed after this walk; finance/tests/test_views.py walks them.
    "finance:",
    # The member centre's own pages answer to a member's session, never a staff user's (a
    # staff user is sent to the member login): portal/tests/test_centre.py asks for another
    # member's ids as a member.
    "portal:card",
    "portal:answer",
    "portal:introduce",
    "portal:appointment_feedback",
    "portal:pair",
    "portal:peer_photo",
    # The public site: no login, every visitor alike (portal/tests/test_site.py).
    "portal:site_",
    "portal:sitemap",
    # The relatives' centre answers to a relative's session (a staff user is sent to its
    # login) and the invitation to its token: family/tests/test_family.py asks for another
    # relative's ids as a relative.
    "family:",
)


def id_patterns():
    found = []

    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif isinstance(p, URLPattern) and p.pattern.converters:
                name = f"{namespace}{p.name}"
                if not name.startswith(GLOBAL):
                    found.append((name, tuple(p.pattern.converters)))

    walk(get_resolver().url_patterns, "")
    return found


@pytest.fixture
def records(org, settings, tmp_path):
    """aa1's member with everything hanging off it, and a partner also aa1's."""
    owner = org["aa1"]
    owner.role = role_with(*ALL_GRANTS)
    owner.save()
    member = add_member(owner, name="秘密会员甲")
    partner = add_member(owner, name="秘密会员乙", sex=c.Sex.MALE)
    photo = MemberPhoto(member=member, status="approved")
    photo.image.save("p.png", generated_avatar("p", True), save=False)
    photo.save()
    follow_up = FollowUp.objects.create(
        member=member, author=owner, phase="presales", contacted_at=timezone.now(), remark="秘密"
    )
    consultation = Consultation.objects.create(
        name="秘密访客", message="秘密", store=org["store_a"], assigned_to=owner
    )
    appointment = Appointment.objects.create(
        member=member,
        partner=partner,
        starts_at=timezone.now() + timedelta(days=2),
        place="秘密茶馆",
        arranged_by=owner,
    )
    intro = IntroductionRequest.objects.create(member=member, target=partner, entered_by=owner)
    rec = Recommendation.objects.create(
        member=member, candidate=partner, recommended_by=owner, reason="秘密"
    )
    optin = OptIn.objects.create(
        low_id=min(member.pk, partner.pk), high_id=max(member.pk, partner.pk), state="open"
    )
    allocation = Allocation.objects.create(
        member=member, kind=AllocationKind.PRESALES, to_staff=owner, by=org["mgr1"]
    )
    message = Message.objects.create(sender_staff=owner, recipient_member=member, body="秘密")
    notice = Notice.objects.create(recipient=owner, text="秘密", link="/members/")
    job = Job.objects.create(
        kind=JobKind.MEMBER_IMPORT, title="秘密", created_by=owner, state=JobState.SUCCEEDED
    )
    job.result_file.save("r.xlsx", ContentFile(b"PK"), save=False)
    job.failed_rows_file.save("f.xlsx", ContentFile(b"PK"), save=False)
    job.save()
    mapping = save_mapping(owner, "秘密对应", ["姓名"], ["name"])
    story = SuccessStory.objects.create(
        title="秘密案例",
        member_a=member,
        member_b=partner,
        consent_a_on=timezone.localdate(),
        consent_a_by=owner,
        consent_b_on=timezone.localdate(),
        consent_b_by=owner,
        text="秘密",
        happened_on=timezone.localdate(),
    )
    story_photo = StoryPhoto(story=story)
    story_photo.image.save("s.png", generated_avatar("s", True), save=False)
    story_photo.save()
    return {
        "story": story,
        "story_photo": story_photo,
        "owner": owner,
        "mapping": mapping,
        "member": member,
        "partner": partner,
        "photo": photo,
        "follow_up": follow_up,
        "consultation": consultation,
        "appointment": appointment,
        "intro": intro,
        "rec": rec,
        "optin": optin,
        "allocation": allocation,
        "message": message,
        "notice": notice,
        "job": job,
        "code": referral_code_for(owner).code,
    }


def url_for(name, converters, r):
    by_prefix = {
        "frontdesk:consultation": r["consultation"].pk,
        "matching:appointment": r["appointment"].pk,
        "matching:introduction": r["intro"].pk,
        "matching:optin": r["optin"].pk,
        "member_messages:detail": r["message"].pk,
        "messaging:": r["notice"].pk,
        "jobs:": r["job"].pk,
        "members:import_job": r["job"].pk,
        "members:saved_mapping": r["mapping"].pk,
        "portal:story": r["story"].pk,
    }
    pk = next((v for prefix, v in by_prefix.items() if name.startswith(prefix)), r["member"].pk)
    values = {
        "pk": pk,
        "member_pk": r["member"].pk,
        "candidate_pk": r["partner"].pk,
        "photo_pk": r["photo"].pk,
        "allocation_pk": r["allocation"].pk,
        "rec_pk": r["rec"].pk,
        "staff_pk": r["owner"].pk,
        "code": r["code"],
        "which": "result",
        "step": "pause",
        "field": "mobile",
        "token": "a" * 32,
    }
    if name.startswith("portal:story"):
        values["photo_pk"] = r["story_photo"].pk
    return reverse(name, kwargs={k: values[k] for k in converters})


def snapshot(r):
    """What a POST could change."""
    return (
        list(Member.objects.order_by("pk").values()),
        list(MemberPhoto.objects.values()),
        list(FollowUp.objects.values()),
        list(Consultation.objects.values()),
        list(Appointment.objects.values()),
        list(IntroductionRequest.objects.values()),
        list(Recommendation.objects.values()),
        list(OptIn.objects.values()),
        list(Allocation.objects.values()),
        list(Message.objects.values()),
        list(Notice.objects.values()),
        MemberEvent.objects.count(),
        list(SuccessStory.objects.values()),
    )


def test_every_id_url_is_404_to_every_outsider_and_posts_change_nothing(client, org, records):
    everything = role_with(*ALL_GRANTS)
    outsiders = [org["aa2"], org["mgr2"], org["bb1"]]  # peer, other manager, other store
    for person in outsiders:
        person.role = everything
        person.save()
    before = snapshot(records)
    patterns = id_patterns()
    assert len(patterns) > 30
    wrong = []
    for person in outsiders:
        client.force_login(person)
        for name, converters in patterns:
            url = url_for(name, converters, records)
            got = client.get(url).status_code
            if got not in (404, 405):
                wrong.append((person.username, "GET", url, got))
            got = client.post(url, {"security_password": "Secure-999", "answer": "accept"})
            if got.status_code != 404:
                wrong.append((person.username, "POST", url, got.status_code))
    assert wrong == []
    assert snapshot(records) == before


def test_the_owner_reaches_the_same_urls(client, records):
    client.force_login(records["owner"])
    reached = 0
    for name, converters in id_patterns():
        if name.startswith(("members:import_", "members:allocation_answer")):
            continue  # an upload token of this session; a POST-only answer
        status = client.get(url_for(name, converters, records)).status_code
        assert status != 404 or name == "portal:impersonate", name
        reached += status == 200
    assert reached > 15
