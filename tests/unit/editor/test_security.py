"""The token guards everything; the editor stays on loopback unless told otherwise."""

from __future__ import annotations

import pytest

from podwall.editor.security import BindError, check_bind, cookie_name
from tests.unit.editor.apiclient import TOKEN, Client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/static/app.js"),
        ("GET", "/api/state"),
        ("POST", "/api/parse"),
        ("POST", "/api/try"),
        ("GET", "/nowhere"),
    ],
)
def test_requests_without_the_token_get_403(client: Client, method: str, path: str) -> None:
    response = client.request(method, path, token=False)
    assert response.status_code == 403
    assert "token" in response.text


def test_a_wrong_token_gets_403(client: Client) -> None:
    assert (
        client.get("/api/state", token=False, headers={"x-podwall-token": "nope"}).status_code
        == 403
    )
    assert client.get("/?token=nope", token=False).status_code == 403


def test_the_printed_url_opens_the_page_and_sets_a_cookie(client: Client) -> None:
    response = client.get(f"/?token={TOKEN}", token=False)
    assert response.status_code == 200
    assert "<title>podwall editor</title>" in response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{cookie_name(8765)}={TOKEN}")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie


def test_the_cookie_admits_assets(client: Client) -> None:
    cookies = {cookie_name(8765): TOKEN}
    response = client.get("/static/app.js", token=False, cookies=cookies)
    assert response.status_code == 200
    assert client.get("/static/app.js", token=False, cookies={"other": TOKEN}).status_code == 403


def test_responses_forbid_outside_resources(client: Client) -> None:
    headers = client.get(f"/?token={TOKEN}", token=False).headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"


def test_a_foreign_host_header_is_refused(client: Client) -> None:
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host.
    response = client.get("/api/state", headers={"host": "evil.example:8765"})
    assert response.status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_binds_without_a_flag(host: str) -> None:
    assert check_bind(host, listen_any=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.com"])
def test_beyond_loopback_needs_listen_any_and_warns(host: str) -> None:
    with pytest.raises(BindError, match="--listen-any"):
        check_bind(host, listen_any=False)
    warning = check_bind(host, listen_any=True)
    assert warning is not None
    assert warning.startswith("warning: listening on")


def test_a_wrong_query_token_never_becomes_the_cookie(client: Client) -> None:
    response = client.get("/?token=wrong")  # admitted by the header, not by the query
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
