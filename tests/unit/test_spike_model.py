"""The spike simulation's pure parts: the season's volume curve, a location's day of
inspection, and the figures the table reports."""

from __future__ import annotations

import random

from bench.spike_model import (
    PEAK_FACTOR,
    DayFigures,
    Parcel,
    daily_volumes,
    due_for_inspection,
    figures,
    generate_network,
    markdown_table,
)


def test_the_season_peaks_at_five_point_three_times_normal_over_two_weeks() -> None:
    volumes = daily_volumes(baseline=10, days=40, peak_start=5, peak_days=15)
    assert min(volumes) == 10 and max(volumes) == round(PEAK_FACTOR * 10)
    assert volumes.index(max(volumes)) == 5 + 7  # the middle of the peak
    above = [day for day, v in enumerate(volumes) if v > 10]
    assert above[0] >= 5 and above[-1] < 5 + 15


def test_a_location_inspects_what_arrived_first_up_to_its_capacity() -> None:
    parcels = [
        Parcel("r-3", "HUB-1", requested_day=2, arrival_day=3, cost_cents=500, restockable=True),
        Parcel("r-1", "HUB-1", requested_day=0, arrival_day=1, cost_cents=500, restockable=True),
        Parcel("r-2", "HUB-2", requested_day=0, arrival_day=1, cost_cents=500, restockable=True),
        Parcel("r-4", "HUB-1", requested_day=3, arrival_day=4, cost_cents=500, restockable=True),
    ]
    for parcel in parcels[:3]:
        parcel.received = True
    assert [p.return_id for p in due_for_inspection(parcels, "HUB-1", 5)] == ["r-1", "r-3"]
    assert [p.return_id for p in due_for_inspection(parcels, "HUB-1", 1)] == ["r-1"]


def test_the_figures_count_cost_waits_backlog_and_units_back_on_sale() -> None:
    parcels = [
        Parcel("a", "HUB-1", 0, 1, 500, True, received=True, inspected_day=1),
        Parcel("b", "DC", 0, 3, 3000, True, received=True, inspected_day=9),
        Parcel("c", "DC", 1, 4, 3000, False, received=True, inspected_day=5),
    ]
    days = [DayFigures(d, 1, w) for d, w in enumerate([0, 0, 0, 2, 3, 1, 0, 1, 0, 0])]
    found = figures("central", parcels, days)
    assert (found.returns, found.cost_cents) == (3, 6500)
    assert (found.days_p50, found.days_max) == (4.0, 9)
    assert (found.largest_backlog, found.largest_backlog_day, found.cleared_day) == (3, 4, 6)
    assert (found.on_sale_within_5_days, found.restockable) == (1, 2)
    assert "| central | 3 | $65 | 4.0 / 8.0 / 9 | 3 (day 4) | 6 | 1 of 2 (50 %) |" in (
        markdown_table([found])
    )


def test_the_network_has_one_dc_far_out_and_every_hub_within_reach() -> None:
    network = generate_network(
        random.Random(1), hubs=5, stores=3, hub_capacity=6, clerk_capacity=10
    )
    assert len(network.hubs) == 5 and network.dc.inspections_per_day == 10
    assert all(abs(h.latitude - network.centre[0]) < 0.2 for h in network.hubs)
