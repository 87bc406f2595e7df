"""Schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

Credentials. The run logs in as the account the script registers (TASKFLOW_ST_EMAIL,
TASKFLOW_ST_PASSWORD), with two providers; both are cached and fetched again when a request is
answered 401, after which schemathesis replays the request (`retry_on`):

- Every operation that takes the user's credentials gets `Authorization: Bearer` from the
  password grant. The logout endpoints revoke the session the run authenticates with; the next
  request then logs in again, so they need not be left out of the run.
- The refresh endpoint's credentials are a refresh cookie and the CSRF cookie and header of the
  same session (its `security` says so), which a configured scheme cannot take from one login:
  this provider logs in through POST /api/v1/auth/login and sets all three. Later cases present
  the same, already rotated, refresh token: inside the reuse grace window the server forgives
  the replay; after it, reuse detection revokes that session and answers 401, and schemathesis
  logs in again and replays the request.

(Programmatic providers, not `[auth]` in schemathesis.toml: schemathesis drops every
programmatic provider as soon as the configuration defines any authentication.)

Cursors. A `cursor` is an opaque token sealed with an HMAC over the owner, the filter and the
sort; no text a generator invents can be one, so the server rightly answers 400
`invalid_cursor`. Even a real `next_cursor` carried over by the stateful phase only continues
the very query that made it, and schemathesis varies the other parameters of a linked request
at random. So the cursor is dropped from positive (schema-valid) cases, and
`positive_data_acceptance` judges the rest of the query; negative cases keep theirs (and expect
the 400). Walking real pages is the job of the contract suite (tests/api/pagination.rs).
"""

import os
from urllib.parse import urljoin

import requests
import schemathesis
from schemathesis.generation import GenerationMode

REFRESH_COOKIE = "__Secure-taskflow_refresh"
CSRF_COOKIE = "__Host-taskflow_csrf"
# The operations whose `security` is `[]` (or optional), which get no credentials.
PUBLIC = [
    "/api/v1/auth/register",
    "/api/v1/auth/login",
    "/api/v1/auth/token",
    "/health/live",
    "/health/ready",
    "/api/v1/openapi.json",
    "/metrics",
]


def post(context, path, body):
    """POST `body` to `path` of the server under test; raises unless it answers 2xx."""
    base = context.operation.schema.get_base_url().rstrip("/") + "/"
    response = requests.post(urljoin(base, path.lstrip("/")), json=body, timeout=10)
    response.raise_for_status()
    return response


def account():
    return {"email": os.environ["TASKFLOW_ST_EMAIL"], "password": os.environ["TASKFLOW_ST_PASSWORD"]}


# Registered first: providers are tried in order, and each one's filter leaves the other's
# operations alone.
@schemathesis.auth(retry_on=[401]).apply_to(method="POST", path="/api/v1/auth/refresh")
class RefreshSession:
    """The refresh cookie with the CSRF cookie and header of the same session."""

    def get(self, case, context):
        response = post(context, "/api/v1/auth/login", account())
        # The cookies are `Secure`; the jar keeps them although this run is plain http.
        cookies = {cookie.name: cookie.value for cookie in response.cookies}
        return cookies[REFRESH_COOKIE], cookies[CSRF_COOKIE]

    def set(self, case, data, context):
        refresh, csrf = data
        cookies = dict(case.cookies or {})
        cookies[REFRESH_COOKIE] = refresh
        cookies[CSRF_COOKIE] = csrf
        case.cookies = cookies
        headers = dict(case.headers or {})
        headers["X-CSRF-Token"] = csrf
        case.headers = headers


@schemathesis.hook.apply_to(method="GET", path="/api/v1/tasks")
def map_case(context, case):
    meta = case.meta
    invented = (
        meta is not None
        and meta.generation.mode == GenerationMode.POSITIVE
        and isinstance(case.query, dict)
        and "cursor" in case.query
    )
    if invented:
        case.query = {name: value for name, value in case.query.items() if name != "cursor"}
    return case


@schemathesis.auth(retry_on=[401]).skip_for(path=["/api/v1/auth/refresh", *PUBLIC])
class BearerToken:
    """An access token from the password grant."""

    def get(self, case, context):
        grant = {"grant_type": "password", **account()}
        return post(context, "/api/v1/auth/token", grant).json()["access_token"]

    def set(self, case, data, context):
        headers = dict(case.headers or {})
        headers["Authorization"] = f"Bearer {data}"
        case.headers = headers
