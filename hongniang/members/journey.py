"""The member's journey (whitepaper 1.4): the one place that changes a sales stage or a service
status.

Sales stage:    new → following (first follow-up) → signed (finance approving a contract), or
                new/following → abandoned;
                abandoned → new/following again when the member is allocated from the
                已放弃待分配 pool.
Service status: not started → in service (signed members only) → paused → in service → finished.

Every step is a `Step` of `STEPS`; `advance` checks the actor's right and the member's visibility,
refuses a step the member's state does not allow (a ValidationError in the user's language),
saves the fields and writes the member's timeline. Screens, jobs and the API call `advance` (or
the services that call it) and never set these fields themselves.
"""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hongniang.members import choices as c
from hongniang.members.models import EventKind, Member, MemberEvent
from hongniang.staff.permissions import can

STAGE, SERVICE = "sales_stage", "service_status"


@dataclass(frozen=True)
class Step:
    name: str
    field: str  # STAGE or SERVICE
    sources: frozenset[str]
    target: str
    label: Promise
    # Any one of these (module, action) grants the step.
    rights: tuple[tuple[str, str], ...]
    # What the step asks for: "" nothing, "reason", "pause" (reason + return date), "finish".
    asks: str = ""
    # Shown as a button on the member's page (automatic steps are taken by other services).
    manual: bool = True
    destructive: bool = False
    # The sales stage the member must be at (service steps need a signed member).
    needs_stage: str = ""
    # For a step other services take (manual=False): how it happens, told to whoever asks for it
    # directly.
    how: Promise | str = ""


_OPEN = frozenset({c.SalesStage.NEW, c.SalesStage.FOLLOWING})
_FOLLOW_UP_RIGHTS = (("presales", "add"), ("aftersales", "add"))
_SERVICE_RIGHTS = (("aftersales", "edit"),)

STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step(
            "follow",
            STAGE,
            frozenset({c.SalesStage.NEW}),
            c.SalesStage.FOLLOWING,
            gettext_lazy("Start following up"),
            _FOLLOW_UP_RIGHTS,
            manual=False,
            how=gettext_lazy("A member is being followed up once a follow-up is recorded."),
        ),
        # Only finance approving a contract signs a member (finance.services.contract_approve):
        # no button, and the step page refuses it with `how`.
        Step(
            "sign",
            STAGE,
            _OPEN,
            c.SalesStage.SIGNED,
            gettext_lazy("Sign"),
            (("finance", "approve"),),
            manual=False,
            how=gettext_lazy(
                "A member is signed when finance approves their contract: enter a contract "
                "from the member's page (Sign a contract) and submit it to finance."
            ),
        ),
        Step(
            "abandon",
            STAGE,
            _OPEN,
            c.SalesStage.ABANDONED,
            gettext_lazy("Abandon"),
            (("presales", "edit"),),
            asks="reason",
            destructive=True,
        ),
        Step(
            "reopen",
            STAGE,
            frozenset({c.SalesStage.ABANDONED}),
            c.SalesStage.NEW,  # FOLLOWING when the member has been followed up before
            gettext_lazy("Reopen"),
            (("members", "allocate"),),
            manual=False,
            how=gettext_lazy(
                "An abandoned member is reopened by allocating them from the abandoned pool."
            ),
        ),
        Step(
            "start_service",
            SERVICE,
            frozenset({c.ServiceStatus.NOT_STARTED}),
            c.ServiceStatus.IN_SERVICE,
            gettext_lazy("Start the service"),
            _SERVICE_RIGHTS,
            needs_stage=c.SalesStage.SIGNED,
        ),
        Step(
            "pause",
            SERVICE,
            frozenset({c.ServiceStatus.IN_SERVICE}),
            c.ServiceStatus.PAUSED,
            gettext_lazy("Pause the service"),
            _SERVICE_RIGHTS,
            asks="pause",
            needs_stage=c.SalesStage.SIGNED,
        ),
        Step(
            "resume",
            SERVICE,
            frozenset({c.ServiceStatus.PAUSED}),
            c.ServiceStatus.IN_SERVICE,
            gettext_lazy("Resume the service"),
            _SERVICE_RIGHTS,
            needs_stage=c.SalesStage.SIGNED,
        ),
        Step(
            "finish",
            SERVICE,
            frozenset({c.ServiceStatus.IN_SERVICE, c.ServiceStatus.PAUSED}),
            c.ServiceStatus.FINISHED,
            gettext_lazy("Finish the service"),
            _SERVICE_RIGHTS,
            asks="finish",
            destructive=True,
            needs_stage=c.SalesStage.SIGNED,
        ),
    )
}


def may(actor, step: Step) -> bool:
    """Whether the actor's role grants the step (visibility is checked separately)."""
    return any(can(actor, module, action) for module, action in step.rights)


def refusal(member: Member, step: Step) -> str:
    """Why the member's state does not allow the step ("" when it does)."""
    if step.needs_stage and member.sales_stage != step.needs_stage:
        return _("Only a signed member's service can change; this member is “%(stage)s”.") % {
            "stage": c.SalesStage(member.sales_stage).label
        }
    current = getattr(member, step.field)
    if current not in step.sources:
        choices = c.SalesStage if step.field == STAGE else c.ServiceStatus
        return _("“%(step)s” is not possible while the member is “%(state)s”.") % {
            "step": step.label,
            "state": choices(current).label if current in choices.values else current,
        }
    return ""


def allowed_steps(actor, member: Member) -> list[Step]:
    """The manual steps the actor may take for this member now: the buttons of the member page."""
    return [
        step
        for step in STEPS.values()
        if step.manual and may(actor, step) and not refusal(member, step)
    ]


def _clean_inputs(step: Step, reason: str, until: date | None, finish_reason: str) -> dict:
    errors = {}
    reason = (reason or "").strip()
    if step.asks in ("reason", "pause") and not reason:
        errors["reason"] = _("Please give a reason.")
    if step.asks == "pause":
        if until is None:
            errors["until"] = _("Please give the expected return date.")
        elif until <= timezone.localdate():
            errors["until"] = _("The expected return date must be in the future.")
    if step.asks == "finish" and finish_reason not in c.FinishReason.values:
        errors["finish_reason"] = _("Please choose why the service finished.")
    if errors:
        raise ValidationError(errors)
    return {"reason": reason[:200], "until": until, "finish_reason": finish_reason}


@transaction.atomic
def advance(
    *,
    actor,
    member: Member,
    step: str,
    reason: str = "",
    until: date | None = None,
    finish_reason: str = "",
    check_visible: bool = True,
) -> Member:
    """Take one step of the journey for the member, or refuse it.

    PermissionDenied when the actor's role lacks the step's right or the actor cannot see the
    member; ValidationError (nothing changed) when the member's state does not allow the step or
    an input is missing. `actor` None is the system (nightly jobs), which needs no right.
    """
    spec = STEPS.get(step)
    if spec is None:
        raise ValidationError(_("Unknown step."))
    if actor is not None:
        if not may(actor, spec):
            raise PermissionDenied
        if check_visible and not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
            raise PermissionDenied
    # Decide on the stored row, locked: two clicks on the same button change the state once.
    stored = Member.objects.select_for_update().get(pk=member.pk)
    problem = refusal(stored, spec)
    if problem:
        raise ValidationError(problem)
    inputs = _clean_inputs(spec, reason, until, finish_reason)
    before = getattr(stored, spec.field)
    target = spec.target
    if spec.name == "reopen" and stored.follow_up_count:
        target = c.SalesStage.FOLLOWING
    changes = {spec.field: target}
    if spec.name == "abandon":
        changes.update(abandon_reason=inputs["reason"], public_pool_at=None, next_contact_at=None)
    elif spec.name == "reopen":
        changes["abandon_reason"] = ""
    elif spec.name == "sign":
        changes["public_pool_at"] = None
    elif spec.name == "pause":
        changes.update(pause_reason=inputs["reason"], pause_until=inputs["until"])
    elif spec.name in ("resume", "start_service"):
        changes.update(pause_reason="", pause_until=None)
    elif spec.name == "finish":
        changes.update(finish_reason=inputs["finish_reason"], pause_reason="", pause_until=None)
    for name, value in changes.items():
        setattr(stored, name, value)
        setattr(member, name, value)
    stored.save(update_fields=[*changes, "updated_at"])
    _record(stored, actor, spec, before, target, inputs)
    return member


def _record(member: Member, actor, spec: Step, before: str, after: str, inputs: dict) -> None:
    choices = c.SalesStage if spec.field == STAGE else c.ServiceStatus
    summary = f"{choices(before).label} → {choices(after).label}"
    detail = inputs["reason"]
    if spec.name == "pause":
        back = _("expected back %(date)s") % {"date": inputs["until"].isoformat()}
        detail = f"{detail}（{back}）"
    elif spec.name == "finish":
        detail = str(c.FinishReason(inputs["finish_reason"]).label)
    if detail:
        summary = f"{summary}: {detail}"
    data = {"step": spec.name, "from": before, "to": after}
    if inputs["reason"]:
        data["reason"] = inputs["reason"]
    if inputs["until"]:
        data["until"] = inputs["until"].isoformat()
    if inputs["finish_reason"]:
        data["finish_reason"] = inputs["finish_reason"]
    MemberEvent.objects.create(
        member=member,
        actor=actor,
        kind=EventKind.STAGE if spec.field == STAGE else EventKind.SERVICE,
        summary=summary[:300],
        data=data,
    )
