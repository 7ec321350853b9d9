package split

import (
	"fmt"
	"strings"

	"github.com/bgmigrate/bgmigrate/parser"
	"github.com/bgmigrate/bgmigrate/schema"
)

// An Example is the migration a rule's documentation splits, so that the
// recipe `bgmigrate explain` prints is what `bgmigrate split` writes.
type Example struct {
	Rule string
	// File is the migration's name; SQL its statements.
	File, SQL string
	// Fill is passed as --fill.
	Fill map[string]string
}

// Examples are the rules whose recipes are generated (rules/recipes_gen.go,
// by go test ./split -run TestRecipesGenerated -update).
var Examples = []Example{
	{Rule: "renaming-column", File: "0042_rename_email.sql", SQL: "ALTER TABLE users RENAME COLUMN email TO email_address;"},
	{Rule: "renaming-table", File: "0042_rename_customers.sql", SQL: "ALTER TABLE customers RENAME TO clients;"},
	{Rule: "ban-set-schema", File: "0042_move_invoices.sql", SQL: "ALTER TABLE public.invoices SET SCHEMA billing;"},
	{Rule: "changing-column-type", File: "0042_customer_id_bigint.sql", SQL: "ALTER TABLE orders ALTER COLUMN customer_id TYPE bigint;"},
	{Rule: "adding-required-field", File: "0042_add_region.sql", SQL: "ALTER TABLE orders ADD COLUMN region text NOT NULL;",
		Fill: map[string]string{"orders.region": "'eu'"}},
	{Rule: "adding-not-nullable-field", File: "0042_customer_id_not_null.sql", SQL: "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;"},
	{Rule: "adding-foreign-key-constraint", File: "0042_orders_customer_fk.sql",
		SQL: "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);"},
	{Rule: "constraint-missing-not-valid", File: "0042_orders_total_positive.sql",
		SQL: "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0);"},
	{Rule: "disallowed-unique-constraint", File: "0042_users_email_key.sql", SQL: "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);"},
}

// Recipe renders the split of an example over the schema setup builds
// (the migrations before it) as the ```sql block of a rule's doc: the
// migration before, each migration after with its phase and file name,
// and what the application must do.
func Recipe(setup string, e Example) (string, error) {
	cat := schema.New()
	cat.BeginFile(1, false)
	base := parser.Parse("0041_schema.sql", []byte(setup), parser.Options{Format: parser.FormatPlain})
	if len(base.Errors) > 0 {
		return "", base.Errors[0]
	}
	Replay(cat, base.Statements)
	cat.BeginFile(2, false)
	src := parser.Parse(e.File, []byte(e.SQL+"\n"), parser.Options{Format: parser.FormatPlain})
	if len(src.Errors) > 0 {
		return "", src.Errors[0]
	}
	plan := Split(src, cat, Options{Fill: e.Fill})
	if len(plan.Problems) > 0 {
		return "", fmt.Errorf("%s: %s", e.Rule, plan.Problems[0].Reason)
	}
	if !plan.Changed {
		return "", fmt.Errorf("%s: nothing to split", e.Rule)
	}
	files, err := Files(plan, src, []string{"0041"})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	command := "bgmigrate split " + e.File
	for k, v := range e.Fill {
		command += fmt.Sprintf(" --fill %s=%q", k, v)
	}
	fmt.Fprintf(&b, "```sql\n-- before: %s\n%s\n", e.File, e.SQL)
	for i, f := range files {
		m := plan.Migrations[i]
		how := "one file"
		if m.NoTransaction {
			how += ", outside a transaction"
		}
		fmt.Fprintf(&b, "-- after: %s, %s: %s\n", f.Phase, how, f.Path)
		b.WriteString(body(f.Content))
	}
	b.WriteString("```\n")
	fmt.Fprintf(&b, "\n`%s` writes these files.", command)
	if len(plan.Notes) > 0 {
		b.WriteString(" Between them, the application:")
		for _, n := range plan.Notes {
			_, note, _ := strings.Cut(n, ": ")
			fmt.Fprintf(&b, "\n- %s", note)
		}
	}
	return b.String(), nil
}

// body is a file's content without its header comment.
func body(content string) string {
	var out []string
	for _, line := range strings.SplitAfter(content, "\n") {
		if strings.HasPrefix(line, "-- ") && strings.Contains(line, "migration split from") {
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "")
}
