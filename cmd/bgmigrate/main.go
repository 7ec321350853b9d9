// Command bgmigrate makes PostgreSQL migrations safe for blue-green deploys.
package main

import (
	"os"

	"github.com/bgmigrate/bgmigrate/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
