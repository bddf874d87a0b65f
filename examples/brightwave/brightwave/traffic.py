"""A morning of traffic: several people in different organizations using the app at once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from brightwave.identity import Organization, Session, User
from brightwave.pages.campaigns import build_campaign
from brightwave.pages.editor import open_editor
from brightwave.pages.publishing import publish

ACME = Organization(id="org-acme", name="Acme Outdoor")
NORTHWIND = Organization(id="org-northwind", name="Northwind Coffee")

SESSIONS = (
    Session(User(id="user-ana", email="ana@acme.example"), ACME),
    Session(User(id="user-ben", email="ben@northwind.example"), NORTHWIND),
)


@dataclass(frozen=True)
class Visit:
    """What one session did: which pages it opened, and the first line of each."""

    session: Session
    pages: dict[str, str]


async def visit(session: Session, topic: str, product: str) -> Visit:
    """One session's visit: the editor and the campaign builder, then publishing."""
    editor, campaign = await asyncio.gather(
        open_editor(session, topic), build_campaign(session, product)
    )
    # The publishing pages are synchronous; asyncio.to_thread carries the context along.
    title = editor.draft.splitlines()[0].removeprefix("# ")
    published = await asyncio.to_thread(publish, session, title)
    return Visit(
        session=session,
        pages={
            "editor": editor.draft.splitlines()[0],
            "campaigns": campaign.plan.splitlines()[0],
            "publishing": published.meta_description,
        },
    )


async def morning() -> list[Visit]:
    """Both sessions at the same time: Ana works on three pieces, Ben on two."""
    ana, ben = SESSIONS
    return list(
        await asyncio.gather(
            visit(ana, "Trail running gear", "the Ridgeline jacket"),
            visit(ben, "Cold brew at home", "the Harbor blend"),
            visit(ana, "Packing for a weekend hike", "the Summit pack"),
            visit(ben, "Choosing a grinder", "the Daily grinder"),
            visit(ana, "Layering for winter runs", "the Frostline base layer"),
        )
    )
