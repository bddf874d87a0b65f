"""Brightwave's pages: each function serves one request for the signed-in session."""
