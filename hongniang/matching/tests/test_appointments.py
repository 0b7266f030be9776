"""Appointments and introduction requests: one creation path with the matching rules, each side
edits only its own member's part, notices open a page their recipient may see, the partner
search (issue 8)."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.matching import adapter, index, services
from hongniang.matching import engine as eng
from hongniang.matching.models import Appointment, IntroductionRequest
from hongniang.matching.selectors import pair_allowed
from hongniang.matching.tests.conftest import MATCHING
from hongniang.members import choices as c
from hongniang.members.models import Member, MemberEvent
from hongniang.members.tests.helpers import add_member, resident_id
from hongniang.messaging.models import Notice
from hongniang.siteconfig.models import SiteSettings
from hongniang.staff.tests.factories import role_with


@pytest.fixture
def two_teams(org):
    """aa1 (team of mgr1) serves Ann and Amy; bb1 (team of mgr2) serves Bob and Ben."""
    for key in ("aa1", "bb1", "mgr1", "mgr2"):
        org[key].role = role_with("members.view", "members.add", "members.edit", *MATCHING)
        org[key].save()

    def member(owner, name, sex, year, **extra):
        return add_member(
            org[owner],
            name=name,
            sex=sex,
            birthday=date(year, 2, 2),
            service_status=c.ServiceStatus.IN_SERVICE,
            sales_stage=c.SalesStage.SIGNED,
            **extra,
        )

    return {
        **org,
        "ann": member("aa1", "安娜", c.Sex.FEMALE, 1995),
        "amy": member("aa1", "艾米", c.Sex.FEMALE, 1994),
        "bob": member("bb1", "鲍勃", c.Sex.MALE, 1992),
        "ben": member(
            "bb1", "本杰", c.Sex.MALE, 1990, id_number=resident_id(date(1990, 2, 2), c.Sex.MALE)
        ),
    }


def _future(days=3):
    return timezone.now() + timedelta(days=days)


def _local(when):
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def _book(actor, member, partner, when=None, **kw):
    return services.appointment_create(
        actor=actor,
        appointment=Appointment(
            member=member, partner=partner, starts_at=when or _future(), place="咖啡馆"
        ),
        **kw,
    )


# --- the rules of one creation path ------------------------------------------------------------


@pytest.mark.django_db
def test_appointment_refuses_forbidden_pairs_past_dates_and_hidden_partners(two_teams):
    t = two_teams
    with pytest.raises(ValidationError) as exc:  # two women
        _book(t["aa1"], t["ann"], t["amy"])
    assert "partner" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:  # a new meeting in the past
        _book(t["aa1"], t["ann"], t["bob"], when=timezone.now() - timedelta(hours=1))
    assert "starts_at" in exc.value.message_dict
    t["bob"].is_hidden = True
    t["bob"].save()
    with pytest.raises(ValidationError):
        _book(t["aa1"], t["ann"], t["bob"])
    t["bob"].is_hidden = False
    t["bob"].sales_stage = c.SalesStage.ABANDONED
    t["bob"].save()
    with pytest.raises(ValidationError):
        _book(t["aa1"], t["ann"], t["bob"])
    assert not Appointment.objects.exists()


@pytest.mark.django_db
def test_appointment_form_shows_the_rule_as_a_field_error(client, two_teams):
    t = two_teams
    client.force_login(t["aa1"])
    response = client.post(
        reverse("matching:appointment_create"),
        {
            "member": t["ann"].pk,
            "partner": t["amy"].pk,
            "starts_at": _local(_future()),
            "place": "x",
        },
    )
    assert response.status_code == 200 and "partner" in response.context["form"].errors
    response = client.post(
        reverse("matching:appointment_create"),
        {
            "member": t["ann"].pk,
            "partner": t["bob"].pk,
            "starts_at": _local(timezone.now() - timedelta(days=1)),
            "place": "x",
        },
    )
    assert response.status_code == 200 and "starts_at" in response.context["form"].errors
    assert not Appointment.objects.exists()


@pytest.mark.django_db
def test_introduction_refuses_forbidden_pairs(client, two_teams):
    t = two_teams
    with pytest.raises(ValidationError) as exc:
        services.introduction_create(
            actor=t["aa1"], request=IntroductionRequest(member=t["ann"], target=t["amy"])
        )
    assert "target" in exc.value.message_dict
    client.force_login(t["aa1"])
    response = client.post(
        reverse("matching:introduction_create"), {"member": t["ann"].pk, "target": t["amy"].pk}
    )
    assert response.status_code == 200 and "target" in response.context["form"].errors
    assert not IntroductionRequest.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_meeting_cannot_be_held_or_attended_before_its_time(client, two_teams):
    t = two_teams
    appt = _book(t["aa1"], t["ann"], t["bob"])
    client.force_login(t["aa1"])
    url = reverse("matching:appointment_edit", args=[appt.pk])
    base = {"starts_at": _local(appt.starts_at), "place": "咖啡馆", "status": "planned"}
    response = client.post(url, {**base, "status": "held"})
    assert response.status_code == 200 and "status" in response.context["form"].errors
    response = client.post(url, {**base, "member_attended": "true"})
    assert response.status_code == 200 and "member_attended" in response.context["form"].errors
    response = client.post(url, {**base, "starts_at": _local(timezone.now() - timedelta(days=1))})
    assert response.status_code == 200 and "starts_at" in response.context["form"].errors
    appt.refresh_from_db()
    assert appt.status == "planned" and appt.member_attended is None


@pytest.mark.django_db(transaction=True)
def test_introduction_arranged_goes_through_the_one_creation_path(client, two_teams):
    t = two_teams
    intro = services.introduction_create(
        actor=t["aa1"], request=IntroductionRequest(member=t["ann"], target=t["bob"])
    )
    busy = _book(t["bb1"], t["bob"], t["amy"], when=_future(4))  # Bob is booked that day
    client.force_login(t["bb1"])
    url = reverse("matching:introduction_close", args=[intro.pk])
    data = {"status": "arranged", "starts_at": _local(busy.starts_at), "place": "公园"}
    response = client.post(url, data, follow=True)
    assert any("约见" in str(m) for m in response.context["messages"])  # the clash is told
    intro.refresh_from_db()
    assert intro.status == "open" and Appointment.objects.count() == 1
    data["starts_at"] = _local(timezone.now() - timedelta(days=1))  # nor in the past
    client.post(url, data)
    intro.refresh_from_db()
    assert intro.status == "open"
    data["starts_at"] = _local(_future(6))
    client.post(url, data)
    intro.refresh_from_db()
    appt = intro.appointment
    assert intro.status == "arranged" and appt.arranged_by == t["bb1"]
    # Booked by Bob's side for Bob; both timelines have it; Ann's matchmaker is told.
    assert (appt.member, appt.partner) == (t["bob"], t["ann"])
    for who in (t["ann"], t["bob"]):
        assert MemberEvent.objects.filter(member=who, data__appointment=appt.pk).exists()
    assert Notice.objects.filter(recipient=t["aa1"], link__contains=str(appt.pk)).exists()


# --- each side its own part ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_each_side_sees_and_changes_only_its_own_members_part(client, two_teams):
    t = two_teams
    appt = _book(t["aa1"], t["ann"], t["bob"])
    Appointment.objects.filter(pk=appt.pk).update(
        starts_at=timezone.now() - timedelta(hours=2),
        member_feedback="安娜觉得一般",  # the arranging side's private note of its member
    )
    url = reverse("matching:appointment_edit", args=[appt.pk])
    # The partner's matchmaker: a form with their member's part only, and saving works.
    client.force_login(t["bb1"])
    response = client.get(url)
    assert response.status_code == 200
    assert set(response.context["form"].fields) == {"partner_attended", "partner_feedback"}
    assert "安娜觉得一般" not in response.content.decode()
    response = client.post(
        url,
        {
            "partner_attended": "true",
            "partner_feedback": "鲍勃想再见",
            "status": "cancelled",  # not theirs: ignored
            "member_feedback": "篡改",
        },
    )
    assert response.status_code == 302
    appt.refresh_from_db()
    assert appt.partner_attended is True and appt.partner_feedback == "鲍勃想再见"
    assert appt.status == "planned" and appt.member_feedback == "安娜觉得一般"
    # The arranging side does not see or change the partner's part.
    client.force_login(t["aa1"])
    response = client.get(url)
    assert "partner_feedback" not in response.context["form"].fields
    assert "鲍勃想再见" not in response.content.decode()
    # The service refuses a change of the other side's part, whatever the form.
    appt.refresh_from_db()
    appt.member_feedback = "篡改"
    with pytest.raises(PermissionDenied):
        services.appointment_update(actor=t["bb1"], appointment=appt)
    appt.refresh_from_db()
    appt.partner_feedback = "篡改"
    with pytest.raises(PermissionDenied):
        services.appointment_update(actor=t["aa1"], appointment=appt)


@pytest.mark.django_db(transaction=True)
def test_unchanged_appointment_form_changes_nothing(client, two_teams):
    t = two_teams
    appt = _book(t["aa1"], t["ann"], t["bob"], when=timezone.now() + timedelta(days=2, seconds=17))
    before = Appointment.objects.values().get(pk=appt.pk)
    client.force_login(t["aa1"])
    url = reverse("matching:appointment_edit", args=[appt.pk])
    form = client.get(url).context["form"]
    data = {
        name: "" if value is None else value
        for name, value in ((f.name, f.value()) for f in form)
        if value is not None or name.endswith("attended")
    }
    # The form's value is already local time, shown to the minute as the input shows it.
    data["starts_at"] = data["starts_at"].strftime("%Y-%m-%dT%H:%M")
    data = {k: ("unknown" if k.endswith("attended") and v == "" else v) for k, v in data.items()}
    assert client.post(url, data).status_code == 302
    assert Appointment.objects.values().get(pk=appt.pk) == before


# --- notices ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_every_notice_opens_a_page_its_recipient_may_see(client, two_teams):
    t = two_teams
    services.recommend(actor=t["aa1"], member=t["ann"], candidate=t["bob"], reason="合适")
    services.recommend(actor=t["bb1"], member=t["ben"], candidate=t["amy"], reason="合适")
    _book(t["aa1"], t["ann"], t["bob"])
    intro = services.introduction_create(
        actor=t["aa1"], request=IntroductionRequest(member=t["amy"], target=t["ben"])
    )
    services.introduction_close(
        actor=t["bb1"],
        request=intro,
        status="arranged",
        appointment=Appointment(starts_at=_future(8), place="公园"),
    )
    notices = list(Notice.objects.select_related("recipient"))
    assert len(notices) == 5
    for notice in notices:
        client.force_login(notice.recipient)
        assert client.get(notice.link).status_code == 200, notice.text
        opened = client.get(reverse("messaging:open", args=[notice.pk]), follow=True)
        assert opened.status_code == 200 and opened.redirect_chain[-1][0] == notice.link


@pytest.mark.django_db(transaction=True)
def test_notice_of_a_recommendation_shows_it_on_the_candidates_page(client, two_teams):
    t = two_teams
    services.recommend(actor=t["aa1"], member=t["ann"], candidate=t["bob"], reason="合适")
    notice = Notice.objects.get(recipient=t["bb1"])
    assert "安**" in notice.text and "鲍勃" in notice.text and "安娜" not in notice.text
    client.force_login(t["bb1"])
    page = client.get(notice.link).content.decode()
    assert 'id="recommended-as"' in page and "安**" in page and "安娜" not in page


# --- the partner search -------------------------------------------------------------------------


@pytest.mark.django_db
def test_partner_search_is_scoped_and_masked(client, two_teams):
    t = two_teams
    url = reverse("matching:member_search")
    client.force_login(t["aa1"])

    def found(q, **extra):
        response = client.get(url, {"q": q, **extra})
        assert response.status_code == 200
        return {row["value"]: row["text"] for row in response.json()["results"]}

    assert set(found("安娜")) == {t["ann"].pk}  # own member by name, in full
    assert "安娜" in found("安娜")[t["ann"].pk]
    # Another team's member: by UID only, masked; never by name, mobile or ID number.
    bob = found(str(t["bob"].pk))
    assert "鲍**" in bob[t["bob"].pk] and "鲍勃" not in bob[t["bob"].pk]
    assert found("鲍勃") == {}
    ben_id = resident_id(date(1990, 2, 2), c.Sex.MALE)
    assert found(ben_id) == {}
    # Own members by exact ID number and mobile (keyed hash).
    client.force_login(t["bb1"])
    assert set(found(ben_id)) == {t["ben"].pk}
    from hongniang.members import personal_data as pd

    bob_row = Member.objects.get(pk=t["bob"].pk)
    bob_mobile = pd.decrypt(bob_row.mobile_encrypted)
    assert set(found(bob_mobile)) == {t["bob"].pk}
    # Only partners the rules allow for the chosen member; not the member's own sex.
    client.force_login(t["aa1"])
    assert found(str(t["amy"].pk), member=t["ann"].pk) == {}
    assert set(found(str(t["bob"].pk), member=t["ann"].pk)) == {t["bob"].pk}
    Member.objects.filter(pk=t["bob"].pk).update(is_hidden=True)
    assert found(str(t["bob"].pk)) == {}


# --- the pair rule agrees with the engine ---------------------------------------------------

PROFILE = st.fixed_dictionaries(
    {
        "sex": st.sampled_from([c.Sex.MALE, c.Sex.FEMALE]),
        "age": st.integers(18, 60),
        "marital_status": st.sampled_from(c.MaritalStatus.values),
        "is_hidden": st.booleans(),
        "service_status": st.sampled_from(c.ServiceStatus.values),
    }
)


@pytest.mark.django_db
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=PROFILE, b=PROFILE, pairing=st.sampled_from(["opposite", "same", "any"]))
def test_pair_rule_agrees_with_the_engine(a, b, pairing):
    """Without preferences, the engine finds a pair eligible exactly when `pair_allowed` does:
    one rule for the library, recommendations, boosts, appointments and introductions."""
    site = SiteSettings.load()
    if site.match_sex_pairing != pairing:
        site.match_sex_pairing = pairing
        site.save()
    today = timezone.localdate()

    def member(pk, spec):
        spec = dict(spec)
        age = spec.pop("age")
        # Well inside the year of age, so that no time zone moves a birthday.
        birthday = today - timedelta(days=int(365.25 * age) + 120)
        return Member(pk=pk, username=f"u{pk}", name="某某", birthday=birthday, **spec)

    ma, mb = member(1, a), member(2, b)
    engine = eng.Engine.build(
        [adapter.profile(ma), adapter.profile(mb)], index.engine_config(), today=today
    )
    assert engine.score(1, 2, explain=False).eligible == pair_allowed(ma, mb)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=PROFILE, stage=st.sampled_from(c.SalesStage.values))
def test_offerable_query_and_row_check_agree(spec, stage):
    """The query (lists, search, form choices) and the check on one row say the same."""
    from hongniang.matching.selectors import _offerable, offerable_members

    spec = dict(spec)
    age = spec.pop("age")
    Member.objects.all().delete()
    member = Member.objects.create(
        username="u1",
        name="某某",
        birthday=timezone.localdate() - timedelta(days=int(365.25 * age) + 120),
        sales_stage=stage,
        registered_at=timezone.now(),
        **spec,
    )
    assert offerable_members().filter(pk=member.pk).exists() == _offerable(member)
