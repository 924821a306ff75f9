"""Greeting, help, goodbye, out-of-scope, and what to do when the assistant is not sure what was meant."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions.common import Answer, ThroughcareAction, button, intent_payload, knowledge
from actions.parsing import Message, question_text
from actions.protocol import (
    CLIENT_SUBJECTS,
    REFUSAL,
    answer_from_hits,
    client_protocol_answer,
    harmful_request,
    strong_matches,
)
from throughcare import labels
from throughcare.knowledge.search import default_search


def help_text() -> str:
    walks = ", ".join(p.title.lower() for p in knowledge().procedures.values())
    return (
        "I can help with:\n"
        "• what's next for a client: \"what's next for A1234BC?\"\n"
        '• your caseload and what\'s overdue: "my caseload"\n'
        '• when one step is due: "when is A1234BC\'s triage due?", "is his review overdue?"\n'
        '• recording progress: "IA done for A1234BC yesterday", "release date 14/01/2027"\n'
        f'• walking through a procedure step by step: "start the transfer checklist for A1234BC" ({walks})\n'
        '• the protocol and the glossary: "how often are high risk clients reviewed?", "what does TTG mean?"\n'
        '• a safeguarding concern: "I have a safeguarding concern"\n'
        '• learning the service if you are new: "I\'m new, where do I start?", "quiz me", "how am I doing?"\n'
        "Clients are named by prison number only. Clinical answers are information for the clinical team."
    )


class ActionGreet(ThroughcareAction):
    def name(self) -> str:
        return "action_greet"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        return Answer(
            "Hello. Ask me what's next for a client, about your caseload, or about the protocol. "
            'Say "help" to see everything I can do.'
        )


class ActionHelp(ThroughcareAction):
    def name(self) -> str:
        return "action_help"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        return Answer(help_text())


class ActionGoodbye(ThroughcareAction):
    def name(self) -> str:
        return "action_goodbye"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        return Answer("Bye for now. Anything you recorded is saved.")


class ActionAcknowledge(ThroughcareAction):
    def name(self) -> str:
        return "action_acknowledge"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        return Answer('OK. What would you like to do next? Say "help" if you\'re not sure.')


class ActionOutOfScope(ThroughcareAction):
    def name(self) -> str:
        return "action_out_of_scope"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        # A request to make or smuggle drugs or hurt someone: refused plainly, never answered from the protocol.
        if message.intent == "harmful_request":
            return Answer(REFUSAL, fell_back=True)
        refused = harmful_request(question_text(message, tracker))
        if refused:
            return refused
        hits = strong_matches(question_text(message, tracker))
        if hits:
            # Words the protocol itself uses: better an answer that may help than a dead end.
            answer = answer_from_hits(hits, "That may be outside what I do, but the protocol has this:\n")
        else:
            answer = Answer(
                "That's outside what I can help with: I know the service's protocol and the caseload. "
                'Say "help" to see what I can do.'
            )
        answer.fell_back = True
        return answer


def _previous_user_intent(tracker: Tracker) -> str | None:
    users = [e for e in tracker.events if e.get("event") == "user"]
    return ((users[-2].get("parse_data") or {}).get("intent") or {}).get("name") if len(users) > 1 else None


class ActionClarify(ThroughcareAction):
    """Low NLU confidence: answer from the closest knowledge item, offering other matches and the likeliest meaning.

    A second miss in a row offers help instead. Both are logged as fallbacks for managers to review.
    """

    def name(self) -> str:
        return "action_clarify"

    async def answer(self, message: Message, tracker: Tracker) -> Answer:
        if _previous_user_intent(tracker) == "nlu_fallback":
            return Answer(f"Sorry, I still didn't follow. {help_text()}", fell_back=True)
        ranking = tracker.latest_message.get("intent_ranking") or []
        refused = harmful_request(question_text(message, tracker))
        # A client named with a move, a release or a closing in an unsure question: the procedure for them.
        text = question_text(message, tracker)
        if not refused and message.prison_number_is_new and any(p.search(text) for p, _ in CLIENT_SUBJECTS):
            for_client = await client_protocol_answer(message.prison_number or "", text, message, tracker)
            if for_client:
                for_client.fell_back = True
                return for_client
        likeliest = next((r.get("name") for r in ranking if r.get("name") != "nlu_fallback"), None)
        if refused or likeliest == "harmful_request":
            return refused or Answer(REFUSAL, fell_back=True)
        likely = [r["name"] for r in ranking if r.get("name") in labels.CLARIFIABLE][:2]
        entities = {
            e["entity"]: e["value"]
            for e in message.entities
            if e.get("entity") in ("prison_number", "checklist", "term")
        }
        if message.prison_number:
            entities["prison_number"] = message.prison_number
        meanings = [button(labels.intent(name), intent_payload(name, entities)) for name in likely]
        # A message naming a client is about their case, so the choices come first; otherwise it is most
        # likely a question, and the closest part of the protocol is shown with the other matches as buttons.
        hits = [] if message.prison_number_is_new else default_search().search(question_text(message, tracker))
        if hits:
            answer = answer_from_hits(hits, "I'm not sure I understood, but this is the closest in the protocol:\n")
            answer.buttons += meanings[:1]
            answer.fell_back = True
            return answer
        return Answer("Sorry, I'm not sure what you meant. Did you mean one of these?", meanings, fell_back=True)
