import logging

from bot.logs import REDACTED, RedactSecrets

TOKEN = "123456:TEST-token-abcdefghijklmnop"


def test_the_token_is_redacted_from_messages_arguments_and_tracebacks() -> None:
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getUpdates failed")
    except RuntimeError as err:
        record = logging.LogRecord("httpx", logging.ERROR, __file__, 1, "HTTP Request: %s", (err.args[0],), None)
        record.exc_info = (type(err), err, err.__traceback__)
    assert RedactSecrets(TOKEN).filter(record)
    shown = logging.Formatter().format(record)
    assert TOKEN not in shown and shown.count(REDACTED) == 2
