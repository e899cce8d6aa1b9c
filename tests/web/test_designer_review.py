"""流程草稿审核 over HTTP: 东河区 wants four eyes (its variant.toml says so), so 赵设计's change waits in
钱设计's 待审核 list until 钱设计 approves or returns it; the version history then shows who changed
what and why, and any stored version comes back as a new draft."""
from __future__ import annotations

import re

import pytest

from engine.models import ProcessDraft, ProcessVersion
from tests.web.conftest import add_user
from tests.web.test_csrf import token_of
from web.extensions import db

JIUYUAN, DONGHE = "150207", "150202"


@pytest.fixture
def designers(app):
    with app.app_context():
        add_user("zhao", "赵设计", ["designer"], DONGHE)
        add_user("qian", "钱设计", ["designer"], DONGHE)
        add_user("zhou", "周设计", ["designer"], JIUYUAN)
        add_user("dh_clerk", "东河区受理员", ["clerk"], DONGHE)
        db.session.commit()


def submit_rename(client, reason="调处更名为调解") -> tuple[str, int]:
    """东河区's designer renames 调处 to 调解 in a new draft and submits it; (draft url, draft id)."""
    opened = client.post("/designer/drafts", data={"category": "neighbour", "jurisdiction": DONGHE})
    assert opened.status_code == 303
    url = opened.headers["Location"]
    files = client.get(f"{url}/files").get_json()["files"]
    renamed = {**files, "neighbour.bpmn": files["neighbour.bpmn"].replace('name="调处"', 'name="调解"', 1)}
    assert client.post(f"{url}/save", json={"files": renamed, "expected_revision": 1}).status_code == 200
    answer = client.post(f"{url}/publish", json={"reason": reason})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["state"] == "awaiting_approval"
    return url, int(url.rsplit("/", 1)[1])


def donghe_versions(app) -> list[ProcessVersion]:
    with app.app_context():
        return (db.session.query(ProcessVersion).filter_by(category_code="neighbour", jurisdiction_code=DONGHE)
                .order_by(ProcessVersion.number).all())


def test_a_second_designer_approves_a_submitted_draft_and_running_cases_keep_their_version(
        app, designers, login, register, stored_case):
    zhao, qian, clerk = login("zhao"), login("qian"), login("dh_clerk")
    running = register(clerk, jurisdiction=DONGHE)
    url, draft_id = submit_rename(zhao)
    review = f"{url}/review"
    assert len(donghe_versions(app)) == 1  # only the version published from processes/

    own = zhao.get("/designer").get_data(as_text=True)
    assert "暂无待您审核的草稿" in own  # one's own submission is not in one's review list
    page = zhao.get(review).get_data(as_text=True)
    assert "批准发布" not in page and "撤回提交" in page and "须由另一位流程设计员审核" in page
    refused = zhao.post(f"{url}/approve", follow_redirects=True).get_data(as_text=True)
    assert "未能批准：此草稿由您提交，须由另一位流程设计员审核后发布" in refused
    assert len(donghe_versions(app)) == 1

    queue = re.search(r'<section class="card" id="review-queue">(.*?)</section>', qian.get("/designer").get_data(as_text=True),
                      re.S).group(1)
    assert "调处更名为调解" in queue and "zhao" in queue and f'href="{review}"' in queue
    page = qian.get(review).get_data(as_text=True)
    assert "提交人</dt><dd>zhao" in page and "调处更名为调解" in page
    comparison = re.search(r'<section class="card" id="comparison">(.*?)</section>', page, re.S).group(1)
    assert "修改" in comparison and "<code>mediate</code>" in comparison and "名称：调处 → 调解" in comparison
    assert "批准发布" in page and "退回修改" in page and "放弃草稿" in page

    done = qian.post(f"{url}/approve", follow_redirects=True).get_data(as_text=True)
    assert "已批准，发布为 v2：新登记的案件按新版本办理，办理中的案件仍按原版本办理" in done
    versions = donghe_versions(app)
    assert [(v.number, v.source, v.published_by, v.reason) for v in versions][-1] == (
        2, "designer", "zhao", "调处更名为调解（qian 审核）")
    with app.app_context():
        draft = db.session.get(ProcessDraft, draft_id)
        assert (draft.state, draft.approved_by, draft.published_version_id) == ("published", "qian", versions[-1].id)
    assert "暂无待您审核的草稿" in qian.get("/designer").get_data(as_text=True)
    fresh = register(clerk, jurisdiction=DONGHE, title="新登记的邻里纠纷")
    assert stored_case(running).spec_hash == versions[0].spec_hash
    assert stored_case(fresh).spec_hash == versions[1].spec_hash != versions[0].spec_hash


def test_a_returned_draft_shows_the_reviewers_note_to_its_author(app, designers, login):
    zhao, qian = login("zhao"), login("qian")
    url, draft_id = submit_rename(zhao)
    empty = qian.post(f"{url}/return", data={"note": " "}, follow_redirects=True).get_data(as_text=True)
    assert "请填写退回意见" in empty
    answer = qian.post(f"{url}/return", data={"note": "请按《人民调解法》称“人民调解”"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/designer"
    assert "已将草稿" in qian.get("/designer").get_data(as_text=True)
    page = zhao.get(url).get_data(as_text=True)
    assert "退回意见（qian" in page and "请按《人民调解法》称“人民调解”" in page
    with app.app_context():
        draft = db.session.get(ProcessDraft, draft_id)
        assert (draft.state, draft.returned_by) == ("draft", "qian")
    assert len(donghe_versions(app)) == 1


def test_a_designer_gives_a_draft_up(app, designers, login):
    zhao = login("zhao")
    url, draft_id = submit_rename(zhao)
    answer = login("qian").post(f"{url}/discard", follow_redirects=True).get_data(as_text=True)
    assert f"已放弃草稿 #{draft_id}；现行版本不受影响" in answer
    assert f'href="{url}"' not in zhao.get("/designer").get_data(as_text=True)
    page = zhao.get(f"{url}/review").get_data(as_text=True)
    assert "已放弃" in page and "批准发布" not in page and "放弃草稿" not in page


def test_another_countys_drafts_and_versions_do_not_exist_for_a_designer(app, designers, login):
    url, _ = submit_rename(login("zhao"))
    zhou = login("zhou")
    assert zhou.get(f"{url}/review").status_code == 404
    for action in ("approve", "return", "discard"):
        assert zhou.post(f"{url}/{action}", data={"note": "越权"}).status_code == 404, action
    donghe_v1 = donghe_versions(app)[0]
    with app.app_context():
        base = db.session.query(ProcessVersion).filter_by(category_code="neighbour", jurisdiction_code="").one()
        base_id = base.id
    assert zhou.post(f"/versions/{donghe_v1.id}/restore").status_code == 404
    assert zhou.post(f"/versions/{base_id}/restore").status_code == 403  # inherited, but the base's to change
    assert login("clerk").get(f"{url}/review").status_code == 403
    assert "暂无待您审核的草稿" in zhou.get("/designer").get_data(as_text=True)


def test_the_history_shows_who_changed_what_and_why(app, designers, login):
    zhao = login("zhao")
    url, draft_id = submit_rename(zhao)
    login("qian").post(f"{url}/approve")
    html = zhao.get("/versions/neighbour").get_data(as_text=True)
    rows = re.findall(r"<tr>\s*<td>150202 东河区</td>(.*?)</tr>\s*(?=<tr>|</tbody>)", html, re.S)
    newest, first = rows[0], rows[1]
    assert "v2" in newest and "调处更名为调解（qian 审核）" in newest and "zhao" in newest
    assert f'href="{url}"' in newest and f"流程设计（草稿 #{draft_id}）" in newest and "审核：qian" in newest
    assert "相对 v1：新增 0 · 删除 0 · 修改 1" in newest and "名称：调处 → 调解" in newest
    assert "该层级的首个版本" in first and "流程文件" in first
    assert "恢复为草稿" in newest and "恢复为草稿" in first
    base_rows = re.findall(r"<tr>\s*<td>基础版本</td>(.*?)</tr>", html, re.S)
    assert base_rows and all("恢复为草稿" not in row for row in base_rows)  # 东河区 does not design the base


def test_restoring_a_version_opens_a_draft_holding_its_files(csrf_app, password):
    with csrf_app.app_context():
        add_user("zhao", "赵设计", ["designer"], DONGHE)
        db.session.commit()
        first = db.session.query(ProcessVersion).filter_by(category_code="neighbour", jurisdiction_code=DONGHE).one()
        first_id = first.id
    client = csrf_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"username": "zhao", "password": password,
                                       "csrf_token": token_of(login_page)}).status_code == 302
    page = client.get("/versions/neighbour").get_data(as_text=True)
    action = f"/versions/{first_id}/restore"
    assert f'action="{action}"' in page
    assert client.post(action).status_code == 400  # without the page's token
    answer = client.post(action, data={"csrf_token": token_of(page)})
    assert answer.status_code == 303
    draft_url = answer.headers["Location"]
    assert re.fullmatch(r"/designer/drafts/\d+", draft_url)
    assert "已将 v1 恢复为新草稿" in client.get(draft_url).get_data(as_text=True)
    state = client.get(f"{draft_url}/files").get_json()
    assert state["state"] == "draft" and state["jurisdiction_code"] == DONGHE
    with csrf_app.app_context():
        restored = db.session.get(ProcessDraft, state["id"])
        kept = db.session.query(ProcessDraft).filter_by(published_version_id=first_id).one()
        assert restored.base_version_id == first_id and restored.note == "restored from v1"
        assert restored.files == kept.files and '"20 日"' in restored.files["neighbour.bpmn"]  # 东河区's limits
