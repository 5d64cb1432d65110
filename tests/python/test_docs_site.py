"""The docs site in a real browser: Playwright for Python driving Debian's chromium (never a
downloaded browser; `.ci/run` installs chromium with apt when it is missing).

The site is generated like `make docs` does (`dbt docs generate --static`, with the catalog of
the session's built warehouse; the model card is the committed one) and served over HTTP; the
single-file page is opened from disk. Screenshots are saved to `target/screenshots/` (git-ignored)
as artefacts.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import PROJECT_DIR, run_dbt

SCREENSHOTS = PROJECT_DIR / "target" / "screenshots"
FEATURE_TABLE = "feat_customer_serving"
# The latest version's node (the table published under the unversioned name).
FEATURE_NODE = f"model.retail_ml.{FEATURE_TABLE}.v2"
TIMEOUT_MS = 60_000  # a shared 2-core machine: generous, never a speed assertion


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


@pytest.fixture(scope="module")
def docs_site(built_warehouse, tmp_path_factory) -> Path:
    """`dbt docs generate --static` on a copy of the built warehouse: the target directory."""
    work = tmp_path_factory.mktemp("docs")
    db_path = work / built_warehouse.db_path.name
    shutil.copyfile(built_warehouse.db_path, db_path)  # the catalog query opens it read-write
    run = run_dbt(["docs", "generate", "--static"], raw_dir=built_warehouse.raw_dir,
                  db_path=db_path, work_dir=work)
    assert run.returncode == 0, run.output[-3000:]
    target = work / "target"
    for page in ("index.html", "static_index.html", "catalog.json", "manifest.json"):
        assert (target / page).is_file(), page
    return target


@pytest.fixture(scope="module")
def site_url(docs_site: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(docs_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/index.html"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed: apt-get install -y chromium "
                    "(.ci/run does it); the test never downloads a browser")
    from playwright.sync_api import sync_playwright

    # Chromium's sandbox needs user namespaces a root process in a container does not get.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=args)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A fresh page per test: the site's state (an open lineage graph) does not carry over."""
    browser_page = browser.new_page(viewport={"width": 1400, "height": 1000})
    browser_page.set_default_timeout(TIMEOUT_MS)
    yield browser_page
    browser_page.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def main_text(page) -> str:
    return page.locator("body").inner_text()


@pytest.mark.e2e
def test_a_feature_table_with_owner_types_and_a_business_definition(page, site_url):
    page.goto(f"{site_url}#!/overview")
    page.get_by_text("An online retailer's data-science data prep").wait_for()
    shot(page, "01_overview")

    page.locator("#search").fill(FEATURE_TABLE)
    page.keyboard.press("Enter")
    page.locator(f'.search-result[href$="{FEATURE_NODE}"]').click()
    page.wait_for_url(f"**/model/{FEATURE_NODE}")
    page.get_by_text("data-science@retail-ml.example").first.wait_for()
    text = main_text(page)
    assert "OWNER" in text and "ACCESS\npublic" in text and "CONTRACT\nEnforced" in text
    # every public column is classified (column meta): the customer key is an identifier
    page.get_by_text("customer_id", exact=True).first.click()
    page.get_by_text("identifier", exact=True).first.wait_for()
    text = main_text(page)
    assert "PII\nidentifier" in text and "SENSITIVITY\nconfidential" in text
    assert "DECIMAL(18,2)" in text  # column types from the catalog of the built warehouse
    # the net sales definition, defined once in a docs block and shown on every column using it
    assert "**Net sales** (EUR, DECIMAL(18,2))" in text
    assert "Defined once, in `int_order_lines_netted`" in text
    shot(page, "02_feature_table")


@pytest.mark.e2e
def test_the_lineage_graph_renders(page, site_url):
    page.goto(f"{site_url}#!/model/{FEATURE_NODE}")
    page.get_by_text("data-science@retail-ml.example").first.wait_for()
    page.click('a[title="View Lineage Graph"]')
    page.get_by_text("Lineage Graph").first.wait_for()
    # cytoscape draws nodes and labels on canvases: count the pixels it painted
    painted = page.wait_for_function("""() => {
        let painted = 0;
        for (const canvas of document.querySelectorAll('canvas')) {
            if (!canvas.width || !canvas.height || canvas.offsetParent === null) continue;
            const data = canvas.getContext('2d')
                .getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
        }
        return painted > 1000 ? painted : false;
    }""").json_value()
    assert painted > 1000
    shot(page, "03_lineage_graph")


@pytest.mark.e2e
def test_a_pii_tag_on_the_source_email(page, site_url):
    page.goto(f"{site_url}#!/source/source.retail_ml.shop.customers")
    page.get_by_text("Holds PII (e-mail, name)").wait_for()
    page.get_by_text("email", exact=True).first.click()
    page.locator("p", has_text="E-mail address as typed by the customer (PII).").wait_for()
    text = main_text(page)
    assert "PII\nemail" in text and "SENSITIVITY\nrestricted" in text
    shot(page, "04_pii_tag")


@pytest.mark.e2e
def test_the_lineage_report_is_linked_from_the_overview(page, site_url):
    page.goto(f"{site_url}#!/overview")
    page.get_by_role("link", name="the PII lineage report").click()
    page.wait_for_url("**/analysis/analysis.retail_ml.pii_lineage_report")
    page.get_by_role("heading", name="PII lineage report").wait_for()
    text = main_text(page)
    assert "violations: 0" in text
    assert f"main.{FEATURE_TABLE}" in text and "shop.customers.email (hashed)" in text
    shot(page, "05_lineage_report")


@pytest.mark.e2e
def test_the_single_file_page_opens_from_disk(page, docs_site):
    page.goto((docs_site / "static_index.html").as_uri() + "#!/overview")
    page.get_by_text("An online retailer's data-science data prep").wait_for()
    page.goto((docs_site / "static_index.html").as_uri()
              + f"#!/model/{FEATURE_NODE}")
    page.get_by_text("data-science@retail-ml.example").first.wait_for()
    shot(page, "06_static_page")
