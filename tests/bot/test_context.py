"""Handlers and jobs reach what they share through a typed context, `context.gateway`, built in bot/app.py."""

from __future__ import annotations

import ast

from bot.app import build_application
from bot.gateway import GatewayApplication, GatewayContext
from tests.bot.conftest import Harness
from throughcare.config import REPO_ROOT


def test_every_context_carries_the_one_gateway_the_application_was_built_with(harness: Harness) -> None:
    application = build_application(harness.settings, harness.db, harness.knowledge, harness.clock)
    assert isinstance(application, GatewayApplication)
    assert application.context_types.context is GatewayContext
    context = GatewayContext(application)
    assert context.gateway is application.gateway
    assert (context.gateway.settings, context.gateway.db, context.gateway.clock) == (
        harness.settings,
        harness.db,
        harness.clock,
    )
    # Nothing is looked up by name in bot_data.
    assert application.bot_data == {}


def _gateway_modules() -> list[tuple[str, ast.Module]]:
    return [(str(p.relative_to(REPO_ROOT)), ast.parse(p.read_text())) for p in sorted((REPO_ROOT / "bot").glob("*.py"))]


def test_no_module_reads_bot_data_or_wraps_asyncio_to_thread() -> None:
    found = []
    for name, module in _gateway_modules():
        for node in ast.walk(module):
            if isinstance(node, ast.Attribute) and node.attr == "bot_data":
                found.append(f"{name}:{node.lineno} reads bot_data")
            if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and any(
                isinstance(call, ast.Attribute) and call.attr == "to_thread"
                for statement in node.body
                if isinstance(statement, ast.Return)
                for call in ast.walk(statement)
            ):
                found.append(f"{name}:{node.lineno} wraps asyncio.to_thread")
    assert found == []
