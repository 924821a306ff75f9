"""The dashboard's pages. `create_app` wires a database, the knowledge and the signing secret to them.

Every page but /login, /health and /static needs a live session on the server whose staff member is, at this
moment, an active manager or administrator; anyone else gets the same kind refusal and nothing more. Marking a
logged query is the only write to the records; every download is written to the audit trail first.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from plotly.offline import get_plotlyjs, get_plotlyjs_version

from dashboard import charts, labels, session
from dashboard.filters import (
    HALF_YEARS_OFFERED,
    Filters,
    filter_choices,
    link,
    read_half_year,
    read_mark,
    read_page,
    read_text,
)
from throughcare import clock
from throughcare.access import accounts as access
from throughcare.access.accounts import DASHBOARD_SESSION_SECONDS
from throughcare.cases import open_steps
from throughcare.cases.staff_members import StaffIdentity
from throughcare.db.engine import Database
from throughcare.errors import CaseError
from throughcare.knowledge.schema import Knowledge
from throughcare.reporting import reports, review
from throughcare.reporting.reports import Period, Report

HERE = Path(__file__).parent
PLOTLY_JS = f"/static/plotly-{get_plotlyjs_version()}.min.js"
PAGE_SIZE = 50
# Pages hold staff names and questions as staff typed them: nothing is cached or framed, no script comes
# from elsewhere. plotly.js styles its charts inline, hence 'unsafe-inline' for styles only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True)
class Context:
    db: Database
    knowledge: Knowledge
    secret: bytes
    today: Callable[[], dt.date]
    templates: Jinja2Templates
    plotly_js: bytes


@dataclass(frozen=True)
class Visitor:
    staff: StaffIdentity
    session_id: str
    form_token: str


class NotAllowed(Exception):
    """No valid session or link, or its staff member is no longer an active manager or administrator."""


class FormExpired(Exception):
    """A form came back without the token of the session it was sent in."""


def get_context(request: Request) -> Context:
    return request.app.state.context


Ctx = Annotated[Context, Depends(get_context)]


def current_visitor(request: Request, ctx: Context) -> Visitor | None:
    session_id = request.cookies.get(session.COOKIE, "")
    staff = access.dashboard_session_staff(ctx.db, session_id)
    return Visitor(staff, session_id, session.form_token(session_id, ctx.secret)) if staff else None


def get_visitor(request: Request, ctx: Ctx) -> Visitor:
    visitor = current_visitor(request, ctx)
    if visitor is None:
        raise NotAllowed
    return visitor


SignedIn = Annotated[Visitor, Depends(get_visitor)]


def check_form(who: Visitor, submitted: str) -> None:
    if not hmac.compare_digest(submitted.encode(), who.form_token.encode()):
        raise FormExpired


# Which reports there are, and what each one's figures depend on: the query-log filter, a half year, the team
# whose new starters to show, or only today.
Scope = Literal["queries", "half_year", "induction", "today"]
SCOPES: tuple[Scope, ...] = get_args(Scope)


@dataclass(frozen=True)
class Selection:
    filters: Filters
    half_year: Period
    induction_team: str | None
    today: dt.date

    @classmethod
    def read(cls, request: Request, today: dt.date) -> Selection:
        params = request.query_params
        team = read_text(params.get("induction_team"))
        return cls(Filters.read(params, today), read_half_year(params.get("half"), today), team, today)

    def parameters(self, scope: Scope) -> dict[str, str]:
        if scope == "queries":
            return self.filters.params()
        if scope == "half_year":
            return {"half": self.half_year.label}
        return {"induction_team": self.induction_team} if scope == "induction" and self.induction_team else {}

    def others(self, scope: Scope) -> dict[str, str]:
        """The choices of every other part of the page, for a form that changes one part to keep."""
        return {key: value for other in SCOPES if other != scope for key, value in self.parameters(other).items()}

    def file_label(self, scope: Scope) -> str:
        if scope == "queries":
            return self.filters.period.label
        return self.half_year.label if scope == "half_year" else self.today.isoformat()


ReportBuilder = Callable[[Context, Selection], Report]
REPORTS: dict[str, tuple[Scope, ReportBuilder]] = {
    "fallback": ("queries", lambda ctx, s: reports.fallback_rate(ctx.db, s.filters)),
    "topics": ("queries", lambda ctx, s: reports.queries_per_topic_per_week(ctx.db, s.filters)),
    "unanswered": ("queries", lambda ctx, s: reports.top_unanswered(ctx.db, s.filters)),
    "unsigned": ("queries", lambda ctx, s: reports.unsigned_queries(ctx.db, s.filters)),
    "overdue-workers": ("today", lambda ctx, s: reports.overdue_by_worker(ctx.db, s.today)),
    "overdue-stages": ("today", lambda ctx, s: reports.overdue_by_stage(ctx.db, s.today)),
    "caseload": ("today", lambda ctx, s: reports.caseload_by_stage_and_level(ctx.db)),
    "assessment-times": ("half_year", lambda ctx, s: reports.assessment_times(ctx.db, ctx.knowledge, s.half_year)),
    "mds": ("half_year", lambda ctx, s: reports.minimum_data_set(ctx.db, ctx.knowledge, s.half_year)),
    "induction": (
        "induction",
        lambda ctx, s: reports.induction_progress(ctx.db, ctx.knowledge, s.today, s.induction_team),
    ),
}


def render(
    ctx: Context, request: Request, name: str, values: dict[str, object], status_code: int = 200
) -> HTMLResponse:
    return ctx.templates.TemplateResponse(request, name, values, status_code=status_code)


def message(ctx: Context, request: Request, title: str, text: str, status_code: int) -> HTMLResponse:
    return render(ctx, request, "message.html", {"title": title, "text": text}, status_code)


def download(body: str, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


router = APIRouter()


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(PLOTLY_JS)
def plotly_js(ctx: Ctx) -> Response:
    # The file name carries the version, so browsers may keep it for good.
    return Response(
        ctx.plotly_js, media_type="text/javascript", headers={"Cache-Control": "public, max-age=31536000, immutable"}
    )


@router.get("/login")
def login(request: Request, ctx: Ctx, token: str = "", nonce: str = "") -> HTMLResponse:
    try:
        opened = access.open_dashboard_session(ctx.db, token, nonce, ctx.secret)
    except access.LinkAlreadyUsed as used:
        # The same person opening their link again, in the browser it signed in: nothing to refuse.
        visitor = current_visitor(request, ctx)
        if visitor is not None and visitor.staff.id == used.staff_id:
            return render(ctx, request, "signing_in.html", {"staff": visitor.staff})
        text = "This link has been used; each link signs you in once. Ask the assistant for a new one:"
        return render(ctx, request, "denied.html", {"heading": "This link has been used", "text": text}, 403)
    if opened is None:
        raise NotAllowed
    # A page that moves on by itself rather than a redirect: after a redirect, a browser that came from
    # another site (Telegram on the web) withholds a SameSite=Strict cookie from the next page.
    response = render(ctx, request, "signing_in.html", {"staff": opened.staff})
    response.set_cookie(
        session.COOKIE,
        opened.session_id,
        max_age=DASHBOARD_SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request, ctx: Ctx, who: SignedIn, form_token: Annotated[str, Form()] = "") -> HTMLResponse:
    check_form(who, form_token)
    access.end_dashboard_session(ctx.db, who.session_id)
    response = message(ctx, request, "You have signed out", "To come back, ask the assistant for a new link.", 200)
    response.delete_cookie(session.COOKIE, httponly=True, samesite="strict")
    return response


@router.get("/")
def overview(request: Request, ctx: Ctx, who: SignedIn) -> HTMLResponse:
    selection = Selection.read(request, ctx.today())
    filters = selection.filters
    built = {name: build(ctx, selection) for name, (_scope, build) in REPORTS.items()}
    topic_label = functools.partial(labels.topic_label, ctx.knowledge)

    def fell_back_in(week: dt.date) -> str:
        return link("/queries", replace(filters.week(week), fell_back=True).params())

    def unsigned_in(week: dt.date) -> str:
        return link("/queries", replace(filters.week(week), signed=False).params())

    def topic_in(week: dt.date, topic: str) -> str:
        return link("/queries", replace(filters.week(week), topic=topic).params())

    drawn = {
        "fallback": charts.fallback_figure(built["fallback"], fell_back_in),
        "topics": charts.topics_figure(built["topics"], topic_label, topic_in),
        "overdue-workers": charts.overdue_figure(built["overdue-workers"]),
        "caseload": charts.caseload_figure(
            built["caseload"], labels.stage_label, functools.partial(labels.care_level_label, ctx.knowledge)
        ),
    }
    topic_totals = [
        (topic_label(topic), count, link("/queries", replace(filters, topic=topic).params()))
        if topic is not None
        else ("Other topics", count, None)
        for topic, count in charts.topic_totals(built["topics"])
    ]
    return render(
        ctx,
        request,
        "overview.html",
        {
            "who": who,
            "page": "overview",
            "selection": selection,
            "filters": filters,
            "choices": filter_choices(ctx.db, ctx.knowledge),
            "half_years": [
                (half.label, labels.half_year_words(half))
                for half in Period.half_years_to(selection.today, HALF_YEARS_OFFERED)
            ],
            "reports": built,
            # The overdue figures count the open steps as last worked out, which may be before today.
            "steps_computed_on": open_steps.open_steps_computed_on(ctx.db),
            "charts": drawn,
            "topic_totals": topic_totals,
            "fell_back_in": fell_back_in,
            "unsigned_in": unsigned_in,
            "csv": {
                name: link(f"/reports/{name}.csv", selection.parameters(scope)) for name, (scope, _b) in REPORTS.items()
            },
            "unanswered_link": link("/queries", replace(filters, fell_back=True).params()),
        },
    )


@router.get("/queries")
def queries(request: Request, ctx: Ctx, who: SignedIn) -> HTMLResponse:
    filters = Filters.read(request.query_params, ctx.today())
    mark = read_mark(request.query_params.get("mark"))
    page = read_page(request.query_params.get("page"))
    rows, total = review.logged_queries(ctx.db, filters, mark, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    params = {**filters.params(), **({"mark": mark.value} if mark else {})}
    last_page = max(1, -(-total // PAGE_SIZE))
    return render(
        ctx,
        request,
        "queries.html",
        {
            "who": who,
            "page": "queries",
            "filters": filters,
            "mark": mark,
            "choices": filter_choices(ctx.db, ctx.knowledge),
            "rows": rows,
            "total": total,
            "first": (page - 1) * PAGE_SIZE + 1,
            "here": link("/queries", {**params, "page": str(page)}),
            "previous": link("/queries", {**params, "page": str(page - 1)}) if page > 1 else None,
            "next": link("/queries", {**params, "page": str(page + 1)}) if page < last_page else None,
            "mark_words": review.MARK_WORDS,
            "mark_options": [(value.value, words.capitalize()) for value, words in review.MARK_WORDS.items()],
        },
    )


@router.post("/queries/{query_id}/mark")
def mark_query(
    request: Request,
    ctx: Ctx,
    who: SignedIn,
    query_id: int,
    mark: Annotated[str, Form()],
    form_token: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/queries",
) -> Response:
    check_form(who, form_token)
    chosen = read_mark(mark)
    if chosen is None:
        return message(
            ctx, request, "Choose a mark", "Mark a question as answered well, wrong or a knowledge gap.", 400
        )
    try:
        review.mark_query(ctx.db, query_id, chosen, comment, who.staff.id)
    except CaseError as err:
        return message(ctx, request, "No such question", str(err), 404)
    # Back to the same list and row; only ever to the review list, so the form cannot send anyone elsewhere.
    target = back.split("#")[0] if back.startswith("/queries") else "/queries"
    return RedirectResponse(f"{target}#q{query_id}", status_code=303)


@router.get("/gaps")
def gaps(request: Request, ctx: Ctx, who: SignedIn) -> HTMLResponse:
    return render(ctx, request, "gaps.html", {"who": who, "page": "gaps", "gaps": review.knowledge_gaps(ctx.db)})


@router.get("/gaps/nlu.yml")
def gaps_nlu(ctx: Ctx, who: SignedIn) -> Response:
    gaps = review.knowledge_gaps(ctx.db)
    review.record_export(ctx.db, who.staff.id, "knowledge-gaps.nlu.yml", {"gaps": len(gaps)})
    return download(review.gaps_as_nlu(gaps), "application/yaml", f"knowledge-gaps-{ctx.today()}.nlu.yml")


@router.get("/reports/{name}.csv")
def report_csv(name: str, request: Request, ctx: Ctx, who: SignedIn) -> Response:
    if name not in REPORTS:
        return message(ctx, request, "No such report", f"There is no report called '{name}'.", 404)
    scope, build = REPORTS[name]
    selection = Selection.read(request, ctx.today())
    report = build(ctx, selection)
    review.record_export(
        ctx.db,
        who.staff.id,
        f"{name}.csv",
        {"report": name, "parameters": selection.parameters(scope), "on": selection.today.isoformat()},
    )
    # The byte-order mark tells Excel the file is UTF-8, so dashes and "§" survive.
    return download("\ufeff" + report.csv(), "text/csv; charset=utf-8", f"{name}-{selection.file_label(scope)}.csv")


def _templates(knowledge: Knowledge) -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(
        day=labels.day,
        moment=labels.moment,
        topic_label=functools.partial(labels.topic_label, knowledge),
        intent_label=labels.intent_label,
        stage_label=labels.stage_label,
        care_level_label=functools.partial(labels.care_level_label, knowledge),
        without_initials=labels.without_initials,
        half_year_words=labels.half_year_words,
        plotly_js=PLOTLY_JS,
    )
    return templates


def create_app(
    db: Database, knowledge: Knowledge, secret: bytes, today: Callable[[], dt.date] = clock.today
) -> FastAPI:
    app = FastAPI(title="Throughcare dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.context = Context(db, knowledge, secret, today, _templates(knowledge), get_plotlyjs().encode())
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(NotAllowed)
    def not_allowed(request: Request, _error: NotAllowed) -> HTMLResponse:
        return render(app.state.context, request, "denied.html", {}, 403)

    @app.exception_handler(FormExpired)
    def form_expired(request: Request, _error: FormExpired) -> HTMLResponse:
        text = "Nothing was changed. Go back, reload the page and try again."
        return message(app.state.context, request, "This form has expired", text, 403)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    return app
