"""Background jobs of messaging: one message to many members, with progress and a report."""

import io

from django.db.models import Count
from django.utils.translation import gettext as _

from hongniang.jobs.services import job_task
from hongniang.members.models import Member
from hongniang.members.presenter import member_label
from hongniang.messaging.models import Channel, Delivery, DeliveryReason, DeliveryStatus
from hongniang.messaging.services import deliver
from hongniang.workbench.xlsx import SheetWriter

CHUNK = 200


@job_task
def bulk_message(run):
    """Send to every member of the job, each at most once however often the job runs: a member
    with a delivery row for this job is passed over. Sends are not rolled back (a message
    cannot be unsent), so each delivery is committed on its own, not in `run.commit()`."""
    job = run.job
    actor = job.created_by
    p = run.params
    ids = p["member_ids"]
    total = len(ids)
    run.progress(0, total, force=True)
    done_ids = set(Delivery.objects.filter(job=job).values_list("member_id", flat=True))
    # Visibility is asked again: a member moved to another team meanwhile is not written to.
    visible = Member.objects.visible_to(actor).select_related("presales_owner", "aftersales_owner")
    done = len(done_ids)
    for start in range(0, total, CHUNK):
        chunk = [i for i in ids[start : start + CHUNK] if i not in done_ids]
        for member in visible.filter(pk__in=chunk).order_by("pk"):
            deliver(
                actor=actor,
                member=member,
                channel=p["channel"],
                subject=p["subject"],
                body=p["body"],
                job=job,
            )
            done += 1
            run.progress(done, total)
    # Claims a killed worker left "sending" may or may not have gone out: never again.
    Delivery.objects.filter(job=job, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, reason_code=DeliveryReason.INTERRUPTED
    )
    run.progress(total, total, force=True)
    return _report(run, actor, total)


def _report(run, actor, total: int) -> dict:
    rows = Delivery.objects.filter(job=run.job)
    by_status = dict(rows.values_list("status").annotate(n=Count("pk")))
    opted_out = rows.filter(reason_code=DeliveryReason.OPTED_OUT).count()
    sent = by_status.get(DeliveryStatus.SENT, 0)
    failed = by_status.get(DeliveryStatus.FAILED, 0)
    skipped = by_status.get(DeliveryStatus.SKIPPED, 0)
    not_found = total - rows.count()  # left the actor's view before they were reached
    problems = rows.exclude(status=DeliveryStatus.SENT).select_related("member").order_by("pk")
    if problems.exists():
        run.attach(
            f"{run.job.title}-failed.xlsx", _problem_sheet(actor, problems), failed_rows=True
        )
    summary = _(
        "Sent: %(sent)s. Failed: %(failed)s. Skipped: %(skipped)s "
        "(of which %(opted_out)s refused this channel)."
    ) % {"sent": sent, "failed": failed, "skipped": skipped, "opted_out": opted_out}
    if not_found:
        summary += " " + _("%(n)s member(s) no longer in your view were left out.") % {
            "n": not_found
        }
    return {
        "summary": summary,
        "sent": sent,
        "failed": failed,
        "skipped": skipped,
        "opted_out": opted_out,
        "not_found": not_found,
    }


def _problem_sheet(actor, deliveries) -> bytes:
    out = io.BytesIO()
    with SheetWriter(out, _("Not sent"), widths=[10, 24, 10, 10, 36, 40]) as sheet:
        sheet.header(
            [_("UID"), _("Member"), _("Channel"), _("Status"), _("Why not sent"), _("Detail")]
        )
        for d in deliveries.iterator(chunk_size=500):
            sheet.row(
                [
                    d.member_id,
                    member_label(actor, d.member),
                    str(Channel(d.channel).label),
                    d.get_status_display(),
                    d.get_reason_code_display() if d.reason_code else "",
                    d.detail,
                ]
            )
    return out.getvalue()
