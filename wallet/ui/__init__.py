"""The Textual wallet app (``tessera wallet``)."""
