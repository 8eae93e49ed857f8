"""One module per behaviour a user would name, called by the handlers; each asks `clarion.domain` for decisions
and calls `clarion.adapters` for I/O. The map from behaviour to module: docs/architecture.md."""
