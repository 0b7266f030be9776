"""A job's downloads: for its starter (and administrators) only, and a file gone from the disk
is a 404 like any missing page, never a server error."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from hongniang.jobs.models import Job, JobKind, JobState

pytestmark = pytest.mark.django_db


def finished_job(owner, **files):
    job = Job.objects.create(
        kind=JobKind.MEMBER_EXPORT, title="导出", created_by=owner, state=JobState.SUCCEEDED
    )
    for field, content in files.items():
        getattr(job, field).save(f"{field}.xlsx", ContentFile(content), save=False)
    job.result_file_name = "members.xlsx"
    job.save()
    return job


def test_the_starter_downloads_the_file_and_a_peer_gets_404(org, client):
    job = finished_job(org["aa1"], result_file=b"PK-result")
    url = reverse("jobs:file", args=[job.pk, "result"])
    client.force_login(org["aa2"])
    assert client.get(url).status_code == 404
    client.force_login(org["aa1"])
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"PK-result"
    assert client.get(reverse("jobs:file", args=[job.pk, "failed"])).status_code == 404
    assert client.get(reverse("jobs:file", args=[job.pk, "other"])).status_code == 404


def test_a_file_gone_from_the_disk_is_404_not_a_server_error(org, client):
    job = finished_job(org["aa1"], result_file=b"PK", failed_rows_file=b"PK")
    job.result_file.storage.delete(job.result_file.name)
    job.failed_rows_file.storage.delete(job.failed_rows_file.name)
    client.force_login(org["aa1"])
    assert client.get(reverse("jobs:file", args=[job.pk, "result"])).status_code == 404
    assert client.get(reverse("jobs:file", args=[job.pk, "failed"])).status_code == 404
