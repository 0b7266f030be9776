"""A generator of member files as agencies keep them, for the import bench.

    python bench/import_data.py out.xlsx [--rows 100000] [--style template|messy] [--seed 1]

Rows are realistic (names, ages 20–60 with matching resident IDs, mobiles, regions from the
packaged division table, heights, education, marital status, incomes) and messy on purpose:
about 5 % bad rows (unknown regions, broken mobiles, members under age, education nobody can
read, wrong ID check digits, implausible weights), about 1 % of mobiles twice in the file, and,
when the bench passes registered mobiles, some rows of members already in the database.

``template`` writes the import template's headers in row 1. ``messy`` writes what another
CRM exports: a title row and a blank row above the agency's own headers, province / city /
county in separate columns, heights as "175cm" or "1.75米", weights in 斤, birthdays as
yyyymmdd numbers, and the usual spellings (大学本科, 离异带孩, 研究生, 1万-2万元 …).
"""

import argparse
import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hongniang.workbench.xlsx import SheetWriter  # noqa: E402 - after the path is set

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩凯健俊帆帅旭宁龙林欣悦雪婷琳晨瑶怡佳慧颖倩雯洁"  # noqa: E501
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
TEMPLATE_EDUCATION = ["高中", "大专", "本科", "硕士", "博士"]
MESSY_EDUCATION = ["高中及以下", "专科", "大学本科", "本科", "研究生", "硕士研究生", "博士"]
TEMPLATE_MARITAL = ["未婚", "离异", "丧偶"]
MESSY_MARITAL = ["未婚", "离婚", "离异带孩", "离异无孩", "丧偶"]
MESSY_INCOME = ["5千以下", "5千-1万", "1万-2万元", "2万-5万", "面议"]
PREFIXES = [
    *(str(n) for n in range(130, 140)),
    "150",
    "151",
    "152",
    "158",
    "159",
    "186",
    "187",
    "188",
]
HOBBIES = ["旅游", "读书", "音乐", "运动", "美食", "摄影", "电影"]

TEMPLATE_KEYS = [
    "name",
    "sex",
    "birthday",
    "mobile",
    "id_number",
    "region",
    "height",
    "weight",
    "marital_status",
    "education",
    "hobbies",
    "wechat",
    "about",
    "pref-age_min",
    "pref-age_max",
]
MESSY_HEADERS = [
    "客户姓名",
    "性别",
    "出生日期",
    "联系电话",
    "身份证号",
    "所在省",
    "所在市",
    "所在区县",
    "身高",
    "体重",
    "婚姻状况",
    "学历",
    "月收入",
    "微信号",
    "备注",
]


def resident_id(born: date, male: bool, area: str, seq: int) -> str:
    body = f"{area[:6]}{born:%Y%m%d}{seq % 100:02d}{(seq % 5) * 2 + (1 if male else 0)}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def _counties(regions_file: Path):
    """(province, city, county, code) of every county of the packaged division table."""
    found = []
    for province in json.loads(regions_file.read_text(encoding="utf-8")):
        for city in province.get("children", []):
            for county in city.get("children", []):
                found.append((province["name"], city["name"], county["name"], county["code"]))
    return found


class Rows:
    def __init__(self, rows: int, seed: int, registered_mobiles=()):
        self.n = rows
        self.rnd = random.Random(seed)
        self.counties = _counties(ROOT / "static_vendor" / "regions" / "pca-code.json")
        # Most members come from a few cities, as in an agency.
        self.home = [c for c in self.counties if c[3][:4] in ("4401", "4403", "1101", "3101")]
        self.registered = list(registered_mobiles)
        self.today = date.today()  # noqa: DTZ011 - a calendar date for ages

    def person(self, i: int) -> dict:
        rnd = self.rnd
        male = rnd.random() < 0.5
        born = self.today - timedelta(days=rnd.randint(20 * 365 + 10, 60 * 365))
        province, city, county, code = rnd.choice(
            self.home if rnd.random() < 0.7 else self.counties
        )
        height = rnd.randint(165, 188) if male else rnd.randint(152, 175)
        return {
            "i": i,
            "name": rnd.choice(SURNAMES)
            + "".join(rnd.choice(GIVEN) for _ in range(rnd.randint(1, 2))),
            "male": male,
            "born": born,
            # Numbers from 50,000,000 up: the demo seed numbers its members from 0.
            "mobile": f"{rnd.choice(PREFIXES)}{50_000_000 + i:08d}",
            "id_number": resident_id(born, male, code, i),
            "region": (province, city, county, code),
            "height": height,
            "weight": rnd.randint(45, 90),
            "education": rnd.randrange(5),
            "marital": rnd.choices(range(3), weights=(75, 22, 3))[0],
            "hobbies": rnd.sample(HOBBIES, rnd.randint(0, 3)),
            "wechat": f"wx_{i:07d}" if rnd.random() < 0.6 else "",
            "about": rnd.choice(
                ["", "性格开朗，喜欢旅游", "工作稳定，希望找到合适的另一半", '=HYPERLINK("x")']
            ),
            "bad": None,
        }

    def __iter__(self):
        rnd = self.rnd
        previous = []
        for i in range(self.n):
            p = self.person(i)
            roll = rnd.random()
            if roll < 0.05:  # about 5 % bad rows, of several kinds
                p["bad"] = rnd.choice(["region", "mobile", "young", "education", "id", "weight"])
            elif roll < 0.06 and previous:  # about 1 % repeat a mobile from earlier in the file
                p["mobile"] = rnd.choice(previous)["mobile"]
            elif roll < 0.065 and self.registered:  # some members already registered
                p["mobile"] = rnd.choice(self.registered)
            if len(previous) < 1000:
                previous.append(p)
            yield p


def _template_row(p: dict, rnd) -> list:
    province, city, county, code = p["region"]
    region = rnd.choice([f"{province} {city} {county}", code, f"{province}{city}{county}"])
    if city == "市辖区":
        region = f"{province} {county}"
    birthday = p["born"]
    id_number = p["id_number"]
    mobile = p["mobile"]
    education = TEMPLATE_EDUCATION[p["education"]]
    weight = p["weight"]
    bad = p["bad"]
    if bad == "region":
        region = rnd.choice(["火星 奥林匹斯山", "鼓楼区", "广东 成都"])
    elif bad == "mobile":
        mobile = rnd.choice(["1234567", "1380013800", "电话待补"])
    elif bad == "young":
        birthday = date.today() - timedelta(days=16 * 365)  # noqa: DTZ011
        id_number = ""
    elif bad == "education":
        education = "学历不明"
    elif bad == "id":
        id_number = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")
    elif bad == "weight":
        weight = 500
    if rnd.random() < 0.05:
        mobile = f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    return [
        p["name"],
        "男" if p["male"] else "女",
        birthday,
        mobile,
        id_number,
        region,
        p["height"],
        weight,
        TEMPLATE_MARITAL[p["marital"]],
        education,
        "、".join(p["hobbies"]),
        p["wechat"],
        p["about"],
        25 if p["male"] else 28,
        35 if p["male"] else 40,
    ]


def _messy_row(p: dict, rnd) -> list:
    province, city, county, _code = p["region"]
    height = rnd.choice([p["height"], f"{p['height']}cm", f"{p['height'] / 100:.2f}米"])
    weight = rnd.choice([p["weight"], f"{p['weight']}kg", f"{p['weight'] * 2}斤"])
    birthday = rnd.choice(
        [p["born"], int(p["born"].strftime("%Y%m%d")), p["born"].strftime("%Y.%-m.%-d")]
    )
    mobile, id_number = p["mobile"], p["id_number"]
    education = MESSY_EDUCATION[min(p["education"] + rnd.randint(0, 1), len(MESSY_EDUCATION) - 1)]
    marital = rnd.choice(MESSY_MARITAL[1:]) if p["marital"] else "未婚"
    bad = p["bad"]
    if bad == "region":
        county = "奥林匹斯山"
    elif bad == "mobile":
        mobile = "电话待补"
    elif bad == "young":
        birthday, id_number = date.today() - timedelta(days=16 * 365), ""  # noqa: DTZ011
    elif bad == "education":
        education = "学历不明"
    elif bad == "id":
        id_number = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")
    elif bad == "weight":
        weight = "500kg"
    return [
        p["name"],
        "男" if p["male"] else "女",
        birthday,
        mobile,
        id_number,
        province,
        city,
        county,
        height,
        weight,
        marital,
        education,
        rnd.choice(MESSY_INCOME),
        p["wechat"],
        p["about"],
    ]


def write(
    path: Path,
    *,
    rows: int = 100_000,
    style: str = "template",
    seed: int = 1,
    registered_mobiles=(),
    template_headers=None,
) -> int:
    """Write the file; returns the number of member rows. ``template_headers`` (the template's
    header of each key in TEMPLATE_KEYS) is needed for the template style."""
    source = Rows(rows, seed, registered_mobiles)
    rnd = random.Random(seed + 1)
    with path.open("wb") as out, SheetWriter(out, "会员", freeze_header=False) as sheet:
        if style == "messy":
            sheet.row(["某某婚介 会员资料导出（2026年11月）"])
            sheet.row([])
            sheet.header(MESSY_HEADERS)
            for p in source:
                sheet.row(_messy_row(p, rnd))
        else:
            sheet.header(list(template_headers))
            for p in source:
                sheet.row(_template_row(p, rnd))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--style", choices=["template", "messy"], default="template")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongniang.settings")
    import django

    django.setup()
    from django.utils import translation

    from hongniang.members import excel

    with translation.override("zh-hans"):
        headers = [str(excel.HEADERS[k]) for k in TEMPLATE_KEYS]
    write(
        Path(args.out), rows=args.rows, style=args.style, seed=args.seed, template_headers=headers
    )
    print(f"wrote {args.rows:,} rows to {args.out}")


if __name__ == "__main__":
    main()
