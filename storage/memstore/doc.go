// Package memstore is the in-process storage.Ephemeral: auth requests,
// codes, sessions and rate-limit counters for a single orgid replica that
// needs nothing else installed. Replicas behind a load balancer share state
// through redisstore instead.
package memstore
