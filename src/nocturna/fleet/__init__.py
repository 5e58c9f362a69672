"""The central side of a network of units: one ingest writes every unit's MQTT messages
into one PostgreSQL database, which ``nocturna fleet status`` (and the fleet page) read.

* :mod:`.envelope`: the version 1 message envelope, checked before anything is written.
* :mod:`.schema`, :mod:`.migrations`: the central tables and their migration chain.
* :mod:`.store`: idempotent batch writes (one transaction per batch).
* :mod:`.ingest`: the MQTT subscriber (persistent session, manual acknowledgements).
* :mod:`.views`: what the fleet table shows, read from the rows.
* :mod:`.commands`: operator commands across the network (``fleet park``).
"""
