"""Logging that never shows the bot token, the signing secret, a signed staff token or a prison number,
whatever library wrote the line (an exception's text can quote a request, a payload or a message)."""

from __future__ import annotations

import logging

from throughcare.access import identity
from throughcare.cases import prison_numbers

REDACTED = "[redacted]"
PRISON_NUMBER = "[prison number]"


class RedactSecrets(logging.Filter):
    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = identity.TOKEN.sub(REDACTED, text)
        return prison_numbers.FIND.sub(PRISON_NUMBER, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self._clean(record.getMessage()), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        return True


def configure(*secrets: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets(*secrets))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # httpx logs every request's URL at INFO, and the Bot API's URLs carry the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The digest job runs each minute; its scheduler's notes about each run would bury everything else.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
