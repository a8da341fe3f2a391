"""S4 综合收发件政务柜 without Qt: the locker's persisted state machine.

Two kinds of records (``ctx.records``, encrypted at rest, scoped to this plugin):

- ``door`` (key ``<bank>-<nn>``): ``free`` → ``reserved`` → ``opening`` → ``open`` →
  ``occupied`` (holds an item) or ``free`` again; ``fault`` (did not open: out of service
  until staff clear it). ``data`` keeps the door's ``size`` and, while an operation runs,
  ``op`` (deposit / takeout / result / pickup), ``item`` and ``kiosk``.
- ``item`` (key ``D<date>-<hex>``, holder = the applicant): ``depositing`` → ``deposited`` →
  ``taken`` (staff took the materials) → ``processed`` → ``result_ready`` (result in a door,
  pickup code sent by SMS) → ``collected``; or ``cancelled`` (the deposit door never opened).

Every transition is one compare-and-set (``update(expect_state=...)`` or ``claim_first``), so
two kiosks on one hall database never take the same door and a process killed at any moment
leaves records that :func:`recover` completes or rolls back after asking the board for the
door's sensor: a door recorded ``open`` and now closed completed its operation; a door recorded
``reserved``/``opening`` and closed never opened (rolled back). Completion is idempotent: the
item is moved first (an item already in the target state counts as moved), then the
notification is queued in the outbox under a key derived from the item (sent once), then the
door.

Everything here blocks (database, serial board): pages call it through ``run_busy``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import logging
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workstation.api import (
    CHINA_TZ,
    PLATFORM_POST,
    BoardNotAnswering,
    DoorJammed,
    DoorState,
    LockerError,
    Record,
    RecordConflict,
    RecordExists,
    mask_id_number,
    mask_name,
    mask_phone,
    platform_post,
)

log = logging.getLogger(__name__)

# -- settings ------------------------------------------------------------------------------
# From the configuration file's [scenarios.locker] table (ctx.settings); an environment
# variable MIANZHENG_LOCKER_<NAME> overrides a value for a quick demo.


class SettingError(ValueError):
    """A bad value in [scenarios.locker]; ``message`` names the key (shown on the tile)."""

    def __init__(self, key: str, reason: str) -> None:
        self.message = f"配置错误 / configuration error: scenarios.locker.{key}: {reason}"
        super().__init__(self.message)


_RANGES = {"lock_minutes": (1, 24 * 60), "code_attempts": (1, 20), "open_attempts": (1, 10),
           "pickup_days": (1, 90)}


def _setting_int(settings: Mapping[str, Any], key: str, default: int) -> int:
    low, high = _RANGES[key]
    raw: Any = os.environ.get(f"MIANZHENG_LOCKER_{key.upper()}", "").strip() or settings.get(
        key, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise SettingError(key, f"应为整数 / must be an integer, got {raw!r}") from None
    if isinstance(raw, bool) or not low <= value <= high:
        raise SettingError(key, f"应在 {low} 到 {high} 之间 / must be {low}..{high}")
    return value


@dataclass(frozen=True)
class LockerSettings:
    lock_minutes: int = 30  # an item is locked this long after max_code_attempts wrong codes
    max_code_attempts: int = 5
    open_attempts: int = 3  # one door: first try + retries before it is taken out of service
    pickup_days: int = 7  # the pickup code is valid this long
    bank: str = "1"  # which locker bank this kiosk drives (door keys "<bank>-<nn>")
    stale_minutes: int = 10  # another kiosk's unfinished operation is recovered after this

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> LockerSettings:
        """From ``ctx.settings`` ([scenarios.locker]); raises SettingError on a bad value."""
        bank = str(os.environ.get("MIANZHENG_LOCKER_BANK", "").strip()
                   or settings.get("bank", "1")).strip() or "1"
        return cls(
            lock_minutes=_setting_int(settings, "lock_minutes", 30),
            max_code_attempts=_setting_int(settings, "code_attempts", 5),
            open_attempts=_setting_int(settings, "open_attempts", 3),
            pickup_days=_setting_int(settings, "pickup_days", 7),
            bank=bank,
        )


# -- paths of the back office (sandbox/locker.py) ------------------------------------------

DEPOSITS = "locker/deposits"
PICKUP_NOTICES = "locker/pickup-notices"
COLLECTIONS = "locker/collections"

# -- what the applicant chooses ------------------------------------------------------------

SIZES = {"S": "小格口（A4 文件袋）", "M": "中格口（档案盒）", "L": "大格口（多个档案盒）"}
SIZE_ORDER = ("S", "M", "L")
MATTERS: tuple[tuple[str, str], ...] = (
    ("不动产登记", "M"), ("户籍办理", "S"), ("社保医保", "S"), ("公积金业务", "S"),
    ("企业开办", "M"), ("工程建设审批", "L"), ("婚姻登记", "S"), ("其他事项", "S"),
)
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")

# door / item states
FREE, RESERVED, OPENING, OPEN, OCCUPIED, FAULT = (
    "free", "reserved", "opening", "open", "occupied", "fault")
DEPOSITING, DEPOSITED, TAKEN, PROCESSED, RESULT_READY, COLLECTED, CANCELLED = (
    "depositing", "deposited", "taken", "processed", "result_ready", "collected", "cancelled")
ITEM_LABELS = {
    DEPOSITING: "正在投递", DEPOSITED: "已投递，待取件", TAKEN: "已取出，办理中",
    PROCESSED: "已办结，待放入结果", RESULT_READY: "结果已放入，待领取",
    COLLECTED: "已领取", CANCELLED: "已取消",
}
DOOR_LABELS = {FREE: "空闲", RESERVED: "已分配", OPENING: "正在开门", OPEN: "已打开",
               OCCUPIED: "有物品", FAULT: "故障停用"}
# per operation: (door state before opening, item state before, item after, door after)
OPS: dict[str, tuple[str, str, str, str]] = {
    "deposit": (RESERVED, DEPOSITING, DEPOSITED, OCCUPIED),
    "takeout": (OCCUPIED, DEPOSITED, TAKEN, FREE),
    "result": (RESERVED, PROCESSED, RESULT_READY, OCCUPIED),
    "pickup": (OCCUPIED, RESULT_READY, COLLECTED, FREE),
}


class LockerFlowError(Exception):
    """A step cannot go on; ``message`` is the Chinese text for the screen."""

    def __init__(self, message: str, code: str = "locker_flow") -> None:
        super().__init__(code)
        self.message = message
        self.code = code


def check_phone(raw: str) -> str:
    """A mainland mobile number (11 digits, 1[3-9]...), or LockerFlowError."""
    phone = re.sub(r"[\s-]", "", raw or "")
    if not phone:
        raise LockerFlowError("请输入手机号码", "phone_missing")
    if not phone.isdigit():
        raise LockerFlowError("手机号码只能包含数字", "phone_invalid")
    if len(phone) != 11:
        raise LockerFlowError(f"手机号码应为 11 位，您输入了 {len(phone)} 位", "phone_invalid")
    if not PHONE_RE.match(phone):
        raise LockerFlowError("请输入正确的中国大陆手机号码（以 13-19 开头）", "phone_invalid")
    return phone


def door_size(number: int, doors: int) -> str:
    """The bank's layout: the first half small, the next ~30 % medium, the rest large."""
    small = max(1, doors // 2)
    medium = max(1, (doors * 3) // 10)
    if number <= small:
        return "S"
    if number <= small + medium:
        return "M"
    return "L"


def door_key(bank: str, number: int) -> str:
    return f"{bank}-{number:02d}"


def door_number(key: str) -> int:
    return int(key.rsplit("-", 1)[1])


def door_label(key: str) -> str:
    """On screen and on the slip: ``A-07``."""
    return f"A-{door_number(key):02d}"


def bank_label(bank: str) -> str:
    return f"{bank}号智能柜"


def fitting_sizes(size: str) -> tuple[str, ...]:
    """A request fits its own size and the larger ones, smallest first."""
    return SIZE_ORDER[SIZE_ORDER.index(size):]


# -- the service -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """What the locker keeps of an identified applicant (the holder id only as its hash)."""

    holder_id: str
    name_masked: str
    id_masked: str


def holder_of(applicant: Any) -> Holder:
    return Holder(applicant.holder_id, mask_name(applicant.name),
                     mask_id_number(applicant.holder_id))


@dataclass(frozen=True)
class Opened:
    """A door open for an operation; ``skipped``: doors that did not open on the way."""

    door: str
    item: str
    op: str
    skipped: tuple[str, ...] = ()


class LockerService:
    """The locker's steps over ``ctx.records``, the board and the outbox."""

    def __init__(self, ctx: Any, board: Any, settings: LockerSettings | None = None) -> None:
        self.ctx = ctx
        self.board = board
        self.settings = settings or LockerSettings.from_settings(ctx.settings)
        self.records = ctx.records

    # -- set-up -------------------------------------------------------------------------

    @property
    def doors(self) -> int:
        return int(self.board.doors)

    def door_keys(self) -> list[str]:
        return [door_key(self.settings.bank, n) for n in range(1, self.doors + 1)]

    def ensure_doors(self) -> None:
        """Create the bank's door records once (safe when two kiosks start together)."""
        existing = {r.key for r in self.records.find("door", limit=10_000)}
        for n in range(1, self.doors + 1):
            key = door_key(self.settings.bank, n)
            if key in existing:
                continue
            with contextlib.suppress(RecordExists):
                self.records.create("door", key, {}, state=FREE)

    def now(self) -> dt.datetime:
        return self.ctx.clock()

    # -- helpers ------------------------------------------------------------------------

    def _item(self, key: str) -> Record:
        record = self.records.get("item", key)
        if record is None:
            raise LockerFlowError("没有找到这件办件", "no_item")
        return record

    def _door(self, key: str) -> Record:
        record = self.records.get("door", key)
        if record is None:
            raise LockerFlowError("没有这个柜门", "no_door")
        return record

    def _move_item(self, key: str, from_state: str, to_state: str,
                   changes: dict[str, Any] | None = None) -> Record:
        """CAS an item from ``from_state``; an item already in ``to_state`` counts as moved."""
        for _ in range(5):
            item = self._item(key)
            if item.state == to_state:
                return item
            if item.state != from_state:
                raise LockerFlowError(
                    f"办件状态已变化（{ITEM_LABELS.get(item.state, item.state)}），请刷新后重试",
                    "item_changed")
            data = {**item.data, **(changes or {}),
                    "history": [*item.data.get("history", []),
                                [to_state, self.now().isoformat(timespec="seconds")]]}
            try:
                return self.records.update("item", key, expect_version=item.version,
                                           state=to_state, data=data)
            except RecordConflict:
                continue
        raise LockerFlowError("办件正被另一台终端处理，请稍后重试", "item_busy")

    def _move_door(self, key: str, from_states: str | Iterable[str], to_state: str,
                   data: dict[str, Any]) -> Record:
        return self.records.update("door", key, expect_state=from_states, state=to_state,
                                   data=data)

    def _enqueue(self, path: str, call: str, body: dict[str, Any], key: str) -> None:
        outbox = self.ctx.outbox
        if outbox is None:
            return
        outbox.enqueue(PLATFORM_POST, platform_post(path, call, body), key)
        self.ctx.wake_outbox()

    def kiosk_name(self) -> str:
        return bank_label(self.settings.bank)

    # -- opening a door -----------------------------------------------------------------

    def _open(self, door: str, op: str, item: str, from_state: str) -> None:
        """from_state → opening → open, with retries; DoorJammed when it stayed shut."""
        started = {"op": op, "item": item, "kiosk": self.ctx.workstation_id,
                   "at": self.now().isoformat(timespec="seconds")}
        self._move_door(door, from_state, OPENING, started)
        last: LockerError | None = None
        for attempt in range(self.settings.open_attempts):
            try:
                self.board.open_door(door_number(door))
            except DoorJammed as exc:
                log.info("locker door did not open (attempt %d)", attempt + 1)
                last = exc
                continue
            except BoardNotAnswering:
                # unknown whether it opened: the door stays "opening"; recover() decides once
                # the board answers again
                raise
            self._move_door(door, OPENING, OPEN, started)
            return
        assert last is not None
        raise last

    def _jammed(self, door: str, op: str, item: str) -> None:
        """A door that would not open: an empty one leaves service, an occupied one keeps its
        item (staff must free it)."""
        if OPS[op][0] == OCCUPIED:
            self._move_door(door, OPENING, OCCUPIED, {"item": item, "jammed": True})
        else:
            self._move_door(door, OPENING, FAULT, {"jammed": True})
        self.ctx.audit.record("locker_door_fault", door=door, op=op)

    # -- deposit ------------------------------------------------------------------------

    def start_deposit(self, applicant: Holder, phone: str, matter: str, size: str
                      ) -> Opened:
        """Create the item, take a free door of a fitting size and open it. A door that does
        not open after the retries leaves service and the next fitting door is taken."""
        phone = check_phone(phone)
        if size not in SIZES:
            raise LockerFlowError("请选择材料规格", "size_missing")
        item_key = f"D{self.now().astimezone(CHINA_TZ):%Y%m%d}-{secrets.token_hex(3).upper()}"
        self.records.create("item", item_key, {
            "phone": phone, "matter": matter, "size": size,
            "name_masked": applicant.name_masked, "id_masked": applicant.id_masked,
            "kiosk": self.ctx.workstation_id, "bank": self.settings.bank,
            "history": [[DEPOSITING, self.now().isoformat(timespec="seconds")]],
        }, state=DEPOSITING, holder_id=applicant.holder_id)
        self.ctx.audit.record("locker_deposit_started", holder_id=applicant.holder_id,
                              item=item_key, size=size)
        return self._allocate_and_open(item_key, size, "deposit")

    def _candidates(self, size: str, exclude: Sequence[str] = ()) -> list[str]:
        keys = []
        for wanted in fitting_sizes(size):
            keys += [k for k in self.door_keys()
                     if door_size(door_number(k), self.doors) == wanted and k not in exclude]
        return keys

    def _allocate_and_open(self, item_key: str, size: str, op: str) -> Opened:
        skipped: list[str] = []
        while True:
            keys = self._candidates(size, skipped)
            claimed = self.records.claim_first(
                "door", keys, from_state=FREE, to_state=RESERVED,
                data={"item": item_key, "op": op, "kiosk": self.ctx.workstation_id},
            ) if keys else None
            if claimed is None:
                if op == "deposit":
                    self._move_item(item_key, DEPOSITING, CANCELLED)
                raise LockerFlowError(
                    "暂无空闲的合适柜门，请稍后再试或到窗口办理" if not skipped else
                    "柜门未能打开且没有其他空闲的合适柜门，请联系工作人员", "no_door")
            door = claimed.key
            try:
                self._open(door, op, item_key, RESERVED)
            except DoorJammed:
                self._jammed(door, op, item_key)
                skipped.append(door)
                continue
            self._move_item_door(item_key, door, op)
            return Opened(door, item_key, op, tuple(skipped))

    def _move_item_door(self, item_key: str, door: str, op: str) -> None:
        """Remember on the item which door holds it (same state, version CAS)."""
        field = "door" if op == "deposit" else "result_door"
        for _ in range(5):
            item = self._item(item_key)
            if item.data.get(field) == door:
                return
            try:
                self.records.update("item", item_key, expect_version=item.version,
                                    data={**item.data, field: door})
                return
            except RecordConflict:
                continue

    def door_state(self, door: str) -> DoorState:
        return self.board.door(door_number(door))

    def complete(self, door: str, *, confirmed: bool = True) -> Record:
        """The door closed after its operation: finish it (idempotent; see module doc)."""
        record = self._door(door)
        op, item_key = record.data.get("op"), record.data.get("item")
        if record.state not in (OPEN, OPENING) or op not in OPS or not item_key:
            # finished already (by another process), or nothing to finish
            return self._item(item_key) if item_key else record
        _door_before, item_from, item_to, door_to = OPS[op]
        now = self.now()
        changes: dict[str, Any] = {}
        if op == "deposit":
            changes = {"deposited_at": now.isoformat(timespec="seconds"),
                       "confirmed": confirmed}
        elif op == "takeout":
            changes = {"taken_at": now.isoformat(timespec="seconds"),
                       "taken_by": self.ctx.operator() or ""}
        elif op == "result":
            changes = {"result_at": now.isoformat(timespec="seconds"),
                       "code": f"{secrets.randbelow(1_000_000):06d}",
                       "code_expires": (now + dt.timedelta(days=self.settings.pickup_days)
                                        ).isoformat(timespec="seconds"),
                       "attempts": 0, "locked_until": ""}
        elif op == "pickup":
            changes = {"collected_at": now.isoformat(timespec="seconds")}
        item = self._item(item_key)
        if item.state == item_from and op == "result" and item.data.get("code"):
            changes.pop("code")  # a code sent before is kept
        item = self._move_item(item_key, item_from, item_to, changes)
        self._notify(op, item, door)
        door_data = {"item": item_key} if door_to == OCCUPIED else {}
        with contextlib.suppress(RecordConflict):  # another process finished it meanwhile
            self._move_door(door, (OPEN, OPENING), door_to, door_data)
        self.ctx.audit.record(f"locker_{op}_done", holder_id=None, item=item_key,
                              door=door, confirmed=confirmed)
        return item

    def _notify(self, op: str, item: Record, door: str) -> None:
        data = item.data
        common = {"item": item.key, "kiosk": self.kiosk_name(), "door": door_label(door)}
        if op == "deposit":
            self._enqueue(f"/api/v1/{DEPOSITS}", "locker/deposits", {
                **common, "size": data.get("size", "S"), "matter": data.get("matter", ""),
                "phone_masked": mask_phone(data.get("phone", "")),
                "unconfirmed": not data.get("confirmed", True),
            }, f"locker:{item.key}:deposited")
        elif op == "result":
            self.send_pickup_code(item, door)
        elif op == "pickup":
            self._enqueue(f"/api/v1/{COLLECTIONS}", "locker/collections", common,
                          f"locker:{item.key}:collected")

    def send_pickup_code(self, item: Record, door: str, *, again: int = 0) -> None:
        data = item.data
        key = f"locker:{item.key}:pickup" + (f":{again}" if again else "")
        self._enqueue(f"/api/v1/{PICKUP_NOTICES}", "locker/pickup-notices", {
            "item": item.key, "kiosk": self.kiosk_name(), "door": door_label(door),
            "matter": data.get("matter", ""), "phone": data.get("phone", ""),
            "code": data.get("code", ""), "expires_at": data.get("code_expires", ""),
        }, key)

    def abandon(self, door: str) -> None:
        """Roll back an operation whose door never opened (reserved/opening, sensor closed)."""
        record = self._door(door)
        op, item_key = record.data.get("op"), record.data.get("item")
        if op not in OPS or not item_key:
            self._move_door(door, (RESERVED, OPENING), FREE, {})
            return
        door_before = OPS[op][0]
        if op == "deposit":
            with contextlib.suppress(LockerFlowError):  # it went on elsewhere
                self._move_item(item_key, DEPOSITING, CANCELLED)
        rest = {"item": item_key} if door_before == OCCUPIED else {}
        self._move_door(door, (RESERVED, OPENING), door_before if door_before == OCCUPIED
                        else FREE, rest)
        self.ctx.audit.record("locker_rolled_back", item=item_key, door=door, op=op)

    # -- recovery -----------------------------------------------------------------------

    def recover(self, *, everything: bool = False) -> list[tuple[str, str]]:
        """Bring unfinished operations to a consistent end after a crash or a wiped session.

        For each door in ``reserved``/``opening``/``open`` started by this kiosk (or by any
        kiosk, when stale or ``everything``), ask the board: still open → leave it (someone
        is at the door); closed → complete it if it was recorded open, else roll it back.
        Returns (door, action) pairs; the board not answering leaves everything as it is.
        """
        actions: list[tuple[str, str]] = []
        stale = self.now() - dt.timedelta(minutes=self.settings.stale_minutes)
        for record in self.records.find("door", state=(RESERVED, OPENING, OPEN), limit=10_000):
            if not record.key.startswith(f"{self.settings.bank}-"):
                continue
            mine = record.data.get("kiosk") == self.ctx.workstation_id
            if not (mine or everything or record.updated_at < stale):
                continue
            try:
                sensor = self.door_state(record.key)
            except LockerError:
                actions.append((record.key, "board_not_answering"))
                break
            try:
                if sensor is DoorState.OPEN:
                    if record.state != OPEN:  # it opened after all
                        self._move_door(record.key, record.state, OPEN, record.data)
                    actions.append((record.key, "still_open"))
                elif record.state == OPEN:
                    self.complete(record.key, confirmed=False)
                    actions.append((record.key, "completed"))
                else:
                    self.abandon(record.key)
                    actions.append((record.key, "rolled_back"))
            except (RecordConflict, LockerFlowError):
                actions.append((record.key, "changed_meanwhile"))
        if actions:
            log.info("locker recovery: %s", [a for _, a in actions])
        return actions

    # -- staff --------------------------------------------------------------------------

    def items(self, states: Iterable[str] | None = None) -> list[Record]:
        wanted = tuple(states) if states is not None else (
            DEPOSITED, TAKEN, PROCESSED, RESULT_READY)
        return self.records.find("item", state=wanted, limit=500)

    def door_records(self) -> list[Record]:
        records = {r.key: r for r in self.records.find("door", limit=10_000)}
        return [records[k] for k in self.door_keys() if k in records]

    def start_takeout(self, item_key: str) -> Opened:
        item = self._item(item_key)
        if item.state != DEPOSITED:
            raise LockerFlowError("该办件不在“已投递”状态，不能取件", "item_changed")
        door = item.data.get("door", "")
        try:
            self._open(door, "takeout", item_key, OCCUPIED)
        except DoorJammed:
            self._jammed(door, "takeout", item_key)
            raise
        return Opened(door, item_key, "takeout")

    def mark_processed(self, item_key: str) -> Record:
        item = self._move_item(item_key, TAKEN, PROCESSED,
                               {"processed_by": self.ctx.operator() or ""})
        self.ctx.audit.record("locker_processed", item=item_key)
        return item

    def start_result(self, item_key: str, size: str = "S") -> Opened:
        item = self._item(item_key)
        if item.state != PROCESSED:
            raise LockerFlowError("请先将办件标记为已办结，再放入结果证照", "item_changed")
        return self._allocate_and_open(item_key, size, "result")

    def resend_code(self, item_key: str) -> Record:
        """Staff: text the pickup code again and lift a wrong-code lock (the applicant proved
        who they are at the counter)."""
        for _ in range(5):
            item = self._item(item_key)
            if item.state != RESULT_READY:
                raise LockerFlowError("该办件没有待领取的结果证照", "item_changed")
            sends = int(item.data.get("resends", 0)) + 1
            data = {**item.data, "attempts": 0, "locked_until": "", "resends": sends}
            try:
                item = self.records.update("item", item_key, expect_version=item.version,
                                           data=data)
            except RecordConflict:
                continue
            self.send_pickup_code(item, str(item.data.get("result_door", "")), again=sends)
            self.ctx.audit.record("locker_code_resent", item=item_key)
            return item
        raise LockerFlowError("办件正被另一台终端处理，请稍后重试", "item_busy")

    def clear_fault(self, door: str) -> None:
        self._move_door(door, FAULT, FREE, {})
        self.ctx.audit.record("locker_door_cleared", door=door)

    # -- pickup -------------------------------------------------------------------------

    def ready_items(self, holder_id: str) -> list[Record]:
        return self.records.find("item", holder_id=holder_id, state=RESULT_READY)

    def locked_until(self, items: Sequence[Record]) -> dt.datetime | None:
        now = self.now()
        until = [dt.datetime.fromisoformat(i.data["locked_until"]) for i in items
                 if i.data.get("locked_until")]
        later = [u for u in until if u > now]
        return max(later) if later else None

    def check_code(self, holder_id: str, code: str) -> tuple[Record | None, int]:
        """(the item the code opens, attempts left). A wrong code counts against every ready
        item of the applicant; at the limit they are locked for ``lock_minutes``."""
        items = self.ready_items(holder_id)
        if not items:
            raise LockerFlowError("没有查到您待领取的办件结果", "nothing_ready")
        if self.locked_until(items) is not None:
            raise LockerFlowError("取件码错误次数过多，已暂时锁定", "locked")
        code = (code or "").strip()
        if not (len(code) == 6 and code.isdigit()):
            raise LockerFlowError("请输入短信中的 6 位取件码", "code_format")
        now = self.now()
        for item in items:
            expires = item.data.get("code_expires")
            if hmac.compare_digest(str(item.data.get("code", "")), code):
                if expires and dt.datetime.fromisoformat(expires) < now:
                    raise LockerFlowError("取件码已过期，请联系工作人员", "code_expired")
                return item, self.settings.max_code_attempts
        left = self.settings.max_code_attempts
        for item in items:
            left = min(left, self._count_wrong(item.key))
        self.ctx.audit.record("locker_wrong_code", holder_id=holder_id, left=left)
        return None, left

    def _count_wrong(self, key: str) -> int:
        for _ in range(5):
            item = self._item(key)
            attempts = int(item.data.get("attempts", 0)) + 1
            data = {**item.data, "attempts": attempts}
            if attempts >= self.settings.max_code_attempts:
                until = self.now() + dt.timedelta(minutes=self.settings.lock_minutes)
                data.update(attempts=0, locked_until=until.isoformat(timespec="seconds"))
            try:
                self.records.update("item", key, expect_version=item.version, data=data)
            except RecordConflict:
                continue
            return 0 if attempts >= self.settings.max_code_attempts else (
                self.settings.max_code_attempts - attempts)
        return 0

    def start_pickup(self, item: Record) -> Opened:
        door = item.data.get("result_door", "")
        # a correct code clears the wrong attempts
        with contextlib.suppress(RecordConflict):
            self.records.update("item", item.key, expect_version=item.version,
                                data={**item.data, "attempts": 0})
        try:
            self._open(door, "pickup", item.key, OCCUPIED)
        except DoorJammed:
            self._jammed(door, "pickup", item.key)
            raise LockerFlowError(f"{door_label(door)} 号柜门未能打开，请联系工作人员",
                                  "door_jammed") from None
        return Opened(door, item.key, "pickup")


def _local(iso: str) -> str:
    if not iso:
        return ""
    return f"{dt.datetime.fromisoformat(iso).astimezone(CHINA_TZ):%m-%d %H:%M}"


def describe_item(item: Record) -> dict[str, str]:
    """What the staff page shows of an item (masked)."""
    data = item.data
    door = data.get("result_door") if item.state in (RESULT_READY, COLLECTED) else \
        data.get("door")
    return {
        "item": item.key, "state": ITEM_LABELS.get(item.state, item.state),
        "matter": data.get("matter", ""), "size": data.get("size", ""),
        "door": door_label(door) if door and item.state in (DEPOSITED, RESULT_READY) else "—",
        "applicant": f"{data.get('name_masked', '')} {data.get('id_masked', '')}".strip(),
        "phone": mask_phone(data.get("phone", "")),
        "at": _local(data.get("deposited_at") or ""),
        "unconfirmed": "是" if data.get("confirmed") is False else "",
    }


def slip_data(item: Record, door: str, *, issuing_unit: str, bank: str, location: str,
              clock: Callable[[], dt.datetime]) -> dict[str, Any]:
    """The fields of the deposit slip (printed through the ``locker_slip`` template)."""
    data = item.data
    at = dt.datetime.fromisoformat(data.get("deposited_at") or clock().isoformat())
    return {
        "issuing_unit": issuing_unit, "locker_bank": bank_label(bank),
        "locker_no": door_label(door), "item": data.get("matter", ""),
        "deposited_at": at.astimezone(CHINA_TZ).replace(tzinfo=None),
        "location": location, "holder_label": data.get("name_masked", ""),
        "case_number": item.key,
    }
