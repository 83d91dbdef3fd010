package main

import (
	"fmt"

	"github.com/orgid/orgid/internal/config"
	"github.com/orgid/orgid/internal/server"
)

// migrate applies pending migrations (opening the store does) and exits.
func (e env) migrate(args []string) error {
	cfg, err := e.parse("migrate", config.StoreFlags, args, nil)
	if err != nil {
		return err
	}
	st, err := server.OpenStore(e.ctx, &cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(e.stdout, "migrations applied")
	return nil
}
