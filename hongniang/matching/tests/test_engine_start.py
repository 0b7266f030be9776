"""The engine at start and across processes (in one test process): snapshots, the change log,
the "being prepared" page, the worker's schedule. The real two-process test is
test_two_processes.py."""

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from hongniang.jobs.models import Job, JobKind, JobState
from hongniang.matching import engine as eng
from hongniang.matching import index, services, tasks
from hongniang.matching.models import Appointment, EngineChange, EngineChangeKind
from hongniang.matching.tests.conftest import MATCHING
from hongniang.members import choices as c
from hongniang.members.demo import seed_members
from hongniang.members.models import MatePreference, Member
from hongniang.members.signals import members_bulk_changed
from hongniang.members.tests.helpers import add_member
from hongniang.siteconfig.models import SiteSettings
from hongniang.staff.tests.factories import role_with

pytestmark = pytest.mark.django_db(transaction=True)
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def people(org):
    for key in ("aa1", "bb1"):
        org[key].role = role_with("members.view", "members.add", "members.edit", *MATCHING)
        org[key].save()
    her = add_member(
        org["aa1"],
        name="她",
        sex=c.Sex.FEMALE,
        birthday=date(1995, 1, 1),
        service_status=c.ServiceStatus.IN_SERVICE,
        sales_stage=c.SalesStage.SIGNED,
        preference={"age_min": 28, "age_max": 36, "age_importance": 3},
    )
    men = {
        age: add_member(
            org["bb1"],
            name=f"他{age}",
            sex=c.Sex.MALE,
            height=175,
            birthday=date(timezone.localdate().year - age, 1, 1),
            service_status=c.ServiceStatus.IN_SERVICE,
            sales_stage=c.SalesStage.SIGNED,
            preference={"age_min": 25, "age_max": 34},
        )
        for age in (29, 33, 36)
    }
    return {"her": her, "men": men, **org}


@pytest.fixture
def production(settings, monkeypatch):
    """As in production: no building inside a request; the queued job waits for a worker."""
    settings.ENGINE_BUILD_IN_REQUEST = False
    settings.TASKS = DUMMY_TASKS
    calls = []
    real_build = eng.Engine.build

    def counting_build(*args, **kwargs):
        calls.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(eng.Engine, "build", counting_build)
    return calls


def names(response):
    return [cand.member._member.name for cand in response.context["candidates"]]


def test_without_a_snapshot_a_request_never_builds_and_says_the_engine_is_being_prepared(
    client, people, production
):
    client.force_login(people["aa1"])
    library = client.get(reverse("matching:library", args=[people["her"].pk]))
    listing = client.get(reverse("matching:library_index"))
    assert library.status_code == listing.status_code == 200
    assert production == []  # nothing was built in either request
    for response in (library, listing):
        page = response.content.decode()
        assert "匹配引擎正在准备中" in page and 'id="engine-preparing"' in page
        assert response["X-Matching-Engine"] == "none"
    assert library.context["candidates"] == []
    # One build job is queued for the worker, however many pages ask.
    job = Job.objects.get(kind=JobKind.ENGINE_SNAPSHOT)
    assert job.state == JobState.QUEUED and job.params == {"full": True}
    # The progress fragment polls until a snapshot exists, then reloads the page.
    status = client.get(reverse("matching:engine_status"), HTTP_HX_REQUEST="true")
    assert status.status_code == 200 and "HX-Refresh" not in status
    assert 'hx-trigger="every 2s"' in status.content.decode()

    index.build_snapshot()  # what the worker's job does
    assert len(production) == 1
    status = client.get(reverse("matching:engine_status"), HTTP_HX_REQUEST="true")
    assert status["HX-Refresh"] == "true"
    response = client.get(reverse("matching:library", args=[people["her"].pk]))
    assert len(production) == 1  # loaded, not built
    assert names(response)[0] == "他29"
    assert response["X-Matching-Engine"].startswith("snapshot snapshot-")


def test_the_snapshot_job_reports_progress_and_its_result(people, settings):
    job = index.ensure_build_job()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.kind == JobKind.ENGINE_SNAPSHOT
    assert job.result["snapshot"] == index.latest_snapshot().name
    assert job.total == job.done == Member.objects.count()
    assert (index.latest_snapshot() / "manifest.json").is_file()


def test_a_change_in_another_process_reaches_this_one_through_the_log(people, production):
    """Process A's engine is loaded; the change is recorded as if by process B (the log is all
    they share); A's next answer applies it."""
    her, men, aa1 = people["her"], people["men"], people["aa1"]
    index.build_snapshot()
    assert [r.candidate_id for r in index.get_engine().recommend(her.pk)][0] == men[29].pk
    loaded = index.get_engine()
    rec = services.recommend(actor=aa1, member=her, candidate=men[29], reason="试试")
    services.recommendation_answer(
        actor=aa1, recommendation=rec, accepted=False, reasons=["not_my_type"]
    )
    engine = index.get_engine()
    assert engine is loaded
    assert men[29].pk not in [r.candidate_id for r in engine.recommend(her.pk)]
    # A change of state: he is hidden from matching.
    men[33].is_hidden = True
    men[33].save()
    assert men[33].pk not in [r.candidate_id for r in index.get_engine().recommend(her.pk)]
    assert production == [1]  # the snapshot's build only


def test_when_nothing_changed_catching_up_is_one_query(
    people, production, django_assert_num_queries
):
    index.build_snapshot()
    index.get_engine()
    with django_assert_num_queries(1):
        index.get_engine()


def test_every_change_that_affects_matching_is_logged_in_its_transaction(people):
    her, men, aa1 = people["her"], people["men"], people["aa1"]
    EngineChange.objects.all().delete()

    def logged():
        rows = EngineChange.objects.order_by("id").values_list("kind", "member_id", "other_id")
        out = list(rows)
        EngineChange.objects.all().delete()
        return out

    her.height = 160
    her.save()
    assert logged() == [("member", her.pk, None)]
    her.save(update_fields=["presales_owner"])  # an allocation: nothing the engine reads
    assert logged() == []
    pref = MatePreference.objects.get(member=her)
    pref.age_max = 40
    pref.save()
    assert logged() == [("member", her.pk, None)]

    rec = services.recommend(actor=aa1, member=her, candidate=men[29], reason="试试")
    assert logged() == []  # a recommendation alone teaches the engine nothing
    services.recommendation_answer(
        actor=aa1, recommendation=rec, accepted=False, reasons=["too_old"]
    )
    row = EngineChange.objects.get()
    assert (row.kind, row.member_id, row.other_id) == ("feedback", her.pk, men[29].pk)
    assert row.data == {"liked": False, "reasons": ["too_old"]}
    logged()
    services.boost_set(actor=aa1, member=her, candidate=men[33], pin=True, points=5)
    services.boost_remove(actor=aa1, member=her, candidate=men[33])
    assert logged() == [("boost", her.pk, men[33].pk), ("unboost", her.pk, men[33].pk)]

    appt = services.appointment_create(
        actor=aa1,
        appointment=Appointment(
            member=her, partner=men[33], starts_at=timezone.now() + timedelta(days=1), place="茶馆"
        ),
    )
    assert logged() == []  # planned: nothing happened yet
    Appointment.objects.filter(pk=appt.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    appt.refresh_from_db()
    appt.status, appt.outcome = "held", "continue"
    services.appointment_update(actor=aa1, appointment=appt)
    row = EngineChange.objects.get()
    assert row.kind == "interaction" and row.data == {
        "kinds": ["appointment_held", "appointment_continue"],
        "mutual": True,
    }
    logged()

    site = SiteSettings.load()
    site.save()
    assert logged() == []  # saved unchanged
    site.match_min_age_male = 25
    site.save()
    assert logged() == [("settings", None, None)]
    members_bulk_changed.send(Member, member_ids=[men[29].pk, men[36].pk])
    assert logged() == [("member", men[29].pk, None), ("member", men[36].pk, None)]
    gone = men[36].pk
    men[36].delete()
    assert ("member", gone, None) in logged()

    # A change that rolls back leaves no log row either.
    with pytest.raises(RuntimeError), transaction.atomic():
        her.height = 170
        her.save()
        raise RuntimeError
    assert logged() == []


def test_bulk_created_members_are_logged(people, regions):
    EngineChange.objects.all().delete()
    staff = {"matchmakers": [people["aa1"]], "managers": [people["mgr1"]]}
    seed_members(target=Member.objects.count() + 3, people=staff, verbose=False)
    assert EngineChange.objects.filter(kind=EngineChangeKind.MEMBER).count() == 3


def test_new_hard_rules_apply_without_a_rebuild(people, production):
    her, men = people["her"], people["men"]
    index.build_snapshot()
    assert index.get_engine().recommend(her.pk)
    site = SiteSettings.load()
    site.match_sex_pairing = "same"
    site.save()
    assert index.get_engine().recommend(her.pk) == []
    assert index.get_engine().config.rules.sex_pairing == "same"
    assert production == [1]
    assert men  # (the men are all of the other sex)


def test_folding_the_log_and_pruning(people, production, settings):
    her, men = people["her"], people["men"]
    first = index.build_snapshot()
    men[33].is_hidden = True
    men[33].save()
    top = EngineChange.objects.latest("id").pk
    folded = index.build_snapshot(full=False)
    assert production == [1]  # folding loads the last snapshot and applies the log
    assert folded.name > first.name and f"{top:015d}" in folded.name
    index.reset()
    assert men[33].pk not in [r.candidate_id for r in index.get_engine().recommend(her.pk)]
    # Only the newest snapshots are kept; log rows older than all of them (and than the keep
    # time) are pruned.
    settings.ENGINE_LOG_KEEP_SECONDS = 0
    third = index.build_snapshot()
    assert sorted(p.name for p in first.parent.iterdir()) == [folded.name, third.name]
    assert not EngineChange.objects.filter(id__lte=top).exists()


def test_a_fold_over_a_snapshot_it_cannot_read_builds_in_full(people, production):
    """After an upgrade that changes the snapshot format (or a damaged snapshot), the worker's
    fold builds a new snapshot from the database instead of failing until the nightly build."""
    import json

    her, men = people["her"], people["men"]
    first = index.build_snapshot()
    manifest = first / "manifest.json"
    data = json.loads(manifest.read_text())
    data["format"] = -1
    manifest.write_text(json.dumps(data))
    men[33].is_hidden = True
    men[33].save()
    folded = index.build_snapshot(full=False)
    assert production == [1, 1]  # a second full build, not a failure
    assert folded.name > first.name
    index.reset()
    assert men[33].pk not in [r.candidate_id for r in index.get_engine().recommend(her.pk)]


def test_a_process_that_sees_the_log_grow_asks_for_a_fold_then_loads_it(
    people, production, settings
):
    settings.ENGINE_FOLD_EVERY = 3
    index.build_snapshot()
    index.get_engine()
    for man in people["men"].values():
        man.save()
    index.get_engine()
    job = Job.objects.get(kind=JobKind.ENGINE_SNAPSHOT)
    assert job.state == JobState.QUEUED and job.params == {"full": False}
    folded = index.build_snapshot(full=False)  # the worker runs it
    Job.objects.all().delete()
    people["her"].save()
    index.get_engine()
    # The process found the folded snapshot and moved to it instead of asking again.
    assert folded.name in index.engine_source()
    assert not Job.objects.exists()


def test_the_nightly_rebuild_is_a_periodic_job(people):
    from hongniang.jobs.periodic import registered
    from hongniang.jobs.services import job_start

    entry = registered()["engine_snapshot"]
    assert entry.at is not None and entry.work_task is tasks.engine_snapshot_nightly
    job = job_start(
        actor=None, kind=JobKind.NIGHTLY, title=str(entry.title), work_task=entry.work_task
    )
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert job.result["snapshot"] == index.latest_snapshot().name


def test_build_engine_snapshot_command(people, capsys):
    from django.core.management import call_command

    call_command("build_engine_snapshot")
    assert index.latest_snapshot() is not None
    assert index.latest_snapshot().name in capsys.readouterr().out


def test_a_change_only_a_rebuild_can_apply_waits_for_the_next_snapshot(people, production):
    """A setting that changes who may be matched at all (every member's state) is logged with
    rebuild=True: processes ask the worker for a full build and move to it when it is there."""
    index.build_snapshot()
    first = index.engine_source()
    index.get_engine()
    index.record(EngineChangeKind.SETTINGS, rebuild=True)
    index.get_engine()
    job = Job.objects.get(kind=JobKind.ENGINE_SNAPSHOT)
    assert job.state == JobState.QUEUED and job.params == {"full": True}
    assert index.engine_source() != first  # (its position moved on)
    rebuilt = index.build_snapshot()
    index.get_engine()
    assert rebuilt.name in index.engine_source()
    assert production == [1, 1]


def test_a_new_candidate_setting_reaches_a_loaded_engine_without_a_rebuild(people, production):
    """Who may be offered is a site setting: a process on a snapshot applies a change of it at
    once by re-reading the members' states (one query), not by building the engine again."""
    her, men = people["her"], people["men"]
    index.build_snapshot()
    assert men[29].pk in [r.candidate_id for r in index.get_engine().recommend(her.pk)]
    site = SiteSettings.load()
    site.candidate_states, site.candidate_consenting = [], False
    site.save()
    assert index.get_engine().recommend(her.pk) == []  # nobody is offered now
    site.candidate_states = ["signed/in_service"]
    site.save()
    assert men[29].pk in [r.candidate_id for r in index.get_engine().recommend(her.pk)]
    assert production == [1]


def test_a_backlog_of_member_changes_is_read_a_bounded_share_per_request(
    people, production, settings, monkeypatch
):
    """A request re-reads at most ENGINE_REQUEST_MEMBER_SYNC changed profiles; the others
    follow in the next requests. Meanwhile nothing a member already did is ignored: a member
    who left matching (hidden, married, paused, deleted) is out at once, and answers are
    applied in full."""
    settings.ENGINE_REQUEST_MEMBER_SYNC = 1
    her, men, aa1 = people["her"], people["men"], people["aa1"]
    index.build_snapshot()
    engine = index.get_engine()
    reads = []
    real_sync = index._sync_members

    def counting_sync(engine, member_ids):
        ids = list(member_ids)
        reads.append(sorted(ids))
        return real_sync(engine, ids)

    monkeypatch.setattr(index, "_sync_members", counting_sync)
    # Three men change at once: one grows (a profile change), one is hidden, one pauses.
    Member.objects.filter(pk=men[29].pk).update(height=190)
    Member.objects.filter(pk=men[33].pk).update(is_hidden=True)
    Member.objects.filter(pk=men[36].pk).update(service_status=c.ServiceStatus.PAUSED)
    rec = services.recommend(actor=aa1, member=her, candidate=men[29], reason="试试")
    with transaction.atomic():
        index.record_members([men[29].pk, men[33].pk, men[36].pk])
    services.recommendation_answer(
        actor=aa1, recommendation=rec, accepted=False, reasons=["not_my_type"]
    )
    assert index.get_engine() is engine
    assert sum(len(r) for r in reads) == 1  # one profile read again in this request
    # …but the hidden and the paused man are out now, and her decline is applied.
    assert [r.candidate_id for r in engine.recommend(her.pk)] == []
    assert len(index._state.deferred) == 2
    index.get_engine()
    index.get_engine()
    assert sorted(pk for r in reads for pk in r) == sorted(m.pk for m in men.values())
    assert not index._state.deferred
    assert all(len(r) <= 1 for r in reads)
    # Every profile has been read again: the engine now equals one that reads them at once.
    got = engine.recommend(men[29].pk)
    settings.ENGINE_REQUEST_MEMBER_SYNC = None
    index.reset()
    assert [r.candidate_id for r in index.get_engine().recommend(men[29].pk)] == [
        r.candidate_id for r in got
    ]


def test_a_held_back_member_who_comes_back_is_offered_again_once_read(people, production, settings):
    settings.ENGINE_REQUEST_MEMBER_SYNC = 0
    her, men = people["her"], people["men"]
    index.build_snapshot()
    index.get_engine()
    Member.objects.filter(pk=men[33].pk).update(is_hidden=True)
    with transaction.atomic():
        index.record_members([men[33].pk])
    assert men[33].pk not in [r.candidate_id for r in index.get_engine().recommend(her.pk)]
    Member.objects.filter(pk=men[33].pk).update(is_hidden=False)
    with transaction.atomic():
        index.record_members([men[33].pk])
    assert men[33].pk in [r.candidate_id for r in index.get_engine().recommend(her.pk)]
    # The worker's fold reads every held-back profile (no budget there).
    index.build_snapshot(full=False)


def test_a_web_process_loads_the_snapshot_and_the_tokenizer_as_it_starts(
    people, production, settings, monkeypatch
):
    from hongniang.matching.engine import textsim

    warmed = []
    monkeypatch.setattr(textsim, "warm", lambda: warmed.append(1))
    settings.ENGINE_WARM_AT_START = False
    assert index.warm_up() is None
    settings.ENGINE_WARM_AT_START = True
    index.warm_up().join(timeout=60)  # no snapshot yet: nothing to load, no job queued
    assert index._state is None and warmed == [1] and not Job.objects.exists()
    index.build_snapshot()
    index.reset()
    index.warm_up().join(timeout=60)
    assert index._state is not None and index.engine_source().startswith("snapshot")
    assert warmed == [1, 1]
