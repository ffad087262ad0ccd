"""Replication between replicas over NATS JetStream: publishing logs, pulling and ingesting them.

Everything speaks `replication.transport` (protocols and plain data); `nats_transport`
implements it over nats-py, `memory` in memory for simulation. `clock` is the injectable
time, `publisher` sends a replica's own log, `setup` creates streams and consumers,
`ingest` is the hub's loop, `pull` the node's side of the hub's logs and its watermark.
Nothing here imports node or hub: what is theirs is handed in.
"""
