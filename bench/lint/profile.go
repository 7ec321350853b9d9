//go:build ignore

// profile runs one bgmigrate command in-process under the CPU profiler:
//
//	go run bench/lint/profile.go -cpu cpu.out -mem mem.out -- lint --format json FILES...
//
// then: go tool pprof -top cpu.out. -mem writes the heap profile taken
// when the live heap was largest (sampled every 200 ms): go tool pprof
// -sample_index=inuse_space -top mem.out says what held the memory.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"time"

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
	var peak bytes.Buffer
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		if *mem == "" {
			return
		}
		var most uint64
		for {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
			live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			metrics.Read(live)
			if v := live[0].Value.Uint64(); v > most {
				most = v
				fmt.Fprintf(os.Stderr, "profile: live heap %d MB\n", v>>20)
				peak.Reset()
				pprof.Lookup("heap").WriteTo(&peak, 0)
			}
		}
	}()
	code := cli.Main(flag.Args(), os.Stdin, io.Discard, os.Stderr)
	close(done)
	<-sampled
	if *cpu != "" {
		pprof.StopCPUProfile()
	}
	if *mem != "" {
		if err := os.WriteFile(*mem, peak.Bytes(), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	os.Exit(code)
}
