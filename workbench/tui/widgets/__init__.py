"""One module per screen region: steps table, detail panel, evidence, audit, findings, status."""
