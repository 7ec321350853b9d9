package twocolor

import (
	"slices"
	"testing"
)

func TestDiffModuloRename(t *testing.T) {
	t.Parallel()
	want := []string{
		"column orders id bigint NOT NULL",
		"column orders qty bigint NOT NULL DEFAULT 0",
		"index orders CREATE INDEX orders_qty_idx ON public.orders USING btree (qty)",
		"table orders",
	}
	got := rename([]string{
		"column orders id bigint NOT NULL",
		"column orders qty_new bigint NOT NULL DEFAULT 0",
		"constraint orders orders_qty_new_not_null CHECK ((qty_new IS NOT NULL)) NOT VALID",
		"index orders CREATE INDEX orders_qty_idx ON public.orders USING btree (qty_new)",
		"table orders",
		"column other qty_new integer",
	}, map[string]string{"orders.qty_new": "qty"})
	d := diff(want, got)
	wantDiff := []string{
		"+ column other qty_new integer   (this run only)",
		"+ constraint orders orders_qty_new_not_null CHECK ((qty IS NOT NULL)) NOT VALID   (this run only)",
	}
	if !slices.Equal(d, wantDiff) {
		t.Errorf("diff =\n%q\nwant\n%q", d, wantDiff)
	}
	if d := diff(want, want); len(d) != 0 {
		t.Errorf("diff of a catalog with itself: %q", d)
	}
}
