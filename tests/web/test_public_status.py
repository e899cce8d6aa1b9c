"""办理进度查询: a citizen follows the case by the code on the 受理告知单 and the last four digits of the
phone given at registration — no staff login, nothing of other parties or of the center's internals,
guessing held back by rate limits, and the 回访 satisfaction feedback given from the same page."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import segno

from engine.models import CaseDocument, CaseEvent, HumanTask, Jurisdiction
from engine.case_progress import Feedback
from web import public_status
from web.extensions import db, limiter
from web.public_status import LOOKUP_FAILED, TOO_MANY

from tests.web.conftest import APPLICANT_ID_NUMBER, NEIGHBOUR_INTAKE

CENTER = "九原区社会治理综合服务中心"
RIGHT_DIGITS = "8000"  # the applicant's phone 13800138000
# A second, unrelated dispute (different people, so registration does not flag a duplicate).
OTHER_PEOPLE = {"applicant_name": "王秀英", "applicant_id_number": "150207197003034321",
                "applicant_phone": "13700137000", "respondent_name": "赵大勇", "respondent_phone": "13600136000"}
OTHER_DIGITS = "7000"
INTERNAL = [  # what the center knows and the public page must never show
    NEIGHBOUR_INTAKE["respondent_name"], NEIGHBOUR_INTAKE["respondent_phone"], "139****5678",
    APPLICANT_ID_NUMBER, "150207********1234", NEIGHBOUR_INTAKE["applicant_phone"],
    "黄",  # the risk colour given at 分析研判
    "邻里之间损失不大",  # the analyst's opinion
    "王受理", "李研判", "赵主任", "张调解",  # staff
    "受理告知单", "受00001",  # documents
    "我的待办", "登记纠纷",  # the staff navigation
]


@pytest.fixture
def center(app):
    """九原区 has its 综治中心 named, so the page can say who handles the case."""
    with app.app_context():
        db.session.add(Jurisdiction(code="150207", name="九原区", level="county", center_name=CENTER))
        db.session.commit()


@pytest.fixture
def citizen(app):
    """citizen(ip) → a browser of someone with no staff account, at that address."""

    def _browser(ip: str = "203.0.113.7"):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = ip
        return client

    return _browser


@pytest.fixture
def walk(login, ready_task, success_path, clock):
    """walk(case_id, up_to) → the case handled by staff along the success path until `up_to` is ready."""

    def _walk(case_id: int, up_to: str) -> None:
        for username, element_id, fields in success_path:
            if element_id == up_to:
                return
            response = login(username).post(f"/tasks/{ready_task(case_id, element_id)}", data=fields)
            assert response.status_code == 302, response.get_data(as_text=True)
            clock.advance(timedelta(hours=2))
        raise AssertionError(f"{up_to} is not on the success path")

    return _walk


@pytest.fixture
def new_case(login, register, stored_case):
    """new_case() → (case id, case code) of a freshly registered neighbour dispute."""

    def _new(**changes) -> tuple[int, str]:
        case_id = register(login("clerk"), **changes)
        return case_id, stored_case(case_id).code

    return _new


def look_up(client, code: str, digits: str):
    return client.post("/status", data={"code": code, "phone_last4": digits})


def without_token(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


# -- the QR code on the 受理告知单 ----------------------------------------------------------------

def svg_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules (column, row, counted from the SVG's edge) a segno path draws: `M x y` and
    `m dx dy` move the pen, `h n` paints n modules of row floor(y)."""
    path = re.search(r'<path[^>]* d="([^"]+)"', svg).group(1)
    x = y = 0.0
    dark = set()
    for command, args in re.findall(r"([MmHh])([^MmHh]*)", path):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            length = int(numbers[0])
            dark.update((int(x) + i, int(y)) for i in range(length))
            x += length
    return dark


def qr_modules(text: str, border: int = 4) -> set[tuple[int, int]]:
    matrix = segno.make(text, error="m", micro=False).matrix
    return {(col + border, row + border) for row, line in enumerate(matrix) for col, bit in enumerate(line) if bit}


def acceptance_notice(app, case_id: int) -> str:
    with app.app_context():
        return db.session.query(CaseDocument).filter_by(case_id=case_id, doc_type="acceptance_notice").one().html


def test_the_acceptance_notice_carries_a_qr_code_of_the_status_page_with_the_case_code(
        app, new_case, walk, login, ready_task):
    app.config["PUBLIC_BASE_URL"] = "https://fengqiao.baotou.gov.cn/"
    case_id, code = new_case()
    login("clerk").post(f"/tasks/{ready_task(case_id, 'accept')}", data={"accepted": "true"})

    html = acceptance_notice(app, case_id)

    url = f"https://fengqiao.baotou.gov.cn/status?code={code}"
    assert f"扫码或访问 {url}，输入案件编号及登记手机号后四位查询办理进度" in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # inline, nothing fetched
    assert svg_modules(svg) == qr_modules(url)
    assert svg_modules(svg) != qr_modules(f"https://fengqiao.baotou.gov.cn/status?code={code}X")


def test_without_a_configured_address_the_qr_code_points_at_the_host_the_clerk_used(
        app, new_case, ready_task, password):
    case_id, code = new_case()
    clerk = app.test_client()
    host = "http://10.1.2.3:8000"
    clerk.post("/login", data={"username": "clerk", "password": password}, base_url=host)
    clerk.post(f"/tasks/{ready_task(case_id, 'accept')}", data={"accepted": "true"}, base_url=host)

    html = acceptance_notice(app, case_id)

    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert svg_modules(svg) == qr_modules(f"http://10.1.2.3:8000/status?code={code}")


# -- looking a case up ---------------------------------------------------------------------------

def test_the_right_code_and_digits_show_the_progress_in_plain_words_and_nothing_internal(
        center, new_case, walk, citizen):
    case_id, code = new_case()
    walk(case_id, up_to="mediate")  # accepted, assessed (risk 黄), dispatched to the village committee
    browser = citizen()

    response = look_up(browser, code, RIGHT_DIGITS)

    assert response.status_code == 302 and response.headers["Location"] == "/status"
    page = browser.get("/status")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    assert code in html and "已分流，正在办理" in html
    assert CENTER in html and "村人民调解委员会" in html
    assert "当前环节预计于" in html  # the 调处 step's due date
    for milestone in ("已登记", "已受理", "已分流，交村人民调解委员会办理"):
        assert milestone in html
    leaked = [text for text in INTERNAL if text in html]
    assert not leaked, leaked
    assert "退出查询" in html


def test_a_wrong_code_and_wrong_digits_get_the_same_answer(new_case, citizen, db_read):
    _, code = new_case()
    wrong_code = code[:-1] + ("9" if code[-1] != "9" else "8")
    browser = citizen()

    wrong_digits = look_up(browser, code, "1234")
    no_such_code = look_up(browser, wrong_code, RIGHT_DIGITS)
    not_digits = look_up(browser, code, "80a0")

    for response in (wrong_digits, no_such_code, not_digits):
        assert response.status_code == 200
        assert LOOKUP_FAILED in response.get_data(as_text=True)
    assert without_token(wrong_digits.get_data(as_text=True)) == \
        without_token(no_such_code.get_data(as_text=True)).replace(wrong_code, code)
    assert "退出查询" not in browser.get("/status").get_data(as_text=True)  # nothing was verified


def test_full_width_digits_from_a_chinese_keyboard_are_accepted(new_case, citizen):
    _, code = new_case()
    assert look_up(citizen(), f" {code} ", "８０００").status_code == 302


def test_the_code_from_the_qr_link_is_filled_in(citizen):
    html = citizen().get("/status?code=150207-2026-000001").get_data(as_text=True)
    assert 'name="code" value="150207-2026-000001"' in html and "手机号后四位" in html


def test_a_verified_lookup_is_remembered_for_thirty_minutes_and_forgotten_on_leaving(new_case, citizen, clock):
    _, code = new_case()
    browser = citizen()
    look_up(browser, code, RIGHT_DIGITS)

    clock.advance(timedelta(minutes=29))
    assert "已收到，等待受理审查" in browser.get("/status").get_data(as_text=True)
    clock.advance(timedelta(minutes=2))
    assert "已收到，等待受理审查" not in browser.get("/status").get_data(as_text=True)

    look_up(browser, code, RIGHT_DIGITS)
    assert browser.get("/status/exit").status_code == 302
    html = browser.get("/status").get_data(as_text=True)
    assert "已收到，等待受理审查" not in html and 'name="phone_last4"' in html


# -- rate limits ----------------------------------------------------------------------------------

def test_five_failures_lock_the_code_for_everyone_even_with_the_right_digits_until_the_window_ends(
        app, new_case, citizen):
    _, code = new_case()
    _, other_code = new_case(**OTHER_PEOPLE)
    guesser = citizen("198.51.100.1")
    for digits in ("0000", "1111", "2222", "3333", "4444"):
        assert look_up(guesser, code, digits).status_code == 200

    locked = look_up(citizen("198.51.100.2"), code, RIGHT_DIGITS)  # the real applicant, elsewhere

    html = locked.get_data(as_text=True)
    assert locked.status_code == 429 and TOO_MANY in html
    assert look_up(citizen(), other_code, OTHER_DIGITS).status_code == 302  # other cases are not locked
    # The lock says the same for a code that does not exist: it tells nothing about which codes do.
    for digits in ("0000", "1111", "2222", "3333", "4444"):
        look_up(citizen("198.51.100.3"), "150207-2026-999999", digits)
    absent = look_up(citizen("198.51.100.4"), "150207-2026-999999", RIGHT_DIGITS)
    assert absent.status_code == 429
    assert without_token(absent.get_data(as_text=True)).replace("150207-2026-999999", code) == without_token(html)

    # The limiter counts by the wall clock, not the app's FakeClock: its window ending is a reset.
    limiter.reset()
    assert look_up(citizen("198.51.100.2"), code, RIGHT_DIGITS).status_code == 302


def test_a_right_lookup_does_not_count_towards_the_lock(new_case, citizen):
    _, code = new_case()
    for _ in range(6):
        assert look_up(citizen(), code, RIGHT_DIGITS).status_code == 302


def test_one_address_trying_many_codes_is_stopped_but_others_and_staff_pages_are_not(
        app, new_case, citizen, password):
    app.config["STATUS_LOOKUP_LIMITS"] = "3 per minute;50 per hour"
    _, code = new_case()
    scanner = citizen("192.0.2.9")
    for number in range(3):
        assert look_up(scanner, f"150207-2026-00010{number}", "1234").status_code == 200

    stopped = look_up(scanner, code, RIGHT_DIGITS)

    assert stopped.status_code == 429 and TOO_MANY in stopped.get_data(as_text=True)
    assert look_up(citizen("192.0.2.10"), code, RIGHT_DIGITS).status_code == 302
    clerk = citizen("192.0.2.9")  # a clerk at the same address: staff pages have no limit
    assert clerk.post("/login", data={"username": "clerk", "password": password}).status_code == 302
    for _ in range(5):
        assert clerk.get("/tasks").status_code == 200


# -- satisfaction feedback (回访) ------------------------------------------------------------------

def give(browser, satisfaction: str, comment: str = ""):
    return browser.post("/status/feedback", data={"satisfaction": satisfaction, "comment": comment})


def test_a_satisfied_citizen_completes_the_follow_up_and_the_case_goes_on_to_archiving(
        new_case, walk, citizen, db_read, ready_task, login):
    case_id, code = new_case()
    walk(case_id, up_to="follow_up")
    browser = citizen()
    look_up(browser, code, RIGHT_DIGITS)
    assert "您对本案的办理是否满意" in browser.get("/status").get_data(as_text=True)

    response = give(browser, "satisfied", "调解员很耐心，问题解决了。")

    assert response.status_code == 302
    follow_up = db_read(lambda s: s.query(HumanTask).filter_by(case_id=case_id, element_id="follow_up").one())
    assert (follow_up.state, follow_up.completed_by) == ("completed", "citizen")
    assert ready_task(case_id, "archive")
    event = db_read(lambda s: s.query(CaseEvent).filter_by(task_id=follow_up.id, kind="task_completed").one())
    assert event.actor == "citizen"
    assert event.data == {"satisfaction": "satisfied", "follow_up_note": "调解员很耐心，问题解决了。"}
    html = browser.get("/status").get_data(as_text=True)
    assert "已收到您的评价（满意）" in html and "您对本案的办理是否满意" not in html
    timeline = login("clerk").get(f"/cases/{case_id}").get_data(as_text=True)
    assert "当事人（群众）" in timeline and "调解员很耐心，问题解决了。" in timeline

    again = give(browser, "dissatisfied")

    assert again.status_code == 409 and "已收到评价，无需重复提交" in again.get_data(as_text=True)
    assert db_read(lambda s: s.query(HumanTask).filter_by(case_id=case_id, element_id="second_supervision").count()) == 0


def test_a_dissatisfied_citizen_sends_the_case_to_the_director_for_second_supervision(
        new_case, walk, citizen, ready_task, login):
    case_id, code = new_case()
    walk(case_id, up_to="follow_up")
    browser = citizen()
    look_up(browser, code, RIGHT_DIGITS)

    assert give(browser, "dissatisfied", "赔偿款至今未到位。").status_code == 302

    task_id = ready_task(case_id, "second_supervision")
    assert task_id in login("director").get("/tasks").get_data(as_text=True)


def test_feedback_arriving_after_the_clerk_did_the_follow_up_by_phone_is_refused_politely(
        new_case, walk, citizen, login, ready_task, monkeypatch):
    case_id, code = new_case()
    walk(case_id, up_to="follow_up")
    browser = citizen()
    look_up(browser, code, RIGHT_DIGITS)
    task_id = ready_task(case_id, "follow_up")
    login("clerk").post(f"/tasks/{task_id}", data={"satisfaction": "satisfied"})
    # The page still thought 回访 was waiting when the citizen pressed 提交: the engine says TaskNotReady.
    stale, fresh = iter([Feedback(task_id=task_id, given=False)]), public_status.feedback
    monkeypatch.setattr(public_status, "feedback", lambda session, case: next(stale, None) or fresh(session, case))

    response = give(browser, "dissatisfied")

    assert response.status_code == 409 and "无需重复提交" in response.get_data(as_text=True)
    assert ready_task(case_id, "archive")


def test_feedback_before_the_follow_up_is_refused_with_a_word_on_when_it_is_possible(
        new_case, walk, citizen, event_count):
    case_id, code = new_case()
    walk(case_id, up_to="mediate")
    browser = citizen()
    look_up(browser, code, RIGHT_DIGITS)
    assert "您对本案的办理是否满意" not in browser.get("/status").get_data(as_text=True)
    events = event_count(case_id)

    response = give(browser, "satisfied")

    assert response.status_code == 409
    assert "尚未进入回访阶段" in response.get_data(as_text=True)
    assert event_count(case_id) == events


def test_feedback_needs_a_choice_and_a_short_comment(new_case, walk, citizen, ready_task):
    case_id, code = new_case()
    walk(case_id, up_to="follow_up")
    browser = citizen()
    look_up(browser, code, RIGHT_DIGITS)

    assert give(browser, "").status_code == 422
    too_long = give(browser, "satisfied", "很" * 501)

    assert too_long.status_code == 422 and "不能超过500字" in too_long.get_data(as_text=True)
    assert ready_task(case_id, "follow_up")


# -- sessions and CSRF ----------------------------------------------------------------------------

def test_a_staff_session_neither_opens_nor_leaks_into_the_public_page(new_case, walk, login, ready_task):
    case_id, code = new_case()
    walk(case_id, up_to="follow_up")
    clerk = login("clerk")

    html = clerk.get("/status").get_data(as_text=True)
    refused = give(clerk, "satisfied")

    leaked = [text for text in ("王受理", "我的待办", "登记纠纷", "退出", code) if text in html]
    assert not leaked and 'name="phone_last4"' in html
    assert refused.status_code == 403
    assert ready_task(case_id, "follow_up")
    assert clerk.get("/tasks").status_code == 200  # 退出查询 is not 退出登录
    clerk.get("/status/exit")
    assert clerk.get("/tasks").status_code == 200


def test_a_verified_citizen_gets_no_staff_pages(new_case, citizen):
    case_id, code = new_case()
    browser = citizen()
    look_up(browser, code, RIGHT_DIGITS)

    for url in ("/tasks", f"/cases/{case_id}", "/cases"):
        response = browser.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_lookups_and_feedback_without_the_csrf_token_are_refused(csrf_app):
    browser = csrf_app.test_client()
    page = browser.get("/status").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    refused = browser.post("/status", data={"code": "150207-2026-000001", "phone_last4": "8000"})
    feedback = browser.post("/status/feedback", data={"satisfaction": "satisfied"})
    with_token = browser.post("/status", data={"code": "150207-2026-000001", "phone_last4": "8000",
                                               "csrf_token": token})

    assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True)
    assert feedback.status_code == 400
    assert with_token.status_code == 200 and LOOKUP_FAILED in with_token.get_data(as_text=True)
