"""A fake Telegram Bot API on the loopback address, so the gateway is tested through python-telegram-bot itself.

Point the gateway at it with ``ApplicationBuilder().token(fake.token).base_url(fake.base_url)``: every request PTB
makes then lands here, staff messages and button presses are queued for getUpdates, and what the bot did is
recorded for the test to read. Only the standard library is used, so it runs in any virtual environment.

Where real Telegram refuses a request the gateway could plausibly make, so does the fake, with Telegram's own
words: text over 4,096 characters, callback data over 64 bytes, HTML with a tag Telegram does not know or an
unclosed one, an edit that changes nothing, getUpdates while a webhook is set. Passing here then means passing
there.
"""

from __future__ import annotations

import contextlib
import copy
import html
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

T = TypeVar("T")

BOT_ID = 999
BOT_USERNAME = "throughcare_test_bot"
# What getMe answers; a message's "from" carries only the first four fields, as Telegram's do.
BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Throughcare",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
BOT_SENDER = {key: BOT_USER[key] for key in ("id", "is_bot", "first_name", "username")}

# PTB sends a str parameter as it is and anything else JSON-encoded, so "123" as message text arrives as 123:
# these fields are always strings and must not be decoded.
RAW_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "description",
        "short_description",
        "name",
        "language_code",
        "ip_address",
    }
)
HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "tg-time",
        "code",
        "pre",
        "blockquote",
    }
)
MAX_TEXT = 4096  # UTF-16 code units after entity parsing
MAX_CALLBACK_DATA = 64  # bytes
# Telegram holds a long poll for up to `timeout` seconds; a shorter hold keeps stopping the gateway quick.
LONG_POLL_CAP = 1.0
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
WEBHOOK_CONFLICT = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete it first"


class _ApiError(Exception):
    """A Telegram error answer raised by a method, so every refusal takes one path back to the client."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


@dataclass(eq=False)  # compared by identity: the same update may be queued twice
class _Pending:
    """An update waiting for getUpdates; a redelivery, queued by hand, goes out even below the bot's offset."""

    update: dict[str, Any]
    redelivery: bool = False


def _utf16_len(text: str) -> int:
    """Telegram counts lengths and offsets in UTF-16 code units, not in Python characters."""
    return len(text.encode("utf-16-le")) // 2


def _decode(name: str, value: str) -> Any:
    """A form field as PTB meant it: JSON unless it is a string field or is not JSON at all (e.g. "@channel")."""
    if name in RAW_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _html_error(text: str) -> str | None:
    """Why Telegram's HTML parser would refuse this text, or None. Only the refusals that are certain: a "<" that
    opens no tag Telegram knows (a bare "a < b" included), and tags that do not pair up."""
    open_tags: list[str] = []
    tag = re.compile(r"<(/?)([^\s<>/]*)[^<>]*>")
    pos = text.find("<")
    while pos != -1:
        offset = len(text[:pos].encode())
        match = tag.match(text, pos)
        name = match.group(2).lower() if match else ""
        if match is None or (not match.group(1) and name not in HTML_TAGS):
            word = re.split(r"[\s<>/]", text[pos + 1 :], maxsplit=1)[0]
            return f'Unsupported start tag "{word}" at byte offset {offset}'
        if not match.group(1):
            open_tags.append(name)
        elif open_tags and open_tags[-1] == name:
            open_tags.pop()
        else:
            return f"Unexpected end tag at byte offset {offset}"
        pos = text.find("<", match.end())
    if open_tags:
        return f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"'
    return None


def _check_text(params: dict[str, Any]) -> str:
    """The message text, or the 400 Telegram gives for a text it would not send."""
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _ApiError(400, "Bad Request: message text is empty")
    shown = text
    if str(params.get("parse_mode", "")).lower() == "html":
        error = _html_error(text)
        if error:
            raise _ApiError(400, f"Bad Request: can't parse entities: {error}")
        shown = html.unescape(re.sub(r"<[^<>]*>", "", text))
    if _utf16_len(shown) > MAX_TEXT:
        raise _ApiError(400, "Bad Request: message is too long")
    return text


def _check_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    """The inline keyboard as a message shows it, after Telegram's check of every button's callback data."""
    markup = params.get("reply_markup")
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None  # reply keyboards are accepted but never echoed in the returned message
    for row in markup["inline_keyboard"]:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


class FakeTelegram:
    """One bot's view of Telegram: an HTTP server bound on construction, serving once started."""

    def __init__(self, token: str = "123456:TEST-token-abcdefghijklmnop") -> None:
        self.token = token
        self.webhook: dict[str, Any] | None = None
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[tuple[str, dict[str, Any]]] = []
        self._delivered: list[dict[str, Any]] = []  # sendMessage params that Telegram accepted
        self._pending: list[_Pending] = []
        self._confirmed = 0  # the highest offset the bot has asked for: every update below it is done with
        self._next_update_id = 1
        self._next_message_id = 1
        self._next_query_id = 1
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat id, message id) -> as it now reads
        self._last_sent: dict[int, int] = {}  # chat id -> the message id the bot sent there last
        self._chats: dict[int, dict[str, Any]] = {}
        self._names: dict[int, str] = {}
        self._commands: dict[str, list[dict[str, Any]]] = {}
        self._failures: dict[str, list[tuple[int, str]]] = {}
        self._stopping = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # serve_forever checks for shutdown every poll_interval: a short one makes stop() quick
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/bot"
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getme": lambda params: BOT_USER,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": lambda params: True,
            "sendchataction": lambda params: True,
            "close": lambda params: True,
            "logout": lambda params: True,
        }

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port; a long poll in progress ends at once with no updates."""
        with self._cond:
            if self._stopping:
                return
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what staff do ---------------------------------------------------------------------------------------

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_type: str = "private",
        chat_id: int | None = None,
        first_name: str = "Sam",
    ) -> dict[str, Any]:
        """A staff member's message. A leading /word is marked as a bot command, as Telegram marks it for
        CommandHandler; a group chat gets a negative id and a title, as Telegram's do."""
        with self._cond:
            if chat_type == "private":
                chat: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
            else:
                chat = {"id": chat_id if chat_id is not None else -abs(user_id), "type": chat_type}
                chat["title"] = "Throughcare test group"
            self._chats[chat["id"]] = chat
            self._names[user_id] = first_name
            message: dict[str, Any] = {
                "message_id": self._take_message_id(),
                "from": {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"},
                "chat": chat,
                "date": int(time.time()),
                "text": text,
            }
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
            return self._enqueue({"message": message})

    def press(self, user_id: int, callback_data: str, *, message_id: int | None = None) -> dict[str, Any]:
        """A staff member pressing an inline button, by default under the last message the bot sent them.
        The update carries that message as it now reads, as Telegram's does."""
        with self._cond:
            if message_id is None:
                if user_id not in self._last_sent:
                    raise AssertionError(f"the bot has sent nothing to {user_id}, so there is no button to press")
                message_id = self._last_sent[user_id]
            known = self._messages.get((user_id, message_id))
            message = copy.deepcopy(known) if known else self._unknown_message(user_id, message_id)
            query = {
                "id": str(self._next_query_id),
                "from": {"id": user_id, "is_bot": False, "first_name": self._names.get(user_id, "Sam")},
                "message": message,
                "chat_instance": f"chat-instance-{user_id}",
                "data": callback_data,
            }
            self._next_query_id += 1
            return self._enqueue({"callback_query": query})

    def queue(self, update: dict[str, Any]) -> None:
        """Deliver an update exactly as given, on the next getUpdates even if the bot has confirmed its id: a
        redelivery, as Telegram makes when the bot did not confirm an update before it stopped."""
        with self._cond:
            self._pending.append(_Pending(update, redelivery=True))
            self._next_update_id = max(self._next_update_id, int(update.get("update_id", 0)) + 1)
            self._cond.notify_all()

    # -- what the bot did ---------------------------------------------------------------------------------

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        """Every request in the order it arrived, refused ones too, as (method, decoded parameters)."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    def replies(self, chat_id: int) -> list[dict[str, Any]]:
        """The messages the bot sent to a chat that Telegram accepted, in order: what the staff member saw."""
        with self._cond:
            return [params for params in self._delivered if params.get("chat_id") == chat_id]

    def texts(self, chat_id: int) -> list[str]:
        return [params["text"] for params in self.replies(chat_id)]

    def wait_for(self, predicate: Callable[[], T], timeout: float = 30) -> T:
        """Poll until predicate() is truthy and return its value. It blocks: from a coroutine on the bot's event
        loop, call it as ``await asyncio.to_thread(fake.wait_for, ...)`` so the bot keeps running."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s; {self._summary()}")
            time.sleep(0.02)

    def wait_for_replies(self, chat_id: int, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """The chat's replies once there are at least `count` of them."""
        self.wait_for(lambda: len(self.replies(chat_id)) >= count, timeout)
        return self.replies(chat_id)

    def fail(self, method: str, status: int = 500, description: str = "Internal Server Error", times: int = 1) -> None:
        """Refuse the next `times` calls of a method. PTB raises NetworkError for 5xx, Forbidden for 403,
        BadRequest for 400, InvalidToken for 401 and 404."""
        with self._cond:
            self._failures.setdefault(method.lower(), []).extend([(status, description)] * times)

    # -- internals ----------------------------------------------------------------------------------------

    def _summary(self) -> str:
        calls = self.calls
        polls = sum(1 for name, _ in calls if name == "getUpdates")
        recent = [f"{name} {json.dumps(params)[:300]}" for name, params in calls if name != "getUpdates"][-12:]
        listing = "\n  ".join(recent) if recent else "(none)"
        return f"{polls} getUpdates calls; the latest other calls:\n  {listing}"

    def _take_message_id(self) -> int:
        self._next_message_id += 1
        return self._next_message_id - 1

    def _enqueue(self, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, **body}
        self._next_update_id += 1
        self._pending.append(_Pending(update))
        self._cond.notify_all()
        return update

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self._chats:
            return self._chats[chat_id]
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": "Throughcare test group"}
        return {"id": chat_id, "type": "private", "first_name": self._names.get(chat_id, "Sam")}

    def _unknown_message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """A bot message this fake never saw, e.g. sent before it started: taken to exist, with no text."""
        return {"message_id": message_id, "from": BOT_SENDER, "chat": self._chat(chat_id), "date": int(time.time())}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0 closes every connection, so nothing PTB pools can reach the fake after stop().
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = fake._answer(self.path, self.headers.get("Content-Type", ""), body)
                payload = json.dumps(answer).encode()
                # PTB drops a long poll in progress when it stops: the answer then has no one to go to
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass  # a line on stderr per poll would bury the test's own output

        return Handler

    def _answer(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        url = urlsplit(path)
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", url.path)
        method = match.group(2) if match else url.path
        fields = parse_qs(url.query, keep_blank_values=True)
        if "json" in content_type:
            params: dict[str, Any] = json.loads(body or b"{}")
        else:
            fields.update(parse_qs(body.decode(), keep_blank_values=True))
            params = {name: _decode(name, values[-1]) for name, values in fields.items()}
        with self._cond:
            self._calls.append((method, params))
        try:
            if match is None:
                raise _ApiError(404, "Not Found")
            if match.group(1) != self.token:
                raise _ApiError(401, "Unauthorized")
            with self._cond:
                failures = self._failures.get(method.lower())
                if failures:
                    raise _ApiError(*failures.pop(0))
            if "multipart" in content_type:
                raise _ApiError(400, "Bad Request: the fake Telegram accepts no files")
            handler = self._methods.get(method.lower())
            if handler is None:
                raise _ApiError(404, "Not Found: method not found")
            return 200, {"ok": True, "result": handler(params)}
        except _ApiError as err:
            return err.status, {"ok": False, "error_code": err.status, "description": err.description}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Telegram's long poll: an offset confirms every update below it for good, and with nothing to give
        the request is held (here at most a second) until an update arrives."""
        offset, limit = int(params.get("offset") or 0), min(max(int(params.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), LONG_POLL_CAP)
        with self._cond:
            if self.webhook is not None:
                raise _ApiError(409, WEBHOOK_CONFLICT)
            self._confirmed = max(self._confirmed, offset)
            while True:
                self._pending = [
                    item
                    for item in self._pending
                    if item.redelivery or item.update.get("update_id", 0) >= self._confirmed
                ]
                batch = self._pending[:limit]
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._stopping:
                    break
                self._cond.wait(remaining)
            # a redelivery goes out once; an ordinary update stays until confirmed, as on Telegram
            self._pending = [item for item in self._pending if not (item.redelivery and item in batch)]
            return [item.update for item in batch]

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        with self._cond:
            self.webhook = None
            if params.get("drop_pending_updates"):
                self._pending.clear()
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        with self._cond:
            self.webhook = params
            if params.get("drop_pending_updates"):
                self._pending.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            info: dict[str, Any] = {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._pending),
            }
            for key in ("url", "max_connections", "allowed_updates", "ip_address"):
                if self.webhook is not None and key in self.webhook:
                    info[key] = self.webhook[key]
        return info

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> str:
        """Telegram keeps one command list per scope and language."""
        scope = params.get("scope") or {"type": "default"}
        return f"{json.dumps(scope, sort_keys=True)}|{params.get('language_code', '')}"

    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        with self._cond:
            self._commands[self._commands_key(params)] = list(params.get("commands") or [])
        return True

    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._commands.get(self._commands_key(params), []))

    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        with self._cond:
            self._commands.pop(self._commands_key(params), None)
        return True

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise _ApiError(400, "Bad Request: chat not found" if chat_id else "Bad Request: chat_id is empty")
        text, markup = _check_text(params), _check_markup(params)
        with self._cond:
            message: dict[str, Any] = {
                "message_id": self._take_message_id(),
                "from": BOT_SENDER,
                "chat": self._chat(chat_id),
                "date": int(time.time()),
                "text": text,
            }
            if markup is not None:
                message["reply_markup"] = markup
            self._messages[(chat_id, message["message_id"])] = message
            self._last_sent[chat_id] = message["message_id"]
            self._delivered.append(params)
            return copy.deepcopy(message)

    def _edit(self, params: dict[str, Any], text: str | None) -> dict[str, Any] | bool:
        """Both edits: the message as it now reads. As on Telegram, a markup left out removes the keyboard, and an
        edit that changes nothing is refused."""
        markup = _check_markup(params)
        if params.get("inline_message_id"):
            return True
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if not isinstance(chat_id, int) or not isinstance(message_id, int):
            raise _ApiError(400, "Bad Request: message to edit not found")
        with self._cond:
            known = self._messages.get((chat_id, message_id))
            message = copy.deepcopy(known) if known else self._unknown_message(chat_id, message_id)
            before = (message.get("text"), message.get("reply_markup"))
            if text is not None:
                message["text"] = text
            message.pop("reply_markup", None)
            if markup is not None:
                message["reply_markup"] = markup
            if known and (message.get("text"), message.get("reply_markup")) == before:
                raise _ApiError(400, NOT_MODIFIED)
            message["edit_date"] = int(time.time())
            self._messages[(chat_id, message_id)] = message
            return copy.deepcopy(message)

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        return self._edit(params, _check_text(params))

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        return self._edit(params, None)
