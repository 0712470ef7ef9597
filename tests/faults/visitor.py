"""A person at a browser, as far as the drill needs one: cookies, the CSRF token of each form, no
redirects followed (each answer is recorded), and every answer's status kept for the no-500 check."""

from __future__ import annotations

import html
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|<meta name="csrf-token" content="([^"]+)"')


@dataclass(frozen=True)
class Answer:
    method: str
    path: str
    status: int
    seconds: float
    body: str
    location: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Answers:
    """Every answer the drill's visitors received, shared across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.all: list[Answer] = []

    def add(self, answer: Answer) -> None:
        with self._lock:
            self.all.append(answer)

    def since(self, start: int) -> list[Answer]:
        with self._lock:
            return self.all[start:]

    def mark(self) -> int:
        with self._lock:
            return len(self.all)


class Visitor:
    def __init__(self, base_url: str, answers: Answers, timeout: float = 60) -> None:
        self.base_url, self.answers, self.timeout = base_url, answers, timeout
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect())

    def request(self, method: str, path: str, data: dict[str, str] | None = None) -> Answer:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body, method=method)
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                status, text, location = response.status, response.read().decode(errors="replace"), ""
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode(errors="replace")
            location = error.headers.get("Location", "")
        answer = Answer(method, path, status, time.monotonic() - started, text, location)
        self.answers.add(answer)
        return answer

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, data: dict[str, str]) -> Answer:
        return self.request("POST", path, data)

    def submit(self, page: str, data: dict[str, str], action: str | None = None) -> Answer:
        """Open ``page`` and post its form (to ``action``, else to the page) with its CSRF token;
        the page's own answer when it does not open."""
        form = self.get(page)
        if form.status != 200:
            return form
        return self.post(action or page, {"csrf_token": csrf_token(form.body), **data})

    def login(self, email: str, password: str) -> Answer:
        return self.submit("/login", {"email": email, "password": password, "next": ""})


def csrf_token(page: str) -> str:
    match = _CSRF.search(page)
    assert match, f"no CSRF token on the page:\n{page[:500]}"
    return html.unescape(match.group(1) or match.group(2))
