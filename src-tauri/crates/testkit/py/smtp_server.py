"""The real aiosmtpd SMTP server, as Hostdesk's tests run it (see testkit/src/smtp.rs).

Usage: python3 smtp_server.py --port N --dir DIR [--user U --password P]

- Every accepted message is appended to DIR/messages.jsonl as one JSON object: the envelope
  (mail_from, rcpt_tos), the headers and the subject and body decoded by Python's email package,
  and the raw message.
- Recipients whose local part starts with "reject" get a permanent 550 at RCPT; "busy" a
  transient 451; everyone else is accepted.
- With --user/--password the server offers AUTH PLAIN and LOGIN over the plain connection
  (loopback tests only) and requires it; logins are counted in DIR/logins.txt.
- Prints "ready" once it listens; runs until killed.
"""

import argparse
import email
import email.policy
import json
import os
import signal
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, folder):
        self.folder = folder
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: mailbox unavailable (rejected by the test server)" % address
        if local.startswith("busy"):
            return "451 4.3.0 <%s>: mailbox busy, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": [[k, str(v)] for k, v in msg.items()],
            "subject": str(msg.get("subject", "")),
            "message_id": str(msg.get("message-id", "")),
            "body": (body.get_content() if body is not None else "").replace("\r\n", "\n"),
            "raw": raw.decode("utf-8", "replace"),
        }
        line = json.dumps(record) + "\n"
        with self.lock:
            with open(os.path.join(self.folder, "messages.jsonl"), "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        return "250 2.0.0 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()
    kwargs = {}
    if a.user is not None:
        logins = os.path.join(a.dir, "logins.txt")

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == a.user
                and auth_data.password.decode() == (a.password or "")
            )
            if ok:
                with open(logins, "a") as f:
                    f.write(mechanism + "\n")
            # handled=False: aiosmtpd answers the failure itself (535 5.7.8).
            return AuthResult(success=ok, handled=False)

        kwargs = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    controller = Controller(Handler(a.dir), hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
