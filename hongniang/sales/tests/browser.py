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
