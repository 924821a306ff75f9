"""`python -m bot` (or `make bot`): run the Telegram gateway, by long polling or, with a webhook URL, as a webhook."""

from __future__ import annotations

import logging
import sys
from urllib.parse import urlparse

from telegram import Update

from bot import logs
from bot.app import build_application
from bot.settings import GATEWAY, Settings
from throughcare.config import read_settings
from throughcare.db.engine import default_database
from throughcare.knowledge.loader import default_knowledge

logger = logging.getLogger("bot")


def main() -> int:
    settings = read_settings(Settings.from_env, GATEWAY)
    if settings is None:
        return 2
    logs.configure(settings.token, settings.secret.decode())
    application = build_application(settings, default_database(), default_knowledge())
    try:
        if settings.webhook_url:
            logger.info("Serving the webhook on %s:%s", settings.webhook_listen, settings.webhook_port)
            application.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlparse(settings.webhook_url).path.lstrip("/"),
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            logger.info("Polling Telegram for updates")
            application.run_polling(allowed_updates=Update.ALL_TYPES)
    except Exception:
        # Logged rather than left to the interpreter, so the token is redacted from the traceback too.
        logger.exception("The Telegram gateway stopped")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
