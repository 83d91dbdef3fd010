package loadmix

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/e2etest"
)

// Setup prepares a load through orgid's real HTTP endpoints, at the first
// base: a management token of the admin client; an organization; an m2m
// application linked to it with the role admin; a web application; and
// cfg.Chains users who sign up through the pages (authorization code flow
// with scope organizations), are added to the organization and hold a
// refresh token each. It fails t on any refusal.
func Setup(ctx context.Context, t e2etest.T, cfg Config) *Load {
	t.Helper()
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || !strings.HasPrefix(iss.Path, "/t/") {
		t.Fatalf("loadmix: issuer %q is not {base}/t/{tenant}", cfg.Issuer)
	}
	if len(cfg.Bases) == 0 {
		cfg.Bases = []string{iss.Scheme + "://" + iss.Host}
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Chains <= 0 {
		cfg.Chains = cfg.Workers
	}
	if cfg.Mix == (Mix{}) {
		cfg.Mix = DefaultMix
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	l := &Load{cfg: cfg, hc: cfg.HTTP, tenantPath: iss.Path, run: strconv.FormatInt(time.Now().UnixNano(), 36)}
	if l.hc == nil {
		l.hc = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * cfg.Workers}}
	}
	base := cfg.Bases[0]

	a := l.sendTo(ctx, base, "", "", "", l.tenantPath+"/oauth/token",
		url.Values{"grant_type": {"client_credentials"}, "resource": {cfg.Issuer + "/api"}}, nil, cfg.AdminClientID, cfg.AdminSecret, false)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if !a.ok() || a.decode(&tok) != nil || tok.AccessToken == "" {
		t.Fatalf("loadmix: management token: %s", a)
	}
	l.mgmt = tok.AccessToken

	admin := l.tenantPath + "/api/v1/admin"
	post := func(path string, body any) map[string]any {
		t.Helper()
		a := l.sendTo(ctx, base, "", "", "", admin+path, nil, body, "", "", false)
		var out map[string]any
		if a.status != http.StatusCreated || a.decode(&out) != nil {
			t.Fatalf("loadmix: POST %s: %s", path, a)
		}
		return out
	}
	l.orgID, _ = post("/organizations", map[string]any{"name": "Load " + l.run})["id"].(string)
	m2m := post("/applications", map[string]any{"name": "Load m2m", "type": "m2m"})
	l.m2mID, _ = m2m["client_id"].(string)
	l.m2mSecret, _ = m2m["client_secret"].(string)
	post("/organizations/"+l.orgID+"/applications", map[string]any{"application_id": l.m2mID, "roles": []string{"admin"}})
	web := post("/applications", map[string]any{"name": "Load web", "type": "web", "redirect_uris": []string{e2etest.Callback}})
	l.webID, _ = web["client_id"].(string)
	l.webSecret, _ = web["client_secret"].(string)

	rp := e2etest.NewRP(t, l.hc, cfg.Issuer, l.webID, l.webSecret, "openid", "offline_access", "organizations")
	l.free = make(chan *chain, cfg.Chains)
	for i := range cfg.Chains {
		email := fmt.Sprintf("chain-%s-%d@example.test", l.run, i)
		v := oauth2.GenerateVerifier()
		resp := e2etest.NewBrowser(t).SignUp(rp.Config.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), email, "load test password "+l.run, "Chain")
		code := e2etest.RedirectParams(t, resp).Get("code")
		tok, err := rp.Config.Exchange(rp.Ctx, code, oauth2.VerifierOption(v))
		if err != nil {
			t.Fatalf("loadmix: code exchange: %v", err)
		}
		idToken, _ := tok.Extra("id_token").(string)
		_, claims := e2etest.DecodeJWT(t, idToken)
		sub, _ := claims["sub"].(string)
		post("/organizations/"+l.orgID+"/members", map[string]any{"user_id": sub, "roles": []string{"member"}})
		c := &chain{email: email, answered: tok.RefreshToken}
		l.chains = append(l.chains, c)
		l.free <- c
	}
	return l
}
