"""Browser steps of the member's journey, shared by the browser tests (Playwright)."""

from datetime import datetime


def record_follow_up(
    page, member_pk: int, *, next_contact: datetime, remark: str, tags: str = "", shoot=None
):
    """From the member's page, the follow-up form of whitepaper 2.5.2, saved; ends on the
    member's follow-up history. `shoot(page)` runs on the filled form (a screenshot)."""
    base = page.base_url
    page.goto(f"{base}/members/{member_pk}/")
    page.locator("#journey-steps").get_by_role("link", name="添加跟进").click()
    page.wait_for_url(f"{base}/sales/members/{member_pk}/follow-ups/new/")
    page.select_option("#id_effective", "1")
    page.select_option("#id_intention", "strong")
    page.select_option("#id_sign_state", "negotiating")
    page.select_option("#id_unsigned_reason", "price")
    page.fill("#id_next_contact_at", next_contact.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_remark", remark)
    page.fill("#id_tags_text", tags)
    if shoot:
        shoot(page)
    page.click("button:has-text('保存')")
    page.wait_for_url(f"{base}/sales/members/{member_pk}/follow-ups/")


def take_step(page, member_pk: int, label: str):
    """Press a journey button on the member's page (accepting its question, if it asks one);
    the step is done when the page says so."""
    page.goto(f"{page.base_url}/members/{member_pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator("#journey-steps").get_by_role("button", name=label).click()
    page.wait_for_selector(".alert-success")


def enter_contract(page, member_pk: int, *, plan_pk: int, amount: str, start, end):
    """From the member's page, 签订合同: a contract for the plan, submitted to finance (the one
    way a member becomes signed, once finance approves it)."""
    page.goto(f"{page.base_url}/members/{member_pk}/")
    page.click("#contracts >> text=签订合同")
    page.check(f"input[name=plans][value='{plan_pk}']")
    page.fill("#id_amount", amount)
    page.fill("#id_service_start", start.isoformat())
    page.fill("#id_service_end", end.isoformat())
    page.click("button[name=submit]")
    page.wait_for_selector(".alert-success")


def approve_contract(page, number: str, *, security_password: str, reference: str = ""):
    """Finance (logged in on `page`) confirms the money of a submitted contract with the
    security password: the contract takes effect and signs the member."""
    page.goto(f"{page.base_url}/finance/contracts/?tab=submitted")
    page.click(f"text={number}")
    page.select_option("#id_method", "wechat")
    page.fill("#id_reference", reference)
    page.fill("#id_security_password", security_password)
    page.click("button:has-text('审核通过')")
    page.wait_for_selector(".alert-success")
