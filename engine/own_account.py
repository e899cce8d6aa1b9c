"""What a user changes about themselves (我的设置): their password and their absence (请假/外出).

Everything else about a user — grants, the AB岗 backup, being active — is an administrator's
(engine/people.py); these two are the user's own because only they know them.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from werkzeug.security import check_password_hash

from .models import User
from .people import PeopleError, check_password, set_absence, set_password

# A typo in the year would leave the backup standing in for years; a long leave is re-declared.
LONGEST_ABSENCE = timedelta(days=366)


def change_password(user: User, current: str, new: str, repeated: str) -> None:
    """Replace `user`'s password. The current one is required, so a session left open on a shared
    computer cannot be used to lock the owner out. Raises PeopleError naming the field; the caller commits."""
    if not check_password_hash(user.password_hash, current or ""):
        raise PeopleError("current_password", "当前密码不正确")
    if new != repeated:
        raise PeopleError("repeated_password", "两次输入的新密码不一致")
    if new == current:
        raise PeopleError("new_password", "新密码不能与当前密码相同")
    try:
        check_password(new)
    except PeopleError as exc:
        raise PeopleError("new_password", str(exc)) from None
    set_password(user, new)


def declare_absence(user: User, until: datetime, now: datetime) -> None:
    """Mark `user` away (请假/外出) until `until`: meanwhile their named backup (B岗) sees and completes
    their claimed tasks. Raises PeopleError unless `until` is an aware time after `now`, within a year."""
    if until.tzinfo is None:
        raise PeopleError("absent_until", "外出截止时间缺少时区")
    if until <= now:
        raise PeopleError("absent_until", "返岗时间应晚于当前时间")
    if until - now > LONGEST_ABSENCE:
        raise PeopleError("absent_until", "请假/外出一次最长一年，请核对返岗时间")
    set_absence(user, until)


def return_now(user: User) -> None:
    """The user is back: their tasks stop showing in the backup's inbox."""
    set_absence(user, None)
