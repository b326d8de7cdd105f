"""The Streamlit dashboard for engineering leads (`dora dashboard`, or `streamlit run dashboard/app.py`).

Layout: `app.py` only routes; `views/` holds one file per page; `data.py` is the one module that
reads the warehouse (its read snapshot, read-only); `charts.py` builds Plotly figures as pure
functions of DataFrames; `catalog.py` names, units and colours every figure shown; `ui.py` holds
the widgets every page shares (filters, downloads, friendly empty states).
"""
