"""A wholesale CSV file in our terms: one order per PO number, shipped complete by default, a
requested ship date; a row that cannot be read refuses the whole file, naming its line."""

from __future__ import annotations

from datetime import date

import pytest

from services.channels.domain.model import Line, ShipTo
from services.channels.domain.wholesale import MAX_ORDERS, wholesale_orders
from services.kernel.errors import DomainError, ErrorCode

HEADER = (
    "po_number,sku,quantity,unit_price,ship_to_name,ship_to_line1,ship_to_city,"
    "ship_to_postal_code,ship_to_country,email,requested_ship_date,ship_complete"
)
ACME = "Acme Stores,1 Main St,Louisville,40202,us,buyer@acme.example"


def csv_of(*rows: str) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


def test_one_order_per_po_number_shipped_complete_by_default() -> None:
    orders = wholesale_orders(
        csv_of(
            f"PO-1,SKU-A,10,12.50,{ACME},2026-12-15,",
            f"PO-2,SKU-A,1,3,{ACME},,no",
            f"PO-1,SKU-B,4,0.99,{ACME},2026-12-15,",
        )
    )
    assert [o.external_id for o in orders] == ["PO-1", "PO-2"]
    first, second = orders
    assert first.lines == (Line("SKU-A", 10, 1250), Line("SKU-B", 4, 99))
    assert first.ship_to == ShipTo("Acme Stores", "1 Main St", "Louisville", "40202", "US")
    assert (first.email, first.ship_complete) == ("buyer@acme.example", True)
    assert first.requested_ship_date == date(2026, 12, 15)
    assert (second.ship_complete, second.requested_ship_date) == (False, None)


def test_columns_may_come_in_any_order_and_the_optional_ones_be_left_out() -> None:
    text = "sku,po_number,ship_to_country,ship_to_postal_code,unit_price,quantity,email\n"
    text += "SKU-A,PO-9,US,40202,1.00,2,buyer@acme.example\n"
    (order,) = wholesale_orders(text)
    assert (order.external_id, order.lines, order.ship_complete) == (
        "PO-9", (Line("SKU-A", 2, 100),), True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "line", "column"),
    [
        ((f"PO-1,SKU-A,0,1.00,{ACME},,",), 2, "quantity"),
        ((f"PO-1,SKU-A,1,1.00,{ACME},,", f"PO-1,SKU-B,two,1.00,{ACME},,"), 3, "quantity"),
        ((f"PO-1,SKU-A,1,1.005,{ACME},,",), 2, "unit_price"),
        ((f"PO-1,SKU-A,1,-1,{ACME},,",), 2, "unit_price"),
        ((f"PO-1,SKU-A,1,abc,{ACME},,",), 2, "unit_price"),
        ((f"PO-1,,1,1.00,{ACME},,",), 2, "sku"),
        (("PO-1,SKU-A,1,1.00,Acme,1 Main St,Louisville,40202,US,,,",), 2, "email"),
        ((f"PO-1,SKU-A,1,1.00,{ACME},15/12/2026,",), 2, "requested_ship_date"),
        ((f"PO-1,SKU-A,1,1.00,{ACME},,maybe",), 2, "ship_complete"),
        ((f"PO-1,SKU-A,1,1.00,{ACME},,", f"PO-1,SKU-A,2,1.00,{ACME},,"), 3, "sku"),
        ((f"PO-1,SKU-A,1,1.00,{ACME},,", f"PO-1,SKU-B,1,1.00,{ACME},,no"), 3, "ship_complete"),
        (
            (
                f"PO-1,SKU-A,1,1.00,{ACME},,",
                "PO-1,SKU-B,1,1.00,x,1 Main St,Louisville,40202,us,buyer@acme.example,,",
            ),
            3,
            "ship_to_name",
        ),
        ((f"PO-1,SKU-A,1,1.00,{ACME},,", "PO-2,SKU-A,1"), 3, ""),
        ((f"PO-1,SKU-A,1,1.00,{ACME},,,extra",), 2, ""),
        ((f"{'P' * 65},SKU-A,1,1.00,{ACME},,",), 2, "po_number"),
    ],
)
def test_a_row_that_cannot_be_read_refuses_the_file_naming_its_line(
    rows: tuple[str, ...], line: int, column: str
) -> None:
    with pytest.raises(DomainError) as refused:
        wholesale_orders(csv_of(*rows))
    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert refused.value.message.startswith(f"line {line}")
    assert refused.value.field == f"csv.{line}.{column}".strip(".")


def test_a_quoted_cell_over_two_physical_lines_counts_them() -> None:
    text = csv_of(
        'PO-1,SKU-A,1,1.00,"Acme\nStores",1 Main St,Louisville,40202,US,buyer@acme.example,,',
        f"PO-2,,1,1.00,{ACME},,",
    )
    with pytest.raises(DomainError, match=r"^line 4"):
        wholesale_orders(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "po_number,sku,quantity,unit_price,ship_to_postal_code\n",
        HEADER + "\n",
        csv_of(*(f"PO-{i},SKU-A,1,1.00,{ACME},," for i in range(MAX_ORDERS + 1))),
        HEADER + "\n" + "x" * (1024 * 1024),
    ],
    ids=["empty", "a column missing", "no rows", "too many orders", "too large"],
)
def test_a_file_out_of_bounds_is_refused(text: str) -> None:
    with pytest.raises(DomainError):
        wholesale_orders(text)
