"""One router per resource; each is a thin layer over client and engine functions."""
