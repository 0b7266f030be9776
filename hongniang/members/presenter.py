"""The one presenter that decides what a viewer sees of a member (DESIGN.md, Permissions).

A member is "own" for a viewer when the viewer may see the member's record (`visible_to`): their
own team's members, or everyone for the scope "all". Everybody else's member — a candidate of
another team in the match library, the partner of an appointment, the target of an introduction
request — is shown with public fields only: the surname followed by "**", no contact data at all.

Every template, flash message, notice and export that can show a member who is not the viewer's
goes through `present`/`present_many`/`member_label`; nothing prints `member.name` or a contact
field of such a member directly.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from django.urls import reverse
from django.utils.translation import gettext as _
from pypinyin import Style, pinyin

from hongniang.members.models import Member

# Fields that identify or reach a person; shown to the member's own team only.
PRIVATE_FIELDS = ("name", "mobile", "id_number", "wechat", "qq", "email", "username")
# Fields anyone in the agency may see of a member offered as a candidate.
PUBLIC_FIELDS = frozenset(
    {
        "pk",
        "id",
        "sex",
        "get_sex_display",
        "age",
        "birthday_year",
        "height",
        "weight",
        "education",
        "get_education_display",
        "marital_status",
        "get_marital_status_display",
        "occupation",
        "get_occupation_display",
        "annual_income",
        "get_annual_income_display",
        "monthly_income",
        "get_monthly_income_display",
        "region",
        "hukou_region",
        "car",
        "get_car_display",
        "house",
        "get_house_display",
        "children",
        "get_children_display",
        "hobbies",
        "personality",
        "store",
        "store_id",
        "presales_owner",
        "presales_owner_id",
        "aftersales_owner",
        "aftersales_owner_id",
    }
)


# What a list that shows members by `label` only needs to read of them (`Member.objects.only`):
# the name, and the owners that decide whether the viewer sees it (`_own`). A member row has
# ~90 columns; building and reading all of them for a preview of five cost more than its query.
LABEL_FIELDS = ("name", "presales_owner", "aftersales_owner")


def mask_name(name: str) -> str:
    """张三丰 → 张**: the surname (first character) only."""
    name = (name or "").strip()
    return f"{name[:1]}**" if name else "—"


@dataclass(frozen=True)
class MemberView:
    """What `viewer` may see of `member`; templates use it like a member."""

    # Underscored so that a template cannot reach past the presenter to the raw row.
    _member: Member
    own: bool
    # A visitor of the public site: not even the surname (a surname with an age and a town can
    # be enough to find someone), only "Ms."/"Mr.".
    public: bool = False

    # --- identity ---
    @property
    def pk(self) -> int:
        return self._member.pk

    @property
    def uid(self) -> int:
        return self._member.pk

    @property
    def name(self) -> str:
        if self.public:
            return str(_("Ms.") if self._member.sex == "F" else _("Mr."))
        return self._member.name if self.own else mask_name(self._member.name)

    @property
    def label(self) -> str:
        """The name and UID, as messages and notices print a member."""
        return _("%(name)s (UID %(uid)s)") % {"name": self.name, "uid": self._member.pk}

    @property
    def url(self) -> str | None:
        """The member's page, only for a viewer who may open it."""
        return reverse("members:detail", args=[self._member.pk]) if self.own else None

    # --- contact data: masked for the own team (reveal is a separate, logged action) ---
    @property
    def mobile(self) -> str:
        return self._member.mobile_masked if self.own else ""

    @property
    def id_number(self) -> str:
        return self._member.id_number_masked if self.own else ""

    @property
    def wechat(self) -> str:
        return self._member.wechat if self.own else ""

    @property
    def qq(self) -> str:
        return self._member.qq if self.own else ""

    @property
    def email(self) -> str:
        return self._member.email if self.own else ""

    @property
    def username(self) -> str:
        return self._member.username if self.own else ""

    @property
    def matchmaker(self):
        """The member's matchmaker: the person to contact about this member."""
        return self._member.aftersales_owner or self._member.presales_owner

    def __getattr__(self, attr):
        # Public profile fields pass through; anything else of another team's member is hidden.
        if attr in PUBLIC_FIELDS or (attr.startswith("get_") and attr.endswith("_display")):
            return getattr(self._member, attr)
        if self.own and not attr.startswith("_"):
            return getattr(self._member, attr)
        raise AttributeError(attr)

    def __str__(self) -> str:
        return self.name


def own_member_ids(viewer, ids) -> set[int]:
    """Of `ids`, the members whose record the viewer may see (one query)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return set()
    return set(Member.objects.visible_to(viewer).filter(pk__in=ids).values_list("pk", flat=True))


def _own(viewer, members: list) -> set[int]:
    """The keys of `members` whose record the viewer may see: from the owners the rows carry
    (no query), else asked of the database (rows read without their owners)."""
    own = Member.objects.visible_among(viewer, members)
    return own if own is not None else own_member_ids(viewer, [m.pk for m in members])


def present(viewer, member: Member, *, own: bool | None = None) -> MemberView:
    if own is None:
        own = member.pk in _own(viewer, [member])
    return MemberView(member, own)


def present_many(viewer, members) -> list[MemberView]:
    members = list(members)
    own = _own(viewer, members) if members else set()
    return [MemberView(m, m.pk in own) for m in members]


def present_public(members) -> list[MemberView]:
    """Members as a visitor of the public site sees them: public fields, no name at all."""
    return [MemberView(m, own=False, public=True) for m in members]


def member_label(viewer, member: Member) -> str:
    """A member as one line of text for `viewer`: messages, notices, exports."""
    return present(viewer, member).label


# What one member may see of another (the member centre): the profile's public fields, and no
# name at all — not even the surname — nor who serves them.
PEER_HIDDEN = frozenset(
    {"store", "store_id", "presales_owner", "presales_owner_id", "aftersales_owner"}
    | {"aftersales_owner_id", "pk", "id", "uid"}
)


@dataclass(frozen=True)
class PeerView(MemberView):
    own: bool = False
    # The opaque reference the member centre gives this member (never the primary key: ids tell
    # the agency's size and invite walking through them).
    ref: str = ""

    @property
    def name(self) -> str:
        return _("Member %(uid)s") % {"uid": self.ref}

    @property
    def pk(self):
        raise AttributeError("pk")

    @property
    def uid(self):
        raise AttributeError("uid")

    @property
    def label(self) -> str:
        return self.name

    @property
    def url(self) -> None:
        return None

    @property
    def matchmaker(self) -> None:
        return None

    def __getattr__(self, attr):
        if attr in PEER_HIDDEN:
            raise AttributeError(attr)
        return super().__getattr__(attr)


def present_to_member(other: Member, *, ref: str) -> PeerView:
    """`other` as another member sees them: never their record, whatever the caller. `ref`: the
    member centre's opaque reference of `other`."""
    return PeerView(other, ref=ref)


@dataclass(frozen=True)
class RevealedPeerView(PeerView):
    """Another member once both said yes (double opt-in): their name as the agency reveals it
    (`name_form`: "full", "given" or "surname"), and still no contact detail, no record link,
    no matchmaker (the matchmakers arrange the first date)."""

    name_form: str = "full"

    @property
    def name(self) -> str:
        name = (self._member.name or "").strip()
        if not name:
            return super().name
        surname = surname_of(name)
        if self.name_form == "given":
            return name[len(surname) :] or name
        if self.name_form == "surname":
            return surname + str(_("Ms.") if self._member.sex == "F" else _("Mr."))
        return name


def present_revealed(other: Member, *, ref: str, name_form: str) -> RevealedPeerView:
    return RevealedPeerView(other, ref=ref, name_form=name_form)


# --- free text one member reads about another ---------------------------------------------------
# A matchmaker's typed reason reaches the member as typed: it must not carry a way to reach the
# other person. Phone, QQ and ID numbers (7+ digits, separators between them allowed), e-mail
# addresses (also spelled out: "(at)", "艾特", "点com"), an account after a contact word
# (微信/QQ/电话…), and WeChat-like ids (a letter, then 5–19 letters, digits, _ or -, with at least
# one digit). The patterns run on a normalised copy of the text (`_normalised`), so fullwidth
# forms, Chinese numerals and invisible characters do not hide a number from them.
_SEPARATOR = r"[\s\-‐‑‒–—―−_.·•/\\|~()]"
_CONTACT_WORDS = (
    "微信|威信|薇信|v信|weixin|wechat|wx|vx|加v|加微|qq|扣扣|企鹅|电话|手机|tel|phone|抖音|微博"
    "|邮箱|email|e-mail"
)
_CONTACT_PATTERNS = (
    re.compile(rf"\d(?:{_SEPARATOR}*\d){{6,}}[xX]?"),
    re.compile(
        r"[\w.+\-]+\s*(?:@|[(\[{<]\s*at\s*[)\]}>]|艾特|(?<=\s)at(?=\s))\s*[A-Za-z0-9\-]+"
        r"(?:\s*(?:\.|[(\[{<]\s*dot\s*[)\]}>]|(?<=\s)dot(?=\s)|点|。)\s*[A-Za-z0-9\-]+)+",
        re.IGNORECASE,
    ),
    re.compile(
        r"(?:qq|163|126|139|gmail|hotmail|outlook|foxmail|sina|sohu|yahoo|icloud|aliyun|yeah)"
        r"\s*(?:\.|点|。|[(\[{<]\s*dot\s*[)\]}>]|\s+dot\s+)\s*(?:com|cn|net)",
        re.IGNORECASE,
    ),
    re.compile(
        # "微 信" counts as 微信: the words are matched with blanks between their characters.
        "(?:"
        + "|".join(r"\s*".join(map(re.escape, word)) for word in _CONTACT_WORDS.split("|"))
        + r")\s*(?:号|id)?\s*[:：是为]?\s*[A-Za-z0-9_\-]{3,}",
        re.IGNORECASE,
    ),
    re.compile(
        r"(?<![A-Za-z0-9_\-])(?=[A-Za-z_\-]*\d)[A-Za-z][A-Za-z0-9_\-]{5,19}(?![A-Za-z0-9_\-])"
    ),
    # "V: zhangsan": a bare V for WeChat, only with a colon (a lone letter is too common).
    re.compile(r"(?<![A-Za-z0-9])v\s*[:：]\s*[A-Za-z0-9_\-]{3,}", re.IGNORECASE),
)
# Chinese numerals (everyday, financial and spoken: 幺 for 1, 两 for 2) read as digits. Only the
# contact patterns see them as digits: a name may contain 一 or 三.
_NUMERALS = str.maketrans(
    "零〇一壹幺二贰貳两兩三叁參四肆五伍六陆陸七柒八捌九玖", "00111222223334455666778899"
)
# How a Chinese text names a person by the surname: 王先生, 王女士, 小王, 老王, 阿王.
_AFTER_SURNAME = "先生|女士|小姐|老师|同学|医生|律师|经理|总|哥|姐|某|氏"
_BEFORE_SURNAME = "小|老|阿"
_TWO_CHARACTER_SURNAMES = frozenset(
    {
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "令狐",
        "端木",
        "独孤",
        "南宫",
        "西门",
    }
)


def surname_of(name: str) -> str:
    name = (name or "").strip()
    return name[:2] if len(name) > 2 and name[:2] in _TWO_CHARACTER_SURNAMES else name[:1]


def _spaced(word: str) -> str:
    # "张 三 丰" names 张三丰 as well.
    return r"\s*".join(map(re.escape, word))


def _name_patterns(name: str) -> list[re.Pattern]:
    name, _origin = _normalised(name or "")
    name = "".join(name.split())
    if not name:
        return []
    surname = surname_of(name)
    given = name[len(surname) :]
    # A one-character given name (芳) or a bare surname (高, 周) is an everyday word: only the
    # full name, a given name of two characters or more, and the surname used as a name count.
    words = [_spaced(name)] + ([_spaced(given)] if len(given) >= 2 else [])
    words += [
        rf"{_spaced(surname)}\s*(?:{_AFTER_SURNAME})",
        rf"(?:{_BEFORE_SURNAME})\s*{_spaced(surname)}",
    ]
    return [re.compile("|".join(words))]


# A name also hides in another form of its characters (traditional 張三豐 for 张三丰) and in
# pinyin (zhangsanfeng, Zhang San-feng, Sanfeng Zhang): full names, and given names of two
# characters or more. Han characters are compared by their usual reading with its tone, so
# 文化 (wen2 hua4) does not name 文华 (wen2 hua2); a single character (張先生) is not compared by
# sound: too many words share one (这位先生, 一名医生).
_PINYIN_SEPARATOR = r"[\s\-_.'’·]*"


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


@lru_cache(maxsize=16384)
def _reading(ch: str) -> str:
    """The usual reading of one Han character, with its tone ("" for anything else)."""
    if not _is_han(ch):
        return ""
    readings = pinyin(ch, style=Style.TONE3, errors="ignore")
    return readings[0][0] if readings and readings[0] else ""


@lru_cache(maxsize=16384)
def _spellings(ch: str) -> frozenset[str]:
    """Every reading of one Han character as Latin letters (单: dan, shan, chan)."""
    readings = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    return frozenset(readings[0]) if readings else frozenset()


def _sounds_like(plain: str, word: str) -> list[tuple[int, int]]:
    """Spans of `plain` whose Han characters read as `word`'s, blanks between them allowed."""
    sounds = [_reading(ch) for ch in word]
    if len(sounds) < 2 or not all(sounds):
        return []
    han = [(i, _reading(ch)) for i, ch in enumerate(plain) if not ch.isspace()]
    return [
        (han[start][0], han[start + len(sounds) - 1][0] + 1)
        for start in range(len(han) - len(sounds) + 1)
        if all(han[start + k][1] == sounds[k] for k in range(len(sounds)))
    ]


def _pinyin_pattern(words: list[str]) -> re.Pattern | None:
    """These names in Latin letters without tones, any case, syllables apart or together."""
    spelled = []
    for word in words:
        syllables = [_spellings(ch) for ch in word]
        if len(syllables) < 2 or not all(syllables):
            continue
        spelled.append(
            _PINYIN_SEPARATOR.join(
                "(?:" + "|".join(sorted(map(re.escape, s), key=len, reverse=True)) + ")"
                for s in syllables
            )
        )
    if not spelled:
        return None
    return re.compile(r"(?<![A-Za-z])(?:" + "|".join(spelled) + r")(?![A-Za-z])", re.IGNORECASE)


def _name_sound_spans(plain: str, name: str) -> list[tuple[int, int]]:
    name, _origin = _normalised(name or "")
    name = "".join(name.split())
    if not name or not all(map(_is_han, name)):
        return []
    surname = surname_of(name)
    given = name[len(surname) :]
    words = [name] + ([given] if len(given) >= 2 else [])
    found = [span for word in words for span in _sounds_like(plain, word)]
    # Longest first: "Sanfeng Zhang" is masked whole, not "Sanfeng" alone.
    spelled = _pinyin_pattern([name] + ([given + surname, given] if given else []))
    if spelled is not None:
        found += [m.span() for m in spelled.finditer(plain) if m.group()]
    return found


def _normalised(text: str) -> tuple[str, list[int]]:
    """`text` in compatibility form (fullwidth ＡＢ１２＠ read as AB12@, ① as 1) without invisible
    format characters (zero-width spaces and joiners, soft hyphens), and for each of its characters
    the index of the character of `text` it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if unicodedata.category(ch) == "Cf":
            continue
        for out in unicodedata.normalize("NFKC", ch):
            chars.append(out)
            origin.append(i)
    return "".join(chars), origin


def _contact_spans(text: str, names) -> list[tuple[int, int]]:
    text = text or ""
    plain, origin = _normalised(text)
    numerals = plain.translate(_NUMERALS)  # one character for one: `origin` holds for both
    found = [m.span() for p in _CONTACT_PATTERNS for m in p.finditer(numerals) if m.group()]
    for name in names:
        found += [m.span() for p in _name_patterns(name) for m in p.finditer(plain) if m.group()]
        found += _name_sound_spans(plain, name)
    # Back to the indices of `text`: a span covers the characters it was normalised from.
    spans = sorted((origin[a], origin[b - 1] + 1) for a, b in found)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def contact_like(text: str, names=()) -> list[str]:
    """The parts of `text` that look like contact data or name one of `names`."""
    return [text[a:b] for a, b in _contact_spans(text, names)]


def mask_contact_like(text: str, names=()) -> str:
    """`text` with every part `contact_like` finds replaced by "***" (defence in depth where a
    member reads free text written about another member)."""
    out, last = [], 0
    for a, b in _contact_spans(text, names):
        out += [text[last:a], "***"]
        last = b
    out.append(text[last:])
    return "".join(out)
