"""Monitoring: scored risk streams per entity, alert rules, webhooks through an outbox, drift, a dashboard.

``textrisk monitor`` reads records (``id``, ``timestamp``, ``entity``, ``text``) from a growing JSONL file, a
folder or stdin, scores them with :class:`textrisk.RiskAnalyzer` and keeps everything in one SQLite file or a
PostgreSQL database (:class:`textrisk.monitor.state.MonitorState`); ``textrisk dashboard`` serves or exports a
page built from it.

Modules (one idea each): ``source`` (records), ``schema`` (the tables), ``database`` (a path or URL to an
engine), ``state`` (the queries), ``indices`` (EW indices, z-scores), ``rules`` (YAML rules), ``alerts`` (rule
evaluation), ``engine`` (the batch loop), ``alerts_file``, ``webhook`` and ``outbox`` (delivery), ``drift``,
``views``, ``charts``, ``pages`` and ``dashboard`` (the pages), ``cli``. The package imports nothing on its own
so that ``textrisk.cli`` stays light; import from the modules.
"""
