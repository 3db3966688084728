"""Telling people before they have to ask: the outbox of events, webhook subscriptions and
their deliveries."""
