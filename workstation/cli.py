"""The `mianzheng` command.

    mianzheng run [--kiosk] [--config FILE]   open the workstation
    mianzheng sandbox [--port N]             serve the sandbox platforms
    mianzheng plugins                        loaded plugins, manifests, load errors
    mianzheng audit verify                   check the audit hash chain
    mianzheng cache stats | purge [--all]    the offline licence cache
    mianzheng verify CODE [--pdf FILE]       was this document issued here; is this PDF it
    mianzheng new-plugin NAME --dest DIR     generate a scenario plugin package
    mianzheng card insert --person ID | remove  the running workstation's virtual card
    mianzheng idcard place --person ID | take   its simulated ID-card reader
    mianzheng locker status | close N | jam N | unjam N   its simulated locker board
    mianzheng devices [--self-test] [--json]  configured devices, their state, a self-test
    mianzheng qr decode FILE...              decode QR codes in image files

Imports are deferred to each sub-command so `run` starts fast.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from pathlib import Path
from typing import Any

from workstation.config import EMBEDDED, Config, ConfigError, load_config


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mianzheng", description="免证办工作台 / 免证办 workstation")
    p.add_argument("--config", type=Path, help="TOML configuration file / 配置文件")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="open the workstation / 打开工作台")
    run.add_argument("--kiosk", action="store_true", help="self-service kiosk mode / 自助终端模式")
    run.add_argument("--config", type=Path, dest="run_config", help="TOML configuration file")
    run.add_argument("--no-demo-phone", action="store_true", help="do not open the demo phone")

    sb = sub.add_parser("sandbox", help="serve the sandbox platforms / 启动沙箱平台")
    sb.add_argument("--port", type=int, default=8750)
    sb.add_argument("--host", default="127.0.0.1")

    pl = sub.add_parser("plugins", help="list plugins / 列出插件")
    pl.add_argument("--json", action="store_true")

    audit = sub.add_parser("audit", help="audit log / 审计日志")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="verify the hash chain / 校验哈希链")

    ops = sub.add_parser("operators", help="clerk accounts / 窗口人员账号")
    ops_sub = ops.add_subparsers(dest="operators_command", required=True)
    ops_sub.add_parser("list", help="list accounts / 列出账号")
    add = ops_sub.add_parser("add", help="create an account / 新建账号")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="display name / 姓名")
    passwd = ops_sub.add_parser("passwd", help="set a password / 设置密码")
    passwd.add_argument("username")
    for verb in ("disable", "enable"):
        p_ = ops_sub.add_parser(verb, help=f"{verb} an account")
        p_.add_argument("username")

    verify = sub.add_parser("verify", help="verify an issued document / 核验文书真伪")
    verify.add_argument("code", help="verification code / 验证码 (XXXX-XXXX-XXXX-XXXX)")
    verify.add_argument("--pdf", type=Path, help="a PDF file to compare / 待核对的 PDF 文件")
    verify.add_argument("--online", action="store_true",
                        help="ask the platform instead of this workstation's database / 向平台查询")

    cache = sub.add_parser("cache", help="offline licence cache / 离线证照缓存")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True)
    cache_sub.add_parser("stats", help="show statistics / 统计")
    purge = cache_sub.add_parser("purge", help="delete cached licences / 清除缓存")
    purge.add_argument("--all", action="store_true", help="also those still valid / 包括未过期的")
    _add_new_plugin_parser(sub)

    card = sub.add_parser("card", help="the simulated card reader's virtual card / 模拟社保卡")
    card_sub = card.add_subparsers(dest="card_command", required=True)
    insert = card_sub.add_parser("insert", help="insert a sandbox citizen's card / 插卡")
    insert.add_argument("--person", required=True, help="the citizen's ID number / 证件号码")
    insert.add_argument("--pull-after", type=int, metavar="N",
                        help="the card leaves after N commands (pulled mid-read) / 读到一半拔卡")
    insert.add_argument("--foreign", action="store_true",
                        help="another kind of card (unknown ATR) / 插入一张非社保卡")
    card_sub.add_parser("remove", help="pull the card out / 拔卡")

    idcard = sub.add_parser("idcard", help="the simulated ID-card reader / 模拟身份证阅读器")
    idcard_sub = idcard.add_subparsers(dest="idcard_command", required=True)
    place = idcard_sub.add_parser("place", help="place a citizen's ID card / 放证")
    place.add_argument("--person", required=True, help="the citizen's ID number / 证件号码")
    idcard_sub.add_parser("take", help="take the card away / 取走")

    locker = sub.add_parser("locker", help="the simulated locker board / 模拟储物柜")
    locker_sub = locker.add_subparsers(dest="locker_command", required=True)
    locker_sub.add_parser("status", help="open and jammed doors / 柜门状态")
    for name, what in (("close", "shut a door / 关门"), ("jam", "a door will not open / 卡住"),
                       ("unjam", "clear a jam / 解除卡住")):
        one = locker_sub.add_parser(name, help=what)
        one.add_argument("door", type=int, help="door number / 柜门号")

    qr = sub.add_parser("qr", help="QR codes in image files / 图片中的二维码")
    qr_sub = qr.add_subparsers(dest="qr_command", required=True)
    decode = qr_sub.add_parser("decode", help="decode image files / 解码图片")
    decode.add_argument("files", nargs="+", type=Path)

    dev = sub.add_parser("devices", help="configured devices and self-test / 设备与自检")
    dev.add_argument("--self-test", action="store_true",
                     help="exercise every device once / 逐个自检")
    dev.add_argument("--json", action="store_true")
    return p


def _add_new_plugin_parser(sub: Any) -> None:
    new = sub.add_parser("new-plugin", help="generate a scenario plugin package / 生成场景插件")
    new.add_argument("name", help="package and scenario id, e.g. housing_fund / 插件名")
    new.add_argument("--dest", type=Path, required=True, help="new directory / 目标目录")
    new.add_argument("--title", default="新场景", help="tile title (Chinese) / 磁贴标题")
    new.add_argument("--audience", choices=["clerk", "kiosk", "both"], default="clerk",
                     help="clerk window, self-service kiosk, or both / 使用对象")
    new.add_argument("--licence-types", default="id_card,household_register",
                     help="comma-separated licence types the scenario fetches / 证照类型")


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs request URLs at INFO, and those carry licence ids and consent references
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    config_path = getattr(args, "run_config", None) or args.config
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(f"配置错误 / configuration error: {exc.key}: {exc.reason}", file=sys.stderr)
        return 2
    try:
        return _dispatch(config, args, started)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the CLI reports, it does not print tracebacks at people
        if args.verbose:
            raise
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        print(f"错误 / error: {type(exc).__name__}: {message}", file=sys.stderr)
        return 2


class MissingData(RuntimeError):
    pass


def _dispatch(config: Config, args: argparse.Namespace, started: float) -> int:
    if args.command == "run":
        return _run(config, args, started)
    if args.command == "sandbox":
        from sandbox.server import main as sandbox_main

        return sandbox_main(["--host", args.host, "--port", str(args.port)])
    if args.command == "plugins":
        return _plugins(config, as_json=args.json)
    if args.command == "audit":
        return _audit_verify(config)
    if args.command == "operators":
        return _operators(config, args)
    if args.command == "verify":
        return _verify(config, args.code, args.pdf, online=args.online)
    if args.command == "cache":
        return _cache(config, args.cache_command, purge_all=getattr(args, "all", False))
    if args.command == "new-plugin":
        return _new_plugin(args)
    if args.command == "card":
        return _card(config, args)
    if args.command == "idcard":
        return _idcard(config, args)
    if args.command == "locker":
        return _locker(config, args)
    if args.command == "qr":
        return _qr_decode(config, args.files)
    if args.command == "devices":
        return _devices(config, self_test=args.self_test, as_json=args.json)
    return 2


def _new_plugin(args: argparse.Namespace) -> int:
    from workstation.manifest import Audience
    from workstation.scaffold import PluginSpec, ScaffoldError, generate

    audiences = {"clerk": (Audience.CLERK,), "kiosk": (Audience.KIOSK,),
                 "both": (Audience.CLERK, Audience.KIOSK)}[args.audience]
    spec = PluginSpec(
        name=args.name, title=args.title, audiences=audiences,
        licence_types=tuple(t.strip() for t in args.licence_types.split(",") if t.strip()),
    )
    try:
        files = generate(spec, args.dest)
    except ScaffoldError as exc:
        print(f"错误 / error: {exc.message}", file=sys.stderr)
        return 2
    dest = args.dest.resolve()
    bin_dir = Path(sys.executable).parent  # this environment's scripts, whatever the PATH
    print(f"已生成插件 {spec.name}（{len(files)} 个文件）/ generated {spec.distribution} in {dest}")
    print("下一步 / next:")
    print(f"  {bin_dir / 'pip'} install -e {dest}")
    print(f"  {bin_dir / 'mianzheng'} plugins    # lists it / 列出插件")
    print(f"  {bin_dir / 'mianzheng'} run        # shows its tile / 显示磁贴")
    print(f"  cd {dest} && {sys.executable} -m pytest")
    print("指南 / guide: docs/plugins/guide.md")
    return 0


def _open_store(config: Config, *, create: bool = False) -> tuple[Any, Any]:
    """Open the workstation's key and database; inspecting commands never create them (a
    mistyped data_dir must not read as an empty, intact audit log)."""
    from workstation.core import prepare_private_dir
    from workstation.services.crypto import FieldCipher
    from workstation.services.store import Store, check_key_fingerprint

    if not create:
        missing = [p for p in (config.key_file,) if not p.exists()]
        url = config.effective_database_url
        if url.startswith("sqlite:///"):
            db = Path(url.removeprefix("sqlite:///"))
            if not db.exists():
                missing.append(db)
        if missing:
            raise MissingData(
                "没有找到工作站数据（请检查 data_dir / database.url 配置）"
                f" / no workstation data at {', '.join(map(str, missing))}"
            )
    prepare_private_dir(config.data_dir)
    cipher = FieldCipher.from_key_file(config.key_file)
    store = Store.open(config.effective_database_url)
    try:
        check_key_fingerprint(store, cipher, key_file=config.key_file)
    except Exception:
        store.close()
        raise
    return cipher, store


def _run(config: Config, args: argparse.Namespace, started: float) -> int:
    from dataclasses import replace

    if args.kiosk:
        config = replace(config, mode="kiosk")
    from workstation.ui.app import run_gui

    with contextlib.ExitStack() as stack:
        platform_url = config.platform.base_url
        embedded = platform_url == EMBEDDED
        if embedded:
            from workstation.embedded import EmbeddedSandbox

            platform_url = stack.enter_context(EmbeddedSandbox()).url
            logging.getLogger(__name__).info("embedded sandbox at %s", platform_url)
        card_readers = [f for f in (_card_reader_factory(config, stack),
                                    _id_reader_factory(config, stack)) if f is not None]

        def build_core() -> Any:
            from workstation.core import Workstation
            from workstation.plugins import load_plugins

            plugins = load_plugins(blocked=config.blocked_plugins)
            return Workstation(config, platform_url, plugins)

        after_attach = None
        if embedded and not args.no_demo_phone:
            after_attach = _open_demo_phone
        return run_gui(
            kiosk=config.kiosk_mode, build_core=build_core, after_attach=after_attach,
            started=started, card_readers=card_readers,
        )


def _card_reader_factory(config: Config, stack: contextlib.ExitStack) -> Any:
    """A callable that builds the configured card reader, or None for "none".

    The shell calls it off the GUI thread after the first paint (its imports and the embedded
    pcscd stay off the start-up path). For "simulated" it first starts the embedded device
    stack (private pcscd + vpcd + virtual card), which exports the pcscd socket before this
    process's first PC/SC call (the reader starts only after it).
    """
    kind = config.devices.kind("card_reader")
    if kind == "none":
        return None
    started: list[Any] = []
    # run_gui waits for the factory to finish before returning, so this runs after it
    stack.callback(lambda: [embedded.stop() for embedded in started])

    def make() -> Any:
        from workstation.devices import build_card_reader, virtual_card_state_file

        if kind != "simulated":
            return build_card_reader(config.devices)
        from workstation.embedded import EmbeddedDevices

        embedded = EmbeddedDevices(virtual_card_state_file(config))
        started.append(embedded)
        embedded.start()
        print("模拟读卡器已就绪：mianzheng card insert --person 证件号码 / "
              "simulated card reader ready", flush=True)
        return build_card_reader(config.devices, simulated_reader=embedded.reader)

    return make


def _id_reader_factory(config: Config, stack: contextlib.ExitStack) -> Any:
    """Like _card_reader_factory, for the second-generation ID-card reader."""
    kind = config.devices.kind("id_card_reader")
    if kind == "none":
        return None
    started: list[Any] = []
    stack.callback(lambda: [embedded.stop() for embedded in started])

    def make() -> Any:
        from workstation.devices import build_id_card_reader, id_reader_state_file

        if kind != "simulated":
            return build_id_card_reader(config.devices)
        from workstation.embedded import EmbeddedIdCardReader

        embedded = EmbeddedIdCardReader(id_reader_state_file(config))
        started.append(embedded)
        embedded.start()
        print("模拟身份证阅读器已就绪：mianzheng idcard place --person 证件号码 / "
              "simulated ID-card reader ready", flush=True)
        return build_id_card_reader(config.devices, simulated_port=embedded.port)

    return make


def _idcard(config: Config, args: argparse.Namespace) -> int:
    """Place a sandbox citizen's ID card on the running workstation's simulated reader."""
    from workstation.devices import id_reader_control

    control = id_reader_control(config)
    if args.idcard_command == "take":
        control.request(op="take")
        print("已取走身份证 / ID card taken away")
        return 0
    from sandbox.cards import NoSuchCardHolder, id_card_data_for

    try:
        card = id_card_data_for(args.person.strip().upper())
    except NoSuchCardHolder as exc:
        print(f"错误 / error: {exc.message}", file=sys.stderr)
        return 1
    control.request(op="place", card=card)
    print(f"已放置身份证：{card['name'][0]}** / ID card placed")
    return 0


def _locker(config: Config, args: argparse.Namespace) -> int:
    """Drive the running workstation's simulated locker board (the demo's hands)."""
    from workstation.devices import locker_control

    control = locker_control(config)
    if args.locker_command == "status":
        reply = control.request(op="status")
        opened = "、".join(str(d) for d in reply["open"]) or "无"
        jammed = "、".join(str(d) for d in reply["jammed"]) or "无"
        print(f"共 {reply['doors']} 个柜门；打开：{opened}；卡住：{jammed}")
        return 0
    control.request(op=args.locker_command, door=args.door)
    print({"close": f"{args.door} 号柜门已关上 / door closed",
           "jam": f"{args.door} 号柜门将打不开 / door jammed",
           "unjam": f"{args.door} 号柜门恢复正常 / jam cleared"}[args.locker_command])
    return 0


def _qr_decode(config: Config, files: list[Path]) -> int:
    """Decode the QR code in each image file with the configured decoder chain."""
    from devices.errors import DeviceError
    from devices.qr.decoders import DecoderChain, decode_image_file
    from devices.qr.payload import ScanRejected, check_scanned_text, text_from_bytes

    chain = DecoderChain.from_names(config.devices.qr_decoders)
    failed = 0
    for path in files:
        try:
            found = decode_image_file(path, chain)
            if found is None:
                raise DeviceError("图片中没有找到二维码")
            text = check_scanned_text(text_from_bytes(found.payload))
        except (DeviceError, ScanRejected) as exc:
            failed += 1
            print(f"{path}: 失败 / failed: {exc.message}", file=sys.stderr)
            continue
        print(f"{path}\t{found.decoder}\t{text}")
    return 1 if failed else 0


def _devices(config: Config, *, self_test: bool, as_json: bool) -> int:
    """List the configured devices; with --self-test exercise each (simulators included)."""
    import json

    from workstation.devices import list_devices
    from workstation.devices import self_test as run_self_test

    reports = run_self_test(config) if self_test else list_devices(config)
    failed = [r for r in reports if r.ok is False or not r.usable]
    if as_json:
        print(json.dumps([r.to_json() for r in reports], ensure_ascii=False, indent=2))
        return 1 if failed else 0
    for r in reports:
        mark = {True: "通过 OK", False: "失败 FAIL", None: "—"}[r.ok]
        state = "可用 usable" if r.usable else "本机不可用 / not usable here"
        print(f"{r.title}  [{r.key} = \"{r.spec}\"]  {r.backend}  状态：{state}")
        if self_test and r.spec != "none":
            print(f"    自检 {mark}  {r.detail}  ({r.ms:.0f} ms)")
    if self_test:
        ok = len(reports) - len(failed)
        print(f"\n{ok}/{len(reports)} 项通过 / passed")
    return 1 if failed else 0


def _card(config: Config, args: argparse.Namespace) -> int:
    """Insert or pull the running workstation's virtual social security card."""
    from devices.cards.simulated import CardFaults, SocialSecurityCardProfile
    from workstation.devices import virtual_card_control

    control = virtual_card_control(config)
    if args.card_command == "remove":
        control.remove()
        print("已拔卡 / card removed")
        return 0
    from sandbox.cards import NoSuchCardHolder, card_data_for

    try:
        profile = SocialSecurityCardProfile.from_json(card_data_for(args.person.strip().upper()))
    except NoSuchCardHolder as exc:
        print(f"错误 / error: {exc.message}", file=sys.stderr)
        return 1
    control.insert(profile, CardFaults(vanish_after=args.pull_after, foreign=args.foreign))
    print(f"已插卡：{profile.name[0]}**（卡号 *{profile.card_number[-4:]}）/ card inserted")
    return 0


def _open_demo_phone(window: Any) -> None:
    """Beside the workstation: a demo phone showing sandbox citizens' identity codes."""
    import httpx

    from workstation.ui.demo_phone import DemoPhone

    core = window.core

    def people() -> list[dict[str, str]]:
        response = httpx.get(
            f"{core.platform_url}/sandbox/people", params={"limit": 30, "kind": "person"}
        )
        return list(response.json()["holders"])

    def show(holders: list[dict[str, str]]) -> None:
        phone = DemoPhone(
            holders,
            lambda holder_id, kind, source: core.platform.issue_code(holder_id, kind, source).code,
            window.code_scanned,
            fetch_sms=lambda: list(httpx.get(f"{core.platform_url}/sandbox/sms").json()
                                   ["messages"]),
        )
        screen = window.screen().availableGeometry()
        phone.move(screen.right() - 400, screen.top() + 80)
        phone.show()
        phone.refresh()
        window.demo_phone = phone

    window.tasks.submit(people, show, lambda exc: None)  # no phone if the sandbox is not up


def _plugins(config: Config, *, as_json: bool) -> int:
    import json

    from workstation.plugins import load_plugins

    loaded = load_plugins(blocked=config.blocked_plugins)
    rows: list[dict[str, Any]] = [
        {
            "plugin": name,
            "distribution": loaded.distributions.get(name, ""),
            "id": m.id,
            "title": m.title,
            "audiences": [a.value for a in m.audiences],
            "page": m.page,
            "licence_types": list(m.licence_types),
            "devices": list(m.devices),
            "sign_in": list(m.sign_in),
            "api_version": m.api_version,
        }
        for name, m in loaded.scenarios
    ]
    contributions: dict[str, dict[str, list[str]]] = {
        name: {"code_formats": [], "matters": [], "print_templates": []}
        for name, _ in loaded.manager.list_name_plugin()
    }
    for name, fmt in loaded.collect("register_code_formats"):
        contributions[name]["code_formats"].append(f"{fmt.kind}（{fmt.title}）")
    for name, matter in loaded.collect("register_matters"):
        contributions[name]["matters"].append(f"{matter.code} {matter.name}")
    for name, template in loaded.collect("register_print_templates"):
        contributions[name]["print_templates"].append(f"{template.key}（{template.title}）")
    errors = [e.__dict__ for e in loaded.errors]
    from workstation.api import API_VERSION

    if as_json:
        print(json.dumps({"scenarios": rows, "plugins": contributions, "errors": errors,
                          "blocked": loaded.blocked, "api_version": API_VERSION},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"已加载 {len(rows)} 个场景 / {len(rows)} scenarios loaded"
          f"（插件接口版本 / plugin API {API_VERSION}）")
    for r in rows:
        print(f"\n{r['id']}  {r['title']}  [{r['plugin']}, {r['distribution']}]")
        print(f"  audiences:     {', '.join(r['audiences'])}")
        print(f"  page:          {r['page']}")
        print(f"  licence types: {', '.join(r['licence_types']) or '-'}")
        print(f"  devices:       {', '.join(r['devices']) or '-'}")
        if r.get("sign_in"):
            print(f"  sign in:       {', '.join(r['sign_in'])}")
    print("\n插件及其贡献 / plugins and what they contribute")
    labels = {"code_formats": "code formats", "matters": "matters",
              "print_templates": "print templates"}
    for name, parts in contributions.items():
        print(f"\n{name}  [{loaded.distributions.get(name, '')}]")
        for key, label in labels.items():
            if parts[key]:
                print(f"  {label + ':':16} {'; '.join(parts[key])}")
    for b in loaded.blocked:
        print(f"\nblocked by configuration / 已按配置停用: {b}")
    for e in loaded.errors:
        print(f"\n加载失败 / load error: {e.plugin} ({e.stage}): {e.message}")
    return 0


def _audit_verify(config: Config) -> int:
    from workstation.services.audit import AuditLog

    cipher, store = _open_store(config)
    try:
        result = AuditLog(store, cipher, config.workstation_id).verify()
    finally:
        store.close()
    if result.ok:
        n = result.checked
        print(f"OK: {n} 条审计记录，哈希链完整 / {n} events, chain intact")
        return 0
    print(
        f"BROKEN: 第 {result.first_broken_seq} 条记录起哈希链断裂 / chain broken at event "
        f"{result.first_broken_seq}: {result.reason}"
    )
    return 1


def _verify(config: Config, code: str, pdf_path: Path | None, *, online: bool) -> int:
    """0: issued (and the PDF, if given, matches); 1: not issued or the PDF differs."""
    from printing.authenticity import InvalidCode, normalise_code, pdf_digest

    pdf: bytes | None = None
    if pdf_path is not None:
        try:
            pdf = pdf_path.read_bytes()
        except OSError as exc:
            print(f"错误 / error: 无法读取 {pdf_path}：{exc.strerror}", file=sys.stderr)
            return 2
    if online:
        from workstation.services.platform import PlatformClient

        if config.platform.base_url == EMBEDDED:
            print("错误 / error: 未配置平台地址（platform.base_url） / no platform configured",
                  file=sys.stderr)
            return 2
        try:
            clean = normalise_code(code)
        except InvalidCode as exc:
            print(f"NOT ISSUED: {exc.message}")
            return 1
        with PlatformClient(config.platform.base_url, config.platform.client_id,
                            config.platform.client_secret,
                            timeout_s=config.platform.timeout_s) as client:
            answer = client.verify_document(clean, pdf_digest(pdf) if pdf is not None else None)
        if not answer.get("issued"):
            print(f"NOT ISSUED: 平台未登记验证码 {clean} / no such document on the platform")
            return 1
        print(f"ISSUED: {answer.get('title')}，{answer.get('issuing_unit')}于 "
              f"{answer.get('issued_at')} 在工作站 {answer.get('workstation_id')} 出具")
        if pdf is not None:
            if answer.get("sha256_matches"):
                print("PDF MATCHES: 所提供的 PDF 与出具时的文件一致 / the PDF is the issued one")
                return 0
            print("PDF DIFFERS: 所提供的 PDF 与出具时的文件不一致 / the PDF was changed")
            return 1
        return 0
    from workstation.services.documents import IssuedDocuments

    cipher, store = _open_store(config)
    try:
        result = IssuedDocuments(store, cipher, config.workstation_id, "").verify(code, pdf)
    finally:
        store.close()
    if not result.issued:
        print(f"NOT ISSUED: {result.message}")
        return 1
    print(f"ISSUED: {result.message}")
    if result.pdf_matches is True:
        print("PDF MATCHES / 文件一致")
    elif result.pdf_matches is False:
        print("PDF DIFFERS / 文件不一致")
        return 1
    return 0


def _read_password() -> str:
    """The new password: twice from the terminal, or one line from a pipe (scripts)."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码 / password: ")
    if getpass.getpass("再次输入 / again: ") != first:
        raise ValueError("两次输入的密码不一致 / the passwords differ")
    return first


def _operators(config: Config, args: argparse.Namespace) -> int:
    from workstation.services.audit import AuditLog
    from workstation.services.operators import OperatorAccounts, OperatorError

    cipher, store = _open_store(config, create=args.operators_command == "add")
    try:
        accounts = OperatorAccounts(store, AuditLog(store, cipher, config.workstation_id))
        command = args.operators_command
        if command == "list":
            for op in accounts.list():
                state = "启用 active" if op.active else "停用 disabled"
                print(f"{op.username}\t{op.display_name}\t{state}")
            return 0
        try:
            if command == "add":
                accounts.create(args.username, args.name, _read_password(), created_by="cli")
            elif command == "passwd":
                accounts.set_password(args.username, _read_password(), changed_by="cli")
            else:
                accounts.set_active(args.username, command == "enable", changed_by="cli")
        except (OperatorError, ValueError) as exc:
            print(f"错误 / error: {getattr(exc, 'message', exc)}", file=sys.stderr)
            return 1
        print(f"OK: {args.username}")
        return 0
    finally:
        store.close()


def _cache(config: Config, command: str, *, purge_all: bool) -> int:
    from workstation.services.audit import AuditLog
    from workstation.services.licences import LicenceCache

    cipher, store = _open_store(config)
    try:
        cache = LicenceCache(store, cipher)
        if command == "stats":
            s = cache.stats()
            print(f"缓存证照 / cached licences: {s.total}"
                  f"（有效 live {s.live}，过期 expired {s.expired}）")
            for type_key, count in sorted(s.by_type.items()):
                print(f"  {type_key}: {count}")
            if s.oldest:
                print(f"最早 / oldest: {s.oldest:%Y-%m-%d %H:%M}  "
                      f"最新 / newest: {s.newest:%Y-%m-%d %H:%M}")
            return 0
        audit = AuditLog(store, cipher, config.workstation_id)
        removed = cache.purge(expired_only=not purge_all, audit=audit, operator="cli")
        print(f"已清除 {removed} 条 / purged {removed}")
        return 0
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
