"""Finance pages by role: who sees which contract, the forms round-trip, nothing half-saved."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from hongniang.finance.models import Contract, ContractStatus, Payment, Refund, ServicePlan
from hongniang.finance.tests.helpers import SECURE, draft, effective, finance_crew, plan
from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(org):
    return finance_crew(org)


def as_(client, user):
    client.force_login(user)
    return client


def test_pages_answer_for_finance_and_refuse_without_the_right(client, crew):
    member = add_member(crew["aa1"])
    contract = effective(crew, member)
    urls = [
        reverse("finance:contracts"),
        reverse("finance:contract", args=[contract.pk]),
        reverse("finance:payments"),
        reverse("finance:refunds"),
        reverse("finance:plans"),
    ]
    as_(client, crew["fin"])
    for url in urls:
        assert client.get(url).status_code == 200, url
    as_(client, crew["mgr1"])  # the org's manager role has no finance right
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_another_teams_contract_is_404_and_not_listed(client, crew):
    theirs = effective(crew, add_member(crew["aa1"]))
    as_(client, crew["bb1"])
    assert client.get(reverse("finance:contract", args=[theirs.pk])).status_code == 404
    page = client.get(reverse("finance:contracts")).content.decode()
    assert theirs.number not in page
    assert (
        client.post(
            reverse("finance:refund_request", args=[theirs.pk]), {"amount": "1", "reason": "x"}
        ).status_code
        == 404
    )
    assert not Refund.objects.exists()


def test_sales_enters_and_submits_a_contract_through_the_form(client, crew):
    member = add_member(crew["aa1"])
    p = plan()
    as_(client, crew["aa1"])
    url = reverse("finance:contract_new", args=[member.pk])
    form = client.get(url)
    assert form.status_code == 200
    today = timezone.localdate()
    data = {
        "number": "",
        "plans": [p.pk],
        "amount": "19800",
        "payment_type": "full",
        "service_start": today.isoformat(),
        "service_end": today.replace(year=today.year + 1).isoformat(),
        "signed_by": crew["aa1"].pk,
        "store": crew["aa1"].store_id,
        "remark": "到店签约",
        "submit": "1",
    }
    # A bad end date re-renders the form with the error and saves nothing.
    bad = client.post(url, {**data, "service_end": today.isoformat()})
    assert bad.status_code == 200
    assert "服务结束日期必须晚于开始日期" in bad.content.decode()
    assert not Contract.objects.exists()
    response = client.post(url, data)
    contract = Contract.objects.get()
    assert response.status_code == 302
    assert contract.status == ContractStatus.SUBMITTED
    assert contract.created_by == crew["aa1"]
    # The edit form shows the stored dates in the browser's format (YYYY-MM-DD).
    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.DRAFT)
    edit = client.get(reverse("finance:contract_edit", args=[contract.pk])).content.decode()
    assert f'value="{today.isoformat()}"' in edit


def test_finance_approves_with_the_security_password(client, crew):
    member = add_member(crew["aa1"])
    contract = draft(crew["aa1"], member)
    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.SUBMITTED)
    as_(client, crew["fin"])
    url = reverse("finance:contract_approve", args=[contract.pk])
    data = {
        "amount": "19800",
        "method": "alipay",
        "paid_on": timezone.localdate().isoformat(),
        "reference": "ZFB123",
        "security_password": "wrong",
    }
    page = client.post(url, data, follow=True).content.decode()
    assert Contract.objects.get(pk=contract.pk).status == ContractStatus.SUBMITTED
    assert not Payment.objects.exists()
    assert "安全密码" in page or "security password" in page.lower()
    client.post(url, {**data, "security_password": SECURE})
    assert Contract.objects.get(pk=contract.pk).status == ContractStatus.EFFECTIVE
    assert Member.objects.get(pk=member.pk).sales_stage == c.SalesStage.SIGNED
    # Sales staff cannot approve, even by posting directly.
    other = draft(crew["aa1"], add_member(crew["aa1"]))
    Contract.objects.filter(pk=other.pk).update(status=ContractStatus.SUBMITTED)
    as_(client, crew["aa1"])
    assert (
        client.post(
            reverse("finance:contract_approve", args=[other.pk]),
            {**data, "security_password": SECURE},
        ).status_code
        == 403
    )


def test_refund_is_requested_and_approved_through_the_pages(client, crew):
    member = add_member(crew["aa1"])
    contract = effective(crew, member)
    as_(client, crew["aa1"])
    client.post(
        reverse("finance:refund_request", args=[contract.pk]),
        {"amount": "3000", "reason": "会员搬家"},
    )
    refund = Refund.objects.get()
    as_(client, crew["fin"])
    url = reverse("finance:refund", args=[refund.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"amount": "3000", "note": "", "security_password": SECURE, "approve": "1"})
    contract.refresh_from_db()
    assert contract.refunded_total == Decimal("3000.00")
    assert contract.status == ContractStatus.PARTLY_REFUNDED


def test_plans_are_managed_by_finance_only(client, crew):
    as_(client, crew["aa1"])
    assert client.get(reverse("finance:plan_new")).status_code == 403
    as_(client, crew["fin"])
    url = reverse("finance:plan_new")
    data = {
        "name": "体验套餐",
        "fee_type": "one_off",
        "price": "999",
        "monthly_fee": "0",
        "success_fee": "500",
        "duration_months": "3",
        "introductions_per_month": "1",
        "dates_per_month": "1",
        "active": "on",
        "sort_order": "0",
    }
    bad = client.post(url, data)
    assert bad.status_code == 200 and not ServicePlan.objects.filter(name="体验套餐").exists()
    client.post(url, {**data, "success_fee": "0"})
    assert ServicePlan.objects.get(name="体验套餐").price == Decimal("999.00")


def test_member_page_offers_a_contract_to_sales(client, crew):
    member = add_member(crew["aa1"])
    as_(client, crew["aa1"])
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert reverse("finance:contract_new", args=[member.pk]) in page


def test_contract_prints_as_a_pdf(client, crew, settings):
    contract = effective(crew, add_member(crew["aa1"]))
    client.force_login(crew["aa1"])
    response = client.get(reverse("finance:contract_pdf", args=[contract.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and len(response.content) > 2000
    client.force_login(crew["bb1"])
    assert client.get(reverse("finance:contract_pdf", args=[contract.pk])).status_code == 404
    settings.CONTRACT_PDF_FONTS = ["/nonexistent.ttf"]
    client.force_login(crew["aa1"])
    missing = client.get(reverse("finance:contract_pdf", args=[contract.pk]), follow=True)
    assert "fonts-wqy-microhei" in missing.content.decode()


def test_scans_are_checked_by_content_and_served_only_to_who_sees_the_contract(client, crew):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from hongniang.finance.models import ContractAttachment

    contract = effective(crew, add_member(crew["aa1"]))
    client.force_login(crew["aa1"])
    url = reverse("finance:attachment_add", args=[contract.pk])
    fake = SimpleUploadedFile("合同.pdf", b"<html><script>alert(1)</script>", "application/pdf")
    client.post(url, {"title": "假的", "file": fake})
    assert not ContractAttachment.objects.exists()
    scan = SimpleUploadedFile("林小雨合同.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "text/plain")
    client.post(url, {"title": "纸质合同扫描件", "file": scan})
    attachment = ContractAttachment.objects.get()
    assert attachment.kind == "pdf" and "林小雨" not in attachment.file.name
    file_url = reverse("finance:attachment_file", args=[contract.pk, attachment.pk])
    response = client.get(file_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    client.force_login(crew["bb1"])
    assert client.get(file_url).status_code == 404
    assert client.post(url, {"title": "x", "file": scan}).status_code == 404
