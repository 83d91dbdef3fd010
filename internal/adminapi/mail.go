package adminapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/storage"
)

// The tenant's mail outbox (DESIGN §3), for its administrators: what was
// sent or logged, what waits for a retry, and, one message at a time, its
// parts. A message's parts carry live links (verification, invitation,
// password reset), which is why only the management API shows them.

const msgNoMail = "no such message in the outbox"

func (h *Handler) listMail(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	return listed(r, func(p storage.Page) ([]storage.MailMessage, string, error) {
		return h.m.ListMail(r.Context(), c.tenant.ID, p)
	}, viewMail)
}

func (h *Handler) getMail(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	m, err := h.m.GetMail(r.Context(), c.tenant.ID, mux.Vars(r)["mailId"])
	if err != nil {
		return 0, nil, notFound(err, msgNoMail)
	}
	return http.StatusOK, mailBodyView{mailView: viewMail(m.MailMessage), TextBody: m.Text, HTMLBody: m.HTML}, nil
}
