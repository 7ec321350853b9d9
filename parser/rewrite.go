package parser

import (
	"fmt"
	"regexp"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Rewriting SQL for bgmigrate split: the statements it writes are built
// from parts of the user's (an expression, one ALTER TABLE subcommand), and
// PostgreSQL's own deparser prints them.

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// QuoteIdent quotes an identifier as PostgreSQL's quote_ident does: left
// as it is when it is lower case, plain and not a keyword that must be
// quoted as a column name.
func QuoteIdent(s string) string {
	if plainIdent.MatchString(s) {
		if res, err := pg.Scan(s); err == nil && len(res.Tokens) == 1 {
			switch res.Tokens[0].KeywordKind {
			case pg.KeywordKind_NO_KEYWORD, pg.KeywordKind_UNRESERVED_KEYWORD:
				return s
			}
		}
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// QuoteName quotes a qualified name.
func QuoteName(q QName) string {
	if q.Schema == "" {
		return QuoteIdent(q.Name)
	}
	return QuoteIdent(q.Schema) + "." + QuoteIdent(q.Name)
}

// RewriteColumns prints the SQL expression expr with its unqualified
// column references renamed as rename says; with qualifier set, every
// column it renames is qualified by it too (as NEW.col in a trigger).
func RewriteColumns(expr string, rename map[string]string, qualifier string) (string, error) {
	tree, err := pg.Parse("SELECT " + expr)
	if err != nil {
		return "", err
	}
	if len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetSelectStmt() == nil || len(tree.Stmts[0].Stmt.GetSelectStmt().TargetList) != 1 {
		return "", fmt.Errorf("%q is not one expression", expr)
	}
	walk(tree.ProtoReflect(), func(m protoreflect.Message) bool {
		ref, ok := m.Interface().(*pg.ColumnRef)
		if !ok || len(ref.Fields) != 1 {
			return true
		}
		if s := ref.Fields[0].GetString_(); s != nil {
			if to, ok := rename[s.Sval]; ok {
				ref.Fields = []*pg.Node{pg.MakeStrNode(to)}
				if qualifier != "" {
					ref.Fields = []*pg.Node{pg.MakeStrNode(qualifier), pg.MakeStrNode(to)}
				}
			}
		}
		return false
	})
	out, err := pg.Deparse(tree)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(out, "SELECT "), nil
}

// AlterCommands prints each subcommand of one ALTER TABLE statement as an
// ALTER TABLE of its own, in order.
func AlterCommands(sql string) ([]string, error) {
	tree, err := pg.Parse(sql)
	if err != nil {
		return nil, err
	}
	if len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetAlterTableStmt() == nil {
		return nil, fmt.Errorf("not one ALTER TABLE statement")
	}
	at := tree.Stmts[0].Stmt.GetAlterTableStmt()
	cmds := at.Cmds
	out := make([]string, 0, len(cmds))
	for _, c := range cmds {
		at.Cmds = []*pg.Node{c}
		s, err := pg.Deparse(tree)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	at.Cmds = cmds
	return out, nil
}

// NotValidConstraint prints ALTER TABLE … ADD CONSTRAINT (one command, a
// CHECK or a FOREIGN KEY) as NOT VALID, named name when it has no name.
func NotValidConstraint(sql, name string) (string, error) {
	tree, at, err := oneAlter(sql)
	if err != nil {
		return "", err
	}
	con := alterConstraint(at)
	if con == nil || (con.Contype != pg.ConstrType_CONSTR_CHECK && con.Contype != pg.ConstrType_CONSTR_FOREIGN) {
		return "", fmt.Errorf("not ADD CONSTRAINT … CHECK or FOREIGN KEY")
	}
	if con.Conname == "" {
		con.Conname = name
	}
	con.SkipValidation, con.InitiallyValid = true, false
	return pg.Deparse(tree)
}

// ColumnConstraints takes the CHECK, UNIQUE, PRIMARY KEY and REFERENCES
// constraints out of ALTER TABLE … ADD COLUMN (one command): it prints the
// statement without them, and each as an ALTER TABLE … ADD CONSTRAINT of
// its own, named by name(kind) when it has no name ("check", "key",
// "pkey", "fkey").
func ColumnConstraints(sql string, name func(kind string) string) (add string, constraints []string, err error) {
	tree, at, err := oneAlter(sql)
	if err != nil {
		return "", nil, err
	}
	cmd := at.Cmds[0].GetAlterTableCmd()
	def := cmd.GetDef().GetColumnDef()
	if cmd.Subtype != pg.AlterTableType_AT_AddColumn || def == nil {
		return "", nil, fmt.Errorf("not ADD COLUMN")
	}
	var keep, moved []*pg.Node
	for _, n := range def.Constraints {
		con := n.GetConstraint()
		kind := map[pg.ConstrType]string{pg.ConstrType_CONSTR_CHECK: "check", pg.ConstrType_CONSTR_UNIQUE: "key",
			pg.ConstrType_CONSTR_PRIMARY: "pkey", pg.ConstrType_CONSTR_FOREIGN: "fkey"}[con.GetContype()]
		if con == nil || kind == "" {
			keep = append(keep, n)
			continue
		}
		if con.Conname == "" {
			con.Conname = name(kind)
		}
		col := pg.MakeStrNode(def.Colname)
		switch con.Contype {
		case pg.ConstrType_CONSTR_UNIQUE, pg.ConstrType_CONSTR_PRIMARY:
			con.Keys = []*pg.Node{col}
		case pg.ConstrType_CONSTR_FOREIGN:
			con.FkAttrs = []*pg.Node{col}
		}
		moved = append(moved, n)
	}
	def.Constraints = keep
	if add, err = pg.Deparse(tree); err != nil {
		return "", nil, err
	}
	for _, n := range moved {
		cmd.Subtype, cmd.Def, cmd.Name = pg.AlterTableType_AT_AddConstraint, n, ""
		s, err := pg.Deparse(tree)
		if err != nil {
			return "", nil, err
		}
		constraints = append(constraints, s)
	}
	return add, constraints, nil
}

func oneAlter(sql string) (*pg.ParseResult, *pg.AlterTableStmt, error) {
	tree, err := pg.Parse(sql)
	if err != nil {
		return nil, nil, err
	}
	if len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetAlterTableStmt() == nil || len(tree.Stmts[0].Stmt.GetAlterTableStmt().Cmds) != 1 {
		return nil, nil, fmt.Errorf("not one ALTER TABLE with one command")
	}
	return tree, tree.Stmts[0].Stmt.GetAlterTableStmt(), nil
}

func alterConstraint(at *pg.AlterTableStmt) *pg.Constraint {
	cmd := at.Cmds[0].GetAlterTableCmd()
	if cmd.Subtype != pg.AlterTableType_AT_AddConstraint {
		return nil
	}
	return cmd.GetDef().GetConstraint()
}

// ParseExpr reads one SQL expression.
func ParseExpr(expr string) (*Expr, error) {
	tree, err := pg.Parse("SELECT " + expr)
	if err != nil {
		return nil, err
	}
	sel := tree.Stmts[0].Stmt.GetSelectStmt()
	if len(tree.Stmts) != 1 || sel == nil || len(sel.TargetList) != 1 || sel.FromClause != nil || sel.WhereClause != nil {
		return nil, fmt.Errorf("%q is not one expression", expr)
	}
	c := &converter{f: &File{lines: newLineIndex("")}}
	return c.expr(sel.TargetList[0].GetResTarget().Val), nil
}

// addColumnDef returns the column definition of ALTER TABLE … ADD COLUMN
// (one command).
func addColumnDef(sql string) (*pg.ParseResult, *pg.ColumnDef, error) {
	tree, at, err := oneAlter(sql)
	if err != nil {
		return nil, nil, err
	}
	cmd := at.Cmds[0].GetAlterTableCmd()
	def := cmd.GetDef().GetColumnDef()
	if cmd.Subtype != pg.AlterTableType_AT_AddColumn || def == nil {
		return nil, nil, fmt.Errorf("not ADD COLUMN")
	}
	return tree, def, nil
}

// WithoutNotNull prints ALTER TABLE … ADD COLUMN without its NOT NULL.
func WithoutNotNull(sql string) (string, error) {
	tree, def, err := addColumnDef(sql)
	if err != nil {
		return "", err
	}
	var keep []*pg.Node
	for _, n := range def.Constraints {
		if n.GetConstraint().GetContype() != pg.ConstrType_CONSTR_NOTNULL {
			keep = append(keep, n)
		}
	}
	def.Constraints, def.IsNotNull = keep, false
	return pg.Deparse(tree)
}

// SetColumnDefault prints ALTER TABLE … ADD COLUMN with expr as its
// default.
func SetColumnDefault(sql, expr string) (string, error) {
	tree, def, err := addColumnDef(sql)
	if err != nil {
		return "", err
	}
	e, err := pg.Parse("SELECT " + expr)
	if err != nil {
		return "", err
	}
	sel := e.Stmts[0].Stmt.GetSelectStmt()
	if len(e.Stmts) != 1 || sel == nil || len(sel.TargetList) != 1 || sel.FromClause != nil {
		return "", fmt.Errorf("%q is not one expression", expr)
	}
	val := sel.TargetList[0].GetResTarget().Val
	var keep []*pg.Node
	for _, n := range def.Constraints {
		if n.GetConstraint().GetContype() != pg.ConstrType_CONSTR_DEFAULT {
			keep = append(keep, n)
		}
	}
	def.Constraints = append(keep, &pg.Node{Node: &pg.Node_Constraint{Constraint: &pg.Constraint{Contype: pg.ConstrType_CONSTR_DEFAULT, RawExpr: val, Location: -1}}})
	return pg.Deparse(tree)
}

// Concurrently prints CREATE INDEX as CREATE INDEX CONCURRENTLY.
func Concurrently(sql string) (string, error) {
	tree, err := pg.Parse(sql)
	if err != nil {
		return "", err
	}
	if len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetIndexStmt() == nil {
		return "", fmt.Errorf("not one CREATE INDEX statement")
	}
	tree.Stmts[0].Stmt.GetIndexStmt().Concurrent = true
	return pg.Deparse(tree)
}
