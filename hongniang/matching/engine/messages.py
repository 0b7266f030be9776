"""Every human-readable string the engine produces, in one table (zh-CN).

An i18n layer can wrap ``render`` or replace ``TEMPLATES`` / the label tables; nothing else
in the engine builds display text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

TEMPLATES: Final[dict[str, str]] = {
    "pronoun.M": "他",
    "pronoun.F": "她",
    "must": "（必要条件）",
    # ranges: age / height / weight
    "span.both": "{low}–{high}{unit}",
    "span.low": "{low}{unit}以上",
    "span.high": "{high}{unit}以下",
    "range.ok": "{owner}要求{label}{span}：对方{value}{unit} ✓",
    "range.above.partial": "{label}{value}{unit}，超出{owner}{span}的范围{dist}{unit}",
    "range.above.fail": "{label}{value}{unit}，超出{owner}{span}的范围{dist}{unit} ✗",
    "range.below.partial": "{label}{value}{unit}，低于{owner}要求的{span}（差{dist}{unit}）",
    "range.below.fail": "{label}{value}{unit}，低于{owner}要求的{span}（差{dist}{unit}） ✗",
    "range.unknown": "{owner}要求{label}{span}：对方未填写{label}",
    # minimums: education / income
    "education.ok": "{owner}要求{minimum}以上：对方{value} ✓",
    "education.partial": "{owner}要求{minimum}以上：对方{value}，差{dist}级",
    "education.fail": "{owner}要求{minimum}以上：对方{value} ✗",
    "education.unknown": "{owner}要求{minimum}以上：对方未填写学历",
    "income.ok": "{owner}要求年收入{minimum}以上：对方{value} ✓",
    "income.partial": "{owner}要求年收入{minimum}以上：对方{value}，差{dist}档",
    "income.fail": "{owner}要求年收入{minimum}以上：对方{value} ✗",
    "income.unknown": "{owner}要求年收入{minimum}以上：对方未填写收入",
    # maximums: smoking / drinking
    "habit.ok": "{owner}希望对方{limit}：对方{value} ✓",
    "habit.partial": "{owner}希望对方{limit}：对方{value}，部分符合",
    "habit.fail": "{owner}希望对方{limit}：对方{value} ✗",
    "habit.unknown": "{owner}希望对方{limit}：对方未填写",
    # choices: marital / children
    "choice.ok": "{owner}接受{allowed}：对方{value} ✓",
    "choice.partial": "{owner}接受{allowed}：对方{value}，部分符合",
    "choice.fail": "{owner}只接受{allowed}：对方{value} ✗",
    "choice.unknown": "{owner}接受{allowed}：对方未填写",
    # requirements: car / house
    "required.ok": "{owner}要求{thing}：对方{thing} ✓",
    "required.fail": "{owner}要求{thing}：对方{lack} ✗",
    "required.unknown": "{owner}要求{thing}：对方未填写",
    # region
    "region.ok": "{owner}希望对方在{place}：对方在{theirs} ✓",
    "region.partial": "{owner}希望对方在{place}：对方在{theirs}（同省不同城）",
    "region.fail": "{owner}希望对方在{place}：对方在{theirs} ✗",
    "region.unknown": "{owner}希望对方在{place}：对方未填写所在地",
    "hukou.ok": "{owner}希望对方户籍在{place}：对方户籍{theirs} ✓",
    "hukou.fail": "{owner}希望对方户籍在{place}：对方户籍{theirs} ✗",
    "hukou.unknown": "{owner}希望对方户籍在{place}：对方未填写户籍",
    # same: ethnicity / religion
    "same.ok": "{owner}希望同{label}：双方都是{value} ✓",
    "same.fail": "{owner}希望同{label}：{owner}{mine}，对方{value} ✗",
    "same.unknown": "{owner}希望同{label}：信息未填写",
    # hard rules
    "rule.self": "不能与自己匹配",
    "rule.sex": "性别不符合配对规则",
    "rule.status": "{who}当前{status}，不参与匹配",
    "rule.married": "{who}为已婚状态，不参与匹配",
    "rule.legal_age": "{who}{age}岁，未满{sex}法定婚龄{minimum}岁",
    "rule.must": "{text}{must}",
    "rule.age_window": "年龄{value}岁，与{owner}期望的{span}相差过大",
    # score components
    "text.shared": "兴趣与自我介绍相近，分数{points:+.1f}；共同点：{words}",
    "collab.taste": "与{owner}眼光相近的会员也喜欢对方",
    "collab.taste_no": "与{owner}眼光相近的会员多婉拒对方",
    "collab.reciprocal": "对方喜欢的人与{owner}相似",
    "collab.reciprocal_no": "对方婉拒过与{owner}相似的人",
    "collab.appeal_high": "对方常被其他会员接受",
    "collab.appeal_low": "对方较少被其他会员接受",
    "collab.open": "对方对推荐常表示愿意",
    "collab.picky": "对方对推荐很少表示愿意",
    "collab.own_open": "{owner}对推荐常表示愿意",
    "collab.own_picky": "{owner}对推荐很少表示愿意",
    "collab.own_appeal_high": "{owner}常被其他会员接受",
    "collab.own_appeal_low": "{owner}较少被其他会员接受",
    "collab.direct": "对方已对{owner}表示好感",
    "collab.moved": "互动行为使分数{points:+.1f}：{why}",
    "fb.moved": "以往答复使分数{points:+.1f}：{why}",
    "fb.bound": "{owner}曾以“{reason}”婉拒{detail}的对象",
    "fb.avoid": "{owner}曾以“{reason}”婉拒{detail}的对象",
    "fb.repeller": "与{owner}曾以“{reason}”婉拒的对象相似",
    "fb.like": "与{owner}喜欢过的对象相似",
    "fb.reciprocal": "对方曾以“{reason}”婉拒{detail}的人",
    "boost.pin": "红娘置顶推荐",
    "boost.points": "红娘加分{points:+.0f}",
}

EDUCATION_LABELS: Final = ("小学及以下", "初中", "高中/中专", "大专", "本科", "硕士", "博士")
INCOME_LABELS: Final = (
    "3万以下",
    "3–5万",
    "5–8万",
    "8–12万",
    "12–20万",
    "20–30万",
    "30–50万",
    "50万以上",
)
MARITAL_LABELS: Final = ("未婚", "离异", "丧偶", "已婚")
CHILDREN_LABELS: Final = ("无子女", "有子女（不同住）", "有子女（同住）")
SMOKING_LABELS: Final = ("不吸烟", "偶尔吸烟", "经常吸烟")
SMOKING_LIMITS: Final = ("不吸烟", "不经常吸烟", "吸烟不限")
DRINKING_LABELS: Final = ("不喝酒", "偶尔喝酒", "经常喝酒")
DRINKING_LIMITS: Final = ("不喝酒", "不经常喝酒", "喝酒不限")
RELIGION_LABELS: Final = ("无宗教信仰", "佛教", "道教", "伊斯兰教", "基督教", "天主教", "其他宗教")
STATUS_LABELS: Final = {
    "active": "服务中",
    "paused": "暂停服务",
    "expired": "服务已过期",
    "hidden": "已隐藏",
    "completed": "服务已结束",
    "abandoned": "已放弃跟进",
    "not_offered": "未开放配对",
}
SEX_LABELS: Final = {"M": "男性", "F": "女性"}
CRITERION_LABELS: Final = {
    "age": "年龄",
    "height": "身高",
    "weight": "体重",
    "education": "学历",
    "income": "收入",
    "marital": "婚姻状况",
    "children": "子女情况",
    "car": "车",
    "house": "房",
    "region": "地区",
    "smoking": "吸烟",
    "drinking": "饮酒",
    "ethnicity": "民族",
    "religion": "宗教信仰",
}
REQUIRED_LABELS: Final = {"car": ("有车", "无车"), "house": ("有房", "无房")}
REASON_LABELS: Final = {
    "too_old": "年龄偏大",
    "too_young": "年龄偏小",
    "too_far": "距离太远",
    "education": "学历不合适",
    "income": "收入不合适",
    "height": "身高不合适",
    "too_short": "身高偏矮",
    "too_tall": "身高偏高",
    "appearance": "外形不合适",
    "marital": "婚史不合适",
    "children": "子女情况不合适",
    "smoking": "吸烟",
    "drinking": "饮酒",
    "not_my_type": "不是喜欢的类型",
}
# "{detail}" phrases for learned bounds: value → e.g. "36岁及以上".
BOUND_DETAILS: Final = {
    "fb_age_hi": "{value}岁及以上",
    "fb_age_lo": "{value}岁及以下",
    "fb_h_hi": "身高{value}cm及以上",
    "fb_h_lo": "身高{value}cm及以下",
    "fb_edu_lo": "{value}及以下学历",
    "fb_inc_lo": "年收入{value}及以下",
    "fb_smoke_hi": "{value}",
    "fb_drink_hi": "{value}",
}
UNITS: Final = {"age": "岁", "height": "cm", "weight": "kg"}

PROVINCE_NAMES: Final = {
    11: "北京",
    12: "天津",
    13: "河北",
    14: "山西",
    15: "内蒙古",
    21: "辽宁",
    22: "吉林",
    23: "黑龙江",
    31: "上海",
    32: "江苏",
    33: "浙江",
    34: "安徽",
    35: "福建",
    36: "江西",
    37: "山东",
    41: "河南",
    42: "湖北",
    43: "湖南",
    44: "广东",
    45: "广西",
    46: "海南",
    50: "重庆",
    51: "四川",
    52: "贵州",
    53: "云南",
    54: "西藏",
    61: "陕西",
    62: "甘肃",
    63: "青海",
    64: "宁夏",
    65: "新疆",
    71: "台湾",
    81: "香港",
    82: "澳门",
}

# GB 3304 names; codes 1..56 in order, plus 97 / 98.
_ETHNICITIES: Final = (  # noqa: SIM905 (a word list reads better as text)
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎"
    " 傈僳 佤 畲 高山 拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗"
    " 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安"
    " 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
).split()
ETHNICITY_LABELS: Final = {
    **{i + 1: f"{name}族" for i, name in enumerate(_ETHNICITIES)},
    97: "其他民族",
    98: "外国血统",
}


def render(key: str, **values: object) -> str:
    """The one place display text is produced."""
    return TEMPLATES[key].format(**values)


def pronoun(sex: int) -> str:
    return TEMPLATES["pronoun.M" if sex == 0 else "pronoun.F"]


def place_name(code: int, names: Mapping[int, str] | None) -> str:
    """Name of a GB/T 2260 code (6 digits); uses the adapter's table when given."""
    if names and code in names:
        return names[code]
    province = PROVINCE_NAMES.get(code // 10000, str(code // 10000 * 10000))
    if code % 10000 == 0:
        return province
    return f"{province}·{code}"
