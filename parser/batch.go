package parser

import (
	"fmt"

	pg "github.com/pganalyze/pg_query_go/v5"
)

// BatchedUpdate rewrites an UPDATE so that it touches one range of the key
// column: its WHERE clause gains "AND key >= $1 AND key < $2". The runner
// executes it batch after batch, each in its own transaction.
func BatchedUpdate(sql, key string) (string, error) {
	tree, err := pg.Parse(sql)
	if err != nil {
		return "", err
	}
	if len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetUpdateStmt() == nil {
		return "", fmt.Errorf("a backfill must be one UPDATE statement")
	}
	up := tree.Stmts[0].Stmt.GetUpdateStmt()
	col := func() *pg.Node { return pg.MakeColumnRefNode([]*pg.Node{pg.MakeStrNode(key)}, -1) }
	lo := pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_OP, []*pg.Node{pg.MakeStrNode(">=")}, col(), pg.MakeParamRefNode(1, -1), -1)
	hi := pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_OP, []*pg.Node{pg.MakeStrNode("<")}, col(), pg.MakeParamRefNode(2, -1), -1)
	args := []*pg.Node{lo, hi}
	if up.WhereClause != nil {
		args = append([]*pg.Node{up.WhereClause}, args...)
	}
	up.WhereClause = pg.MakeBoolExprNode(pg.BoolExprType_AND_EXPR, args, -1)
	return pg.Deparse(tree)
}
