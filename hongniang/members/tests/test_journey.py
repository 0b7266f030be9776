"""The member's journey (members/journey.py): every allowed and refused step, rights, the
timeline, the member page's buttons, and a property test over random sequences of actions."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hongniang.finance.tests.signing import sign
from hongniang.members import choices as c
from hongniang.members import journey, selectors, services
from hongniang.members.models import EventKind, Member, MemberEvent
from hongniang.members.tests.helpers import add_member
from hongniang.sales import services as sales_services
from hongniang.sales.models import FollowUp
from hongniang.staff.tests.factories import StaffFactory, role_with

pytestmark = pytest.mark.django_db

S, V = c.SalesStage, c.ServiceStatus
TOMORROW = timezone.localdate() + timedelta(days=1)
INPUTS = {
    "abandon": {"reason": "嫌贵"},
    "pause": {"reason": "出差三个月", "until": TOMORROW},
    "finish": {"finish_reason": c.FinishReason.SUCCESS},
}


@pytest.fixture
def crew(org):
    """A pre-sales matchmaker, a pre-sales lead (pre-sales approve, which no longer signs: only
    finance approving a contract does) and an after-sales matchmaker under mgr1; bb1 (mgr2's
    team) is a peer."""
    org["pre"] = StaffFactory(
        username="pre",
        role=role_with(
            "members.view",
            "members.add",
            "members.edit",
            "presales.view",
            "presales.add",
            "presales.edit",
        ),
        store=org["store_a"],
        supervisor=org["mgr1"],
    )
    org["lead"] = StaffFactory(
        username="lead",
        role=role_with(
            "members.view",
            "members.add",
            "members.edit",
            "presales.view",
            "presales.add",
            "presales.edit",
            "presales.approve",
        ),
        store=org["store_a"],
        supervisor=org["mgr1"],
    )
    org["after"] = StaffFactory(
        username="after",
        role=role_with(
            "members.view", "members.edit", "aftersales.view", "aftersales.add", "aftersales.edit"
        ),
        store=org["store_a"],
        supervisor=org["mgr1"],
    )
    return org


def at(member, stage, status):
    Member.objects.filter(pk=member.pk).update(sales_stage=stage, service_status=status)
    member.refresh_from_db()
    return member


def allowed(step, stage, status) -> bool:
    spec = journey.STEPS[step]
    if spec.needs_stage and stage != spec.needs_stage:
        return False
    return (stage if spec.field == journey.STAGE else status) in spec.sources


STATES = [(stage, status) for stage in S.values for status in V.values]


@pytest.mark.parametrize("step", list(journey.STEPS))
@pytest.mark.parametrize(("stage", "status"), STATES)
def test_every_step_from_every_state(org, step, stage, status):
    """The transition table, exhaustively: an allowed step changes the state and writes the
    timeline; a refused one raises a message and changes nothing."""
    member = at(add_member(org["admin"]), stage, status)
    events = MemberEvent.objects.filter(member=member).count()
    spec = journey.STEPS[step]
    if allowed(step, stage, status):
        journey.advance(actor=org["admin"], member=member, step=step, **INPUTS.get(step, {}))
        member.refresh_from_db()
        assert getattr(member, spec.field) == spec.target
        event = MemberEvent.objects.filter(member=member).first()
        assert event.kind == (EventKind.STAGE if spec.field == journey.STAGE else EventKind.SERVICE)
        assert event.data["step"] == step and event.data["to"] == spec.target
        assert event.actor == org["admin"]
    else:
        with pytest.raises(ValidationError) as exc:
            journey.advance(actor=org["admin"], member=member, step=step, **INPUTS.get(step, {}))
        assert exc.value.messages[0]
        member.refresh_from_db()
        assert (member.sales_stage, member.service_status) == (stage, status)
        assert MemberEvent.objects.filter(member=member).count() == events


def test_refusal_message_is_in_chinese(org):
    member = at(add_member(org["admin"]), S.SIGNED, V.NOT_STARTED)
    with pytest.raises(ValidationError) as exc:
        journey.advance(actor=org["admin"], member=member, step="abandon", reason="x")
    assert "已签约" in exc.value.messages[0]
    with pytest.raises(ValidationError) as exc:
        journey.advance(actor=org["admin"], member=at(member, S.NEW, V.NOT_STARTED), step="pause")
    assert "签约" in exc.value.messages[0]


@pytest.mark.parametrize(
    ("who", "step", "stage", "status", "ok"),
    [
        ("pre", "sign", S.FOLLOWING, V.NOT_STARTED, False),
        ("lead", "sign", S.FOLLOWING, V.NOT_STARTED, False),  # pre-sales approve signs no more
        ("pre", "abandon", S.NEW, V.NOT_STARTED, True),
        ("after", "abandon", S.NEW, V.NOT_STARTED, False),
        ("pre", "start_service", S.SIGNED, V.NOT_STARTED, False),
        ("after", "start_service", S.SIGNED, V.NOT_STARTED, True),
        ("after", "pause", S.SIGNED, V.IN_SERVICE, True),
        ("lead", "finish", S.SIGNED, V.IN_SERVICE, False),
    ],
)
def test_rights_per_step(crew, who, step, stage, status, ok):
    actor = crew[who]
    member = add_member(crew["mgr1"])
    Member.objects.filter(pk=member.pk).update(presales_owner=actor, aftersales_owner=actor)
    member = at(member, stage, status)
    if ok:
        journey.advance(actor=actor, member=member, step=step, **INPUTS.get(step, {}))
        member.refresh_from_db()
        assert getattr(member, journey.STEPS[step].field) == journey.STEPS[step].target
    else:
        with pytest.raises(PermissionDenied):
            journey.advance(actor=actor, member=member, step=step, **INPUTS.get(step, {}))
        member.refresh_from_db()
        assert (member.sales_stage, member.service_status) == (stage, status)


def test_a_peer_cannot_move_a_member_they_cannot_see(crew):
    member = add_member(crew["aa1"])
    peer = StaffFactory(role=crew["lead"].role, store=crew["store_b"], supervisor=crew["mgr2"])
    with pytest.raises(PermissionDenied):
        journey.advance(actor=peer, member=member, step="abandon", reason="x")
    member.refresh_from_db()
    assert member.sales_stage == S.NEW


@pytest.mark.parametrize(
    ("step", "inputs", "field"),
    [
        ("abandon", {"reason": "  "}, "reason"),
        ("pause", {"reason": "出差"}, "until"),
        ("pause", {"reason": "出差", "until": timezone.localdate()}, "until"),
        ("pause", {"until": TOMORROW}, "reason"),
        ("finish", {"finish_reason": "bogus"}, "finish_reason"),
    ],
)
def test_steps_ask_for_their_inputs(org, step, inputs, field):
    stage, status = (S.NEW, V.NOT_STARTED) if step == "abandon" else (S.SIGNED, V.IN_SERVICE)
    member = at(add_member(org["admin"]), stage, status)
    with pytest.raises(ValidationError) as exc:
        journey.advance(actor=org["admin"], member=member, step=step, **inputs)
    assert field in exc.value.error_dict
    member.refresh_from_db()
    assert (member.sales_stage, member.service_status) == (stage, status)


def test_pause_keeps_reason_and_date_and_resume_clears_them(org):
    member = at(add_member(org["admin"]), S.SIGNED, V.IN_SERVICE)
    journey.advance(actor=org["admin"], member=member, step="pause", **INPUTS["pause"])
    member.refresh_from_db()
    assert (member.pause_reason, member.pause_until) == ("出差三个月", TOMORROW)
    journey.advance(actor=org["admin"], member=member, step="resume")
    member.refresh_from_db()
    assert member.service_status == V.IN_SERVICE
    assert (member.pause_reason, member.pause_until) == ("", None)


def test_abandoned_member_goes_to_the_abandoned_pool_and_comes_back_on_allocation(crew):
    member = add_member(crew["pre"])
    journey.advance(actor=crew["pre"], member=member, step="abandon", reason="联系不上")
    assert member in selectors.pool_members(viewer=crew["mgr1"], pool="abandoned")
    services.members_allocate(actor=crew["mgr1"], members=[member], to=crew["lead"])
    member.refresh_from_db()
    assert member.sales_stage == S.NEW and member.abandon_reason == ""
    assert member not in selectors.pool_members(viewer=crew["mgr1"], pool="abandoned")
    assert member.presales_owner == crew["lead"]


# --- the member page ----------------------------------------------------------------------


def test_member_page_shows_the_allowed_steps_only(client, crew):
    member = add_member(crew["pre"])
    client.force_login(crew["pre"])
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert reverse("members:journey_step", args=[member.pk, "abandon"]) in page
    assert reverse("members:journey_step", args=[member.pk, "start_service"]) not in page
    # Nobody signs a member by hand, not even an administrator: a contract does.
    for who in ("pre", "lead", "admin"):
        client.force_login(crew[who])
        page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
        assert reverse("members:journey_step", args=[member.pk, "sign"]) not in page
        assert "标记已签约" not in page


@pytest.mark.parametrize("who", ["lead", "admin"])
def test_signing_by_hand_is_refused_with_how_it_happens(client, crew, who):
    """The former "mark signed" step, asked for directly: refused with a message saying that a
    contract approved by finance signs the member; nothing changes."""
    member = add_member(crew["lead"])
    client.force_login(crew[who])
    url = reverse("members:journey_step", args=[member.pk, "sign"])
    for response in (client.post(url, follow=True), client.get(url, follow=True)):
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == reverse("members:detail", args=[member.pk])
        assert "财务审核通过其合同后自动签约" in response.content.decode()
    member.refresh_from_db()
    assert member.sales_stage == S.NEW
    assert not MemberEvent.objects.filter(member=member, kind=EventKind.STAGE).exists()


def test_pre_sales_approve_no_longer_signs_and_finance_approval_does(crew):
    member = add_member(crew["lead"])
    with pytest.raises(PermissionDenied):
        journey.advance(actor=crew["lead"], member=member, step="sign")
    sign(member)
    member.refresh_from_db()
    assert member.sales_stage == S.SIGNED
    event = MemberEvent.objects.filter(member=member, kind=EventKind.STAGE).get()
    assert event.data == {"step": "sign", "from": S.NEW, "to": S.SIGNED}


def test_abandon_form_round_trip(client, crew):
    member = add_member(crew["pre"])
    client.force_login(crew["pre"])
    url = reverse("members:journey_step", args=[member.pk, "abandon"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and "必填" in response.content.decode()
    member.refresh_from_db()
    assert member.sales_stage == S.NEW
    response = client.post(url, {"reason": "价格太高"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.sales_stage, member.abandon_reason) == (S.ABANDONED, "价格太高")


def test_step_pages_answer_403_without_the_right_and_404_for_a_peer(client, crew):
    member = add_member(crew["pre"])
    client.force_login(crew["pre"])
    url = reverse("members:journey_step", args=[member.pk, "start_service"])
    assert client.post(url).status_code == 403
    client.force_login(crew["bb1"])
    url = reverse("members:journey_step", args=[member.pk, "abandon"])
    assert client.post(url, {"reason": "x"}).status_code == 404
    for step in ("follow", "bogus"):
        url = reverse("members:journey_step", args=[member.pk, step])
        assert client.get(url).status_code == 404


# --- random sequences keep pools, groups and the timeline consistent --------------------------

ACTIONS = st.lists(
    st.sampled_from(
        [
            "follow_up",
            "sign",
            "abandon",
            "reallocate",
            "start_service",
            "pause",
            "resume",
            "finish",
            "allocate_after",
        ]
    ),
    max_size=12,
)


def _act(org, member, action) -> bool:
    """Try an action as a manager would; True when it changed the journey."""
    admin = org["admin"]
    try:
        if action == "follow_up":
            sales_services.followup_record(
                actor=admin, member=member, follow_up=FollowUp(remark="聊了聊"), tags=["试"]
            )
            return False
        if action == "reallocate":
            services.members_allocate(actor=admin, members=[member], to=org["aa1"])
            return False
        if action == "allocate_after":
            services.members_allocate(actor=admin, members=[member], to=org["aa2"])
            return False
        if action == "sign":  # the one way: finance approves the member's contract
            sign(Member.objects.get(pk=member.pk))
            return True
        journey.advance(actor=admin, member=member, step=action, **INPUTS.get(action, {}))
        return True
    except ValidationError:
        return False


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(actions=ACTIONS)
def test_random_journeys_stay_consistent(org, actions):
    member = add_member(org["admin"])
    Member.objects.filter(pk=member.pk).update(presales_owner=None)  # starts in the pool
    for action in actions:
        _act(org, member, action)
        member.refresh_from_db()
        admin = org["admin"]
        in_pool = {
            pool
            for pool in selectors.POOLS
            if selectors.pool_members(viewer=admin, pool=pool).filter(pk=member.pk).exists()
        }
        groups = {
            g
            for g in selectors.REALLOCATION_GROUPS
            if selectors.reallocation_members(viewer=admin, group=g).filter(pk=member.pk).exists()
        }
        stage, status = member.sales_stage, member.service_status
        # Service only for signed members; abandoned members only in the abandoned pool.
        assert status == V.NOT_STARTED or stage == S.SIGNED
        assert ("abandoned" in in_pool) == (stage == S.ABANDONED)
        assert ("signed" in in_pool) == (stage == S.SIGNED and member.aftersales_owner_id is None)
        assert ("unsigned" in in_pool) == (
            stage in (S.NEW, S.FOLLOWING) and member.presales_owner_id is None
        )
        # Stage and the follow-up counters agree with the follow-ups recorded.
        pre = FollowUp.objects.filter(member=member, phase="presales").count()
        post = FollowUp.objects.filter(member=member, phase="aftersales").count()
        assert (member.follow_up_count, member.service_note_count) == (pre, post)
        if stage == S.NEW:
            assert pre == 0
        if stage == S.FOLLOWING:
            assert pre > 0
        # Reallocation groups: followed up or not, signed or not.
        if member.presales_owner_id or member.aftersales_owner_id:
            assert ("followed" in groups) == (member.followed_up_at is not None)
            assert ("not_followed" in groups) == (member.followed_up_at is None)
            assert ("signed" in groups) == (stage == S.SIGNED)
            assert ("unsigned" in groups) == (stage in (S.NEW, S.FOLLOWING))
        else:
            assert groups == set()
        # The timeline ends where the member is.
        last_stage = MemberEvent.objects.filter(member=member, kind=EventKind.STAGE).first()
        assert (last_stage.data["to"] if last_stage else S.NEW) == stage
        last_service = MemberEvent.objects.filter(member=member, kind=EventKind.SERVICE).first()
        assert (last_service.data["to"] if last_service else V.NOT_STARTED) == status
