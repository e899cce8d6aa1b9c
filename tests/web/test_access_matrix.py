"""Every URL that names an object refuses staff of another jurisdiction, and every list keeps other
jurisdictions' cases out.

昆都仑区 (150203) owns a case with a ready and a done task, a document, an extension request, a
process version, a department transfer, a department, a user and that user's grant. 九原区's
all-rounder (150207, every role including 系统管理员 and 流程设计员) tries each URL in `FOREIGN_URLS`
with every method the rule allows: the answer must be 404 or 403, and the database must not
change. A new rule whose URL carries an argument fails `test_every_url_naming_an_object_is_probed`
until it is added to the table, so future pages get the same check.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import func, select

from engine import jurisdictions, people
from engine.actors import Actor
from engine.models import (
    Base, Case, CaseDocument, Department, DepartmentTransfer, ExtensionRequest, HumanTask, ProcessVersion, RoleGrant,
    User,
)
from engine import channels
from engine.models import ChannelNotification
from tests.engine.categories.test_labour import ANSWERS as LABOUR_ANSWERS
from tests.engine.categories.test_labour import ARREARS_ASSESS, INTAKE as LABOUR_INTAKE
from tests.web.conftest import ALL_ROLES, NEIGHBOUR_INTAKE, add_user
from web.extensions import db
from web.services import services

HOME, FOREIGN = "150207", "150203"
PROBER = "jiuyuan"
FOREIGN_TITLE, FOREIGN_USER, FOREIGN_DEPARTMENT = "昆都仑区专属纠纷", "昆都仑区受理员", "昆都仑区人社局"
FOREIGN_VERSION_REASON = "昆都仑区自定版本"
FOREIGN_CHANNEL = "昆都仑区网格通"
# URL arguments that name no object of a jurisdiction.
NOT_OBJECTS = {"filename", "package", "path"}  # /static/<path:filename>, /designer/vendor/<package>/<path:path>


@dataclass(frozen=True)
class Objects:
    """Ids of one jurisdiction's objects, as the URL table needs them."""

    case_id: int
    case_code: str
    task_id: str  # ready
    done_task_id: str
    doc_id: int
    request_id: int
    version_id: int
    transfer_id: int
    department_id: int
    username: str
    grant_id: int
    place: str
    channel_id: int = 0  # a channel with a token in `place`, and an undelivered result of the case
    token_id: int = 0
    notification_id: int = 0
    attachment_id: int = 0  # a photo of the case
    import_id: int = 0  # a 台账 import by the place's clerk
    draft_id: int = 0  # a process draft (流程草稿) of the place's neighbour category
    view_id: int = 0  # a 筛选视图 saved by the place's all-rounder, shared with its jurisdiction
    notice_id: int = 0  # a 日提醒 to the place's clerk (only its recipient may read or mark it)
    meeting_id: int = 0  # a 村周研判 meeting of the place, gathering the case


def _task(o: Objects) -> dict:
    return {"task_id": o.task_id}


def _case(o: Objects) -> dict:
    return {"case_id": o.case_id}


def _user(o: Objects) -> dict:
    return {"username": o.username}


# endpoint → the URL arguments naming 昆都仑区's object (extra keys become the query string).
TOKEN_API_PREFIX = "api_v1."
FOREIGN_URLS = {
    "cases.detail": _case,
    "tasks.task": _task,
    "clock.pause": _task,
    "clock.resume": _task,
    "clock.request_extension": _task,
    "clock.decide": lambda o: {"request_id": o.request_id},
    "documents.show": lambda o: {"case_id": o.case_id, "doc_id": o.doc_id},
    "documents.pdf": lambda o: {"case_id": o.case_id, "doc_id": o.doc_id},
    "task_actions.claim": _task,
    "task_actions.unclaim": _task,
    "task_actions.reassign": _task,
    "task_actions.delegate": _task,
    "versions.category": lambda o: {"category_code": "neighbour", "jurisdiction": o.place},
    "versions.roll_back": lambda o: {"version_id": o.version_id},
    "versions.migrate": _case,
    "levels.send_down": _case,
    "levels.report_up": _case,
    "levels.request_transfer": _case,
    "levels.decide": lambda o: {"transfer_id": o.transfer_id},
    "duplicates.link_case": _case,
    "org_admin.places.edit_place": lambda o: {"code": o.place},
    "org_admin.places.departments": lambda o: {"code": o.place},
    "org_admin.places.edit_department": lambda o: {"department_id": o.department_id},
    "org_admin.users.detail": _user,
    "org_admin.users.absence": _user,
    "org_admin.users.add_grant": _user,
    "org_admin.users.revoke_grant": lambda o: {"username": o.username, "grant_id": o.grant_id},
    "org_admin.users.reset_password": _user,
    "org_admin.users.unlock": _user,
    "org_admin.users.set_active": _user,
    "channels_admin.detail": lambda o: {"channel_id": o.channel_id},
    "channels_admin.callback": lambda o: {"channel_id": o.channel_id},
    "channels_admin.rotate_secret": lambda o: {"channel_id": o.channel_id},
    "channels_admin.issue_token": lambda o: {"channel_id": o.channel_id},
    "channels_admin.revoke_token": lambda o: {"channel_id": o.channel_id, "token_id": o.token_id},
    "channels_admin.retry": lambda o: {"notification_id": o.notification_id},
    "attachments.download": lambda o: {"case_id": o.case_id, "attachment_id": o.attachment_id},
    "dossier.export": _case,
    "attachments.upload": _case,
    "ledger_imports.show": lambda o: {"import_id": o.import_id},
    "ledger_imports.progress": lambda o: {"import_id": o.import_id},
    "designer.draft": lambda o: {"draft_id": o.draft_id},
    "designer.files": lambda o: {"draft_id": o.draft_id},
    "designer.save": lambda o: {"draft_id": o.draft_id},
    "designer.upload_file": lambda o: {"draft_id": o.draft_id},
    "designer.compare_view": lambda o: {"draft_id": o.draft_id},
    "designer.publish": lambda o: {"draft_id": o.draft_id},
    "designer_simulation.simulate_draft": lambda o: {"draft_id": o.draft_id},
    "designer_simulation.defaults": lambda o: {"draft_id": o.draft_id},
    "designer_forms.index": lambda o: {"draft_id": o.draft_id},
    "designer_forms.create": lambda o: {"draft_id": o.draft_id},
    "designer_forms.edit": lambda o: {"draft_id": o.draft_id, "name": "mediate"},
    "designer_forms.preview": lambda o: {"draft_id": o.draft_id},
    "designer_forms.save": lambda o: {"draft_id": o.draft_id, "name": "mediate"},
    "designer_forms.revert": lambda o: {"draft_id": o.draft_id, "name": "mediate"},
    "designer_review.review": lambda o: {"draft_id": o.draft_id},
    "designer_review.approve": lambda o: {"draft_id": o.draft_id},
    "designer_review.send_back": lambda o: {"draft_id": o.draft_id},
    "designer_review.discard": lambda o: {"draft_id": o.draft_id},
    "designer_review.restore": lambda o: {"version_id": o.version_id},
    "cockpit_performance.delete": lambda o: {"view_id": o.view_id},
    "cockpit_timers.letter": _task,
    "notices.mark_read": lambda o: {"notice_id": o.notice_id},
    "analysis_meetings.detail": lambda o: {"meeting_id": o.meeting_id},
    "analysis_meetings.complete": lambda o: {"meeting_id": o.meeting_id},
}
# Rules naming two objects: one of 九原区's own with one of 昆都仑区's must not pass either.
MIXED_URLS = {
    "documents.show": lambda own, o: {"case_id": own.case_id, "doc_id": o.doc_id},
    "documents.pdf": lambda own, o: {"case_id": own.case_id, "doc_id": o.doc_id},
    # Links 九原区's case to 昆都仑区's (probe_form names it in `earlier_code`).
    "duplicates.link_case": lambda own, o: {"case_id": own.case_id},
    "org_admin.users.revoke_grant": lambda own, o: {"username": own.username, "grant_id": o.grant_id},
    "channels_admin.revoke_token": lambda own, o: {"channel_id": own.channel_id, "token_id": o.token_id},
    "attachments.download": lambda own, o: {"case_id": own.case_id, "attachment_id": o.attachment_id},
}


def probe_form(o: Objects) -> dict:
    """Form fields that would make each POST succeed were it allowed: a refusal must come from access."""
    return {
        "accepted": "true", "risk_color": "红", "complexity": "simple", "assessment": "探测",
        "reason": "鉴定", "amount": "1 工作日", "decision": "approve", "note": "探测",
        "to_username": PROBER, "target": HOME, "department_id": str(o.department_id), "version_id": str(o.version_id),
        "display_name": "被篡改", "name": "被篡改", "jurisdiction_code": HOME, "role": "clerk",
        "password": "probe-password-1", "password2": "probe-password-1", "active": "0", "clear": "1",
        "absent_until": "2026-03-10T18:00", "code": "probe", "presence": "resident", "level": "county",
        "center_name": "被篡改", "phone": "13800000000", "backup_username": PROBER,
        "earlier_code": o.case_code, "kind": "supervision_letter",
    }


@pytest.fixture
def world(app, login, register, ready_task, tmp_path):
    """The tree 包头市 → 九原区, 昆都仑区; 九原区's prober; and 昆都仑区's objects listed above."""
    app.config["ATTACHMENTS_DIR"] = str(tmp_path / "attachments")
    with app.app_context():
        jurisdictions.save(db.session, "150200", "包头市", "city", None, "包头市综治中心")
        jurisdictions.save(db.session, HOME, "九原区", "county", "150200", "九原区综治中心")
        jurisdictions.save(db.session, FOREIGN, "昆都仑区", "county", "150200", "昆都仑区综治中心")
        add_user(PROBER, "九原区全能", ALL_ROLES + ["designer"], HOME)
        add_user("kdl_clerk", FOREIGN_USER, ["clerk"], FOREIGN)
        # 昆都仑区's all-rounder designs its processes too, so the control test reaches its draft.
        other = db.session.scalars(select(User).where(User.username == "other")).one()
        other.grants.append(RoleGrant(role="designer", jurisdiction_code=FOREIGN))
        people.save_department(db.session, FOREIGN, "rsj", FOREIGN_DEPARTMENT, "resident")
        people.save_department(db.session, HOME, "rsj", "九原区人社局", "resident")
        db.session.commit()
    foreign = _objects(app, login("other"), register, ready_task, FOREIGN, "kdl_clerk", FOREIGN_TITLE,
                       FOREIGN_VERSION_REASON)
    own = _objects(app, login("clerk"), register, ready_task, HOME, "clerk", "九原区的纠纷", "九原区自定版本")
    return own, foreign


def _objects(app, client, register, ready_task, place, username, title, version_reason) -> Objects:
    case_id = register(client, jurisdiction=place, title=title)
    done = ready_task(case_id, "accept")
    assert client.post(f"/tasks/{done}", data={"accepted": "true"}).status_code == 302
    # The step after acceptance: 分析研判 in the base; 昆都仑区 forwards first (窗口分流, its 六步法).
    task_id = ready_task(case_id, "window_dispatch" if place == "150203" else "assess")
    with app.app_context():
        session, now = db.session, services().clock.now()
        case_code = session.get(Case, case_id).code
        document = session.scalars(select(CaseDocument).where(CaseDocument.case_id == case_id)).first()
        request = ExtensionRequest(case_id=case_id, task_id=task_id, amount="1 工作日", reason="探测", state="pending",
                                   requested_by=username, requested_at=now)
        base = session.scalars(select(ProcessVersion).where(ProcessVersion.category_code == "neighbour",
                                                            ProcessVersion.jurisdiction_code == "")).first()
        # After any version the place already has (昆都仑区 publishes its own 六步法 from files).
        number = 1 + (session.scalar(select(func.max(ProcessVersion.number)).where(
            ProcessVersion.category_code == "neighbour", ProcessVersion.jurisdiction_code == place)) or 0)
        version = ProcessVersion(category_code="neighbour", jurisdiction_code=place, number=number, spec_hash=base.spec_hash,
                                 category_name=base.category_name, source="files", published_by=username,
                                 published_at=now, reason=version_reason, settings={})
        department = session.scalars(select(Department).where(Department.jurisdiction_code == place)).one()
        transfer = DepartmentTransfer(case_id=case_id, to_department_id=department.id, reason="探测", state="pending",
                                      time_limit="2 工作日", requested_by=username, requested_at=now,
                                      due_at=now + timedelta(days=2))
        session.add_all([request, version, transfer])
        session.commit()
        user = session.scalars(select(User).where(User.username == username)).one()
        return Objects(case_id, case_code, task_id, done, document.id, request.id, version.id, transfer.id,
                       department.id, username, user.grants[0].id, place,
                       *_channel_objects(session, case_id, username, place, now),
                       attachment_id=_attachment(session, case_id, username, now),
                       import_id=_ledger_import(session, case_id, case_code, username, place, now),
                       draft_id=_draft(session, place, now), view_id=_saved_view(session, place, now),
                       notice_id=_notice(session, case_id, case_code, task_id, username, place, now),
                       meeting_id=_meeting(session, case_id, place, now))


def _notice(session, case_id, case_code, task_id, username, place, now) -> int:
    """A 日提醒 to the place's all-rounder (the control test's owner) listing the case's ready task."""
    from engine.models import Notice

    row = Notice(recipient="other" if place == FOREIGN else PROBER, kind="daily_digest", jurisdiction_code=place, period=now.date().isoformat(),
                 title="日提醒：探测", items=[{"task_id": task_id, "case_id": case_id, "case_code": case_code,
                                              "node": "研判", "due_at": None, "state": "正常", "claimed_by": None}],
                 created_at=now)
    session.add(row)
    session.commit()
    return row.id


def _meeting(session, case_id, place, now) -> int:
    """An open 村周研判 of the place gathering the case (engine/analysis_meetings.py)."""
    from engine.models import AnalysisMeeting

    row = AnalysisMeeting(jurisdiction_code=place, level="county", every="week", period_start=now.date(),
                          title="研判会：探测", case_ids=[case_id], created_at=now, due_at=now, state="open")
    session.add(row)
    session.commit()
    return row.id


def _attachment(session, case_id, username, now) -> int:
    """A photo of the case, stored as the case page stores one."""
    from PIL import Image

    from web.attachments import attachment_store

    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(picture, "PNG")
    row = attachment_store().add(session, session.get(Case, case_id), "现场.png", picture.getvalue(), username, now)
    session.commit()
    return row.id


def _draft(session, place, now) -> int:
    """A draft of the neighbour category at `place`, opened by a designer of the place."""
    from engine.drafts import open_draft

    designer = Actor.of(f"designer-{place}", ["designer"], place)
    draft = open_draft(session, services().registry, "neighbour", place, designer, now)
    session.commit()
    return draft.id


def _saved_view(session, place, now) -> int:
    """A 筛选视图 of the cockpit shared with the whole jurisdiction, by the place's all-rounder."""
    from engine.saved_views import save_view

    owner = Actor.of("other" if place == FOREIGN else PROBER, ["manager"], place)
    view = save_view(session, owner, f"{place}本月", "jurisdiction", "cockpit", {"scope": place}, now)
    session.commit()
    return view.id


def _ledger_import(session, case_id, case_code, username, place, now) -> int:
    """A finished 台账 import by `username` at `place` that registered the case."""
    from engine.models import LedgerImport

    row = LedgerImport(filename=f"{place}台账.xlsx", jurisdiction_code=place, state="done", total=1, done=1,
                       report={"errors": [], "cases": [{"row": 2, "id": case_id, "code": case_code,
                                                        "category": "neighbour"}]},
                       created_by=username, created_at=now, finished_at=now)
    session.add(row)
    session.commit()
    return row.id


def _channel_objects(session, case_id, username, place, now) -> tuple[int, int, int]:
    """A 网格通 channel with a token in `place`, and a result of the case it has not acknowledged."""
    name = FOREIGN_CHANNEL if place == FOREIGN else "九原区网格通"
    channel = channels.create_channel(session, f"grid-{place}", name, "grid", username, now,
                                      "https://grid.example.cn/callback")
    token, _ = channels.issue_token(session, channel, place, username, now)
    notification = ChannelNotification(channel_id=channel.id, case_id=case_id, sequence=1, result="accepted",
                                       payload={"result": "accepted"}, state="pending", attempts=1,
                                       last_error="HTTP 503", next_attempt_at=now + timedelta(minutes=1),
                                       created_at=now)
    session.add(notification)
    session.commit()
    return channel.id, token.id, notification.id


def snapshot(app) -> dict:
    """Every row of every table: a refused request must leave all of them as they were."""
    with app.app_context():
        with db.engine.connect() as connection:
            return {table.name: connection.execute(select(table).order_by(*table.primary_key.columns)).all()
                    for table in Base.metadata.sorted_tables}


def urls(app, table: dict, *objects) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule in `table` and every method it allows."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint in table:
                url = url_for(rule.endpoint, **table[rule.endpoint](*objects))
                found += [(rule.endpoint, method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def request(client, method: str, url: str, form: dict):
    return client.get(url) if method == "GET" else client.open(url, method=method, data=form)


# -- the table covers every rule ----------------------------------------------------------------

def test_every_url_naming_an_object_is_probed(app):
    # The channel API authenticates tokens, not staff sessions; tests/web/test_api_v1.py holds its own
    # matrix (another channel's reference, another jurisdiction, a revoked token).
    rules = {rule.endpoint: set(rule.arguments) - NOT_OBJECTS for rule in app.url_map.iter_rules()
             if not rule.endpoint.startswith(TOKEN_API_PREFIX)}
    unprobed = sorted(endpoint for endpoint, arguments in rules.items() if arguments and endpoint not in FOREIGN_URLS)
    stale = sorted(set(FOREIGN_URLS) - set(rules))
    assert not unprobed, (f"add {unprobed} to FOREIGN_URLS in {__file__}: each URL naming an object must be "
                          "probed with another jurisdiction's object")
    assert not stale, f"{stale} no longer exist; remove them from FOREIGN_URLS"


# -- another jurisdiction's objects ----------------------------------------------------------------

def test_another_jurisdictions_objects_answer_404_or_403_to_every_method_and_stay_unchanged(app, world, login):
    own, foreign = world
    prober = login(PROBER)
    before = snapshot(app)

    answers = {(endpoint, method, url): request(prober, method, url, probe_form(foreign)).status_code
               for endpoint, method, url in urls(app, FOREIGN_URLS, foreign) + urls(app, MIXED_URLS, own, foreign)}

    allowed = {k: v for k, v in answers.items() if v not in (403, 404)}
    assert not allowed, f"another jurisdiction's objects reachable: {allowed}"
    assert snapshot(app) == before


def test_the_same_urls_reach_the_objects_for_their_own_jurisdiction(app, world, login):
    """The control: the table names objects that exist, so the refusals above are about access."""
    _, foreign = world
    owner = login("other")  # 昆都仑区, every role including 系统管理员
    for endpoint, method, url in urls(app, FOREIGN_URLS, foreign):
        if method == "GET":
            status = owner.get(url).status_code
            assert status == 200 or (endpoint == "documents.pdf" and status == 503), (endpoint, url, status)
    for endpoint, method, url in urls(app, FOREIGN_URLS, foreign):
        if method != "GET":
            status = request(owner, method, url, probe_form(foreign)).status_code
            assert status != 404, (endpoint, url)


# -- pages without an id --------------------------------------------------------------------------

def test_no_list_page_shows_another_jurisdictions_cases_people_or_departments(app, world, login):
    own, foreign = world
    prober = login(PROBER)
    secrets = [foreign.case_code, FOREIGN_TITLE, FOREIGN_USER, FOREIGN_DEPARTMENT, FOREIGN_VERSION_REASON,
               FOREIGN_CHANNEL]
    pages = [rule for rule in app.url_map.iter_rules() if not rule.arguments and "GET" in rule.methods]
    shown_own = False
    for rule in pages:
        response = prober.get(rule.rule, follow_redirects=True)
        if not (response.mimetype.startswith("text/") or response.mimetype.endswith("json")):
            continue  # a spreadsheet template or the like: no case data
        body = response.get_data(as_text=True)
        leaked = [secret for secret in secrets if secret in body]
        assert not leaked, f"{rule.rule} shows {leaked}"
        shown_own |= own.case_code in body
    assert shown_own, "the list pages should at least show 九原区's own case"


# -- the tree and departments decide what else is read -----------------------------------------------

def test_a_township_reads_its_villages_cases_but_a_village_not_its_townships(app, login, register, stored_case):
    with app.app_context():
        add_user("town", "沙河镇调解员", ["mediator"], "150207001")
        add_user("village", "新河村调解员", ["mediator"], "150207001001")
        db.session.commit()
    clerk = login("clerk")  # the county window registers for every place in 九原区
    cases = {place: register(clerk, jurisdiction=place, title=f"{place}的纠纷")
             for place in ("150207001", "150207001001", "150207002001")}
    codes = {place: stored_case(case_id).code for place, case_id in cases.items()}

    expected = {"town": {"150207001", "150207001001"}, "village": {"150207001001"}}
    for username, readable in expected.items():
        client = login(username)
        listing = client.get("/cases").get_data(as_text=True)
        for place, case_id in cases.items():
            status = client.get(f"/cases/{case_id}").status_code
            assert (status, codes[place] in listing) == ((200, True) if place in readable else (404, False)), \
                (username, place)


def test_a_department_liaison_reads_only_the_cases_dispatched_to_their_department(app, login, register):
    with app.app_context():
        jurisdictions.save(db.session, HOME, "九原区", "county", None, "九原区综治中心")
        mediation = people.save_department(db.session, HOME, "tj", "县（区）劳动人事争议调解中心", "resident")
        inspection = people.save_department(db.session, HOME, "jc", "劳动保障监察大队", "resident")
        db.session.flush()
        add_user("tj_liaison", "调解中心联络员", ["liaison"], HOME, department_id=mediation.id)
        add_user("jc_liaison", "监察大队联络员", ["liaison"], HOME, department_id=inspection.id)
        db.session.commit()
        labour_case = _labour_case_routed_to_the_mediation_centre()
    neighbour_case = register(login("clerk"))

    liaison = login("tj_liaison")
    listing = liaison.get("/cases").get_data(as_text=True)
    assert "某建筑公司拖欠工资" in listing and NEIGHBOUR_INTAKE["title"] not in listing
    assert liaison.get(f"/cases/{labour_case}").status_code == 200
    assert liaison.get(f"/cases/{neighbour_case}").status_code == 404
    assert "劳动监察受理" in liaison.get("/tasks").get_data(as_text=True)

    other = login("jc_liaison")
    assert "某建筑公司拖欠工资" not in other.get("/cases").get_data(as_text=True)
    assert other.get(f"/cases/{labour_case}").status_code == 404
    assert "劳动监察受理" not in other.get("/tasks").get_data(as_text=True)


def _labour_case_routed_to_the_mediation_centre() -> int:
    """A 欠薪 case through the engine: routing names 县（区）劳动人事争议调解中心, whose liaison gets 劳动监察受理."""
    runtime, staff = services().runtime, Actor.of("staff", ["clerk", "analyst", "director"], HOME)
    case = runtime.start_case(db.session, "labour", dict(LABOUR_INTAKE), HOME, staff)
    for element_id, answer in (("accept", LABOUR_ANSWERS["accept"]), ("assess", ARREARS_ASSESS),
                               ("dispatch", {"handling_level": "county", "department": "县（区）劳动人事争议调解中心"})):
        task = db.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "ready",
                                                          HumanTask.element_id == element_id)).one()
        runtime.complete_task(db.session, task.id, answer, staff)
    return case.id
