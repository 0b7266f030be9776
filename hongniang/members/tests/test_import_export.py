"""Excel import (template, preview, confirm) and export of members."""

import io
import uuid
from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook

from hongniang.jobs.models import Job, JobState
from hongniang.matching.models import EngineChange, EngineChangeKind
from hongniang.members import choices as c
from hongniang.members import excel, import_views, services
from hongniang.members import personal_data as pd
from hongniang.members.importing import pipeline, writer
from hongniang.members.models import (
    Allocation,
    EventKind,
    MatePreference,
    Member,
    MemberEvent,
    RevealLog,
)
from hongniang.members.regions import load_regions
from hongniang.staff.tests.factories import StaffFactory, role_with

pytestmark = pytest.mark.django_db

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(born: date, female: bool = True, seq: int = 1, area: str = "440106") -> str:
    """A valid resident ID: ISO 7064 MOD 11-2 check digit; the 17th digit is odd for men."""
    body = f"{area}{born:%Y%m%d}{seq:02d}{2 * (seq % 5) + (0 if female else 1)}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def bad_check_digit(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("0" if last != "0" else "1")


def header(key: str) -> str:
    return str(excel.HEADERS[key])


def xlsx(rows: list[dict], keys=None, name: str = "members.xlsx") -> SimpleUploadedFile:
    keys = keys or [k for _h, k in excel.COLUMNS]
    wb = Workbook()
    ws = wb.active
    ws.append([header(k) for k in keys])
    for row in rows:
        ws.append([row.get(k) for k in keys])
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=excel.XLSX_CONTENT_TYPE)


def good_row(n: int, **over) -> dict:
    born = date(1990, 1, n)
    row = {
        "name": f"导入会员{n}",
        "sex": "女",
        "birthday": born,
        "mobile": f"1391234{n:04d}",
        "id_number": resident_id(born, female=True, seq=n),
        "region": "广东 广州 天河区",
        "height": 160 + n,
        "marital_status": "未婚",
        "education": "本科",
    }
    row.update(over)
    return row


def add_member(actor, name: str, mobile: str, **fields) -> Member:
    member = Member(
        username=f"u{mobile}",
        name=name,
        sex=c.Sex.MALE,
        birthday=date(1988, 8, 8),
        height=175,
        region="440106",
        marital_status=c.MaritalStatus.SINGLE,
        education=c.Education.BACHELOR,
        **fields,
    )
    return services.member_create(actor=actor, member=member, mobile=mobile)


def sheet_rows(content: bytes) -> list[tuple]:
    wb = load_workbook(io.BytesIO(content), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    width = len(excel.COLUMNS)  # read-only mode drops empty cells at the end of a row
    return [tuple(row) + (None,) * (width - len(row)) for row in rows]


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture(autouse=True)
def regions(db):
    load_regions()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def uploads(media) -> list:
    folder = media / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


# --- Template ---------------------------------------------------------------------------------


def check(upload, actor, tmp_path) -> list:
    """The outcomes of checking an uploaded file (the preview's work, without the job)."""
    path = tmp_path / f"check-{uuid.uuid4().hex}.xlsx"
    upload.seek(0)
    path.write_bytes(upload.read())
    source = pipeline.open_upload(path)
    try:
        mapping = pipeline.template_mapping(source.headers)
        return pipeline.Checker(actor).check(pipeline.mapped_rows(source, mapping))
    finally:
        source.close()


def test_template_downloads_and_parses_back(client, org, tmp_path):
    client.force_login(org["aa1"])
    response = client.get(reverse("members:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"] == excel.XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]

    wb = load_workbook(io.BytesIO(response.content))
    members_sheet, notes = wb.worksheets[0], wb.worksheets[1]
    assert notes.title == _("Instructions")
    assert [cell.value for cell in members_sheet[1]] == [str(h) for h, _k in excel.COLUMNS]
    notes_text = "\n".join(
        str(v) for row in notes.iter_rows(values_only=True) for v in row if v is not None
    )
    # Every choice column is listed with its allowed values, and the region format is explained.
    assert str(c.Education.BACHELOR.label) in notes_text
    assert str(c.MaritalStatus.DIVORCED.label) in notes_text
    assert header("marital_status") in notes_text and "广东 广州 天河区" in notes_text

    # The example row is recognised and never imported ...
    assert check(SimpleUploadedFile("template.xlsx", response.content), org["aa1"], tmp_path) == []
    # ... yet it is a valid member: the same row with another mobile and ID number passes.
    example = [cell.value for cell in members_sheet[2]]
    keys = [k for _h, k in excel.COLUMNS]
    example[keys.index("mobile")] = "13912340000"
    example[keys.index("id_number")] = resident_id(date(1992, 6, 15), female=True, seq=7)
    members_sheet.delete_rows(2)
    members_sheet.append(example)
    buffer = io.BytesIO()
    wb.save(buffer)
    (result,) = check(SimpleUploadedFile("template.xlsx", buffer.getvalue()), org["aa1"], tmp_path)
    assert not result.errors and not result.warnings, (result.errors, result.warnings)
    assert result.values["region"] == "440106" and result.values["hukou_region"] == "440100"
    assert result.values["education"] == c.Education.BACHELOR
    assert result.pref["marital"] == [c.MaritalStatus.SINGLE, c.MaritalStatus.DIVORCED]
    assert Member.objects.count() == 0


# --- Preview ----------------------------------------------------------------------------------


@pytest.fixture
def mixed_file(org):
    """3 good rows (2-4), then a bad ID check digit (5, a warning: the ID is optional), a mobile
    already in the database of another team (6), one mobile twice in the file (7, 8) and an
    unknown region (9)."""
    add_member(org["bb1"], "老会员", "13912340099")
    return xlsx(
        [
            good_row(1, **{"pref-age_min": 30, "pref-age_max": 40, "pref-marital": "未婚、离异"}),
            good_row(2, region="北京 东城区", hukou_region="广东 广州 天河区", sex="F"),
            good_row(3, education="60", marital_status="single", birthday="1990-01-03"),
            good_row(4, id_number=bad_check_digit(resident_id(date(1990, 1, 4), seq=4))),
            good_row(5, mobile="13912340099"),
            good_row(6, mobile="13800138000"),
            good_row(7, mobile="13800138000"),
            good_row(8, region="火星 奥林匹斯山"),
        ]
    )


def upload(client, file) -> str:
    """Upload a file as the logged-in user; the token of the upload (its preview ran)."""
    response = client.post(reverse("members:import"), {"file": file})
    assert response.status_code == 302, response.content.decode()[:2000]
    token = response.url.rstrip("/").split("/")[-2]
    assert response.url == reverse("members:import_preview", args=[token])
    assert client.get(response.url).status_code == 200  # the preview's check runs
    return token


def test_preview_lists_each_problem_with_row_and_column_and_saves_nothing(client, org, mixed_file):
    client.force_login(org["aa1"])
    token = upload(client, mixed_file)
    response = client.get(reverse("members:import_preview", args=[token]))
    assert response.status_code == 200
    job = response.context["job"]
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result["counts"] == {"new": 4, "existing": 0, "rejected": 4, "warned": 1}

    rejected = {r["row"]: r["errors"] for r in job.result["samples"]["rejected"]}
    assert rejected[6] == [[header("mobile"), _("This mobile number is already registered.")]]
    for row, other in ((7, "8"), (8, "7")):
        ((column, message),) = rejected[row]
        assert column == header("mobile") and other in message
    ((column, message),) = rejected[9]
    assert column == header("region") and "火星 奥林匹斯山" in message
    assert set(rejected) == {6, 7, 8, 9}
    (warned,) = job.result["samples"]["warned"]
    assert warned["row"] == 5 and warned["warnings"][0][0] == header("id_number")
    assert (
        _("This resident ID number is not valid (check digit or birth date).")
        in (warned["warnings"][0][1])
    )

    html = response.content.decode()
    assert '<th scope="row" rowspan="1" class="align-top">9</th>' in html
    assert "火星 奥林匹斯山" in html
    assert "139****0001" in html  # the preview shows masked mobiles only
    assert "13912340001" not in html
    assert "老会员" not in html  # another team's member is never named

    # Nothing saved; the upload waits under MEDIA_ROOT/imports/<token>.xlsx.
    assert Member.objects.count() == 1
    assert excel.TOKEN_RE.fullmatch(token)
    assert (excel.upload_dir() / f"{token}.xlsx").exists()


def test_values_by_label_or_stored_value_and_regions_by_name_or_code(org, tmp_path):
    hobbies = f"{c.Hobby.TRAVEL.label}、{c.Hobby.READING.label}"
    file = xlsx(
        [
            good_row(1, region="440106", education="硕士", smoking="不吸烟", ethnicity="汉族"),
            good_row(2, region="广州 天河区", education="70", smoking="0", ethnicity="01"),
            good_row(3, region="鼓楼区", hobbies=hobbies, birthday="1990/01/03"),
            good_row(4, education="学前班", birthday="3.1.1990", height="一米六"),
        ]
    )
    first, second, third, fourth = check(file, org["aa1"], tmp_path)
    for r in (first, second):
        assert not r.errors, r.errors
        assert r.values["region"] == "440106"
        assert r.values["education"] == c.Education.MASTER
        assert r.values["smoking"] == c.Smoking.NEVER
        assert r.values["ethnicity"] == "01"
    # 鼓楼区 exists in several cities: the message asks for the province and city.
    assert [e.key for e in third.errors] == ["region"]
    # Every problem of the row at once; the birthday is optional: a warning, left out.
    assert {e.key for e in fourth.errors} == {"education", "height"}
    assert [w.key for w in fourth.warnings] == ["birthday"]


def test_rows_do_not_share_state_and_unreadable_cells_say_why(org, tmp_path):
    file = xlsx(
        [
            good_row(1, education="学前班", sex=""),
            good_row(2),
            good_row(3, id_number=440106199001030363),  # typed as a number: digits lost
        ]
    )
    bad, good, number = check(file, org["aa1"], tmp_path)
    assert {e.key for e in bad.errors} == {"education", "sex"}
    assert not good.errors and good.values["name"] == "导入会员2"
    assert good.values["sex"] == c.Sex.FEMALE
    assert not number.errors
    assert [(w.key, w.message) for w in number.warnings] == [
        (
            "id_number",
            _(
                "Excel stored this ID number as a number and lost its last digits: format "
                "the column as text and enter the number again."
            ),
        )
    ]


def test_every_profile_field_has_a_column():
    from hongniang.members.forms import MemberForm

    # The store is not a column: imported members join the importer's store.
    assert set(MemberForm.base_fields) - {"store"} <= {key for _h, key in excel.COLUMNS}


# --- Confirm ----------------------------------------------------------------------------------


def confirm(client, token, **data):
    response = client.post(reverse("members:import_confirm"), {"token": token, **data})
    assert response.status_code == 302, response
    job = Job.objects.get(pk=response.url.rstrip("/").split("/")[-1])
    assert response.url == reverse("members:import_job", args=[job.pk])
    return job, response


def test_confirm_saves_exactly_the_valid_rows_owned_by_the_importer(client, org, mixed_file):
    client.force_login(org["aa1"])
    token = upload(client, mixed_file)
    job, response = confirm(client, token)
    assert job.state == JobState.SUCCEEDED, job.error
    assert (job.result["created"], job.result["rejected"], job.result["warned"]) == (4, 4, 1)
    page = client.get(response.url)
    assert page.status_code == 200
    assert job.result["summary"] in page.content.decode()

    imported = Member.objects.filter(source=c.Source.IMPORT).order_by("name")
    assert [m.name for m in imported] == ["导入会员1", "导入会员2", "导入会员3", "导入会员4"]
    for n, m in enumerate(imported, start=1):
        mobile = f"1391234{n:04d}"
        assert m.presales_owner == org["aa1"] and m.created_by == org["aa1"]
        assert m.store == org["aa1"].store
        assert m.mobile_masked == f"139****{mobile[-4:]}"
        assert mobile not in m.mobile_encrypted and pd.decrypt(m.mobile_encrypted) == mobile
        assert m.mobile_hash == pd.lookup_hash(mobile)
        # No username given: one is made up, which does not give the mobile away.
        assert m.username.startswith("m") and len(m.username) == 11 and mobile not in m.username
        assert m.events.filter(kind=EventKind.IMPORTED, actor=org["aa1"]).count() == 1
        assert m.allocations.filter(to_staff=org["aa1"]).count() == 1
        (history,) = m.history.all()  # its history starts with the import
        assert (history.name, history.mobile_hash, history.history_type) == (
            m.name,
            m.mobile_hash,
            "+",
        )
        assert history.history_user == org["aa1"]
        assert MatePreference.history.filter(member_id=m.pk).count() == 1
    first, second, _third, fourth = imported
    assert first.id_number_masked.startswith("4401") and "**********" in first.id_number_masked
    assert fourth.id_number_hash == ""  # its ID number was invalid: left out, with a warning
    assert second.region == "110101" and second.hukou_region == "440100"
    pref = MatePreference.objects.get(member=first)
    assert (pref.age_min, pref.age_max) == (30, 40)
    assert pref.marital == [c.MaritalStatus.SINGLE, c.MaritalStatus.DIVORCED]
    assert MatePreference.objects.filter(member__in=imported).count() == 4

    assert not (excel.upload_dir() / f"{token}.xlsx").exists()
    again = client.post(reverse("members:import_confirm"), {"token": token})
    assert again.status_code == 404  # a token is used once
    assert Member.objects.filter(source=c.Source.IMPORT).count() == 4


def test_confirm_checks_again_what_changed_since_the_preview(client, org):
    client.force_login(org["aa1"])
    token = upload(client, xlsx([good_row(1), good_row(2)]))
    add_member(org["bb1"], "抢先登记", "13912340001")  # row 2's mobile, registered meanwhile
    job, _response = confirm(client, token)
    assert list(Member.objects.filter(source=c.Source.IMPORT).values_list("name", flat=True)) == [
        "导入会员2"
    ]
    assert (job.result["created"], job.result["rejected"]) == (1, 1)


def test_a_failure_half_way_saves_nothing(client, org, monkeypatch):
    client.force_login(org["aa1"])
    token = upload(client, xlsx([good_row(1), good_row(2), good_row(3)]))

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    # The allocations are written after the members, their history and preferences.
    monkeypatch.setattr(writer._ALLOCATIONS, "insert", broken)
    job, response = confirm(client, token)
    assert job.state == JobState.FAILED and "disk full" in job.error
    assert Member.objects.count() == 0 and MemberEvent.objects.count() == 0
    assert MatePreference.objects.count() == 0
    assert _("The import failed; no member was saved.") in client.get(response.url).content.decode()


def test_a_row_the_database_refuses_in_the_last_insert_saves_nothing(client, org, monkeypatch):
    """The database itself refusing a row of the timeline (a NULL where a value is required),
    after the members, their history, preferences and allocations went in — by COPY on
    PostgreSQL, executemany on SQLite: the transaction keeps none of it."""
    client.force_login(org["aa1"])
    token = upload(client, xlsx([good_row(1), good_row(2), good_row(3)]))
    real, made = writer._EVENTS.row, []

    def refused_kind(values):  # the last row of three
        made.append(values)
        return real({**values, "kind": None} if len(made) == 3 else values)

    monkeypatch.setattr(writer._EVENTS, "row", refused_kind)
    job, _response = confirm(client, token)
    assert len(made) == 3 and job.state == JobState.FAILED and "null" in job.error.lower()
    assert Member.objects.count() == 0 and Member.history.count() == 0
    assert MatePreference.objects.count() == 0 and MemberEvent.objects.count() == 0
    assert Allocation.objects.count() == 0
    assert EngineChange.objects.filter(kind=EngineChangeKind.MEMBER).count() == 0


# --- Refusals ---------------------------------------------------------------------------------


def test_a_file_that_cannot_be_imported_gets_a_clear_error(client, org, media):
    client.force_login(org["aa1"])
    pdf = SimpleUploadedFile("members.pdf", b"%PDF-1.4")
    response = client.post(reverse("members:import"), {"file": pdf})
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        _(
            "“%(name)s” is not a file the import can read: upload an Excel workbook (.xlsx, "
            ".xls) or a CSV file (.csv)."
        )
        % {"name": "members.pdf"}
    ]
    fake = SimpleUploadedFile("members.xlsx", b"PK\x03\x04 this is not a workbook")
    response = client.post(reverse("members:import"), {"file": fake})
    assert "members.xlsx" in response.context["form"].errors["file"][0]
    assert uploads(media) == []  # a refused file is not kept


def test_a_file_with_its_own_headers_goes_to_the_mapping_screen(client, org, media):
    client.force_login(org["aa1"])
    csv = SimpleUploadedFile("members.csv", "姓名,手机\n张三,13800138000\n".encode("gbk"))
    response = client.post(reverse("members:import"), {"file": csv})
    assert response.status_code == 302
    token = response.url.rstrip("/").split("/")[-2]
    assert response.url == reverse("members:import_mapping", args=[token])


def test_a_file_without_required_columns_is_refused(client, org):
    client.force_login(org["aa1"])
    file = xlsx([{"name": "张三"}], keys=["name", "sex"])
    response = client.post(reverse("members:import"), {"file": file})
    token = response.url.rstrip("/").split("/")[-2]
    assert response.url == reverse("members:import_mapping", args=[token])
    response = client.get(response.url)
    assert header("mobile") in "".join(response.context["missing"])
    preview = client.get(reverse("members:import_preview", args=[token]))
    assert header("mobile") in "".join(preview.context["missing"])
    assert not Job.objects.exists()


def test_nobody_else_can_confirm_an_upload(client, org, media):
    client.force_login(org["aa1"])
    token = upload(client, xlsx([good_row(1)]))
    client.force_login(org["aa2"])  # a peer with members.add, in a session of their own
    response = client.post(reverse("members:import_confirm"), {"token": token})
    assert response.status_code == 404
    assert client.get(reverse("members:import_preview", args=[token])).status_code == 404
    for bad in ("../../settings", "0" * 31, token.upper(), ""):
        assert client.post(reverse("members:import_confirm"), {"token": bad}).status_code == 404
    assert Member.objects.count() == 0
    assert [p.suffix for p in uploads(media)] == [".checked", ".xlsx"]  # the upload is kept

    client.force_login(org["aa1"])
    session = client.session
    session[import_views.SESSION_KEY] = {token: {"owner": org["aa2"].pk, "name": "x.xlsx"}}
    session.save()
    assert client.post(reverse("members:import_confirm"), {"token": token}).status_code == 404


def test_import_needs_members_add(client, org):
    viewer = StaffFactory(role=role_with("members.view"), store=org["store_a"])
    client.force_login(viewer)
    assert client.get(reverse("members:import")).status_code == 403
    assert client.get(reverse("members:import_template")).status_code == 403
    assert client.post(reverse("members:import_confirm"), {"token": "0" * 32}).status_code == 403


# --- Export -----------------------------------------------------------------------------------


@pytest.fixture
def two_teams(org):
    a = add_member(org["aa1"], "甲队会员", "13800138001")
    b = add_member(
        org["bb1"], "乙队会员", "13800138002", hukou_region="110101", about="=HYPERLINK(1)"
    )
    return a, b


def export(client, user, query=""):
    """Start a masked export of the list filtered by `query` as `user`; the file it produced.
    (Tests run background jobs at once.)"""
    client.force_login(user)
    confirm = client.get(reverse("members:export") + query)
    if confirm.status_code != 200:
        return confirm
    started = client.post(reverse("members:export"), {"query": query.lstrip("?"), "mode": "masked"})
    return job_file(client, started)


def job_file(client, started):
    assert started.status_code == 302, started
    job = Job.objects.get(pk=started.url.rstrip("/").rsplit("/", 1)[-1])
    assert job.state == JobState.SUCCEEDED, job.error
    assert client.get(started.url).status_code == 200
    streamed = client.get(reverse("jobs:file", args=[job.pk, "result"]))
    # The file is streamed; read it whole so that the tests can look at it.
    response = HttpResponse(b"".join(streamed.streaming_content), status=streamed.status_code)
    for key in ("Content-Type", "Content-Disposition"):
        response[key] = streamed[key]
    return response


def test_export_asks_before_it_starts_and_runs_as_a_job(client, org, two_teams):
    client.force_login(org["admin"])
    confirm = client.get(reverse("members:export"), {"name": "甲队"})
    assert confirm.status_code == 200 and not Job.objects.exists()
    assert "1" in confirm.content.decode()
    started = client.post(reverse("members:export"), {"query": "name=甲队", "mode": "masked"})
    job = Job.objects.get()
    assert started.url == reverse("jobs:detail", args=[job.pk])
    assert (job.kind, job.state, job.created_by, job.result["count"]) == (
        "member_export",
        JobState.SUCCEEDED,
        org["admin"],
        1,
    )
    # Somebody else cannot fetch the file.
    client.force_login(org["mgr2"])
    assert client.get(reverse("jobs:file", args=[job.pk, "result"])).status_code == 404


def test_export_is_scoped_to_the_viewer_and_masked_without_reveal(client, org, two_teams):
    response = export(client, org["mgr2"])
    assert response.status_code == 200
    assert response["Content-Type"] == excel.XLSX_CONTENT_TYPE
    assert "members-" in response["Content-Disposition"]
    assert ".xlsx" in response["Content-Disposition"]
    rows = sheet_rows(response.content)
    columns = [str(h) for h, _k in excel.COLUMNS]
    assert list(rows[0]) == columns
    data = [dict(zip(columns, row, strict=True)) for row in rows[1:]]
    assert [d[header("name")] for d in data] == ["乙队会员"]  # not the other team's member
    (member,) = data
    assert member[header("mobile")] == "138****8002"
    assert "****" in member[header("mobile")]
    assert member[header("region")] == "广东 广州 天河区"
    assert member[header("hukou_region")] == "北京 东城区"
    assert member[header("sex")] == str(c.Sex.MALE.label)
    assert member[header("about")] == "=HYPERLINK(1)"  # text, never a formula
    assert RevealLog.objects.count() == 0

    mgr1 = [r[1] for r in sheet_rows(export(client, org["mgr1"]).content)[1:]]
    assert mgr1 == ["甲队会员"]


def test_export_follows_the_list_filters(client, org, two_teams):
    rows = sheet_rows(export(client, org["admin"], "?name=甲队").content)
    assert [r[1] for r in rows[1:]] == ["甲队会员"]


def test_export_in_full_for_a_role_that_may_reveal_and_it_is_logged(client, org, two_teams):
    revealer = StaffFactory(
        role=role_with("members.view", "members.export", "members.reveal"),
        store=org["store_a"],
        supervisor=org["mgr2"],
    )
    member_b = two_teams[1]
    member_b.presales_owner = revealer
    member_b.save()
    number = resident_id(date(1988, 8, 8), female=False, seq=3)
    services.apply_personal_data(member_b, mobile=None, id_number=number)
    member_b.save()

    # A plain export stays masked even for a role that may reveal; the full one needs the
    # security password.
    masked = sheet_rows(export(client, revealer).content)
    mobile_col = [str(h) for h, _k in excel.COLUMNS].index(header("mobile"))
    assert masked[1][mobile_col] == "138****8002"
    wrong = client.post(reverse("members:export"), {"security_password": "nope", "query": ""})
    assert wrong.status_code == 302 and not RevealLog.objects.exists()
    response = job_file(
        client,
        client.post(
            reverse("members:export"), {"security_password": "Secure-999", "query": "name=乙队"}
        ),
    )
    rows = sheet_rows(response.content)
    id_col = [str(h) for h, _k in excel.COLUMNS].index(header("id_number"))
    assert [(r[mobile_col], r[id_col]) for r in rows[1:]] == [("13800138002", number)]
    logs = list(RevealLog.objects.values_list("member_id", "field", "staff_id"))
    assert logs == [(member_b.pk, "export", revealer.pk)]


def test_export_refused_without_members_export(client, org, two_teams):
    assert export(client, org["aa1"]).status_code == 403
    # Exporting in full needs the reveal permission too.
    client.force_login(org["mgr1"])
    response = client.post(reverse("members:export"), {"security_password": "Secure-999"})
    assert response.status_code == 403


def test_export_cells_are_labels_places_dates_and_numbers(client, org):
    """Every kind of column as the clerk reads it: a choice by its label, a list of choices
    joined, a place by its name, a date as a date, a number as a number, an empty list as an
    empty cell — the same for each member, whichever member first brought the value."""
    first = add_member(
        org["aa1"], "甲", "13800138011", hobbies=[c.Hobby.TRAVEL, c.Hobby.SPORTS], personality=[]
    )
    second = add_member(org["aa1"], "乙", "13800138012", hobbies=[c.Hobby.TRAVEL, c.Hobby.SPORTS])
    for member in (first, second):
        member.preference.marital = [c.MaritalStatus.SINGLE, c.MaritalStatus.DIVORCED]
        member.preference.age_min = 25
        member.preference.save()
    rows = sheet_rows(export(client, org["admin"]).content)
    columns = [str(h) for h, _k in excel.COLUMNS]
    data = {row[1]: dict(zip(columns, row, strict=True)) for row in rows[1:]}
    own = {
        header("name"): "甲",
        header("mobile"): "138****8011",
        header("username"): "u13800138011",
    }
    assert data["甲"] == data["乙"] | own
    cells = data["甲"]
    travel, sports = str(c.Hobby.TRAVEL.label), str(c.Hobby.SPORTS.label)
    assert cells[header("hobbies")] in (f"{travel}、{sports}", f"{sports}、{travel}")
    assert cells[header("personality")] is None
    assert cells[header("education")] == str(c.Education.BACHELOR.label)
    assert cells[header("region")] == "广东 广州 天河区"
    assert cells[header("birthday")].date() == date(1988, 8, 8)
    assert cells[header("height")] == 175
    single, divorced = str(c.MaritalStatus.SINGLE.label), str(c.MaritalStatus.DIVORCED.label)
    assert cells[header("pref-marital")] == f"{single}、{divorced}"
    assert cells[header("pref-age_min")] == 25
