"""A second AS2 station for tests, built directly on pyas2lib (not on our smi_edi.as2):
a threaded HTTP server on 127.0.0.1 that receives messages (answering synchronous MDNs, or
keeping asynchronous ones until the test posts them) and MDNs, and sends messages."""

from __future__ import annotations

import base64
import hashlib
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import smi_edi.as2  # noqa: F401  (oscrypto's OpenSSL version fix, before pyas2lib)

# isort: split
from pyas2lib import as2 as pyas2

from tests.smi_edi.as2.certs import KeyPair


def _raw(headers, body: bytes) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n" + body


@dataclass
class Received:
    status: str
    detail: str | None
    payload: bytes | None
    message_id: str
    as2_from: str
    signed: bool
    encrypted: bool


@dataclass
class Sent:
    message: pyas2.Message
    http_status: int
    mdn_status: str | None = None
    mdn_detail: str | None = None
    mdn_mic: str = ""
    mdn_signed: bool = False
    mdn_text: str = ""
    response_body: bytes = b""


@dataclass
class Station:
    as2_id: str
    keys: KeyPair
    hub_id: str
    hub_cert: str
    sign: bool = True
    encrypt: bool = True
    mdn_mode: str = "SYNC"
    mdn_signed: bool = True
    wrong_mic: bool = False  # answer with a MIC that is not the one of what arrived
    received: list[Received] = field(default_factory=list)
    held_mdns: list[tuple[str, dict, bytes]] = field(default_factory=list)
    sent: dict[str, Sent] = field(default_factory=dict)
    url: str = ""

    def __post_init__(self):
        station = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, headers, answer = station._handle(dict(self.headers.items()), body)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/as2"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # what pyas2lib needs ---------------------------------------------------------
    def organization(self) -> pyas2.Organization:
        pem = (self.keys.key_pem + self.keys.cert_pem).encode()
        return pyas2.Organization(
            as2_name=self.as2_id, sign_key=pem, decrypt_key=pem, mdn_url=self.url
        )

    def hub(self, **overrides) -> pyas2.Partner:
        values = dict(
            as2_name=self.hub_id,
            verify_cert=self.hub_cert.encode(),
            encrypt_cert=self.hub_cert.encode(),
            validate_certs=False,
            sign=self.sign,
            encrypt=self.encrypt,
            enc_alg="aes_256_cbc",
            digest_alg="sha256",
            mdn_mode=self.mdn_mode,
            mdn_digest_alg="sha256" if self.mdn_signed else None,
        )
        values.update(overrides)
        return pyas2.Partner(**values)

    # receiving -------------------------------------------------------------------
    def _handle(self, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        raw = _raw(headers, body)
        if "multipart/report" in content_type or (
            "multipart/signed" in content_type and b"disposition-notification" in body
        ):
            self._take_mdn(raw)
            return 200, {"Content-Type": "text/plain"}, b"ok"
        message = pyas2.Message()
        status, (exc, _tb), mdn = message.parse(
            raw,
            find_org_partner_cb=lambda org, partner: (
                self.organization() if org == self.as2_id else None,
                self.hub(sign=False, encrypt=False) if partner == self.hub_id else None,
            ),
        )
        self.received.append(
            Received(
                status=status,
                detail=str(exc) if exc else None,
                payload=message.content if exc is None else None,
                message_id=message.message_id,
                as2_from=message.headers.get("as2-from", ""),
                signed=message.signed,
                encrypted=message.encrypted,
            )
        )
        if mdn is None:
            return 200, {}, b""
        if self.wrong_mic and message.mic:
            mdn.payload = None
            message.mic = base64.b64encode(b"not the mic of what arrived....").strip()
            mdn.build(message=message, status="processed")
        if mdn.mdn_mode == "ASYNC":
            self.held_mdns.append((mdn.mdn_url, dict(mdn.headers), mdn.content))
            return 200, {"Content-Type": "text/plain"}, b"MDN follows"
        return 200, {k: str(v) for k, v in mdn.headers.items()}, mdn.content

    def post_held_mdns(self) -> list[int]:
        """Post the asynchronous MDNs owed (the test decides when)."""
        statuses = []
        while self.held_mdns:
            url, headers, body = self.held_mdns.pop(0)
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(request, timeout=20) as response:
                statuses.append(response.status)
        return statuses

    def _take_mdn(self, raw: bytes) -> None:
        mdn = pyas2.Mdn()
        status, detail = mdn.parse(raw, lambda message_id, _r: self._original(message_id))
        sent = self.sent.get(mdn.orig_message_id)
        if sent is not None:
            sent.mdn_status, sent.mdn_detail = status, detail
            sent.mdn_text = raw.decode("utf-8", "replace")
            sent.mdn_mic = _mic_of(raw)
            sent.mdn_signed = b"multipart/signed" in raw[:2000]

    def _original(self, message_id):
        sent = self.sent.get(message_id)
        return sent.message if sent else None

    # sending ---------------------------------------------------------------------
    def send(
        self,
        payload: bytes,
        hub_url: str,
        *,
        tamper=None,
        as2_from: str | None = None,
        message_id: str | None = None,
        **hub_overrides,
    ) -> Sent:
        message = pyas2.Message(sender=self.organization(), receiver=self.hub(**hub_overrides))
        message.build(payload, content_type="application/edi-x12", message_id=message_id)
        headers = {k: str(v) for k, v in message.headers.items()}
        if as2_from:
            headers["AS2-From"] = as2_from
        body = message.content
        if tamper:
            body = tamper(body)
        sent = Sent(message=message, http_status=0)
        self.sent[message.message_id] = sent  # an asynchronous MDN may come before the answer
        request = urllib.request.Request(hub_url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, answer_headers, answer = (
                    response.status,
                    dict(response.headers.items()),
                    response.read(),
                )
        except urllib.error.HTTPError as exc:
            status, answer_headers, answer = exc.code, dict(exc.headers.items()), exc.read()
        sent.http_status, sent.response_body = status, answer
        if self.hub(**hub_overrides).mdn_mode == "SYNC" and answer:
            self._take_mdn(_raw(answer_headers, answer))
        return sent


def _mic_of(raw: bytes) -> str:
    for line in raw.decode("utf-8", "replace").splitlines():
        if line.lower().startswith("received-content-mic:"):
            return line.split(":", 1)[1].split(",")[0].strip()
    return ""


def payload_mic(payload: bytes) -> str:
    return base64.b64encode(hashlib.sha256(payload).digest()).decode()
