"""`fengqiao channel …`: intake channels (对接渠道), their tokens and callbacks, and result delivery.

The same engine functions as the 对接渠道 admin pages, on the configured database (FENGQIAO_DATABASE_URL),
without the pages' subtree limit. A token and a callback secret are printed once, when made; only a
hash of the token is stored. Problems go to stderr naming the field at fault, with exit status 1.
"""
from __future__ import annotations

import getpass
import sys

from sqlalchemy import func, select

from engine import channels
from engine.callbacks import DELIVERED, PENDING
from engine.channels import CHANNEL_KINDS, ChannelError
from engine.clock import SystemClock
from engine.errors import NotFound
from engine.models import Case, Channel, ChannelNotification, ChannelToken

from .cli_database import configured_database

FIELD_NAMES = {"code": "渠道代码", "name": "渠道名称", "kind": "渠道类型", "callback_url": "回调地址",
               "jurisdiction_code": "辖区"}


def add_commands(commands) -> dict:
    """Add `channel` and its subcommands to `commands`; returns the handler by command name."""
    channel = commands.add_parser("channel", help="intake channels (12345, 110, 法院 …): tokens, callbacks, delivery")
    sub = channel.add_subparsers(dest="channel_command", required=True)
    sub.add_parser("list", help="every channel with its callback, live tokens and undelivered results")
    create = sub.add_parser("create", help="add a channel; prints its callback secret once")
    create.add_argument("code", help="2–40 lower-case letters, digits, _ or -")
    create.add_argument("--name", required=True, help="渠道名称")
    create.add_argument("--kind", required=True, help="one of: " + ", ".join(CHANNEL_KINDS) + " (or its Chinese name)")
    create.add_argument("--callback", default=None, help="callback URL for results (default: none, the channel pulls)")
    token = sub.add_parser("token", help="issue a token for a jurisdiction; prints it once")
    token.add_argument("code")
    token.add_argument("--jurisdiction", required=True, help="行政区划代码: the channel acts there and below")
    token.add_argument("--note", default="")
    revoke = sub.add_parser("revoke", help="revoke a token (by the id `channel tokens CODE` shows)")
    revoke.add_argument("token_id", type=int)
    tokens = sub.add_parser("tokens", help="a channel's tokens (prefix, jurisdiction, last used, revoked)")
    tokens.add_argument("code")
    callback = sub.add_parser("callback", help='set the callback URL ("" for none)')
    callback.add_argument("code")
    callback.add_argument("url")
    notifications = sub.add_parser("notifications", help="results queued for channels (newest first)")
    notifications.add_argument("--pending", action="store_true", help="only those not yet acknowledged")
    notifications.add_argument("--limit", type=int, default=100)
    sub.add_parser("deliver", help="send the due results once (what the scheduler does every 15 s)")
    return {"channel": _channel}


def _channel(args) -> int:
    with configured_database() as session:
        return COMMANDS[args.channel_command](session, args)


def _fail(message: str) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return 1


def _field_error(exc: ChannelError) -> int:
    return _fail(f"【{FIELD_NAMES.get(exc.field, exc.field)}】{exc}")


def _find(session, code: str) -> Channel | None:
    return session.scalar(select(Channel).where(Channel.code == code))


def _by() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def _list(session, args) -> int:
    rows = session.scalars(select(Channel).order_by(Channel.code)).all()
    live = dict(session.execute(select(ChannelToken.channel_id, func.count()).where(
        ChannelToken.revoked_at.is_(None)).group_by(ChannelToken.channel_id)).all())
    pending = dict(session.execute(select(ChannelNotification.channel_id, func.count()).where(
        ChannelNotification.state == PENDING).group_by(ChannelNotification.channel_id)).all())
    for row in rows:
        state = "" if row.active else "  已停用"
        print(f"{row.code}  {row.name}  {CHANNEL_KINDS.get(row.kind, row.kind)}  回调：{row.callback_url or '未设置'}"
              f"  有效令牌 {live.get(row.id, 0)}  待送达 {pending.get(row.id, 0)}{state}")
    if not rows:
        print("（尚无渠道）")
    return 0


def _create(session, args) -> int:
    kind = next((code for code, name in CHANNEL_KINDS.items() if args.kind in (code, name)), args.kind)
    try:
        channel = channels.create_channel(session, args.code, args.name, kind, _by(), SystemClock().now(),
                                          args.callback)
    except ChannelError as exc:
        return _field_error(exc)
    session.commit()
    print(f"已添加渠道：{channel.code} {channel.name}（{CHANNEL_KINDS[channel.kind]}）")
    print(f"回调密钥（只显示这一次，请交给对方系统用于校验签名）：{channel.callback_secret}")
    return 0


def _token(session, args) -> int:
    channel = _find(session, args.code)
    if channel is None:
        return _fail(f"【渠道代码】渠道 {args.code} 不存在")
    try:
        token, plain = channels.issue_token(session, channel, args.jurisdiction, _by(), SystemClock().now(), args.note)
    except ChannelError as exc:
        return _field_error(exc)
    session.commit()
    print(f"已签发令牌 #{token.id}（渠道 {channel.code}，辖区 {token.jurisdiction_code}）", file=sys.stderr)
    print("令牌只显示这一次，系统只保存其摘要；遗失只能重新签发：", file=sys.stderr)
    print(plain)
    return 0


def _revoke(session, args) -> int:
    try:
        token = channels.revoke_token(session, args.token_id, _by(), SystemClock().now())
    except NotFound:
        return _fail(f"【令牌编号】令牌 {args.token_id} 不存在")
    session.commit()
    channel = session.get(Channel, token.channel_id)
    print(f"已吊销令牌 #{token.id} {token.prefix}…（渠道 {channel.code}，辖区 {token.jurisdiction_code}）")
    return 0


def _tokens(session, args) -> int:
    channel = _find(session, args.code)
    if channel is None:
        return _fail(f"【渠道代码】渠道 {args.code} 不存在")
    rows = session.scalars(select(ChannelToken).where(ChannelToken.channel_id == channel.id)
                           .order_by(ChannelToken.id)).all()
    for row in rows:
        used = row.last_used_at.isoformat(timespec="minutes") if row.last_used_at else "从未使用"
        state = f"已吊销 {row.revoked_at.isoformat(timespec='minutes')}" if row.revoked_at else "有效"
        print(f"#{row.id}  {row.prefix}…  {row.jurisdiction_code}  最近使用 {used}  {state}  {row.note}".rstrip())
    if not rows:
        print("（尚无令牌）")
    return 0


def _callback(session, args) -> int:
    channel = _find(session, args.code)
    if channel is None:
        return _fail(f"【渠道代码】渠道 {args.code} 不存在")
    try:
        channels.set_callback(channel, args.url)
    except ChannelError as exc:
        return _field_error(exc)
    session.commit()
    print(f"{channel.code} 回调地址：{channel.callback_url or '未设置（结果保留，由对方查询）'}")
    return 0


def _notifications(session, args) -> int:
    query = (select(ChannelNotification, Case.code, Channel.code)
             .join(Case, Case.id == ChannelNotification.case_id)
             .join(Channel, Channel.id == ChannelNotification.channel_id))
    if args.pending:
        query = query.where(ChannelNotification.state == PENDING)
    rows = session.execute(query.order_by(ChannelNotification.id.desc()).limit(args.limit)).all()
    for row, case_code, channel_code in rows:
        if row.state == DELIVERED:
            state = f"已送达 {row.delivered_at.isoformat(timespec='seconds')}"
        else:
            state = f"待送达，下次 {row.next_attempt_at.isoformat(timespec='seconds')}"
        error = f"  最近错误：{row.last_error}" if row.last_error else ""
        print(f"#{row.id}  {case_code} 第{row.sequence}条 {row.result}  → {channel_code}  {state}"
              f"  已尝试 {row.attempts} 次{error}")
    if not rows:
        print("（没有待送达的结果）" if args.pending else "（没有结果通知）")
    return 0


def _deliver(session, args) -> int:
    from engine.callbacks import deliver_due, urllib_transport
    from sqlalchemy.orm import sessionmaker

    result = deliver_due(sessionmaker(bind=session.get_bind(), expire_on_commit=False), SystemClock(),
                         urllib_transport)
    for notification_id, error in result.failed.items():
        print(f"#{notification_id} 未送达：{error}（已安排重试）", file=sys.stderr)
    print(f"已送达 {len(result.delivered)} 条，失败 {len(result.failed)} 条；"
          f"{result.without_callback} 条因渠道未设置回调地址（或已停用）保留待查询")
    return 0


COMMANDS = {"list": _list, "create": _create, "token": _token, "revoke": _revoke, "tokens": _tokens,
            "callback": _callback, "notifications": _notifications, "deliver": _deliver}
