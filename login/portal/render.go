package portal

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/login/ui"
	"github.com/orgid/orgid/storage"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds one parsed template set per page file, each on the shell.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"join": strings.Join,
	"has": func(list []string, s string) bool {
		for _, v := range list {
			if v == s {
				return true
			}
		}
		return false
	},
}

func loadPages() (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}}
	entries, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if path.Ext(name) != ".html" || strings.HasPrefix(name, "_") {
			continue
		}
		files := []string{"templates/" + name}
		// Partials (_*.html) are shared by every page.
		if parts, _ := fs.Glob(templateFS, "templates/_*.html"); len(parts) > 0 {
			files = append(files, parts...)
		}
		t, err := ui.ParsePage(name, funcs, templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("portal: parse %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// view is what every page template sees.
type view struct {
	Shell ui.Shell
	// CSRF is the form token for the page's forms.
	CSRF string
	// Org is the organization of the page, with the tabs the user sees.
	Org *orgView
	// Form is the state a refused form left for its page: the values to
	// show again and the errors next to their fields.
	Form *formState
	// Data is the page's own.
	Data any
}

type orgView struct {
	ID      string
	Name    string
	Slug    string
	LogoURL string
	Roles   []string
	Tabs    []tabLink
	// Base is the path of the organization's pages.
	Base string
}

type messageData struct {
	Heading string
	Text    string
	Link    *link
}

type link struct {
	Href string
	Text string
}

// render writes page with status, rendered into a buffer first so that a
// template fault is a clean 500, not half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, c *call, status int, page, title string, data any) {
	v := &view{Data: data}
	v.Shell.Title = title
	v.Shell.StaticURLs(h.basePath)
	if c != nil {
		v.CSRF = c.csrf
		v.Shell.CSRF = c.csrf
		v.Shell.Base = h.path(c.tenant.ID, "")
		v.Shell.UserName, v.Shell.UserEmail = c.user.Name, c.user.Email
		v.Shell.Section = "portal"
		if strings.HasPrefix(r.URL.Path, h.path(c.tenant.ID, "/account")) {
			v.Shell.Section, v.Shell.Nav = "account", "organizations"
		}
		v.Shell.Notice = notices[r.URL.Query().Get("done")]
		if orgs, err := h.switcher(r, c); err == nil {
			v.Shell.Orgs = orgs
		} else {
			h.log.WarnContext(r.Context(), "portal: organization switcher", "err", err)
		}
		if c.org != nil {
			o := c.org.Organization
			v.Shell.Current = o.Slug
			rel := strings.TrimPrefix(r.URL.Path, h.orgPath(c.tenant.ID, o.Slug, ""))
			v.Org = &orgView{ID: o.ID, Name: o.Name, Slug: o.Slug, LogoURL: o.LogoURL, Roles: c.org.Roles,
				Tabs: h.visibleTabs(c, rel), Base: h.orgPath(c.tenant.ID, o.Slug, "")}
		}
		v.Form = h.takeForm(r, c)
	}
	if v.Form == nil {
		v.Form = &formState{}
	}
	t, ok := h.pages.byName[page]
	if !ok {
		h.log.ErrorContext(r.Context(), "portal: no such page", "page", page)
		ui.SetPageHeaders(w.Header())
		http.Error(w, "Something went wrong. Please try again.", http.StatusInternalServerError)
		return
	}
	if err := ui.WritePage(w, t, "shell", status, v); err != nil {
		h.log.ErrorContext(r.Context(), "portal: render page", "page", page, "err", err)
	}
}

// message renders a page that only says something; outside a session it
// has no shell header of a user.
func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, heading, text string, l *link) {
	h.render(w, r, nil, status, "message.html", heading, &messageData{Heading: heading, Text: text, Link: l})
}

// notFound is the answer for an organization that does not exist or that
// the user is not a member of: the two look the same.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, c *call) {
	httpx.RequestInfo(r.Context()).SetError("not_found")
	h.render(w, r, c, http.StatusNotFound, "message.html", "Not found", &messageData{
		Heading: "Not found", Text: "There is no such page, or you are not a member of this organization.",
		Link: &link{Href: h.path(c.tenant.ID, "/portal"), Text: "Back to your organizations"},
	})
}

// fail logs an internal error and shows a generic page: 503 when a store
// is unreachable, 500 otherwise.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, c *call, what string, err error) {
	httpx.RequestInfo(r.Context()).SetCause(fmt.Errorf("portal: %s: %w", what, err))
	if errors.Is(err, storage.ErrUnavailable) {
		h.log.WarnContext(r.Context(), "portal: "+what, "err", err)
		w.Header().Set("Retry-After", "5")
		h.render(w, r, nil, http.StatusServiceUnavailable, "message.html", "Temporarily unavailable", &messageData{
			Heading: "Temporarily unavailable", Text: "The portal is temporarily unavailable. Please try again in a moment.",
		})
		return
	}
	h.log.ErrorContext(r.Context(), "portal: "+what, "err", err)
	h.render(w, r, nil, http.StatusInternalServerError, "message.html", "Something went wrong", &messageData{
		Heading: "Something went wrong", Text: "Something went wrong. Please try again.",
	})
}

// seeOther answers a form (or a sign-in step) with a redirect, so that a
// reload never posts the form again (POST/redirect/GET).
func (h *Handler) seeOther(w http.ResponseWriter, r *http.Request, to string) {
	ui.SetPageHeaders(w.Header())
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// done redirects to to with a notice code the next page shows (notices).
func (h *Handler) done(w http.ResponseWriter, r *http.Request, to, notice string) {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	h.seeOther(w, r, to+sep+"done="+notice)
}

// notices are the confirmations a page shows after a form's redirect, by
// code: a fixed list, so that a link cannot make the page say anything.
var notices = map[string]string{
	"org-created":        "Organization created.",
	"left":               "You left the organization.",
	"roles-changed":      "Roles changed.",
	"member-removed":     "Member removed.",
	"invited":            "Invitation sent.",
	"invitation-resent":  "Invitation sent again with a new link.",
	"invitation-revoked": "Invitation revoked.",
	"role-created":       "Role created.",
	"app-created":        "Application created.",
	"app-deleted":        "Application deleted.",
	"secret-rotated":     "New secret created. The old one no longer works.",
	"app-linked":         "Application linked.",
	"app-unlinked":       "Application unlinked.",
	"key-created":        "Authentication key created.",
	"key-registered":     "Public key registered.",
	"key-revoked":        "Authentication key revoked.",
	"settings-saved":     "Settings saved.",
	"jit-saved":          "Just-in-time provisioning saved.",
	"mfa-saved":          "Multi-factor settings saved.",
	"request-sent":       "Request sent. Your provider's team will get back to you.",
	"request-resolved":   "Request resolved.",
	"tenant-saved":       "Tenant settings saved.",
	"mfa-reset":          "The user's second factor was removed.",
}
