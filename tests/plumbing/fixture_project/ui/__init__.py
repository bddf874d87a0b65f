"""The app's user interface: Streamlit-style pages and a small web API."""
