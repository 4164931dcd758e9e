"""The `social` contact channel: Facebook Messenger and Instagram through Meta's Messenger
Platform — the webhook handshake, signed notifications stored as case messages, and agents'
replies through the Send API within Meta's messaging window (24 hours, 7 days with the
HUMAN_AGENT tag), never sent twice. `simulator/` speaks the same wire format for tests and demos."""
