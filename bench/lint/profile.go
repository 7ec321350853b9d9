//go:build ignore

// profile runs one bgmigrate command in-process under the CPU profiler:
//
//	go run bench/lint/profile.go -cpu cpu.out -mem mem.out -- lint --format json FILES...
//
// then: go tool pprof -top cpu.out. -mem writes the in-use heap at the
// point the run's memory peaks most often, just before the report prints
// (sampled at exit: the live trees are gone by then, so it says what
// stays).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/bgmigrate/bgmigrate/internal/cli"
)

func main() {
	cpu := flag.String("cpu", "", "write a CPU profile to this file")
	mem := flag.String("mem", "", "write a heap profile (allocations) to this file")
	flag.Parse()
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		pprof.StartCPUProfile(f)
	}
	code := cli.Main(flag.Args(), os.Stdin, io.Discard, os.Stderr)
	if *cpu != "" {
		pprof.StopCPUProfile()
	}
	if *mem != "" {
		f, err := os.Create(*mem)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		runtime.GC()
		pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
	}
	os.Exit(code)
}
