// Package usage counts what bills are based on — tokens issued per
// (organization, application, month) and monthly active users — cheaply
// on the token path: a Recorder adds to in-process counters under a
// mutex, and a Batcher flushes their deltas to the durable store now and
// then as additive writes, so any number of replicas can count at once.
package usage
