//go:build ignore

// floor measures what pg_query_go alone costs on a list of files (one path
// per line on stdin), on all cores: reading the files, PostgreSQL's parser
// to protobuf bytes, pg_query_go.Parse (the parser plus the protobuf
// unmarshal into its Go AST), and Parse plus Scan. No conversion, rule or
// report runs, so these are the floors under any linter built on it.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	pg "github.com/pganalyze/pg_query_go/v5"
	pgparser "github.com/pganalyze/pg_query_go/v5/parser"
)

func main() {
	var files []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		files = append(files, sc.Text())
	}
	runs := 5
	for _, mode := range []string{"read the files", "C parser to protobuf", "pg_query_go.Parse", "Parse + Scan"} {
		var times []time.Duration
		for range runs {
			times = append(times, pass(files, mode))
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		fmt.Printf("  floor: %-22s %6.2f s (median of %d, %d cores)\n", mode, times[runs/2].Seconds(), runs, runtime.GOMAXPROCS(0))
	}
}

func pass(files []string, mode string) time.Duration {
	start := time.Now()
	ch := make(chan string)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range ch {
				b, err := os.ReadFile(p)
				if err != nil {
					continue
				}
				switch mode {
				case "C parser to protobuf":
					pgparser.ParseToProtobuf(string(b))
				case "pg_query_go.Parse":
					pg.Parse(string(b))
				case "Parse + Scan":
					pg.Parse(string(b))
					pgparser.ScanToProtobuf(string(b))
				}
			}
		}()
	}
	for _, p := range files {
		ch <- p
	}
	close(ch)
	wg.Wait()
	return time.Since(start)
}
