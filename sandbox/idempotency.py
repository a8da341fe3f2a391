"""The first answer to each ``Idempotency-Key``, as every sandbox platform that takes writes
keeps it: a repeated key gets that answer again (``duplicate`` true, nothing done twice), the
same key with another body is refused (409)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.server import _Request

MAX_KEY = 128


class IdempotentAnswers:
    """Answers by (client, scope, key). ``produce`` runs under ``lock`` (the platform's own,
    when its writes expect to hold it), so two sends of one key racing get one answer."""

    def __init__(self, lock: threading.Lock | threading.RLock | None = None) -> None:
        self._lock = lock if lock is not None else threading.Lock()
        self._answers: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()

    def answer(self, req: _Request, scope: str, body: dict[str, Any],
               produce: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
        """(the answer, whether it is a duplicate); ``produce`` only for a new key."""
        from sandbox.server import ApiError

        key = (req.headers.get("Idempotency-Key") or "").strip()
        if not key or len(key) > MAX_KEY:
            raise ApiError(400, "invalid_request", "缺少请求头 Idempotency-Key（幂等键）")
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False)
                                .encode("utf-8")).hexdigest()
        slot = (req.client_id, f"{scope}:{key}")
        with self._lock:
            seen = self._answers.get(slot)
            if seen is not None:
                if seen[0] != digest:
                    raise ApiError(409, "idempotency_conflict", "同一幂等键提交了不同的内容")
                return seen[1], True
            answer = produce()
            self._answers[slot] = (digest, answer)
            return answer, False
