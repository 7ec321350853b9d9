package runner

import (
	"fmt"
	"io"
	"strings"
)

// PrintPlan writes what a run would do, in order: each migration with its
// transaction grouping, and each statement with its line, class and lock.
func PrintPlan(w io.Writer, run, later []*Migration, phase Phase) {
	section := func(title string, migs []*Migration) {
		fmt.Fprintf(w, "%s:\n", title)
		if len(migs) == 0 {
			fmt.Fprintln(w, "  (nothing)")
			return
		}
		for _, m := range migs {
			fmt.Fprintf(w, "  %s  version %s, %s\n", m.Path, m.Version, m.Class)
			for _, u := range m.Units {
				switch {
				case u.Tx:
					fmt.Fprintln(w, "    in one transaction:")
				case len(u.Steps) == 1 && u.Steps[0].Backfill != nil:
					b := u.Steps[0].Backfill
					fmt.Fprintf(w, "    in batches of %d rows, one transaction each:\n", b.Batch)
				default:
					fmt.Fprintln(w, "    alone, outside a transaction:")
				}
				for _, s := range u.Steps {
					fmt.Fprintf(w, "      line %-4d %-8s %-36s %s\n", s.Line, s.Class, lockText(s), oneLine(s.SQL))
				}
			}
		}
	}
	switch phase {
	case PhaseContract:
		section("after the old color is retired (contract)", run)
	case PhaseExpand:
		section("before the switch (expand)", run)
		section("after the old color is retired (contract), not run now", later)
	default:
		var expand, contract []*Migration
		for _, m := range run {
			if m.Phase() == PhaseContract {
				contract = append(contract, m)
			} else {
				expand = append(expand, m)
			}
		}
		section("before the switch (expand)", expand)
		section("after the old color is retired (contract)", contract)
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}
