"""Rasa's REST channel, as the gateway uses it: one staff message in, the assistant's replies out."""

from __future__ import annotations

import httpx

from throughcare import identity


class AssistantUnavailable(Exception):
    """Rasa or the action server did not answer; the staff member is told, and nothing is half done."""


class RasaClient:
    def __init__(self, url: str, secret: bytes, timeout: float = 30) -> None:
        self.url = url
        self.secret = secret
        self._client = httpx.AsyncClient(timeout=timeout)

    async def send(self, sender: str, text: str, staff_id: int) -> list[dict]:
        """The replies to `text`, signed as `staff_id` so the action server knows who is asking."""
        metadata = {identity.METADATA_KEY: identity.sign(staff_id, self.secret)}
        try:
            response = await self._client.post(self.url, json={"sender": sender, "message": text, "metadata": metadata})
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
