"""An online order end to end: a real nats-server, `kucun hub serve`, a node ledger that
syncs with `node.sync.sync_once`, a till picking and selling, and a webhook receiver."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hub.webhooks import signature
from node import picking
from node.permissions import User
from node.service import Node
from node.sync import sync_once
from node.till.session import TillSession
from node.users import add_user
from tests.helpers import wait_until

pytestmark = pytest.mark.slow

SECRET = "a-shared-secret-of-the-shop"


class Hooks:
    """A real HTTP receiver on a free port, on its own thread: what the hub POSTed."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                ok = self.headers.get("X-Kucun-Signature") == signature(SECRET, raw)
                received.append(json.loads(raw) | {"signed": ok})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def statuses(self) -> list[str]:
        return [b["status"] for b in self.bodies]


def call(hub, method: str, path: str, body: object | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://{hub.http}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {hub.token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def sync(node: Node) -> None:
    asyncio.run(sync_once(node, confirm_timeout=20))


def test_an_online_order_is_routed_picked_sold_and_reported(tmp_path, nats_server, hub):
    hooks = Hooks()
    try:
        status, _ = call(
            hub, "POST", "/api/v1/products", {"sku": "COLA", "name": "Cola", "price": "3.00"}
        )
        assert status == 201
        node = Node.init(tmp_path / "store.db", "S01-T1", "S01", nats_server.url)
        add_user(node, "li", "Li", "cashier", "1111")
        assert wait_until(lambda: (sync(node), node.read.product("COLA"))[1], timeout=30)
        node.receive("COLA", "10")
        sync(node)
        assert wait_until(lambda: hub.stock(location="S01"), timeout=30)

        order = {
            "order_id": "MINI-77",
            "customer": {"name": "韩梅梅", "phone": "13900000000"},
            "lines": [{"sku": "COLA", "qty": "2"}],
            "fulfilment": "pickup",
            "webhook_url": hooks.url,
            "webhook_secret": SECRET,
        }
        status, taken = call(hub, "POST", "/api/v1/orders", order)
        assert status == 201, taken
        assert (taken["store"], taken["status"]) == ("S01", "routed")
        assert wait_until(lambda: hooks.statuses() == ["routed"], timeout=20)

        def listed():
            sync(node)
            return picking.picks(node)

        (pick,) = wait_until(listed, timeout=30)
        assert (pick.doc, pick.order_id, pick.customer) == (taken["doc"], "MINI-77", "韩梅梅")
        session = TillSession(node, User("li", "Li", "cashier"))
        session.open_shift("100.00")
        picking.load(session, pick.doc)
        sync(node)
        assert wait_until(lambda: hooks.statuses() == ["routed", "picking"], timeout=20)

        done = session.pay(["cash"])
        sync(node)

        def fulfilled():
            return call(hub, "GET", "/api/v1/orders/MINI-77")[1]["status"] == "fulfilled"

        assert wait_until(fulfilled, timeout=30)
        shown = call(hub, "GET", "/api/v1/orders/MINI-77")[1]
        assert shown["sales"] == [done.doc]
        assert shown["lines"] == [
            {"sku": "COLA", "qty": "2.000", "sold": "2.000", "short": "0.000", "price": None}
        ]
        assert wait_until(
            lambda: hooks.statuses() == ["routed", "picking", "fulfilled"], timeout=20
        )
        assert all(b["signed"] for b in hooks.bodies)
        assert call(hub, "POST", "/api/v1/orders/MINI-77/cancel", {})[0] == 409
        node.close()
    finally:
        hooks.server.shutdown()
