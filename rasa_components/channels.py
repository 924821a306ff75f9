"""Rasa's REST channel with a size and sanity check at the door, before the NLU sees anything.

Rasa's own REST channel hands the NLU any message at all: one of 50,000 characters took 16 s and grew the
Rasa process by 4.5 GB that it kept; a body that is not a JSON object raised a 500; a blank message made the
FallbackClassifier raise. This channel reads every request with `throughcare.access.input_limits` first:

- a body over `MAX_BODY_BYTES` is answered 413, unread, with the kind reply in the normal reply format;
- a message over `MAX_MESSAGE_CHARS`, with a run of over `MAX_WORD_CHARS` without a space (spaCy's tokenizer
  slows down on those faster than they grow), or with nothing visible in it, gets a kind reply and never
  reaches Rasa, so the conversation's tracker does not change;
- control characters (newline and tab apart) are removed, and metadata that is not an object is dropped;
- a message that starts with "/" but is not exactly a payload the assistant's buttons could send (a known
  intent and at most one flat object of known entities) is read as words, so Rasa never logs it in a warning;
- a body that is not a JSON object, a message that is not a string, or a sender id that is empty, over-long
  or holds control characters is refused 400 with a JSON error: that is for the client to fix, not the user;
- a request whose `X-Conversation-Id` header is present and names another conversation than the body's sender is
  refused 400: the production stack's HAProxy routes each conversation to one Rasa server by that header
  (docs/design.md, "Several Rasa servers"), so a client must not route by one id and write to another.

Everything else is Rasa's REST channel unchanged. Its name is still "rest", which Rasa also uses as the URL
prefix, so clients keep posting to /webhooks/rest/webhook and /webhooks/rest/ still answers the health check.
"""

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from throughcare.access.input_limits import DEFAULT_SENDER, Accepted, Answered, Buttons, Refused, read_chat_request

# The header HAProxy hashes to send every message of one conversation to the same Rasa server (scripts/production).
CONVERSATION_HEADER = "X-Conversation-Id"


def _buttons(request: Request) -> Optional[Buttons]:
    """What the loaded model's buttons may name; None until a model is loaded (Rasa then refuses anyway)."""
    agent = getattr(request.app.ctx, "agent", None)
    domain = getattr(agent, "domain", None)
    if domain is None:
        return None
    return Buttons(frozenset(domain.intents), frozenset(domain.entities))


class ThroughcareRestInput(RestInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        # Blueprint middleware runs for this channel's routes only, before the route's handler.
        @webhook.middleware("request")
        async def within_limits(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST":
                return None
            read = read_chat_request(request.body, _buttons(request))
            if isinstance(read, Refused):
                return response.json({"error": read.error}, status=read.status)
            routed_by = request.headers.get(CONVERSATION_HEADER)
            # A body too big to read has no known sender: it is answered at the door and never reaches Rasa.
            sender = (read.sender or DEFAULT_SENDER) if isinstance(read, Accepted) else read.recipient_id
            if routed_by is not None and sender is not None and routed_by != sender:
                error = f"the {CONVERSATION_HEADER} header must be the body's sender"
                return response.json({"error": error}, status=400)
            if isinstance(read, Answered):
                return response.json(read.replies(), status=read.status)
            request.ctx.chat = read
            return None

        return webhook

    @staticmethod
    def _chat(request: Request) -> Accepted:
        return request.ctx.chat

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        return self._chat(req).sender

    def _extract_message(self, req: Request) -> Optional[Text]:
        return self._chat(req).text

    def _extract_input_channel(self, req: Request) -> Text:
        return self._chat(req).input_channel or self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return self._chat(request).metadata
