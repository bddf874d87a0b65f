"""The app's services: each runs pydantic-ai agents for one part of the product."""
