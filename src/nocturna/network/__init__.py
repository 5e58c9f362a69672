"""The unit on the network: its telemetry published to an MQTT broker, commands back.

* :mod:`.messages`: topics, the versioned JSON envelope and each kind's data
  (``schema.json`` is their JSON Schema);
* :mod:`.broker`: the broker URL, TLS and the MQTT client's settings;
* :mod:`.commands`: commands from the network run through the unit's
  :class:`~nocturna.runtime.control.UnitControl`;
* :mod:`.publisher`: the publisher thread: bus events into the outbox, the outbox to
  the broker.
"""
