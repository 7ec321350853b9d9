package datacheck

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/schema"
)

// The counting queries. Each reads one table; those that count rows
// meeting a condition have a sampled form that returns the failing rows
// of the sample and the sample's size, so the count scales by the table's
// estimated size.

// counted fills c with the count of the rows of from (a table, perhaps
// with an alias) where cond holds.
func counted(c *Check, from, cond string) {
	c.SQL = "SELECT count(*) FROM " + from + " WHERE " + cond
	c.Sample = "SELECT count(*) FILTER (WHERE " + cond + "), count(*) FROM " + from + " TABLESAMPLE SYSTEM ($1)"
}

func notNullCheck(table parser.QName, col string) Check {
	c := Check{Kind: KindNotNull, What: fmt.Sprintf("rows of %s have %s NULL", table, col)}
	counted(&c, parser.QuoteName(table), parser.QuoteIdent(col)+" IS NULL")
	return c
}

// rowsCheck counts the rows ADD COLUMN … NOT NULL without a default
// leaves NULL: all of them.
func rowsCheck(table parser.QName, col string) Check {
	c := Check{Kind: KindRows, What: fmt.Sprintf("rows of %s would have the new column %s NULL (NOT NULL without a default)", table, col)}
	t := parser.QuoteName(table)
	c.SQL = "SELECT count(*) FROM " + t
	c.Sample = "SELECT count(*), count(*) FROM " + t + " TABLESAMPLE SYSTEM ($1)"
	return c
}

// checkCheck counts the rows a CHECK rejects: those where it is false (a
// NULL passes).
func checkCheck(table parser.QName, expr string) Check {
	c := Check{Kind: KindCheck, What: fmt.Sprintf("rows of %s fail CHECK (%s)", table, expr)}
	counted(&c, parser.QuoteName(table), "NOT ("+expr+")")
	return c
}

// uniqueCheck counts the rows that share their key with another row:
// groups of equal values (NULLs apart, unless NULLS NOT DISTINCT) that
// appear more than once, within the index's WHERE when where is set.
func uniqueCheck(table parser.QName, cols []string, nullsEqual bool, where string, whereUnknown bool) Check {
	c := Check{Kind: KindUnique, What: fmt.Sprintf("rows of %s share their %s with another row", table, columnWords(cols))}
	var conds, keys []string
	for _, col := range cols {
		keys = append(keys, parser.QuoteIdent(col))
		if !nullsEqual {
			conds = append(conds, parser.QuoteIdent(col)+" IS NOT NULL")
		}
	}
	switch {
	case where != "":
		conds = append(conds, "("+where+")")
		c.What += " where " + where
	case whereUnknown:
		c.What += " (the count ignores the index's WHERE)"
	}
	filter := ""
	if len(conds) > 0 {
		filter = " WHERE " + strings.Join(conds, " AND ")
	}
	c.SQL = "SELECT coalesce(sum(n), 0)::bigint FROM (SELECT count(*) AS n FROM " + parser.QuoteName(table) + filter +
		" GROUP BY " + strings.Join(keys, ", ") + " HAVING count(*) > 1) AS dup"
	return c
}

// fkCheck fills c with the count of the referencing rows whose key
// columns are all set and match no row of the referenced table (MATCH
// SIMPLE, the default).
func fkCheck(c *Check, table parser.QName, cols []string, ref parser.QName, refCols []string) {
	var set, eq []string
	for i, col := range cols {
		set = append(set, "r."+parser.QuoteIdent(col)+" IS NOT NULL")
		eq = append(eq, "p."+parser.QuoteIdent(refCols[i])+" = r."+parser.QuoteIdent(col))
	}
	cond := strings.Join(set, " AND ") + " AND NOT EXISTS (SELECT 1 FROM " + parser.QuoteName(ref) + " AS p WHERE " + strings.Join(eq, " AND ") + ")"
	counted(c, parser.QuoteName(table)+" AS r", cond)
}

// castCheck checks ALTER COLUMN col TYPE to [USING using]. Without USING
// the conversion is an assignment cast: to varchar(n) or char(n) it fails
// on longer values, which are counted on any version. On PostgreSQL 16
// and later, from a string or integer type (whose values convert as
// their text form does), the values that are not valid input for the new
// type are counted with pg_input_is_valid. Every other cast runs the
// conversion over the table (Convert): an error of the data means at
// least one row fails.
func castCheck(table parser.QName, col string, old *schema.Column, to parser.TypeName, using *parser.Expr, pg int) Check {
	t, c := parser.QuoteName(table), parser.QuoteIdent(col)
	typ := typeText(to)
	conv := Check{Kind: KindCast, Convert: true, What: fmt.Sprintf("rows of %s fail the conversion of %s to %s", table, col, typ)}
	expr := c
	if using != nil {
		expr = "(" + using.Text() + ")"
		conv.What = fmt.Sprintf("rows of %s fail the conversion of %s to %s USING %s", table, col, typ, using.Text())
	}
	conv.SQL = "SELECT count(CAST(" + expr + " AS " + typ + ")) FROM " + t
	conv.Sample = "SELECT count(CAST(" + expr + " AS " + typ + ")) * 0, count(*) FROM " + t + " TABLESAMPLE SYSTEM ($1)"
	if using != nil {
		return conv
	}
	if n, ok := lengthLimit(to); ok {
		chk := Check{Kind: KindCast, What: fmt.Sprintf("rows of %s have a %s longer than %d characters", table, col, n)}
		counted(&chk, t, fmt.Sprintf("%s IS NOT NULL AND char_length(rtrim(%s::text)) > %d", c, c, n))
		return chk
	}
	if old == nil || !(stringType(*old.Type) || integerType(*old.Type) || stringType(to)) {
		return conv
	}
	chk := Check{Kind: KindCast, What: fmt.Sprintf("rows of %s have a %s that is not a valid %s", table, col, typ), NeedsPG: 16, Fallback: &conv}
	counted(&chk, t, fmt.Sprintf("%s IS NOT NULL AND NOT pg_input_is_valid(%s::text, %s)", c, c, quoteLiteral(typ)))
	if pg < 16 {
		return conv
	}
	return chk
}

// typeText is the type as SQL.
func typeText(t parser.TypeName) string {
	if t.Text != "" {
		return t.Text
	}
	s := t.Name
	if len(t.Mods) > 0 {
		var mods []string
		for _, m := range t.Mods {
			mods = append(mods, strconv.FormatInt(m, 10))
		}
		s += "(" + strings.Join(mods, ",") + ")"
	}
	if t.Array {
		s += "[]"
	}
	return s
}

// lengthLimit is n of varchar(n) and char(n).
func lengthLimit(t parser.TypeName) (int64, bool) {
	if t.Array || len(t.Mods) != 1 || (t.Name != "varchar" && t.Name != "bpchar") {
		return 0, false
	}
	return t.Mods[0], true
}

func stringType(t parser.TypeName) bool {
	switch t.Name {
	case "text", "varchar", "bpchar", "name", "citext":
		return !t.Array
	}
	return false
}

func integerType(t parser.TypeName) bool {
	switch t.Name {
	case "int2", "int4", "int8":
		return !t.Array
	}
	return false
}

// plainText reports whether t takes any value: text, or varchar without
// a length.
func plainText(t parser.TypeName) bool {
	return !t.Array && len(t.Mods) == 0 && (t.Name == "text" || t.Name == "varchar")
}

func sameType(a, b parser.TypeName) bool {
	if a.Name != b.Name || a.Array != b.Array || len(a.Mods) != len(b.Mods) {
		return false
	}
	for i := range a.Mods {
		if a.Mods[i] != b.Mods[i] {
			return false
		}
	}
	return true
}

// columnWords names columns in a sentence: "email", "(a, b)".
func columnWords(cols []string) string {
	if len(cols) == 1 {
		return cols[0]
	}
	return "(" + strings.Join(cols, ", ") + ")"
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
