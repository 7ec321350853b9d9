//go:build ignore

// floor measures what pg_query_go alone costs on a list of files (one path
// per line on stdin), on all cores: reading the files, PostgreSQL's parser
// to protobuf bytes, pg_query_go.Parse (the parser plus the protobuf
// unmarshal into its Go AST), and Parse plus Scan. No conversion, rule or
// report runs, so these are the floors under any linter built on it.
//
// "floor -once MODE LIST" runs one pass of MODE over the files listed in
// LIST and prints its time: timed from outside, as a whole process, it is
// the floor under bgmigrate's wall time, start-up included.
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
	in := os.Stdin
	if len(os.Args) == 4 && os.Args[1] == "-once" {
		f, err := os.Open(os.Args[3])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		in = f
	}
	var files []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		files = append(files, sc.Text())
	}
	if in != os.Stdin {
		fmt.Printf("%s: %.3f s\n", os.Args[2], pass(files, os.Args[2]).Seconds())
		return
	}
	runs := 5
	for _, mode := range []string{"read the files", "C scanner to protobuf", "C parser to protobuf", "C parser to JSON", "pg_query_go.Parse", "Parse + Scan"} {
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
				case "C parser to JSON":
					pgparser.ParseToJSON(string(b))
				case "C scanner to protobuf":
					pgparser.ScanToProtobuf(string(b))
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
