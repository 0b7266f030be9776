"""The background worker: queue again what a killed worker left running, start the periodic
jobs when they are due, and work the queue."""

import logging
import threading

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from hongniang.jobs.services import requeue_lost_jobs, start_due_periodic_jobs

logger = logging.getLogger(__name__)

SCHEDULER_INTERVAL = 30  # seconds between two looks at the periodic jobs' schedule


def _scheduler(stop: threading.Event):
    while not stop.is_set():
        try:
            start_due_periodic_jobs()
        except Exception:  # a broken schedule must not stop the worker; it is logged
            logger.exception("Starting the periodic jobs failed")
        finally:
            close_old_connections()
        stop.wait(SCHEDULER_INTERVAL)


class Command(BaseCommand):
    help = (
        "Run the background-job worker (django-tasks-db): recover jobs of a killed worker, "
        "start periodic jobs when due, work the queue."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Work the queue, then exit.")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Do not start periodic jobs (when another worker or cron does).",
        )

    def handle(self, *args, batch=False, interval=1.0, no_scheduler=False, **options):
        lost = requeue_lost_jobs()
        if lost:
            self.stdout.write(f"Queued again {len(lost)} job(s) left running by a stopped worker.")
        stop = threading.Event()
        if batch and not no_scheduler:
            start_due_periodic_jobs()
        elif not no_scheduler:
            threading.Thread(target=_scheduler, args=(stop,), daemon=True, name="periodic").start()
        try:
            call_command(
                "db_worker",
                batch=batch,
                interval=interval,
                reload=False,
                startup_delay=False,
                verbosity=options.get("verbosity", 1),
            )
        finally:
            stop.set()
