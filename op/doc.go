// Package op is orgid's OpenID Provider: the only package that talks to
// zitadel/oidc (imported as zop). It serves one provider for every tenant —
// the issuer is {external}/t/{tenant}, taken from the request — through a
// type that embeds *zop.LegacyServer, so orgid's token minting, grants and
// checks are overrides of the library's methods rather than a fork.
//
// Tokens are minted here, not by the library: access tokens are RFC 9068
// JWTs (typ at+jwt, ES256 by default) and ID tokens use the algorithm each
// client chose, signed with the tenant's cached keys.
package op
