"""The process's matching engine: built from the database on first use, then kept current.

Members are upserted after every committed change (signals in `apps.py`), removed when deleted;
recorded feedback, appointment outcomes and boosts are replayed at build time so a restart
loses nothing. One engine per process; several web processes each keep their own copy.
"""

import logging
import threading

from django.conf import settings
from django.db import transaction
from django.utils import translation

from hongniang.matching import adapter
from hongniang.matching import engine as eng

logger = logging.getLogger(__name__)
_lock = threading.RLock()
_engine: eng.Engine | None = None


def engine_config() -> eng.EngineConfig:
    from hongniang.siteconfig.models import SiteSettings

    site = SiteSettings.load()
    return eng.EngineConfig(
        rules=eng.Rules(
            sex_pairing=site.match_sex_pairing,
            min_age_male=site.match_min_age_male,
            min_age_female=site.match_min_age_female,
        )
    )


def _profiles(unusable: dict[int, str]):
    """Profiles of every matchable member; the rows the engine cannot use go to `unusable`
    (id → reason) instead of failing the build."""
    from hongniang.members.models import MatePreference, Member

    prefs = {p.member_id: p for p in MatePreference.objects.all().iterator(chunk_size=5000)}
    rule = adapter.candidate_rule()
    for member in Member.objects.all().iterator(chunk_size=5000):
        try:
            profile = adapter.profile(member, prefs.get(member.pk), rule=rule)
        except adapter.RecordError as exc:
            unusable[member.pk] = "；".join(exc.reasons)
            continue
        if profile is not None:
            yield profile


def _region_names() -> dict[int, str]:
    """City and province names for the engine's explanations ("广州市", not "440100")."""
    from hongniang.members.regions import Region

    return {
        int(code): name
        for code, name in Region.objects.filter(level__lte=2).values_list("code", "name")
    }


def _replay(engine: eng.Engine) -> None:
    from hongniang.matching.models import Appointment, Boost, Recommendation

    for rec in (
        Recommendation.objects.filter(status__in=["accepted", "declined"])
        .only("member_id", "candidate_id", "status", "decline_reasons")
        .iterator()
    ):
        reasons = rec.decline_reasons if isinstance(rec.decline_reasons, list) else []
        _safe(
            engine.feedback,
            rec.member_id,
            rec.candidate_id,
            rec.status == "accepted",
            [r for r in reasons if isinstance(r, str) and r in eng.REASONS],
        )
    for appt in Appointment.objects.filter(status="held").iterator():
        for kind in appointment_interactions(appt):
            _safe(engine.interaction, appt.member_id, appt.partner_id, kind)
            _safe(engine.interaction, appt.partner_id, appt.member_id, kind)
    for boost in Boost.objects.all().iterator():
        _safe(engine.boost, boost.member_id, boost.candidate_id, boost.pin, float(boost.points))


def _safe(fn, *args):
    # A member may no longer be matchable (no birthday yet, removed): nothing to apply then.
    # A corrupt stored answer or boost is logged and left out, never fails the engine.
    try:
        fn(*args)
    except KeyError:
        pass
    except (ValueError, TypeError) as exc:
        logger.warning("matching engine: event %s%r left out: %s", fn.__name__, args, exc)


def appointment_interactions(appt) -> list[str]:
    kinds = ["appointment_held"]
    if appt.outcome == "continue":
        kinds.append("appointment_continue")
    elif appt.outcome == "stop":
        kinds.append("appointment_stop")
    return kinds


def get_engine() -> eng.Engine:
    global _engine
    if _engine is None:
        config = engine_config()  # outside the lock: loading settings may save (and reset)
        with _lock:
            if _engine is None:
                unusable: dict[int, str] = {}
                # Reasons and labels in the agency's language, whoever happens to ask first.
                with translation.override(settings.LANGUAGE_CODE):
                    built = eng.Engine.build(
                        _profiles(unusable),
                        config,
                        region_names=_region_names(),
                        tag_labels=adapter.tag_labels(),
                    )
                for member_id, reason in unusable.items():
                    built.skip(member_id, reason)
                _replay(built)
                _engine = built
    return _engine


def skipped() -> dict[int, str]:
    """Members the engine had to leave out, with the reason (member id → reason)."""
    return get_engine().skipped


def score_line(result) -> "eng.ScoreLine":
    """The result's score as parts that add up at the precision shown."""
    return eng.score_line(result, get_engine().config.weights)


def skip_reason(member_id: int) -> str | None:
    return get_engine().skipped.get(member_id)


def reset() -> None:
    """Drop the engine (tests; after the hard rules change); the next use rebuilds it."""
    global _engine
    with _lock:
        _engine = None


def _sync(member_id: int) -> None:
    if _engine is None:
        return  # not built yet: the build will read the row
    from hongniang.members.models import MatePreference, Member

    member = Member.objects.filter(pk=member_id).first()
    try:
        with translation.override(settings.LANGUAGE_CODE):
            profile = (
                adapter.profile(member, MatePreference.objects.filter(member_id=member_id).first())
                if member
                else None
            )
        if profile is None:
            _engine.remove(member_id)
        else:
            _engine.upsert(profile)
    except adapter.RecordError as exc:
        # The changed row is unusable: take the member out (as a rebuild would) and report it.
        _engine.skip(member_id, "；".join(exc.reasons))
    except ValueError as exc:
        _engine.skip(member_id, str(exc))


def member_changed(member_id: int) -> None:
    """Keep the engine current once the change is committed (a rollback changes nothing)."""
    transaction.on_commit(lambda: _sync(member_id))


SYNC_BATCH = 1000


def _sync_many(member_ids: list[int]) -> None:
    """Upsert many members, reading them a batch at a time (two queries per batch)."""
    if _engine is None:
        return
    from hongniang.members.models import MatePreference, Member

    with translation.override(settings.LANGUAGE_CODE):
        for start in range(0, len(member_ids), SYNC_BATCH):
            batch = member_ids[start : start + SYNC_BATCH]
            members = Member.objects.in_bulk(batch)
            prefs = {p.member_id: p for p in MatePreference.objects.filter(member_id__in=batch)}
            for member_id in batch:
                member = members.get(member_id)
                try:
                    profile = adapter.profile(member, prefs.get(member_id)) if member else None
                    if profile is None:
                        _engine.remove(member_id)
                    else:
                        _engine.upsert(profile)
                except adapter.RecordError as exc:
                    _engine.skip(member_id, "；".join(exc.reasons))
                except ValueError as exc:
                    _engine.skip(member_id, str(exc))


def members_changed(member_ids: list[int]) -> None:
    """Many members at once (a bulk import), once the change is committed."""
    ids = list(member_ids)
    if ids:
        transaction.on_commit(lambda: _sync_many(ids))


def with_engine(fn, *args, **kwargs):
    """Apply a change to the engine after commit, if it is built (else the build replays it)."""

    def apply():
        if _engine is not None:
            _safe(lambda *a: fn(_engine, *a, **kwargs), *args)

    transaction.on_commit(apply)
