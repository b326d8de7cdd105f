"""The dashboard in a real browser (Debian's Chromium through Playwright) on the bundled sample.

Starts the dashboard as `dora dashboard` does on a free loopback port, visits every page at 1440 and 800 px
wide, checks that the Plotly charts drew, that no error box shows, that no card value is cut off, that
nothing scrolls sideways, that no two axis labels overlap and that the sidebar folds away on the
narrow screen; changes a filter, opens the shared link and a link in the CLI's spelling, drills down
from a bar, downloads a chart's CSV, opens a team's link with its goal on a dashboard started with
teams and goals (as `dora dashboard` passes them), and saves a screenshot of every page at each width
under tests/artifacts/.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from metrics.filters import Team
from metrics.goals import Goals, dump_scopes, parse_goal
from tests.test_dashboard_fixture import ROOT, SAMPLE, build_warehouse, ingest_with_cli, serve_dashboard

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium "
                                                      "(apt-get install chromium); .ci/run installs it"),
]

# (url path, title, charts it draws at least)
PAGES = [
    ("", "Are we getting faster and safer?", 1),
    ("trends", "Trends", 2),
    ("before-after", "Before and after", 4),
    ("lead-time", "Lead time breakdown", 2),
    ("batch-size", "Batch size and risk", 3),
    ("pipeline", "Pipeline health", 3),
    ("incidents", "Incidents and failed deployments", 1),
    ("quality", "Data quality", 1),
]


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Path:
    """The bundled sample loaded as `make demo` loads it, or the small fixture where there is no sample."""
    directory = tmp_path_factory.mktemp("browser")
    if not SAMPLE.exists():
        return build_warehouse(directory)
    db = directory / "dora.duckdb"
    result = ingest_with_cli(db, SAMPLE)
    assert result.returncode in (0, 3), result.stderr  # 3: the sample's malformed lines were rejected
    for command in (["ingest", "survey", str(SAMPLE.with_name("survey.csv"))],
                    ["annotate", "import", str(SAMPLE.with_name("annotations.csv"))]):
        done = subprocess.run([sys.executable, "-m", "dora", *command, "--db", str(db), "-q"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    return db


@pytest.fixture(scope="module")
def base_url(sample_db):
    with serve_dashboard(sample_db) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


WIDTHS = (1440, 800)  # a laptop, and a narrow window (half a screen, a tablet)


@pytest.fixture(scope="module")
def context(browser):
    """One browser profile for the module: Streamlit's scripts are fetched once, as for a real user."""
    profile = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    yield profile
    profile.close()


@pytest.fixture(scope="module", params=WIDTHS, ids=lambda w: f"{w}px")
def sized_context(browser, request):
    """A fresh browser profile per width (as a first visit: the sidebar's remembered state is empty)."""
    profile = browser.new_context(viewport={"width": request.param, "height": 900})
    yield profile
    profile.close()


@pytest.fixture
def page(context):
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    tab.close()


def wait_until_rendered(page, title: str, charts: int) -> None:
    """The page's title, its charts drawn by Plotly, and the script finished running."""
    page.get_by_role("heading", name=title, exact=True).wait_for()
    page.wait_for_function("[...document.querySelectorAll('.js-plotly-plot')]"
                           f".filter(p => p.querySelector('.main-svg')).length >= {charts}")
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')")


def no_error_box(page) -> bool:
    return page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count() == 0


def screenshot(page, name: str) -> None:
    """The screen as a lead sees it, and the whole page (the app scrolls inside its main block)."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(int(height), 8000)})
    page.screenshot(path=str(ARTIFACTS / f"{name}-full.png"))
    page.set_viewport_size(size)


# Pairs of x-axis tick labels of one chart whose boxes overlap (rotated labels running into each
# other, or into the next panel's), as their texts.
OVERLAPPING_TICKS = """[...document.querySelectorAll('.js-plotly-plot')].flatMap(plot => {
  const boxes = [...plot.querySelectorAll('.xaxislayer-above text')].filter(t => t.textContent)
      .map(t => [t.textContent, t.getBoundingClientRect()]);
  const pairs = [];
  boxes.forEach(([a, r], i) => boxes.slice(i + 1).forEach(([b, q]) => {
    if (r.left < q.right - 1 && q.left < r.right - 1 && r.top < q.bottom - 1 && q.top < r.bottom - 1)
      pairs.push(a + ' / ' + b);
  }));
  return pairs;
})"""

# Elements whose text must show whole: card values and labels, table headers are Glide's canvas.
CUT_TEXT = """[...document.querySelectorAll('[data-testid="stMetricValue"] > div, [data-testid="stMetricLabel"] p')]
  .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""


# What scrolls the main block sideways: by how much, then the innermost elements sticking out of its
# right edge that no box of their own clips; empty when it fits.
SIDEWAYS = """(() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const overflow = main.scrollWidth - main.clientWidth;
  if (overflow <= 1) return [];
  const edge = main.getBoundingClientRect().right + 1;
  const clipped = e => { for (let a = e.parentElement; a !== main; a = a.parentElement)
      if (getComputedStyle(a).overflowX !== 'visible') return true; return false; };
  const out = [...main.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > edge && !clipped(e))
      .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > edge))
      .map(e => `${e.closest('[data-testid]')?.dataset.testid} ${e.tagName} ${Math.round(e.getBoundingClientRect().width)} px`);
  return [`${overflow} px`, ...out.slice(0, 10)];
})()"""


def assert_settles(page, problems: str, what: str) -> None:
    """Once the layout settles, the script `problems` finds none. Charts and tables are sized to their
    column after they mount (ResizeObserver), so a loaded machine may look one frame early: await
    the empty list, and on failure say what is wrong."""
    try:
        page.wait_for_function(f"{problems}.length === 0", timeout=10_000)
    except PlaywrightTimeout:
        raise AssertionError(f"{what}: {page.evaluate(problems)}") from None


@pytest.mark.parametrize("path, title, charts", PAGES, ids=[p[0] or "overview" for p in PAGES])
def test_every_page_draws_its_charts_without_an_error(base_url, sized_context, path, title, charts):
    page = sized_context.new_page()
    page.set_default_timeout(30_000)
    width = page.viewport_size["width"]
    page.goto(f"{base_url}/{path}")
    wait_until_rendered(page, title, charts)
    assert no_error_box(page)
    assert page.locator(".js-plotly-plot").count() >= charts
    assert page.get_by_text("Traceback").count() == 0
    assert_settles(page, CUT_TEXT, "card text cut off")
    assert_settles(page, SIDEWAYS, "the page scrolls sideways")
    assert_settles(page, OVERLAPPING_TICKS, "axis labels overlap")
    if width <= 1000:  # folded away on a narrow screen, so the page has the width
        page.wait_for_function("document.querySelector('[data-testid=\"stSidebar\"]')"
                               ".getBoundingClientRect().right <= 0")
    screenshot(page, f"{path or 'overview'}-{width}")
    page.close()


def test_a_filter_goes_into_the_link_and_the_link_restores_it(base_url, page, browser):
    page.goto(f"{base_url}/trends")
    wait_until_rendered(page, "Trends", 2)
    page.locator('[data-testid="stSidebar"]').get_by_role("radio", name="Week", exact=True).click()
    page.wait_for_url(re.compile(r"grain=week"))  # the CLI's spelling
    page.get_by_text("week (starting Monday)").first.wait_for()
    assert no_error_box(page)
    shared = page.url
    other = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    other.goto(shared)
    wait_until_rendered(other, "Trends", 2)
    other.get_by_text("week (starting Monday)").first.wait_for()  # the shared link's grain took effect
    other.context.close()


def test_a_link_in_the_cli_s_spelling_opens_that_view(base_url, page):
    page.goto(f"{base_url}/trends?grain=week&services=payments")
    wait_until_rendered(page, "Trends", 1)
    page.get_by_text("week (starting Monday)").first.wait_for()
    assert "grain=week" in page.url and no_error_box(page)


def test_clicking_a_bar_lists_the_deployments_behind_it(base_url, page):
    page.goto(base_url)
    wait_until_rendered(page, "Are we getting faster and safer?", 1)
    bars = page.locator(".js-plotly-plot .barlayer .trace").first.locator(".point")
    bars.last.click(force=True)  # the latest period's bar
    page.get_by_text(re.compile(r"^Deployments, .*: [\d,]+ records")).wait_for()
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')")
    # the records' table and data freshness: a table may still be mounting when the rerun ends, so
    # await it rather than count once
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stDataFrame\"]').length >= 2")
    assert no_error_box(page)
    screenshot(page, "overview-drill-down")


def test_a_charts_data_downloads_as_csv(base_url, page, tmp_path):
    page.goto(base_url)
    wait_until_rendered(page, "Are we getting faster and safer?", 1)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download chart data").first.click()
    target = tmp_path / "chart.csv"
    download.value.save_as(target)
    header = target.read_text(encoding="utf-8").splitlines()[0]
    assert header == ("period_start,service,deployments,failed_deployments,change_failure_rate,"
                      "environment,grain,time_zone,definitions_version")


# The sample's services in one team, the rest in none; an organisation goal and the team's own.
TEAMS = (Team("shop", ("checkout", "payments", "catalog")),)
GOALS = Goals(organisation=(parse_goal("lead_time", "<= 1 day"),),
              teams={"shop": (parse_goal("lead_time", "<= 4 h"),)})


@pytest.fixture(scope="module")
def team_url(sample_db):
    """The dashboard as `dora dashboard` starts it when dora.toml has teams and goals."""
    with serve_dashboard(sample_db, scopes=dump_scopes(TEAMS, GOALS)) as url:
        yield url


def test_a_team_s_link_at_800_px_shows_the_team_and_its_goal(team_url, browser):
    profile = browser.new_context(viewport={"width": 800, "height": 900})
    page = profile.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{team_url}/trends?team=shop&metric=lead_time")
    wait_until_rendered(page, "Trends", 2)
    page.get_by_role("heading", name=re.compile(r": team shop$")).wait_for()
    page.get_by_text("goal <= 4 h").first.wait_for()  # the team's goal line, on its trend
    assert "team=shop" in page.url and "metric=lead_time" in page.url
    assert no_error_box(page)
    assert_settles(page, OVERLAPPING_TICKS, "axis labels overlap")
    assert_settles(page, SIDEWAYS, "the page scrolls sideways")
    screenshot(page, "trends-team-800")
    page.goto(f"{team_url}/?team=shop")
    wait_until_rendered(page, "Are we getting faster and safer?", 1)
    page.get_by_text(re.compile(r"^Team shop · ")).first.wait_for()
    page.get_by_text(re.compile(r"goal ≤ 4 h: (met|missed)")).first.wait_for()
    assert no_error_box(page)
    assert_settles(page, CUT_TEXT, "card text cut off")
    screenshot(page, "overview-team-800")
    profile.close()
