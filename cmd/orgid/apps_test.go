package main_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/e2etest"
	"github.com/orgid/orgid/storage/sqlstore/sqltest"
)

// TestAppsCreate: `orgid apps create` registers clients before the first
// start; a web client it made then signs a new user in with code + PKCE
// against `orgid serve` on the same data dir.
func TestAppsCreate(t *testing.T) {
	dir := t.TempDir()
	env := environ{"ORGID_DATA_DIR": dir}

	// Bad input fails, names the field, and creates nothing.
	for _, tc := range []struct {
		name  string
		args  []string
		field string
	}{
		{"http redirect URI off loopback", []string{"--type", "web", "--name", "X", "--redirect-uri", "http://example.com/cb"}, "redirect"},
		{"unknown type", []string{"--type", "desktop", "--name", "X", "--redirect-uri", e2etest.Callback}, "type"},
		{"no name", []string{"--type", "web", "--redirect-uri", e2etest.Callback}, "name"},
		{"no redirect URI", []string{"--type", "spa", "--name", "X"}, "redirect"},
		{"unknown tenant role", []string{"--type", "m2m", "--name", "X", "--tenant-role", "root"}, "--tenant-role"},
		{"tenant role of a web app", []string{"--type", "web", "--name", "X", "--redirect-uri", e2etest.Callback, "--tenant-role", "admin"}, "--tenant-role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, env, append([]string{"apps", "create"}, tc.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.field) {
				t.Errorf("want a non-zero exit naming %q: %s", tc.field, r)
			}
			if strings.Contains(r.stdout, "client_id") || strings.Contains(r.stdout, "client_secret") {
				t.Errorf("printed credentials for a refused app: %s", r)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "orgid.db")); err == nil {
		t.Error("refused apps create calls created the store")
	}

	spaID, spaSecret := createApp(t, env, "--type", "spa", "--name", "Single page", "--redirect-uri", e2etest.Callback)
	if spaSecret != "" {
		t.Errorf("a spa got a client secret")
	}
	webID, webSecret := createApp(t, env, "--type", "web", "--name", "X", "--redirect-uri", e2etest.Callback)
	if webSecret == "" {
		t.Fatal("a web app got no client_secret line")
	}
	m2mID, m2mSecret := createApp(t, env, "--type", "m2m", "--name", "Machine")
	if m2mSecret == "" {
		t.Error("an m2m app got no client_secret line")
	}
	adminID, adminSecret := createApp(t, env, "--type", "m2m", "--name", "Admin", "--tenant-role", "admin")
	if webID == spaID || webID == m2mID || spaID == m2mID {
		t.Fatalf("apps share a client ID: web %s, spa %s, m2m %s", webID, spaID, m2mID)
	}

	s := serve(t, env, "")
	// --tenant-role admin is what opens the management API.
	mgmt := url.Values{"grant_type": {"client_credentials"}, "resource": {s.issuer() + "/api"}}
	if status, body, _ := e2etest.PostForm(t, hc, s.issuer()+"/oauth/token", adminID, adminSecret, mgmt); status != http.StatusOK || body["scope"] != "management" {
		t.Errorf("management token for the admin app: %d %v", status, body)
	}
	if status, body, _ := e2etest.PostForm(t, hc, s.issuer()+"/oauth/token", m2mID, m2mSecret, mgmt); status != http.StatusBadRequest || body["error"] != "invalid_target" {
		t.Errorf("management token for an app without the admin role: %d %v", status, body)
	}
	u := newUser(t, s.issuer(), webID, webSecret)
	code := u.signUp(t, "ada@example.test", "correct horse battery staple")
	tok, err := u.rp.Config.Exchange(u.rp.Ctx, code, oauth2.VerifierOption(u.verifier))
	if err != nil {
		t.Fatalf("code exchange with the printed credentials: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt := u.rp.VerifyIDToken(raw)
	if idt.Nonce != "n-up" || idt.Issuer != s.issuer() {
		t.Errorf("ID token: nonce %q, issuer %q", idt.Nonce, idt.Issuer)
	}
	if status, body := userinfo(t, s.issuer(), tok.AccessToken); status != http.StatusOK || !strings.Contains(string(body), "ada@example.test") {
		t.Errorf("userinfo: %d %s", status, body)
	}

	// A wrong secret is refused: the printed one is what counts.
	status, body, _ := e2etest.PostForm(t, hc, s.issuer()+"/oauth/token", webID, webSecret+"x", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
	})
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("wrong client secret: %d %v", status, body)
	}

	// The public client works with PKCE and no secret, on the same session.
	spa := newUser(t, s.issuer(), spaID, "")
	spa.br = u.br
	resp, _ := spa.br.Get(spa.authURL("spa"))
	spaTok := spa.exchange(t, s.issuer()+"/oauth/token", spa.code(t, resp, "spa"))
	if got := spa.rp.VerifyIDToken(spaTok.IDToken).Subject; got != idt.Subject {
		t.Errorf("spa ID token is for %q, want %q", got, idt.Subject)
	}
}

// TestMigrate: `orgid migrate` prepares a fresh store and may run again.
func TestMigrate(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		env := environ{"ORGID_DATA_DIR": dir}
		for i := range 2 {
			r := mustRun(t, env, "migrate")
			if !strings.Contains(r.stdout, "migrations applied") {
				t.Errorf("run %d does not say migrations were applied: %s", i+1, r)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "orgid.db")); err != nil {
			t.Errorf("no store after migrate: %v", err)
		}
		// The migrated store serves.
		serve(t, env, "").stop()
	})
	t.Run("postgres", func(t *testing.T) {
		env := environ{"ORGID_DATA_DIR": t.TempDir(), "ORGID_DATABASE_URL": sqltest.PostgresURL(t)}
		for i := range 2 {
			if r := mustRun(t, env, "migrate"); !strings.Contains(r.stdout, "migrations applied") {
				t.Errorf("run %d does not say migrations were applied: %s", i+1, r)
			}
		}
	})
}
