// Command bgmigrate-devdb starts the throwaway PostgreSQL container of a
// docker:// dev URL for bgmigrate (see internal/devdb).
package main

import (
	"os"

	"github.com/bgmigrate/bgmigrate/internal/devdb"
)

func main() { os.Exit(devdb.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
