"""The bench reads wrk's summary line (bench/graphql.lua's done()) into a phase's figures."""

from bench.wrk import parse_output

OUTPUT = """Running 5s test @ http://127.0.0.1:8000/graphql
  2 threads and 16 connections
wrk-result {"requests":1200,"duration_us":5000000,"p50_us":12000,"p99_us":48000,\
"max_us":90000,"socket_errors":1,"timeouts":2,"non_2xx":3,"user_errors":4,\
"graphql_errors":5,"samples":[["T3JkZXI6MQ==","bench-x-c16-0-25"]]}
"""


def test_the_figures_come_from_the_result_line() -> None:
    run = parse_output("placeOrder c=16", OUTPUT, client_cpu=0.25)
    summary = run.result.summary()
    assert (summary["count"], summary["per_second"]) == (1200, 240.0)
    assert (summary["p50_ms"], summary["p99_ms"], summary["max_ms"]) == (12.0, 48.0, 90.0)
    assert run.result.cpu == {"client": 0.25}
    assert run.samples == [("T3JkZXI6MQ==", "bench-x-c16-0-25")]


def test_every_failed_answer_counts_as_an_error_and_user_errors_apart() -> None:
    summary = parse_output("placeOrder c=16", OUTPUT).result.summary()
    assert summary["user_errors"] == 4
    assert summary["errors"] == 1 + 2 + 3 + 5
    assert "non-2xx 3" in summary["note"]
