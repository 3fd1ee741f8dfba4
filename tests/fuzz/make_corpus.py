#!/usr/bin/env python3
"""Writes the seed corpus of every harness (tests/fuzz/corpus/<name>/) from the requests, tokens,
payloads and positions the test suites use (tests/unit, tests/e2e_gateway, README.md's curl
session). Run it again after changing it; each seed is one small file named after what it is.
Tokens are signed with the harnesses' secret and expire in 2100, so they verify in every run."""

import base64
import hashlib
import hmac
import json
import os
import shutil

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
SECRET = b"fuzz-secret-0123456789abcdef0123"  # tests/fuzz/http_request.cpp and jwt.cpp
ISSUED = 1767225600  # 2026-01-01, the jwt harness's "now"
EXPIRES = 4102444800  # 2100-01-01
PRODUCT = "0f8fad5b-d9cb-469f-a165-70867728950e"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def token(claims: dict, header: dict | None = None, secret: bytes = SECRET) -> str:
    header = header or {"alg": "HS256", "typ": "JWT"}
    signing_input = b64(json.dumps(header, separators=(",", ":")).encode()) + "." + b64(
        json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(mac)


def claims(sub="alice", roles=("admin",), **extra) -> dict:
    c = {"iss": "cqrs-engine", "aud": "cqrs-api", "sub": sub, "roles": list(roles), "iat": ISSUED, "nbf": ISSUED,
         "exp": EXPIRES}
    c.update(extra)
    return c


def write(harness: str, name: str, data: bytes) -> None:
    folder = os.path.join(ROOT, harness)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


ADMIN = token(claims())
VIEWER = token(claims(sub="bob", roles=("viewer",)))

CREATE = ('{"sku":"LAMP-001","name":"Desk lamp","description":"A brass desk lamp",'
          '"price":{"amount":2999,"currency":"EUR"},"stock":10}')
BODIES = {  # by route, in json_bodies.cpp's order
    "create": [CREATE, '{"sku":"LAMP-1","name":"Lamp","description":"A lamp","price":{"amount":1999,"currency":"EUR"},"stock":5}',
               '{"sku":5,"name":true,"description":null,"price":{"amount":"1999","currency":3},"stock":[1]}',
               '{"sku":"X-1","name":"X","description":"","price":{"amount":10,"currency":"euro"},"stock":1}'],
    "update_details": ['{"name":"Lamp","description":""}', '{"name":1,"extra":true}'],
    "change_price": ['{"price":{"amount":3499,"currency":"EUR"}}', '{"price":{}}', '{"price":1999}',
                     '{"price":{"amount":1,"currency":"EUR","cents":1}}',
                     '{"price":{"amount":100,"currency":"EUR","amount":1}}'],
    "restock": ['{"quantity":5}', '{"quantity":9223372036854775807}', '{"quantity":9223372036854775808}',
                '{"quantity":1.5}', '{"quantity":"five"}', '{"quantity":1,"quantity":1000}', '{"quantity":1e3}',
                '{"quantity":1,"colour":"red"}'],
    "reserve": ['{"reservation_id":"order-1001","quantity":3}', '{"quantity":1}'],
    "discontinue": ['{"reason":"recalled"}', '{"reason":null}', '{"reason":5}', '{}'],
    "release": [""],
    "commit": [""],
}


def json_bodies() -> None:
    for index, (route, bodies) in enumerate(BODIES.items()):
        for n, body in enumerate(bodies):
            write("json_bodies", f"{route}-{n}", bytes([index]) + body.encode())
    write("json_bodies", "restock-nested", bytes([3]) + b'{"quantity":{"a":[{"b":[1,2,{"c":"\\u00e9"}]}]}}')
    write("json_bodies", "not-json", bytes([3]) + b'{"sku": ')


def request(method: str, target: str, headers: list[str] = (), body: str = "", chunk: int = 0) -> bytes:
    head = [f"{method} {target} HTTP/1.1", "Host: gateway.test"] + list(headers)
    if body:
        head.append(f"Content-Length: {len(body.encode())}")
    return bytes([chunk]) + ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def http_requests() -> None:
    auth = f"Authorization: Bearer {ADMIN}"
    json_type = "Content-Type: application/json"
    p = f"/v1/products/{PRODUCT}"
    cases = {
        "create": request("POST", "/v1/products", [auth, json_type, "Idempotency-Key: order-1001"], CREATE),
        "restock": request("POST", p + "/restock", [auth, json_type], '{"quantity":5}'),
        "reserve": request("POST", p + "/reservations", [auth, json_type, "Idempotency-Key: order-1001"],
                           '{"reservation_id":"order-1001","quantity":3}'),
        "price-if-match": request("PUT", p + "/price", [auth, json_type, 'If-Match: "1"'],
                                  '{"price":{"amount":3499,"currency":"EUR"}}'),
        "update": request("PATCH", p, [auth, json_type], '{"name":"Lamp","description":"A lamp"}'),
        "release": request("DELETE", p + "/reservations/order-1001", [auth]),
        "commit": request("POST", p + "/reservations/order-1001/commit", [auth]),
        "discontinue": request("POST", p + "/discontinue", [auth, json_type], '{"reason":"recalled"}'),
        "get": request("GET", p + "?min_position=00000000000003e80000000000000001"),
        "get-strong": request("GET", p + "?consistency=strong", ["X-Request-Id: req-1"]),
        "search": request("GET", "/v1/products?q=lamp&in_stock=true&limit=10&min_price=100&max_price=5000"),
        "search-cursor": request("GET", "/v1/products?q=desk+lamp&limit=2&cursor=" + b64(PRODUCT.encode())),
        "history": request("GET", f"/v1/streams/product-{PRODUCT}/events?from_version=1&limit=50", [auth]),
        "healthz": request("GET", "/healthz"),
        "metrics": request("GET", "/metrics"),
        "preflight": request("OPTIONS", "/v1/products", ["Origin: https://app.example",
                                                         "Access-Control-Request-Method: POST",
                                                         "Access-Control-Request-Headers: authorization, content-type"]),
        "viewer-forbidden": request("POST", p + "/restock", [f"Authorization: Bearer {VIEWER}", json_type],
                                    '{"quantity":1}'),
        "alg-none": request("GET", "/v1/products", ["Authorization: Bearer " + b64(b'{"alg":"none","typ":"JWT"}') + "."
                                                    + b64(json.dumps(claims()).encode()) + "."]),
        "duplicate-member": request("POST", p + "/restock", [auth, json_type], '{"quantity":1,"quantity":1000}'),
        "chunked": bytes([7]) + (f"POST {p}/restock HTTP/1.1\r\nHost: t\r\n{auth}\r\n{json_type}\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"qua\r\nb\r\nntity\":12}\r\n0\r\n\r\n").encode(),
        "pipelined": request("GET", "/healthz")[0:] + request("GET", "/v1/products?limit=1")[1:],
        "folded": bytes([0]) + b"POST /v1/products HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nX-Note: one\r\n two\r\n\r\nhello",
        "two-lengths": bytes([0]) + b"POST /v1/products HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        "te-http10": bytes([0]) + b"POST /v1/products HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "bad-target": bytes([0]) + b"GET /v1/products/%zz HTTP/1.1\r\nHost: t\r\n\r\n",
        "encoded-slash": request("GET", "/v1/products/a%2Fb"),
        "head": request("HEAD", "/healthz"),
        "small-reads": request("GET", "/v1/products?q=lamp", ["Connection: close"], chunk=1),
    }
    for name, data in cases.items():
        write("http_request", name, data)


def jwt() -> None:
    write("jwt", "admin", b"\x00" + ADMIN.encode())
    write("jwt", "viewer", b"\x00" + VIEWER.encode())
    write("jwt", "other-secret", b"\x00" + token(claims(), secret=b"another-secret-of-reasonable-len").encode())
    write("jwt", "alg-none", b"\x00" + (b64(b'{"alg":"none","typ":"JWT"}') + "." + b64(json.dumps(claims()).encode()) + ".").encode())
    write("jwt", "garbage", b"\x00not.a.token")
    header = '{"alg":"HS256","typ":"JWT"}'
    signed = {
        "valid": claims(),
        "role": {"iss": "cqrs-engine", "aud": ["other", "cqrs-api"], "sub": "carol", "role": "support",
                 "exp": EXPIRES},
        "expired": claims(exp=ISSUED - 3600),
        "not-yet": claims(nbf=ISSUED + 3600),
        "fraction-dates": claims(exp=4102444800.5, nbf=1767225600.25),
        "huge-exp": claims(exp=1e16),
        "wrong-issuer": claims(iss="someone"),
        "no-sub": {"iss": "cqrs-engine", "aud": "cqrs-api", "exp": EXPIRES},
        "roles-not-strings": claims(roles=[1, "admin"]),
    }
    for name, c in signed.items():
        write("jwt", "signed-" + name, b"\x01" + (header + "\n" + json.dumps(c, separators=(",", ":"))).encode())
    write("jwt", "signed-crit", b"\x01" + ('{"alg":"HS256","crit":["exp"]}\n' + json.dumps(claims())).encode())


def events() -> None:
    # (type, version) in the order of event_payloads.cpp's list: every readable contract by name,
    # versions ascending (schemas::event_contracts()).
    contracts = [("product.created", 1), ("product.created", 2), ("product.details_updated", 1),
                 ("product.discontinued", 1), ("product.price_changed", 1), ("product.reservation_committed", 1),
                 ("product.reservation_released", 1), ("product.restocked", 1), ("product.stock_reserved", 1)]
    payloads = {
        ("product.created", 1): ['{"sku":"OLD-1","name":"Old teapot","price_minor":1500,"initial_stock":4}'],
        ("product.created", 2): ['{"sku":"A-1","name":"n","description":"d","price":{"amount_minor":100,"currency":"EUR"},"initial_stock":3}',
                                 '{"sku":"LAMP-001","name":"Desk lamp","description":"A brass desk lamp","price":{"amount_minor":2999,"currency":"EUR"},"initial_stock":10}'],
        ("product.details_updated", 1): ['{"name":"Lamp","description":"A lamp"}'],
        ("product.discontinued", 1): ['{"reason":"recalled"}'],
        ("product.price_changed", 1): ['{"price":{"amount_minor":3499,"currency":"EUR"}}'],
        ("product.reservation_committed", 1): ['{"reservation_id":"order-1001"}'],
        ("product.reservation_released", 1): ['{"reservation_id":"order-1001"}'],
        ("product.restocked", 1): ['{"quantity":5}', '{"quantity":4,"note":"extra"}', '{"quantity":"three"}', '{'],
        ("product.stock_reserved", 1): ['{"reservation_id":"order-1","quantity":2}'],
    }
    for index, contract in enumerate(contracts):
        for n, payload in enumerate(payloads[contract]):
            write("event_payloads", f"{contract[0]}-v{contract[1]}-{n}", bytes([index]) + payload.encode())


def positions() -> None:
    for name, text in {"beginning": "", "command": "00000000000003e80000000000000001",
                       "zero": "0" * 32, "max": "f" * 32, "upper": "00000000000003E80000000000000001",
                       "short": "00000000000003e8", "topic-start": "0000000000000fa00000000000000064"}.items():
        write("log_position", name, text.encode())


def cursors() -> None:
    write("cursor", "product-id", b"\x00" + b64(PRODUCT.encode()).encode())
    write("cursor", "utf8-id", b"\x00" + b64("caf\u00e9-1".encode()).encode())
    write("cursor", "nul", b"\x00" + b64(b"a\x00b").encode())
    write("cursor", "padded", b"\x00" + base64.urlsafe_b64encode(b"ab").decode().encode())
    write("cursor", "query", b"\x01q=desk+lamp&in_stock=true&include_discontinued=false&limit=10&min_price=100"
          b"&max_price=5000&cursor=" + b64(PRODUCT.encode()).encode())
    write("cursor", "query-bad", b"\x01limit=0&min_price=-1&in_stock=yes&q=" + b"x" * 201)


WEBHOOK_TIME = 1796621979  # tests/fuzz/webhook_signature.cpp's "now"


def settled_event(number: int, charge: int, status: str, amount: int, payment: str) -> str:
    """A charge.settled event exactly as cqrs-payment-provider serializes it (server.cpp, ledger.cpp)."""
    data = {"id": f"ch_{charge:06}", "status": status, "amount": amount, "currency": "eur",
            "captured": status == "captured", "amount_refunded": 0, "refunds": [],
            "idempotency_key": f"{payment}:charge", "metadata": {"payment_id": payment}}
    event = {"id": f"evt_{number:06}", "type": "charge.settled", "created": WEBHOOK_TIME, "data": data}
    return json.dumps(event, separators=(",", ":"))


def webhook_header(body: str, t: int = WEBHOOK_TIME, secret: bytes = SECRET) -> str:
    mac = hmac.new(secret, f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def webhooks() -> None:
    captured = settled_event(1, 1, "captured", 2500, "payment-5f0c8a52-2b1e-4c8e-9d51-0b7c55f1f0aa")
    authorized = settled_event(2, 3, "authorized", 119900, "payment-0f8fad5b-d9cb-469f-a165-70867728950e")
    seeds = {
        "captured": (0, webhook_header(captured), captured),
        "authorized": (0, webhook_header(authorized), authorized),
        "reordered": (0, "v1=" + webhook_header(captured).split("v1=")[1] + f",t={WEBHOOK_TIME}", captured),
        "future-scheme": (0, webhook_header(captured) + ",v2=" + "0" * 64, captured),
        "stale": (0, webhook_header(captured, WEBHOOK_TIME - 301), captured),
        "early": (0, webhook_header(captured, WEBHOOK_TIME + 301), captured),
        "wrong-secret": (0, webhook_header(captured, secret=b"another-secret"), captured),
        "uppercase-hex": (0, webhook_header(captured).upper().replace("T=", "t=").replace("V1=", "v1="), captured),
        "no-timestamp": (0, "v1=" + webhook_header(captured).split("v1=")[1], captured),
        "negative": (0, "t=-1,v1=" + "a" * 64, captured),
        "empty-body": (0, webhook_header(""), ""),
        "own-signature": (1, f"t={WEBHOOK_TIME}", captured),
        "own-signature-late": (1, "t=999999999999999999", authorized),
    }
    for name, (mode, header, body) in seeds.items():
        write("webhook_signature", name, bytes([mode]) + header.encode() + b"\n" + body.encode())


if __name__ == "__main__":
    shutil.rmtree(ROOT, ignore_errors=True)
    json_bodies()
    http_requests()
    jwt()
    events()
    positions()
    cursors()
    webhooks()
