package runner

import (
	"context"
	"fmt"
	"io"
	"time"

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

// ReadStatus compares the directory's migrations with the history.
func ReadStatus(ctx context.Context, conn *pgx.Conn, migs []*Migration, opts Options) (*Status, error) {
	hist, err := History(ctx, conn)
	if err != nil {
		return nil, err
	}
	st := &Status{Applied: hist}
	st.Pending, err = Pending(migs, hist)
	if err != nil {
		return nil, err
	}
	if st.LockHolder, err = LockHolder(ctx, conn); err != nil {
		return nil, err
	}
	if hist != nil {
		st.ContractAllowed, st.ContractReason, err = contractAllowed(ctx, conn, opts)
		if err != nil {
			return nil, err
		}
	} else {
		st.ContractAllowed = true
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
