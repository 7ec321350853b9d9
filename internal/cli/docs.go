package cli

import (
	"fmt"
	"strings"

	"github.com/bgmigrate/bgmigrate/phases"
	"github.com/bgmigrate/bgmigrate/rules"
)

// RulesMarkdown renders docs/rules.md from the rule catalog, so the
// documentation cannot drift from the code.
func RulesMarkdown() string {
	var b strings.Builder
	b.WriteString("# bgmigrate rules\n\n")
	b.WriteString("<!-- Generated from the rules' Docs by `go test ./internal/cli -run TestGeneratedDocs -update`. Do not edit. -->\n\n")
	b.WriteString("Default rules run unless excluded; style rules run with `--style` (or when named with `--rules`).\n")
	b.WriteString("Severities can be overridden in `.bgmigrate.yaml`. Suppress a finding with\n")
	b.WriteString("`-- bgmigrate:ignore rule-id -- reason` on the line before the statement.\n\n")
	b.WriteString("| rule | severity | group | PostgreSQL | summary |\n|---|---|---|---|---|\n")
	for _, r := range rules.All() {
		group := "default"
		if r.Style {
			group = "style"
		}
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s | %s |\n", r.ID, r.ID, r.Severity, group, versions(r), strings.ReplaceAll(r.Summary, "|", `\|`))
	}
	for _, r := range rules.All() {
		b.WriteString("\n")
		b.WriteString(strings.Replace(Explain(r), "# ", "## ", 1))
	}
	return b.String()
}

// ClassesMarkdown renders docs/classes.md from the class model.
func ClassesMarkdown() string {
	var b strings.Builder
	b.WriteString("# How bgmigrate classes a statement\n\n")
	b.WriteString("<!-- Generated from phases.Model by `go test ./internal/cli -run TestGeneratedDocs -update`. Do not edit. -->\n\n")
	b.WriteString("A statement's class is what it does to the color that runs the previous release, given the\n")
	b.WriteString("schema that release uses (the migrations already deployed, replayed) and what the release\n")
	b.WriteString("being linted adds before it. *expand* keeps the running color working: run it before the\n")
	b.WriteString("switch. *contract* removes or tightens what the running color uses: run it once no color that\n")
	b.WriteString("may take traffic needs it. *breaking* breaks the running color the moment it runs: split it.\n")
	b.WriteString("*none* changes nothing the running color sees and runs in either phase. A file's class is its\n")
	b.WriteString("statements' together: expand with contract is *mixed*, and *none* never changes it. A file of\n")
	b.WriteString("only *none* statements runs with whichever phase is running.\n\n")
	b.WriteString("“Of this release” means created by an earlier statement or file of the release being linted:\n")
	b.WriteString("the running color has never used it. Each row's example is classified by a test.\n\n")
	b.WriteString("The examples run against this deployed schema:\n\n```sql\n")
	b.WriteString(phases.ModelSchema)
	b.WriteString("\n```\n\n")
	b.WriteString("| statement | situation | class | why | example |\n|---|---|---|---|---|\n")
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, r := range phases.Model {
		example := r.SQL
		if r.Before != "" || r.After != "" {
			example = "BEGIN; " + join(r.Before, r.SQL, r.After) + "; COMMIT"
		}
		if r.Release != "" {
			example = r.Release + "; then " + example
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | `%s` |\n", cell(r.Statement), cell(r.Situation), r.Class, cell(r.Why), cell(example))
	}
	return b.String()
}

// join joins the statements that are not empty with "; ".
func join(stmts ...string) string {
	var out []string
	for _, s := range stmts {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, "; ")
}
