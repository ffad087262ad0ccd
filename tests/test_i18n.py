"""Every message a person reads exists in zh-CN and English.

The catalogue test reads the source: each error or message built from a string template
(`NodeError("quantity {qty!r} …", qty=…)`) must have its zh-CN text registered once its
module is imported, with the same field names, and no template may be an f-string (it
would be English text already, which no reader's language can change). The other tests
render real refusals of the ledger, the basket and the CLI in both languages.
"""

from __future__ import annotations

import ast
import importlib
import os
import pkgutil
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from node import sales
from node.errors import NodeError
from node.i18n import MESSAGES, STATES, state_text, t
from node.service import Node
from protocol import i18n, tenders, units
from protocol.basket import Basket
from protocol.i18n import Joined, Message, Translatable, field_names, render

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("node", "protocol", "hub", "kucun")
#: error and message classes a template is given to, when a call cannot be resolved
KNOWN = {"NodeError", "TenderError", "AmountError", "Translatable", "Message"}


#: three English words in a row, outside quotes, commands and fields: a sentence left as
#: it was
_ENGLISH = re.compile(r"[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`|\{[^}]*\}")


def english_in(text: str) -> list[str]:
    return _ENGLISH.findall(_QUOTED.sub("", text))


# ---- the catalogue, from the source ---------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    where: str
    template: str
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.template!r}: {self.why}"


def _modules() -> tuple[dict[Path, object], list[str]]:
    """Every module of the packages, imported (so their `register` calls have run)."""
    found: dict[Path, object] = {}
    failed: list[str] = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        names = [package] + [
            m.name
            for m in pkgutil.walk_packages(root.__path__, f"{package}.")
            if not m.ispkg and not m.name.endswith(".__main__")  # __main__ runs the CLI
        ]
        for name in names:
            try:
                module = importlib.import_module(name)
            except Exception as exc:  # a module that cannot be imported cannot be checked
                failed.append(f"{name}: cannot be imported ({type(exc).__name__}: {exc})")
                continue
            path = getattr(module, "__file__", None)
            if path:
                found[Path(path).resolve()] = module
    return found, failed


def _subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub, *_subclasses(sub)}
    return out


def _resolve(func: ast.expr, namespace: dict) -> object | None:
    """The object a call's `Name` or `a.b.Name` stands for in the module, if it can tell."""
    if isinstance(func, ast.Name):
        return namespace.get(func.id)
    if isinstance(func, ast.Attribute):
        owner = _resolve(func.value, namespace)
        return getattr(owner, func.attr, None) if owner is not None else None
    return None


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _untranslatable(arg: ast.expr) -> str | None:
    """Why a first argument can never be translated: text made before it is shown."""
    if isinstance(arg, ast.JoinedStr):
        return "an f-string cannot be translated: write a template with named fields"
    sides = (arg.left, arg.right) if isinstance(arg, ast.BinOp) else ()
    if isinstance(getattr(arg, "op", None), ast.Add | ast.Mod) and any(
        isinstance(side, ast.Constant | ast.JoinedStr) for side in sides
    ):
        return "text built with + or % cannot be translated: write a template with fields"
    if isinstance(arg, ast.Call):
        if isinstance(arg.func, ast.Attribute) and arg.func.attr == "format":
            return "a .format() result cannot be translated: pass the fields instead"
        if isinstance(arg.func, ast.Name) and arg.func.id == "str":
            return 'str(error) is English already: pass the error as a field ("{reason}")'
    return None


def catalogue_problems() -> list[Problem]:
    modules, failed = _modules()
    message_classes = {Message, *_subclasses(Translatable), Translatable}
    known_names = {c.__name__ for c in message_classes} | KNOWN
    zh = i18n.translations()
    problems = [Problem(f, "", "module not checked") for f in failed]
    for path, module in sorted(modules.items()):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            target = _resolve(node.func, vars(module))
            if target is not None:
                if not (isinstance(target, type) and target in message_classes):
                    continue
            elif _name(node.func) not in known_names:
                continue
            arg, at = node.args[0], f"{where}:{node.lineno}"
            why = _untranslatable(arg)
            if why:
                problems.append(Problem(at, ast.unparse(arg)[:80], why))
                continue
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                continue  # a template chosen at run time: its literals are checked where written
            template = arg.value
            text = zh.get(template)
            if text is None:
                problems.append(Problem(at, template, "no zh-CN text registered"))
            elif field_names(text) != field_names(template):
                problems.append(
                    Problem(
                        at,
                        template,
                        f"zh-CN text {text!r} has fields {sorted(field_names(text))}, "
                        f"the template {sorted(field_names(template))}",
                    )
                )
    return problems


def test_every_template_has_a_zh_cn_text_with_its_fields_and_none_is_an_f_string():
    problems = catalogue_problems()
    assert not problems, "messages without a proper zh-CN text:\n" + "\n".join(
        str(p) for p in problems
    )


def test_every_registered_zh_text_fills_in_the_fields_of_its_template():
    wrong = {en: zh for en, zh in i18n.translations().items() if field_names(en) != field_names(zh)}
    assert not wrong


def test_the_catalogue_scan_tells_what_cannot_be_translated():
    def why(source: str) -> str | None:
        return _untranslatable(ast.parse(source, mode="eval").body)

    assert "f-string" in (why('f"qty {q} bad"') or "")
    assert "str(error)" in (why("str(exc)") or "")
    assert ".format()" in (why('"qty {q}".format(q=1)') or "")
    assert "+ or %" in (why('"qty " + q') or "")
    assert why('"qty {q!r} bad"') is None
    assert str(Problem("node/x.py:2", "qty {q}", "why")) == "node/x.py:2: 'qty {q}': why"


def test_no_zh_cn_text_is_an_english_sentence():
    catalogue_problems()  # imports every module, so every text is registered
    english = {zh: english_in(zh) for zh in i18n.translations().values() if english_in(zh)}
    assert not english


@pytest.mark.parametrize("table", [MESSAGES, STATES], ids=["MESSAGES", "STATES"])
def test_screen_texts_exist_in_both_languages_with_the_same_fields(table):
    for key, texts in table.items():
        assert set(texts) == set(i18n.LANGUAGES), key
        assert field_names(texts["zh-CN"]) == field_names(texts["en"]), key


# ---- the mechanism ------------------------------------------------------------------------


def test_a_message_inside_a_message_is_rendered_in_the_same_language():
    inner = Message("price")
    error = NodeError("{what} {text!r} must not be negative", what=inner, text="-1")
    assert error.text("en") == "price '-1' must not be negative"
    assert error.text("zh-CN") == "价格 '-1' 不能为负数"
    wrapped = NodeError("{reason}", reason=error)
    assert wrapped.text("zh-CN") == "价格 '-1' 不能为负数"


def test_a_list_of_messages_takes_the_languages_separator():
    both = Joined([Message("price"), Message("cost")])
    assert both.text("en") == "price; cost"
    assert both.text("zh-CN") == "价格；成本"
    assert not Joined([])


def test_an_unregistered_template_falls_back_to_english():
    assert render("no such {n} template", {"n": 2}, "zh-CN") == "no such 2 template"


def test_the_language_comes_from_kucun_lang(monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en_GB.UTF-8")
    assert i18n.language() == "en"
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    assert i18n.language() == "zh-CN"
    monkeypatch.delenv("KUCUN_LANG")
    assert i18n.language() == "zh-CN"


def test_the_test_session_reads_english_by_default():
    assert os.environ["KUCUN_LANG"] == "en"


def test_device_states_for_people():
    from devices.port import PortState

    assert state_text(PortState.READY, "zh-CN") == "就绪"
    assert state_text(PortState.READY, "en") == "ready"
    assert state_text("offline", "zh-CN") == "离线"
    assert state_text(PortState.DISCONNECTED, "zh-CN") == "已断开"
    assert state_text("warming up", "zh-CN") == "warming up"
    for state in PortState:
        assert state_text(state, "zh-CN") != state.value
    assert t("offline", "zh-CN") == "离线"


def test_amount_and_tender_errors_stay_value_errors():
    with pytest.raises(ValueError):
        units.parse_qty("abc")
    with pytest.raises(ValueError):
        tenders.parse("cash:x")


# ---- real refusals, in both languages -----------------------------------------------------


@pytest.fixture
def node(tmp_path):
    n = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    n.add_product("A1", "Apple", price="3.50")
    n.add_product("RICE", "Rice", unit="kg", price="4.00")
    n.receive("A1", "10")
    yield n
    n.close()


def refusal(action) -> NodeError:
    with pytest.raises(NodeError) as refused:
        action()
    return refused.value


def sell_basket(node: Node, text: str, tender: str = "cash"):
    basket, _ = Basket().add(sales.basket_line(node, text))
    return sales.post_sale(node, basket, [tender])


CASES = {
    "quantity -3": (
        lambda n: sales.basket_line(n, "A1 -3"),
        "quantity '-3' must be more than zero",
        "数量 '-3' 必须大于零",
    ),
    "quantity -3 (sell)": (
        lambda n: n.sell("A1", "-3"),
        "quantity '-3' must be more than zero",
        "数量 '-3' 必须大于零",
    ),
    "nothing scanned": (
        lambda n: sales.basket_line(n, "   "),
        "nothing scanned: scan a code or type a SKU",
        "没有扫到内容：请扫码或输入商品编号",
    ),
    "bad tender": (
        lambda n: n.sell("A1", "1", tender="bitcoin"),
        "tender 'bitcoin' is not accepted here: use one of: cash, card, wechat, alipay",
        "本店不收 'bitcoin' 付款：可用：cash, card, wechat, alipay",
    ),
    "bad tender amount": (
        lambda n: n.sell("A1", "1", tender="cash:1,5"),
        "tender 'cash:1,5': amount '1,5' is not a number; write it like \"12.80\"; "
        "use one of: cash, card, wechat, alipay",
        "付款 'cash:1,5'：金额 '1,5' 不是数字，请写成 \"12.80\" 这样；"
        "可用：cash, card, wechat, alipay",
    ),
    "short tender at the basket": (
        lambda n: sell_basket(n, "A1 2", "cash:5"),
        "the tenders (5.00) do not cover the total 7.00: 2.00 is missing",
        "付款（5.00）不够总额 7.00：还差 2.00",
    ),
    "bad price": (
        lambda n: n.sell("A1", "1", price="1,5"),
        "price '1,5' is not a number; write it like \"12.80\"",
        "价格 '1,5' 不是数字，请写成 \"12.80\" 这样",
    ),
    "bad cost": (
        lambda n: n.receive("A1", "1", cost="-2"),
        "cost '-2' must not be negative",
        "成本 '-2' 不能为负数",
    ),
    "pieces": (
        lambda n: n.sell("A1", "0.5"),
        "A1 is counted in pieces; quantity '0.5' must be a whole number",
        "A1 按件计数；数量 '0.5' 必须是整数",
    ),
    "unknown SKU": (
        lambda n: n.receive("NOPE", "1"),
        "unknown SKU 'NOPE': add it with `kucun node product add` or check the code",
        "未知商品 'NOPE'：请用 `kucun node product add` 添加，或检查编码",
    ),
    "blank SKU": (
        lambda n: n.add_product("  ", "x"),
        "SKU must not be empty",
        "SKU不能为空",
    ),
    "long lot": (
        lambda n: n.receive("A1", "1", lot="L" * 65),
        "lot is too long (65 characters): at most 64",
        "批号太长（65 个字符）：最多 64 个",
    ),
    "SKU with a newline": (
        lambda n: n.add_product("\n", "x"),
        "SKU '\\n' holds a control character: type plain text",
        "SKU '\\n' 含有控制字符：请输入普通文字",
    ),
    "name with a newline": (
        lambda n: n.add_product("B1", "Bad\nname"),
        "name 'Bad\\nname' holds a control character: type plain text",
        "名称 'Bad\\nname' 含有控制字符：请输入普通文字",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_refusal_reads_in_both_languages(node, case):
    action, en, zh = CASES[case]
    error = refusal(lambda: action(node))
    assert error.text("en") == en
    assert error.text("zh-CN") == zh
    assert not english_in(error.text("zh-CN"))
    assert str(error) == en  # the test session reads English


def test_an_unknown_code_reads_in_zh_cn(node, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "zh-CN")
    error = refusal(lambda: sales.basket_line(node, "NOPE"))
    assert str(error).startswith("未知编码 'NOPE'：")
    assert not english_in(str(error))
    monkeypatch.setenv("KUCUN_LANG", "en")
    assert str(refusal(lambda: sales.basket_line(node, "NOPE"))).startswith("unknown code 'NOPE'")


@pytest.mark.parametrize("code", ["NOPE", "123456789"])
def test_the_unknown_code_hint_does_not_offer_a_name_lookup_that_does_not_exist(node, code):
    error = refusal(lambda: sales.basket_line(node, code))
    assert "by name" not in error.text("en")
    assert "按名称" not in error.text("zh-CN")


def test_a_refused_sale_writes_nothing_in_either_language(node, monkeypatch):
    before = node.store.log.head_seq("S01")
    for lang in ("zh-CN", "en"):
        monkeypatch.setenv("KUCUN_LANG", lang)
        refusal(lambda: node.sell("A1", "-3"))
    assert node.store.log.head_seq("S01") == before


def test_an_amount_error_names_what_was_typed_in_zh_cn():
    with pytest.raises(units.AmountError) as refused:
        units.parse_qty("9" * 50)
    assert refused.value.text("en").startswith("quantity '999999999999'… (50 characters)")
    assert refused.value.text("zh-CN").startswith("数量 '999999999999'…（共 50 个字符）")
    with pytest.raises(units.AmountError) as refused:
        units.parse_money("1.005")
    assert refused.value.text("zh-CN") == "金额 '1.005' 的小数超过 2 位，请写成 \"12.80\" 这样"


# ---- the CLI ------------------------------------------------------------------------------


def run_cli(*args: str, lang: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kucun", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, KUCUN_LANG=lang),
    )


def test_the_cli_prints_the_error_in_the_readers_language_with_the_same_exit_code(tmp_path):
    db = str(tmp_path / "store.db")
    init = run_cli("node", "init", "--db", db, "--node", "S01", "--nats", "nats://x:1", lang="en")
    assert init.returncode == 0, init.stderr
    add = ("node", "product", "add", "--db", db, "A1", "--name", "Apple", "--price", "3.50")
    assert run_cli(*add, lang="en").returncode == 0
    sell = ("node", "sell", "--db", db, "A1", "-3")
    zh, en = run_cli(*sell, lang="zh-CN"), run_cli(*sell, lang="en")
    assert zh.stderr.strip() == "error: 数量 '-3' 必须大于零"
    assert en.stderr.strip() == "error: quantity '-3' must be more than zero"
    assert zh.returncode == en.returncode == 1
    missing = run_cli("node", "stock", "--db", str(tmp_path / "none.db"), lang="zh-CN")
    assert missing.returncode == 1
    assert "没有节点账本" in missing.stderr and not english_in(missing.stderr.split(":", 1)[1])


# ---- receiving and sync -------------------------------------------------------------------


def test_a_receipt_refusal_lists_its_differences_and_receipts_in_zh_cn(tmp_path):
    from node import logistics
    from tests.test_receiving import MANAGER, till, with_order

    node = with_order(till(tmp_path))
    over = [logistics.Arrived("A1", 25_000)]
    error = refusal(lambda: logistics.receive_purchase_order(node, "PO-S01-1", over))
    assert "A1 25.000 arrived, 20.000 ordered" in error.text("en")
    assert error.text("zh-CN").startswith("PO-S01-1：A1 到货 25.000，订购 20.000。请重新清点")
    assert not english_in(error.text("zh-CN"))
    logistics.receive_purchase_order(node, "PO-S01-1", over, MANAGER)
    again = refusal(lambda: logistics.receive_purchase_order(node, "PO-S01-1"))
    assert "is already over received (receipt S01-T1-" in again.text("en")
    zh = again.text("zh-CN")
    assert zh.startswith("PO-S01-1 现为超量收货（收货单 S01-T1-")
    assert "由 li 在 S01-T1 于" in zh and not english_in(zh)


def test_the_hub_out_of_reach_reads_in_zh_cn():
    import asyncio

    from node import sync

    with pytest.raises(sync.HubUnreachable) as refused:
        asyncio.run(sync.connect_once("nats://127.0.0.1:1", timeout=0.5))
    zh = refused.value.text("zh-CN")
    assert zh.startswith("无法连接总部：连不上 nats://127.0.0.1:1 的 NATS（")
    assert refused.value.text("en").startswith("hub unreachable: cannot connect to NATS at")
    assert not english_in(zh)
    assert str(Message("connecting to the hub…").text("zh-CN")) == "正在连接总部…"


def test_the_documents_listing_reads_in_zh_cn(tmp_path):
    from tests.test_receiving import till, with_order

    node = with_order(till(tmp_path))
    node.close()
    db = str(tmp_path / "S01-T1.db")
    zh = run_cli("node", "documents", "--db", db, lang="zh-CN")
    en = run_cli("node", "documents", "--db", db, lang="en")
    assert zh.returncode == en.returncode == 0
    assert en.stdout.split()[:3] == ["PO-S01-1", "purchase_order", "ordered"]
    assert zh.stdout.split()[:3] == ["PO-S01-1", "purchase_order", "已订购"]


def test_every_document_status_has_words_in_zh_cn():
    import typing

    from node import logistics
    from protocol.documents import Status

    for status in typing.get_args(Status):
        assert logistics.status_text(status).text("zh-CN") != status.replace("_", " "), status
