"""The `oms` command: `oms up` runs the whole system on one machine, `oms token` issues a token,
`oms migrate` brings the databases' schemas up to date, `oms certs` issues the processes'
certificates for a deployment."""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from gateway.auth import (
    InvalidToken,
    TokenPolicy,
    channels_problem,
    issue_token,
    read_token,
    signing_key_from_env,
    signing_key_path,
    token_id_of,
)
from gateway.revocations import revocation_file, revoke
from services.kernel.caller import Role
from services.kernel.settings import SERVICE_NAMES
from services.kernel.settings import data_dir as data_dir_from_env


def _port(text: str) -> int:
    port = int(text)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"not a TCP port: {text}")
    return port


def _hours(text: str) -> float:
    hours = float(text)
    if hours <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text}")
    return hours


def _data_dir(given: Path | None) -> Path:
    """`--data-dir`, else `OMS_DATA_DIR`, else `./var`."""
    return given.resolve() if given else data_dir_from_env(os.environ)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oms", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    data_dir_help = "where data, logs and the signing key live (default: $OMS_DATA_DIR or ./var)"

    up = commands.add_parser(
        "up",
        help="run NATS, the five services and the GraphQL gateway on this machine",
        description="Runs the whole system here. OMS_* variables already set (a PostgreSQL "
        "database URL, OMS_NATS_URL, ...) win over the embedded defaults.",
    )
    up.add_argument("--data-dir", type=Path, help=data_dir_help)
    up.add_argument(
        "--port",
        type=_port,
        help="the gateway's port on 127.0.0.1 (default: $OMS_GATEWAY_LISTEN or 8000)",
    )
    up.add_argument(
        "--cluster",
        action="store_true",
        help="the clustered topology: three NATS servers (streams on all three), two replicas "
        "of each service on PostgreSQL ($OMS_CLUSTER_POSTGRES_URL's server, default the local "
        "one; a database oms_cluster_<service> each), two gateways on --port and the next one",
    )
    up.add_argument(
        "--demo",
        action="store_true",
        help="once ready, seed the demo network (as `oms demo` does; nothing twice)",
    )

    demo = commands.add_parser(
        "demo",
        help="seed a running system with a demo network, orders, returns and work orders",
        description="Sends the demo data through the gateway's GraphQL with tokens signed by "
        "the data dir's key: a DC, a 3PL, four stores and three return hubs in Berlin, a few "
        "hundred SKUs, a week of orders, returns at every stage and a few work orders. Running "
        "it again adds nothing twice.",
    )
    demo.add_argument("--data-dir", type=Path, help=data_dir_help)
    demo.add_argument(
        "--gateway",
        default="http://127.0.0.1:8000",
        help="the gateway's base URL (default: http://127.0.0.1:8000)",
    )

    token = commands.add_parser(
        "token",
        help="print a bearer token for the gateway (alone on the last line), or revoke one",
        description="Signs a token with the data dir's key, or OMS_JWT_SECRET when set. "
        "Each token has an id (printed with it); --revoke ID lists it in the revocation file "
        "the gateway reads ($OMS_TOKEN_REVOCATION_FILE, else secrets/revoked-tokens in the "
        "data dir), and the gateway refuses it from its next request on.",
    )
    token.add_argument("--role", type=str.lower, choices=[role.value for role in Role])
    token.add_argument("--location", help="the location code a scanner is bound to")
    token.add_argument(
        "--channel",
        action="append",
        default=[],
        dest="channels",
        metavar="CODE",
        help="a sales channel a storefront sells on (repeat for several; a storefront token "
        "needs at least one): it places and reads orders of these channels only",
    )
    token.add_argument(
        "--subject",
        help="who the token speaks for, e.g. a storefront's name: a storefront sees the orders "
        "placed under its subject, so reissue with the same one (default: random)",
    )
    token.add_argument("--data-dir", type=Path, help=data_dir_help)
    token.add_argument(
        "--ttl-hours",
        type=_hours,
        default=12.0,
        help="how long the token holds (default 12; at most $OMS_TOKEN_MAX_TTL_HOURS, 24)",
    )
    token.add_argument(
        "--link",
        action="store_true",
        help="also print the sign-in link of the role's web app (the token in its #fragment): "
        "the scanner app for a scanner, the console for the back office",
    )
    token.add_argument(
        "--qr",
        action="store_true",
        help="also print the sign-in link as a QR code, for a device's camera (implies --link)",
    )
    token.add_argument(
        "--gateway",
        default="http://127.0.0.1:8000",
        help="the gateway's base URL in the --link (default: http://127.0.0.1:8000)",
    )
    token.add_argument(
        "--revoke",
        metavar="ID_OR_TOKEN",
        help="revoke the token with this id (or this token) instead of issuing one",
    )

    migrate = commands.add_parser(
        "migrate",
        help="bring every service's database to the newest schema (services also do at start)",
        description="Migrates the databases the OMS_* variables name (the data dir's SQLite "
        "files by default).",
    )
    migrate.add_argument("--data-dir", type=Path, help=data_dir_help)
    migrate.add_argument(
        "--service",
        action="append",
        default=[],
        choices=SERVICE_NAMES,
        help="only this service (repeatable; default: all)",
    )
    migrate.add_argument(
        "--status", action="store_true", help="print each database's revisions, change nothing"
    )
    migrate.add_argument(
        "--new",
        metavar="MESSAGE",
        help="for developers: write the revision that brings one --service's schema to its "
        "tables as the code declares them",
    )

    certs = commands.add_parser(
        "certs",
        help="make a CA (once) and a certificate for every service and the gateway",
        description="Writes OUT/ca.crt and OUT/ca.key (the CA, kept when present; keep ca.key "
        "away from every process) and OUT/<part>/{ca.crt,tls.crt,tls.key} for the five services "
        "and the gateway, each valid about 13 months. Run it again to renew them with the "
        "same CA. `oms up` does this by itself in its data dir.",
    )
    certs.add_argument("--out", type=Path, required=True, help="the folder to write them in")

    letters = commands.add_parser(
        "dead-letters",
        help="list the events services set aside, or replay one",
        description="Reads the databases the OMS_* variables name (the data dir's SQLite files "
        "by default). An unpublishable event is replayed by putting it back in the outbox; an "
        "unapplied one by applying it with its consumer's handler.",
    )
    letters.add_argument("--data-dir", type=Path, help=data_dir_help)
    letters.add_argument(
        "--service", action="append", default=[], choices=SERVICE_NAMES, help="only this service"
    )
    letters.add_argument("--all", action="store_true", help="also the letters already replayed")
    letters.add_argument(
        "--replay", type=int, metavar="ID", help="replay this letter (one --service)"
    )
    importing = commands.add_parser(
        "import",
        help="import wholesale orders, a location's stock count, stock or SKUs from a CSV file",
        description="Sends the file to the gateway with the back-office token in $OMS_TOKEN: "
        "all of it or, when a row cannot be read, none (the row's line is named). orders: "
        "importWholesaleOrders (columns in the README, Sales channels); counts: "
        "importStockCount (columns sku and counted; README, Stock counts and drift); stock: "
        "importStock (columns sku, location_code, delta or on_hand, reason); skus: upsertSkus "
        "(columns code, title, unit_cost_cents, weight_grams, serialized; README, Bulk imports).",
    )
    importing.add_argument("what", choices=["orders", "counts", "stock", "skus"])
    importing.add_argument("file", type=Path, help="the CSV file, header row first")
    importing.add_argument("--channel", help="orders: the wholesale channel's code")
    importing.add_argument("--location", help="counts: the counted location's code")
    importing.add_argument(
        "--complete",
        action="store_true",
        help="counts: a full count (a SKU the location holds that the file leaves out was "
        "counted 0)",
    )
    importing.add_argument(
        "--key",
        help="stock: an idempotency key (the same file sent again under it changes nothing)",
    )
    importing.add_argument(
        "--gateway",
        default="http://127.0.0.1:8000",
        help="the gateway's base URL (default: http://127.0.0.1:8000)",
    )
    return parser


def _token(args: argparse.Namespace) -> int:
    try:
        policy = TokenPolicy.from_env(os.environ)
        if args.revoke:
            return _revoke(args.revoke, _data_dir(args.data_dir), policy)
        return _issue(args, policy)
    except (ValueError, InvalidToken) as error:  # WeakSigningKey is a ValueError
        print(f"oms token: error: {error}", file=sys.stderr)
        return 2


def _issue(args: argparse.Namespace, policy: TokenPolicy) -> int:
    if not args.role:
        print("oms token: error: give --role to issue a token, or --revoke ID", file=sys.stderr)
        return 2
    role = Role(args.role)
    if role is Role.SCANNER and not args.location:
        print("oms token: error: a scanner token needs --location CODE", file=sys.stderr)
        return 2
    problem = channels_problem(args.channels) if role is Role.STOREFRONT else None
    if problem:
        print(
            f"oms token: error: a storefront token needs --channel CODE ({problem})",
            file=sys.stderr,
        )
        return 2
    data_dir = _data_dir(args.data_dir)
    if not os.environ.get("OMS_JWT_SECRET") and not signing_key_path(data_dir).exists():
        # A mistyped --data-dir would otherwise yield a token no running gateway accepts.
        print(f"oms token: note: created a new signing key in {data_dir}", file=sys.stderr)
    key = signing_key_from_env(data_dir)
    channels = args.channels if role is Role.STOREFRONT else []
    ttl = timedelta(hours=args.ttl_hours)
    token = issue_token(
        key, role, args.location, subject=args.subject, ttl=ttl, policy=policy, channels=channels
    )
    issued = read_token(key, token, policy)
    bound = f" at {args.location}" if args.location else ""
    bound += f" on {', '.join(channels)}" if channels else ""
    print(
        f"# {role.value}{bound} for {issued.caller.subject}, valid {args.ttl_hours:g}h, "
        f"id {issued.token_id}; send 'Authorization: Bearer <token>'"
    )
    if args.link or args.qr:
        # In the fragment: a browser never sends it to a server, nor logs it in a referrer.
        app = "scanner" if role is Role.SCANNER else "console"
        link = f"{args.gateway.rstrip('/')}/{app}/#token={token}"
        if args.qr:
            _print_qr(link)
        print(f"# sign in: {link}")
    print(token)
    return 0


def _print_qr(text: str) -> None:
    """`text` as a QR code drawn with block characters, each line a comment to scripts."""
    import segno

    drawn = io.StringIO()
    segno.make(text, error="l").terminal(out=drawn, compact=True)
    for line in drawn.getvalue().splitlines():
        print(f"# {line}")


def _revoke(id_or_token: str, data_dir: Path, policy: TokenPolicy) -> int:
    token_id = token_id_of(id_or_token) if id_or_token.count(".") == 2 else id_or_token
    path = revocation_file(data_dir, os.environ)
    # Kept as long as a token with this id can be valid, then dropped (gateway.revocations).
    revoke(path, token_id, policy.max_lifetime + policy.leeway)
    print(f"revoked token {token_id} (listed in {path})")
    return 0


def _import(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.what in ("stock", "skus"):
        from launcher.stock_import import run_skus, run_stock

        if args.what == "skus":
            return run_skus(args.file, args.gateway, os.environ)
        return run_stock(args.file, args.key, args.gateway, os.environ)
    if args.what == "counts":
        if not args.location:
            parser.error("oms import counts needs --location CODE")
        from launcher.count_import import run as import_counts

        return import_counts(args.file, args.location, args.complete, args.gateway, os.environ)
    if not args.channel:
        parser.error("oms import orders needs --channel CODE")
    from launcher.wholesale_import import run as import_orders

    return import_orders(args.file, args.channel, args.gateway, os.environ)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "token":
        return _token(args)
    if args.command == "certs":
        from launcher.pki import PARTIES, issue_all

        os.umask(0o077)
        issue_all(args.out.resolve())
        for party in PARTIES:
            print(args.out / party)
        return 0
    if args.command == "import":
        return _import(parser, args)
    if args.command == "dead-letters":
        from launcher.dead_letters import run as dead_letters

        env = {**os.environ, "OMS_DATA_DIR": str(_data_dir(args.data_dir))}
        return dead_letters(args.service, env, args.replay, args.all)
    if args.command == "demo":
        from launcher.demo import run as seed_demo

        return seed_demo(_data_dir(args.data_dir), args.gateway, os.environ)
    if args.command == "migrate":
        from launcher.migrations import run

        env = {**os.environ, "OMS_DATA_DIR": str(_data_dir(args.data_dir))}
        return run(args.service, env, args.status, args.new)
    # Imported here: `oms token` needs none of the process machinery.
    from launcher.cluster import ClusterUp
    from launcher.up import Up

    if isinstance(sys.stdout, io.TextIOWrapper):  # not when a test captures it
        sys.stdout.reconfigure(line_buffering=True)
    starting = ClusterUp if args.cluster else Up
    return starting(_data_dir(args.data_dir), args.port, os.environ, demo=args.demo).run()


if __name__ == "__main__":
    sys.exit(main())
