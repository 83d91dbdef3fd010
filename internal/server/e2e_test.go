package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/storage"
)

// TestEndToEnd signs a new user up through the HTML form and walks the
// whole life of their tokens with a strict OIDC client (golang.org/x/oauth2
// + coreos/go-oidc): code + PKCE, ID token against the JWKS, userinfo,
// refresh with rotation, introspection before and after revocation, and
// RP-initiated logout.
func TestEndToEnd(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		clientID, secret := e.app(storage.DefaultTenant, storage.AppWeb, callback)
		rp := e.rp(storage.DefaultTenant, clientID, secret)
		br := e.browser()

		// Sign up through the pages, with PKCE S256 and a nonce.
		verifier := oauth2.GenerateVerifier()
		authURL := rp.Config.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n0nce"))
		q := e2etest.RedirectParams(t, br.SignUp(authURL, "Ada@Example.test", "correct horse battery", "Ada Lovelace"))
		if q.Get("state") != "st4te" || q.Get("code") == "" {
			t.Fatalf("callback params = %v", q)
		}

		tok, err := rp.Config.Exchange(rp.Ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("code exchange: %v", err)
		}
		if tok.RefreshToken == "" || tok.AccessToken == "" || tok.Expiry.IsZero() {
			t.Fatalf("token response lacks tokens: %+v", tok)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt := rp.VerifyIDToken(raw)
		if idt.Nonce != "n0nce" {
			t.Errorf("nonce = %q", idt.Nonce)
		}
		var idc struct {
			Email         string   `json:"email"`
			EmailVerified bool     `json:"email_verified"`
			Name          string   `json:"name"`
			AMR           []string `json:"amr"`
			ACR           string   `json:"acr"`
			AZP           string   `json:"azp"`
			AuthTime      int64    `json:"auth_time"`
		}
		if err := idt.Claims(&idc); err != nil {
			t.Fatal(err)
		}
		if idc.Email != "Ada@Example.test" || idc.Name != "Ada Lovelace" || idc.EmailVerified || idc.AZP != clientID ||
			!slices.Equal(idc.AMR, []string{"pwd"}) || idc.ACR != "urn:orgid:acr:password" || idc.AuthTime != e.clock.Now().Unix() {
			t.Errorf("ID token claims = %+v", idc)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Errorf("at_hash: %v", err)
		}

		// The access token is an RFC 9068 JWT signed with ES256.
		header, claims := e2etest.DecodeJWT(t, tok.AccessToken)
		if header["typ"] != "at+jwt" || header["alg"] != "ES256" || header["kid"] == "" {
			t.Errorf("access token header = %v", header)
		}
		for _, c := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "auth_time", "amr"} {
			if _, ok := claims[c]; !ok {
				t.Errorf("access token lacks %s: %v", c, claims)
			}
		}
		if claims["iss"] != e.issuer(storage.DefaultTenant) || claims["sub"] != idt.Subject || claims["client_id"] != clientID {
			t.Errorf("access token claims = %v", claims)
		}

		// Userinfo.
		ui, err := rp.Provider.UserInfo(rp.Ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		if ui.Subject != idt.Subject || ui.Email != "Ada@Example.test" {
			t.Errorf("userinfo = %+v", ui)
		}

		// Refresh: new tokens, and the refresh token rotates.
		e.advance(time.Minute)
		refreshed, err := rp.Config.TokenSource(rp.Ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken || refreshed.AccessToken == tok.AccessToken {
			t.Fatalf("refresh did not rotate: %+v", refreshed)
		}
		rawRefreshed, _ := refreshed.Extra("id_token").(string)
		if rp.VerifyIDToken(rawRefreshed).Subject != idt.Subject {
			t.Error("refreshed ID token is for someone else")
		}

		// Introspection: active, then inactive once revoked.
		introspect := func(token string) map[string]any {
			code, body, _ := e.postForm(e.issuer(storage.DefaultTenant)+"/oauth/introspect", clientID, secret, url.Values{"token": {token}})
			if code != http.StatusOK {
				t.Fatalf("introspect: %d %v", code, body)
			}
			return body
		}
		if got := introspect(refreshed.AccessToken); got["active"] != true || got["sub"] != idt.Subject || got["client_id"] != clientID {
			t.Errorf("introspection of a live token = %v", got)
		}
		if got := introspect(refreshed.RefreshToken); got["active"] != true || got["token_type"] != "refresh_token" {
			t.Errorf("introspection of a live refresh token = %v", got)
		}
		code, body, _ := e.postForm(e.issuer(storage.DefaultTenant)+"/oauth/revoke", clientID, secret, url.Values{"token": {refreshed.AccessToken}})
		if code != http.StatusOK {
			t.Fatalf("revoke: %d %v", code, body)
		}
		if got := introspect(refreshed.AccessToken); got["active"] != false {
			t.Errorf("introspection after revocation = %v", got)
		}
		if _, err := rp.Provider.UserInfo(rp.Ctx, oauth2.StaticTokenSource(refreshed)); err == nil {
			t.Error("userinfo accepted a revoked access token")
		}
		// Revoking the refresh token ends the grant.
		if code, body, _ := e.postForm(e.issuer(storage.DefaultTenant)+"/oauth/revoke", clientID, secret, url.Values{"token": {refreshed.RefreshToken}}); code != http.StatusOK {
			t.Fatalf("revoke refresh token: %d %v", code, body)
		}
		if _, err := rp.Config.TokenSource(rp.Ctx, &oauth2.Token{RefreshToken: refreshed.RefreshToken}).Token(); err == nil {
			t.Error("a revoked refresh token still works")
		}

		// Single sign-on: a second authorization needs no form.
		q = e2etest.RedirectParams(t, must(br.Get(rp.Config.AuthCodeURL("again", oauth2.S256ChallengeOption(verifier)))))
		if q.Get("code") == "" {
			t.Fatalf("SSO did not return a code: %v", q)
		}

		// RP-initiated logout ends the session and returns to the client.
		end := e.issuer(storage.DefaultTenant) + "/end_session?" + url.Values{
			"id_token_hint":            {raw},
			"post_logout_redirect_uri": {callback + "/logged-out"},
			"state":                    {"bye"},
		}.Encode()
		resp, _ := br.Get(end)
		if loc := resp.Header.Get("Location"); loc != callback+"/logged-out?state=bye" {
			t.Fatalf("end_session redirected to %q (status %d)", loc, resp.StatusCode)
		}
		// Signed out: prompt=none now fails with login_required.
		q = e2etest.RedirectParams(t, must(br.Get(rp.Config.AuthCodeURL("none", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none")))))
		if q.Get("error") != "login_required" || q.Get("state") != "none" {
			t.Fatalf("prompt=none after logout = %v", q)
		}
	})
}

func must(resp *http.Response, _ string) *http.Response { return resp }
