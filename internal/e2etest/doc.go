// Package e2etest drives a running orgid the way people and programs do:
// a cookie-keeping browser that fills in the real HTML forms, and a relying
// party built on golang.org/x/oauth2 and coreos/go-oidc. The end-to-end
// tests of internal/server and cmd/orgid share it.
package e2etest
