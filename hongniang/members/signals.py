"""Signals of the members app."""

from django.dispatch import Signal

# Sent inside the transaction of a bulk write (an import), which sends no post_save: the
# members created or changed, once for the whole batch. Arguments: member_ids (list of pks).
members_bulk_changed = Signal()
