package manage

import (
	"cmp"
	"context"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Statement is an organization's usage in one month with its plan: what
// the statement page shows and what WriteCSV writes, so the two cannot
// disagree.
type Statement struct {
	TenantID         string
	OrganizationID   string
	OrganizationName string
	// Month is UTC "YYYY-MM".
	Month     string
	Plan      string
	PlanLabel string
	Live      bool
	// Applications by most tokens, then client ID.
	Applications []ApplicationUsage
	TotalTokens  int64
	ActiveUsers  int
	// GeneratedAt is when the statement was made; the current month's
	// counts may still grow (and lag by up to the usage flush interval).
	GeneratedAt time.Time
}

// Statement returns orgID's statement for month ("YYYY-MM", UTC). A
// FieldError on month; ErrNotFound when there is no such organization.
func (s *Service) Statement(ctx context.Context, tenant, orgID, month string) (Statement, error) {
	if !monthRE.MatchString(month) {
		return Statement{}, fieldErr("month", "must be a month as YYYY-MM")
	}
	org, err := s.store.GetOrganization(ctx, tenant, orgID)
	if err != nil {
		return Statement{}, err
	}
	b, err := s.store.GetBilling(ctx, tenant, orgID)
	if err != nil {
		return Statement{}, err
	}
	counts, err := s.store.ListUsage(ctx, tenant, orgID, month, month)
	if err != nil {
		return Statement{}, err
	}
	active, err := s.store.CountActiveUsers(ctx, tenant, orgID, month, month)
	if err != nil {
		return Statement{}, err
	}
	st := Statement{
		TenantID: tenant, OrganizationID: org.ID, OrganizationName: org.Name, Month: month,
		Plan: b.Plan, PlanLabel: PlanLabel(b.Plan), Live: b.Live, ActiveUsers: active[month], GeneratedAt: s.now(),
	}
	names := appNames{s: s, tenant: tenant, m: map[string]ApplicationUsage{}}
	for _, c := range counts {
		app, err := names.get(ctx, c.ClientID)
		if err != nil {
			return Statement{}, err
		}
		app.Tokens = c.Tokens
		st.Applications = append(st.Applications, app)
		st.TotalTokens += c.Tokens
	}
	sortApplicationUsage(st.Applications)
	return st, nil
}

// CSV rows: the first column says what a row is.
const (
	csvRowApplication = "application"
	csvRowTotal       = "total_tokens"
	csvRowMAU         = "monthly_active_users"
)

// WriteCSV writes the statement as CSV (RFC 4180):
//
//	row,month,client_id,application,count
//	application,2025-03,{client_id},{name},{tokens}   one per application, as in Applications
//	total_tokens,2025-03,,,{TotalTokens}
//	monthly_active_users,2025-03,,,{ActiveUsers}
//
// An application name that a spreadsheet would take for a formula
// (starting with = + - @, a tab or a carriage return) is written with a
// leading apostrophe (OWASP "CSV injection").
func (st Statement) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	records := [][]string{{"row", "month", "client_id", "application", "count"}}
	for _, a := range st.Applications {
		records = append(records, []string{csvRowApplication, st.Month, csvSafe(a.ClientID), csvSafe(a.Name), strconv.FormatInt(a.Tokens, 10)})
	}
	records = append(records,
		[]string{csvRowTotal, st.Month, "", "", strconv.FormatInt(st.TotalTokens, 10)},
		[]string{csvRowMAU, st.Month, "", "", strconv.Itoa(st.ActiveUsers)},
	)
	return cw.WriteAll(records) // flushes and reports the first error
}

// csvSafe defuses a cell that spreadsheets would evaluate.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// sortApplicationUsage orders by most tokens, then client ID.
func sortApplicationUsage(apps []ApplicationUsage) {
	slices.SortFunc(apps, func(a, b ApplicationUsage) int {
		return cmp.Or(cmp.Compare(b.Tokens, a.Tokens), strings.Compare(a.ClientID, b.ClientID))
	})
}
