"""Check a pull yourself, without trusting the server:

    curl -b cookies.txt https://kindred.example/api/gacha/pulls/42/verify > pull-42.json
    python -m gacha.cli verify pull-42.json        # or "-" to read stdin

The report holds the revealed server seed, its published hash, the client seed, the nonce, the
pity state before the pull, and the banner's rules and pool. This recomputes the pull from those
with the pure core alone (gacha.fairness, gacha.rates, gacha.draw) and compares it with what the
server recorded. Exit status 0 = verified, 1 = mismatch, 2 = unusable input.
"""
import argparse
import json
import sys

from gacha.draw import PityState, Pool, draw_one
from gacha.fairness import seed_matches_hash
from gacha.rates import BannerRules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gacha.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="recompute a pull from a verify report")
    verify.add_argument("report", help="JSON from GET /api/gacha/pulls/<id>/verify, or -")
    args = parser.parse_args(argv)
    try:
        text = sys.stdin.read() if args.report == "-" else open(args.report).read()
        checks = verify_report(json.loads(text))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot verify: {exc}", file=sys.stderr)
        return 2
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


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
    sys.exit(main())
