// Package redistest gives tests a redisstore.Store on a real Redis, under a
// key prefix of their own, and a way to move that Redis's clock forward for
// those keys so that expiry is tested without sleeping.
package redistest
