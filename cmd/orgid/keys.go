package main

import (
	"flag"
	"fmt"

	"github.com/orgid/orgid/internal/config"
	"github.com/orgid/orgid/internal/server"
)

// keys manages signing keys: `orgid keys rotate --tenant T`.
func (e env) keys(args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		fmt.Fprintln(e.stderr, "Usage: orgid keys rotate --tenant T")
		return errUsage
	}
	var tenant string
	cfg, err := e.parse("keys rotate", config.StoreFlags, args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&tenant, "tenant", "", "tenant whose keys to rotate")
	})
	if err != nil {
		return err
	}
	if tenant == "" {
		fmt.Fprintln(e.stderr, "orgid keys rotate: --tenant is required")
		return errUsage
	}
	n, err := server.RotateKeys(e.ctx, &cfg, tenant)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "rotated the signing keys of tenant %s; the JWKS now publishes %d keys\n", tenant, n)
	return nil
}
