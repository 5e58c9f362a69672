"""paho clients made from broker URLs (:class:`~nocturna.network.broker.BrokerAddress`).

The fleet commands use paho-mqtt's client directly rather than aiomqtt (the unit side's
client): the ingest needs manual acknowledgements (``manual_ack=True`` and
``client.ack(mid, qos)``), which aiomqtt does not expose, and paho is aiomqtt's base, so
this adds no dependency.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import paho.mqtt.client as mqtt

from nocturna.network.broker import BrokerAddress


def make_client(address: BrokerAddress, client_id: str, *, ca_file: Path | None = None,
                **options: object) -> mqtt.Client:
    """A paho client (MQTT 5, callback API 2) with the address's credentials and TLS."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5, **options)  # type: ignore[arg-type]
    if address.username is not None:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        client.tls_set_context(context)
    return client
