package twocolor

import (
	"fmt"
	"io"
	"strings"
)

// WriteTable prints results side by side, one line each, then for each
// run that failed its first errors and the steps that failed.
func WriteTable(w io.Writer, results []*Result) {
	titles := map[string]string{}
	for _, k := range Kinds() {
		titles[k.Name] = k.Title
	}
	const row = "%-28s %-8s %8s %8s | %7s %6s %7s %7s %11s | %7s %8s\n"
	fmt.Fprintf(w, row, "kind", "mode", "expand", "contract", "old ops", "failed", "new ops", "failed*", "worst write", "rows†", "schema‡")
	for _, r := range results {
		title := titles[r.Kind]
		if title == "" {
			title = r.Kind
		}
		if r.Skipped != "" {
			fmt.Fprintf(w, "%-28s %-8s %s\n", title, r.Mode, r.Skipped)
			continue
		}
		worst := max(r.Old.MaxWrite, r.New.MaxWrite)
		schema := "equal"
		if len(r.SchemaDiff) > 0 {
			schema = fmt.Sprintf("%d diffs", len(r.SchemaDiff))
		}
		contract := "-"
		if r.Contract > 0 {
			contract = Dur(r.Contract)
		}
		fmt.Fprintf(w, row, title, r.Mode, Dur(r.Expand), contract, fmt.Sprint(r.Old.Ops), fmt.Sprint(r.Old.Failed+r.Old.Anomalies),
			fmt.Sprint(r.New.Ops), fmt.Sprintf("%d/%d", r.New.Failed-r.New.FailedAfter+r.New.Anomalies, r.New.FailedAfter),
			Dur(worst), short(r.Window)+"/"+short(r.Final), schema)
	}
	fmt.Fprintln(w, "expand: the change while the old color runs (split + migrate expand; the migration as written; pgroll start)")
	fmt.Fprintln(w, "contract: after the old color stopped (the data fix + retire + migrate contract; pgroll complete)")
	fmt.Fprintln(w, "failed: statements that returned an error, plus reads and writes that missed the last committed write")
	fmt.Fprintln(w, "* new color: failed before the contract started / after")
	fmt.Fprintln(w, "† rows checked at the end of the two-color window / after the contract: ok, N (rows that differ), err (a color cannot read them)")
	fmt.Fprintln(w, "‡ the catalog compared with the breaking migration applied as written on an empty database")
	for _, r := range results {
		notes := r.notes()
		if len(notes) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s, %s:\n", titles[r.Kind], r.Mode)
		for _, n := range notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
}

func short(c RowCheck) string {
	switch {
	case c.Err != "":
		return "err"
	case c.Mismatched > 0:
		return fmt.Sprint(c.Mismatched)
	}
	return "ok"
}

// notes are the lines that explain a run's figures: failed steps, the
// colors' most frequent errors, lost writes, schema differences.
func (r *Result) notes() []string {
	if r.Skipped != "" {
		return nil
	}
	var out []string
	for _, s := range r.Steps {
		if s.Err != nil {
			out = append(out, fmt.Sprintf("step %q failed: %s", s.Name, oneLine(s.Err.Error())))
		}
	}
	if r.Violations > 0 {
		out = append(out, fmt.Sprintf("the old color left %d rows the new schema refuses; the data fix ran before the contract", r.Violations))
	}
	for _, c := range r.colors() {
		for i, e := range c.s.Errors {
			if i == 2 {
				out = append(out, fmt.Sprintf("%s color: … and %d other errors", c.name, len(c.s.Errors)-2))
				break
			}
			out = append(out, fmt.Sprintf("%s color: %d× %s", c.name, e.N, oneLine(e.Message)))
		}
		for _, a := range c.s.AnomalyExamples {
			out = append(out, fmt.Sprintf("%s color: lost or unseen write: %s", c.name, a))
		}
	}
	for _, c := range []RowCheck{r.Window, r.Final} {
		if c.Err != "" {
			out = append(out, "row check: "+oneLine(c.Err))
		}
		for _, e := range c.Examples {
			out = append(out, "row check: "+e)
		}
	}
	for i, d := range r.SchemaDiff {
		if i == 4 {
			out = append(out, fmt.Sprintf("schema: … and %d more", len(r.SchemaDiff)-4))
			break
		}
		out = append(out, "schema: "+d)
	}
	return out
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 240 {
		s = s[:240] + " …"
	}
	return s
}
