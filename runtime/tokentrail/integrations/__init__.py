"""Set the tracking context where a request, session or job begins.

Each helper answers "who is this unit of work for?" once, at its boundary, so that every tracked
run inside it (including runs on cached or shared service instances, which must never carry a
user's identity themselves) is billed to the right user and organization:

- `TrackingContextMiddleware`: ASGI applications (FastAPI, Starlette, ...), per request;
- `WSGITrackingContextMiddleware`: WSGI applications (Flask, Django, ...), per request;
- `bind_tracking_context`: the top of a script-style page (Streamlit), per script run;
- `tracking_job`: background jobs, per call.

They depend on no web framework: only the ASGI and WSGI protocols.
"""

from __future__ import annotations

from tokentrail.integrations._asgi import TrackingContextMiddleware
from tokentrail.integrations._bind import bind_tracking_context
from tokentrail.integrations._job import tracking_job
from tokentrail.integrations._wsgi import WSGITrackingContextMiddleware

__all__ = [
    "TrackingContextMiddleware",
    "WSGITrackingContextMiddleware",
    "bind_tracking_context",
    "tracking_job",
]
