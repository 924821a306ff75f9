"""Who gets in: only an active manager or administrator, through a fresh signed link, then by the session it gives."""

from __future__ import annotations

import html
import time
from collections.abc import Callable

import httpx
import pytest

from dashboard import session
from dashboard.app import PLOTLY_JS
from tests.dashboard.conftest import SECRET, Dashboard
from throughcare.access import accounts as access
from throughcare.access import identity
from throughcare.access.accounts import DASHBOARD_LINK_SECONDS
from throughcare.cases import staff_members
from throughcare.db.models import Role, StaffMember
from throughcare.errors import CaseError
from throughcare.reporting import review
from throughcare.reporting.reports import Period, QueryFilter

DENIED = "This link has expired or isn't valid. Ask the assistant for a new one"
# Only a signed-in page shows these; a refusal carrying any of them would be a leak.
PRIVATE = ["Morgan Manager", "Sam Okafor", "Demo Practitioner", "chaplaincy", "Overdue steps", "data-figure"]
PAGES = ["/", "/queries", "/gaps", "/gaps/nlu.yml", "/reports/mds.csv", "/reports/fallback.csv"]


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 403
    text = html.unescape(response.text)
    assert DENIED in text
    for word in PRIVATE:
        assert word not in text
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_session(dashboard: Dashboard, path: str) -> None:
    with dashboard.client() as client:
        assert_refused(client.get(path))


@pytest.mark.parametrize("token", ["", "nonsense", "1.2.3", "6.1796191258.deadbeef", "1.1.é", "1.1.\x00"])
def test_a_missing_or_malformed_link_is_refused(dashboard: Dashboard, token: str) -> None:
    with dashboard.client() as client:
        assert_refused(client.get("/login", params={"token": token, "nonce": "x"} if token else None))


def test_a_non_ascii_token_in_the_address_gets_the_kind_page(dashboard: Dashboard) -> None:
    with dashboard.client() as client:
        assert_refused(client.get("/login?token=1.1.%C3%A9"))
        assert_refused(client.get("/login?token=1.1.%C3%A9&nonce=%C3%A9"))


def test_a_link_without_its_nonce_is_refused(dashboard: Dashboard) -> None:
    url = httpx.URL(dashboard.link(dashboard.manager_id))
    with dashboard.client() as client:
        assert_refused(client.get("/login", params={"token": url.params["token"]}))
        assert_refused(client.get("/login", params={"token": url.params["token"], "nonce": "guessed"}))


def test_a_forged_link_is_refused(dashboard: Dashboard) -> None:
    with dashboard.client() as client:
        assert_refused(client.get(dashboard.link(dashboard.manager_id, secret=b"someone-elses-secret-012345")))


def test_an_expired_link_is_refused(dashboard: Dashboard) -> None:
    issued = time.time() - DASHBOARD_LINK_SECONDS - 60
    with dashboard.client() as client:
        assert_refused(client.get(dashboard.link(dashboard.manager_id, now=issued)))


def test_a_chat_token_is_not_a_link_and_a_link_is_not_a_session(dashboard: Dashboard) -> None:
    url = httpx.URL(dashboard.link(dashboard.manager_id))
    chat_token = identity.sign(dashboard.manager_id, SECRET)
    # Sessions were once signed tokens; one signed the old way opens nothing now that they live on the server.
    signed_session = identity.sign(dashboard.manager_id, SECRET, purpose="dashboard-session")
    with dashboard.client() as client:
        assert_refused(client.get("/login", params={"token": chat_token, "nonce": url.params["nonce"]}))
        for cookie in (url.params["token"], url.params["nonce"], signed_session):
            client.cookies.set(session.COOKIE, cookie)
            assert_refused(client.get("/"))


def test_a_practitioner_gets_nothing(dashboard: Dashboard) -> None:
    with pytest.raises(CaseError, match="managers and administrators only"):
        dashboard.link(dashboard.practitioner_id)
    # A link signed for a practitioner by someone holding the secret, but never issued, opens nothing either.
    token = identity.sign(dashboard.practitioner_id, SECRET, purpose=identity.DASHBOARD_LINK)
    with dashboard.client() as client:
        assert_refused(client.get("/login", params={"token": token, "nonce": "never-issued"}))


def test_a_managers_link_signs_in_with_a_strict_session_cookie(dashboard: Dashboard) -> None:
    with dashboard.client() as client:
        signing_in = client.get(dashboard.link(dashboard.manager_id))
        assert signing_in.status_code == 200
        assert '<meta http-equiv="refresh" content="0; url=/">' in signing_in.text
        cookie = signing_in.headers["set-cookie"]
        assert cookie.startswith(f"{session.COOKIE}=")
        for attribute in ("HttpOnly", "SameSite=strict", "Max-Age=7200", "Path=/"):
            assert attribute in cookie
        assert "Secure" not in cookie
        overview = client.get("/")
    assert overview.status_code == 200
    assert "Signed in as Morgan Manager" in overview.text
    assert overview.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in overview.headers["content-security-policy"]


def test_the_session_cookie_is_secure_behind_https(dashboard: Dashboard) -> None:
    with dashboard.client() as client:
        signing_in = client.get(dashboard.link(dashboard.manager_id), headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in signing_in.headers["set-cookie"]


def test_a_manager_who_leaves_or_changes_role_is_refused_at_once(dashboard: Dashboard) -> None:
    with dashboard.db.transaction() as transaction:
        leaver = StaffMember(display_name="Leaving Manager", role=Role.manager, team="Management", active=True)
        transaction.add(leaver)
        transaction.flush()
        leaver_id = leaver.id
    with dashboard.client(leaver_id) as client:
        assert client.get("/gaps").status_code == 200
        with dashboard.db.transaction() as transaction:
            transaction.get(StaffMember, leaver_id).role = Role.practitioner  # type: ignore[union-attr]
        assert_refused(client.get("/gaps"))
        with dashboard.db.transaction() as transaction:
            staff = transaction.get(StaffMember, leaver_id)
            staff.role, staff.active = Role.administrator, False  # type: ignore[union-attr]
        assert_refused(client.get("/gaps"))
        # Made a manager again, they need a new link: the session that was refused has ended for good.
        with dashboard.db.transaction() as transaction:
            staff = transaction.get(StaffMember, leaver_id)
            staff.role, staff.active = Role.manager, True  # type: ignore[union-attr]
        assert_refused(client.get("/gaps"))


def test_health_and_static_files_need_no_session(dashboard: Dashboard) -> None:
    with dashboard.client() as client:
        assert client.get("/health").json() == {"status": "ok"}
        plotly = client.get(PLOTLY_JS)
        assert plotly.status_code == 200
        assert plotly.headers["content-type"].startswith("text/javascript")
        assert "plotly.js" in plotly.text[:200]
        assert client.get("/static/dashboard.css").status_code == 200


def test_a_mark_without_the_sessions_form_token_changes_nothing(dashboard: Dashboard) -> None:
    # The oldest question: the browser tests mark recent ones.
    everything = QueryFilter(Period.weeks_to(dashboard.today, 52))
    _rows, total = review.logged_queries(dashboard.db, everything, limit=1)
    query_id = review.logged_queries(dashboard.db, everything, limit=1, offset=total - 1)[0][0].id
    another_session = dashboard.session_id(dashboard.manager_id)
    with dashboard.client(dashboard.manager_id) as client:
        for token in ("", "forged", session.form_token(another_session, SECRET)):
            refused = client.post(f"/queries/{query_id}/mark", data={"mark": "knowledge_gap", "form_token": token})
            assert refused.status_code == 403
            assert "This form has expired" in refused.text
    assert review.logged_query(dashboard.db, query_id).mark is None  # type: ignore[union-attr]


def test_signing_out_clears_the_session_cookie(dashboard: Dashboard) -> None:
    with dashboard.client() as client:
        client.get(dashboard.link(dashboard.manager_id))
        token = session.form_token(client.cookies[session.COOKIE], SECRET)
        signed_out = client.post("/logout", data={"form_token": token})
        assert signed_out.status_code == 200
        assert "You have signed out" in signed_out.text
        cleared = signed_out.headers["set-cookie"]
        assert cleared.startswith(f'{session.COOKIE}="";')
        assert "Max-Age=0" in cleared
        assert_refused(client.get("/"))


def test_signing_out_ends_the_session_on_the_server(dashboard: Dashboard) -> None:
    with dashboard.client() as client:
        client.get(dashboard.link(dashboard.manager_id))
        kept = client.cookies[session.COOKIE]
        signed_out = client.post("/logout", data={"form_token": session.form_token(kept, SECRET)})
        assert signed_out.status_code == 200
    # A copy of the cookie taken before signing out (another tab, a shared machine) opens nothing.
    with dashboard.client() as copy:
        copy.cookies.set(session.COOKIE, kept)
        for path in PAGES:
            assert_refused(copy.get(path))


def test_a_link_signs_in_once(dashboard: Dashboard) -> None:
    link = dashboard.link(dashboard.manager_id)
    with dashboard.client() as first:
        assert first.get(link).status_code == 200
        assert first.get("/").status_code == 200
        # Opening it again in the browser it signed in just carries on.
        again = first.get(link)
        assert again.status_code == 200
        assert "Welcome, Morgan Manager" in again.text
        assert "set-cookie" not in again.headers
    with dashboard.client() as someone_else:
        reused = someone_else.get(link)
        assert reused.status_code == 403
        text = html.unescape(reused.text)
        assert "This link has been used" in text and "Ask the assistant for a new one" in text
        for word in PRIVATE:
            assert word not in text
        assert "set-cookie" not in reused.headers
        assert_refused(someone_else.get("/"))


def _telegram_manager(dashboard: Dashboard, telegram_user_id: int) -> int:
    access.request_access(dashboard.db, telegram_user_id, "Robin")
    staff_id = access.approve(dashboard.db, telegram_user_id, Role.manager, by=None).staff_id
    assert staff_id is not None
    return staff_id


@pytest.mark.parametrize(
    ("decision", "telegram_user_id"), [(access.revoke, 8_100_000_001), (access.refuse, 8_100_000_002)]
)
def test_withdrawing_telegram_access_ends_dashboard_sessions_and_links_at_once(
    dashboard: Dashboard, decision: Callable[..., access.Account], telegram_user_id: int
) -> None:
    staff_id = _telegram_manager(dashboard, telegram_user_id)
    unused_link = dashboard.link(staff_id)
    with dashboard.client(staff_id) as client:
        assert client.get("/gaps").status_code == 200
        decision(dashboard.db, telegram_user_id, by=None)
        assert_refused(client.get("/gaps"))
        assert_refused(client.get(unused_link))


def test_deactivating_a_manager_ends_their_sessions_and_links_at_once(dashboard: Dashboard) -> None:
    staff_id = staff_members.add_staff(dashboard.db, "Dana Departing", Role.manager, "Management")
    unused_link = dashboard.link(staff_id)
    with dashboard.client(staff_id) as client:
        assert client.get("/").status_code == 200
        assert access.deactivate(dashboard.db, staff_id, by=None) == 2
        assert_refused(client.get("/"))
        assert_refused(client.get(unused_link))
