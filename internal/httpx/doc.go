// Package httpx is orgid's HTTP plumbing: the tenant of a request, client
// addresses, request IDs, access logs, problem+json errors and safe
// defaults shared by every handler.
package httpx
