"""The quarterly review file in a real browser (Debian's Chromium through Playwright) with the network off.

The file written by `dora report` is opened from disk in an offline browser profile in which every
request that is not the file itself is recorded and aborted: none may be attempted. Every Plotly
figure must draw (an svg.main-svg each), the console must stay free of errors, an attached CSV must
download as `dora export` writes it, and at 800 px the page must not scroll sideways. Screenshots
go to tests/artifacts/.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dora.cli import main
from tests.test_browser import assert_settles
from tests.test_dashboard_fixture import ROOT, build_warehouse, dashboard_events, later_events, serve_dashboard

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium "
                                                      "(apt-get install chromium); .ci/run installs it"),
]


def run(*args: str):
    return CliRunner(env={"DORA_DB": None, "DORA_CONFIG": None}).invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = build_warehouse(tmp_path_factory.mktemp("report-browser"), dashboard_events() + later_events())
    for name, day in (("Phase 1: gates removed", "2026-04-20"), ("Phase 2", "2026-06-15")):
        assert run("annotate", "add", name, "--date", day, "--db", str(path), "-q").exit_code == 0
    return path


@pytest.fixture(scope="module")
def review_file(db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("review") / "review-2026Q3.html"
    result = run("report", "--quarter", "2026Q3", "-o", str(out), "--db", str(db), "-q")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


def open_offline(browser, review_file: Path, width: int):
    """The review in an offline profile: (page, context, requests attempted off the file, console errors)."""
    context = browser.new_context(viewport={"width": width, "height": 900}, offline=True, accept_downloads=True)
    attempted: list[str] = []
    errors: list[str] = []

    def guard(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            attempted.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(review_file.as_uri())
    figures = page.locator("figure").count()
    # every figure's Plotly div has drawn its main svg (Plotly.newPlot resolves asynchronously)
    page.wait_for_function("n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
                           arg=figures, timeout=20_000)
    return page, context, attempted, errors


def test_the_review_opens_offline_and_every_chart_draws(browser, review_file, db):
    page, context, attempted, errors = open_offline(browser, review_file, 1280)
    try:
        figures = page.locator("figure").count()
        assert figures >= 8  # deployments, six trends, at least one batch-size chart
        assert page.locator(".js-plotly-plot").count() == figures
        assert page.locator("svg.main-svg").count() >= figures
        assert page.locator("h1").inner_text() == "Delivery review 2026 Q3"
        with page.expect_download() as download:
            page.locator("a[download='dora-2026Q3-summary.csv']").click()
        exported = run("export", "--grain", "quarter", "--from", "2026-07-01", "--to", "2026-09-30",
                       "--db", str(db), "-q").stdout
        assert Path(download.value.path()).read_text(encoding="utf-8") == exported
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-2026Q3-1280.png"), full_page=True)
        assert attempted == []
        assert errors == []
    finally:
        context.close()


def test_the_review_reads_at_800_px(browser, review_file):
    page, context, attempted, errors = open_offline(browser, review_file, 800)
    try:
        # wide tables scroll in their box; charts size to the page once drawn (assert_settles awaits it)
        assert_settles(page, "(w => w > 800 ? [`${w} px wide`] : [])(document.documentElement.scrollWidth)",
                       "the review scrolls sideways at 800 px")
        page.screenshot(path=str(ARTIFACTS / "report-2026Q3-800.png"), full_page=True)
        assert attempted == [] and errors == []
    finally:
        context.close()


def test_the_dashboard_button_downloads_the_same_file(browser, db, review_file):
    with serve_dashboard(db) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        try:
            page = context.new_page()
            page.goto(url)
            button = page.get_by_role("button", name="Download the quarterly review (2026 Q3)")
            button.wait_for(timeout=60_000)
            with page.expect_download(timeout=60_000) as download:
                button.click()
            assert download.value.suggested_filename == "dora-review-2026Q3.html"
            assert Path(download.value.path()).read_text(encoding="utf-8") == review_file.read_text(encoding="utf-8")
        finally:
            context.close()
