"""Counter rows kept in the same transaction as the rows they count (the sales report's daily
totals, the outcome report's monthly counters): one race-free way to add to them."""

from django.db import IntegrityError, transaction
from django.db.models import F


def bump(model, key: dict, **amounts) -> None:
    """Add `amounts` to the row of `model` at `key` (created at zero if missing), race-free:
    an UPDATE … SET n = n + x, or an INSERT; the INSERT losing a race becomes the UPDATE."""
    amounts = {name: value for name, value in amounts.items() if value}
    if not amounts:
        return
    changes = {name: F(name) + value for name, value in amounts.items()}
    if model.objects.filter(**key).update(**changes):
        return
    try:
        with transaction.atomic():
            model.objects.create(**key, **amounts)
    except IntegrityError:  # created meanwhile by a concurrent transaction
        model.objects.filter(**key).update(**changes)
