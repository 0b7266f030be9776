import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hongniang.jobs.periodic import periodic
from hongniang.jobs.services import job_task


@periodic(
    name="impersonation_expiry",
    title=gettext_lazy("End logins as a member whose staff session expired"),
    every=datetime.timedelta(hours=1),
)
@job_task
def impersonation_expiry(run):
    from hongniang.portal import services

    with run.commit():
        closed = services.close_expired_impersonations()
    return {
        "summary": _("%(count)s login(s) as a member ended.") % {"count": closed},
        "closed": closed,
    }


@job_task
def open_accounts(run):
    """Open an account for each member of the job who has none and a mobile, and send them
    their one-time password by SMS. Each member is committed on its own (an SMS cannot be
    unsent); a job run again passes over those who have an account by then."""
    from hongniang.frontdesk.models import MemberAccount
    from hongniang.members.models import Member
    from hongniang.portal import accounts

    job = run.job
    actor = job.created_by
    ids = run.params["member_ids"]
    total = len(ids)
    run.progress(0, total, force=True)
    counts = {"opened": 0, "had_account": 0, "no_mobile": 0, "refuses_sms": 0, "sms_failed": 0}
    # Visibility is asked again: a member moved to another team meanwhile is left out.
    visible = Member.objects.visible_to(actor).filter(pk__in=ids).order_by("pk")
    having = set(
        MemberAccount.objects.filter(member_id__in=ids).values_list("member_id", flat=True)
    )
    done = 0
    for member in visible.iterator(chunk_size=200):
        done += 1
        if member.pk in having:
            counts["had_account"] += 1
        elif not member.mobile_encrypted:
            counts["no_mobile"] += 1
        elif accounts.refuses_sms(member):
            counts["refuses_sms"] += 1  # no way to tell them the password
        else:
            try:
                issued = accounts.account_open(
                    actor=actor,
                    member=member,
                    send_sms=True,
                    site_url=run.params.get("site_url", ""),
                )
            except Exception:  # noqa: BLE001 - one member's trouble must not stop the others
                counts["sms_failed"] += 1
            else:
                counts["opened"] += 1
                if not issued.sms_sent:
                    counts["sms_failed"] += 1
        run.progress(done, total)
    run.progress(total, total, force=True)
    left_out = total - done
    summary = (
        _(
            "Accounts opened: %(opened)s. Already had one: %(had_account)s. "
            "No mobile: %(no_mobile)s. Refusing text messages: %(refuses_sms)s. "
            "SMS not sent: %(sms_failed)s."
        )
        % counts
    )
    if left_out:
        summary += " " + _("%(n)s member(s) no longer in your view were passed over.") % {
            "n": left_out
        }
    return {"summary": summary, **counts, "left_out": left_out}
