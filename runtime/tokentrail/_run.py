"""One tracked agent run, from its start to the records it leaves.

A `TrackedRun` is made just before the wrapper calls into the agent and finished exactly once,
whatever the outcome. Starting and finishing never raise into the caller: a tracking failure is
logged (rate-limited) and the agent's own result or exception goes on unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tokentrail import _inflight
from tokentrail._capture import open_capture
from tokentrail._context import resolve_context
from tokentrail._guard import tracked_run_starting
from tokentrail._record import RunStatus, new_record_id
from tokentrail._usage import ModelUsage, is_model_response, own_responses, usage_by_model
from tokentrail._warnings import warn_limited
from tokentrail.stores._codec import Row

if TYPE_CHECKING:
    from tokentrail._tracker import UsageTracker

logger = logging.getLogger(__name__)

_METADATA_LIMIT_BYTES = 2048
_current_run: contextvars.ContextVar[TrackedRun | None] = contextvars.ContextVar(
    "tokentrail_current_run", default=None
)


class TrackedRun:
    """Observes one agent run for a wrapper."""

    def __init__(
        self,
        agent: Any,
        method: str,
        kwargs: Mapping[str, Any],
        *,
        tracker: UsageTracker | None,
        user_id: str | None,
        organization_id: str | None,
        tool_name: str | None,
        operation: str | None,
        service: object | None,
    ) -> None:
        self._agent = agent
        self._method = method
        self._kwargs = kwargs
        self._tool_name = tool_name
        self._operation = operation
        self._service = service
        self._started = time.perf_counter()
        self._finished = False
        self._fallback_id: str | None = None
        self._context = resolve_context(tracker, user_id, organization_id)
        self._parent = _current_run.get()
        self._capture = open_capture()
        self._current_token = _current_run.set(self)
        self._guard_token: contextvars.Token[bool] | None = tracked_run_starting.set(True)
        if service is not None:
            _inflight.started(service)

    def run_id(self) -> str:
        """pydantic-ai's id for this run where it has one yet, else tokentrail's own."""
        messages = self._capture.messages
        if messages:
            run_id = getattr(messages[-1], "run_id", None)
            if isinstance(run_id, str):
                return run_id
        if self._fallback_id is None:
            self._fallback_id = new_record_id()
        return self._fallback_id

    def started(self) -> None:
        """The agent run has begun: take back the wrapper's mark before the caller's code runs.

        Inside `async with` / `with` blocks the caller's own code runs next to the tracked run;
        an untracked run started there must not pass for this one.
        """
        if self._guard_token is not None:
            with contextlib.suppress(ValueError):
                tracked_run_starting.reset(self._guard_token)
            self._guard_token = None

    def finish(
        self,
        *,
        status: RunStatus,
        error: BaseException | None = None,
        result: Any = None,
    ) -> None:
        """Record the run; safe to call more than once (only the first call counts)."""
        if self._finished:
            return
        self._finished = True
        try:
            self._release()
            rows = self._rows(status, error, result)
            tracker = self._context.tracker
            if tracker is None:
                from tokentrail._configure import process_tracker

                tracker = process_tracker()
            tracker.record_rows(rows)
        except Exception as failure:  # noqa: BLE001 - tracking never breaks the caller
            warn_limited(
                logger,
                "finish",
                "tokentrail: could not record the usage of a %s run (%s: %s)",
                self._method,
                type(failure).__name__,
                failure,
            )

    def _release(self) -> None:
        self.started()
        # A stream closed from another context cannot reset; its value is unused by then.
        with contextlib.suppress(ValueError):
            _current_run.reset(self._current_token)
        self._capture.release()
        if self._service is not None:
            _inflight.finished(self._service)

    def _responses(self, result: Any) -> tuple[list[Any], str | None]:
        new_messages = getattr(result, "new_messages", None)
        if result is not None and callable(new_messages):
            try:
                messages = list(new_messages())
            except Exception:  # noqa: BLE001 - a stream that never started has no messages
                messages = []
            else:
                run_id = getattr(result, "run_id", None)
                responses = [message for message in messages if is_model_response(message)]
                return responses, run_id if isinstance(run_id, str) else None
        captured = self._capture.messages or []
        return own_responses(captured, self._kwargs.get("message_history")), None

    def _rows(self, status: RunStatus, error: BaseException | None, result: Any) -> list[Row]:
        # Rows, not `UsageRecord`s: this runs on the caller's path, and a row is what the journal
        # writes (see `stores._codec`); records are built from rows in the background.
        responses, result_run_id = self._responses(result)
        usage = usage_by_model(responses, self._requested_model)
        run_id = result_run_id or _first_run_id(responses) or self.run_id()
        created_at = datetime.now(UTC).isoformat()
        duration_ms = round((time.perf_counter() - self._started) * 1000)
        error_type = type(error).__name__ if error is not None else None
        parent_run_id = self._parent.run_id() if self._parent is not None else None
        agent_name = getattr(self._agent, "name", None)
        metadata = self._metadata()
        context = self._context
        rows = []
        for model in usage:
            cost = model.cost
            rows.append(
                (
                    new_record_id(),
                    created_at,
                    context.user_id,
                    context.organization_id,
                    model.provider,
                    model.model,
                    self._tool_name,
                    self._operation,
                    model.input_tokens,
                    model.output_tokens,
                    model.cache_read_tokens,
                    model.cache_write_tokens,
                    model.requests,
                    model.tool_calls,
                    None if cost is None else str(cost),
                    "none" if cost is None else "pydantic-ai",
                    duration_ms,
                    status,
                    error_type,
                    run_id,
                    parent_run_id,
                    agent_name if isinstance(agent_name, str) else None,
                    metadata,
                )
            )
        return rows

    def _requested_model(self) -> ModelUsage:
        model = self._kwargs.get("model") or getattr(self._agent, "model", None)
        if isinstance(model, str):
            provider, _, name = model.rpartition(":")
            return ModelUsage(provider or "unknown", name or "unknown")
        if model is None:
            return ModelUsage("unknown", "unknown")
        model_name = getattr(model, "model_name", None)
        system = getattr(model, "system", None)
        return ModelUsage(
            system if isinstance(system, str) else "unknown",
            model_name if isinstance(model_name, str) else "unknown",
        )

    def _metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {"method": self._method}
        given = self._kwargs.get("metadata")
        if isinstance(given, Mapping):
            try:
                encoded = json.dumps(dict(given), sort_keys=True)
            except (TypeError, ValueError):
                return metadata
            if len(encoded) <= _METADATA_LIMIT_BYTES:
                metadata["run"] = json.loads(encoded)
        return metadata


def _first_run_id(responses: list[Any]) -> str | None:
    for response in responses:
        run_id = getattr(response, "run_id", None)
        if isinstance(run_id, str):
            return run_id
    return None


def status_of(error: BaseException) -> RunStatus:
    """`cancelled` for cancellations, `error` for everything else."""
    if isinstance(error, asyncio.CancelledError) or type(error).__name__ == "RunCancelled":
        return "cancelled"
    return "error"
