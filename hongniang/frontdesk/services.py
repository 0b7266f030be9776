"""Writes of the front desk: consultations, registrations, referral codes, its settings."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.members import choices as c
from hongniang.members import personal_data as pd
from hongniang.members import services as member_services
from hongniang.members.models import AllocationKind
from hongniang.members.selectors import assignees, serves
from hongniang.messaging.services import notify
from hongniang.staff.permissions import can

from .models import (
    PREFERENCES,
    Consultation,
    ConsultationStatus,
    FrontDeskSettings,
    MemberAccount,
    ReferralCode,
    Registration,
    member_editable_choices,
)
from .selectors import consultations_visible


def consultation_submit(*, name: str, mobile: str, message: str, heard_from: str = ""):
    """A visitor's request from the public form; it waits, pending, in the lead store."""
    mobile = pd.normalize_mobile(mobile)
    consultation = Consultation(
        name=name.strip()[:30],
        message=message.strip()[:1000],
        heard_from=heard_from,
        store=FrontDeskSettings.load().default_store,
        mobile_encrypted=pd.encrypt(mobile),
        mobile_hash=pd.lookup_hash(mobile),
        mobile_masked=pd.mask_mobile(mobile),
    )
    consultation.full_clean()
    consultation.save()
    return consultation


def _visible(actor, consultation) -> None:
    if not consultations_visible(actor).filter(pk=consultation.pk).exists():
        raise PermissionDenied


@transaction.atomic
def consultation_assign(*, actor, consultation: Consultation, to) -> Consultation:
    """Hand a consultation to a pre-sales matchmaker of the actor's team, who gets a notice."""
    if not can(actor, "members", "allocate"):
        raise PermissionDenied
    _visible(actor, consultation)
    if not assignees(viewer=actor, kind=AllocationKind.PRESALES).filter(pk=to.pk).exists():
        raise ValidationError(
            {"to": _("You can only assign to an active matchmaker of your team.")}
        )
    if consultation.assigned_to_id == to.pk:
        return consultation
    consultation.assigned_to = to
    consultation.assigned_at = timezone.now()
    if consultation.status == ConsultationStatus.PENDING:
        consultation.status = ConsultationStatus.IN_PROGRESS
    consultation.save(update_fields=["assigned_to", "assigned_at", "status", "updated_at"])
    if to.pk != actor.pk:
        notify(
            recipient=to,
            text=_("%(actor)s assigned you a consultation: %(name)s")
            % {"actor": actor.name, "name": consultation.name},
            link=reverse("frontdesk:consultation", args=[consultation.pk]),
        )
    return consultation


@transaction.atomic
def consultation_update(*, actor, consultation: Consultation, status: str, result: str):
    if not can(actor, "presales", "edit"):
        raise PermissionDenied
    _visible(actor, consultation)
    if status not in ConsultationStatus.values:
        raise ValidationError({"status": _("Choose a status.")})
    consultation.status, consultation.result = status, result.strip()[:1000]
    consultation.save(update_fields=["status", "result", "updated_at"])
    return consultation


@transaction.atomic
def consultation_convert(*, actor, consultation: Consultation, member, preference, **personal):
    """Turn the consultation into a member waiting in the 未成交待分配 pool; the consultation
    is done and points at the member."""
    _visible(actor, consultation)
    if consultation.member_id:
        raise ValidationError(_("This consultation is already a member."))
    member = member_services.member_create(
        actor=actor,
        member=member,
        preference=preference,
        source=c.Source.CONSULTATION,
        to_pool=True,
        **personal,
    )
    consultation.member = member
    consultation.status = ConsultationStatus.DONE
    consultation.save(update_fields=["member", "status", "updated_at"])
    return member


def consultation_mobile(consultation: Consultation) -> str:
    """The full number, for the form that turns the consultation into a member."""
    return pd.decrypt(consultation.mobile_encrypted)


@transaction.atomic
def register(*, member, preference, mobile: str, id_number: str, password: str, referrer=None):
    """A visitor's registration: the member (in the pool, or the referrer's), their login for
    the public site (password hashed) and the credit to the referrer.

    A mobile or ID number already on file keeps nothing and returns None: the visitor is
    answered as for any registration (the form must not tell an outsider who is a member),
    and the member's matchmakers are told, to get in touch."""
    existing = member_services.registered_member(
        mobile=mobile, id_number=id_number, id_type=member.id_type
    )
    if existing is not None:
        _registered_again(existing)
        return None
    member = member_services.member_register(
        member=member,
        preference=preference,
        mobile=mobile,
        id_number=id_number,
        owner=referrer,
        store=FrontDeskSettings.load().default_store,
    )
    account = MemberAccount(member=member)
    account.set_password(password)
    account.save()
    Registration.objects.create(member=member, referrer=referrer)
    return member


def _registered_again(member) -> None:
    from hongniang.members.presenter import member_label

    link = reverse("members:detail", args=[member.pk])
    owners = {o for o in (member.presales_owner, member.aftersales_owner) if o and o.is_active}
    for owner in owners:
        notify(
            recipient=owner,
            text=_(
                "%(name)s registered again on the website, with a mobile or ID number already "
                "on file: please get in touch."
            )
            % {"name": member_label(owner, member)},
            link=link,
        )


def referral_code_for(staff) -> ReferralCode:
    code, _created = ReferralCode.objects.get_or_create(staff=staff)
    return code


def referrer_for(code: str):
    """The active matchmaker a referral code belongs to, or None (unknown, left, or not doing
    pre-sales work: the member would wait for someone who cannot take them)."""
    if not code:
        return None
    row = ReferralCode.objects.select_related("staff__role").filter(code=code[:16]).first()
    if row is None or not row.staff.is_active or not serves(row.staff, AllocationKind.PRESALES):
        return None
    return row.staff


@transaction.atomic
def settings_update(
    *, actor, required_fields: list[str], default_store, member_editable_fields=None
) -> FrontDeskSettings:
    if not can(actor, "settings", "edit"):
        raise PermissionDenied
    obj = FrontDeskSettings.load()
    obj.required_fields = sorted(set(required_fields))
    obj.default_store = default_store
    if member_editable_fields is not None:
        allowed = {*member_editable_choices(), PREFERENCES}
        # The identity fields never, whatever was posted.
        obj.member_editable_fields = [f for f in member_editable_fields if f in allowed]
    obj.save()
    return obj
