"""Instacart and RetailRocket directories in their published layout, good lines mixed with broken ones.

Every broken line is broken for sure under the adapters' contract (a corruption of a good line:
bad quoting, a wrong type, a huge value, a NUL byte, invalid UTF-8, a truncated line), so a
test can demand exact counts: each good row arrives, each broken one is in the quarantine.
`Expected` says how many of each there are, and what the good rows must come out as.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

Corrupt = Callable[[random.Random, list[str]], bytes]


@dataclass
class Expected:
    """What an ingest of a generated directory must write."""

    events: int = 0
    items: int = 0
    quarantined_events: int = 0
    quarantined_items: int = 0
    categories: dict[str, str | None] = field(default_factory=dict)  # item -> category


def _line(fields: list[str]) -> bytes:
    return ",".join(fields).encode()


def _corruptions(int_columns: list[int]) -> list[Corrupt]:
    """Ways to break a row of text fields; `int_columns` are the fields that must be integers."""
    def unclosed_quote(rng: random.Random, f: list[str]) -> bytes:
        i = rng.randrange(len(f))
        return _line([*f[:i], '"' + f[i], *f[i + 1:]])

    def text_after_quote(rng: random.Random, f: list[str]) -> bytes:
        i = rng.randrange(len(f))
        return _line([*f[:i], f'"{f[i]}"x', *f[i + 1:]])

    def wrong_type(rng: random.Random, f: list[str]) -> bytes:
        i = rng.choice(int_columns)
        return _line([*f[:i], rng.choice(["abc", "1.5", "0x1F", "1e3", " - "]), *f[i + 1:]])

    def huge(rng: random.Random, f: list[str]) -> bytes:
        i = rng.choice(int_columns)
        return _line([*f[:i], "9" * rng.choice([19, 40, 5000]), *f[i + 1:]])

    def nul(rng: random.Random, f: list[str]) -> bytes:
        text = _line(f)
        at = rng.randrange(len(text) + 1)
        return text[:at] + b"\x00" + text[at:]

    def bad_utf8(rng: random.Random, f: list[str]) -> bytes:
        text = _line(f)
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice([b"\xff", b"\xc3\x28", b"\xe2\x82"]) + text[at:]

    def truncated(rng: random.Random, f: list[str]) -> bytes:
        return _line(f[: rng.randrange(1, len(f))])

    def surplus(rng: random.Random, f: list[str]) -> bytes:
        return _line([*f, "surplus"])

    return [unclosed_quote, text_after_quote, wrong_type, huge, nul, bad_utf8, truncated, surplus]


def _write(path: Path, header: str, lines: list[bytes], rng: random.Random) -> None:
    rng.shuffle(lines)
    path.write_bytes(header.encode() + b"\n" + b"\n".join(lines) + b"\n")


def instacart(out: Path, broken: int = 1_200, seed: int = 0) -> Expected:
    """An Instacart directory: `broken` broken order lines and broken orders among good ones."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    expected = Expected()
    (out / "departments.csv").write_text('"department_id","department"\n1,"frozen"\n2,"missing"\n3,"bakery"\n')
    (out / "aisles.csv").write_text('"aisle_id","aisle"\n1,"frozen pizza"\n2,"bread"\n3,"missing"\n')
    products = [f'{p},"Product {p}, family size",{p % 3 + 1},{p % 3 + 1}' for p in range(1, 51)]
    refused = [b'51,"Bad"name",1,1', b"52,Ok,x,1", b"53,Ok,1", b"1,Repeated id,1,1"]
    _write(out / "products.csv", "product_id,product_name,aisle_id,department_id",
           [line.encode() for line in products] + refused, rng)
    expected.items, expected.quarantined_items = 50, len(refused)
    orders: list[bytes] = []
    lines: list[bytes] = []
    order_id = 1000
    for user in range(1, 121):
        for number in range(1, rng.randint(2, 6)):
            order_id += 1
            fields = [str(order_id), str(user), '"prior"', str(number), str(rng.randrange(7)),
                      f'"{rng.randrange(24):02d}"', "" if number == 1 else str(rng.randint(0, 30))]
            good_order = rng.random() > 0.05
            orders.append(_line(fields) if good_order else _broken_order(rng, fields))
            expected.quarantined_events += not good_order
            for cart in range(1, rng.randint(2, 9)):
                line = [str(order_id), str(rng.randint(1, 50)), str(cart), str(rng.randint(0, 1))]
                lines.append(_line(line))
                expected.events += good_order
                expected.quarantined_events += not good_order
    corrupt = _corruptions([0, 1, 2])
    good_lines = [line.decode().split(",") for line in lines]
    for _ in range(broken):
        lines.append(rng.choice(corrupt)(rng, rng.choice(good_lines)))
    expected.quarantined_events += broken
    _write(out / "orders.csv", ",".join(f'"{c}"' for c in (
        "order_id", "user_id", "eval_set", "order_number", "order_dow", "order_hour_of_day",
        "days_since_prior_order")), orders, rng)
    half = len(lines) // 2
    _write(out / "order_products__prior.csv", '"order_id","product_id","add_to_cart_order","reordered"',
           lines[:half], rng)
    _write(out / "order_products__train.csv", "order_id,product_id,add_to_cart_order,reordered",
           lines[half:], rng)
    (out / "sample_submission.csv").write_text("order_id,products\n17,39276\n")
    return expected


def _broken_order(rng: random.Random, fields: list[str]) -> bytes:
    """An orders.csv row that is refused: a value out of range, or a line that cannot be read."""
    broken = list(fields)
    kind = rng.randrange(4)
    if kind == 0:
        broken[4] = rng.choice(["7", "-1", "Mon"])  # order_dow
    elif kind == 1:
        broken[5] = rng.choice(['"24"', '"x"'])  # order_hour_of_day
    elif kind == 2:
        broken[3] = "0"  # order_number
    else:
        return rng.choice(_corruptions([0, 3]))(rng, broken)
    return _line(broken)


def retailrocket(out: Path, broken: int = 1_200, seed: int = 0) -> Expected:
    """A RetailRocket directory: `broken` broken event and property lines among good ones."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    expected = Expected()
    parents = {"1": None, "2": "1", "3": "2", "4": "1", "5": "99"}  # 99: a parent the tree lacks
    tree = [_line([c, p or ""]) for c, p in parents.items()]
    tree += [b"6,7", b"7,6", b"8,x", b'"9,1', b"1,"]  # a cycle, a bad parent, bad quoting, a repeat
    expected.quarantined_items += 5
    _write(out / "category_tree.csv", "categoryid,parentid", tree, rng)
    paths = {"1": "1", "2": "1 > 2", "3": "1 > 2 > 3", "4": "1 > 4", "5": "99 > 5", "6": "6"}
    events = _rr_events(rng, expected)
    good_events = [line.decode().split(",") for line in events[:expected.events]]
    props, good_props = _rr_properties(rng, expected, paths)
    corrupt_events = _corruptions([0, 1, 3])
    corrupt_props = _corruptions([0, 1])
    for n in range(broken):
        if n % 2:
            events.append(rng.choice(corrupt_events)(rng, rng.choice(good_events)))
            expected.quarantined_events += 1
        else:
            props.append(rng.choice(corrupt_props)(rng, rng.choice(good_props)))
            expected.quarantined_items += 1
    _write(out / "events.csv", "timestamp,visitorid,event,itemid,transactionid", events, rng)
    _write(out / "item_properties_part1.csv", "timestamp,itemid,property,value", props[::2], rng)
    _write(out / "item_properties_part2.csv", "timestamp,itemid,property,value", props[1::2], rng)
    return expected


def _rr_events(rng: random.Random, expected: Expected) -> list[bytes]:
    events = []
    for n in range(3_000):
        kind = rng.choice(["view", "view", "addtocart", "transaction"])
        events.append(_line([str(1_433_000_000_000 + n * 1_000), str(rng.randrange(300)), kind,
                             str(rng.randrange(400)), str(n) if kind == "transaction" else ""]))
    expected.events = len(events)
    refused = [b"1433000000000,5,click,7,", b"1433000000000,5,transaction,7,", b"1433000000000,,view,7,",
               b"4102444800001,5,view,7,", b"1433000000000,5,view,-7,"]
    expected.quarantined_events += len(refused)
    return events + refused


def _rr_properties(rng: random.Random, expected: Expected,
                   paths: dict[str, str]) -> tuple[list[bytes], list[list[str]]]:
    """Property lines (good ones, refused ones) and the good rows as fields, for corrupting."""
    good: list[list[str]] = []
    latest: dict[str, tuple[int, str]] = {}
    for _ in range(2_000):
        item, ts = str(rng.randrange(250)), 1_431_000_000_000 + rng.randrange(10**9)
        prop = rng.choice(["categoryid", "available", "888", "790"])
        value = {"categoryid": rng.choice(list(paths) + ["42"]), "available": rng.choice("01")}.get(
            prop, f"{rng.randrange(10**6)} n{rng.randrange(10**4)}.000 {rng.randrange(10**6)}")
        good.append([str(ts), item, prop, value])
        expected.categories.setdefault(item, None)
        if prop == "categoryid" and ts > latest.get(item, (-1, ""))[0]:
            latest[item] = (ts, value)
    for item, (_, category) in latest.items():
        expected.categories[item] = paths.get(category, category)
    expected.items = len(expected.categories)
    refused = [[str(1_431_000_000_000), "1", "categoryid", "cat"], [str(1_431_000_000_000), "1", "available", "2"],
               [str(1_431_000_000_000), "1", "", "x"]]
    expected.quarantined_items += len(refused)
    return [_line(f) for f in good + refused], good
