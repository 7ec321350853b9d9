package switcher_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"testing"

	"github.com/bgmigrate/bgmigrate/switcher"
	"github.com/bgmigrate/bgmigrate/switcher/memswitch"
)

func TestRegisterTwicePanics(t *testing.T) {
	open := func(context.Context, *url.URL) (switcher.Switcher, error) { return memswitch.New(switcher.Blue), nil }
	switcher.Register("test-twice", open)
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("second Register of the same scheme did not panic")
		}
		if s, _ := r.(string); s == "" {
			t.Fatalf("panic value = %v, want a message", r)
		}
	}()
	switcher.Register("test-twice", open)
}

func TestOpenRegistered(t *testing.T) {
	var got *url.URL
	switcher.Register("test-open", func(_ context.Context, u *url.URL) (switcher.Switcher, error) {
		got = u
		return memswitch.New(switcher.Green), nil
	})
	if !slices.Contains(switcher.Schemes(), "test-open") {
		t.Fatalf("Schemes() = %v, want test-open in it", switcher.Schemes())
	}
	s, err := switcher.Open(context.Background(), "test-open:///x/y?a=b")
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Path != "/x/y" || got.Query().Get("a") != "b" {
		t.Fatalf("opener got URL %v", got)
	}
	if c, err := s.Active(context.Background()); err != nil || c != switcher.Green {
		t.Fatalf("Active = %q, %v", c, err)
	}
}

func TestOpenUnknownScheme(t *testing.T) {
	_, err := switcher.Open(context.Background(), "nosuchscheme:///x")
	var use *switcher.UnknownSchemeError
	if !errors.As(err, &use) {
		t.Fatalf("Open = %v, want *switcher.UnknownSchemeError", err)
	}
	if use.Scheme != "nosuchscheme" {
		t.Errorf("Scheme = %q", use.Scheme)
	}
	if !slices.Contains(use.Known, "mem") {
		t.Errorf("Known = %v, want mem in it", use.Known)
	}
}

func TestOpenBadURL(t *testing.T) {
	if _, err := switcher.Open(context.Background(), "mem://%zz"); err == nil {
		t.Fatal("Open of an unparsable URL succeeded")
	}
}

func TestParseColor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want switcher.Color
		ok   bool
	}{
		{"blue", switcher.Blue, true},
		{"green", switcher.Green, true},
		{"", "", false},
		{"Blue", "", false},
		{" green", "", false},
		{"red", "", false},
	} {
		got, err := switcher.ParseColor(tc.in)
		if tc.ok {
			if err != nil || got != tc.want {
				t.Errorf("ParseColor(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		var ice *switcher.InvalidColorError
		if !errors.As(err, &ice) || ice.Color != tc.in {
			t.Errorf("ParseColor(%q) = %q, %v; want *InvalidColorError{%q}", tc.in, got, err, tc.in)
		}
	}
}

func TestOther(t *testing.T) {
	t.Parallel()
	if switcher.Blue.Other() != switcher.Green || switcher.Green.Other() != switcher.Blue {
		t.Fatal("Other does not swap blue and green")
	}
}

func TestProviderErrorUnwraps(t *testing.T) {
	t.Parallel()
	err := error(&switcher.ProviderError{Provider: "x", Op: "switch", Target: "/sock", Err: switcher.ErrNotFound})
	if !errors.Is(err, switcher.ErrNotFound) {
		t.Fatal("ProviderError does not unwrap to its Err")
	}
	if got := err.Error(); got != "x switch (/sock): not found" {
		t.Fatalf("Error() = %q", got)
	}
}
