"""Which channels, tokens and notifications an administrator reaches (对接渠道 pages).

A channel may serve several counties (a city's 12345 hotline holds one token per county), so it has no
single jurisdiction. An administrator **sees** a channel if one of its tokens (live or revoked) lies in
their subtree, or if it was created by someone in it (themselves included): a new channel without a
token is visible to the administrator who created it and to those above them. Of a visible channel
they see and revoke only the tokens in their subtree, and issue tokens only for places in it.

They may **configure** it (callback URL, callback secret) only if every live token lies in their
subtree, and with no live token only if they see it: the callback and its secret are shared by every
place the channel serves, so a county administrator must not redirect or break a city-wide channel's
results. A notification belongs to the place its case was registered in.

Anything outside answers 404, as in web.org_access.
"""
from __future__ import annotations

from flask import abort
from sqlalchemy import exists, or_, select

from engine.models import Case, Channel, ChannelNotification, ChannelToken, User

from .extensions import db
from .org_access import admin_scope
from .session_user import current_user


def visible_condition():
    """SQL condition on Channel: the administrator sees it."""
    scope, me = admin_scope(), current_user()
    token_in_scope = exists().where(ChannelToken.channel_id == Channel.id,
                                    scope.condition(ChannelToken.jurisdiction_code))
    creator_in_scope = exists().where(User.username == Channel.created_by, scope.condition(User.jurisdiction_code))
    return or_(token_in_scope, creator_in_scope, Channel.created_by == (me.username if me else ""))


def visible_channels() -> list[Channel]:
    return list(db.session.scalars(select(Channel).where(visible_condition()).order_by(Channel.code)))


def scoped_channel(channel_id: int) -> Channel:
    channel = db.session.scalar(select(Channel).where(Channel.id == channel_id, visible_condition()))
    if channel is None:
        abort(404)
    return channel


def may_configure(channel: Channel) -> bool:
    """May the administrator change the channel's callback URL and secret? (see the module docstring)"""
    outside = db.session.scalar(select(exists().where(
        ChannelToken.channel_id == channel.id, ChannelToken.revoked_at.is_(None),
        ~admin_scope().condition(ChannelToken.jurisdiction_code))))
    return not outside


def require_configurable(channel: Channel) -> None:
    if not may_configure(channel):
        abort(403)


def tokens_in_scope(channel: Channel) -> list[ChannelToken]:
    return list(db.session.scalars(select(ChannelToken).where(
        ChannelToken.channel_id == channel.id, admin_scope().condition(ChannelToken.jurisdiction_code))
        .order_by(ChannelToken.revoked_at.is_not(None), ChannelToken.created_at.desc(), ChannelToken.id.desc())))


def scoped_token(channel: Channel, token_id: int) -> ChannelToken:
    token = db.session.get(ChannelToken, token_id)
    if token is None or token.channel_id != channel.id or not admin_scope().covers(token.jurisdiction_code):
        abort(404)
    return token


def notifications_in_scope():
    """SELECT of (notification, case code, channel) for cases registered in the subtree."""
    return (select(ChannelNotification, Case.code, Channel)
            .join(Case, Case.id == ChannelNotification.case_id)
            .join(Channel, Channel.id == ChannelNotification.channel_id)
            .where(admin_scope().condition(Case.jurisdiction_code)))


def scoped_notification(notification_id: int) -> ChannelNotification:
    row = db.session.execute(notifications_in_scope().where(ChannelNotification.id == notification_id)).first()
    if row is None:
        abort(404)
    return row[0]
