"""`fengqiao channel …`: connecting the 12345 hotline from the command line and pushing its results."""
from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from engine import channels
from engine.callbacks import retry_now
from engine.clock import SystemClock
from engine.models import ChannelNotification, ChannelToken, HumanTask
from engine.runtime import CaseRuntime
from fengqiao.cli import main
from tests.engine.org import COUNTY_STAFF


@pytest.fixture
def database(cli_database):
    """The configured database (tests/conftest.py: a fresh SQLite file with 九原区)."""
    return cli_database


class _Hotline(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        self.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204 if self.path == "/ok" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hotline)
    _Hotline.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_channel_is_created_given_a_token_and_its_token_revoked(database, capsys):
    code, out, _ = run(capsys, "channel", "create", "hotline-12345", "--name", "12345热线", "--kind", "12345热线")
    assert code == 0 and "已添加渠道：hotline-12345 12345热线（12345热线）" in out and "回调密钥（只显示这一次" in out

    code, out, err = run(capsys, "channel", "token", "hotline-12345", "--jurisdiction", "150207", "--note", "工单系统")
    plain = out.strip()
    assert code == 0 and plain.startswith("fq_") and "只显示这一次" in err
    with database() as session:
        token = session.scalars(select(ChannelToken)).one()
        assert token.token_hash == hashlib.sha256(plain.encode()).hexdigest() and token.note == "工单系统"
        assert channels.authenticate(session, plain, SystemClock().now()) is not None

    code, out, _ = run(capsys, "channel", "tokens", "hotline-12345")
    assert f"#{token.id}  {token.prefix}…  150207  最近使用" in out and "有效" in out and plain not in out
    code, out, _ = run(capsys, "channel", "revoke", str(token.id))
    assert code == 0 and out.startswith(f"已吊销令牌 #{token.id}")
    with database() as session:
        assert channels.authenticate(session, plain, SystemClock().now()) is None
    code, out, _ = run(capsys, "channel", "list")
    assert out.strip() == "hotline-12345  12345热线  12345热线  回调：未设置  有效令牌 0  待送达 0"


def test_mistakes_name_the_field(database, capsys):
    assert run(capsys, "channel", "list")[1].strip() == "（尚无渠道）"
    code, _, err = run(capsys, "channel", "create", "Hotline!", "--name", "12345热线", "--kind", "hotline_12345")
    assert code == 1 and err.startswith("错误：【渠道代码】")
    code, _, err = run(capsys, "channel", "create", "hotline", "--name", "12345热线", "--kind", "radio")
    assert code == 1 and err.startswith("错误：【渠道类型】渠道类型无效")
    code, _, err = run(capsys, "channel", "create", "hotline", "--name", "热线", "--kind", "hotline_12345",
                       "--callback", "12345.example.cn")
    assert code == 1 and err.startswith("错误：【回调地址】")
    assert run(capsys, "channel", "create", "hotline", "--name", "热线", "--kind", "hotline_12345")[0] == 0
    code, _, err = run(capsys, "channel", "token", "hotline", "--jurisdiction", "150299")
    assert code == 1 and err.strip() == "错误：【辖区】行政区划 150299 不存在"
    code, _, err = run(capsys, "channel", "token", "nothing", "--jurisdiction", "150207")
    assert code == 1 and "渠道 nothing 不存在" in err
    code, _, err = run(capsys, "channel", "revoke", "999")
    assert code == 1 and "令牌 999 不存在" in err


def test_results_are_listed_and_delivered_by_one_pass(database, capsys, registry, receiver):
    run(capsys, "channel", "create", "hotline", "--name", "12345热线", "--kind", "hotline_12345")
    plain = run(capsys, "channel", "token", "hotline", "--jurisdiction", "150207")[1].strip()
    assert run(capsys, "channel", "callback", "hotline", receiver + "/down")[0] == 0
    runtime = CaseRuntime(registry, SystemClock())
    with database() as session:
        principal = channels.authenticate(session, plain, runtime.clock.now())
        case = channels.submit(session, runtime, principal, {
            "reference": "GD-1", "jurisdiction": "150207", "category": "neighbour", "title": "楼上漏水",
            "facts": "楼上卫生间漏水。", "applicant": {"name": "刘桂兰", "phone": "13800138000"}}).case
        task = session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.state == "ready")).one()
        runtime.complete_task(session, task.id, {"accepted": True}, COUNTY_STAFF)

    code, out, err = run(capsys, "channel", "deliver")
    assert code == 0 and "已送达 0 条，失败 1 条" in out and "HTTP 503" in err
    code, out, _ = run(capsys, "channel", "notifications", "--pending")
    assert f"{case.code} 第1条 accepted  → hotline  待送达" in out and "已尝试 1 次  最近错误：HTTP 503" in out

    run(capsys, "channel", "callback", "hotline", receiver + "/ok")
    with database() as session:  # the admin's 立即重试
        retry_now(session, session.scalars(select(ChannelNotification.id)).one(), SystemClock().now())
        session.commit()
    code, out, _ = run(capsys, "channel", "deliver")
    assert "已送达 1 条，失败 0 条" in out and len(_Hotline.received) == 2
    assert run(capsys, "channel", "notifications", "--pending")[1].strip() == "（没有待送达的结果）"
    assert "已送达" in run(capsys, "channel", "notifications")[1]
