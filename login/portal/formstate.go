package portal

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/internal/secure"
	"github.com/orgid/orgid/storage"
)

// Every POST answers with a redirect, refused forms too: the refusal (the
// values to show again and an error per field) waits in the ephemeral
// store under a random key that the redirect names (?form=), for the
// page to show once. A reload then never posts again.

const formTTL = 10 * time.Minute

// formState is what a refused form left for its page.
type formState struct {
	// Name says which form of the page it is (pages have several).
	Name   string            `json:"name"`
	Values url.Values        `json:"values"`
	Errors map[string]string `json:"errors"`
	// Message is an error of the whole form.
	Message string `json:"message"`
}

// Is reports whether the state belongs to the form called name.
func (f *formState) Is(name string) bool { return f != nil && f.Name == name }

// Value is the submitted value of field (the first), when f belongs to form.
func (f *formState) Value(form, field string) string {
	if !f.Is(form) {
		return ""
	}
	return f.Values.Get(field)
}

// Error is the message of field, when f belongs to form.
func (f *formState) Error(form, field string) string {
	if !f.Is(form) {
		return ""
	}
	return f.Errors[field]
}

// Msg is the whole-form error, when f belongs to form.
func (f *formState) Msg(form string) string {
	if !f.Is(form) {
		return ""
	}
	return f.Message
}

func formKey(tenantID, userID, key string) string {
	return "t/" + tenantID + "/portal-form/" + userID + "/" + key
}

// refuse sends the browser back to to with form's values and err, which
// is shown next to its field (a storage.FieldError) or above the form.
// Errors that are not the user's (a store fault) go to fail.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, c *call, to, form string, err error) {
	fs := &formState{Name: form, Values: secretFree(r.PostForm), Errors: map[string]string{}}
	var fe *storage.FieldError
	var ce *manage.ConflictError
	switch {
	case errors.As(err, &fe):
		fs.Errors[fe.Field] = sentence(fe.Field, fe.Message)
	case errors.As(err, &ce):
		fs.Errors[ce.Field] = sentence(ce.Field, ce.Message)
	case errors.Is(err, manage.ErrLastOwner):
		fs.Message = "The organization must keep at least one owner."
	case errors.Is(err, manage.ErrForbidden):
		fs.Message = "You cannot grant or change more than your own roles allow."
	case errors.Is(err, manage.ErrNotOwned):
		fs.Message = "This application belongs to the whole tenant: its administrators manage it."
	case errors.As(err, new(*userError)):
		ue := err.(*userError)
		if ue.field != "" {
			fs.Errors[ue.field] = ue.msg
		} else {
			fs.Message = ue.msg
		}
	default:
		h.fail(w, r, c, "form "+form, err)
		return
	}
	key := secure.Token()
	b, _ := json.Marshal(fs)
	if err := h.cfg.State.KV.Set(r.Context(), formKey(c.tenant.ID, c.user.ID, key), b, formTTL); err != nil {
		h.fail(w, r, c, "keep form", err)
		return
	}
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	h.seeOther(w, r, to+sep+"form="+key+"#"+form)
}

// fieldLabels name the fields whose label is not their name capitalised.
var fieldLabels = map[string]string{
	"logo_url": "Logo URL", "logo_dark_url": "Dark logo URL", "custom_data": "Custom data",
	"mfa_policy": "MFA policy", "email_domains": "Email domains", "redirect_uris": "Redirect URIs",
	"public_key_pem": "Public key", "page_token": "The page link",
}

// sentence words manage's "is required" for the field as "Name is
// required.", and keeps a message that is a sentence already.
func sentence(field, msg string) string {
	if msg == "" || msg[0] >= 'A' && msg[0] <= 'Z' {
		return msg
	}
	label, ok := fieldLabels[field]
	if !ok {
		label = strings.ReplaceAll(field, "_", " ")
		if label != "" {
			label = strings.ToUpper(label[:1]) + label[1:]
		}
	}
	msg = label + " " + msg
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// userError is a refusal worded for the user, for a field or the form.
type userError struct {
	field, msg string
}

func (e *userError) Error() string { return e.msg }

func fieldError(field, msg string) error { return &userError{field: field, msg: msg} }
func formError(msg string) error         { return &userError{msg: msg} }

// secretFree drops the fields that must never be stored or shown again.
func secretFree(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		switch k {
		case "csrf_token", "password", "current_password", "new_password", "private_key_pem":
			continue
		}
		out[k] = vs
	}
	return out
}

// takeForm returns (and forgets) the state a refused form left for this
// page, if the URL names one of this user's.
func (h *Handler) takeForm(r *http.Request, c *call) *formState {
	key := r.URL.Query().Get("form")
	if key == "" || len(key) != secure.TokenLen {
		return nil
	}
	b, ok := h.takeOnce(r.Context(), formKey(c.tenant.ID, c.user.ID, key))
	if !ok {
		return nil
	}
	fs := new(formState)
	if json.Unmarshal(b, fs) != nil {
		return nil
	}
	return fs
}

// takeOnce reads the value under key and deletes it: what a redirect left
// for one page view. A missing key (gone, or never there) is false.
func (h *Handler) takeOnce(ctx context.Context, key string) ([]byte, bool) {
	b, err := h.cfg.State.KV.Get(ctx, key)
	if err != nil {
		return nil, false
	}
	_ = h.cfg.State.KV.Delete(ctx, key)
	return b, true
}

// Secrets shown once (a new client secret, a generated private key)
// cross the redirect sealed under the master key, for a few minutes, and
// are deleted when the page has read them.

const revealTTL = 5 * time.Minute

func revealKey(tenantID, userID, key string) string {
	return "t/" + tenantID + "/portal-reveal/" + userID + "/" + key
}

// keepSecret stores v (any JSON value) sealed and returns the key the
// redirect carries (?reveal=).
func (h *Handler) keepSecret(ctx context.Context, c *call, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	key := secure.Token()
	sealed, err := h.cfg.Sealer.Seal(b, []byte(revealKey(c.tenant.ID, c.user.ID, key)))
	if err != nil {
		return "", err
	}
	return key, h.cfg.State.KV.Set(ctx, revealKey(c.tenant.ID, c.user.ID, key), sealed, revealTTL)
}

// takeSecret reads (once) what keepSecret stored under the page's
// ?reveal= key into v; false when there is none.
func (h *Handler) takeSecret(r *http.Request, c *call, v any) bool {
	key := r.URL.Query().Get("reveal")
	if len(key) != secure.TokenLen {
		return false
	}
	k := revealKey(c.tenant.ID, c.user.ID, key)
	sealed, ok := h.takeOnce(r.Context(), k)
	if !ok {
		return false
	}
	b, err := h.cfg.Sealer.Open(sealed, []byte(k))
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}
