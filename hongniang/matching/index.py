"""The process's matching engine: loaded from a snapshot, kept current by the change log.

One state for every process:
- Every change that affects matching appends a row to the engine change log
  (`models.EngineChange`) in the same transaction as the change: `record_members` (profile,
  preferences, state, deletion; called by the signals in `apps.py` and by bulk writers through
  `members.signals.members_bulk_changed`) and `record` (answers, behaviour, boosts, settings).
- The worker builds the engine from the database and saves it as a snapshot directory
  (`build_snapshot`, run as a job by `tasks.engine_snapshot`), recording the log position it
  includes. A web process loads the newest snapshot (memory-mapped) on first use and never
  builds the engine inside a request: until a snapshot exists, `get_engine` raises
  `EngineNotReady` (and makes sure a build job is queued), and the pages say so.
- Before it answers, `get_engine` applies the log rows the process has not seen, with one
  indexed query (`id > position`), re-reading the changed members in bulk.

Tests may build in-process (setting `ENGINE_BUILD_IN_REQUEST`).
"""

import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone, translation

from hongniang.matching import adapter
from hongniang.matching import engine as eng
from hongniang.matching.engine import snapshot
from hongniang.workbench.bulk import insert_rows

logger = logging.getLogger(__name__)
_lock = threading.RLock()

SNAPSHOT_PREFIX = "snapshot-"
# Ids missing below the newest log row seen may belong to transactions not yet committed
# (PostgreSQL hands out ids before commit); they are asked for again for this long.
GAP_SECONDS = 900
GAP_WINDOW = 10_000
_BULK = 2000


class EngineNotReady(Exception):
    """No snapshot to load yet; `job` is the build job the page can show progress of."""

    def __init__(self, job=None):
        self.job = job
        super().__init__("the matching engine is being prepared")


@dataclass
class _State:
    engine: eng.Engine
    position: int  # the highest log id applied
    gaps: dict[int, float] = field(default_factory=dict)  # log id → when first missed
    source: str = "built"
    snapshot: str = ""
    checked_at: float = field(default_factory=time.monotonic)
    waiting_for: int = 0  # a change the process cannot apply itself (awaits a newer snapshot)
    rule: "adapter.CandidateRule | None" = None  # who may be offered, as the engine holds it
    snapshot_position: int = 0  # the log position its snapshot included
    # Changed members whose profile a request has not read again yet (a long backlog is read
    # a bounded number at a time); their status is current meanwhile (`_hold_back`).
    deferred: dict[int, None] = field(default_factory=dict)


_state: _State | None = None


# --- settings ------------------------------------------------------------------------------------


# The site settings `engine_config` reads: saving them with other values logs a settings change.
# (A setting that changes who may be matched at all should log `rebuild=True` instead.)
SETTINGS_FIELDS = (
    "match_sex_pairing",
    "match_min_age_male",
    "match_min_age_female",
    "candidate_states",
    "candidate_consenting",
)


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


def current_model() -> eng.Model:
    """The directional yes-model in use: the newest run of the learning step that beat the
    defaults, else the defaults."""
    from hongniang.matching.models import MatchModel

    row = MatchModel.objects.filter(accepted=True).order_by("-trained_at", "-pk").first()
    if row is None:
        return eng.Model()
    try:
        return eng.Model(
            intercept=row.intercept,
            fit=row.fit,
            appeal=row.appeal,
            selectivity=row.selectivity,
            collaborative=row.collaborative,
            declined=row.declined,
            liked=row.liked,
            rate_prior=row.rate_prior,
        )
    except ValueError:  # a row edited by hand into something the engine refuses
        logger.warning("matching engine: learned model %s unusable, defaults used", row.pk)
        return eng.Model()


def snapshot_root() -> Path:
    return Path(settings.ENGINE_SNAPSHOT_DIR)


def _prefix() -> str:
    """Snapshot names carry their database's key, so that a directory shared by mistake (a
    development and a bench database) never serves one database's engine to the other."""
    db = settings.DATABASES["default"]
    key = hashlib.sha256(f"{connection.vendor}:{db['NAME']}".encode()).hexdigest()[:8]
    return f"{SNAPSHOT_PREFIX}{key}-"


# --- the change log ------------------------------------------------------------------------------


RECORD_COLUMNS = ("kind", "member_id", "other_id", "data", "created_at")


def record_members(member_ids: Iterable[int]) -> None:
    """These members' rows changed (or were deleted): part of the caller's transaction."""
    from hongniang.matching.models import EngineChange, EngineChangeKind

    ids = list(dict.fromkeys(int(pk) for pk in member_ids if pk is not None))
    if len(ids) <= 1:  # a form's save: the ORM is fine
        EngineChange.objects.bulk_create(
            [EngineChange(kind=EngineChangeKind.MEMBER, member_id=pk) for pk in ids]
        )
        return
    # An import's 100,000 members: one bulk insert (COPY on PostgreSQL), since the ORM's
    # bulk_create compiles every value in Python (seconds at that size). The values are those
    # bulk_create would write.
    meta = EngineChange._meta
    created_at = meta.get_field("created_at").get_db_prep_save(timezone.now(), connection)
    data = meta.get_field("data").get_db_prep_save({}, connection)
    kind = EngineChangeKind.MEMBER.value
    insert_rows(
        meta.db_table,
        [meta.get_field(name).column for name in RECORD_COLUMNS],
        ((kind, pk, None, data, created_at) for pk in ids),
    )


def record(kind: str, member_id: int | None = None, other_id: int | None = None, **data) -> None:
    """An event the engine replays (an answer, behaviour, a boost, new settings)."""
    from hongniang.matching.models import EngineChange

    EngineChange.objects.create(kind=kind, member_id=member_id, other_id=other_id, data=data)


def appointment_interactions(appt) -> list[str]:
    kinds = ["appointment_held"]
    if appt.outcome == "continue":
        kinds.append("appointment_continue")
    elif appt.outcome == "stop":
        kinds.append("appointment_stop")
    return kinds


def _log_head() -> tuple[int, set[int]]:
    """The newest log id and the ids missing just below it (maybe not committed yet)."""
    from hongniang.matching.models import EngineChange

    position = EngineChange.objects.aggregate(top=Max("id"))["top"] or 0
    if connection.vendor == "sqlite":
        return position, set()  # one writer at a time: ids are committed in order
    low = max(0, position - GAP_WINDOW)
    present = set(
        EngineChange.objects.filter(id__gt=low, id__lte=position).values_list("id", flat=True)
    )
    first = min(present, default=position + 1)
    return position, set(range(first, position + 1)) - present


def _ids_q(ids) -> Q:
    """Log rows with these ids, as one range per run of consecutive ids: a sequence that jumped
    (rolled-back transactions use ids too) leaves thousands of missing ids, and an IN list of
    them cost PostgreSQL ~190 ms on every request for as long as they were watched."""
    runs: list[list[int]] = []
    for i in sorted(ids):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    where = Q(pk__in=[])
    for low, high in runs:
        where |= Q(id=low) if low == high else Q(id__range=(low, high))
    return where


# --- applying changes ----------------------------------------------------------------------------


def _safe(fn, *args):
    # A member may no longer be matchable (no birthday yet, removed): nothing to apply then.
    # A corrupt stored answer or boost is logged and left out, never fails the engine.
    try:
        fn(*args)
    except KeyError:
        pass
    except (ValueError, TypeError) as exc:
        logger.warning("matching engine: event %s%r left out: %s", fn.__name__, args, exc)


def _sync_members(engine: eng.Engine, member_ids: Iterable[int]) -> None:
    """Re-read these members (in bulk) and upsert, remove or skip each."""
    from hongniang.members.models import MatePreference, Member

    ids = list(dict.fromkeys(member_ids))
    rule = adapter.candidate_rule() if ids else None
    with translation.override(settings.LANGUAGE_CODE):
        for start in range(0, len(ids), _BULK):
            part = ids[start : start + _BULK]
            members = Member.objects.in_bulk(part)
            prefs = {p.member_id: p for p in MatePreference.objects.filter(member_id__in=part)}
            for member_id in part:
                member = members.get(member_id)
                try:
                    profile = (
                        adapter.profile(member, prefs.get(member_id), rule=rule) if member else None
                    )
                    if profile is None:
                        engine.remove(member_id)
                    else:
                        engine.upsert(profile)
                except adapter.RecordError as exc:
                    # The changed row is unusable: out (as a rebuild would), and reported.
                    engine.skip(member_id, "；".join(exc.reasons))
                except ValueError as exc:
                    engine.skip(member_id, str(exc))


def _hold_back(engine: eng.Engine, member_ids: list[int]) -> None:
    """The status of members whose profile is read again later: whoever may no longer be
    offered (hidden, married, under age, abandoned, paused, no longer offered by the candidate
    setting, deleted) is out of the rankings at once; one query, and no profile is encoded."""
    from hongniang.members import choices as c
    from hongniang.members.models import Member, age_on

    rule, rules = adapter.candidate_rule(), engine.config.rules
    today = timezone.localdate()
    fields = ("sales_stage", "service_status", "consents_to_introduction")
    for start in range(0, len(member_ids), _BULK):
        part = member_ids[start : start + _BULK]
        statuses = dict.fromkeys(part, "hidden")  # deleted: out
        rows = Member.objects.filter(pk__in=part).values_list(
            "pk", "is_hidden", "marital_status", "birthday", "sex", *fields
        )
        for pk, hidden, marital, birthday, sex, *state in rows:
            minimum = rules.min_age_male if sex == c.Sex.MALE else rules.min_age_female
            if (
                hidden
                or marital == c.MaritalStatus.MARRIED
                or birthday is None
                or sex not in eng.SEXES
                or age_on(birthday, today) < minimum
            ):
                continue
            statuses[pk] = adapter.engine_status(_StateRow(*state), rule)
        engine.set_statuses(list(statuses), list(statuses.values()))


def _sync_some(engine: eng.Engine, member_ids: list[int], state, budget: list[int] | None):
    """`_sync_members`, reading at most `budget[0]` profiles (a request's share); the others
    are held back (`_hold_back`) and left in `state.deferred` for the next requests."""
    ids = list(dict.fromkeys(member_ids))
    if state is None or budget is None:
        _sync_members(engine, ids)
        if state is not None:
            for pk in ids:
                state.deferred.pop(pk, None)
        return
    now, later = ids[: max(0, budget[0])], ids[max(0, budget[0]) :]
    budget[0] -= len(now)
    _sync_members(engine, now)
    for pk in now:
        state.deferred.pop(pk, None)
    if later:
        _hold_back(engine, later)
        state.deferred.update(dict.fromkeys(later))


def _rule_key(rule: "adapter.CandidateRule") -> dict:
    return {"states": sorted("/".join(s) for s in rule.states), "consenting": rule.consenting}


def _rule_from(data) -> "adapter.CandidateRule | None":
    if not isinstance(data, dict):
        return None
    states = {tuple(str(v).split("/", 1)) for v in data.get("states", [])}
    return adapter.CandidateRule(frozenset(states), bool(data.get("consenting")))


def _restatus(engine: eng.Engine, rule: "adapter.CandidateRule") -> None:
    """Who may be offered changed: every member's state under the new rule (one query), and
    only the status column changes in the engine (no profile is read again)."""
    from hongniang.members.models import Member

    ids, statuses = [], []
    fields = ("sales_stage", "service_status", "consents_to_introduction")
    rows = Member.objects.values_list("pk", "is_hidden", *fields).iterator(chunk_size=5000)
    for pk, hidden, *state in rows:
        ids.append(pk)
        statuses.append("hidden" if hidden else adapter.engine_status(_StateRow(*state), rule))
    changed = engine.set_statuses(ids, statuses)
    logger.info("matching engine: candidate rule changed, %s member(s) re-statused", changed)


@dataclass(frozen=True)
class _StateRow:
    """The fields `adapter.engine_status` reads."""

    sales_stage: str
    service_status: str
    consents_to_introduction: bool


def _apply(
    engine: eng.Engine, rows, state: "_State | None" = None, budget: list[int] | None = None
) -> bool:
    """Apply log rows in order; False when one needs a rebuild the process cannot do.
    Answers, behaviour, boosts and settings are always applied; of the changed members, at
    most `budget` profiles are read again (see `_sync_some`)."""
    from hongniang.matching.models import EngineChangeKind as K

    members: list[int] = []
    complete = True
    for _id, kind, member_id, other_id, data in rows:
        if kind == K.MEMBER:
            members.append(member_id)
            continue
        if members:  # an answer reads the members' rows as they are by then
            _sync_some(engine, members, state, budget)
            members = []
        data = data if isinstance(data, dict) else {}
        if kind == K.FEEDBACK:
            reasons = data.get("reasons") if isinstance(data.get("reasons"), list) else []
            reasons = [r for r in reasons if isinstance(r, str) and r in eng.REASONS]
            _safe(engine.feedback, member_id, other_id, bool(data.get("liked")), reasons)
        elif kind == K.INTERACTION:
            for name in data.get("kinds") or []:
                _safe(engine.interaction, member_id, other_id, name)
                if data.get("mutual"):
                    _safe(engine.interaction, other_id, member_id, name)
        elif kind == K.BOOST:
            _safe(
                engine.boost,
                member_id,
                other_id,
                bool(data.get("pin")),
                float(data.get("points") or 0),
            )
        elif kind == K.UNBOOST:
            engine.unboost(member_id, other_id)
        elif kind == K.SETTINGS:
            if data.get("rebuild"):
                complete = False  # every member must be read again: the worker's job
            config = engine_config()
            if snapshot.config_key(config) != snapshot.config_key(engine.config):
                engine.reconfigure(config)
            rule = adapter.candidate_rule()
            if state is not None and rule != state.rule:
                _restatus(engine, rule)
                state.rule = rule
    if members:
        _sync_some(engine, members, state, budget)
    return complete


def _pending(state: _State, limit: int | None = None) -> list[tuple]:
    from hongniang.matching.models import EngineChange

    now = time.monotonic()
    for gap, since in list(state.gaps.items()):
        if now - since > GAP_SECONDS:
            del state.gaps[gap]
    where = Q(id__gt=state.position)
    if state.gaps:
        where |= _ids_q(state.gaps)
    rows = EngineChange.objects.filter(where).order_by("id")
    rows = rows.values_list("id", "kind", "member_id", "other_id", "data")
    return list(rows[:limit] if limit else rows)


def _catch_up(state: _State, member_budget: int | None = None) -> _State:
    """Apply what the process has not seen; switch to a newer snapshot when one is due.

    `member_budget`: read at most this many changed members' profiles (a request); the rest
    are held back and read by the next calls (`_sync_some`). None: all of them (the worker)."""
    limit = settings.ENGINE_LOG_APPLY_LIMIT
    rows = _pending(state, limit + 1)
    reload_due = time.monotonic() - state.checked_at > settings.ENGINE_SNAPSHOT_RELOAD_SECONDS
    if len(rows) > limit or state.waiting_for or reload_due:
        state.checked_at = time.monotonic()
        newer = _newer_snapshot(state)
        if newer is not None:
            state = newer
            rows = _pending(state)
        elif len(rows) > limit:
            rows = _pending(state)
            ensure_build_job(full=False)  # a long backlog: the worker folds it
    budget = None if member_budget is None else [member_budget]
    if state.deferred:  # members held back by earlier calls come first
        _sync_some(state.engine, list(state.deferred), state, budget)
    if not rows:
        return state
    if rows[-1][0] - state.snapshot_position >= settings.ENGINE_FOLD_EVERY:
        # The log has grown well past the snapshot: a newer one, or ask the worker to fold.
        state.checked_at = time.monotonic()
        newer = _newer_snapshot(state)
        if newer is not None:
            state, rows = newer, _pending(newer)
        else:
            ensure_build_job(full=False)
    if not _apply(state.engine, rows, state, budget) and not state.waiting_for:
        state.waiting_for = rows[-1][0]
        ensure_build_job(full=True)
    seen = {row[0] for row in rows}
    for gap in seen & state.gaps.keys():
        del state.gaps[gap]
    top = rows[-1][0]
    if top > state.position:
        now = time.monotonic()
        for gap in range(max(state.position + 1, top - GAP_WINDOW), top):
            if gap not in seen:
                state.gaps.setdefault(gap, now)
        state.position = top
    return state


def _newer_snapshot(state: _State) -> "_State | None":
    path = latest_snapshot()
    if path is None or path.name == state.snapshot:
        return None
    try:
        meta = snapshot.read_meta(path)
    except (snapshot.SnapshotError, OSError):
        return None
    if int(meta.get("position", 0)) <= state.snapshot_position and not state.waiting_for:
        return None  # not newer than the one the process runs on
    if state.waiting_for and int(meta.get("position", 0)) < state.waiting_for:
        return None
    return _load(path)


# --- loading and building ------------------------------------------------------------------------


def _region_names() -> dict[int, str]:
    """City and province names for the engine's explanations ("广州市", not "440100")."""
    from hongniang.members.regions import Region

    return {
        int(code): name
        for code, name in Region.objects.filter(level__lte=2).values_list("code", "name")
    }


def _labels() -> dict:
    with translation.override(settings.LANGUAGE_CODE):
        return {"region_names": _region_names(), "tag_labels": adapter.tag_labels()}


def latest_snapshot() -> Path | None:
    """The newest complete snapshot directory (complete ones appear by an atomic rename)."""
    root = snapshot_root()
    try:
        names = [n for n in os.listdir(root) if n.startswith(_prefix())]
    except FileNotFoundError:
        return None
    return root / max(names) if names else None


def _load(path: Path) -> _State:
    started = time.perf_counter()
    engine, meta = snapshot.load(path, engine_config(), **_labels())
    engine.set_model(current_model())
    now = time.monotonic()
    state = _State(
        engine=engine,
        position=int(meta.get("position", 0)),
        gaps={int(g): now for g in meta.get("gaps", [])},
        source="snapshot",
        snapshot=path.name,
        snapshot_position=int(meta.get("position", 0)),
        rule=_rule_from(meta.get("rule")),
    )
    logger.info(
        "matching engine: loaded snapshot %s (log position %s, %s members) in %.3f s",
        path.name,
        state.position,
        len(engine),
        time.perf_counter() - started,
    )
    return state


def _profiles(unusable: dict[int, str], progress: Callable | None, total: int):
    """Profiles of every matchable member; the rows the engine cannot use go to `unusable`
    (id → reason) instead of failing the build."""
    from hongniang.members.models import MatePreference, Member

    prefs = {p.member_id: p for p in MatePreference.objects.all().iterator(chunk_size=5000)}
    rule = adapter.candidate_rule()  # read once per build, not per member
    for done, member in enumerate(Member.objects.all().iterator(chunk_size=5000), 1):
        if progress is not None and done % 1000 == 0:
            progress(done, total)
        try:
            profile = adapter.profile(member, prefs.get(member.pk), rule=rule)
        except adapter.RecordError as exc:
            unusable[member.pk] = "；".join(exc.reasons)
            continue
        if profile is not None:
            yield profile


def _replay(engine: eng.Engine) -> None:
    """The recorded answers, behaviour and boosts, as the log would have applied them: each
    member's first answer about another once (`Answer`, whatever proposed the pair, as
    `services.feedback_record` told the engine), in time order."""
    from hongniang.matching.models import Answer, Appointment, Boost, IntroductionRequest

    for member_id, other_id, accepted, reasons in (
        Answer.objects.order_by("answered_at", "pk")
        .values_list("member_id", "other_id", "accepted", "reasons")
        .iterator(chunk_size=5000)
    ):
        listed = reasons if isinstance(reasons, list) and not accepted else []
        _safe(
            engine.feedback,
            member_id,
            other_id,
            accepted,
            [r for r in listed if isinstance(r, str) and r in eng.REASONS],
        )
    for pair in IntroductionRequest.objects.values_list("member_id", "target_id").iterator():
        _safe(engine.interaction, *pair, "like")
    for appt in Appointment.objects.filter(status="held").iterator():
        for kind in appointment_interactions(appt):
            _safe(engine.interaction, appt.member_id, appt.partner_id, kind)
            _safe(engine.interaction, appt.partner_id, appt.member_id, kind)
    for boost in Boost.objects.all().iterator():
        _safe(engine.boost, boost.member_id, boost.candidate_id, boost.pin, float(boost.points))


@contextmanager
def _consistent_read():
    """Reads that all see the database at one moment (PostgreSQL: repeatable read; SQLite:
    one transaction)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def build_engine(progress: Callable | None = None):
    """The engine from the database, the log position (and gaps) it includes, and the
    candidate rule it was built with.

    Members are read first, outside any transaction (the long part); then, in one consistent
    read, the log position is taken, the members changed meanwhile are read again and the
    answers, behaviour and boosts are replayed, so the engine is exactly the database at that
    position."""
    from hongniang.matching.models import EngineChange, EngineChangeKind
    from hongniang.members.models import Member

    start, start_gaps = _log_head()
    config = engine_config()
    total = Member.objects.count()
    unusable: dict[int, str] = {}
    with translation.override(settings.LANGUAGE_CODE):
        built = eng.Engine.build(
            _profiles(unusable, progress, total),
            config,
            capacity=total + total // 8,
            **_labels(),
        )
    for member_id, reason in unusable.items():
        built.skip(member_id, reason)
    built.set_model(current_model())
    with _consistent_read():
        position, gaps = _log_head()
        meanwhile = EngineChange.objects.filter(
            Q(id__gt=start) | _ids_q(start_gaps), id__lte=position
        )
        if gaps:
            meanwhile = meanwhile.exclude(_ids_q(gaps))
        _sync_members(
            built,
            meanwhile.filter(kind=EngineChangeKind.MEMBER).values_list("member_id", flat=True),
        )
        rule = adapter.candidate_rule()
        if meanwhile.filter(kind=EngineChangeKind.SETTINGS).exists():
            built.reconfigure(engine_config())
            _restatus(built, rule)
        _replay(built)
    if progress is not None:
        progress(total, total, force=True)
    return built, position, gaps, rule


def build_snapshot(*, full: bool = True, progress: Callable | None = None) -> Path:
    """Save a new snapshot and return its directory.

    `full`: build from the database (nightly, and when none exists); otherwise fold the log
    into the newest snapshot (load it, apply what came since: seconds, not a full build)."""
    now = timezone.now().isoformat()
    base = None if full else latest_snapshot()
    try:
        state = _catch_up(_load(base)) if base is not None else None
    except (snapshot.SnapshotError, OSError):
        # An older format after an upgrade, or damaged: build in full rather than fail every
        # fold until the nightly build.
        logger.exception("matching engine: cannot fold into snapshot %s; building in full", base)
        state = None
    if state is not None and not state.waiting_for:
        engine, position, gaps, rule = state.engine, state.position, set(state.gaps), state.rule
        full_built_at = snapshot.read_meta(base).get("full_built_at", now)
    else:
        base, full_built_at = None, now
        engine, position, gaps, rule = build_engine(progress)
    root = snapshot_root()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        snapshot.save(
            engine,
            tmp,
            meta={
                "position": position,
                "gaps": sorted(gaps),
                "built_at": now,
                "full_built_at": full_built_at,
                "full": base is None,
                "members": len(engine),
                "rule": _rule_key(rule) if rule is not None else None,
            },
        )
        # Names sort by log position, then time: the greatest is the newest.
        stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
        final = root / f"{_prefix()}{position:015d}-{stamp}-{uuid.uuid4().hex[:6]}"
        os.rename(tmp, final)  # atomic: readers see the whole snapshot or none
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("matching engine: saved snapshot %s (%s members)", final.name, len(engine))
    _prune(root)
    return final


def _prune(root: Path) -> None:
    """Keep the newest snapshots; drop log rows older than every kept snapshot (and old
    enough that no running process can still be behind them: processes look for a newer
    snapshot every ENGINE_SNAPSHOT_RELOAD_SECONDS)."""
    from hongniang.matching.models import EngineChange

    names = sorted(n for n in os.listdir(root) if n.startswith(_prefix()))
    keep = names[-settings.ENGINE_SNAPSHOT_KEEP :]
    for name in names[: -settings.ENGINE_SNAPSHOT_KEEP]:
        # Processes that mapped these files keep them until they let go (POSIX unlink).
        shutil.rmtree(root / name, ignore_errors=True)
    for name in os.listdir(root):
        stale = root / name
        if name.startswith(".building-") and time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    positions = []
    for name in keep:
        try:
            positions.append(int(snapshot.read_meta(root / name).get("position", 0)))
        except (snapshot.SnapshotError, OSError):
            continue  # unreadable (an older format): no process can start from it
    if positions:
        old = timezone.now() - timedelta(seconds=settings.ENGINE_LOG_KEEP_SECONDS)
        EngineChange.objects.filter(id__lte=min(positions), created_at__lt=old).delete()


def ensure_build_job(*, full: bool = True):
    """The queued or running snapshot job, queued now if there is none."""
    from hongniang.jobs.models import Job, JobKind, JobState
    from hongniang.jobs.services import job_start
    from hongniang.matching.tasks import engine_snapshot

    job = (
        Job.objects.filter(
            kind=JobKind.ENGINE_SNAPSHOT, state__in=[JobState.QUEUED, JobState.RUNNING]
        )
        .order_by("-created_at")
        .first()
    )
    if job is None:
        with translation.override(settings.LANGUAGE_CODE):
            from django.utils.translation import gettext as _

            title = _("Matching engine snapshot") if full else _("Matching engine: fold the log")
        job = job_start(
            actor=None,
            kind=JobKind.ENGINE_SNAPSHOT,
            title=title,
            work_task=engine_snapshot,
            params={"full": full},
        )
    return job


def build_job():
    """The newest snapshot job (for the 'being prepared' progress)."""
    from hongniang.jobs.models import Job, JobKind

    return Job.objects.filter(kind=JobKind.ENGINE_SNAPSHOT).order_by("-created_at").first()


# --- the process's engine ------------------------------------------------------------------------


def _in_transaction() -> bool:
    """Inside a transaction of our own (not a test's wrapper): its changes may still roll
    back, so the log is not applied from here."""
    return any(not getattr(b, "_from_testcase", False) for b in connection.atomic_blocks)


def _current() -> _State:
    global _state
    with _lock:
        if _state is None:
            path = latest_snapshot()
            if path is not None:
                try:
                    _state = _load(path)
                except (snapshot.SnapshotError, OSError):
                    # Removed or damaged meanwhile: the newest one, else wait for a build.
                    logger.exception("matching engine: cannot load snapshot %s", path)
                    again = latest_snapshot()
                    if again is None or again == path:
                        raise EngineNotReady(ensure_build_job()) from None
                    _state = _load(again)
            elif settings.ENGINE_BUILD_IN_REQUEST:
                engine, position, gaps, rule = build_engine()
                gaps = {g: time.monotonic() for g in gaps}
                _state = _State(engine, position, gaps, snapshot_position=position, rule=rule)
            else:
                raise EngineNotReady(ensure_build_job())
        return _state


def get_engine(*, sync: bool = True) -> eng.Engine:
    """The engine, with every committed change applied (one indexed query when none is new).
    Raises EngineNotReady while no snapshot exists (the page shows progress instead)."""
    global _state
    state = _current()
    if sync and not _in_transaction():
        with _lock:
            if _state is state:
                _state = state = _catch_up(state, settings.ENGINE_REQUEST_MEMBER_SYNC)
            else:
                state = _state
    return state.engine


def warm_up() -> threading.Thread | None:
    """At a web process's start (wsgi.py), in a thread: load the newest snapshot and jieba's
    dictionary, so that neither happens inside the process's first requests (a request that
    comes meanwhile waits for the load, as it would have loaded it itself). Without a
    snapshot nothing is loaded: the pages say the engine is being prepared."""
    if not settings.ENGINE_WARM_AT_START:
        return None

    def run():
        try:
            if latest_snapshot() is not None:
                get_engine(sync=False)
            from hongniang.matching.engine import textsim

            textsim.warm()
        except Exception:  # a warm-up only: the first request tries again and reports
            logger.exception("matching engine: warm-up at process start failed")
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="matching-warm-up", daemon=True)
    thread.start()
    return thread


def engine_source() -> str:
    """Where this process's engine came from ("snapshot <name>" or "built"), for the
    X-Matching-Engine response header (and the tests that read it)."""
    state = _state
    if state is None:
        return "none"
    return f"{state.source} {state.snapshot} position={state.position}".strip()


def skipped() -> dict[int, str]:
    """Members the engine had to leave out, with the reason (member id → reason)."""
    return get_engine().skipped


def score_line(result) -> "eng.ScoreLine":
    """The result's score as parts that add up at the precision shown."""
    return eng.score_line(result, get_engine(sync=False).config.weights)


def skip_reason(member_id: int) -> str | None:
    return get_engine(sync=False).skipped.get(member_id)


def reset() -> None:
    """Forget the process's engine (tests); the next use loads (or builds) it again."""
    global _state
    with _lock:
        _state = None
