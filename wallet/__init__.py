"""The Tessera wallet: an encrypted vault, a protocol client, a headless CLI and a Textual app (design.md §6)."""
