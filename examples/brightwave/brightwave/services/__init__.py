"""Brightwave's services: each one asks an agent for a piece of content."""
