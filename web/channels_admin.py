"""对接渠道 pages under /admin/channels: channels, their tokens and callbacks, undelivered results.

Every page needs the 系统管理员 role; what an administrator sees and changes is decided in
web.channel_access (module docstring there: a channel is visible through a token in their subtree or
its creator in it; channel-wide settings need every live token inside it).

Tokens and callback secrets are shown once, on the page answering the POST that made them, never in
a flash message (the session cookie is signed, not encrypted) and never again; the page is marked
no-store so the browser keeps no copy.
"""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from sqlalchemy import func

from engine import channels
from engine.callbacks import PENDING, retry_now
from engine.channels import CHANNEL_KINDS, ChannelError
from engine.models import ChannelNotification, Jurisdiction

from .channel_access import (
    may_configure, notifications_in_scope, require_configurable, scoped_channel, scoped_notification, scoped_token,
    tokens_in_scope, visible_channels,
)
from .extensions import db
from .org_access import admin_scope, place_choices
from .services import services
from .session_user import current_user, role_required

bp = Blueprint("channels_admin", __name__, url_prefix="/admin/channels")

CHANNEL_FIELDS = ("code", "name", "kind", "callback_url")
NOTIFICATION_LIST_LIMIT = 500


@bp.route("/", methods=["GET", "POST"])
@role_required("admin")
def index():
    if request.method == "GET":
        return _index_page({})
    values = {name: request.form.get(name, "").strip() for name in CHANNEL_FIELDS}
    try:
        channel = channels.create_channel(db.session, values["code"], values["name"], values["kind"],
                                          current_user().username, services().clock.now(), values["callback_url"])
    except ChannelError as exc:
        db.session.rollback()
        return _index_page(values, {exc.field: str(exc)}), 422
    db.session.commit()
    return _channel_page(channel, revealed_secret=channel.callback_secret,
                         notice=f"已创建渠道：{channel.name}。请把回调密钥交给对方系统，用于校验回调签名。")


@bp.route("/<int:channel_id>")
@role_required("admin")
def detail(channel_id):
    return _channel_page(scoped_channel(channel_id))


@bp.route("/<int:channel_id>/callback", methods=["POST"])
@role_required("admin")
def callback(channel_id):
    channel = scoped_channel(channel_id)
    require_configurable(channel)
    url = request.form.get("callback_url", "").strip()
    try:
        channels.set_callback(channel, url)
    except ChannelError as exc:
        db.session.rollback()
        return _channel_page(channel, errors={exc.field: str(exc)}, values={"callback_url": url})
    db.session.commit()
    flash("已保存回调地址" if channel.callback_url else "已清除回调地址，结果将保留待对方查询", "success")
    return redirect(url_for(".detail", channel_id=channel.id))


@bp.route("/<int:channel_id>/secret", methods=["POST"])
@role_required("admin")
def rotate_secret(channel_id):
    channel = scoped_channel(channel_id)
    require_configurable(channel)
    secret = channels.rotate_callback_secret(channel)
    db.session.commit()
    return _channel_page(channel, revealed_secret=secret,
                         notice="已更换回调密钥，旧密钥签名的回调不再有效。请立即通知对方系统更新。")


@bp.route("/<int:channel_id>/tokens", methods=["POST"])
@role_required("admin")
def issue_token(channel_id):
    channel = scoped_channel(channel_id)
    values = {"jurisdiction_code": request.form.get("jurisdiction_code", "").strip(),
              "note": request.form.get("note", "").strip()}
    if not admin_scope().covers(values["jurisdiction_code"]) or \
            db.session.get(Jurisdiction, values["jurisdiction_code"]) is None:
        return _channel_page(channel, errors={"jurisdiction_code": "请选择您管辖范围内的行政区划"}, values=values)
    token, plain = channels.issue_token(db.session, channel, values["jurisdiction_code"], current_user().username,
                                        services().clock.now(), values["note"])
    db.session.commit()
    return _channel_page(channel, revealed_token=plain, notice=f"已为 {token.jurisdiction_code} 签发令牌 {token.prefix}…")


@bp.route("/<int:channel_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@role_required("admin")
def revoke_token(channel_id, token_id):
    channel = scoped_channel(channel_id)
    token = scoped_token(channel, token_id)
    channels.revoke_token(db.session, token.id, current_user().username, services().clock.now())
    db.session.commit()
    flash(f"已吊销令牌 {token.prefix}…，此后使用它的请求将被拒绝", "success")
    return redirect(url_for(".detail", channel_id=channel.id))


@bp.route("/notifications")
@role_required("admin")
def notifications():
    rows = db.session.execute(notifications_in_scope().where(ChannelNotification.state == PENDING)
                              .order_by(ChannelNotification.next_attempt_at, ChannelNotification.id)
                              .limit(NOTIFICATION_LIST_LIMIT)).all()
    return render_template("channel_notifications.html", rows=rows, limit=NOTIFICATION_LIST_LIMIT,
                           now=services().clock.now())


@bp.route("/notifications/<int:notification_id>/retry", methods=["POST"])
@role_required("admin")
def retry(notification_id):
    notification = scoped_notification(notification_id)
    retry_now(db.session, notification.id, services().clock.now())
    db.session.commit()
    flash("已安排立即重试，将在下一轮投递（约15秒内）发送", "success")
    return redirect(url_for(".notifications"))


# -- pages ----------------------------------------------------------------------------------------

def _index_page(values: dict, errors: dict | None = None):
    rows = visible_channels()
    pending = _pending_counts([row.id for row in rows])
    return render_template("channels.html", rows=rows, pending=pending, kinds=CHANNEL_KINDS, values=values,
                           errors=errors or {})


def _channel_page(channel, errors: dict | None = None, values: dict | None = None, revealed_secret: str | None = None,
                  revealed_token: str | None = None, notice: str | None = None):
    html = render_template(
        "channel.html", channel=channel, kinds=CHANNEL_KINDS, tokens=tokens_in_scope(channel),
        configurable=may_configure(channel), pending=_pending_counts([channel.id]).get(channel.id, 0),
        places=place_choices(), values={"callback_url": channel.callback_url or "", **(values or {})},
        errors=errors or {}, revealed_secret=revealed_secret, revealed_token=revealed_token, notice=notice)
    response = make_response(html, 422 if errors else 200)
    if revealed_secret or revealed_token:
        response.headers["Cache-Control"] = "no-store"
    return response


def _pending_counts(channel_ids: list[int]) -> dict[int, int]:
    """Pending notifications per channel, counting only cases in the administrator's subtree."""
    if not channel_ids:
        return {}
    query = notifications_in_scope().with_only_columns(ChannelNotification.channel_id, func.count()).where(
        ChannelNotification.state == PENDING, ChannelNotification.channel_id.in_(channel_ids)
    ).group_by(ChannelNotification.channel_id)
    return dict(db.session.execute(query).all())
