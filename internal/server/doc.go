// Package server assembles a running orgid from its configuration: it
// opens the durable and ephemeral stores, checks the master key, makes sure
// tenant default and its keys exist, and routes HTTP to the OpenID Provider
// (op) and the login pages (login). cmd/orgid and the end-to-end tests both
// build orgid through it.
package server
