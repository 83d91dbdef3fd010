// Command gen writes store_gen.go, storecall's wrappers of every method of
// storage.Store and storage.Ephemeral. Run it with go generate in
// internal/storecall.
package main

import (
	"flag"
	"log"
	"os"

	"github.com/orgid/orgid/internal/storecall/internal/wrapgen"
)

func main() {
	dir := flag.String("storage", "../../storage", "directory of package storage")
	out := flag.String("o", "store_gen.go", "output file")
	flag.Parse()
	src, err := wrapgen.Generate(*dir)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
