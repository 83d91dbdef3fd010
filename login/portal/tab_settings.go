package portal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// settingsRoutes are the Settings tab: one page of panels (general,
// logos, custom data, MFA, just-in-time provisioning), each its own form
// with its own name, so that a refusal comes back in its panel and a
// save changes only that panel's fields. Every route needs
// write:organization, the tab's permission: settings are for those who
// may change them (owner and admin).
func (h *Handler) settingsRoutes() []route {
	const perm = "write:organization"
	return []route{
		page("/settings", perm, h.getSettings),
		action("/settings/general", perm, h.postGeneralSettings),
		action("/settings/logos", perm, h.postLogoSettings),
		action("/settings/custom-data", perm, h.postCustomData),
		action("/settings/mfa", perm, h.postMFASettings),
		action("/settings/jit", perm, h.postJITSettings),
	}
}

type settingsData struct {
	Org storage.Organization
	// CustomData is the organization's custom data, indented for editing.
	CustomData string
	// Domains are the JIT email domains, one per line.
	Domains  string
	JITRoles []string
	Roles    []storage.Role
	// LightPreview and DarkPreview are the logos to preview: https URLs
	// only, as the pages' CSP loads no other images (manage also allows
	// http on loopback, for development).
	LightPreview, DarkPreview string
}

func httpsOnly(u string) string {
	if strings.HasPrefix(u, "https://") {
		return u
	}
	return ""
}

func (h *Handler) getSettings(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	o := c.org.Organization
	d := &settingsData{Org: o, CustomData: "{}", LightPreview: httpsOnly(o.LogoURL), DarkPreview: httpsOnly(o.LogoDarkURL)}
	var buf bytes.Buffer
	if len(o.CustomData) > 0 && json.Indent(&buf, o.CustomData, "", "  ") == nil {
		d.CustomData = buf.String()
	}
	domains, err := h.m.JITEmailDomains(ctx, c.tenant.ID, o.ID)
	if err != nil {
		h.fail(w, r, c, "load JIT email domains", err)
		return
	}
	d.Domains = strings.Join(domains, "\n")
	if d.JITRoles, err = h.m.JITRoles(ctx, c.tenant.ID, o.ID); err != nil {
		h.fail(w, r, c, "load JIT roles", err)
		return
	}
	if d.Roles, err = h.orgRoles(r, c); err != nil {
		h.fail(w, r, c, "list roles", err)
		return
	}
	h.render(w, r, c, http.StatusOK, "settings.html", "Settings · "+o.Name, d)
}

// Shown is the value a field of form shows: what was posted when the
// page comes back from a refusal of that form (the user's text is never
// lost), the stored value otherwise.
func (f *formState) Shown(form, field, stored string) string {
	if !f.Is(form) {
		return stored
	}
	return f.Values.Get(field)
}

// ShownAll is Shown for a list of checkboxes.
func (f *formState) ShownAll(form, field string, stored []string) []string {
	if !f.Is(form) {
		return stored
	}
	return f.Values[field]
}

// ShownChecked is Shown for one checkbox (posted as "on" when checked).
func (f *formState) ShownChecked(form, field string, stored bool) bool {
	if !f.Is(form) {
		return stored
	}
	return f.Values.Get(field) == "on"
}

// settingsBack is the page a settings form returns to, at its panel.
func (h *Handler) settingsBack(c *call) string {
	return h.orgPath(c.tenant.ID, c.org.Organization.Slug, "/settings")
}

// saveOrganization applies in and answers the form: back to the panel
// with the refusal, or to the settings page at the organization's
// (possibly new) slug.
func (h *Handler) saveOrganization(w http.ResponseWriter, r *http.Request, c *call, form, notice string, in manage.OrganizationInput) {
	o, err := h.m.UpdateOrganization(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID, in)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		h.notFound(w, r, c)
		return
	case errors.Is(err, storage.ErrAlreadyExists):
		// The only unique field of an organization.
		err = fieldError("slug", "This URL is taken. Choose another slug.")
	}
	if err != nil {
		h.refuse(w, r, c, h.settingsBack(c), form, err)
		return
	}
	// After a slug change the page lives at the new URL.
	h.done(w, r, h.orgPath(c.tenant.ID, o.Slug, "/settings"), notice)
}

func (h *Handler) postGeneralSettings(w http.ResponseWriter, r *http.Request, c *call) {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	slug := strings.TrimSpace(r.PostForm.Get("slug"))
	desc := strings.TrimSpace(r.PostForm.Get("description"))
	h.saveOrganization(w, r, c, "general", "settings-saved", manage.OrganizationInput{Name: &name, Slug: &slug, Description: &desc})
}

func (h *Handler) postLogoSettings(w http.ResponseWriter, r *http.Request, c *call) {
	light := strings.TrimSpace(r.PostForm.Get("logo_url"))
	dark := strings.TrimSpace(r.PostForm.Get("logo_dark_url"))
	h.saveOrganization(w, r, c, "logos", "settings-saved", manage.OrganizationInput{LogoURL: &light, LogoDarkURL: &dark})
}

// postCustomData replaces the custom data; an empty box clears it ({}).
func (h *Handler) postCustomData(w http.ResponseWriter, r *http.Request, c *call) {
	text := r.PostForm.Get("custom_data")
	if strings.TrimSpace(text) == "" {
		text = "{}"
	}
	var syntax *json.SyntaxError
	if err := json.Unmarshal([]byte(text), new(any)); errors.As(err, &syntax) {
		// manage would say only that it is no JSON object: say where the
		// text stops being JSON.
		line := 1 + strings.Count(text[:min(int(syntax.Offset), len(text))], "\n")
		h.refuse(w, r, c, h.settingsBack(c), "custom-data",
			fieldError("custom_data", fmt.Sprintf("This is not valid JSON: %s (line %d).", syntax.Error(), line)))
		return
	}
	h.saveOrganization(w, r, c, "custom-data", "settings-saved", manage.OrganizationInput{CustomData: json.RawMessage(text)})
}

func (h *Handler) postMFASettings(w http.ResponseWriter, r *http.Request, c *call) {
	// An unchecked checkbox is not posted at all: absent is off.
	required := r.PostForm.Get("mfa_required") == "on"
	policy := r.PostForm.Get("mfa_policy")
	h.saveOrganization(w, r, c, "mfa", "mfa-saved", manage.OrganizationInput{MFARequired: &required, MFAPolicy: &policy})
}

// postJITSettings saves the just-in-time rule: the email domains, then the
// default roles. They are two writes in manage, so the roles are checked
// first, as manage will check them (roles of the organization that the
// user could grant themselves): a refusal then changes nothing, and the
// domains — the part another organization can make fail — go first.
func (h *Handler) postJITSettings(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	back := h.settingsBack(c)
	domains := strings.FieldsFunc(r.PostForm.Get("email_domains"), func(r rune) bool { return unicode.IsSpace(r) || r == ',' })
	if domains == nil {
		domains = []string{}
	}
	roles := postedRoles(r)
	if roles == nil {
		roles = []string{}
	}
	_, err := h.m.SetJITRule(ctx, c.tenant.ID, c.actor(r), c.org.Organization.ID, domains, roles)
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return
	}
	if err != nil {
		h.refuse(w, r, c, back, "jit", jitRefusal(err))
		return
	}
	h.done(w, r, back, "jit-saved")
}

// domainEntry is manage's way of naming one entry of the list:
// `email_domains[2] ("bad") is not a domain name`.
var domainEntry = regexp.MustCompile(`^email_domains\[\d+\] \((.*?)\) (.*)$`)

// jitRefusal words manage's refusals of the domain list for the box
// where the user typed one domain a line (there are no indexes there),
// and its refusal of a default role as a sentence.
func jitRefusal(err error) error {
	var fe *storage.FieldError
	var ce *manage.ConflictError
	switch {
	case errors.As(err, &fe) && fe.Field == "email_domains":
		if m := domainEntry.FindStringSubmatch(fe.Message); m != nil {
			return fieldError("email_domains", m[1]+" "+strings.TrimSuffix(m[2], ".")+".")
		}
		return fieldError("email_domains", "Check the domains: "+fe.Message+".")
	case errors.As(err, &ce) && ce.Field == "email_domains":
		return fieldError("email_domains", ce.Message+". A domain places its users in one organization only.")
	case errors.As(err, &fe) && fe.Field == "roles":
		// manage's message is a clause about one role.
		return fieldError("roles", capitalized(fe.Message))
	}
	return err
}
