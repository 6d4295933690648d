"""Page helpers for the browser tests (Selenium): fill the submission form, log in, wait."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.fixtures.auth import DEFAULT_PASSWORD

WAIT = 10

SCHOOL = {
    "school_name": "Het Baken College",
    "brin": "25LH",
    "location_number": "01",
    "levels": "niveau 3 en 4",
    "postcode": "3511 AB",
    "city": "Utrecht",
    "title": "Eigen leerroute met coach",
    "summary": "Studenten kiezen zelf volgorde en tempo.",
    "description": "Elke student werkt aan een eigen route met een vaste coach.",
    "start_year": "2022",
    "learners_count": "40",
}
SELECTS = {"sector": "mbo", "phase": "pilot"}
CONTACT = {"contact-name": "Anne de Vries", "contact-email": "anne@example.org"}
OBSTACLES = [
    {"area": "examineren", "title": "Examens alleen op vaste momenten", "severity": "3",
     "status": "open", "description": "Examens kunnen alleen in juni."},
    {"area": "diplomeren", "title": "Diploma pas na volledige opleidingsduur",
     "severity": "2", "status": "open", "description": "Ook wie eerder klaar is, wacht."},
]


def wait(driver, timeout: float = WAIT) -> WebDriverWait:
    return WebDriverWait(driver, timeout)


def wait_for(driver, css: str, timeout: float = WAIT):
    return wait(driver, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def type_into(driver, element_id: str, text: str) -> None:
    element = driver.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(text)


def choose(driver, element_id: str, value: str) -> None:
    Select(driver.find_element(By.ID, element_id)).select_by_value(value)


def fill_initiative(driver) -> None:
    """Fill sections 1-3 and 5 (everything but the obstacles) of /aanmelden."""
    for field_id, text in {**SCHOOL, **CONTACT}.items():
        type_into(driver, field_id, text)
    for field_id, value in SELECTS.items():
        choose(driver, field_id, value)
    choose(driver, "dimensions-0-current_level", "1")
    choose(driver, "dimensions-0-ambition_level", "3")
    consent = driver.find_element(By.ID, "contact-consent_contact")
    if not consent.is_selected():
        consent.click()


def fill_obstacle(driver, index: int, data: dict | None = None) -> None:
    data = data or OBSTACLES[index]
    prefix = f"obstacles-{index}-"
    choose(driver, prefix + "area", data["area"])
    type_into(driver, prefix + "title", data["title"])
    type_into(driver, prefix + "description", data["description"])
    choose(driver, prefix + "severity", data["severity"])
    choose(driver, prefix + "status", data["status"])


def obstacle_rows(driver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, "[data-obstacle-list] [data-obstacle-row]")


def submit_button(driver):
    """The form's own button: it shows the check-your-answers page (nothing is sent yet)."""
    return driver.find_element(By.CSS_SELECTOR, "button[name=action][value=check]:not([hidden])")


def send_button(driver):
    """"Aanmelding versturen" on the check-your-answers page."""
    return driver.find_element(By.CSS_SELECTOR, "form.check-form button[name=action][value=submit]")


def send(driver) -> None:
    """Check the answers, then send: the whole way from the filled form to the thank-you page."""
    submit_button(driver).click()
    wait_for(driver, "form.check-form")
    send_button(driver).click()
    wait(driver).until(lambda d: "/aanmelden/bedankt" in d.current_url)


def login(driver, live_server, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Log in through the real login form (no second factor)."""
    driver.get(live_server.url("auth.login"))
    driver.find_element(By.CSS_SELECTOR, "input[type=email], input[name=email]").send_keys(email)
    driver.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait(driver).until(lambda d: "/login" not in d.current_url)
