"""The words staff and managers see for each stage of an episode and each intent: one table each, read by the chat
(answers, the clarification buttons) and the dashboard alike; and what every chat client says of a message the
assistant did not answer."""

from __future__ import annotations

STAGES = {
    "referred": "referred, awaiting initial assessment",
    "assessed": "initial assessment done, awaiting triage",
    "in_treatment": "in treatment",
    "closed": "closed",
}

INTENTS = {
    "ask_next_steps": "What's next for a client",
    "ask_caseload": "My caseload and what's overdue",
    "ask_due_date": "When a step is due",
    "ask_protocol": "A question about the protocol",
    "define_term": "What a term means",
    "start_checklist": "Start or resume a checklist",
    "step_done": "Checklist: mark this step done",
    "step_skip": "Checklist: skip this step (with a reason)",
    "step_back": "Checklist: go back a step",
    "step_why": "Checklist: why this step matters",
    "checklist_stop": "Checklist: stop for now",
    "record_event": "Record an assessment, review or date",
    "record_referral": "Record a new referral",
    "raise_safeguarding": "Raise a safeguarding concern",
    "induction": "Induction: tours, quizzes, progress",
    "help": "What the assistant can do",
    "greet": "Just saying hello",
    "goodbye": "Finish for now",
    "affirm": "Yes",
    "deny": "No",
    "out_of_scope": "Outside what the assistant covers",
    "nlu_fallback": "Not understood",
}
# What a member of staff may have meant when the assistant is unsure: every intent but a bare yes or no, and the
# two that say the message was not understood.
CLARIFIABLE = [intent for intent in INTENTS if intent not in ("affirm", "deny", "out_of_scope", "nlu_fallback")]


# A message left unanswered (a server died, restarted or timed out) may still have been acted on: the write commits
# before the answer is sent. Sent again, nothing is recorded twice (a referral or a step mark is refused, saying who
# made it and when; an event records the same date).
NOT_ANSWERED = (
    "The assistant didn't answer that message, so it may or may not have been acted on. Sending it again is safe: "
    "nothing is recorded twice, and the assistant says so if it was already recorded."
)


def stage(name: str) -> str:
    return STAGES.get(name, name.replace("_", " "))


def intent(name: str) -> str:
    return INTENTS.get(name) or name.replace("_", " ").capitalize() or "(none)"
