// Package keys guards orgid's secrets at rest and its token-signing keys.
//
// A 32-byte master key (ORGID_MASTER_KEY, or a generated master.key file)
// never encrypts anything itself: a Sealer derives purpose-bound sub-keys
// from it with HKDF (RFC 5869) and seals private keys with AES-256-GCM. A
// Manager keeps each tenant's signing keys (RS256, ES256, EdDSA), rotates
// them so that a key is published in the JWKS before it signs and stays
// published until every token it signed has expired, and caches signers so
// that signing a token costs no storage round trip.
package keys
