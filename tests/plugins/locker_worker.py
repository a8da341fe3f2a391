"""A kiosk process for the locker kill test (run as ``python -m tests.plugins.locker_worker``).

``deposit``: starts a deposit on the locker board at ``--port`` (a simulator's pty), prints the
opened door as one JSON line, then waits for the door to close and completes it (the test
kills it before that). ``recover``: runs the locker's recovery once and prints its actions.
Both use the workstation database in ``--data-dir``, exactly as a restarted kiosk would.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

from devices.locker.protocol import DoorState
from plugins.locker.logic import Holder, LockerService, LockerSettings
from workstation.config import Config, DevicesConfig, PlatformConfig
from workstation.core import Workstation
from workstation.plugins import load_plugins


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("action", choices=("deposit", "recover"))
    p.add_argument("--data-dir", required=True)
    p.add_argument("--sandbox", required=True)
    p.add_argument("--port", required=True)
    p.add_argument("--holder", default="")
    p.add_argument("--phone", default="13912345678")
    args = p.parse_args(argv)
    config = Config(workstation_id="KIOSK-KILL", mode="kiosk", data_dir=Path(args.data_dir),
                    platform=PlatformConfig(base_url=args.sandbox, timeout_s=3.0,
                                            health_interval_s=3600),
                    devices=DevicesConfig(locker=f"serial:{args.port}", locker_timeout_s=0.2))
    core = Workstation(config, args.sandbox, load_plugins())
    ctx = core.context_for(core.plugins.scenario("locker"))
    svc = LockerService(ctx, ctx.locker(), LockerSettings())
    svc.ensure_doors()
    if args.action == "recover":
        print(json.dumps(svc.recover()), flush=True)
        core.close()
        return 0
    opened = svc.start_deposit(Holder(args.holder, "张*", "4212**********0018"), args.phone,
                               "不动产登记", "M")
    print(json.dumps({"door": opened.door, "item": opened.item}), flush=True)
    wait = threading.Event()
    while svc.door_state(opened.door) is DoorState.OPEN:
        wait.wait(0.1)
    svc.complete(opened.door)
    print(json.dumps({"completed": opened.item}), flush=True)
    core.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
