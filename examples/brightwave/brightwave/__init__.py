"""Brightwave: a small content and marketing app whose services run pydantic-ai agents."""
