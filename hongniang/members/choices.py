"""Choices for every choice field of a member profile (whitepaper 2.4.1 and 2.4.4), defined once.

Two kinds of choice are kept apart on purpose:

* **Nominal** choices (occupation, religion, hobbies, ...) have no order; they are ``TextChoices``
  with short English slugs as stored values, so a stored row stays readable in SQL, exports and API
  output whatever the UI language.
* **Ordinal** choices (education, income bands, smoking, drinking, exercise, importance) have a
  meaningful order, and the matching engine compares them: "bachelor's degree or above", "income
  at least 10-20万", "at most occasional smoking", "one level short scores partially". They are
  ``IntegerChoices`` (through :class:`Ordinal`) whose stored values ascend with the order, so the
  database can filter with ``>=`` / ``<=``, the engine can load them into numpy arrays as they
  are, and sorting by the column sorts by level. Compare values, never labels.
  Values are spaced by 10 so that a level can later be inserted between two others without
  renumbering stored rows; use :meth:`Ordinal.rank` when a distance in *levels* is needed.

Labels are English msgids translated in ``members/locale``; the Chinese UI shows the wording of the
registration form (e.g. ``AnnualIncome.FROM_100K_TO_200K`` is shown as "10-20万").
Multi-select fields (personality, hobbies) store a list of values of the class.
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

# Longest stored value of any TextChoices below; use it as the CharField max_length.
CHOICE_MAX_LENGTH = 20


def in_choice_order(values, choices) -> list:
    """A multi-select value in the order of its choices, without repeats (unknown values last).

    The stored list is a set; one order for it means that saving a form unchanged stores the
    same list, and that two equal selections compare equal.
    """
    order = {value: i for i, value in enumerate(choices.values)}
    unique = list(dict.fromkeys(values or []))
    return sorted(unique, key=lambda v: order.get(v, len(order)))


class Ordinal(models.IntegerChoices):
    """Base class of ordered choices: stored values ascend with the level."""

    @classmethod
    def rank(cls, value) -> int:
        """0-based position of ``value`` in the order (its distance from the lowest level)."""
        return cls.values.index(int(value))


# --- Identity -------------------------------------------------------------------------------


class Sex(models.TextChoices):
    """性别."""

    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class IdType(models.TextChoices):
    """证件类型."""

    RESIDENT_ID = "resident_id", _("Resident ID card")
    PASSPORT = "passport", _("Passport")
    HK_MACAO_PERMIT = "hk_macao_permit", _("Hong Kong/Macao travel permit")
    TAIWAN_PERMIT = "taiwan_permit", _("Taiwan compatriot permit")
    MILITARY_ID = "military_id", _("Military officer ID")


class MaritalStatus(models.TextChoices):
    """婚况. Whether a divorced member has children is ChildrenStatus, not a status of its own.

    MARRIED is stored (a member may marry through or outside the agency) but never matched.
    """

    SINGLE = "single", _("Never married")
    DIVORCED = "divorced", _("Divorced")
    WIDOWED = "widowed", _("Widowed")
    MARRIED = "married", _("Married")

    @classmethod
    def matchable(cls) -> list[str]:
        """The statuses the matching engine may propose."""
        return [cls.SINGLE, cls.DIVORCED, cls.WIDOWED]


# --- Education, work and income ---------------------------------------------------------------


class Education(Ordinal):
    """学历, highest completed. 高中 and 中专 are both upper secondary; 中专 is put just above."""

    PRIMARY = 10, _("Primary school")
    JUNIOR_HIGH = 20, _("Junior high school")
    SENIOR_HIGH = 30, _("Senior high school")
    TECHNICAL_SECONDARY = 40, _("Technical secondary school")
    JUNIOR_COLLEGE = 50, _("Junior college")
    BACHELOR = 60, _("Bachelor's degree")
    MASTER = 70, _("Master's degree")
    DOCTORATE = 80, _("Doctorate")
    POSTDOC = 90, _("Postdoctoral")


# Lower bounds in yuan of the income bands, in the order of the classes' members.
_ANNUAL_INCOME_FLOORS = (0, 30_000, 50_000, 100_000, 200_000, 300_000, 500_000, 1_000_000)
_MONTHLY_INCOME_FLOORS = (0, 2_000, 4_000, 6_000, 8_000, 10_000, 20_000, 50_000)


def _band_for(cls, floors, amount) -> "Ordinal":
    amount = Decimal(amount)
    members = list(cls)
    for member, floor in zip(reversed(members), reversed(floors), strict=True):
        if amount >= floor:
            return member
    return members[0]


class AnnualIncome(Ordinal):
    """年收入 band (yuan per year). A band includes its lower bound: 100,000 is "10-20万"."""

    UNDER_30K = 10, _("Under ¥30k")
    FROM_30K_TO_50K = 20, _("¥30k–50k")
    FROM_50K_TO_100K = 30, _("¥50k–100k")
    FROM_100K_TO_200K = 40, _("¥100k–200k")
    FROM_200K_TO_300K = 50, _("¥200k–300k")
    FROM_300K_TO_500K = 60, _("¥300k–500k")
    FROM_500K_TO_1M = 70, _("¥500k–1M")
    OVER_1M = 80, _("Over ¥1M")

    @classmethod
    def for_amount(cls, yuan) -> "AnnualIncome":
        """The band of a yearly income in yuan (e.g. an imported "年收入: 120000")."""
        return _band_for(cls, _ANNUAL_INCOME_FLOORS, yuan)


class MonthlyIncome(Ordinal):
    """月收入 band (yuan per month). A band includes its lower bound: 10,000 is "1-2万"."""

    UNDER_2K = 10, _("Under ¥2k")
    FROM_2K_TO_4K = 20, _("¥2k–4k")
    FROM_4K_TO_6K = 30, _("¥4k–6k")
    FROM_6K_TO_8K = 40, _("¥6k–8k")
    FROM_8K_TO_10K = 50, _("¥8k–10k")
    FROM_10K_TO_20K = 60, _("¥10k–20k")
    FROM_20K_TO_50K = 70, _("¥20k–50k")
    OVER_50K = 80, _("Over ¥50k")

    @classmethod
    def for_amount(cls, yuan) -> "MonthlyIncome":
        """The band of a monthly income in yuan."""
        return _band_for(cls, _MONTHLY_INCOME_FLOORS, yuan)


class Occupation(models.TextChoices):
    """职业."""

    TECHNICIAN = "technician", _("Technical staff")
    IT = "it", _("IT / internet")
    TEACHER = "teacher", _("Teacher")
    DOCTOR = "doctor", _("Doctor")
    NURSE = "nurse", _("Nurse")
    CIVIL_SERVANT = "civil_servant", _("Civil servant")
    PUBLIC_INSTITUTION = "public_institution", _("Public institution staff")
    SALES = "sales", _("Sales")
    FINANCE = "finance", _("Finance / banking")
    SELF_EMPLOYED = "self_employed", _("Self-employed / small business")
    MANAGEMENT = "management", _("Business management")
    FREELANCER = "freelancer", _("Freelancer")
    STUDENT = "student", _("Student")
    MILITARY_POLICE = "military_police", _("Military / police")
    LAWYER = "lawyer", _("Lawyer")
    DESIGNER = "designer", _("Design")
    ACCOUNTANT = "accountant", _("Accounting")
    WORKER = "worker", _("Factory worker")
    SERVICE = "service", _("Service industry")
    MEDIA = "media", _("Media / culture")
    RESEARCH = "research", _("Research")
    AGRICULTURE = "agriculture", _("Agriculture")
    OTHER = "other", _("Other")


class WorkStatus(models.TextChoices):
    """工作状态."""

    STABLE = "stable", _("Stable job")
    ENTREPRENEUR = "entrepreneur", _("Running own business")
    UNSTABLE = "unstable", _("Unstable job")
    JOB_SEEKING = "job_seeking", _("Looking for work")
    STUDENT = "student", _("In school")
    RETIRED = "retired", _("Retired")


class Debts(models.TextChoices):
    """有无外债. Nominal: a mortgage is not "more" or "less" than small consumer debts."""

    NONE = "none", _("No debts")
    SMALL = "small", _("Small debts")
    LOANS_ONLY = "loans_only", _("Only a mortgage or car loan")
    LARGE = "large", _("Large debts")


# --- Assets and children ----------------------------------------------------------------------


class CarStatus(models.TextChoices):
    """购车情况."""

    NONE = "none", _("No car")
    OWNS = "owns", _("Owns a car")
    PLANNING = "planning", _("Plans to buy a car soon")


class HouseStatus(models.TextChoices):
    """购房情况."""

    NONE = "none", _("No home yet")
    OWNS = "owns", _("Owns a home")
    MORTGAGE = "mortgage", _("Owns a home with a mortgage")
    RENTING = "renting", _("Renting")
    WITH_PARENTS = "with_parents", _("Lives with parents")
    DORMITORY = "dormitory", _("Company dormitory")


class ChildrenStatus(models.TextChoices):
    """小孩情况."""

    NONE = "none", _("No children")
    LIVES_WITH_ME = "with_me", _("Has children, living with me")
    NOT_WITH_ME = "not_with_me", _("Has children, not living with me")


# --- Person -----------------------------------------------------------------------------------


class BloodType(models.TextChoices):
    """血型."""

    A = "A", _("Type A")
    B = "B", _("Type B")
    AB = "AB", _("Type AB")
    O = "O", _("Type O")  # noqa: E741 - the blood type's name
    UNKNOWN = "unknown", _("Unknown blood type")


class Personality(models.TextChoices):
    """个性, multi-select tags."""

    STEADY_HONEST = "steady_honest", _("Steady and honest")
    GENTLE_CARING = "gentle_caring", _("Gentle and caring")
    CHEERFUL = "cheerful", _("Cheerful and lively")
    HUMOROUS = "humorous", _("Humorous")
    INDEPENDENT = "independent", _("Independent")
    MATURE = "mature", _("Mature and composed")
    UNDERSTANDING = "understanding", _("Understanding")
    QUIET = "quiet", _("Introverted and quiet")
    WARM = "warm", _("Warm and generous")
    DILIGENT = "diligent", _("Down-to-earth and driven")
    ROMANTIC = "romantic", _("Romantic")
    FRANK = "frank", _("Frank and direct")
    CAREFUL = "careful", _("Careful and meticulous")


class Appearance(models.TextChoices):
    """外貌自评, the member's own assessment."""

    AVERAGE = "average", _("Average looks")
    DELICATE = "delicate", _("Fine-featured")
    DIGNIFIED = "dignified", _("Dignified")
    TALL_STRONG = "tall_strong", _("Tall and sturdy")
    HANDSOME = "handsome", _("Handsome")
    PRETTY = "pretty", _("Pretty")
    CUTE = "cute", _("Cute")
    ELEGANT = "elegant", _("Elegant")
    SUNNY = "sunny", _("Sunny")


class Hobby(models.TextChoices):
    """兴趣爱好, multi-select."""

    SPORTS = "sports", _("Sports")
    SHOPPING = "shopping", _("Shopping")
    FOOD = "food", _("Food")
    TRAVEL = "travel", _("Travel")
    READING = "reading", _("Reading")
    PARTIES = "parties", _("Parties")
    INVESTING = "investing", _("Investing")
    COLLECTING = "collecting", _("Collecting")
    PETS = "pets", _("Pets")
    PHOTOGRAPHY = "photography", _("Photography")
    MUSIC = "music", _("Music")
    MOVIES = "movies", _("Movies")
    COOKING = "cooking", _("Cooking")
    GAMES = "games", _("Games")
    SINGING = "singing", _("Singing")
    DANCING = "dancing", _("Dancing")
    PAINTING = "painting", _("Calligraphy and painting")
    OUTDOORS = "outdoors", _("Outdoor activities")
    CHESS_CARDS = "chess_cards", _("Chess and cards")


class Religion(models.TextChoices):
    """宗教信仰."""

    NONE = "none", _("No religion")
    BUDDHISM = "buddhism", _("Buddhism")
    TAOISM = "taoism", _("Taoism")
    CHRISTIANITY = "christianity", _("Christianity")
    CATHOLICISM = "catholicism", _("Catholicism")
    ISLAM = "islam", _("Islam")
    OTHER = "other", _("Other religion")


# --- Habits (ordinal: higher = more) -------------------------------------------------------------


class Smoking(Ordinal):
    """是否吸烟; higher smokes more.

    QUITTING sits between NEVER and OCCASIONALLY: the member is on the way to not smoking, so a
    partner who accepts "at most occasionally" accepts them, one who wants a non-smoker does not.
    """

    NEVER = 0, _("Non-smoker")
    QUITTING = 10, _("Quitting smoking")
    OCCASIONALLY = 20, _("Smokes occasionally")
    OFTEN = 30, _("Smokes often")


class Drinking(Ordinal):
    """是否喝酒; higher drinks more."""

    NEVER = 0, _("Doesn't drink")
    SOCIALLY = 10, _("Drinks socially")
    OFTEN = 20, _("Drinks often")


class Exercise(Ordinal):
    """锻炼习惯; higher exercises more."""

    NONE = 0, _("Never exercises")
    OCCASIONALLY = 10, _("Exercises occasionally")
    WEEKLY_1_2 = 20, _("1–2 times a week")
    WEEKLY_3_PLUS = 30, _("3 or more times a week")


# --- Family -----------------------------------------------------------------------------------


class FamilyBackground(models.TextChoices):
    """家庭背景."""

    ORDINARY = "ordinary", _("Ordinary family")
    SALARIED = "salaried", _("Salaried family")
    SCHOLARLY = "scholarly", _("Scholarly family")
    BUSINESS = "business", _("Business family")
    OFFICIALS = "officials", _("Family of officials")
    RURAL = "rural", _("Rural family")
    WEALTHY = "wealthy", _("Well-off family")
    SINGLE_PARENT = "single_parent", _("Single-parent family")


class ParentsFinances(models.TextChoices):
    """父母经济: whether the parents will need the couple's support."""

    PENSION = "pension", _("Have a pension or old-age insurance")
    SELF_SUFFICIENT = "self_sufficient", _("Need no support")
    PARTLY = "partly", _("Need some support")
    NEED_SUPPORT = "need_support", _("Need support")


class ParentsWork(models.TextChoices):
    """父母工作."""

    BOTH_WORKING = "both_working", _("Both parents work")
    ONE_RETIRED = "one_retired", _("One works, one is retired")
    BOTH_RETIRED = "both_retired", _("Both parents are retired")
    ONE_DECEASED = "one_deceased", _("One parent has passed away")
    BOTH_DECEASED = "both_deceased", _("Both parents have passed away")


class ParentOccupation(models.TextChoices):
    """父母职业 / 母亲工作: the occupation of one parent."""

    CIVIL_SERVANT = "civil_servant", _("Civil servant")
    PUBLIC_INSTITUTION = "public_institution", _("Public institution staff")
    COMPANY_EMPLOYEE = "company_employee", _("Company employee")
    BUSINESS = "business", _("Business owner")
    WORKER = "worker", _("Factory worker")
    FARMER = "farmer", _("Farmer")
    RETIRED = "retired", _("Retired")
    OTHER = "other", _("Other")


class BirthOrder(models.TextChoices):
    """家中排行. Nominal: a second of two children may answer SECOND or YOUNGEST."""

    ONLY_CHILD = "only_child", _("Only child")
    ELDEST = "eldest", _("Eldest child")
    SECOND = "second", _("Second child")
    THIRD = "third", _("Third child")
    YOUNGEST = "youngest", _("Youngest child")
    OTHER = "other", _("Other")


# --- Views on relationships (感情经历) --------------------------------------------------------


class LongDistance(models.TextChoices):
    """是否接受异地恋."""

    ACCEPT = "accept", _("Accepts a long-distance relationship")
    NOT_ACCEPT = "not_accept", _("Doesn't accept a long-distance relationship")
    DEPENDS = "depends", _("Depends on the situation")


class OnlineDatingExperience(models.TextChoices):
    """网恋经历."""

    NONE = "none", _("No online dating experience")
    SOME = "some", _("Has dated online")


class OnlyChild(models.TextChoices):
    """是否单小孩: whether the member is an only child."""

    YES = "yes", _("Is an only child")
    NO = "no", _("Is not an only child")


class PartnerHouse(models.TextChoices):
    """希望对方有房."""

    MUST_HAVE = "must_have", _("Partner must own a home")
    PREFER = "prefer", _("Partner preferably owns a home")
    DOESNT_MATTER = "doesnt_matter", _("Partner's home doesn't matter")


class WeddingStyle(models.TextChoices):
    """期待的婚礼形式."""

    CHINESE = "chinese", _("Traditional Chinese wedding")
    WESTERN = "western", _("Western wedding")
    TRAVEL = "travel", _("Travel wedding")
    SIMPLE = "simple", _("Simple ceremony")
    UNDECIDED = "undecided", _("Not decided yet")


class LiveWithParents(models.TextChoices):
    """愿与对方父母同住."""

    WILLING = "willing", _("Willing to live with the partner's parents")
    NOT_WILLING = "not_willing", _("Not willing to live with the partner's parents")
    DEPENDS = "depends", _("Depends on the situation")


class Cooking(models.TextChoices):
    """厨艺状况."""

    GOOD = "good", _("Good cook")
    AVERAGE = "average", _("Average cook")
    CANNOT = "cannot", _("Can't cook")
    WILLING_TO_LEARN = "willing_to_learn", _("Willing to learn to cook")


class Housework(models.TextChoices):
    """家务分工."""

    SHARE_EQUALLY = "share_equally", _("Share housework equally")
    MOSTLY_ME = "mostly_me", _("Mostly me")
    MOSTLY_PARTNER = "mostly_partner", _("Mostly my partner")
    HIRE_HELP = "hire_help", _("Hire domestic help")


# --- Lifecycle --------------------------------------------------------------------------------


class Source(models.TextChoices):
    """How the member came to the agency (the four registration paths of whitepaper 1.4, + API)."""

    REGISTRATION = "registration", _("Website registration")
    CONSULTATION = "consultation", _("Front-desk consultation")
    STAFF_ENTRY = "staff_entry", _("Staff entry")
    IMPORT = "import", _("Bulk import")
    API = "api", _("API")


class SalesStage(models.TextChoices):
    """Pre-sales stage of a lead (售前)."""

    NEW = "new", _("New member")
    FOLLOWING = "following", _("Following up")
    SIGNED = "signed", _("Signed")
    ABANDONED = "abandoned", _("Abandoned")


class ServiceStatus(models.TextChoices):
    """After-sales service status (服务状态). Paused and finished members are never matched.

    Why a service finished is FinishReason (the former "completed" and "expired" statuses are
    FINISHED with the reason success and contract ended)."""

    NOT_STARTED = "not_started", _("Not started")
    IN_SERVICE = "in_service", _("In service")
    PAUSED = "paused", _("Service paused")
    FINISHED = "finished", _("Service finished")


class FinishReason(models.TextChoices):
    """Why a member's service finished (服务结束原因)."""

    SUCCESS = "success", _("Success: found a partner")
    MEMBERS_WISH = "members_wish", _("At the member's wish")
    CONTRACT_ENDED = "contract_ended", _("Contract ended")


class PhotoStatus(models.TextChoices):
    """Review status of a member's photo."""

    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Importance(Ordinal):
    """How much a mate-preference criterion matters to the member; the engine's weight."""

    DONT_CARE = 0, _("Don't care")
    SOMEWHAT = 1, _("Somewhat important")
    IMPORTANT = 2, _("Important")
    VERY_IMPORTANT = 3, _("Very important")
