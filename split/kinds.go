package split

import (
	"fmt"
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/phases"
	"github.com/bgmigrate/bgmigrate/schema"
)

var (
	q  = parser.QuoteIdent
	qn = parser.QuoteName
)

// rename splits RENAME of a table or of a column the old color uses.
func (p *planner) rename(st *parser.Statement, n *parser.Rename) bool {
	switch n.Object {
	case "table":
		old := n.Name
		if old.Name == "" {
			old = n.Table
		}
		p.shim(st, old, parser.QName{Schema: old.Schema, Name: n.NewName}, fmt.Sprintf("ALTER TABLE %s RENAME TO %s;\n", qn(old), q(n.NewName)))
		return true
	case "column":
		return p.renameColumn(st, n.Table, n.Old, n.NewName)
	}
	return false
}

// setSchema splits moving a table to another schema.
func (p *planner) setSchema(st *parser.Statement, n *parser.SetSchema) bool {
	if n.Object != "table" {
		return false
	}
	moved := parser.QName{Schema: n.NewSchema, Name: n.Name.Name}
	p.shim(st, n.Name, moved, fmt.Sprintf("ALTER TABLE %s SET SCHEMA %s;\n", qn(n.Name), q(n.NewSchema)))
	return true
}

// shim: the table takes its new name, and a view keeps the old one for the
// old color, in one transaction; the contract drops the view.
func (p *planner) shim(st *parser.Statement, old, renamed parser.QName, move string) {
	p.add(unit{phase: phases.Expand, name: "rename_" + old.Name, atomic: true,
		sql: move + fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM %s;\n", qn(old), qn(renamed))})
	p.add(unit{phase: phases.Contract, name: "drop_view_" + old.Name, ownTx: true,
		why: fmt.Sprintf("the old color reached %s through the view %s", renamed.String(), old.String()),
		sql: fmt.Sprintf("DROP VIEW %s;\n", qn(old))})
	p.note(st, "the new release uses %s; until the contract the old color reaches the table through the view %s, which PostgreSQL keeps updatable (a view over one table). TRUNCATE, COPY … FROM and LOCK do not work through a view: the old color must not run them on %s meanwhile",
		renamed.String(), old.String(), old.String())
}

// renameColumn: a new column kept equal to the old one by a trigger, a
// backfill; the contract carries NOT NULL, the default and the checks
// over and drops the old column.
func (p *planner) renameColumn(st *parser.Statement, t parser.QName, old, renamed string) bool {
	tab := p.cat.Table(t)
	col := tab.Column(old)
	if col == nil {
		p.problem(st, fmt.Sprintf("column %q of %q is unknown to the migrations before this one: its type is needed to add the new column", old, t.String()))
		return true
	}
	if why := p.unmovable(tab, col); why != "" {
		p.problem(st, why)
		return true
	}
	p.twoColumns(st, t, col, renamed, *col.Type, "new."+q(old), "new."+q(renamed), q(old))
	p.note(st, "the new release reads and writes %s.%s; the old color keeps %s, and a trigger keeps the two equal for inserts and updates from either color until the contract drops %s",
		t.String(), renamed, old, old)
	return true
}

// unmovable says why a column cannot be moved to a new one, "" when it can.
func (p *planner) unmovable(tab *schema.Table, col *schema.Column) string {
	switch {
	case col.Identity, col.Serial, col.Default != nil && col.Default.NextVal:
		return fmt.Sprintf("column %q of %q takes its values from a sequence (identity or serial): moving it would move the sequence too; keep the column, or change it in a maintenance window", col.Name, tab.Name.String())
	case col.Generated:
		return fmt.Sprintf("column %q of %q is generated: give the new column its expression instead", col.Name, tab.Name.String())
	}
	for _, k := range tab.Constraints {
		if k.Kind == parser.ConstraintPrimaryKey && contains(k.Columns, col.Name) {
			return fmt.Sprintf("column %q is in the primary key of %q: a new key column means a new primary key and foreign keys to it; keep the column", col.Name, tab.Name.String())
		}
	}
	for _, other := range p.cat.Tables() {
		for _, k := range other.Constraints {
			if k.References != nil && k.References.Table.Key() == tab.Name.Key() && (contains(k.References.RefColumns, col.Name) || len(k.References.RefColumns) == 0) {
				return fmt.Sprintf("column %q of %q is referenced by the foreign key %q of %q: move that foreign key first", col.Name, tab.Name.String(), k.Name, other.Name.String())
			}
		}
	}
	return ""
}

// twoColumns adds column b of type typ beside col, kept equal to it by a
// trigger (toB computes b from NEW, toA computes col from NEW), fills it
// (fill computes b from the row),
// and recreates the indexes on col for b; the contract gives b col's
// default, NOT NULL, checks and foreign keys, drops the trigger and col,
// and gives the indexes and constraints col's names back.
func (p *planner) twoColumns(st *parser.Statement, t parser.QName, col *schema.Column, b string, typ parser.TypeName, toB, toA, fill string) {
	tab := p.cat.Table(t)
	a := col.Name
	fn := p.name(t.Name + "_sync_" + a + "_" + b)
	typeText := typ.Text
	if typeText == "" {
		typeText = typ.Name
	}
	// b gets a's default from the start when it is a stable value: an
	// insert that leaves a column out then holds the default in both, and
	// the trigger tells which column an insert set by which one differs
	// from its default (a NULL the new color writes included). A default
	// computed per row (now(), a sequence) is given to b by the contract;
	// until then the trigger takes a NULL in b for "not written".
	defA, defB, addDefault := "NULL", "NULL", ""
	stable := col.Default != nil && !col.Default.Null && !phases.Volatile(col.Default)
	if stable {
		// Coerced to b's type as ALTER COLUMN TYPE coerces a default.
		defA, defB = col.Default.Text(), col.Default.Text()
		addDefault = " DEFAULT " + defB
	}
	p.add(unit{phase: phases.Expand, name: "add_" + b, sql: fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s%s;\n", qn(t), q(b), typeText, addDefault) +
		syncFunction(fn, a, b, toB, toA, defA, defB) +
		fmt.Sprintf("CREATE TRIGGER %s BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION %s();\n", q(fn), qn(t), qn(parser.QName{Schema: t.Schema, Name: fn}))})
	p.backfillNote(st)
	p.add(unit{phase: phases.Expand, name: "backfill_" + b, ownTx: true,
		sql: fmt.Sprintf("-- bgmigrate:backfill table=%s batch=1000\nUPDATE %s SET %s = %s WHERE %s IS DISTINCT FROM %s;\n", t.String(), qn(t), q(b), fill, q(b), fill)})

	var renames []string // give b's indexes and constraints a's names back, after a is gone
	for _, ix := range p.cat.IndexesOn(t) {
		if !contains(ix.Columns, a) || isConstraintIndex(tab, ix.Name) {
			continue
		}
		if ix.Partial || contains(ix.Columns, "") {
			p.note(st, "index %s on %s has an expression or a WHERE clause: create its equivalent on %s by hand before the switch", ix.Name, a, b)
			continue
		}
		name := p.name(ix.Name + "_" + b)
		using := ""
		if ix.Method != "" && ix.Method != "btree" {
			using = " USING " + ix.Method
		}
		unique := ""
		if ix.Unique {
			unique = "UNIQUE "
		}
		p.add(unit{phase: phases.Expand, name: "index_" + b, noTx: true,
			sql: fmt.Sprintf("CREATE %sINDEX CONCURRENTLY %s ON %s%s (%s);\n", unique, q(name), qn(t), using, columnList(replace(ix.Columns, a, b)))})
		renames = append(renames, fmt.Sprintf("ALTER INDEX %s RENAME TO %s;\n", qn(parser.QName{Schema: t.Schema, Name: name}), q(ix.Name)))
	}

	// The contract's second migration validates first: a VALIDATE after a
	// statement that takes ACCESS EXCLUSIVE (USING INDEX, SET NOT NULL, a
	// rename) would keep that lock for its whole scan.
	var contract, validate, after strings.Builder
	why := fmt.Sprintf("the old color used %s.%s, which the new release no longer does", t.String(), a)
	if col.Default != nil && !col.Default.Null && !stable {
		fmt.Fprintf(&contract, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;\n", qn(t), q(b), col.Default.Text())
	}
	for _, k := range tab.Constraints {
		switch {
		case k.Kind == parser.ConstraintUnique && contains(k.Columns, a):
			ix := p.name(k.Name + "_" + b)
			p.add(unit{phase: phases.Expand, name: "index_" + b, noTx: true,
				sql: fmt.Sprintf("CREATE UNIQUE INDEX CONCURRENTLY %s ON %s (%s);\n", q(ix), qn(t), columnList(replace(k.Columns, a, b)))})
			tmp := p.name(k.Name + "_" + b)
			fmt.Fprintf(&after, "ALTER TABLE %s ADD CONSTRAINT %s UNIQUE USING INDEX %s;\n", qn(t), q(tmp), q(ix))
			renames = append(renames, fmt.Sprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s;\n", qn(t), q(tmp), q(k.Name)))
		case k.Kind == parser.ConstraintCheck && k.Check != nil && contains(k.Columns, a) && k.NotNullColumn == "":
			expr, err := parser.RewriteColumns(k.Check.Text(), map[string]string{a: b}, "")
			if err != nil {
				p.note(st, "check %s on %s could not be carried over to %s (%v): add it by hand", k.Name, a, b, err)
				continue
			}
			tmp := p.name(k.Name + "_" + b)
			fmt.Fprintf(&contract, "ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s) NOT VALID;\n", qn(t), q(tmp), expr)
			fmt.Fprintf(&validate, "ALTER TABLE %s VALIDATE CONSTRAINT %s;\n", qn(t), q(tmp))
			renames = append(renames, fmt.Sprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s;\n", qn(t), q(tmp), q(k.Name)))
		case k.Kind == parser.ConstraintForeignKey && k.References != nil && len(k.Columns) == 1 && k.Columns[0] == a:
			tmp := p.name(k.Name + "_" + b)
			ref := ""
			if len(k.References.RefColumns) > 0 {
				ref = " (" + columnList(k.References.RefColumns) + ")"
			}
			fmt.Fprintf(&contract, "ALTER TABLE %s ADD CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s%s NOT VALID;\n", qn(t), q(tmp), q(b), qn(k.References.Table), ref)
			fmt.Fprintf(&validate, "ALTER TABLE %s VALIDATE CONSTRAINT %s;\n", qn(t), q(tmp))
			renames = append(renames, fmt.Sprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s;\n", qn(t), q(tmp), q(k.Name)))
		}
	}
	notNull := col.NotNull || tab.HasNotNullCheck(a)
	var check string
	if notNull {
		check = p.name(t.Name + "_" + b + "_not_null")
		fmt.Fprintf(&contract, "ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID;\n", qn(t), q(check), q(b))
	}
	fmt.Fprintf(&contract, "DROP TRIGGER %s ON %s;\nDROP FUNCTION %s();\nALTER TABLE %s DROP COLUMN %s;\n",
		q(fn), qn(t), qn(parser.QName{Schema: t.Schema, Name: fn}), qn(t), q(a))
	p.add(unit{phase: phases.Contract, name: "drop_" + a, why: why, ownTx: true, sql: contract.String()})
	if notNull {
		fmt.Fprintf(&validate, "ALTER TABLE %s VALIDATE CONSTRAINT %s;\n", qn(t), q(check))
		fmt.Fprintf(&after, "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL;\nALTER TABLE %s DROP CONSTRAINT %s;\n", qn(t), q(b), qn(t), q(check))
	}
	validate.WriteString(after.String())
	validate.WriteString(strings.Join(renames, ""))
	if validate.Len() > 0 {
		p.add(unit{phase: phases.Contract, name: "validate_" + b, why: why, ownTx: true, sql: validate.String()})
	}
}

// syncFunction is a trigger function keeping columns a (the old color's)
// and b (the new color's) equal: an insert that sets one sets the other;
// an update that changes only one changes the other. toB and toA compute
// one from the other (NEW.a, a cast, a USING expression); defA and defB
// are the columns' defaults ("NULL" for none): an insert holding the
// default in one column and something else in the other set the other.
// It changes NEW only, so it never fires itself again.
func syncFunction(fn, a, b, toB, toA, defA, defB string) string {
	A, B := "new."+q(a), "new."+q(b)
	oa, ob := "old."+q(a), "old."+q(b)
	return fmt.Sprintf(`CREATE FUNCTION %[1]s() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF %[2]s IS NOT DISTINCT FROM %[9]s AND %[3]s IS DISTINCT FROM %[8]s THEN
            %[2]s := %[4]s;
        ELSIF %[3]s IS NOT DISTINCT FROM %[8]s AND %[2]s IS DISTINCT FROM %[9]s THEN
            %[3]s := %[5]s;
        ELSIF %[2]s IS DISTINCT FROM (%[4]s) THEN
            %[3]s := %[5]s;
        END IF;
    ELSIF %[3]s IS DISTINCT FROM %[6]s AND %[2]s IS NOT DISTINCT FROM %[7]s THEN
        %[2]s := %[4]s;
    ELSIF %[2]s IS DISTINCT FROM %[7]s AND %[3]s IS NOT DISTINCT FROM %[6]s AND %[2]s IS DISTINCT FROM (%[4]s) THEN
        %[3]s := %[5]s;
    END IF;
    RETURN NEW;
END
$$;
`, q(fn), B, A, toB, toA, oa, ob, defA, defB)
}

// alter plans an ALTER TABLE; false leaves it to the statement's class.
func (p *planner) alter(st *parser.Statement, n *parser.AlterTable, info phases.Info) bool {
	if n.Object != "table" || p.cat.FreshTable(n.Table) {
		return false
	}
	if len(n.Cmds) > 1 && p.needsSplit(st, n, info) {
		cmds, err := parser.AlterCommands(st.Text)
		if err != nil {
			p.problem(st, "its commands cannot be taken apart: "+err.Error())
			return true
		}
		// Each command, planned as its own statement.
		for _, text := range cmds {
			f := parser.Parse(p.file.Path, []byte(text+";"), parser.Options{Format: parser.FormatPlain})
			if len(f.Statements) != 1 {
				p.problem(st, "a command of it does not parse alone")
				return true
			}
			sub := f.Statements[0]
			sub.Span = st.Span
			classes := map[phases.Class]bool{}
			p.statement(-1, sub, classes)
		}
		p.changed = true
		return true
	}
	if len(n.Cmds) != 1 {
		return false
	}
	c := n.Cmds[0]
	tab := p.cat.Table(n.Table)
	switch c.Op {
	case parser.AddColumn:
		return p.addColumn(st, n.Table, c, info)
	case parser.AlterColumnType:
		if info.Class != phases.Breaking && !info.Rewrite {
			return false
		}
		return p.changeType(st, n.Table, c)
	case parser.SetNotNull:
		col := tab.Column(c.Column)
		if col == nil || col.NotNull || tab.HasValidatedNotNullCheck(c.Column) || p.opts.PGVersion < 12 {
			return false
		}
		p.notNull(n.Table, c.Column, phases.Contract, fmt.Sprintf("the old color may still write NULL in %s.%s", n.Table.String(), c.Column))
		if info.Class == phases.Breaking {
			p.note(st, "the new release must write %s.%s on every insert, and its rows must be filled before the contract, which validates NOT NULL", n.Table.String(), c.Column)
		}
		return true
	case parser.AddConstraint:
		return p.addConstraint(st, n.Table, c.Constraint, info)
	}
	return false
}

// needsSplit reports whether an ALTER TABLE of several commands has one
// that the plan changes: one breaking, one that scans or rewrites, or
// commands of both phases.
func (p *planner) needsSplit(st *parser.Statement, n *parser.AlterTable, info phases.Info) bool {
	return info.Class == phases.Breaking || info.Class == phases.Mixed || info.Scan || info.Rewrite
}

// addColumn splits ADD COLUMN … NOT NULL without a default, and takes the
// constraints written in the column definition out to their lock-safe
// forms.
func (p *planner) addColumn(st *parser.Statement, t parser.QName, c *parser.AlterCmd, info phases.Info) bool {
	cd := c.ColumnDef
	if cd == nil {
		return false
	}
	required := cd.NotNull && (cd.Default == nil || cd.Default.Null) && !cd.Identity && !cd.Serial() && !cd.Generated
	inline := 0
	for _, k := range cd.Constraints {
		if k.Kind != parser.ConstraintForeignKey || phases.InlineForeignKeyChecked(cd) {
			inline++
		}
	}
	if !required && inline == 0 {
		return false
	}
	text := st.Text
	var constraints []string
	if inline > 0 || cd.PrimaryKey {
		var err error
		text, constraints, err = parser.ColumnConstraints(st.Text, func(kind string) string { return p.name(t.Name + "_" + cd.Name + "_" + kind) })
		if err != nil {
			p.problem(st, err.Error())
			return true
		}
	}
	if required {
		fill, ok := p.opts.Fill[t.String()+"."+cd.Name]
		if !ok {
			fill, ok = p.opts.Fill[t.Name+"."+cd.Name]
		}
		// Without the NOT NULL: the old color does not set the column.
		add, err := parser.WithoutNotNull(text)
		if err != nil {
			p.problem(st, err.Error())
			return true
		}
		why := fmt.Sprintf("the old color does not write %s.%s", t.String(), cd.Name)
		switch {
		case ok && !volatileExpr(fill):
			withDefault, err := parser.SetColumnDefault(text, fill)
			if err != nil {
				p.problem(st, fmt.Sprintf("--fill %s.%s: %v", t.Name, cd.Name, err))
				return true
			}
			p.add(unit{phase: phases.Expand, name: "add_" + cd.Name, sql: withDefault + ";\n"})
			p.add(unit{phase: phases.Contract, name: "drop_default_" + cd.Name, why: why, ownTx: true,
				sql: fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT;\n", qn(t), q(cd.Name))})
			p.note(st, "the new release writes %s.%s on every insert; until the contract, rows the old color inserts get %s", t.String(), cd.Name, fill)
		case ok:
			p.add(unit{phase: phases.Expand, name: "add_" + cd.Name, sql: add + ";\n"})
			p.backfillNote(st)
			p.add(unit{phase: phases.Contract, name: "backfill_" + cd.Name, why: why, ownTx: true,
				sql: fmt.Sprintf("-- bgmigrate:backfill table=%s batch=1000\nUPDATE %s SET %s = %s WHERE %s IS NULL;\n", t.String(), qn(t), q(cd.Name), fill, q(cd.Name))})
			p.notNull(t, cd.Name, phases.Contract, why)
			p.note(st, "the new release writes %s.%s on every insert; the contract fills the rows written before it, and by the old color, with %s", t.String(), cd.Name, fill)
		default:
			p.add(unit{phase: phases.Expand, name: "add_" + cd.Name, sql: add + ";\n"})
			p.notNull(t, cd.Name, phases.Contract, why)
			p.note(st, "the new release writes %s.%s on every insert; rows written before it, and by the old color until it is retired, are NULL and must be filled before the contract (give --fill %s.%s=EXPR to have it done), or the contract's VALIDATE fails on them",
				t.String(), cd.Name, t.Name, cd.Name)
		}
	} else {
		p.add(unit{phase: phases.Expand, name: "add_" + cd.Name, sql: text + ";\n"})
	}
	phase := phases.Expand
	for _, k := range constraints {
		f := parser.Parse(p.file.Path, []byte(k+";"), parser.Options{Format: parser.FormatPlain})
		if len(f.Statements) != 1 {
			continue
		}
		sub := f.Statements[0]
		n := sub.Node.(*parser.AlterTable)
		p.addConstraintUnits(sub, t, n.Cmds[0].Constraint, phase, "")
	}
	return true
}

// changeType: a column of the new type beside the old one, converted both
// ways by a trigger, filled; the contract drops the old column.
func (p *planner) changeType(st *parser.Statement, t parser.QName, c *parser.AlterCmd) bool {
	tab := p.cat.Table(t)
	col := tab.Column(c.Column)
	if col == nil {
		p.problem(st, fmt.Sprintf("column %q of %q is unknown to the migrations before this one: its current type is needed for the conversion back", c.Column, t.String()))
		return true
	}
	if why := p.unmovable(tab, col); why != "" {
		p.problem(st, why)
		return true
	}
	b := c.Column + "_new"
	for i := 2; tab.Column(b) != nil; i++ {
		b = fmt.Sprintf("%s_new%d", c.Column, i)
	}
	newType := c.Type.Text
	if newType == "" {
		newType = c.Type.Name
	}
	oldType := col.Type.Text
	if oldType == "" {
		oldType = col.Type.Name
	}
	toB := fmt.Sprintf("new.%s::%s", q(c.Column), newType)
	fill := fmt.Sprintf("%s::%s", q(c.Column), newType)
	if c.Using != nil && !phases.PlainUsing(c) {
		expr, err := parser.RewriteColumns(c.Using.Text(), map[string]string{c.Column: c.Column}, "new")
		if err != nil {
			p.problem(st, "its USING expression cannot be rewritten for the trigger: "+err.Error())
			return true
		}
		toB = fmt.Sprintf("(%s)::%s", expr, newType)
		fill = fmt.Sprintf("(%s)::%s", c.Using.Text(), newType)
	}
	toA := fmt.Sprintf("new.%s::%s", q(b), oldType)
	p.twoColumns(st, t, col, b, *c.Type, toB, toA, fill)
	p.moved[t.Key()+"."+c.Column] = b
	p.note(st, "the new release reads and writes %s.%s, of type %s; the old color keeps %s (%s), and a trigger converts between the two for either color's writes (a value of the new type that does not fit %s fails the new release's write) until the contract drops %s. To take the name %s back, split a RENAME COLUMN in a later release",
		t.String(), b, newType, c.Column, oldType, oldType, c.Column, c.Column)
	return true
}

// addConstraint gives ADD CONSTRAINT its lock-safe form.
func (p *planner) addConstraint(st *parser.Statement, t parser.QName, k *parser.Constraint, info phases.Info) bool {
	if k == nil || !info.Scan {
		return false
	}
	phase := info.Class
	if phase == phases.None || phase == phases.Mixed {
		phase = phases.Expand
	}
	if phase == phases.Breaking {
		phase = phases.Contract
		p.note(st, "the new release must write valid rows before the contract adds the constraint: %s", info.Reason)
	}
	return p.addConstraintUnits(st, t, k, phase, info.Reason)
}

// addConstraintUnits adds the units of a constraint in its lock-safe form:
// NOT VALID, then VALIDATE in a transaction of its own (CHECK, FOREIGN
// KEY); a unique index built concurrently, then USING INDEX (UNIQUE,
// PRIMARY KEY, whose nullable columns are made NOT NULL first).
func (p *planner) addConstraintUnits(st *parser.Statement, t parser.QName, k *parser.Constraint, phase phases.Class, why string) bool {
	name := k.Name
	switch k.Kind {
	case parser.ConstraintCheck, parser.ConstraintForeignKey:
		if name == "" {
			suffix := map[parser.ConstraintKind]string{parser.ConstraintCheck: "check", parser.ConstraintForeignKey: "fkey"}[k.Kind]
			name = p.name(t.Name + "_" + strings.Join(k.Columns, "_") + "_" + suffix)
		}
		sql, err := parser.NotValidConstraint(st.Text, name)
		if err != nil {
			p.problem(st, err.Error())
			return true
		}
		p.add(unit{phase: phase, name: "add_" + name, why: why, sql: sql + ";\n"})
		p.add(unit{phase: phase, name: "validate_" + name, why: why, ownTx: true,
			sql: fmt.Sprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s;\n", qn(t), q(name))})
		return true
	case parser.ConstraintUnique, parser.ConstraintPrimaryKey:
		if k.UsingIndex != "" || len(k.Columns) == 0 {
			return false
		}
		kind, suffix := "UNIQUE", "_key"
		if k.Kind == parser.ConstraintPrimaryKey {
			kind, suffix = "PRIMARY KEY", "_pkey"
			for _, c := range k.Columns {
				if col := p.cat.Table(t).Column(c); col == nil || !col.NotNull {
					p.notNull(t, c, phase, why)
				}
			}
		}
		if name == "" {
			if k.Kind == parser.ConstraintPrimaryKey {
				name = p.name(t.Name + suffix)
			} else {
				name = p.name(t.Name + "_" + strings.Join(k.Columns, "_") + suffix)
			}
		}
		p.add(unit{phase: phase, name: "index_" + name, why: why, noTx: true,
			sql: fmt.Sprintf("CREATE UNIQUE INDEX CONCURRENTLY %s ON %s (%s);\n", q(name), qn(t), columnList(k.Columns))})
		p.add(unit{phase: phase, name: "add_" + name, why: why, ownTx: true,
			sql: fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s;\n", qn(t), q(name), kind, q(name))})
		return true
	}
	return false
}

// notNull adds the lock-safe SET NOT NULL: a CHECK (col IS NOT NULL) NOT
// VALID, then, in a transaction of its own, VALIDATE, SET NOT NULL (which
// the validated check spares a scan) and the check dropped.
func (p *planner) notNull(t parser.QName, col string, phase phases.Class, why string) {
	check := p.name(t.Name + "_" + col + "_not_null")
	p.add(unit{phase: phase, name: "check_" + col + "_not_null", why: why, ownTx: true,
		sql: fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID;\n", qn(t), q(check), q(col))})
	p.add(unit{phase: phase, name: "set_" + col + "_not_null", why: why, ownTx: true,
		sql: fmt.Sprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s;\nALTER TABLE %s ALTER COLUMN %s SET NOT NULL;\nALTER TABLE %s DROP CONSTRAINT %s;\n",
			qn(t), q(check), qn(t), q(col), qn(t), q(check))})
}

// createIndex builds an index on a table the old color uses concurrently.
func (p *planner) createIndex(st *parser.Statement, n *parser.CreateIndex, info phases.Info) bool {
	if n.Concurrently || p.cat.FreshTable(n.Table) {
		return false
	}
	sql, err := parser.Concurrently(st.Text)
	if err != nil {
		p.problem(st, err.Error())
		return true
	}
	phase := info.Class
	if phase != phases.Contract {
		phase = phases.Expand
	}
	p.add(unit{phase: phase, name: "index_" + n.Name, why: info.Reason, noTx: true, sql: sql + ";\n"})
	return true
}

// backfillNote says, for a tool other than bgmigrate's runner, that a
// backfill is one UPDATE there.
func (p *planner) backfillNote(st *parser.Statement) {
	if p.file.Format != parser.FormatPlain {
		p.note(st, "bgmigrate migrate runs the backfill in batches of the primary key (-- bgmigrate:backfill); %s runs it as one UPDATE, which locks every row it changes until it ends: on a large table apply it with bgmigrate migrate, or in batches", p.file.Format)
	}
}

func (p *planner) note(st *parser.Statement, format string, args ...any) {
	p.notes = append(p.notes, fmt.Sprintf("line %d: ", st.Span.Start.Line)+fmt.Sprintf(format, args...))
}

func isConstraintIndex(tab *schema.Table, name string) bool {
	for _, k := range tab.Constraints {
		if k.Name == name {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func replace(list []string, from, to string) []string {
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = x
		if x == from {
			out[i] = to
		}
	}
	return out
}

func columnList(cols []string) string {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = q(c)
	}
	return strings.Join(quoted, ", ")
}

// volatileExpr reports whether a fill expression must be computed row by
// row (a backfill) rather than stored once as a default.
func volatileExpr(expr string) bool {
	e, err := parser.ParseExpr(expr)
	return err != nil || phases.Volatile(e)
}
