"""Bulk card import: `python -m characters.import_cards PATH [--owner USERNAME] [--public]`.

PATH is a folder (searched recursively), a .zip of cards, or one card file. Every .png, .json and
.charx file is imported through the same service function as POST /api/characters/import, each in
its own transaction, with a progress bar and one OK/FAILED line per file. Exit code 0 when every
file imported, 1 when any failed, 2 for bad arguments. The model is never loaded.
"""
import argparse
import logging
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from sqlmodel import select
from tqdm import tqdm

from core.db import make_engine, session_scope
from core.users import User
from core.migrate import upgrade_database
from characters.cards import CardError
from characters.cards.limits import MAX_FILE_BYTES
from characters.service import import_card

log = logging.getLogger(__name__)

CARD_SUFFIXES = (".png", ".json", ".charx")
MAX_ZIP_MEMBERS = 10_000


@dataclass
class Source:
    """One card to import: a name for the report and a way to read its bytes."""
    name: str
    read: Callable[[], bytes]


def main(argv: Optional[list[str]], config) -> int:
    """`config` gives DATABASE_URL and INSTANCE_DIR (config.Config from the command line)."""
    parser = argparse.ArgumentParser(prog="python -m characters.import_cards",
                                     description="Import character cards (.png, .json, .charx) "
                                                 "from a folder, a .zip or one file.")
    parser.add_argument("path", type=Path, help="folder, .zip of cards, or one card file")
    parser.add_argument("--owner", help="username that will own the characters")
    parser.add_argument("--public", action="store_true",
                        help="make the characters public (default: private to the owner)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    if not args.path.exists():
        print(f"error: {args.path} does not exist", file=sys.stderr)
        return 2
    if not args.owner and not args.public:
        print("error: private characters need an owner; pass --owner USERNAME, --public, or both",
              file=sys.stderr)
        return 2
    upgrade_database(config.DATABASE_URL)
    engine = make_engine(config.DATABASE_URL)
    try:
        owner_id = None
        if args.owner:
            owner_id = _user_id(engine, args.owner)
            if owner_id is None:
                print(f"error: no user named {args.owner!r}; sign up first", file=sys.stderr)
                return 2
        try:
            sources = list(find_cards(args.path))
        except CardError as exc:
            print(f"error: {args.path}: {exc.message}", file=sys.stderr)
            return 2
        failed = import_all(engine, sources, owner_id=owner_id,
                            visibility="public" if args.public else "private",
                            avatars_dir=config.INSTANCE_DIR / "avatars")
    finally:
        engine.dispose()
    print(f"{len(sources) - failed} imported, {failed} failed, {len(sources)} files")
    return 1 if failed else 0


def find_cards(path: Path) -> Iterator[Source]:
    """The card files under `path`, in a stable order. Raises CardError for an unreadable zip."""
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            relative = file.relative_to(path)
            if file.suffix.lower() in CARD_SUFFIXES and not _hidden(relative):
                yield Source(str(relative), file.read_bytes)
    elif path.suffix.lower() == ".zip" and not _is_charx(path):
        yield from _zip_members(path)
    else:
        yield Source(path.name, path.read_bytes)


def import_all(engine, sources: list[Source], *, owner_id: Optional[int], visibility: str,
               avatars_dir: Path) -> int:
    """Import each source in its own session; print one report line each; return the failures."""
    failed = 0
    with tqdm(sources, desc="Importing cards", unit="card", file=sys.stderr) as bar:
        for source in bar:
            line = _import_one(engine, source, owner_id, visibility, avatars_dir)
            failed += line.startswith("FAILED")
            tqdm.write(line, file=sys.stdout)
    return failed


def _import_one(engine, source: Source, owner_id, visibility, avatars_dir) -> str:
    try:
        with session_scope(engine) as session:
            character = import_card(session, source.read(), source.name, owner_id=owner_id,
                                    avatars_dir=avatars_dir, visibility=visibility)
            entries = len((character.character_book or {}).get("entries") or [])
            return (f"OK      {source.name}: {character.name!r} (id {character.id}, "
                    f"{entries} lorebook entries)")
    except CardError as exc:
        return f"FAILED  {source.name}: {exc.code}: {exc.message}"
    except Exception as exc:  # one bad file must not stop the batch
        log.exception("importing %s failed", source.name)
        return f"FAILED  {source.name}: {type(exc).__name__}: {exc}"


def _user_id(engine, username: str) -> Optional[int]:
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username_key == username.strip().lower())).first()
        return user.id if user else None


def _zip_members(path: Path) -> Iterator[Source]:
    try:
        archive = zipfile.ZipFile(path)
        infos = [i for i in archive.infolist() if not i.is_dir()
                 and Path(i.filename).suffix.lower() in CARD_SUFFIXES
                 and not _hidden(Path(i.filename))]
    except (zipfile.BadZipFile, OSError) as exc:
        raise CardError("bad_zip", f"not a readable zip file ({exc})") from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise CardError("zip_bomb", f"the zip holds {len(infos)} cards; at most "
                                    f"{MAX_ZIP_MEMBERS} are imported at once")
    for info in sorted(infos, key=lambda i: i.filename):
        yield Source(info.filename, lambda info=info: _read_member(archive, info))


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """At most MAX_FILE_BYTES + 1 bytes are inflated, whatever the member claims, so the card
    parser's own size check rejects an oversized (or bomb) member."""
    try:
        with archive.open(info) as member:
            return member.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, RuntimeError, OSError, EOFError) as exc:
        raise CardError("bad_zip", f"this zip member cannot be read ({exc})") from exc


def _is_charx(path: Path) -> bool:
    """A single CHARX card saved with a .zip name has card.json at its root."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "card.json" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in relative.parts)


if __name__ == "__main__":
    from config import Config  # an entry point, like run.py: settings come from here
    sys.exit(main(sys.argv[1:], Config))
