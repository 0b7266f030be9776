"""`in` on integer columns with values beyond the column's range.

Django leaves such values out of `exact`, `gt`, `lt`… (they can match nothing) but hands them
to the database in an `in` list, where SQLite raises OverflowError and PostgreSQL "bigint out
of range": a member id like 99999999999999999999999 posted in a list of ids was a server error
on every page that takes one (pool claims, allocation, bulk messages, the member pickers).
"""

from django.db.models import IntegerField
from django.db.models.lookups import In


@IntegerField.register_lookup
class IntegerFieldIn(In):
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(
                self.lhs.output_field.get_internal_type()
            )
            self.rhs = [
                v
                for v in self.rhs
                if not isinstance(v, int)
                or ((low is None or v >= low) and (high is None or v <= high))
            ]
        return super().process_rhs(compiler, connection)
