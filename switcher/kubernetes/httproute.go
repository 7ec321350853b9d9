package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/bgmigrate/bgmigrate/switcher"
)

// HTTPRouteResource is the Gateway API resource the HTTPRoute switcher
// reads and patches.
var HTTPRouteResource = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}

// HTTPRoute shifts traffic by setting the weights of an HTTPRoute's
// backendRefs.
type HTTPRoute struct {
	dyn dynamic.Interface
	t   Target
}

var _ switcher.Weighted = (*HTTPRoute)(nil)

// backendPair locates the blue and green backendRefs of one rule.
type backendPair struct {
	rule    int
	index   map[switcher.Color]int
	weights map[switcher.Color]int64
}

// pairs finds the rules that reference the blue and green Services.
func (r *HTTPRoute) pairs(obj *unstructured.Unstructured) ([]backendPair, error) {
	rules, _, err := unstructured.NestedSlice(obj.Object, "spec", "rules")
	if err != nil {
		return nil, fmt.Errorf("httproute %s/%s: spec.rules: %w", r.t.Namespace, r.t.Name, err)
	}
	var out []backendPair
	for i, rule := range rules {
		m, _ := rule.(map[string]any)
		refs, _, _ := unstructured.NestedSlice(m, "backendRefs")
		p := backendPair{rule: i, index: map[switcher.Color]int{}, weights: map[switcher.Color]int64{}}
		for j, ref := range refs {
			rm, _ := ref.(map[string]any)
			if !isServiceRef(rm) {
				continue
			}
			name, _ := rm["name"].(string)
			c, ok := r.t.colorOf(name)
			if !ok {
				continue
			}
			if _, dup := p.index[c]; dup {
				return nil, fmt.Errorf("httproute %s/%s: rule %d references service %q twice", r.t.Namespace, r.t.Name, i, name)
			}
			w, err := weightOf(rm)
			if err != nil {
				return nil, fmt.Errorf("httproute %s/%s: rule %d, backendRef %q: %w", r.t.Namespace, r.t.Name, i, name, err)
			}
			p.index[c], p.weights[c] = j, w
		}
		switch len(p.index) {
		case 0:
			continue
		case 1:
			for c := range p.index {
				o := c.Other()
				return nil, fmt.Errorf("%w: httproute %s/%s rule %d references the %s service %q but not the %s service %q",
					switcher.ErrNotFound, r.t.Namespace, r.t.Name, i, c, r.t.Values[c], o, r.t.Values[o])
			}
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no rule of httproute %s/%s has backendRefs to both %q and %q",
			switcher.ErrNotFound, r.t.Namespace, r.t.Name, r.t.Values[switcher.Blue], r.t.Values[switcher.Green])
	}
	return out, nil
}

// isServiceRef reports whether a backendRef points at a core Service (the
// default group and kind).
func isServiceRef(ref map[string]any) bool {
	group, _ := ref["group"].(string)
	kind, _ := ref["kind"].(string)
	return group == "" && (kind == "" || kind == "Service")
}

// weightOf reads a backendRef weight; an absent weight is 1.
func weightOf(ref map[string]any) (int64, error) {
	switch w := ref["weight"].(type) {
	case nil:
		return 1, nil
	case int64:
		return w, nil
	case int:
		return int64(w), nil
	case float64:
		if w != math.Trunc(w) {
			return 0, fmt.Errorf("weight %v is not an integer", w)
		}
		return int64(w), nil
	case json.Number:
		return w.Int64()
	default:
		return 0, fmt.Errorf("weight %v has type %T", w, w)
	}
}

func (r *HTTPRoute) read(ctx context.Context, op string) ([]backendPair, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	obj, err := r.dyn.Resource(HTTPRouteResource).Namespace(r.t.Namespace).Get(ctx, r.t.Name, metav1.GetOptions{})
	if err != nil {
		return nil, r.t.providerError(op, r.t.apiError(err))
	}
	pairs, err := r.pairs(obj)
	if err != nil {
		return nil, r.t.providerError(op, err)
	}
	return pairs, nil
}

// Weights returns the split of the first rule that references both colors.
func (r *HTTPRoute) Weights(ctx context.Context) (map[switcher.Color]int, error) {
	pairs, err := r.read(ctx, "weights")
	if err != nil {
		return nil, err
	}
	return percents(pairs[0].weights), nil
}

func percents(w map[switcher.Color]int64) map[switcher.Color]int {
	total := w[switcher.Blue] + w[switcher.Green]
	if total <= 0 {
		return map[switcher.Color]int{switcher.Blue: 0, switcher.Green: 0}
	}
	blue := int(math.Round(float64(w[switcher.Blue]) * 100 / float64(total)))
	return map[switcher.Color]int{switcher.Blue: blue, switcher.Green: 100 - blue}
}

// Active returns the color with the larger share (blue on a tie).
func (r *HTTPRoute) Active(ctx context.Context) (switcher.Color, error) {
	pairs, err := r.read(ctx, "active")
	if err != nil {
		return "", err
	}
	p := percents(pairs[0].weights)
	if p[switcher.Green] > p[switcher.Blue] {
		return switcher.Green, nil
	}
	return switcher.Blue, nil
}

// Switch sends all traffic to to.
func (r *HTTPRoute) Switch(ctx context.Context, to switcher.Color) error {
	if _, err := switcher.ParseColor(string(to)); err != nil {
		return err
	}
	return r.setWeights(ctx, "switch", to, 100)
}

// SetWeights sends percent of the traffic to color.
func (r *HTTPRoute) SetWeights(ctx context.Context, color switcher.Color, percent int) error {
	if _, err := switcher.ParseColor(string(color)); err != nil {
		return err
	}
	return r.setWeights(ctx, "weights", color, percent)
}

var errPercent = errors.New("percent must be between 0 and 100")

type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

func (r *HTTPRoute) setWeights(ctx context.Context, op string, color switcher.Color, percent int) error {
	if percent < 0 || percent > 100 {
		return r.t.providerError(op, fmt.Errorf("%w (got %d)", errPercent, percent))
	}
	want := map[switcher.Color]int64{color: int64(percent), color.Other(): int64(100 - percent)}
	pairs, err := r.read(ctx, op)
	if err != nil {
		return err
	}
	if sameWeights(pairs, want) {
		return nil
	}
	var patch []jsonPatchOp
	for _, p := range pairs {
		for _, c := range []switcher.Color{switcher.Blue, switcher.Green} {
			path := fmt.Sprintf("/spec/rules/%d/backendRefs/%d", p.rule, p.index[c])
			// test pins the index to the Service read above, so a
			// concurrent edit fails the patch instead of moving weights
			// onto the wrong backend.
			patch = append(patch,
				jsonPatchOp{Op: "test", Path: path + "/name", Value: r.t.Values[c]},
				jsonPatchOp{Op: "add", Path: path + "/weight", Value: want[c]})
		}
	}
	body, err := json.Marshal(patch)
	if err != nil {
		return r.t.providerError(op, err)
	}
	obj, err := r.dyn.Resource(HTTPRouteResource).Namespace(r.t.Namespace).Patch(ctx, r.t.Name, types.JSONPatchType, body, metav1.PatchOptions{FieldManager: "bgmigrate"})
	if err != nil {
		return r.t.providerError(op, r.t.apiError(err))
	}
	got, err := r.pairs(obj)
	if err != nil {
		return r.t.providerError(op, err)
	}
	if !sameWeights(got, want) {
		return r.t.providerError(op, fmt.Errorf("patched the weights to blue=%d green=%d but the API server returned %v",
			want[switcher.Blue], want[switcher.Green], got[0].weights))
	}
	return nil
}

func sameWeights(pairs []backendPair, want map[switcher.Color]int64) bool {
	for _, p := range pairs {
		if p.weights[switcher.Blue] != want[switcher.Blue] || p.weights[switcher.Green] != want[switcher.Green] {
			return false
		}
	}
	return true
}

// Close does nothing: the dynamic client holds no connection of its own.
func (r *HTTPRoute) Close() error { return nil }
