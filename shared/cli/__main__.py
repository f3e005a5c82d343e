"""``python -m shared.cli`` runs the ``tessera`` command."""

from shared.cli import run

run()
