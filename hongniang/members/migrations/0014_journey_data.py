"""Service statuses of the journey: the former "completed" and "expired" become "finished",
with the reason success and contract ended. Members followed up before follow-ups were recorded
count as followed up once, so that the lists by number of follow-ups put them with the followed."""

from django.db import migrations

RENAMED = {"completed": "success", "expired": "contract_ended"}


def forward(apps, schema_editor):
    for model in ("Member", "HistoricalMember"):
        Model = apps.get_model("members", model)
        for old, reason in RENAMED.items():
            Model.objects.filter(service_status=old).update(
                service_status="finished", finish_reason=reason
            )
    Member = apps.get_model("members", "Member")
    Member.objects.filter(follow_up_count=0, followed_up_at__isnull=False).exclude(
        sales_stage="signed"
    ).update(follow_up_count=1)
    Member.objects.filter(follow_up_count=0, sales_stage="following").update(follow_up_count=1)


def backward(apps, schema_editor):
    for model in ("Member", "HistoricalMember"):
        Model = apps.get_model("members", model)
        for old, reason in RENAMED.items():
            Model.objects.filter(service_status="finished", finish_reason=reason).update(
                service_status=old
            )
        Model.objects.filter(service_status="finished").update(service_status="completed")


class Migration(migrations.Migration):
    dependencies = [("members", "0013_journey")]
    operations = [migrations.RunPython(forward, backward)]
