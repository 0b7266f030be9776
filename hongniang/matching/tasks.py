"""Background jobs of the matching app: the engine snapshot, and the stalled-couples report.

When a snapshot is built:
- on demand, when a page needs the engine and no snapshot exists (`index.ensure_build_job`:
  queued at once, the page shows its progress);
- when the change log has grown by ENGINE_FOLD_EVERY rows past the newest snapshot: the process
  that notices asks for a fold (load the newest snapshot, apply the log, save: seconds);
- every night, a full rebuild from the database (below; `manage.py build_engine_snapshot` by hand).
"""

from datetime import time

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hongniang.jobs.periodic import periodic
from hongniang.jobs.services import job_task
from hongniang.matching import index, services
from hongniang.matching.engine import snapshot


@periodic(name="stalled_pairs", title=gettext_lazy("Report stalled couples"), at=time(8, 0))
@job_task
def stalled_pairs(run):
    with run.commit():
        told = services.stalled_pairs_notify()
    return {"summary": _("%(count)s stalled couple(s) reported.") % {"count": told}}


def _build(run, full: bool) -> dict:
    run.progress(0, 0, _("Reading the members…"), force=True)
    path = index.build_snapshot(full=full, progress=run.progress)
    meta = snapshot.read_meta(path)
    return {
        "summary": _("Snapshot %(name)s: %(count)s member(s).")
        % {"name": path.name, "count": meta.get("members", 0)},
        "snapshot": path.name,
        "position": meta.get("position", 0),
    }


@job_task
def engine_snapshot(run):
    """Build (or fold the change log into) a new engine snapshot; the web processes load it."""
    return _build(run, bool(run.params.get("full", True)))


@periodic(
    name="matching_learn",
    title=gettext_lazy("Matching engine: learn from outcomes"),
    at=time(2, 30),
)
@job_task
def learn_model(run):
    """Fit the directional yes-model to the recorded outcomes (before the nightly rebuild,
    which then loads it); the defaults stay unless the fit beats them on the latest ones."""
    run.progress(0, 0, _("Reading the outcomes…"), force=True)
    with run.commit():
        model = services.learn_model()
    if model.accepted:
        summary = _("Learned from %(count)s outcome(s); check AUC %(auc).3f (defaults %(base).3f).")
        values = {"count": model.trained_on, "auc": model.check_auc, "base": model.default_auc}
    else:
        summary = _("Defaults kept: %(reason)s (%(count)s outcome(s)).")
        values = {"reason": model.get_reason_display(), "count": model.trained_on}
    return {"summary": summary % values, "model": model.pk}


@periodic(
    name="engine_snapshot", title=gettext_lazy("Matching engine: nightly rebuild"), at=time(3, 0)
)
@job_task
def engine_snapshot_nightly(run):
    """A full rebuild from the database every night: what the log cannot express (a birthday
    that became valid, ages crossing the legal minimum) is read afresh."""
    return _build(run, True)
