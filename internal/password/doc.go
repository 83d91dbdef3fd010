// Package password hashes and verifies user passwords with argon2id in the
// PHC string format. Sign-in, sign-up and the management API all go
// through it, so every stored hash has the same parameters and one
// canonical spelling.
package password
