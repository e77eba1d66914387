"""Check a pull yourself, without trusting the server:

    curl -b cookies.txt https://kindred.example/api/gacha/pulls/42/verify > pull-42.json
    python -m gacha.cli verify pull-42.json        # or "-" to read stdin

The report holds the revealed server seed, its published hash, the client seed, the nonce, the
pity state before the pull, and the banner's rules and pool. This recomputes the pull from those
with the pure core alone (gacha.fairness, gacha.rates, gacha.draw) and compares it with what the
server recorded. Exit status 0 = verified, 1 = mismatch, 2 = unusable input.

Grant currency as an admin (the only way premium enters the economy), on the configured
database (DATABASE_URL):

    python -m gacha.cli grant alice 500 --currency premium --key support-ticket-81 --reason "refund"

--key makes a retry safe: the same key for the same user never grants twice (default: a new
random key, printed). Exit status 0 = granted (or already granted with that key), 2 = refused.
"""
import argparse
import json
import sys
import uuid

from gacha.draw import PityState, Pool, draw_one
from gacha.fairness import seed_matches_hash
from gacha.rates import BannerRules


def main(argv: list[str] | None = None, database_url: str | None = None) -> int:
    """`database_url` is the default for `grant --database-url` (config.py's on the command line)."""
    parser = argparse.ArgumentParser(prog="python -m gacha.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="recompute a pull from a verify report")
    verify.add_argument("report", help="JSON from GET /api/gacha/pulls/<id>/verify, or -")
    grant = commands.add_parser("grant", help="grant gems or premium to a user (admin)")
    grant.add_argument("username")
    grant.add_argument("amount", type=int)
    grant.add_argument("--currency", default="gems", choices=["gems", "premium"])
    grant.add_argument("--key", help="idempotency key (default: a new random one)")
    grant.add_argument("--reason", default="granted from the command line")
    grant.add_argument("--database-url", help="default: DATABASE_URL from config.py")
    args = parser.parse_args(argv)
    if args.command == "grant":
        return grant_command(args, args.database_url or database_url)
    try:
        text = sys.stdin.read() if args.report == "-" else open(args.report).read()
        checks = verify_report(json.loads(text))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot verify: {exc}", file=sys.stderr)
        return 2
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


def grant_command(args, database_url: str | None) -> int:
    from sqlmodel import Session

    from core.db import make_engine
    from core.errors import KindredError
    from gacha import ledger

    key = args.key or f"cli-{uuid.uuid4()}"
    if not database_url:
        print("not granted: no database; pass --database-url", file=sys.stderr)
        return 2
    engine = make_engine(database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            user_id = ledger.user_id_by_name(session, args.username)
            tx = ledger.admin_grant(session, user_id, args.currency, args.amount, key,
                                    reason=args.reason)
            balance = ledger.balance(session, user_id, args.currency)
    except KindredError as exc:
        print(f"not granted: {exc.message}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"transaction {tx.id}: {tx.details['amount']} {tx.details['currency']} to "
          f"{args.username} (key {key}); balance now {balance} {args.currency}")
    return 0


def verify_report(report: dict) -> dict[str, bool]:
    """Independent checks of one verify report; every value True means the pull is fair."""
    rules = BannerRules(**report["rules"])
    pool = Pool.from_mapping(report["pool"])
    state = PityState(**report["state_before"])
    result, _ = draw_one(rules, pool, state, report["server_seed"], report["client_seed"],
                         int(report["nonce"]))
    recorded = report["recorded"]
    return {
        "server seed matches the hash published before the draw":
            seed_matches_hash(report["server_seed"], report["seed_hash"]),
        "pool matches the published pool digest": pool.digest() == report["pool_digest"],
        "recomputed card matches the recorded card":
            (result.card_id, result.rarity, result.featured)
            == (str(recorded["card_id"]), recorded["rarity"], recorded["featured"]),
    }


if __name__ == "__main__":
    from config import Config  # an entry point, like run.py: settings come from here
    sys.exit(main(database_url=Config.DATABASE_URL))
