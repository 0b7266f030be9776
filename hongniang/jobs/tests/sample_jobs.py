"""Jobs used by the tests: they write stores, slowly if asked, and fail if asked."""

import time

from hongniang.jobs.services import job_task
from hongniang.staff.models import Store


@job_task
def make_stores(run):
    names = run.params["names"]
    for i, _name in enumerate(names):
        run.progress(i, len(names), f"checking {i}", force=True)
        time.sleep(run.params.get("pause", 0))
    with run.commit():
        for i, name in enumerate(names):
            if run.params.get("fail_at") == i:
                raise ValueError(f"row {i + 1} is bad")
            Store.objects.create(name=name)
    return {"summary": f"{len(names)} stores"}
