"""Store multi-select lists (personality, hobbies; acceptable children and marital statuses) in
the order of their choices, as the models now save them, so that a form saved unchanged stores
the same list."""

from django.db import migrations

from hongniang.members import choices as c

MULTI_SELECTS = {
    "Member": {"personality": c.Personality, "hobbies": c.Hobby},
    "MatePreference": {"children": c.ChildrenStatus, "marital": c.MaritalStatus},
}
BATCH = 1000


def forwards(apps, schema_editor):
    for model_name, fields in MULTI_SELECTS.items():
        model = apps.get_model("members", model_name)
        changed = []
        for row in model.objects.only("pk", *fields).iterator(chunk_size=BATCH):
            before = {name: getattr(row, name) for name in fields}
            for name, choices in fields.items():
                setattr(row, name, c.in_choice_order(getattr(row, name), choices))
            if any(getattr(row, name) != value for name, value in before.items()):
                changed.append(row)
            if len(changed) >= BATCH:
                model.objects.bulk_update(changed, list(fields))
                changed = []
        if changed:
            model.objects.bulk_update(changed, list(fields))


class Migration(migrations.Migration):
    dependencies = [("members", "0005_event_kind_matching")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
