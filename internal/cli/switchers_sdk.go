//go:build !lintonly

package cli

// The switchers built on a cloud or cluster SDK. Go initializes every
// package a binary links before main runs, whether a command uses it or
// not: these SDKs' packages cost every bgmigrate process, lint included,
// about 10 ms of initialization and 20 MB of memory (GODEBUG=inittrace=1).
// A binary built with -tags lintonly leaves them out; it lints and
// deploys as the default one does, without aws-alb://, etcd:// and
// kubernetes://.
import (
	_ "github.com/bgmigrate/bgmigrate/switcher/awsalb"
	_ "github.com/bgmigrate/bgmigrate/switcher/etcd"
	_ "github.com/bgmigrate/bgmigrate/switcher/kubernetes"
)
