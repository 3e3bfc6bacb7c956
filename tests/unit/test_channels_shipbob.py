"""ShipBob's rules without I/O: Standard Webhooks signatures, the order.shipped body read in
both documented shapes, and inventory levels cut down to one fulfillment centre."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.channels.domain import shipbob
from services.kernel.errors import DomainError, ErrorCode
from tests.support.shipbob import SECRET, published, sign

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BODY = b'{"reference_id": "s-1"}'


def test_a_signature_verifies_only_with_its_secret_id_body_and_a_recent_timestamp() -> None:
    sent = int(NOW.timestamp())
    header = "v1,bm90LXRoaXMtb25l " + sign(BODY, "msg-1", sent)  # ShipBob may send several
    assert shipbob.signature_verifies(SECRET, "msg-1", str(sent), BODY, header, NOW)
    assert not shipbob.signature_verifies(SECRET, "msg-2", str(sent), BODY, header, NOW)
    assert not shipbob.signature_verifies(SECRET, "msg-1", str(sent), BODY + b" ", header, NOW)
    late = NOW + timedelta(minutes=6)
    assert not shipbob.signature_verifies(SECRET, "msg-1", str(sent), BODY, header, late)
    other = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQQ=="
    assert not shipbob.signature_verifies(other, "msg-1", str(sent), BODY, header, NOW)
    assert not shipbob.signature_verifies("whsec_!!", "msg-1", str(sent), BODY, header, NOW)


def test_the_shipped_notice_reads_the_order_and_the_logistics_shapes() -> None:
    order = published("order_shipped") | {"reference_id": "s-1"}
    notice = shipbob.shipped_notice(order)
    assert notice == shipbob.ShippedNotice("s-1", "9400111899223197428490", "USPS")
    logistics = {"reference_id": "s-2", "tracking": {"carrier": "UPS", "tracking_id": "1Z9"}}
    assert shipbob.shipped_notice(logistics) == shipbob.ShippedNotice("s-2", "1Z9", "UPS")
    with pytest.raises(DomainError) as refused:
        shipbob.shipped_notice({"reference_id": "s-3", "shipments": []})
    assert refused.value.code is ErrorCode.INVALID_INPUT and refused.value.field == "tracking"
    with pytest.raises(DomainError):
        shipbob.parse_json(b"not json")


def test_on_hand_is_read_at_the_nodes_centre_only() -> None:
    page = published("inventory_levels_by_fulfillment_center")
    assert shipbob.on_hand_at(page, "8") == {"IPOD2008GREEN": 42, "IPOD2008RED": 0}
    assert shipbob.on_hand_at(page, "10") == {"IPOD2008GREEN": 300, "IPOD2008BLACK": 7}
    assert shipbob.on_hand_at({"items": "nonsense"}, "8") == {}


def test_a_node_needs_numeric_shipbob_ids_and_an_http_url() -> None:
    good = shipbob.NewNode(" 3PL-1 ", "51234", "8", "pat", SECRET, None)
    assert shipbob.require_new_node(good).location_code == "3PL-1"
    for bad, field in (
        (shipbob.NewNode("3PL-1", "abc", "8"), "shipbob_channel_id"),
        (shipbob.NewNode("3PL-1", "1", "8", api_base_url="ftp://x"), "api_base_url"),
        (shipbob.NewNode("3PL 1", "1", "8"), "location_code"),
    ):
        with pytest.raises(DomainError) as refused:
            shipbob.require_new_node(bad)
        assert refused.value.field == field


def test_the_order_body_references_our_shipment_and_skus() -> None:
    to = shipbob.Recipient("Ada", "ada@example.com", "1 Main St", "Louisville", "40202", "US")
    body = shipbob.order_body("s-1", "1042", to, {"B": 1, "A": 2})
    assert body["reference_id"] == "s-1" and body["shipping_method"] == "Standard"
    assert [p["reference_id"] for p in body["products"]] == ["A", "B"]
    assert json.loads(json.dumps(body)) == body
