from django.db import migrations


def suggestion_answers(apps, schema_editor):
    """The daily suggestions answered before `matching.Answer` existed: a member's first answer
    about another when earlier than what matching 0009 found."""
    Answer = apps.get_model("matching", "Answer")
    Suggestion = apps.get_model("portal", "Suggestion")
    known = {
        (m, o): (pk, at)
        for pk, m, o, at in Answer.objects.values_list("pk", "member_id", "other_id", "answered_at")
    }
    first = {}
    for member, other, status, at, reasons in (
        Suggestion.objects.filter(status__in=["interested", "declined"], answered_at__isnull=False)
        .order_by("answered_at", "pk")
        .values_list("member_id", "candidate_id", "status", "answered_at", "decline_reasons")
    ):
        key = (member, other)
        if key in first or (key in known and known[key][1] <= at):
            continue
        accepted = status == "interested"
        listed = reasons if isinstance(reasons, list) and not accepted else []
        first[key] = (accepted, [r for r in listed if isinstance(r, str)], at)
    new = []
    for (member, other), (accepted, reasons, at) in first.items():
        fields = {"accepted": accepted, "reasons": reasons, "via": "sug", "answered_at": at}
        if (member, other) in known:
            Answer.objects.filter(pk=known[(member, other)][0]).update(**fields)
        else:
            new.append(Answer(member_id=member, other_id=other, **fields))
    Answer.objects.bulk_create(new, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0009_answers"),
        ("portal", "0006_reveals"),
    ]

    operations = [migrations.RunPython(suggestion_answers, migrations.RunPython.noop)]
