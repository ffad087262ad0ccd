"""Replication between replicas over NATS JetStream: publishing logs, pulling and ingesting them."""
