"""Background jobs of the members app: exports and imports run outside requests, with progress."""

import datetime
import gc
import time
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hongniang.jobs.models import Job, JobKind, JobState
from hongniang.jobs.periodic import periodic
from hongniang.jobs.services import STALE_AFTER, job_task
from hongniang.members import excel, selectors
from hongniang.members.forms import MemberFilterForm
from hongniang.members.importing import options as import_options
from hongniang.members.importing import pipeline, report, snapshot, writer


def export_queryset(viewer, query: str):
    """The members an export of the list filtered by `query` (a query string) writes."""
    # The sorting lives with the list view; the export keeps the list's order.
    from hongniang.members.views import MEMBER_SORTING

    params = QueryDict(query)
    form = MemberFilterForm(params or None, viewer=viewer)
    filters = form.cleaned_data if form.is_valid() else {}
    return MEMBER_SORTING.apply(selectors.member_list(viewer=viewer, filters=filters), params)


@job_task
def export_members(run):
    viewer = run.job.created_by
    qs = export_queryset(viewer, run.params.get("query", ""))
    total = qs.count()
    run.progress(0, total, force=True)
    content = excel.export_workbook(
        qs, viewer, full=bool(run.params.get("full")), progress=lambda done: run.progress(done)
    )
    run.progress(total, total, force=True)
    run.attach(f"members-{timezone.localdate():%Y%m%d}.xlsx", content)
    return {"summary": _("%(count)s member(s) exported.") % {"count": total}, "count": total}


# --- Import -----------------------------------------------------------------------------------

PREVIEW, CONFIRM = "preview", "confirm"
WAIT_POLL = 2.0  # seconds between looks at the import ahead of this one


@contextmanager
def _without_cyclic_gc():
    """An import builds millions of small objects (a dict and a list per row, the values, the
    ready rows) and keeps them to the end: Python's cycle collector would walk them all again
    and again as they pile up (a third of a 100,000-row import's CPU time). They hold no
    reference cycles worth collecting mid-job, so the collector waits until the job is over."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def snapshot_path(token: str):
    return excel.upload_path(token).with_suffix(".checked")


def _check(run):
    """Read the upload and check every row, except against the registered members (the
    caller's ``match_database``): the checker, the outcomes, the headers and the mapping."""
    params = run.params
    path = excel.upload_path(params["token"])
    if not path.exists():
        raise ValidationError(_("This upload has expired. Please upload the file again."))
    source = pipeline.open_upload(
        path, file_name=params.get("file_name", ""), sheet=params.get("sheet")
    )
    try:
        mapping = params.get("mapping") or pipeline.default_mapping(source)
        total = getattr(source, "total_rows", None)
        run.progress(0, total, _("Checking the rows…"), force=True)
        checker = pipeline.Checker(run.job.created_by)
        outcomes = checker.check(
            pipeline.mapped_rows(source, mapping),
            total=total,
            progress=lambda done, total: run.progress(done, total),
            database=False,
        )
    finally:
        source.close()
    return checker, outcomes, source.headers, mapping


def _checked_by_preview(run):
    """The preview's checked rows, when it checked this file with this mapping for this user:
    the confirm then need not read and check the file again."""
    params = run.params
    saved = snapshot.load(snapshot_path(params["token"]))
    if not saved or saved.get("actor") != run.job.created_by_id:
        return None
    if saved.get("asked") != [params.get("mapping"), params.get("sheet")]:
        return None  # checked with another mapping or sheet
    checker = pipeline.Checker(run.job.created_by)
    return checker, saved["outcomes"], saved["headers"], saved["mapping"]


def _attach_rows_to_fix(run, headers, outcomes, labels) -> bool:
    if not any(o.errors or o.warnings for o in outcomes):
        return False
    stem = str(run.params.get("file_name") or "import").rsplit(".", 1)[0]
    run.attach(
        f"{stem}-rows-to-fix.xlsx",
        report.rows_to_fix(headers, outcomes, labels),
        failed_rows=True,
    )
    return True


@job_task
def import_preview(run):
    """Check an upload and count what a confirm would do; writes nothing but the job (and the
    checked rows, for the confirm)."""
    with _without_cyclic_gc():
        return _preview(run)


def _preview(run):
    checker, outcomes, headers, mapping = _check(run)
    snapshot.save(
        snapshot_path(run.params["token"]),
        {
            "actor": run.job.created_by_id,
            "asked": [run.params.get("mapping"), run.params.get("sheet")],
            "mapping": mapping,
            "headers": headers,
            "outcomes": outcomes,
        },
    )
    checker.match_database(outcomes)
    labels = report.Labels(headers, mapping)
    counts = report.counts(outcomes)
    _attach_rows_to_fix(run, headers, outcomes, labels)
    return {
        "counts": counts,
        "samples": report.samples(outcomes, labels),
        "total": len(outcomes),
        "summary": _(
            "%(new)s new, %(existing)s already registered, %(rejected)s rejected, "
            "%(warned)s with warnings."
        )
        % counts,
    }


def _import_ahead(job: Job) -> Job | None:
    """An import confirmed before this one and not finished: this one waits for it."""
    now = timezone.now()
    for other in (
        Job.objects.filter(
            kind=JobKind.MEMBER_IMPORT,
            params__step=CONFIRM,
            state__in=[JobState.QUEUED, JobState.RUNNING],
            created_at__lt=job.created_at,
        )
        .exclude(pk=job.pk)
        .select_related("created_by")
        .order_by("created_at")
    ):
        # A job whose worker died is queued again by the worker's recovery; one not heard of
        # for long is not waited for.
        last = other.heartbeat_at or other.created_at
        if now - last <= STALE_AFTER:
            return other
    return None


def import_waiting_message(ahead: Job) -> str:
    return _(
        "Waiting for the import started by %(name)s at %(time)s to finish; this one starts "
        "by itself after it."
    ) % {
        "name": ahead.created_by.name if ahead.created_by else _("system"),
        "time": timezone.localtime(ahead.created_at).strftime("%H:%M"),
    }


def _wait_for_turn(run) -> None:
    """One import writes at a time: its check must see the members the one before added."""
    while ahead := _import_ahead(run.job):
        run.progress(0, None, import_waiting_message(ahead), force=True)
        time.sleep(WAIT_POLL)


@job_task
def import_confirm(run):
    """Check the upload again (members may have been added since the preview), then write it
    in one transaction together with the job's "succeeded" state."""
    _wait_for_turn(run)
    with _without_cyclic_gc():
        return _confirm(run)


def _confirm(run):
    actor = run.job.created_by
    checker, outcomes, headers, mapping = _checked_by_preview(run) or _check(run)
    # Registered members are looked up again: others may have added some since the preview.
    checker.match_database(outcomes)
    labels = report.Labels(headers, mapping)
    mode = run.params.get("mode", pipeline.Mode.SKIP)
    run.progress(len(outcomes), len(outcomes), _("Saving…"), force=True)
    prepared = writer.prepare(outcomes, actor, mode=mode)

    def written(result: writer.WriteResult):
        # Inside the transaction, before "succeeded": the result and its file land together.
        counts = report.counts(outcomes)
        run.result.update(
            {
                "counts": counts,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "skipped": result.skipped,
                "rejected": counts[pipeline.Status.REJECTED],
                "warned": counts["warned"],
                "total": len(outcomes),
                "samples": report.samples(outcomes, labels),
                "summary": _(
                    "%(created)s member(s) imported, %(updated)s updated, %(skipped)s "
                    "skipped as already registered, %(rejected)s row(s) rejected, "
                    "%(warned)s with warnings."
                )
                % {
                    "created": result.created,
                    "updated": result.updated,
                    "skipped": result.skipped,
                    "rejected": counts[pipeline.Status.REJECTED],
                    "warned": counts["warned"],
                },
            }
        )
        _attach_rows_to_fix(run, headers, outcomes, labels)

    result = writer.write(
        prepared,
        actor,
        file_name=run.params.get("file_name", ""),
        job_id=str(run.job.pk),
        commit=run.commit,
        on_written=written,
    )
    excel.discard_upload(run.params["token"])
    return _run_options(run, result.created_ids)


def _run_options(run, member_ids: list[int]) -> dict:
    """The options chosen on the confirm step, for the members just created (committed: an
    option's texts must not go out for rows that could still roll back). Their counts join
    the job's result under "options"."""
    actor = run.job.created_by
    done, summaries = {}, []
    for key in run.params.get("options", []):
        option = import_options.get(key)
        if option is None or not member_ids:
            continue
        if not option.allowed(actor):  # the right was lost since the confirm
            summaries.append(_("%(option)s: not done, you may not.") % {"option": option.label})
            continue
        limit = option.limit()
        if limit is not None and len(member_ids) > limit:
            summaries.append(
                _("%(option)s: not done, more than %(n)s members.")
                % {"option": option.label, "n": limit}
            )
            continue
        run.progress(0, len(member_ids), str(option.label), force=True)
        outcome = option.run(
            actor=actor,
            member_ids=member_ids,
            site_url=run.params.get("site_url", ""),
            progress=lambda n, total: run.progress(n, total),
        )
        done[key] = outcome
        summaries.append(outcome["summary"])
    if not summaries:
        return {}
    return {
        "options": done,
        "summary": " ".join([run.result.get("summary", ""), *summaries]).strip(),
    }


@periodic(
    name="pool_return",
    title=gettext_lazy("Return idle members to the public pool"),
    at=datetime.time(2, 30),
)
@job_task
def pool_return(run):
    """Members not followed up within the agency's limit go back to the public pool."""
    from hongniang.members import services

    with run.commit():
        returned = services.public_pool_return()
    return {
        "summary": _("%(count)s member(s) back in the public pool.") % {"count": returned},
        "returned": returned,
    }


@periodic(
    name="allocation_expiry",
    title=gettext_lazy("Return unaccepted allocations"),
    every=datetime.timedelta(minutes=15),
)
@job_task
def allocation_expiry(run):
    """Allocations not accepted in time go back to whoever allocated them."""
    from hongniang.members import services

    with run.commit():
        expired = services.allocations_expire()
    return {
        "summary": _("%(count)s allocation(s) returned.") % {"count": expired},
        "expired": expired,
    }
