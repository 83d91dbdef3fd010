package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"mime"
	"net/http"
	"path"
	"time"
)

//go:embed assets
var assetFS embed.FS

// asset is one static file, kept in memory with its content hash.
type asset struct {
	body        []byte
	contentType string
	version     string // first 12 hex digits of the SHA-256 of body
}

// assets are the files under assets/, by base name.
var assets = func() map[string]asset {
	m := map[string]asset{}
	entries, err := assetFS.ReadDir("assets")
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	for _, e := range entries {
		b, err := assetFS.ReadFile("assets/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		m[e.Name()] = asset{
			body:        b,
			contentType: mime.TypeByExtension(path.Ext(e.Name())),
			version:     hex.EncodeToString(sum[:6]),
		}
	}
	return m
}()

// AssetURL is the URL of a static file under base (the external URL's
// path), versioned by content so that it can be cached for good.
func AssetURL(base, name string) string {
	return base + "/assets/" + name + "?v=" + assets[name].version
}

// AssetHandler serves the static files by base name, so it works whether
// or not the caller strips the /assets/ prefix.
func AssetHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		a, ok := assets[path.Base(r.URL.Path)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		h.Set("ETag", `"`+a.version+`"`)
		if r.URL.Query().Get("v") == a.version {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	})
}
