"""Test helpers for members: valid Chinese IDs and mobiles, and a quick way to add members."""

from datetime import date
from itertools import count

from stdnum.cn import ric

from hongniang.members import choices as c
from hongniang.members import services
from hongniang.members.models import MatePreference, Member

_mobiles = count(13800000001)


def resident_id(birthday: date, sex: str, region: str = "440106", seq: int = 12) -> str:
    """A valid 18-digit resident ID for the birthday and sex (odd 17th digit = male)."""
    last = seq * 10 + (1 if sex == c.Sex.MALE else 2)
    body = f"{region}{birthday:%Y%m%d}{last % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # the function ignores the last character


def next_mobile() -> str:
    return str(next(_mobiles))


def add_member(actor, **fields) -> Member:
    mobile = fields.pop("mobile", None) or next_mobile()
    id_number = fields.pop("id_number", "")
    preference = fields.pop("preference", None)
    defaults = {
        "username": f"m{mobile}",
        "name": "测试会员",
        "sex": c.Sex.FEMALE,
        "birthday": date(1995, 5, 20),
        "height": 162,
        "region": "440106",
        "marital_status": c.MaritalStatus.SINGLE,
        "education": c.Education.BACHELOR,
    }
    defaults.update(fields)
    member = Member(**defaults)
    return services.member_create(
        actor=actor,
        member=member,
        mobile=mobile,
        id_number=id_number,
        preference=MatePreference(**(preference or {})),
    )
