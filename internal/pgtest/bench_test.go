package pgtest

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkClusterStart measures StartLocal: initdb and a postmaster ready
// for connections. Stopping it is not counted.
func BenchmarkClusterStart(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		srv, err := StartLocal(ctx)
		if err != nil {
			SkipOrFail(b, err)
		}
		b.StopTimer()
		if err := srv.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkCreateDatabase measures what DB costs each test: CREATE DATABASE
// from the package's template, with each STRATEGY (PostgreSQL 15 and up).
// Dropping it is not counted.
func BenchmarkCreateDatabase(b *testing.B) {
	h := ready(b)
	strategies := []string{""}
	if h.version >= 150000 {
		strategies = []string{"WAL_LOG", "FILE_COPY"}
	}
	for _, strategy := range strategies {
		name := strategy
		if name == "" {
			name = "default"
		}
		b.Run("strategy="+name, func(b *testing.B) {
			ctx := context.Background()
			for i := 0; i < b.N; i++ {
				db := fmt.Sprintf("pgtest_%s_bench_%d", h.token, h.seq.Add(1))
				if err := createDatabase(ctx, h.admin, db, h.template, strategy); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := h.dropDB(ctx, db); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
