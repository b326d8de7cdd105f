"""The dashboard's entry point: it routes, and sets up the sidebar's filters every page shares.

Each page is one file in dashboard/views/. (Not `pages/`: Streamlit treats a `pages/` folder beside
the main script as a legacy multipage app and then runs a page without this script on a direct link.)

Run it with `dora dashboard` (or `streamlit run dashboard/app.py -- --db PATH`).
"""
import sys
from pathlib import Path

# A checkout runs without installing the package: `streamlit run` puts only dashboard/ on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st  # noqa: E402

from dashboard import ui  # noqa: E402

# "auto": Streamlit folds the sidebar on phones; ui.COLLAPSE_WHEN_NARROW folds it up to 1000 px.
st.set_page_config(page_title="DORA metrics", page_icon=":material/monitoring:", layout="wide",
                   initial_sidebar_state="auto")

PAGES = {
    "Delivery": [
        st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("views/trends.py", title="Trends", icon=":material/show_chart:", url_path="trends"),
        st.Page("views/before_after.py", title="Before/after", icon=":material/compare_arrows:",
                url_path="before-after"),
        st.Page("views/story.py", title="Phase story", icon=":material/timeline:", url_path="story"),
    ],
    "Why": [
        st.Page("views/lead_time.py", title="Lead time", icon=":material/timer:", url_path="lead-time"),
        st.Page("views/batch_size.py", title="Batch size & risk", icon=":material/stacks:", url_path="batch-size"),
        st.Page("views/pipeline.py", title="Pipeline", icon=":material/conveyor_belt:", url_path="pipeline"),
    ],
    "Stability": [
        st.Page("views/incidents.py", title="Incidents", icon=":material/emergency:", url_path="incidents"),
    ],
    "Trust": [
        st.Page("views/quality.py", title="Data quality", icon=":material/fact_check:", url_path="quality"),
    ],
}

ui.require_login()  # only when Streamlit's OIDC login is configured (docs/dashboard.md)
page = st.navigation(PAGES)
url_notes = st.container()  # above the page: what a link asked for that the page does not understand
# The filters belong to the app, not to a page, so the URL keeps them when the page changes.
ui.prepare_context()
page.run()
ui.show_url_notes(url_notes)
