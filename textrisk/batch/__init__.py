"""Batch scoring: :mod:`.local` (documents in blocks with verified resume, callable from Python), :mod:`.output`
(records, JSONL/CSV/table writers), :mod:`.resume` (the partial file), :mod:`.ray` (Ray Data) and ``textrisk score``
(:mod:`.cli`)."""
