package ui

import (
	"embed"
	"html/template"
)

// Templates holds the shared layouts: shell.html defines "shell", the
// frame of the signed-in pages (account and portal) with the header, the
// organization switcher and the account menu; account_nav.html defines
// "accountnav", the navigation of the account pages (which live in two
// packages: login and login/portal). A page template parsed with them
// defines "content" and, optionally, "tabs".
//
//go:embed templates
var Templates embed.FS

// ParsePage parses the shell layout and then the page files of fsys
// (paths within fsys), as one template set named name.
func ParsePage(name string, funcs template.FuncMap, fsys embed.FS, files ...string) (*template.Template, error) {
	t, err := template.New(name).Funcs(funcs).ParseFS(Templates, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return t.ParseFS(fsys, files...)
}

// Shell is what the shell layout shows around a page. Every signed-in
// page fills it in.
type Shell struct {
	Title     string
	StyleURL  string
	LogoURL   string
	ScriptURL string
	// Base is the path of the tenant's pages: {external path}/t/{tenant}.
	Base string
	// Section is "portal" or "account": which header link is current.
	Section string
	// Nav is the current account page: "profile", "security" or
	// "organizations" (the "accountnav" partial).
	Nav string
	// UserName and UserEmail name the signed-in user in the header.
	UserName  string
	UserEmail string
	// Orgs fill the organization switcher; Current is the slug of the
	// organization the page is about, if any.
	Orgs    []OrgLink
	Current string
	// CSRF is the form token of the page, for the sign-out form.
	CSRF string
	// Notice is a one-line confirmation shown above the content
	// (“Member removed.”), after a form's redirect.
	Notice string
}

// OrgLink is one entry of the organization switcher.
type OrgLink struct {
	Name string
	Slug string
}

// StaticURLs sets the asset URLs of s under base (the external URL's path).
func (s *Shell) StaticURLs(base string) {
	s.StyleURL = AssetURL(base, "style.css")
	s.LogoURL = AssetURL(base, "logo.svg")
	s.ScriptURL = AssetURL(base, "enhance.js")
}
