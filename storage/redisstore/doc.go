// Package redisstore is the storage.Ephemeral on Redis, so that any number
// of orgid replicas share auth requests, codes, sessions and rate limits.
// Every operation is one round trip whose atomicity Redis provides (SET NX,
// SET XX KEEPTTL GET, a Lua script for counters).
package redisstore
