"""A team's before/after and phase story in a real browser (Debian's Chromium through Playwright), on
the bundled sample served as `dora dashboard` serves it when dora.toml has teams: the pages draw for
the team's services together, keep their choices in the link by id (an annotation's name and a
metric's label in a link are understood and rewritten to ids), and show no error box."""
from __future__ import annotations

import re

import pytest

from tests.test_browser import (CHROMIUM, browser, no_error_box, sample_db, screenshot,  # noqa: F401
                                team_url, wait_until_rendered)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium "
                                                      "(apt-get install chromium); .ci/run installs it"),
]


@pytest.fixture
def page(browser):  # noqa: F811
    profile = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = profile.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    profile.close()


def test_a_team_s_before_after_link_by_annotation_name(team_url, page):  # noqa: F811
    page.goto(f"{team_url}/before-after?team=shop&compare=annotations&before=Phase+3:+progressive+delivery")
    wait_until_rendered(page, "Before and after", 3)
    page.get_by_text(re.compile(r"Team shop\. A verdict")).first.wait_for()
    # the annotation's name in the link is rewritten to its id, as `dora compare --before-annotation` takes it
    # (the defaults — annotations, the last annotation for after — stay out of the address)
    page.wait_for_function("/[?&]before=\\d+(&|$)/.test(location.search)")
    page.get_by_text(re.compile(r"Before: 2026-06-15 to 2026-07-12")).first.wait_for()  # Phase 2 to Phase 3
    assert "team=shop" in page.url
    assert no_error_box(page)
    screenshot(page, "before-after-team")


def test_a_team_s_story_keeps_the_metric_by_id(team_url, page):  # noqa: F811
    page.goto(f"{team_url}/story?team=shop&story_metric=Change+fail+rate")
    wait_until_rendered(page, "Phase story", 1)
    page.get_by_text(re.compile(r"· Team shop\. × is a ratio")).first.wait_for()
    page.wait_for_function("location.search.includes('story_metric=change_failure_rate')")
    assert no_error_box(page)
    screenshot(page, "story-team")
