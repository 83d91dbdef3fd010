package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/config"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/storage"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// apps manages applications: `orgid apps create`.
func (e env) apps(args []string) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(e.stderr, "Usage: orgid apps create --type web|spa|native|m2m --name NAME [--redirect-uri URI ...] [--tenant-role admin] [--tenant T]")
		return errUsage
	}
	var (
		tenant, typ, name, alg string
		redirects, logouts     listFlag
		tenantRoles            listFlag
	)
	cfg, err := e.parse("apps create", config.StoreFlags, args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&tenant, "tenant", storage.DefaultTenant, "tenant of the application")
		fs.StringVar(&typ, "type", "", "web, spa, native or m2m")
		fs.StringVar(&name, "name", "", "display name")
		fs.Var(&redirects, "redirect-uri", "redirect URI, matched exactly (repeatable)")
		fs.Var(&logouts, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
		fs.StringVar(&alg, "id-token-alg", "", "ID token signing algorithm: RS256 (default), ES256 or EdDSA")
		fs.Var(&tenantRoles, "tenant-role", "tenant role of an m2m application: admin lets it use the management API (repeatable)")
	})
	if err != nil {
		return err
	}
	app := storage.Application{
		TenantID:               tenant,
		ClientID:               secure.ID(""),
		Name:                   name,
		Type:                   storage.ApplicationType(typ),
		RedirectURIs:           redirects,
		PostLogoutRedirectURIs: logouts,
		IDTokenAlg:             alg,
		TenantRoles:            tenantRoles,
		CreatedAt:              time.Now(),
	}
	var secret string
	if !app.Type.Public() {
		secret = secure.Token()
		app.SecretHash = secure.Hash(secret)
	}
	if err := app.Validate(); err != nil {
		var fe *storage.FieldError
		if errors.As(err, &fe) {
			return fmt.Errorf("%s: %s", appFlags[fe.Field], fe.Message)
		}
		return err
	}
	st, err := server.OpenStore(e.ctx, &cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.GetTenant(e.ctx, tenant); errors.Is(err, storage.ErrNotFound) {
		if tenant != storage.DefaultTenant {
			return fmt.Errorf("no tenant %q", tenant)
		}
		// Tenant default is made at the first start; let apps be created before it.
		err = st.CreateTenant(e.ctx, storage.Tenant{ID: tenant, Name: "Default", Settings: storage.DefaultTenantSettings(), CreatedAt: time.Now()})
		if err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := st.CreateApplication(e.ctx, app); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "client_id:     %s\n", app.ClientID)
	if secret != "" {
		fmt.Fprintf(e.stdout, "client_secret: %s\n(shown once: it is stored only as a hash)\n", secret)
	}
	return nil
}

// appFlags names the flag behind each field an application is checked on.
var appFlags = map[string]string{
	"name":                         "--name",
	"type":                         "--type",
	"redirect_uris":                "--redirect-uri",
	"post_logout_redirect_uris":    "--post-logout-redirect-uri",
	"id_token_signed_response_alg": "--id-token-alg",
	"tenant_roles":                 "--tenant-role",
}
