"""`python -m brightwave`: serve a busy morning of traffic and print what each page returned."""

from __future__ import annotations

import asyncio

from brightwave.traffic import morning


def main() -> None:
    for visit in asyncio.run(morning()):
        who = f"{visit.session.user.email} ({visit.session.organization.name})"
        for page, first_line in visit.pages.items():
            print(f"{who:42} {page:10} {first_line[:60]}")


if __name__ == "__main__":
    main()
