"""Issue 6 end to end: after `tokentrail codemod`, every run is billed to whoever asked for it.

The fixture project (`fixture_project/`) is an app as it was before tokentrail: services running
pydantic-ai agents untracked, Streamlit-style pages using a plain getter, a cached getter (one
service shared by every session) and inline services, an ASGI route whose service comes from a
FastAPI-style dependency provider, and a background job run by a queue worker. The codemod rewrites
a copy; the copy is then driven as two users of two organizations at once: pages on threads, as
Streamlit runs them, and requests as asyncio tasks, as an ASGI server runs them.

Each prompt carries its user's `#tag`, and the fixture's model reports it as the provider, so each
record says whose prompt it served, independently of the tracking context it was recorded in.
"""

from __future__ import annotations

import asyncio
import importlib
import shutil
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .conftest import FIXTURE_PROJECT, Rewritten, RunningApp, run_tokentrail

USERS = {"alice": "acme", "bob": "globex"}
"""Two users of two organizations."""

RUNS_PER_PAGE = {"scripts_page": 3, "summary_page": 2}
"""Agent runs in one run of each page (scripts: draft, summary, shouted draft)."""

Message = MutableMapping[str, Any]


def misbilled(rows: list[dict[str, Any]]) -> list[str]:
    """Each record billed to someone other than the user whose prompt it served, described."""
    problems = []
    for row in rows:
        owner = row["provider"].removeprefix("prompt-of-")
        if (row["user_id"], row["organization_id"]) != (owner, USERS.get(owner)):
            problems.append(
                f"{row['tool_name']}.{row['operation']} served {owner}'s prompt but was billed"
                f" to user {row['user_id']!r} of organization {row['organization_id']!r}"
            )
    return problems


def assert_billed_to_their_users(rows: list[dict[str, Any]], expected_runs: int) -> None:
    problems = misbilled(rows)
    assert not problems, f"{len(problems)} of {len(rows)} records misbilled:\n" + "\n".join(
        problems
    )
    assert len(rows) == expected_runs
    assert {row["user_id"] for row in rows} == set(USERS)


def run_page(app: RunningApp, page: str, user: str) -> list[str]:
    """One script run of a page for `user`'s session, on the current thread (as Streamlit)."""
    auth = importlib.import_module("auth")
    st = importlib.import_module("ui.st")
    auth.sign_in(user, USERS[user])
    st.start_session({"topic": f"launch plan #{user}"})
    path = app.root / "ui" / "pages" / f"{page}.py"
    exec(compile(path.read_text(), str(path), "exec"), {"__name__": "__main__"})
    shown: list[str] = st.written()
    return shown


def test_the_codemod_rewrites_the_project_and_a_second_run_changes_nothing(
    rewritten: Rewritten,
) -> None:
    assert rewritten.codemod.returncode == 0, rewritten.codemod.stdout + rewritten.codemod.stderr

    again = run_tokentrail(["codemod", "--check", "."], rewritten.root)

    assert again.returncode == 0, again.stdout + again.stderr


def test_the_checker_finds_nothing_left_to_plumb(rewritten: Rewritten) -> None:
    checked = run_tokentrail(["check", "."], rewritten.root)

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_sessions_on_their_own_script_threads(running_app: RunningApp) -> None:
    reruns = 3
    runs = [(page, user) for page in RUNS_PER_PAGE for user in USERS for _ in range(reruns)]
    everyone_ready = threading.Barrier(len(runs))
    pages_shown: list[list[str]] = []

    def script_thread(page: str, user: str) -> None:
        everyone_ready.wait()
        pages_shown.append(run_page(running_app, page, user))

    threads = [threading.Thread(target=script_thread, args=run) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(pages_shown) == len(runs)
    expected = sum(RUNS_PER_PAGE[page] for page, _ in runs)
    assert_billed_to_their_users(running_app.rows(), expected)


def test_sessions_taking_turns_on_reused_threads(running_app: RunningApp) -> None:
    runs = [(page, user) for _ in range(4) for user in USERS for page in RUNS_PER_PAGE]

    with ThreadPoolExecutor(max_workers=2) as script_threads:
        shown = list(script_threads.map(lambda run: run_page(running_app, *run), runs))

    assert all(shown)
    expected = sum(RUNS_PER_PAGE[page] for page, _ in runs)
    assert_billed_to_their_users(running_app.rows(), expected)


async def post(app: Any, path: str, user: str, topic: str) -> dict[str, Any]:
    """One HTTP request through the ASGI application, with real scope, receive and send."""
    body = f'{{"topic": "{topic}"}}'.encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"x-user", user.encode()), (b"x-org", USERS[user].encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    incoming: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[Message] = []

    async def receive() -> Message:
        await asyncio.sleep(0)
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asgi_app: Callable[..., Awaitable[None]] = app
    await asgi_app(scope, receive, send)
    return {"status": sent[0]["status"], "body": sent[1]["body"]}


async def test_api_requests_as_concurrent_tasks(running_app: RunningApp) -> None:
    api = importlib.import_module("ui.api")
    requests = [
        post(api.app, path, user, f"quarterly numbers #{user}")
        for _ in range(5)
        for path in ("/reports", "/titles")
        for user in USERS
    ]

    responses = await asyncio.gather(*requests)

    assert [response["status"] for response in responses] == [200] * len(requests)
    rows = running_app.rows()
    assert Counter(row["operation"] for row in rows) == {"write": 10, "title": 10}
    assert_billed_to_their_users(rows, len(requests))


def test_background_jobs_on_a_shared_worker_pool(running_app: RunningApp) -> None:
    digest = importlib.import_module("jobs.digest")
    jobs = [
        digest.DigestJob(user, organization, f"the week #{user}")
        for _ in range(5)
        for user, organization in USERS.items()
    ]

    with ThreadPoolExecutor(max_workers=2) as worker:
        results = list(worker.map(digest.run_queued, jobs))

    assert all(results)
    assert_billed_to_their_users(running_app.rows(), len(jobs))


def test_the_fixture_is_untracked_before_the_codemod(tmp_path: Path) -> None:
    """The plumbing under test comes from the codemod: the original has none of it."""
    original = tmp_path / "project"
    shutil.copytree(FIXTURE_PROJECT, original, ignore=shutil.ignore_patterns("__pycache__"))
    sources = "\n".join(path.read_text() for path in original.rglob("*.py"))

    assert "import tokentrail" not in sources
    assert "from tokentrail" not in sources
    checked = run_tokentrail(["check", "."], original)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "TT001" in checked.stdout
