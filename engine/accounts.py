"""Authentication behind one interface: passwords now, single sign-on later.

Lockout: after MAX_FAILURES wrong passwords in a row an account is locked for LOCKOUT; a successful
login resets the count. Unknown user names are checked against a dummy hash so that timing does not
tell which names exist.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .errors import EngineError
from .models import User

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
_DUMMY_HASH = generate_password_hash("fengqiao-no-such-user")


class LoginFailed(EngineError):
    """Wrong user name or password (deliberately not saying which)."""


class AccountLocked(EngineError):
    def __init__(self, until: datetime):
        self.until = until
        super().__init__(f"account locked until {until.isoformat()}")


class Authenticator(Protocol):
    def authenticate(self, session: Session, username: str, secret: str, now: datetime) -> User:
        """The user, or LoginFailed / AccountLocked. Commits the failure count."""


def hash_password(plain: str) -> str:
    """The stored form of a password."""
    return generate_password_hash(plain)


class PasswordAuthenticator:
    """User name and password against the hashed password in `app_user`."""

    def __init__(self, max_failures: int = MAX_FAILURES, lockout: timedelta = LOCKOUT):
        self.max_failures, self.lockout = max_failures, lockout

    def authenticate(self, session: Session, username: str, secret: str, now: datetime) -> User:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        password_ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, secret)
        if user is None or not user.active:
            raise LoginFailed("unknown or disabled user")
        if user.locked_until is not None and user.locked_until > now:
            raise AccountLocked(user.locked_until)
        if not password_ok:
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= self.max_failures:
                user.locked_until, user.failed_logins = now + self.lockout, 0
                session.commit()
                raise AccountLocked(user.locked_until)
            session.commit()
            raise LoginFailed("wrong password")
        user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
        session.commit()
        return user
