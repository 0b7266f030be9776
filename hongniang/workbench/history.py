"""Change history of the tracked models (django-simple-history), indexed for the audit trail.

The audit trail reads each history table newest first, by (history_date, history_id), a page
at a time from a cursor. simple-history indexes `history_date` alone: rows written together (a
bulk import gives 100,000 members one history_date) then had to be sorted in full for each page.
The generated models cannot declare Meta.indexes themselves; `get_meta_options` is the hook
simple-history builds their Meta from. The single-column index is switched off in the settings
(SIMPLE_HISTORY_DATE_INDEX = False): the pair's index serves a range of dates as well.
"""

from django.db import models
from simple_history.models import HistoricalRecords as BaseHistoricalRecords

TRAIL_ORDER = ("history_date", "history_id")


class HistoricalRecords(BaseHistoricalRecords):
    def get_meta_options(self, model):
        meta = super().get_meta_options(model)
        meta["indexes"] = [*meta.get("indexes", ()), models.Index(fields=list(TRAIL_ORDER))]
        return meta
