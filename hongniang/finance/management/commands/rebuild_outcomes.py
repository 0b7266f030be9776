"""Recompute the outcome report's monthly counters from the source rows."""

from django.core.management.base import BaseCommand

from hongniang.finance import outcomes


class Command(BaseCommand):
    help = (
        "Recompute the outcome counters per matchmaker and month (and the contract months of "
        "the promise ledger) from recommendations, appointments, complaints, refunds, timeline "
        "events and contracts: after seeding that bypassed the models, or a data repair."
    )

    def handle(self, *args, **options):
        rows = outcomes.rebuild()
        self.stdout.write(f"{rows} counter rows (matchmaker × month).")
