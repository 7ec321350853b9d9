package memswitch_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/bgmigrate/bgmigrate/switcher"
	_ "github.com/bgmigrate/bgmigrate/switcher/memswitch"
	"github.com/bgmigrate/bgmigrate/switcher/switchertest"
)

var n atomic.Int64

func TestConformance(t *testing.T) {
	switchertest.Run(t, switchertest.Harness{
		Name: "mem",
		Open: func(t *testing.T) switchertest.Instance {
			s, err := switcher.Open(context.Background(), fmt.Sprintf("mem://conformance-%d", n.Add(1)))
			if err != nil {
				t.Fatal(err)
			}
			return switchertest.Instance{Switcher: s}
		},
	})
}

func TestSharedByName(t *testing.T) {
	ctx := context.Background()
	a, err := switcher.Open(ctx, "mem://shared-by-name?active=green")
	if err != nil {
		t.Fatal(err)
	}
	b, err := switcher.Open(ctx, "mem://shared-by-name")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := b.Active(ctx); err != nil || c != switcher.Green {
		t.Fatalf("Active = %q, %v; want green from ?active=green", c, err)
	}
	if err := a.Switch(ctx, switcher.Blue); err != nil {
		t.Fatal(err)
	}
	if c, err := b.Active(ctx); err != nil || c != switcher.Blue {
		t.Fatalf("Active through the other switcher = %q, %v; want blue", c, err)
	}
}

func TestOpenInvalidActive(t *testing.T) {
	_, err := switcher.Open(context.Background(), "mem://invalid-active?active=purple")
	var ice *switcher.InvalidColorError
	if !errors.As(err, &ice) {
		t.Fatalf("Open(?active=purple) = %v, want *switcher.InvalidColorError", err)
	}
}
