"""The web API: reports and titles on request."""

from __future__ import annotations

from services.reports import ReportService
from services.scripts import ScriptService

from ui.framework import App, Depends

app = App()


def get_report_service() -> ReportService:
    return ReportService()


@app.post("/reports")
async def create_report(
    topic: str,
    service: ReportService = Depends(get_report_service),  # noqa: B008 - FastAPI's idiom
) -> dict[str, str]:
    return {"report": await service.write(topic)}


@app.post("/titles")
async def create_title(topic: str) -> dict[str, str]:
    service = ScriptService()
    return {"title": await service.title(topic)}
