"""认领, 退回队列, 改派 and 交B岗办理 through the pages: each user sees exactly the buttons the task state
machine allows them, and each POST does what it says or is refused with the right status."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from engine.assignment import Assignments
from engine.models import HumanTask, User
from engine.people import actor_for
from tests.web.conftest import add_user
from web.extensions import db
from web.services import services

# Who looks at 调处 (offered to 九原区's mediators): the one who claims it, a colleague, the
# center's director, and 昆都仑区's all-rounder.
CLAIMANT, COLLEAGUE, DIRECTOR, OUTSIDER = "mediator", "mediator2", "director", "other"


@pytest.fixture
def team(app):
    """A second mediator of 九原区, named as the first one's backup (AB岗)."""
    with app.app_context():
        add_user(COLLEAGUE, "钱调解", ["mediator"], "150207")
        db.session.flush()
        db.session.scalars(select(User).where(User.username == CLAIMANT)).one().backup_username = COLLEAGUE
        db.session.commit()
    return app


@pytest.fixture
def mediation(team, login, register, ready_task):
    """to_mediation() → id of a new case's 调处 task, reached through the pages."""

    def _to_mediation(title: str = "楼上漏水纠纷") -> str:
        case_id = register(login("clerk"), title=title)
        for username, element_id, fields in [
            ("clerk", "accept", {"accepted": "true"}),
            ("analyst", "assess", {"risk_color": "黄", "complexity": "simple", "assessment": "可调处"}),
            ("director", "dispatch", {"handling_level": "village", "department": "村人民调解委员会"}),
        ]:
            assert login(username).post(f"/tasks/{ready_task(case_id, element_id)}", data=fields).status_code == 302
        return ready_task(case_id, "mediate")

    return _to_mediation


@pytest.fixture
def task_state(db_read):
    return lambda task_id: db_read(lambda s: _state(s.get(HumanTask, task_id)))


def _state(row: HumanTask) -> tuple:
    return row.state, row.claimed_by, row.delegated_from


def shown(client, task_id: str) -> set[str]:
    """The actions the task page offers: its buttons and, for "complete", the form."""
    return set(re.findall(r'data-action="(\w+)"', client.get(f"/tasks/{task_id}").get_data(as_text=True)))


def engine_actions(app, username: str, task_id: str) -> set[str]:
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == username)).one()
        actor = actor_for(db.session, user, services().clock.now())
        return set(services().assignments.actions_for(db.session, db.session.get(HumanTask, task_id), actor))


# -- what each user is shown -------------------------------------------------------------------

def test_each_user_is_shown_exactly_the_actions_the_state_machine_allows(app, mediation, login):
    task_id = mediation()
    expected_offered = {CLAIMANT: {"complete", "claim"}, COLLEAGUE: {"complete", "claim"}, DIRECTOR: {"reassign"}}
    for username, actions in expected_offered.items():
        assert shown(login(username), task_id) == actions == engine_actions(app, username, task_id), username

    assert login(CLAIMANT).post(f"/tasks/{task_id}/claim").status_code == 303

    expected_claimed = {CLAIMANT: {"complete", "unclaim", "delegate"}, COLLEAGUE: set(),
                        DIRECTOR: {"reassign", "unclaim"}}
    for username, actions in expected_claimed.items():
        assert shown(login(username), task_id) == actions == engine_actions(app, username, task_id), username
    assert login(OUTSIDER).get(f"/tasks/{task_id}").status_code == 404


def test_the_task_page_says_who_claimed_it_and_why_a_colleague_cannot_act(mediation, login):
    task_id = mediation()
    login(CLAIMANT).post(f"/tasks/{task_id}/claim")

    page = login(COLLEAGUE).get(f"/tasks/{task_id}").get_data(as_text=True)

    assert "认领人" in page and "张调解（2026-03-02 09:00 认领）" in page
    assert "此任务已由张调解认领办理" in page and 'name="mediation_outcome"' not in page


def test_the_director_reassigns_from_a_list_of_who_may_take_the_task(mediation, login, task_state):
    task_id = mediation()
    director = login(DIRECTOR)
    page = director.get(f"/tasks/{task_id}").get_data(as_text=True)
    options = re.findall(r'<option value="(\w+)">', page[page.index('name="to_username"'):])
    assert options == [CLAIMANT, COLLEAGUE]  # 九原区's mediators, by username

    response = director.post(f"/tasks/{task_id}/reassign", data={"to_username": COLLEAGUE, "reason": "张调解出差"},
                             follow_redirects=True)

    assert "已改派给钱调解：调处" in response.get_data(as_text=True)
    assert task_state(task_id) == ("ready", COLLEAGUE, None)
    assert shown(login(COLLEAGUE), task_id) == {"complete", "unclaim"}  # no backup of their own


# -- each POST ----------------------------------------------------------------------------------

def test_claiming_and_returning_a_task(mediation, login, task_state):
    task_id = mediation()
    claimant = login(CLAIMANT)

    response = claimant.post(f"/tasks/{task_id}/claim")
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{task_id}"
    assert task_state(task_id) == ("ready", CLAIMANT, None)

    colleague = login(COLLEAGUE)
    assert colleague.post(f"/tasks/{task_id}/claim").status_code == 403
    assert colleague.post(f"/tasks/{task_id}/unclaim").status_code == 403
    assert task_state(task_id) == ("ready", CLAIMANT, None)

    response = claimant.post(f"/tasks/{task_id}/unclaim", follow_redirects=True)
    assert "已退回队列：调处" in response.get_data(as_text=True)
    assert task_state(task_id) == ("ready", None, None)


def test_claiming_from_the_inbox_returns_to_the_inbox(mediation, login, task_state):
    task_id = mediation()

    response = login(CLAIMANT).post(f"/tasks/{task_id}/claim", data={"back": "inbox", "view": "open"})

    assert response.status_code == 303 and response.headers["Location"] == "/tasks?view=open"
    assert task_state(task_id) == ("ready", CLAIMANT, None)


def test_the_form_is_refused_to_anyone_but_the_claimant(mediation, login, task_state):
    task_id = mediation()
    login(CLAIMANT).post(f"/tasks/{task_id}/claim")
    outcome = {"mediation_outcome": "success", "mediation_record": "双方和解。"}

    assert login(COLLEAGUE).post(f"/tasks/{task_id}", data=outcome).status_code == 403
    assert login(DIRECTOR).post(f"/tasks/{task_id}", data=outcome).status_code == 403
    assert task_state(task_id) == ("ready", CLAIMANT, None)
    assert login(CLAIMANT).post(f"/tasks/{task_id}", data=outcome).status_code == 302
    assert task_state(task_id)[0] == "completed"


def test_only_a_supervisor_reassigns_and_only_to_someone_who_may_take_the_task(mediation, login, task_state):
    task_id = mediation()

    assert login(CLAIMANT).post(f"/tasks/{task_id}/reassign", data={"to_username": COLLEAGUE}).status_code == 403
    response = login(DIRECTOR).post(f"/tasks/{task_id}/reassign", data={"to_username": "analyst"})

    assert response.status_code == 422
    assert "所选人员不能办理此任务" in response.get_data(as_text=True)
    assert task_state(task_id) == ("ready", None, None)


def test_the_claimant_hands_the_task_to_their_backup(mediation, login, task_state):
    task_id = mediation()
    claimant = login(CLAIMANT)
    claimant.post(f"/tasks/{task_id}/claim")

    response = claimant.post(f"/tasks/{task_id}/delegate", follow_redirects=True)

    assert "已交B岗钱调解办理：调处" in response.get_data(as_text=True)
    assert task_state(task_id) == ("ready", COLLEAGUE, CLAIMANT)
    page = login(COLLEAGUE).get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "转交自" in page and "张调解（AB岗转交）" in page
    assert login(COLLEAGUE).post(f"/tasks/{task_id}/delegate").status_code == 403  # no backup named


def test_someone_without_a_backup_or_a_claim_cannot_delegate(mediation, login, task_state):
    task_id = mediation()
    assert login(CLAIMANT).post(f"/tasks/{task_id}/delegate").status_code == 403  # not claimed yet
    assert task_state(task_id) == ("ready", None, None)


def test_a_claim_lost_to_a_colleague_at_the_same_moment_is_a_conflict(mediation, login, task_state, monkeypatch):
    task_id = mediation()
    read = Assignments._ready

    def colleague_claims_in_between(self, session, task_id, actor):
        row = read(self, session, task_id, actor)  # the task is still offered when we look ...
        with db.engine.begin() as connection:  # ... and someone else's request claims it before we write
            connection.execute(update(HumanTask).where(HumanTask.id == task_id).values(claimed_by=COLLEAGUE))
        return row

    monkeypatch.setattr(Assignments, "_ready", colleague_claims_in_between)
    response = login(CLAIMANT).post(f"/tasks/{task_id}/claim")

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "该任务刚刚已被他人认领" in page and "钱调解" in page  # the page as it now stands
    assert task_state(task_id) == ("ready", COLLEAGUE, None)


def test_acting_on_a_finished_task_is_a_conflict(mediation, login):
    task_id = mediation()
    claimant = login(CLAIMANT)
    claimant.post(f"/tasks/{task_id}", data={"mediation_outcome": "success", "mediation_record": "和解。"})

    response = claimant.post(f"/tasks/{task_id}/claim")

    assert response.status_code == 409
    assert "该任务刚刚已被他人认领、改派或办理" in response.get_data(as_text=True)


def test_another_countys_staff_find_no_such_task(mediation, login, task_state):
    task_id = mediation()
    login(CLAIMANT).post(f"/tasks/{task_id}/claim")
    outsider = login(OUTSIDER)

    for action in ("claim", "unclaim", "reassign", "delegate"):
        assert outsider.post(f"/tasks/{task_id}/{action}", data={"to_username": "other"}).status_code == 404, action
    assert task_state(task_id) == ("ready", CLAIMANT, None)


def test_the_transitions_need_the_pages_csrf_token(csrf_app, password):
    client = csrf_app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "clerk", "password": password, "csrf_token": token})
    page = client.get("/cases/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/cases/new", data={"csrf_token": token, "_category": "neighbour", "_jurisdiction": "150207",
                                               "title": "占道堆物", "summary": "楼道堆放杂物。", "channel": "grid",
                                               "applicant_name": "周玉梅", "applicant_phone": "13700001111"})
    case_page = client.get(response.headers["Location"]).get_data(as_text=True)
    task_id = re.search(r'href="/tasks/([0-9a-f-]+)"', case_page).group(1)

    assert client.post(f"/tasks/{task_id}/claim").status_code == 400
    assert client.post(f"/tasks/{task_id}/claim", data={"csrf_token": token}).status_code == 303


# -- the inbox and AB岗 ----------------------------------------------------------------------------

def test_the_inbox_shows_queue_and_claimant_and_filters_mine_open_and_standing_in(app, mediation, login, clock):
    with app.app_context():
        add_user("mediator3", "孙调解", ["mediator"], "150207").backup_username = CLAIMANT
        db.session.commit()
    mine, offered, theirs = mediation("张调解认领的纠纷"), mediation("待认领的纠纷"), mediation("孙调解认领的纠纷")
    login(CLAIMANT).post(f"/tasks/{mine}/claim")
    login("mediator3").post(f"/tasks/{theirs}/claim")
    claimant = login(CLAIMANT)
    assert "孙调解认领的纠纷" not in claimant.get("/tasks").get_data(as_text=True)

    away = login("mediator3")
    until = (clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert away.post("/me/absence", data={"action": "away", "absent_until": until}).status_code == 303

    def titles(view: str) -> set[str]:
        html = claimant.get(f"/tasks?view={view}").get_data(as_text=True)
        return set(re.findall(r"<td>([^<]*的纠纷)</td>", html))

    assert titles("all") == {"张调解认领的纠纷", "待认领的纠纷", "孙调解认领的纠纷"}
    assert titles("mine") == {"张调解认领的纠纷"}
    assert titles("open") == {"待认领的纠纷"}
    assert titles("standin") == {"孙调解认领的纠纷"}
    html = claimant.get("/tasks").get_data(as_text=True)
    assert "办理队列" in html and "认领人" in html and "待认领" in html and "孙调解 <span class=\"badge\">AB岗代班</span>" in html
    assert "代班（AB岗） 1" in html and "我认领的 1" in html
    assert f'action="/tasks/{offered}/claim"' in html and f'action="/tasks/{mine}/claim"' not in html


def test_the_backup_of_someone_away_is_told_so_and_completes_the_task_for_them(app, mediation, login, clock,
                                                                               task_state, db_read):
    task_id = mediation()
    login(COLLEAGUE).post(f"/tasks/{task_id}/claim")
    with app.app_context():  # 钱调解 names 张调解 as backup and goes away
        colleague = db.session.scalars(select(User).where(User.username == COLLEAGUE)).one()
        colleague.backup_username = CLAIMANT
        colleague.absent_until = clock.now() + timedelta(days=1)
        db.session.commit()
    claimant = login(CLAIMANT)

    page = claimant.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "钱调解请假/外出至 2026-03-03 09:00，您是其AB岗（B岗），可代为办理" in page
    assert shown(claimant, task_id) == {"complete"}

    response = claimant.post(f"/tasks/{task_id}", data={"mediation_outcome": "success", "mediation_record": "和解。"})
    assert response.status_code == 302
    case_page = claimant.get(response.headers["Location"]).get_data(as_text=True)
    assert "AB岗：代 mediator2 办理" in case_page


def test_the_case_page_links_each_task_the_user_may_act_on(mediation, login, db_read):
    task_id = mediation()
    case_id = db_read(lambda s: s.get(HumanTask, task_id).case_id)

    def link_label(username: str) -> str | None:
        html = login(username).get(f"/cases/{case_id}").get_data(as_text=True)
        match = re.search(rf'href="/tasks/{task_id}">(\w+)</a>', html)
        return match.group(1) if match else None

    assert (link_label(CLAIMANT), link_label(DIRECTOR), link_label("analyst")) == ("办理", "改派", None)
    login(CLAIMANT).post(f"/tasks/{task_id}/claim")
    assert (link_label(CLAIMANT), link_label(COLLEAGUE)) == ("办理", None)
    assert "张调解（已认领）" in login(DIRECTOR).get(f"/cases/{case_id}").get_data(as_text=True)
