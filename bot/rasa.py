"""Rasa's REST channel, as the gateway uses it: one staff message in, the assistant's replies out."""

from __future__ import annotations

import httpx

from throughcare.access import identity


class AssistantUnavailable(Exception):
    """Rasa or the action server did not answer; the staff member is told, and nothing is half done."""


class RasaClient:
    def __init__(self, url: str, secret: bytes, timeout: float = 30) -> None:
        self.url = url
        self.secret = secret
        self._client = httpx.AsyncClient(timeout=timeout)

    def conversation(self, telegram_user_id: int) -> str:
        """The Rasa conversation of one Telegram account. Not the bare user id, which others can learn."""
        return f"telegram-{identity.conversation_id(self.secret, f'telegram-{telegram_user_id}')}"

    async def send(self, telegram_user_id: int, text: str, staff_id: int) -> list[dict]:
        """The replies to `text` in this account's conversation, signed as `staff_id` for that conversation only,
        so the action server knows who is asking."""
        sender = self.conversation(telegram_user_id)
        metadata = {identity.METADATA_KEY: identity.sign(staff_id, self.secret, subject=sender)}
        try:
            # The header routes the conversation to one Rasa server behind the production stack's HAProxy.
            response = await self._client.post(
                self.url,
                json={"sender": sender, "message": text, "metadata": metadata},
                headers={"X-Conversation-Id": sender},
            )
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as err:
            raise AssistantUnavailable(type(err).__name__) from err
        # Rasa answers 200 with no replies when its action server is down: for staff that is the same fault.
        if not isinstance(replies, list) or not replies:
            raise AssistantUnavailable("no reply")
        return replies

    async def close(self) -> None:
        await self._client.aclose()
