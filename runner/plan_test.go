package runner

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bgmigrate/bgmigrate/rules"
)

// TestUnits checks how statements are grouped into what runs as one.
func TestUnits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sql  string
		pg   int
		want []string // per unit: "tx" or "alone", with its statement count
	}{
		{"one transaction", "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n", 15, []string{"tx:2"}},
		{"concurrent index splits the file", "ALTER TABLE t ADD COLUMN c int;\nCREATE INDEX CONCURRENTLY i ON t (c);\n", 15, []string{"tx:1", "alone:1"}},
		{"explicit block kept together", "BEGIN;\nALTER TABLE t ADD COLUMN c int;\nALTER TABLE t ADD COLUMN d int;\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (c);\n", 15, []string{"tx:2", "alone:1"}},
		{"enum value in a transaction from PostgreSQL 12", "ALTER TYPE mood ADD VALUE 'meh';\nCREATE TABLE x (id int);\n", 12, []string{"tx:2"}},
		{"enum value alone before PostgreSQL 12", "ALTER TYPE mood ADD VALUE 'meh';\nCREATE TABLE x (id int);\n", 11, []string{"alone:1", "tx:1"}},
		{"backfill runs in batches", "-- bgmigrate:backfill table=t batch=10\nUPDATE t SET c = 1;\n", 15, []string{"batches:1"}},
	} {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "001_x.sql"), []byte(tc.sql), 0o644); err != nil {
				t.Fatal(err)
			}
			migs, err := Load(context.Background(), dir, rules.Config{PGVersion: tc.pg})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range migs[0].Units {
				kind := "alone"
				switch {
				case u.Tx:
					kind = "tx"
				case len(u.Steps) == 1 && u.Steps[0].Backfill != nil:
					kind = "batches"
				}
				got = append(got, kind+":"+itoa(len(u.Steps)))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("units %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("units %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func itoa(n int) string { return string(rune('0' + n)) }
