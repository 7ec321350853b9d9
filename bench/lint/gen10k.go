//go:build ignore

// gen10k writes a migration of 10,000 statements to stdout: a table per
// hundred statements, then columns, indexes, constraints and updates on it.
// "gen10k N" writes N statements (1,000,000 make about 50 MB).
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
)

func main() {
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	total := 10000
	if len(os.Args) == 2 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "usage: gen10k [STATEMENTS]")
			os.Exit(2)
		}
		total = v
	}
	n := 0
	for t := 0; n < total; t++ {
		fmt.Fprintf(w, "CREATE TABLE t%d (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());\n", t)
		n++
		for i := 0; i < 24 && n < total; i++ {
			switch i % 4 {
			case 0:
				fmt.Fprintf(w, "ALTER TABLE t%d ADD COLUMN c%d integer DEFAULT %d;\n", t, i, i)
			case 1:
				fmt.Fprintf(w, "CREATE INDEX t%d_c%d_idx ON t%d (c%d);\n", t, i-1, t, i-1)
			case 2:
				fmt.Fprintf(w, "UPDATE t%d SET c%d = %d WHERE id < 1000;\n", t, i-2, i)
			case 3:
				fmt.Fprintf(w, "COMMENT ON COLUMN t%d.c%d IS 'column %d of table %d';\n", t, i-3, i, t)
			}
			n++
		}
	}
}
