package portal

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// billingRoutes are the Billing tab (DESIGN §5 "Billing"; owner and
// billing_manager): the plan and its open request, Go live (not live yet)
// or Change plan and the payment-method link (live), the usage of the
// last months as a table and a chart, and monthly statements as a page
// and a CSV download. Go live and Change plan are requests that the
// tenant's administrators resolve: orgid processes no payments.
//
// The statement's page and its CSV share one route ({file} is
// "2025-03" or "2025-03.csv") so that every statement URL, well-formed
// or not, passes the tab's permission check before anything else: a
// member gets 403 for all of them, never a router's bare 404.
func (h *Handler) billingRoutes() []route {
	return []route{
		page("/billing", "read:billing", h.getBilling),
		action("/billing/go-live", "write:billing", h.postGoLive),
		action("/billing/change-plan", "write:billing", h.postChangePlan),
		page("/billing/statements/{file}", "read:billing", h.getStatement),
	}
}

const (
	// usageMonths is how many months the usage table and chart show.
	usageMonths = 6
	// statementMonths is how many statements the tab lists at most.
	statementMonths = 12
)

type billingData struct {
	manage.BillingView
	// Request is the open request, worded for the page; nil when none.
	Request *billingRequestView
	// GoLivePlans are the plans one can go live on; ChangePlans those one
	// can move to (the paid plans but the current one).
	GoLivePlans []manage.Plan
	ChangePlans []manage.Plan
	Usage       usageTable
	Chart       usageChart
	Statements  []statementRow
	CanWrite    bool
}

// billingForm is what the Go live and Change plan forms share: a plan
// among Plans and a note, with the state a refusal left (Form).
type billingForm struct {
	Name   string
	Plans  []manage.Plan
	Chosen string
	Form   *formState
}

// FormFor is the form called name ("go-live" or "change-plan") as the
// page shows it: the refused plan again, else the cheapest.
func (d *billingData) FormFor(name string, f *formState) billingForm {
	plans := d.GoLivePlans
	if name == "change-plan" {
		plans = d.ChangePlans
	}
	bf := billingForm{Name: name, Plans: plans, Chosen: f.Value(name, "plan"), Form: f}
	if bf.Chosen == "" && len(plans) > 0 {
		bf.Chosen = plans[0].Name
	}
	return bf
}

type billingRequestView struct {
	Kind      string
	PlanLabel string
	Note      string
	CreatedAt time.Time
	By        string
}

// usageTable is the usage of the last months: one row per application
// seen in them (most tokens first), a column per month (oldest first).
type usageTable struct {
	Months      []monthLabel
	Apps        []appUsageRow
	Tokens      []int64
	ActiveUsers []int
}

type monthLabel struct {
	Month string // "YYYY-MM"
	Label string // "Mar 2025"
}

type appUsageRow struct {
	ClientID string
	Name     string
	Deleted  bool
	Tokens   []int64 // per month of the table
}

type statementRow struct {
	monthLabel
	Tokens      int64
	ActiveUsers int
	Current     bool
}

func (h *Handler) billingPath(c *call, rel string) string {
	return h.orgPath(c.tenant.ID, c.org.Organization.Slug, "/billing"+rel)
}

func (h *Handler) getBilling(w http.ResponseWriter, r *http.Request, c *call) {
	ctx := r.Context()
	org := c.org.Organization
	view, err := h.m.Billing(ctx, c.tenant.ID, org.ID)
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return
	}
	if err != nil {
		h.fail(w, r, c, "load billing", err)
		return
	}
	// One read of the longest span: the usage shows the last
	// usageMonths of it, the statements the months since the
	// organization was created.
	months, err := h.m.Usage(ctx, c.tenant.ID, org.ID, max(usageMonths, statementMonths))
	if errors.Is(err, storage.ErrNotFound) {
		h.notFound(w, r, c)
		return
	}
	if err != nil {
		h.fail(w, r, c, "load usage", err)
		return
	}
	d := &billingData{BillingView: view, CanWrite: c.can("write:billing")}
	if req := view.OpenRequest; req != nil {
		by, err := h.requesterName(r, c, req.RequestedBy)
		if err != nil {
			h.fail(w, r, c, "load requester", err)
			return
		}
		d.Request = &billingRequestView{Kind: requestKindLabel(req.Kind), PlanLabel: manage.PlanLabel(req.Plan),
			Note: req.Note, CreatedAt: req.CreatedAt, By: by}
	}
	for _, p := range manage.Plans {
		if !p.Paid {
			continue
		}
		d.GoLivePlans = append(d.GoLivePlans, p)
		if p.Name != view.Plan {
			d.ChangePlans = append(d.ChangePlans, p)
		}
	}
	recent := months[max(0, len(months)-usageMonths):]
	d.Usage = newUsageTable(recent)
	d.Chart = newUsageChart(recent)
	d.Statements = statementRows(months, org.CreatedAt, storage.UsageMonth(h.cfg.Now()))
	h.render(w, r, c, http.StatusOK, "billing.html", "Billing · "+org.Name, d)
}

// requesterName names who asked: a user by name and email, anyone else
// (an API client, a deleted user) by ID.
func (h *Handler) requesterName(r *http.Request, c *call, id string) (string, error) {
	u, err := h.cfg.Store.GetUser(r.Context(), c.tenant.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return id, nil
	}
	if err != nil {
		return "", err
	}
	if u.Name == "" {
		return u.Email, nil
	}
	return u.Name + " (" + u.Email + ")", nil
}

func requestKindLabel(k storage.BillingRequestKind) string {
	if k == storage.BillingChangePlan {
		return "Change plan"
	}
	return "Go live"
}

// monthOf labels a "YYYY-MM" month for people.
func monthOf(m string) monthLabel {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return monthLabel{Month: m, Label: m}
	}
	return monthLabel{Month: m, Label: t.Format("Jan 2006")}
}

func newUsageTable(months []manage.UsageMonth) usageTable {
	var t usageTable
	rows := map[string]int{}
	totals := map[string]int64{}
	for i, m := range months {
		t.Months = append(t.Months, monthOf(m.Month))
		t.Tokens = append(t.Tokens, m.Tokens)
		t.ActiveUsers = append(t.ActiveUsers, m.ActiveUsers)
		for _, a := range m.Applications {
			j, ok := rows[a.ClientID]
			if !ok {
				j = len(t.Apps)
				rows[a.ClientID] = j
				t.Apps = append(t.Apps, appUsageRow{ClientID: a.ClientID, Name: a.Name, Deleted: a.Deleted, Tokens: make([]int64, len(months))})
			}
			t.Apps[j].Tokens[i] = a.Tokens
			totals[a.ClientID] += a.Tokens
		}
	}
	// Most tokens over the whole span first, as within a month.
	slices.SortFunc(t.Apps, func(a, b appUsageRow) int {
		return cmp.Or(cmp.Compare(totals[b.ClientID], totals[a.ClientID]), strings.Compare(a.ClientID, b.ClientID))
	})
	return t
}

// statementRows are the months from the organization's creation to the
// current one (at most statementMonths), newest first. months is the
// usage up to the current month, oldest first.
func statementRows(months []manage.UsageMonth, created time.Time, current string) []statementRow {
	first := storage.UsageMonth(created)
	var out []statementRow
	for i := len(months) - 1; i >= 0 && len(out) < statementMonths; i-- {
		m := months[i]
		if m.Month < first {
			break
		}
		out = append(out, statementRow{monthLabel: monthOf(m.Month), Tokens: m.Tokens, ActiveUsers: m.ActiveUsers, Current: m.Month == current})
	}
	return out
}

// usageChart is the tokens per month as bars, laid out here so that the
// template only places numbers: an inline SVG needs no script and no
// style attribute (the CSP allows neither inline), only the stylesheet's
// .chart classes and presentation attributes.
type usageChart struct {
	Width, Height int
	Baseline      int
	Bars          []chartBar
	// Summary says what the chart shows, for its aria-label and title:
	// the numbers are also in the table.
	Summary string
}

type chartBar struct {
	X, Y, W, H int
	// TextX centres the labels on the bar; ValueY is above it.
	TextX, ValueY, LabelY int
	Label                 string
	Value                 int64
}

const (
	chartWidth  = 720
	chartHeight = 220
	chartTop    = 24 // room for the value above the tallest bar
	chartBottom = 28 // room for the month under the bars
	chartSide   = 8
)

func newUsageChart(months []manage.UsageMonth) usageChart {
	c := usageChart{Width: chartWidth, Height: chartHeight, Baseline: chartHeight - chartBottom}
	if len(months) == 0 {
		c.Summary = "Tokens issued per month: no data."
		return c
	}
	var peak int64
	for _, m := range months {
		peak = max(peak, m.Tokens)
	}
	plot := chartHeight - chartTop - chartBottom
	slot := (chartWidth - 2*chartSide) / len(months)
	bw := slot * 3 / 5
	parts := make([]string, 0, len(months))
	for i, m := range months {
		label := monthOf(m.Month).Label
		hgt := 0
		if peak > 0 {
			hgt = int(m.Tokens * int64(plot) / peak)
		}
		x := chartSide + i*slot + (slot-bw)/2
		y := c.Baseline - hgt
		c.Bars = append(c.Bars, chartBar{X: x, Y: y, W: bw, H: hgt, TextX: x + bw/2, ValueY: y - 6, LabelY: c.Baseline + 18,
			Label: label, Value: m.Tokens})
		parts = append(parts, label+": "+strconv.FormatInt(m.Tokens, 10))
	}
	c.Summary = "Tokens issued per month, " + monthOf(months[0].Month).Label + " to " +
		monthOf(months[len(months)-1].Month).Label + ": " + strings.Join(parts, ", ") + "."
	return c
}

// postGoLive asks to go live on a paid plan.
func (h *Handler) postGoLive(w http.ResponseWriter, r *http.Request, c *call) {
	_, err := h.m.RequestGoLive(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID,
		strings.TrimSpace(r.PostForm.Get("plan")), r.PostForm.Get("note"))
	h.billingRequested(w, r, c, "go-live", err)
}

// postChangePlan asks a live organization to move to another paid plan.
func (h *Handler) postChangePlan(w http.ResponseWriter, r *http.Request, c *call) {
	_, err := h.m.RequestPlanChange(r.Context(), c.tenant.ID, c.actor(r), c.org.Organization.ID,
		strings.TrimSpace(r.PostForm.Get("plan")), r.PostForm.Get("note"))
	h.billingRequested(w, r, c, "change-plan", err)
}

// billingRequested answers a billing request's form: back to the tab with
// a notice, or with the refusal at its form (a state refusal — live
// already, an open request — above it, a bad plan or note at its field).
func (h *Handler) billingRequested(w http.ResponseWriter, r *http.Request, c *call, form string, err error) {
	back := h.billingPath(c, "")
	var state *manage.BillingStateError
	switch {
	case err == nil:
		h.done(w, r, back, "request-sent")
		return
	case errors.Is(err, storage.ErrNotFound):
		h.notFound(w, r, c)
		return
	case errors.As(err, &state):
		err = formError(capitalise(state.Message))
	}
	h.refuse(w, r, c, back, form, err)
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

type statementData struct {
	manage.Statement
	MonthLabel string
	Current    bool
	CSV        string
}

// getStatement serves a month's statement: the page for {file} =
// "YYYY-MM", the CSV download for "YYYY-MM.csv". A malformed month, a
// month not begun yet or one before the organization existed is 404.
func (h *Handler) getStatement(w http.ResponseWriter, r *http.Request, c *call) {
	file := mux.Vars(r)["file"]
	month, csv := strings.CutSuffix(file, ".csv")
	org := c.org.Organization
	now := storage.UsageMonth(h.cfg.Now())
	if t, err := time.Parse("2006-01", month); err != nil || t.Format("2006-01") != month ||
		month > now || month < storage.UsageMonth(org.CreatedAt) {
		h.notFound(w, r, c)
		return
	}
	st, err := h.m.Statement(r.Context(), c.tenant.ID, org.ID, month)
	var fe *storage.FieldError
	if errors.Is(err, storage.ErrNotFound) || errors.As(err, &fe) {
		h.notFound(w, r, c)
		return
	}
	if err != nil {
		h.fail(w, r, c, "load statement", err)
		return
	}
	if csv {
		h.writeStatementCSV(w, r, c, st)
		return
	}
	h.render(w, r, c, http.StatusOK, "billing_statement.html", "Statement "+monthOf(month).Label+" · "+org.Name, &statementData{
		Statement: st, MonthLabel: monthOf(month).Label, Current: month == now, CSV: h.billingPath(c, "/statements/"+month+".csv"),
	})
}

// writeStatementCSV serves st as an attachment named after the
// organization's slug and the month (a slug is [a-z0-9-], safe inside
// the quoted filename).
func (h *Handler) writeStatementCSV(w http.ResponseWriter, r *http.Request, c *call, st manage.Statement) {
	var buf bytes.Buffer
	if err := st.WriteCSV(&buf); err != nil {
		h.fail(w, r, c, "write statement CSV", err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/csv; charset=utf-8")
	hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, c.org.Organization.Slug, st.Month))
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}
