"""The journey's data migration: the former "completed" and "expired" service statuses become
"finished" with their reason; members followed up before the counters existed count once."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("members", "0013_journey")]
AFTER = [("members", "0014_journey_data")]


@pytest.mark.django_db(transaction=True)
def test_old_service_statuses_become_finished_with_a_reason():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        Member = executor.loader.project_state(BEFORE).apps.get_model("members", "Member")
        now = timezone.now()

        def make(username, **fields):
            return Member.objects.create(
                username=username, name="某", sex="F", registered_at=now, **fields
            ).pk

        completed = make("u1", sales_stage="signed", service_status="completed")
        expired = make("u2", sales_stage="signed", service_status="expired")
        followed = make("u3", sales_stage="following", followed_up_at=now)
        fresh = make("u4")
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        Member = executor.loader.project_state(AFTER).apps.get_model("members", "Member")
        rows = {m.pk: m for m in Member.objects.all()}
        assert (rows[completed].service_status, rows[completed].finish_reason) == (
            "finished",
            "success",
        )
        assert (rows[expired].service_status, rows[expired].finish_reason) == (
            "finished",
            "contract_ended",
        )
        assert rows[followed].follow_up_count == 1 and rows[fresh].follow_up_count == 0
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
