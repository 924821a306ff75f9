"""How long what staff say and what the gateway remembers is kept, and the purge that enforces it.

Every message is kept twice: in the guidance-query log (text, entities, the reply) and, as events, in Rasa's
tracker store. Both hold prison numbers and whatever staff typed, so neither may grow forever (UK GDPR
storage limitation). The audit trail is never purged: it is the record of who read and changed what.

The tracker store is Rasa's own database (one `events` row per event, `timestamp` in Unix seconds, see
rasa/core/tracker_store.py, SQLTrackerStore). Its address is read from the endpoints file the servers use
(`ENDPOINTS`, default endpoints.yml) with `${VARIABLES}` from the environment, as Rasa reads it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import Column, Float, MetaData, String, Table, create_engine, delete, func, inspect, select
from sqlalchemy.engine import URL, make_url

from throughcare.clock import LONDON
from throughcare.config import REPO_ROOT, Settings
from throughcare.db.engine import Database
from throughcare.db.models import (
    ButtonPayload,
    DashboardSession,
    DigestDelivery,
    GuidanceQuery,
    QueryReview,
    TelegramUpdate,
)


@dataclass(frozen=True)
class Retention:
    """How long each kind of record is kept. README.md, "Data retention", gives the reasons."""

    # Two quarters: the weekly reports look back 12 weeks and managers review a half year's knowledge gaps.
    query_log: dt.timedelta = dt.timedelta(days=183)
    # As long as the query log, so a logged question can still be read in its conversation when reviewed.
    conversations: dt.timedelta = dt.timedelta(days=183)
    # A keyboard older than a month is not pressed; the payloads behind it name clients.
    button_payloads: dt.timedelta = dt.timedelta(days=30)
    # Only today's claims stop a digest going twice; a month is kept to look into a complaint of a missed one.
    deliveries: dt.timedelta = dt.timedelta(days=30)
    # Telegram redelivers an update for at most a day.
    telegram_updates: dt.timedelta = dt.timedelta(days=2)
    # A sign-in row is dead within hours (link 15 minutes, session 2 hours); a month answers "who was signed in
    # when?" with the details; the audit trail keeps each sign-in for good.
    dashboard_sign_ins: dt.timedelta = dt.timedelta(days=30)


DEFAULT_RETENTION = Retention()


@dataclass(frozen=True)
class Cutoffs:
    """Records from before these moments are deleted."""

    query_log: dt.datetime
    conversations: dt.datetime
    button_payloads: dt.datetime
    deliveries: dt.datetime
    telegram_updates: dt.datetime
    dashboard_sign_ins: dt.datetime

    @classmethod
    def from_retention(cls, now: dt.datetime, retention: Retention = DEFAULT_RETENTION) -> Cutoffs:
        return cls(
            query_log=now - retention.query_log,
            conversations=now - retention.conversations,
            button_payloads=now - retention.button_payloads,
            deliveries=now - retention.deliveries,
            telegram_updates=now - retention.telegram_updates,
            dashboard_sign_ins=now - retention.dashboard_sign_ins,
        )

    @classmethod
    def before_day(cls, day: dt.date) -> Cutoffs:
        """Everything from before the start of `day`, UK time."""
        moment = dt.datetime.combine(day, dt.time(0), LONDON)
        return cls(moment, moment, moment, moment, moment, moment)


@dataclass(frozen=True)
class Deleted:
    """What one purge deleted, counted by kind (rows, or conversations for the tracker store)."""

    counts: dict[str, int]


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite keeps times without their zone, written in UTC: compare in UTC on both databases.
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)


def purge_case_store(db: Database, cutoffs: Cutoffs) -> Deleted:
    """Delete old query-log rows with their reviews, button payloads, digest deliveries, handled Telegram updates
    and dashboard sign-ins, in one transaction. Audit rows are kept."""
    old_query = GuidanceQuery.at < _utc(cutoffs.query_log)
    with db.transaction() as session:
        counts = {
            # Reviews first: each refers to its query.
            "query reviews": session.execute(
                delete(QueryReview).where(QueryReview.query_id.in_(select(GuidanceQuery.id).where(old_query)))
            ),
            "guidance queries": session.execute(delete(GuidanceQuery).where(old_query)),
            "button payloads": session.execute(
                delete(ButtonPayload).where(ButtonPayload.at < _utc(cutoffs.button_payloads))
            ),
            # By the day it was for, so a day's claim goes whole or not at all.
            "digest deliveries": session.execute(
                delete(DigestDelivery).where(DigestDelivery.day < cutoffs.deliveries.astimezone(LONDON).date())
            ),
            "telegram updates": session.execute(
                delete(TelegramUpdate).where(TelegramUpdate.at < _utc(cutoffs.telegram_updates))
            ),
            "dashboard sign-ins": session.execute(
                delete(DashboardSession).where(DashboardSession.created_at < _utc(cutoffs.dashboard_sign_ins))
            ),
        }
        return Deleted({what: result.rowcount for what, result in counts.items()})


class TrackerStoreError(ValueError):
    """The tracker store's settings cannot be read; the message says which setting to fix."""


def _expand(value: object, env: Mapping[str, str]) -> object:
    if not isinstance(value, str):
        return value

    def variable(match: re.Match[str]) -> str:
        if match.group(1) not in env:
            raise TrackerStoreError(f"the tracker store's settings need {match.group(1)} set in the environment")
        return env[match.group(1)]

    return re.sub(r"\$\{([^}]+)\}", variable, value)


# Rasa's SQL store by its short name, and ours, which keeps the same table (rasa_components/tracker_store.py).
SQL_TRACKER_STORES = ("sql", "rasa_components.tracker_store.throughcaretrackerstore")


def tracker_store_url(endpoints: Path, env: Mapping[str, str]) -> str | None:
    """The SQLAlchemy URL of the tracker store `endpoints` configures, or None when it keeps no SQL store
    (Rasa's default keeps conversations in memory only). A relative SQLite path is taken from the checkout,
    where the run scripts start Rasa."""
    try:
        config = yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise TrackerStoreError(f"cannot read {endpoints}: {err.strerror}") from err
    store = {key: _expand(value, env) for key, value in (config.get("tracker_store") or {}).items()}
    if not store:
        return None
    if str(store.get("type", "")).lower() not in SQL_TRACKER_STORES:
        raise TrackerStoreError(f"{endpoints}: only SQL tracker stores can be purged, not {store.get('type')!r}")
    dialect = str(store.get("dialect") or "sqlite")
    host = store.get("url")
    if isinstance(host, str) and "://" in host:
        return _with_our_driver(make_url(host)).render_as_string(hide_password=False)
    if dialect == "sqlite":
        path = Path(str(store.get("db") or "rasa.db"))
        return f"sqlite:///{path if path.is_absolute() else REPO_ROOT / path}"
    port = store.get("port")
    url = URL.create(
        dialect,
        username=store.get("username") or None,
        password=store.get("password") or None,
        host=str(host) if host else None,
        port=int(port) if port not in (None, "") else None,
        database=store.get("db") or None,
        query=store.get("query") or {},
    )
    return _with_our_driver(url).render_as_string(hide_password=False)


def _with_our_driver(url: URL) -> URL:
    # Rasa's environment has psycopg2; ours has psycopg 3.
    return url.set(drivername="postgresql+psycopg") if url.get_backend_name() == "postgresql" else url


def tracker_store_url_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """The tracker store the servers use: the endpoints file named by ENDPOINTS (default endpoints.yml, in the
    checkout; throughcare/config.py) read with this environment, whose ${VARIABLES} it fills as Rasa does."""
    env = os.environ if env is None else env
    endpoints = Path(Settings.from_env(env).endpoints_file)
    return tracker_store_url(endpoints if endpoints.is_absolute() else REPO_ROOT / endpoints, env)


_events = Table(
    "events",
    MetaData(),
    Column("sender_id", String(255)),
    Column("timestamp", Float),
)


def purge_tracker_store(url: str, before: dt.datetime) -> Deleted:
    """Delete, in one transaction, every conversation whose latest event is older than `before`. A
    conversation still in use is kept whole, however old its first events."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        # Opening it would create it: a store that was never written to holds nothing to delete.
        return Deleted({"conversations": 0, "conversation events": 0})
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            if not inspect(connection).has_table("events"):
                return Deleted({"conversations": 0, "conversation events": 0})
            stale = (
                select(_events.c.sender_id)
                .group_by(_events.c.sender_id)
                .having(func.max(_events.c.timestamp) < _utc(before).timestamp())
            )
            conversations = connection.scalar(select(func.count()).select_from(stale.subquery()))
            events = connection.execute(delete(_events).where(_events.c.sender_id.in_(stale))).rowcount
        return Deleted({"conversations": conversations or 0, "conversation events": events})
    finally:
        engine.dispose()


def purge(db: Database, cutoffs: Cutoffs, tracker_url: str | None) -> Deleted:
    """Both stores, each in its own transaction: the case store first, then the tracker store if there is one."""
    deleted = purge_case_store(db, cutoffs)
    if tracker_url is None:
        return deleted
    return Deleted({**deleted.counts, **purge_tracker_store(tracker_url, cutoffs.conversations).counts})
