"""Staff open, reset, close and reopen members' accounts (issue 13: "a member's account comes
from registration, from staff creating it, or from import, with a first-login password change").

Who: staff with members edit, for members in their view (`may_manage`). What the member gets: a
one-time password, shown once to the staff user (never stored in clear, never written to a log
or the timeline) and, when asked, sent to the member's mobile by SMS. It opens nothing but the
change-password page (`must_change_password`) and expires after `TEMPORARY_DAYS` unused.

Why a one-time password by SMS and not an activation link: Chinese operators hold back texts
with links unless the template is approved, and members learn to distrust links; a short code
that only leads to choosing one's own password, expires within days and is covered by the login
lock-out (django-axes, per account and per address) is as strong as an activation code, and needs
no second way in. The SMS text is never kept: the delivery is on the timeline without it.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hongniang.frontdesk.models import MemberAccount
from hongniang.members import personal_data as pd
from hongniang.members.models import EventKind, Member, MemberEvent
from hongniang.members.validators import validate_username
from hongniang.messaging.models import Channel, OptOut
from hongniang.messaging.sms import get_sms_backend
from hongniang.siteconfig.models import SiteSettings
from hongniang.staff.permissions import can

TEMPORARY_DAYS = 7
# No 0/O, 1/l/I: read aloud or typed from a phone without mistakes.
_LETTERS = "abcdefghjkmnpqrstuvwxyz"
_DIGITS = "23456789"


@dataclass(frozen=True)
class Issued:
    """What staff see once: the account and its one-time password; whether the SMS went out."""

    account: MemberAccount
    password: str
    sms_sent: bool | None  # None: not asked for


def may_manage(actor) -> bool:
    return can(actor, "members", "edit")


def _require(actor, member: Member) -> None:
    if not may_manage(actor):
        raise PermissionDenied
    if not Member.objects.visible_to(actor).filter(pk=member.pk).exists():
        raise PermissionDenied


def one_time_password() -> str:
    """Ten characters, letters and digits mixed (passes the password validators)."""
    chars = [secrets.choice(_LETTERS) for _ in range(6)] + [
        secrets.choice(_DIGITS) for _ in range(4)
    ]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def _event(member: Member, actor, summary: str, step: str, **data) -> None:
    MemberEvent.objects.create(
        member=member,
        actor=actor,
        kind=EventKind.ACCOUNT,
        summary=summary[:300],
        data={"step": step, **data},
    )


def _give(account: MemberAccount) -> str:
    password = one_time_password()
    account.set_password(password)
    account.must_change_password = True
    account.temporary_until = timezone.now() + timedelta(days=TEMPORARY_DAYS)
    return password


def login_url(site_url: str = "") -> str:
    """The member login's full address: the public site's (settings), else the one staff use."""
    from django.conf import settings
    from django.urls import reverse

    base = settings.PUBLIC_SITE_URL or site_url
    return base.rstrip("/") + reverse("portal:login")


def sms_text(member: Member, password: str, *, opened: bool, site_url: str = "") -> str:
    agency = SiteSettings.load().crm_name
    what = _("Your member account was opened") if opened else _("Your password was reset")
    text = _(
        "%(what)s: log in with this mobile and the one-time password %(password)s "
        "(valid %(days)s days; you choose your own at the first login) at %(url)s"
    ) % {"what": what, "password": password, "days": TEMPORARY_DAYS, "url": login_url(site_url)}
    return f"【{agency}】{text}" if agency else text


def _send(member: Member, password: str, *, opened: bool, site_url: str) -> bool:
    """Send the password to the member's mobile; False when there is no mobile or it failed."""
    mobile = pd.decrypt(member.mobile_encrypted) if member.mobile_encrypted else ""
    if not mobile:
        return False
    text = sms_text(member, password, opened=opened, site_url=site_url)
    return get_sms_backend().send(mobile, text).ok


def refuses_sms(member: Member) -> bool:
    """The member asked for no text messages (messaging's opt-out): none is sent, not even this."""
    return OptOut.objects.filter(member=member, channel=Channel.SMS).exists()


def _check_sms(member: Member, send_sms: bool) -> None:
    if not send_sms:
        return
    if not member.mobile_encrypted:
        raise ValidationError({"send_sms": _("This member has no mobile number to send to.")})
    if refuses_sms(member):
        raise ValidationError({"send_sms": _("This member refuses text messages.")})


def _check_username(member: Member, username: str) -> str:
    username = (username or "").strip()
    if not username or username == member.username:
        return ""
    try:
        validate_username(username)
    except ValidationError as exc:
        raise ValidationError({"username": exc.messages}) from exc
    if Member.objects.filter(username=username).exclude(pk=member.pk).exists():
        raise ValidationError({"username": _("This username is already taken.")})
    return username


def _sms_note(sent: bool | None) -> str:
    if sent is None:
        return _("the one-time password was handed over by staff")
    if sent:
        return _("the one-time password was sent by SMS")
    return _("the SMS could not be sent")


def _already(member: Member) -> str:
    return _("%(name)s already has a member account.") % {"name": member.name}


def account_open(
    *, actor, member: Member, username: str = "", send_sms: bool = False, site_url: str = ""
) -> Issued:
    """Open the member's account with a one-time password (the member logs in with their mobile,
    or the username, if given it is set). Refused when the member already has one."""
    _require(actor, member)
    _check_sms(member, send_sms)
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        if MemberAccount.objects.filter(member=member).exists():
            raise ValidationError(_already(member))
        new_username = _check_username(member, username)
        if new_username:
            member.username = new_username
            member.save(update_fields=["username", "updated_at"])
        account = MemberAccount(member=member)
        password = _give(account)
        account._history_user = actor
        try:
            with transaction.atomic():
                account.save()
        except IntegrityError:  # opened by someone else meanwhile
            raise ValidationError(
                _("%(name)s already has a member account.") % {"name": member}
            ) from None
    sent = _send(member, password, opened=True, site_url=site_url) if send_sms else None
    _event(
        member,
        actor,
        _("Member account opened: %(how)s") % {"how": _sms_note(sent)},
        "opened",
        sms=sent,
    )
    return Issued(account, password, sent)


def password_reset(*, actor, member: Member, send_sms: bool = False, site_url: str = "") -> Issued:
    """A new one-time password; the member's open sessions end (the session is tied to the
    password) and they choose their own again at the next login."""
    _require(actor, member)
    _check_sms(member, send_sms)
    with transaction.atomic():
        account = MemberAccount.objects.select_for_update().filter(member=member).first()
        if account is None:
            raise ValidationError(_("This member has no member account yet."))
        password = _give(account)
        account._history_user = actor
        account.save(update_fields=["password", "must_change_password", "temporary_until"])
    sent = _send(member, password, opened=False, site_url=site_url) if send_sms else None
    _event(
        member,
        actor,
        _("Member password reset: %(how)s") % {"how": _sms_note(sent)},
        "reset",
        sms=sent,
    )
    return Issued(account, password, sent)


def account_set_active(*, actor, member: Member, active: bool) -> MemberAccount:
    """Close (no login; an open session ends at its next page) or reopen the account."""
    _require(actor, member)
    with transaction.atomic():
        account = MemberAccount.objects.select_for_update().filter(member=member).first()
        if account is None:
            raise ValidationError(_("This member has no member account yet."))
        if account.is_active == active:
            return account
        account.is_active = active
        account._history_user = actor
        account.save(update_fields=["is_active"])
        _event(
            member,
            actor,
            _("Member account reopened") if active else _("Member account closed"),
            "reopened" if active else "closed",
        )
    return account


# --- many members at once (after an import) ----------------------------------------------------

OPEN_CHUNK = 200  # members per transaction: their accounts, history and events in bulk


def open_many(*, actor, member_ids, site_url: str = "", progress=None) -> dict:
    """Open an account, with a one-time password sent by SMS, for each of `member_ids` the actor
    sees that has none, a mobile and accepts texts: the member list's bulk job and the import's
    option. A few queries per chunk of members, never per member.

    Each chunk's accounts are committed before their texts go out (an SMS cannot be unsent; a
    job run again passes over those who have an account by then). Returns the counts."""
    if not may_manage(actor):
        raise PermissionDenied
    ids = sorted(set(member_ids))
    counts = {"opened": 0, "had_account": 0, "no_mobile": 0, "refuses_sms": 0, "sms_failed": 0}
    done = 0
    for start in range(0, len(ids), OPEN_CHUNK):
        chunk = ids[start : start + OPEN_CHUNK]
        members = list(
            Member.objects.visible_to(actor)
            .filter(pk__in=chunk)
            .order_by("pk")
            .only("pk", "mobile_encrypted")
        )
        refusing = set(
            OptOut.objects.filter(member_id__in=chunk, channel=Channel.SMS).values_list(
                "member_id", flat=True
            )
        )
        having = set(
            MemberAccount.objects.filter(member_id__in=chunk).values_list("member_id", flat=True)
        )
        candidates = []
        for member in members:
            if member.pk in having:
                counts["had_account"] += 1
            elif not member.mobile_encrypted:
                counts["no_mobile"] += 1
            elif member.pk in refusing:
                counts["refuses_sms"] += 1  # no way to tell them the password
            else:
                candidates.append(member)
        # Hashed before the transaction: the password hasher is slow on purpose.
        issued = []
        for member in candidates:
            account = MemberAccount(member=member)
            issued.append((member, account, _give(account)))
        opened = _create_accounts(actor, issued)
        counts["had_account"] += len(issued) - len(opened)
        counts["opened"] += len(opened)
        mobiles = pd.decrypt_many([m.mobile_encrypted for m, _a, _p in opened])
        events = []
        for (member, _account, password), mobile in zip(opened, mobiles, strict=True):
            text = sms_text(member, password, opened=True, site_url=site_url)
            sent = bool(mobile) and get_sms_backend().send(mobile, text).ok
            counts["sms_failed"] += not sent
            events.append(
                MemberEvent(
                    member=member,
                    actor=actor,
                    kind=EventKind.ACCOUNT,
                    summary=(_("Member account opened: %(how)s") % {"how": _sms_note(sent)})[:300],
                    data={"step": "opened", "sms": sent},
                )
            )
        MemberEvent.objects.bulk_create(events)
        done += len(chunk)
        if progress is not None:
            progress(done, len(ids))
    counts["left_out"] = len(ids) - sum(counts[k] for k in counts if k != "sms_failed")
    return counts


def _create_accounts(actor, issued: list) -> list:
    """Save the accounts of those who still have none (one transaction, a few queries);
    the [(member, account, password)] created. Tried again once if someone opened one of
    them meanwhile (the unique member refuses the whole batch)."""
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                having = set(
                    MemberAccount.objects.filter(
                        member_id__in=[m.pk for m, _a, _p in issued]
                    ).values_list("member_id", flat=True)
                )
                fresh = [row for row in issued if row[0].pk not in having]
                accounts = MemberAccount.objects.bulk_create([a for _m, a, _p in fresh])
                MemberAccount.history.bulk_history_create(accounts, default_user=actor)
            return fresh
        except IntegrityError:
            if attempt == 2:
                raise
            for _m, account, _p in issued:
                account.pk = None
    return []


def open_accounts_summary(counts: dict) -> str:
    summary = (
        _(
            "Accounts opened: %(opened)s. Already had one: %(had_account)s. "
            "No mobile: %(no_mobile)s. Refusing text messages: %(refuses_sms)s. "
            "SMS not sent: %(sms_failed)s."
        )
        % counts
    )
    if counts.get("left_out"):
        summary += " " + _("%(n)s member(s) no longer in your view were passed over.") % {
            "n": counts["left_out"]
        }
    return summary


def accounts_bulk_start(*, actor, members, site_url: str = ""):
    """Queue a job that opens an account for each of `members` (narrowed to the actor's view)
    and sends each their one-time password by SMS."""
    from django.conf import settings

    from hongniang.jobs.models import JobKind
    from hongniang.jobs.services import job_start
    from hongniang.portal import tasks

    if not may_manage(actor):
        raise PermissionDenied
    visible = Member.objects.visible_to(actor).values("pk")
    limit = settings.MESSAGING_BULK_MAX
    ids = list(
        members.filter(pk__in=visible).order_by("pk").values_list("pk", flat=True)[: limit + 1]
    )
    if not ids:
        raise ValidationError(_("No members selected."))
    if len(ids) > limit:
        raise ValidationError(_("At most %(n)s members at once: narrow the list.") % {"n": limit})
    return job_start(
        actor=actor,
        kind=JobKind.OTHER,
        title=_("Open member accounts for %(count)s member(s)") % {"count": len(ids)},
        work_task=tasks.open_accounts,
        params={"member_ids": ids, "site_url": site_url},
    )


def open_for_import(*, actor, member_ids, site_url: str = "", progress=None) -> dict:
    """The import wizard's option (members.importing.options): the same opening as the member
    list's bulk job, for the members an import has just created."""
    counts = open_many(actor=actor, member_ids=member_ids, site_url=site_url, progress=progress)
    return {**counts, "count": counts["opened"], "summary": open_accounts_summary(counts)}


def import_limit() -> int:
    from django.conf import settings

    return settings.MESSAGING_BULK_MAX
