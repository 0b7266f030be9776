"""Browser steps of the public pages, shared by the browser tests (Playwright)."""

from hongniang.members import choices as c


def referral_link(page) -> str:
    """The logged-in matchmaker's registration link, as their link page shows it."""
    page.goto(f"{page.base_url}/frontdesk/my-link/")
    return page.locator("a[href*='/join/r/']").get_attribute("href")


def submit_consultation(page, base: str, *, name: str, mobile: str, message: str):
    """A visitor sends the consultation form and lands on the thank-you page."""
    page.goto(f"{base}/consult/")
    page.fill("#id_name", name)
    page.fill("#id_mobile", mobile)
    page.fill("#id_message", message)
    page.select_option("#id_heard_from", "friend")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/consult/thanks/")


def fill_registration(
    page,
    *,
    username: str,
    mobile: str,
    name: str,
    id_number: str,
    birthday: str = "1995-03-04",
    sex: str = c.Sex.FEMALE,
    consents: bool = False,
):
    """Fill the registration form (not sent): a Guangzhou member looking for 26–35."""
    page.fill("#id_username", username)
    page.fill("#id_password", "Hn-visitor-2026")
    page.fill("#id_mobile", mobile)
    page.press("#id_mobile", "Tab")  # the live check runs on change
    page.wait_for_selector("#mobile-check .text-success")
    page.fill("#id_name", name)
    page.fill("#id_id_number", id_number)
    page.select_option("#id_sex", sex)
    page.fill("#id_birthday", birthday)
    page.select_option("select[name=region_province]", "440000")
    page.wait_for_selector("select[name=region_city] option[value='440100']", state="attached")
    page.select_option("select[name=region_city]", "440100")
    page.wait_for_selector("select[name=region_county] option[value='440106']", state="attached")
    page.select_option("select[name=region_county]", "440106")
    page.select_option("#id_marital_status", c.MaritalStatus.SINGLE)
    page.select_option("#id_education", str(c.Education.BACHELOR))
    page.fill("#id_height", "163")
    page.fill("#id_pref-age_min", "26")
    page.fill("#id_pref-age_max", "35")
    if consents:
        page.check("#id_consents_to_introduction")


def register(page, link: str, **fields):
    """A visitor registers through a matchmaker's link, with no mistake."""
    page.goto(link)
    fill_registration(page, **fields)
    page.click("button[type=submit]")
    page.wait_for_url(f"{link.split('/join/')[0]}/join/thanks/")
