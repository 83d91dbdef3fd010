// Package jit is just-in-time provisioning by email domain (DESIGN §3): one
// function, Provision, that every path calls once a user's email is seen
// verified (the verification link, registration through an invitation, a
// password reset, a sign-in, an identity token), plus the normalisation
// and policy of the domains an organization may list.
package jit
