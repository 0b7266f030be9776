"""Every history table is indexed the way the audit trail reads it, newest first by
(history_date, history_id); a tracked model declared with simple-history's own class would
miss it (and its history_date would have no index at all)."""

from django.apps import apps
from django.db import connection

from hongniang.workbench.history import TRAIL_ORDER


def _history_models():
    return [
        m
        for m in apps.get_models()
        if hasattr(m, "instance_type") and "history_id" in {f.name for f in m._meta.fields}
    ]


def test_every_history_model_has_the_trail_index():
    models = _history_models()
    assert len(models) >= 12  # the tracked models of seven apps
    for model in models:
        indexed = [tuple(index.fields) for index in model._meta.indexes]
        assert TRAIL_ORDER in indexed, model._meta.label
        assert not model._meta.get_field("history_date").db_index, model._meta.label


def test_the_trail_index_exists_in_the_database(db):
    for model in _history_models():
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
        columns = [tuple(c["columns"]) for c in constraints.values() if c["index"]]
        assert TRAIL_ORDER in columns, model._meta.db_table
