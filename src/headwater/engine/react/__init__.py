"""react: see docs/design.md, "Where to make a change"."""
