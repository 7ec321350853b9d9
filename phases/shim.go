package phases

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/schema"
)

// Shim reclasses a statement that a view in the same transaction makes
// invisible to the running color; before and after are the other
// statements of that transaction, in order. ok is false when no view
// changes the statement's class. The two cases:
//
//   - a table renamed or moved, and a view created with its old name: the
//     running color's queries reach the table through the view (a view over
//     one table is updatable), so the old name never stops working: expand;
//   - a view dropped and a table renamed or moved to the view's name: the
//     name never stops working, so the drop is none, and the rename or move
//     only removes the table's old name: contract;
//   - a view dropped and created again with every column it had (and maybe
//     more): the running color's queries of it keep working, so the drop is
//     none (the CREATE VIEW is expand). A column left out keeps the drop a
//     contract step. Columns unknown (a *) are taken to be kept;
//   - a trigger dropped and created again on the same table: the running
//     color's writes still fire it: none.
//
// Outside a transaction there is a moment between the two statements when
// the name is missing, and nothing is reclassed. cat is the catalog before
// st.
func Shim(before []*parser.Statement, st *parser.Statement, after []*parser.Statement, cat *schema.Catalog) (Class, string, bool) {
	if old, renamed, ok := movedTable(st); ok {
		for _, a := range after {
			if v, isView := a.Node.(*parser.CreateView); isView && !v.Materialized && v.View.Key() == old.Key() {
				return Expand, "", true
			}
		}
		for _, b := range before {
			if droppedView(b, renamed) {
				return Contract, fmt.Sprintf("%q takes the name of the view dropped before it; its old name %q goes away", old.String(), old.String()), true
			}
		}
		return None, "", false
	}
	if d, isDrop := st.Node.(*parser.Drop); isDrop && d.Object == "trigger" && len(d.Names) == 1 && len(d.On) == 1 {
		for _, a := range after {
			if t, ok := a.Node.(*parser.CreateTrigger); ok && t.Name == d.Names[0].Name && t.Table.Key() == d.On[0].Key() {
				return None, "", true
			}
		}
	}
	if d, isDrop := st.Node.(*parser.Drop); isDrop && (d.Object == "view") && len(d.Names) == 1 {
		for _, a := range after {
			if _, renamed, ok := movedTable(a); ok && renamed.Key() == d.Names[0].Key() {
				return None, "", true
			}
			if v, ok := a.Node.(*parser.CreateView); ok && !v.Materialized && v.View.Key() == d.Names[0].Key() {
				// Columns unknown on either side (a *) are taken to be kept:
				// a view recreated over the same tables.
				if missing := missingColumns(cat.ViewColumns(d.Names[0]), v.Columns); missing != "" {
					return Contract, fmt.Sprintf("view %q is created again without %s, which the running color may read", d.Names[0].String(), missing), true
				}
				return None, "", true
			}
		}
	}
	return None, "", false
}

// MayShim reports whether Shim may reclass st: a table renamed or moved,
// or a view dropped. Callers skip gathering the transaction otherwise.
func MayShim(st *parser.Statement) bool {
	if _, _, ok := movedTable(st); ok {
		return true
	}
	d, ok := st.Node.(*parser.Drop)
	return ok && (d.Object == "view" || d.Object == "trigger")
}

// movedTable returns the old and the new name of a table renamed or moved
// to another schema by st.
func movedTable(st *parser.Statement) (old, renamed parser.QName, ok bool) {
	switch n := st.Node.(type) {
	case *parser.Rename:
		if n.Object != "table" {
			return old, renamed, false
		}
		old = n.Name
		if old.Name == "" {
			old = n.Table
		}
		return old, parser.QName{Schema: old.Schema, Name: n.NewName}, true
	case *parser.SetSchema:
		if n.Object != "table" {
			return old, renamed, false
		}
		return n.Name, parser.QName{Schema: n.NewSchema, Name: n.Name.Name}, true
	}
	return old, renamed, false
}

// missingColumns names, quoted, the old columns that new lacks; "" when
// either list is unknown.
func missingColumns(old, new []string) string {
	if old == nil || new == nil {
		return ""
	}
	have := map[string]bool{}
	for _, c := range new {
		have[c] = true
	}
	var out []string
	for _, c := range old {
		if !have[c] {
			out = append(out, strconv.Quote(c))
		}
	}
	return strings.Join(out, ", ")
}

func droppedView(st *parser.Statement, name parser.QName) bool {
	d, ok := st.Node.(*parser.Drop)
	if !ok || d.Object != "view" {
		return false
	}
	for _, q := range d.Names {
		if q.Key() == name.Key() {
			return true
		}
	}
	return false
}
