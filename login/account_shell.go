package login

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/orgid/orgid/login/ui"
)

// The signed-in account pages (/account, /account/security) render in the
// shell layout that the portal uses (login/ui), with a sub-navigation of
// the account: Profile, Security and the portal's Organizations. The same
// security page as a step of a sign-in (?authRequestID=) keeps the card
// layout of the other sign-in pages.

// Shell page names (templates/account_*.html on the shell).
const (
	pageAccountProfile  = "account_profile.html"
	pageAccountSecurity = "account_security.html"
	pageAccountCodes    = "account_codes.html"
)

var shellPageNames = []string{pageAccountProfile, pageAccountSecurity, pageAccountCodes}

var accountFuncs = template.FuncMap{
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
}

// parseShellPages parses the account pages on the shell layout, each with
// the account partials (templates/account_nav.html).
func parseShellPages(into map[string]*template.Template) error {
	for _, name := range shellPageNames {
		t, err := ui.ParsePage(name, accountFuncs, templateFS, "templates/account_nav.html", "templates/"+name)
		if err != nil {
			return err
		}
		into[name] = t
	}
	return nil
}

// accountView is what an account page in the shell sees.
type accountView struct {
	Shell ui.Shell
	// CSRF is the form token of the page's forms.
	CSRF string
	// Form is the refused form, shown again with its errors.
	Form *accountForm
	// Data is the page's own.
	Data any
}

// accountForm is a refused form: which one (pages have several), the
// values to show again (never passwords or codes) and the errors beside
// their fields.
type accountForm struct {
	Name   string
	Values map[string]string
	Errors fieldErrors
	// Message is an error of the whole form.
	Message string
}

// Value is the submitted value of field, when f is the form called form.
func (f *accountForm) Value(form, field string) string {
	if f == nil || f.Name != form {
		return ""
	}
	return f.Values[field]
}

// Error is the message of field, when f is the form called form.
func (f *accountForm) Error(form, field string) string {
	if f == nil || f.Name != form {
		return ""
	}
	return f.Errors[field]
}

// Msg is the whole-form error, when f is the form called form.
func (f *accountForm) Msg(form string) string {
	if f == nil || f.Name != form {
		return ""
	}
	return f.Message
}

// accountNotices are the one-line confirmations an account page shows
// after a form's redirect (?done=), by code: a fixed list, so that a link
// cannot make the page say anything.
var accountNotices = map[string]string{
	"name-saved":         "Name saved.",
	"email-sent":         "We sent a link to your new address. Your email changes when you open it.",
	"email-changed":      "Your email address is changed.",
	"email-cancelled":    "Email change cancelled.",
	"password-changed":   "Password changed. Your other sessions are signed out.",
	"others-signed-out":  "Your other sessions are signed out.",
	"mfa-off":            "Two-step verification is off. Your authenticator app and recovery codes no longer work.",
	"recovery-codes-new": "New recovery codes created. The old ones no longer work.",
}

// accountPath is the absolute path of an account page (rel "" or "/…").
func (h *Handler) accountPath(tenantID, rel string) string {
	return h.basePath + "/t/" + url.PathEscape(tenantID) + "/account" + rel
}

// done redirects to to (POST/redirect/GET) with a notice the next page
// shows.
func (h *Handler) done(w http.ResponseWriter, r *http.Request, to, notice string) {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	h.seeOther(w, r, to+sep+"done="+notice)
}

// renderAccount writes an account page in the shell, rendered into a
// buffer first so that a template fault is a clean 500.
func (h *Handler) renderAccount(w http.ResponseWriter, r *http.Request, a *account, status int, page, title, nav string, form *accountForm, data any) {
	ctx := r.Context()
	v := &accountView{Form: form, Data: data}
	v.Shell.Nav = nav
	v.Shell.Title = title
	v.Shell.StaticURLs(h.basePath)
	v.Shell.Base = h.basePath + "/t/" + url.PathEscape(a.tenant.ID)
	v.Shell.Section = "account"
	v.Shell.UserName, v.Shell.UserEmail = a.user.Name, a.user.Email
	v.CSRF = h.csrf.Token(w, r)
	v.Shell.CSRF = v.CSRF
	v.Shell.Notice = accountNotices[r.URL.Query().Get("done")]
	if orgs, err := h.cfg.Store.ListUserOrganizations(ctx, a.tenant.ID, a.user.ID); err == nil {
		for _, o := range orgs {
			v.Shell.Orgs = append(v.Shell.Orgs, ui.OrgLink{Name: o.Name, Slug: o.Slug})
		}
	} else {
		// The switcher is a convenience: the page works without it.
		h.log.WarnContext(ctx, "login: organizations of the account header", "tenant", a.tenant.ID, "err", err)
	}
	if v.Form == nil {
		v.Form = &accountForm{}
	}
	if err := ui.WritePage(w, h.pages.byName[page], "shell", status, v); err != nil {
		h.log.ErrorContext(ctx, "login: render account page", "page", page, "err", err)
	}
}
