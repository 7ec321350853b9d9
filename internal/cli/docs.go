package cli

import (
	"fmt"
	"strings"

	"github.com/bgmigrate/bgmigrate/rules"
)

// RulesMarkdown renders docs/rules.md from the rule catalog, so the
// documentation cannot drift from the code.
func RulesMarkdown() string {
	var b strings.Builder
	b.WriteString("# bgmigrate rules\n\n")
	b.WriteString("<!-- Generated from the rules' Docs by `go test ./internal/cli -run TestRulesDoc -update`. Do not edit. -->\n\n")
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
