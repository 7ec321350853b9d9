package runner

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bgmigrate/bgmigrate/gate"
	"github.com/jackc/pgx/v5"
)

// Status is the state of a database's migrations.
type Status struct {
	Applied    []Applied
	Pending    []*Migration
	LockHolder string
	// ContractAllowed says whether contract migrations may run now.
	ContractAllowed bool
	ContractReason  string
}

// ReadStatus compares the directory's migrations with the history and
// asks the decision (gate.Decide) whether contract migrations may run,
// with the deployment state opts.State returns, if any.
func ReadStatus(ctx context.Context, conn *pgx.Conn, migs []*Migration, opts Options) (*Status, error) {
	f, hist, err := ReadFacts(ctx, conn, migs)
	if err != nil {
		return nil, err
	}
	if opts.State != nil {
		if f.State, err = opts.State(ctx, conn); err != nil {
			return nil, err
		}
	}
	st := &Status{Applied: hist}
	st.Pending, err = Pending(migs, hist)
	if err != nil {
		return nil, err
	}
	if st.LockHolder, err = LockHolder(ctx, conn); err != nil {
		return nil, err
	}
	v := gate.Decide(f, gate.Action{Kind: gate.ContractStatus})
	st.ContractAllowed = v.Allow
	st.ContractReason = v.Reason()
	if v.Allow && len(v.Wait) > 0 {
		var parts []string
		for _, w := range v.Wait {
			parts = append(parts, w.Migration.Version+": "+w.Reason)
		}
		st.ContractReason = strings.Join(parts, "; ")
	}
	return st, nil
}

// Print writes the status for people.
func (st *Status) Print(w io.Writer) {
	fmt.Fprintf(w, "applied (%d):\n", len(st.Applied))
	for _, a := range st.Applied {
		extra := ""
		if a.ForcedReason != "" {
			extra = " forced: " + a.ForcedReason
		}
		fmt.Fprintf(w, "  %-20s %-8s %s  %s by %s in %s%s\n", a.Version, a.Phase, a.Name, a.FinishedAt.UTC().Format(time.RFC3339), a.AppliedBy, a.Duration, extra)
	}
	fmt.Fprintf(w, "pending (%d):\n", len(st.Pending))
	for _, m := range st.Pending {
		fmt.Fprintf(w, "  %-20s %-8s %s\n", m.Version, m.Phase(), m.Path)
	}
	if st.ContractAllowed {
		fmt.Fprintln(w, "contract migrations: allowed")
	} else {
		fmt.Fprintf(w, "contract migrations: waiting (%s)\n", st.ContractReason)
	}
	if st.LockHolder != "" {
		fmt.Fprintf(w, "migration lock held by %s\n", st.LockHolder)
	} else {
		fmt.Fprintln(w, "migration lock: free")
	}
}
