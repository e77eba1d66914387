"""Clients of a live server (tests/support/live_server.py), as a user's browser would be one:
`Account`, a user signed up over real HTTP whose cookies authenticate both REST calls and
sockets."""
import secrets
import string
import time

import pytest
import requests

HTTP_TIMEOUT = 60  # seconds for one request; under load on 2 cores a sign-up can take a while


class Account:
    """A user signed up over real HTTP; its cookies authenticate both REST calls and sockets."""

    def __init__(self, server):
        self.server = server
        self.http = requests.Session()
        self.csrf = ""

    @classmethod
    def signed_up(cls, server, prefix: str = "live") -> "Account":
        account = cls(server)
        response = account.http.post(server.url + "/api/auth/signup", timeout=HTTP_TIMEOUT, json={
            "username": f"{prefix}_{_letters(10)}", "password": "correct horse"})
        assert response.status_code == 201, response.text
        account.csrf = response.json()["csrf_token"]
        return account

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)

    def start_conversation(self, character_id: int = 1) -> dict:
        response = self.http.post(self.server.url + "/api/conversations", timeout=HTTP_TIMEOUT,
                                  json={"character_id": character_id},
                                  headers={"X-CSRF-Token": self.csrf})
        assert response.status_code == 201, response.text
        return response.json()["conversation"]

    def conversation(self, conversation_id: int) -> dict:
        response = self.http.get(f"{self.server.url}/api/conversations/{conversation_id}",
                                 timeout=HTTP_TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()["conversation"]

    def messages(self, conversation_id: int) -> list[dict]:
        return self.conversation(conversation_id)["messages"]

    def wait_until_reply_settles(self, conversation_id: int, timeout: float = 60.0) -> list[dict]:
        """The conversation's messages once its last reply is no longer streaming (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            conversation = self.conversation(conversation_id)
            last = conversation["messages"][-1]
            if not conversation["streaming"] and last["status"] != "streaming":
                return conversation["messages"]
            time.sleep(0.2)
        pytest.fail(f"the reply was still streaming after {timeout} s: "
                    f"{conversation['messages'][-1]}")


def _letters(count: int) -> str:
    """Random lowercase letters. Not hex: a name like load_1838770508 reads as a phone number to
    the username screening (R7, privacy), and refused sign-ups are not what these tests test."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(count))
