"""sendDocument for the fake Bot API: a file uploaded as multipart/form-data, answered with the
Message Telegram returns. The upload itself stays readable in the recorded call
(`FakeTelegram.calls("sendDocument")`: params["document"] = {"filename", "content"})."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from tests.fakes.telegram_state import JSON, TelegramState, bad_request

MAX_CAPTION = 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # the Bot API's limit for a document sent by a bot


def send_document(state: TelegramState, params: JSON) -> JSON:
    chat = state.known_chat(params.get("chat_id"))
    upload: Any = params.get("document")
    if not isinstance(upload, dict):  # a file_id or URL: the fake keeps no files to refer to
        raise bad_request("wrong file identifier/HTTP URL specified")
    content: bytes = upload.get("content") or b""
    if not content:
        raise bad_request("file must be non-empty")
    if len(content) > MAX_UPLOAD_BYTES:
        raise bad_request("file is too big")
    caption = str(params.get("caption") or "")
    if len(caption) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    digest = hashlib.sha256(content).hexdigest()[:32]
    message: JSON = {
        "message_id": chat.new_message_id(),
        "from": state.bot_user(),
        "chat": chat.chat,
        "date": int(time.time()),
        "document": {
            "file_id": f"doc-{digest}",
            "file_unique_id": digest[:16],
            "file_name": upload.get("filename") or "file",
            "file_size": len(content),
        },
    }
    if caption:
        message["caption"] = caption
    state.next_seq()
    state.bot_changed.notify()
    return message
