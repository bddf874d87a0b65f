"""The nightly digest: one report per user, written by a queue worker."""

from __future__ import annotations

from dataclasses import dataclass

from auth import acting_as
from services.reports import ReportService


@dataclass(frozen=True)
class DigestJob:
    """A queued job and the user it was queued for."""

    user_id: str
    organization_id: str
    topic: str


def send_digest(topic: str) -> str:
    """The job itself."""
    service = ReportService()
    return service.digest(topic)


def run_queued(job: DigestJob) -> str:
    """The worker's entry point: run a job on behalf of whoever queued it."""
    with acting_as(job.user_id, job.organization_id):
        return send_digest(job.topic)
