"""Member photos move out of MEDIA_ROOT (served to anyone) into MEMBER_FILES_ROOT, each under a
random name; the uploaded file names (often the member's name) are not kept."""

from django.db import migrations, models, transaction

import hongniang.members.storage


def move_files(apps, schema_editor):
    from django.core.files.storage import default_storage

    from hongniang.members.storage import member_files, random_photo_name

    photo_model = apps.get_model("members", "MemberPhoto")
    target = member_files()
    moved = []
    for pk, old in photo_model.objects.exclude(image="").values_list("pk", "image").iterator():
        if not default_storage.exists(old):
            continue  # already moved, or lost before: nothing to expose
        with default_storage.open(old, "rb") as source:
            new = target.save(random_photo_name(None, old), source)
        photo_model.objects.filter(pk=pk).update(image=new)
        moved.append(old)

    def remove_public_copies():
        for old in moved:
            default_storage.delete(old)

    transaction.on_commit(remove_public_copies)


class Migration(migrations.Migration):
    dependencies = [("members", "0007_plausible_values")]

    operations = [
        migrations.AlterField(
            model_name="memberphoto",
            name="image",
            field=models.ImageField(
                max_length=200,
                storage=hongniang.members.storage.member_files,
                upload_to=hongniang.members.storage.random_photo_name,
                verbose_name="photo",
            ),
        ),
        migrations.RunPython(move_files, migrations.RunPython.noop),
    ]
