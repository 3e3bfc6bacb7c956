"""What a service has published on its JetStream stream, read as that service (the embedded
broker lets each service read its own stream only)."""

from __future__ import annotations

import json

from nats.js.errors import NotFoundError

from launcher.nats_access import passwords_path
from oms.events.v1.envelope_pb2 import EventEnvelope
from services.kernel import events
from services.kernel.events import stream_name
from services.kernel.outbox import subject_for
from services.kernel.settings import nats_url
from tests.gauntlet.system import System


async def last_published(system: System, producer: str, event_type: str) -> EventEnvelope | None:
    """The last event of the type on the producer's stream; None when there is none yet."""
    passwords = json.loads(passwords_path(system.data_dir).read_text())
    login = {
        "OMS_NATS_URL": system.running.parts["nats"].address,
        "OMS_NATS_USER": producer,
        "OMS_NATS_PASSWORD": passwords[producer],
    }
    client = await events.connect(nats_url(login), f"oms-{producer}")
    try:
        js = client.jetstream()
        message = await js.get_last_msg(stream_name(producer), subject_for(producer, event_type))
    except NotFoundError:
        return None
    finally:
        await client.close()
    return EventEnvelope.FromString(message.data or b"")
