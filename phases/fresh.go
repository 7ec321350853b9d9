package phases

import (
	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/schema"
)

// FreshObject reports whether the object of the given kind ("table",
// "view", "function", "schema", … as parser.Drop names them) was created by
// a migration that is not deployed yet, so the running color does not know
// it. Objects the catalog has never seen are taken to exist already.
func FreshObject(cat *schema.Catalog, object string, q parser.QName) bool {
	switch object {
	case "table", "foreign table":
		return cat.FreshTable(q)
	case "index":
		ix := cat.Index(q)
		return ix != nil && cat.Fresh(ix.Origin)
	case "view", "materialized view":
		return cat.Fresh(cat.ViewOrigin(q))
	case "type":
		e := cat.Enum(q)
		return e != nil && cat.Fresh(e.Origin)
	case "function", "procedure", "routine":
		fn := cat.Function(q.Name)
		return fn != nil && cat.Fresh(fn.Origin)
	case "sequence":
		return cat.Fresh(cat.SequenceOrigin(q))
	case "schema":
		return cat.Fresh(cat.SchemaOrigin(q.Name))
	}
	return false
}

// FreshColumn reports whether the column of table t is unknown to the
// running color: the table or the column was added by a migration that is
// not deployed yet.
func FreshColumn(cat *schema.Catalog, t parser.QName, col string) bool {
	return cat.FreshTable(t) || freshColumns(cat, t, []string{col})
}
