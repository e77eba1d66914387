"""Flask command-line tasks that need no model: `flask --app app.cli cards import PATH`."""
import sys

import click
from flask import Flask

from characters import import_cards
from config import Config

app = Flask(__name__)


@app.cli.group()
def cards():
    """Character cards."""


@cards.command("import", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def import_command(args):
    """Import a folder, a .zip or one card file: PATH [--owner USERNAME] [--public]."""
    sys.exit(import_cards.main(list(args), Config))
