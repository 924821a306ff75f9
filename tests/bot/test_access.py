"""Nobody reaches the assistant until an administrator approves them; refusal and revocation hold."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from typer.testing import CliRunner

from bot.access_handlers import NO_ACCESS, PRIVATE_ONLY
from tests.bot.conftest import ADMIN, STAFF, Harness, RunningGateway
from throughcare.access import accounts as access
from throughcare.access import identity
from throughcare.cli import app
from throughcare.db.models import AccessStatus, Role


def _admin_signed_in(harness: Harness) -> None:
    assert "signed in as administrator" in harness.say(ADMIN, "/start")[0]


def test_a_stranger_reaches_nothing_until_an_administrator_approves(harness: Harness, gateway: RunningGateway) -> None:
    _admin_signed_in(harness)
    assert harness.say(STAFF, "what's next for A1234BC?") == [NO_ACCESS[None]]
    assert "asked an administrator" in harness.say(STAFF, "/start")[0]

    request = harness.telegram.wait_for_replies(ADMIN, 2)[-1]
    assert f"Telegram id {STAFF}" in request["text"]
    choices = [row[0]["callback_data"] for row in request["reply_markup"]["inline_keyboard"]]
    assert choices == [
        f"access:{STAFF}:practitioner",
        f"access:{STAFF}:manager",
        f"access:{STAFF}:administrator",
        f"access:{STAFF}:refuse",
    ]
    assert harness.say(STAFF, "what's next for A1234BC?") == [NO_ACCESS[AccessStatus.pending]]
    assert harness.rasa.received == []

    harness.telegram.press(ADMIN, f"access:{STAFF}:practitioner")
    assert "signed in as practitioner" in harness.telegram.wait_for_replies(STAFF, 4)[-1]["text"]
    harness.telegram.wait_for(lambda: harness.telegram.calls_to("answerCallbackQuery"))
    edited = harness.telegram.wait_for(lambda: harness.telegram.calls_to("editMessageText"))
    assert "approved as practitioner" in edited[-1]["text"]

    assert harness.say(STAFF, "what's next for A1234BC?") == ["You said: what's next for A1234BC?"]
    (sent,) = harness.rasa.received
    staff_id = access.account(harness.db, STAFF).staff_id
    # The action server trusts only this signature: the gateway signs as the approved staff member, for this
    # conversation only, whose id nobody can derive from the Telegram user id without the secret.
    token = sent["metadata"][identity.METADATA_KEY]
    assert identity.verify(token, harness.settings.secret, subject=sent["sender"]) == staff_id
    assert identity.verify(token, harness.settings.secret, subject=f"telegram-{STAFF}") is None
    assert sent["sender"] != f"telegram-{STAFF}"


def test_a_refused_request_stays_refused(harness: Harness, gateway: RunningGateway) -> None:
    _admin_signed_in(harness)
    harness.say(STAFF, "/start")
    harness.telegram.wait_for_replies(ADMIN, 2)
    harness.telegram.press(ADMIN, f"access:{STAFF}:refuse")
    assert harness.telegram.wait_for_replies(STAFF, 2)[-1]["text"] == NO_ACCESS[AccessStatus.refused]
    assert harness.say(STAFF, "/start") == [NO_ACCESS[AccessStatus.refused]]
    assert harness.say(STAFF, "my caseload") == [NO_ACCESS[AccessStatus.refused]]
    assert harness.rasa.received == []


def test_only_an_administrator_can_decide(harness: Harness, gateway: RunningGateway) -> None:
    harness.approve(STAFF)
    access.request_access(harness.db, 3003, "Pat")
    harness.say(STAFF, "hello")
    harness.telegram.press(STAFF, "access:3003:administrator")
    answer = harness.telegram.wait_for(lambda: harness.telegram.calls_to("answerCallbackQuery"))[-1]
    assert "Only administrators" in answer["text"]
    assert access.account(harness.db, 3003).status == AccessStatus.pending


def test_revoked_staff_lose_access_on_their_next_message(
    harness: Harness, gateway: RunningGateway, demo_sqlite_url: str
) -> None:
    harness.approve(STAFF)
    assert harness.say(STAFF, "hello") == ["You said: hello"]
    result = CliRunner().invoke(app, ["staff", "revoke", str(STAFF)], env={"DATABASE_URL": demo_sqlite_url})
    assert result.exit_code == 0, result.output
    assert harness.say(STAFF, "hello again") == [NO_ACCESS[AccessStatus.revoked]]
    assert harness.rasa.texts() == ["hello"]


def test_the_command_line_approves_with_a_role_and_links_an_existing_staff_member(
    harness: Harness, demo_sqlite_url: str
):
    access.request_access(harness.db, STAFF, "Sam")
    env = {"DATABASE_URL": demo_sqlite_url}
    result = CliRunner().invoke(app, ["staff", "approve", str(STAFF), "--role", "manager", "--staff-id", "1"], env=env)
    assert result.exit_code == 0, result.output
    account = access.account(harness.db, STAFF)
    assert (account.status, account.role, account.staff_id) == (AccessStatus.approved, Role.manager, 1)
    listed = CliRunner().invoke(app, ["staff", "requests"], env=env).output
    assert str(STAFF) in listed and "manager" in listed
    unknown = CliRunner().invoke(app, ["staff", "revoke", "424242"], env=env)
    assert unknown.exit_code == 1 and "asked for access" in unknown.output


def test_group_chats_are_refused(harness: Harness, gateway: RunningGateway) -> None:
    harness.approve(STAFF)
    harness.telegram.send_text(STAFF, "what's next for A1234BC?", chat_type="group", chat_id=-500)
    assert harness.telegram.wait_for_replies(-500, 1)[0]["text"] == PRIVATE_ONLY
    assert harness.rasa.received == []


def test_managers_get_a_dashboard_link_and_practitioners_do_not(harness: Harness, gateway: RunningGateway) -> None:
    manager = harness.approve(3003, Role.manager)
    harness.approve(STAFF)
    (reply,) = harness.say(3003, "/dashboard")
    token = parse_qs(urlparse(reply.split()[-1]).query)["token"][0]
    assert identity.verify(token, harness.settings.secret, purpose=identity.DASHBOARD_LINK) == manager.staff_id
    assert harness.say(STAFF, "/dashboard") == ["The dashboard is for managers and administrators only."]
    assert harness.rasa.received == []
