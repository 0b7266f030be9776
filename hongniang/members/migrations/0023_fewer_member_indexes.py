"""Fewer indexes on members and their history: each one costs every insert (an import of
100,000 members spent most of its database time keeping 33 indexes on the member table).

Dropped: the plain indexes on the keyed hashes (the unique partial indexes answer every look-up,
see personal_data.hash_match), the plain index on the region (member_region_list starts with
it), and on PostgreSQL every pattern-matching ``_like`` copy of these and of the lunar birthday
key. The lunar birthday key keeps a plain index, now a Meta index.

The indexes are dropped by name (IF EXISTS: the ``_like`` ones exist on PostgreSQL only) rather
than through AlterField, which SQLite carries out by copying the whole table once per field.
"""

from django.db import migrations, models

_TEXT = {"blank": True, "editable": False}

# (model, field, the field as it is now, index names Django gave the old db_index=True)
_FIELDS = [
    ("member", "mobile_hash", models.CharField(max_length=64, **_TEXT),
     "members_member_mobile_hash_3a451205"),
    ("member", "id_number_hash", models.CharField(max_length=64, **_TEXT),
     "members_member_id_number_hash_fcabf09d"),
    ("member", "region", models.CharField(blank=True, max_length=6, verbose_name="location"),
     "members_member_region_774e13d9"),
    ("member", "lunar_birthday_md", models.CharField(max_length=5, **_TEXT),
     "members_member_lunar_birthday_md_12c502c9"),
    ("historicalmember", "mobile_hash", models.CharField(max_length=64, **_TEXT),
     "members_historicalmember_mobile_hash_df361093"),
    ("historicalmember", "id_number_hash", models.CharField(max_length=64, **_TEXT),
     "members_historicalmember_id_number_hash_7d4c35bd"),
    ("historicalmember", "region",
     models.CharField(blank=True, max_length=6, verbose_name="location"),
     "members_historicalmember_region_dd5358c8"),
    ("historicalmember", "lunar_birthday_md", models.CharField(max_length=5, **_TEXT),
     "members_historicalmember_lunar_birthday_md_26e60ba6"),
]  # fmt: skip


def _drop(name: str) -> str:
    return f'DROP INDEX IF EXISTS "{name}"'


def _create(model: str, field: str, name: str) -> str:
    return f'CREATE INDEX IF NOT EXISTS "{name}" ON "members_{model}" ("{field}")'


class Migration(migrations.Migration):
    dependencies = [("members", "0022_account_event")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name=model, name=name, field=field)
                for model, name, field, _index in _FIELDS
            ],
            database_operations=[
                migrations.RunSQL(
                    [_drop(index) for *_rest, index in _FIELDS]
                    + [_drop(f"{index}_like") for *_rest, index in _FIELDS],
                    # Going back restores the plain indexes (not PostgreSQL's _like copies).
                    reverse_sql=[_create(model, name, index) for model, name, _f, index in _FIELDS],
                )
            ],
        ),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["lunar_birthday_md"], name="member_lunar_birthday_md"),
        ),
    ]
