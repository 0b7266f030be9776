"""Helpers run in separate processes by test_import_locking.py (``manage.py shell -c``)."""

import json
import time
from pathlib import Path

from django.test import Client
from django.utils import translation

from hongniang.jobs.models import Job, JobKind
from hongniang.jobs.services import job_start
from hongniang.members import excel, tasks
from hongniang.members.importing import pipeline
from hongniang.members.regions import load_regions
from hongniang.staff.tests.factories import PASSWORD, StaffFactory, StoreFactory, role_with

TOKEN = "c" * 32


def prepare(rows: int) -> None:
    """Regions, a clerk and a colleague, a file of ``rows`` members waiting as an upload, and
    its import queued."""
    from bench import import_data

    load_regions()
    store = StoreFactory(name="A店")
    role = role_with("members.view", "members.add", "members.edit", name="红娘")
    clerk = StaffFactory(username="clerk", role=role, store=store)
    StaffFactory(username="colleague", role=role, store=store)
    with translation.override("zh-hans"):
        headers = [str(excel.HEADERS[k]) for k in import_data.TEMPLATE_KEYS]
    excel.upload_dir().mkdir(parents=True, exist_ok=True)
    import_data.write(excel.upload_path(TOKEN), rows=rows, template_headers=headers)
    job_start(
        actor=clerk,
        kind=JobKind.MEMBER_IMPORT,
        title="large import",
        work_task=tasks.import_confirm,
        params={
            "step": tasks.CONFIRM,
            "token": TOKEN,
            "file_name": "large.xlsx",
            "mapping": None,
            "mode": pipeline.Mode.SKIP,
        },
    )


def log_in_while_importing(out: str, limit: float = 300) -> None:
    """A colleague logs in and opens pages again and again until the import has finished;
    each attempt is recorded with what the import was doing then."""
    attempts = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        job = Job.objects.get(kind=JobKind.MEMBER_IMPORT)
        if job.finished:
            break
        client = Client()
        entry = {"state": job.state, "message": job.message}
        try:
            login = client.post("/staff/login/", {"username": "colleague", "password": PASSWORD})
            page = client.get("/members/")
            entry |= {"login": login.status_code, "page": page.status_code}
        except Exception as exc:  # noqa: BLE001 - recorded for the test to show
            entry["error"] = f"{type(exc).__name__}: {exc}"
        attempts.append(entry)
    Path(out).write_text(json.dumps(attempts, ensure_ascii=False), encoding="utf-8")
