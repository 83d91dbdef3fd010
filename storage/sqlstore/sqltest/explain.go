package sqltest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Plan is the plan PostgreSQL makes for one query.
type Plan struct {
	// JSON is the plan as EXPLAIN (FORMAT JSON) prints it.
	JSON string
	// Nodes are the plan's nodes, depth first.
	Nodes []PlanNode
}

// PlanNode is one node of a plan.
type PlanNode struct {
	Depth int
	// Type is the node type: "Seq Scan", "Index Scan", "Index Only Scan",
	// "Bitmap Heap Scan", "Nested Loop", …
	Type string
	// Relation is the table a scan reads ("" for other nodes); for a
	// Bitmap Index Scan, the table of the Bitmap Heap Scan above it.
	Relation string
	// Index is the index an index scan uses.
	Index string
}

// SeqScans returns the tables that the plan reads with a sequential scan.
func (p Plan) SeqScans() []string {
	var out []string
	for _, n := range p.Nodes {
		if n.Type == "Seq Scan" {
			out = append(out, n.Relation)
		}
	}
	return out
}

// IndexScans returns the indexes through which the plan reads table (by
// Index Scan, Index Only Scan or Bitmap Index Scan).
func (p Plan) IndexScans(table string) []string {
	var out []string
	for _, n := range p.Nodes {
		switch n.Type {
		case "Index Scan", "Index Only Scan", "Bitmap Index Scan":
			if n.Relation == table {
				out = append(out, n.Index)
			}
		}
	}
	return out
}

// String draws the plan as an indented tree of node types, tables and
// indexes, for test logs.
func (p Plan) String() string {
	var b strings.Builder
	for _, n := range p.Nodes {
		b.WriteString(strings.Repeat("  ", n.Depth))
		b.WriteString(n.Type)
		if n.Relation != "" {
			b.WriteString(" on " + n.Relation)
		}
		if n.Index != "" {
			b.WriteString(" using " + n.Index)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Explain returns the plan PostgreSQL makes for query run with args on the
// database that dsn names (a PostgresURL): the custom plan, made for these
// argument values, that a prepared statement uses on its first runs.
func Explain(tb testing.TB, dsn, query string, args ...any) Plan {
	tb.Helper()
	return explain(tb, dsn, "force_custom_plan", query, args)
}

// ExplainGeneric returns the generic plan of query: the one made without
// looking at argument values, which a prepared statement (and so every
// sqlstore query on PostgreSQL) may settle on after a few runs. args
// only fill in the EXECUTE.
func ExplainGeneric(tb testing.TB, dsn, query string, args ...any) Plan {
	tb.Helper()
	return explain(tb, dsn, "force_generic_plan", query, args)
}

// explain prepares query on a connection of its own and explains an
// EXECUTE of it under plan_cache_mode mode (PostgreSQL 15 has no EXPLAIN
// (GENERIC_PLAN)). The arguments go in as literals, through pgx's simple
// protocol, so that EXECUTE's parameters need no types of their own.
func explain(tb testing.TB, dsn, mode, query string, args []any) Plan {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("sqltest: explain: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "PREPARE orgid_explain AS "+query); err != nil {
		tb.Fatalf("sqltest: explain: prepare: %v", err)
	}
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
		tb.Fatalf("sqltest: explain: %v", err)
	}
	params := make([]string, len(args))
	for i := range args {
		params[i] = fmt.Sprintf("$%d", i+1)
	}
	stmt := "EXPLAIN (FORMAT JSON) EXECUTE orgid_explain"
	if len(args) > 0 {
		stmt += "(" + strings.Join(params, ", ") + ")"
	}
	var out string
	if err := conn.QueryRow(ctx, stmt, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...).Scan(&out); err != nil {
		tb.Fatalf("sqltest: explain: %v", err)
	}
	var doc []struct {
		Plan planJSON `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc) != 1 {
		tb.Fatalf("sqltest: explain: unexpected output %q: %v", out, err)
	}
	p := Plan{JSON: out}
	p.walk(doc[0].Plan, 0, "")
	return p
}

type planJSON struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Plans    []planJSON `json:"Plans"`
}

func (p *Plan) walk(n planJSON, depth int, parentRelation string) {
	rel := n.Relation
	if rel == "" && n.NodeType == "Bitmap Index Scan" {
		rel = parentRelation
	}
	p.Nodes = append(p.Nodes, PlanNode{Depth: depth, Type: n.NodeType, Relation: rel, Index: n.Index})
	for _, c := range n.Plans {
		p.walk(c, depth+1, rel)
	}
}
