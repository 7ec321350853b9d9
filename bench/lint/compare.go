//go:build ignore

// compare prints bgmigrate's and Squawk's findings on the same files side by
// side: totals, findings per file, syntax errors, and counts per rule.
// Usage: go run bench/lint/compare.go BGMIGRATE.json SQUAWK.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: compare BGMIGRATE.json SQUAWK.json")
		os.Exit(2)
	}
	var bg struct {
		Files []struct {
			Path     string
			Findings []struct {
				Rule       string
				Suppressed any
			}
		}
	}
	var sq []struct {
		File     string `json:"file"`
		RuleName string `json:"rule_name"`
	}
	load(os.Args[1], &bg)
	load(os.Args[2], &sq)

	bgRules, sqRules := map[string]int{}, map[string]int{}
	bgTotal, bgFilesWith := 0, 0
	for _, f := range bg.Files {
		n := 0
		for _, fd := range f.Findings {
			if fd.Suppressed == nil {
				bgRules[fd.Rule]++
				n++
			}
		}
		bgTotal += n
		if n > 0 {
			bgFilesWith++
		}
	}
	sqFiles := map[string]bool{}
	for _, fd := range sq {
		sqRules[fd.RuleName]++
		sqFiles[fd.File] = true
	}
	files := len(bg.Files)
	fmt.Printf("files linted: %d\n", files)
	fmt.Printf("%-42s %10s %10s\n", "", "bgmigrate", "squawk")
	fmt.Printf("%-42s %10d %10d\n", "findings", bgTotal, len(sq))
	fmt.Printf("%-42s %10.2f %10.2f\n", "findings per file", float64(bgTotal)/float64(files), float64(len(sq))/float64(files))
	fmt.Printf("%-42s %10d %10d\n", "files with a finding", bgFilesWith, len(sqFiles))
	fmt.Printf("%-42s %10d %10d\n", "syntax errors", bgRules["syntax-error"], sqRules["syntax-error"])
	ids := map[string]bool{}
	for id := range bgRules {
		ids[id] = true
	}
	for id := range sqRules {
		ids[id] = true
	}
	var list []string
	for id := range ids {
		list = append(list, id)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := bgRules[list[i]]+sqRules[list[i]], bgRules[list[j]]+sqRules[list[j]]
		if a != b {
			return a > b
		}
		return list[i] < list[j]
	})
	fmt.Println("\nper rule:")
	for _, id := range list {
		fmt.Printf("  %-40s %10d %10d\n", id, bgRules[id], sqRules[id])
	}
}

func load(path string, v any) {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := json.Unmarshal(data, v); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
		os.Exit(2)
	}
}
