"""Build the matching-engine snapshot now (the worker does it by itself: at start when none
exists, nightly, and when the change log has grown; see README "Matching engine")."""

import time

from django.core.management.base import BaseCommand

from hongniang.matching import index


class Command(BaseCommand):
    help = "Build a matching-engine snapshot from the database (or --fold the change log in)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--fold",
            action="store_true",
            help="Apply the change log to the newest snapshot instead of a full build.",
        )

    def handle(self, *args, fold=False, **options):
        started = time.perf_counter()
        path = index.build_snapshot(full=not fold)
        self.stdout.write(f"{path} ({time.perf_counter() - started:.1f} s)")
