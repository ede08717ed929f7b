"""The maintainers' login of the 管理 page (KB_ADMIN): the password check and the upload passes.

A logged-in page holds its login in the session's gr.State, which only the server reads, and every 管理 handler
checks it there. Files reach Gradio through its upload route, which no session state accompanies: the app refuses
that route (bot/body_limit.py) unless the request carries an upload pass, a random token that a login issues to its
page (as a cookie) and a logout or UPLOAD_PASS_HOURS take back.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from http.cookies import CookieError, SimpleCookie

PASS_COOKIE = "kb_admin_upload"
UPLOAD_PASS_HOURS = 8
MAX_PASSES = 32  # live upload passes; past it the oldest lapses
FAILED_LOGIN_DELAY = 1.0  # seconds a wrong password costs; attempts are checked one at a time, app-wide
MAX_FAILED_LOGINS = 5  # per page session; after that the session is refused even the right password
MAX_FIELD_CHARS = 200


class Access:
    """The one maintainer account, and the upload passes issued to its logged-in pages."""

    def __init__(self, user: str, password: str) -> None:
        self._user, self._password = user.encode("utf-8"), password.encode("utf-8")
        self._one_at_a_time = threading.Lock()
        self._passes: dict[str, float] = {}  # token → expiry (time.monotonic)
        self._passes_lock = threading.Lock()

    def check(self, user: object, password: object) -> bool:
        """True for the right user name and password. Attempts are taken one at a time and a wrong one costs
        FAILED_LOGIN_DELAY, so guesses run at about one a second whatever number of sessions send them."""
        given_user = (user if isinstance(user, str) else "")[:MAX_FIELD_CHARS].encode("utf-8")
        given_password = (password if isinstance(password, str) else "")[:MAX_FIELD_CHARS].encode("utf-8")
        with self._one_at_a_time:
            user_ok = hmac.compare_digest(given_user, self._user)
            password_ok = hmac.compare_digest(given_password, self._password)
            if not (user_ok and password_ok):
                time.sleep(FAILED_LOGIN_DELAY)
            return user_ok and password_ok

    def issue_pass(self) -> str:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._passes_lock:
            self._passes = {t: exp for t, exp in self._passes.items() if exp > now}
            while len(self._passes) >= MAX_PASSES:
                del self._passes[min(self._passes, key=self._passes.__getitem__)]
            self._passes[token] = now + UPLOAD_PASS_HOURS * 3600
        return token

    def revoke_pass(self, token: str) -> None:
        with self._passes_lock:
            self._passes.pop(token, None)

    def pass_valid(self, token: object) -> bool:
        if not isinstance(token, str) or not token:
            return False
        with self._passes_lock:
            expiry = self._passes.get(token)
        return expiry is not None and expiry > time.monotonic()

    def may_upload(self, cookie_header: bytes) -> bool:
        """Whether a request with this Cookie header carries a live upload pass (for bot/body_limit.py)."""
        try:
            cookies = SimpleCookie(cookie_header.decode("latin-1"))
        except CookieError:
            return False
        morsel = cookies.get(PASS_COOKIE)
        return morsel is not None and self.pass_valid(morsel.value)
