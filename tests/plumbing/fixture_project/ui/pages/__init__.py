"""Streamlit-style pages: scripts run from top to bottom on every rerun of a session."""
