package kubernetes_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/bgmigrate/bgmigrate/switcher"
	k8sswitch "github.com/bgmigrate/bgmigrate/switcher/kubernetes"
	"github.com/bgmigrate/bgmigrate/switcher/switchertest"
)

const ns = "shop"

func service(name string, selector map[string]string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Selector: selector,
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
}

func serviceTarget(name string) k8sswitch.Target {
	return k8sswitch.Target{
		Namespace: ns, Kind: k8sswitch.KindService, Name: name, Label: "color",
		Values: map[switcher.Color]string{switcher.Blue: "blue", switcher.Green: "green"},
	}
}

func routeTarget(name string) k8sswitch.Target {
	return k8sswitch.Target{
		Namespace: ns, Kind: k8sswitch.KindHTTPRoute, Name: name,
		Values: map[switcher.Color]string{switcher.Blue: "app-blue", switcher.Green: "app-green"},
	}
}

func backendRef(name string, weight any) map[string]any {
	ref := map[string]any{"name": name, "port": int64(80)}
	if weight != nil {
		ref["weight"] = weight
	}
	return ref
}

// httpRoute builds a route with the given rules, each a list of backendRefs.
func httpRoute(name string, rules ...[]any) *unstructured.Unstructured {
	rs := make([]any, len(rules))
	for i, refs := range rules {
		rs[i] = map[string]any{
			"matches":     []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": fmt.Sprintf("/r%d", i)}}},
			"backendRefs": refs,
		}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1",
		"kind":       "HTTPRoute",
		"metadata":   map[string]any{"namespace": ns, "name": name},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "gw"}},
			"rules":      rs,
		},
	}}
}

// newDynamic returns a fake cluster holding objs. Its scheme knows the
// core and discovery types, so the tracker keeps Services, Pods and
// EndpointSlices typed: the dynamic client receives them converted to
// unstructured objects, and a strategic merge patch applies to a Service
// as the API server applies it. HTTPRoutes stay unstructured.
func newDynamic(objs ...runtime.Object) *dynfake.FakeDynamicClient {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, discoveryv1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return dynfake.NewSimpleDynamicClientWithCustomListKinds(scheme,
		map[schema.GroupVersionResource]string{k8sswitch.HTTPRouteResource: "HTTPRouteList"}, objs...)
}

func mustNew(t *testing.T, dyn *dynfake.FakeDynamicClient, target k8sswitch.Target) switcher.Switcher {
	t.Helper()
	s, err := k8sswitch.New(dyn, target)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestConformanceServiceWithDynamicFake(t *testing.T) {
	t.Parallel()
	switchertest.Run(t, switchertest.Harness{
		Name: "kubernetes-service",
		Open: func(t *testing.T) switchertest.Instance {
			dyn := newDynamic(service("web", map[string]string{"app": "web", "color": "blue"}))
			return switchertest.Instance{Switcher: mustNew(t, dyn, serviceTarget("web"))}
		},
	})
}

func TestConformanceServiceWaitEndpointsWithDynamicFake(t *testing.T) {
	t.Parallel()
	switchertest.Run(t, switchertest.Harness{
		Name: "kubernetes-service-wait-endpoints",
		Open: func(t *testing.T) switchertest.Instance {
			dyn, _ := clusterWithPods(t, 2)
			target := serviceTarget("web")
			target.WaitEndpoints, target.PollInterval, target.WaitTimeout = true, time.Millisecond, 10*time.Second
			return switchertest.Instance{Switcher: mustNew(t, dyn, target)}
		},
	})
}

func TestConformanceHTTPRouteWithDynamicFake(t *testing.T) {
	t.Parallel()
	switchertest.Run(t, switchertest.Harness{
		Name: "kubernetes-httproute",
		Open: func(t *testing.T) switchertest.Instance {
			dyn := newDynamic(httpRoute("web",
				[]any{backendRef("app-blue", int64(100)), backendRef("app-green", int64(0))},
				[]any{backendRef("app-green", int64(0)), backendRef("app-blue", nil)},
				[]any{backendRef("other", nil)},
			))
			// The second rule's blue weight is 1 (absent), so it starts at 100/0 too.
			return switchertest.Instance{Switcher: mustNew(t, dyn, routeTarget("web"))}
		},
	})
}

func TestOpenRegistersBothSchemes(t *testing.T) {
	t.Parallel()
	schemes := strings.Join(switcher.Schemes(), " ")
	for _, s := range []string{"kubernetes", "k8s"} {
		if !strings.Contains(" "+schemes+" ", " "+s+" ") {
			t.Errorf("scheme %q not registered (have %s)", s, schemes)
		}
	}
}

func TestMissingServiceIsNotFound(t *testing.T) {
	t.Parallel()
	s := mustNew(t, newDynamic(service("other", map[string]string{"color": "blue"})), serviceTarget("web"))
	ctx := context.Background()
	_, activeErr := s.Active(ctx)
	switchErr := s.Switch(ctx, switcher.Green)
	for op, err := range map[string]error{"active": activeErr, "switch": switchErr} {
		var pe *switcher.ProviderError
		if !errors.As(err, &pe) {
			t.Fatalf("%s on a missing service = %v, want *switcher.ProviderError", op, err)
		}
		if !errors.Is(err, switcher.ErrNotFound) {
			t.Errorf("%s: %v does not wrap switcher.ErrNotFound", op, err)
		}
		if pe.Provider != "kubernetes" || pe.Op != op {
			t.Errorf("%s: ProviderError{Provider: %q, Op: %q}", op, pe.Provider, pe.Op)
		}
		if !strings.Contains(err.Error(), ns+"/web") {
			t.Errorf("%s: %q does not name %s/web", op, err, ns)
		}
	}
}

func TestServiceSelectorErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		selector map[string]string
		notFound bool
		want     string
	}{
		{"no color key", map[string]string{"app": "web"}, true, `no "color" key`},
		{"unknown value", map[string]string{"app": "web", "color": "purple"}, false, `names neither blue`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := mustNew(t, newDynamic(service("web", tc.selector)), serviceTarget("web"))
			_, err := s.Active(context.Background())
			var pe *switcher.ProviderError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Active = %v, want a ProviderError containing %q", err, tc.want)
			}
			if errors.Is(err, switcher.ErrNotFound) != tc.notFound {
				t.Errorf("errors.Is(%v, ErrNotFound) = %v, want %v", err, !tc.notFound, tc.notFound)
			}
		})
	}
}

func TestServiceSwitchKeepsOtherSelectorKeys(t *testing.T) {
	t.Parallel()
	dyn := newDynamic(service("web", map[string]string{"app": "web", "tier": "front", "release": "v1"}))
	target := serviceTarget("web")
	target.Label = "release"
	target.Values = map[switcher.Color]string{switcher.Blue: "v1", switcher.Green: "v2"}
	s := mustNew(t, dyn, target)
	ctx := context.Background()
	if err := s.Switch(ctx, switcher.Green); err != nil {
		t.Fatal(err)
	}
	svc, err := dyn.Resource(servicesGVR).Namespace(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	selector, _, err := unstructured.NestedStringMap(svc.Object, "spec", "selector")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"app": "web", "tier": "front", "release": "v2"}
	if !labels.Equals(selector, want) {
		t.Errorf("selector = %v, want %v", selector, want)
	}
	var patches []string
	for _, a := range dyn.Actions() {
		if p, ok := a.(k8stesting.PatchAction); ok {
			patches = append(patches, string(p.GetPatchType())+" "+string(p.GetPatch()))
		}
	}
	if len(patches) != 1 || patches[0] != `application/strategic-merge-patch+json {"spec":{"selector":{"release":"v2"}}}` {
		t.Errorf("patches = %q, want one strategic merge patch of the release key", patches)
	}
}

// clusterWithPods returns a fake cluster with Service web (selector
// app=web,color=blue), n ready Pods of each color and an endpoint
// controller that lags: it brings the EndpointSlice in line with the
// selector only on the third EndpointSlice list after a change.
func clusterWithPods(t *testing.T, n int) (*dynfake.FakeDynamicClient, *endpointController) {
	t.Helper()
	objs := []runtime.Object{service("web", map[string]string{"app": "web", "color": "blue"})}
	for _, c := range []string{"blue", "green"} {
		for i := range n {
			objs = append(objs, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
				Namespace: ns, Name: fmt.Sprintf("web-%s-%d", c, i), Labels: map[string]string{"app": "web", "color": c},
			}})
		}
	}
	dyn := newDynamic(objs...)
	ec := &endpointController{client: dyn, lag: 3}
	if err := ec.sync(); err != nil {
		t.Fatal(err)
	}
	dyn.PrependReactor("list", "endpointslices", ec.react)
	return dyn, ec
}

var (
	servicesGVR = corev1.SchemeGroupVersion.WithResource("services")
	podsGVR     = corev1.SchemeGroupVersion.WithResource("pods")
	podsGVK     = corev1.SchemeGroupVersion.WithKind("Pod")
	slicesGVR   = discoveryv1.SchemeGroupVersion.WithResource("endpointslices")
)

// endpointController stands in for the EndpointSlice controller of a real
// cluster, reading and writing the fake's tracker from a reactor.
type endpointController struct {
	client  *dynfake.FakeDynamicClient
	lag     int
	mu      sync.Mutex
	synced  string // selector the slice reflects
	pending int    // lists seen since the selector changed
	lists   int
}

func (ec *endpointController) react(k8stesting.Action) (bool, runtime.Object, error) {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	ec.lists++
	sel, err := ec.selector()
	if err != nil || sel == ec.synced {
		return false, nil, err
	}
	ec.pending++
	if ec.pending >= ec.lag {
		return false, nil, ec.syncLocked()
	}
	return false, nil, nil
}

func (ec *endpointController) selector() (string, error) {
	obj, err := ec.client.Tracker().Get(servicesGVR, ns, "web")
	if err != nil {
		return "", err
	}
	return labels.SelectorFromSet(obj.(*corev1.Service).Spec.Selector).String(), nil
}

func (ec *endpointController) sync() error {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	return ec.syncLocked()
}

func (ec *endpointController) syncLocked() error {
	sel, err := ec.selector()
	if err != nil {
		return err
	}
	parsed, err := labels.Parse(sel)
	if err != nil {
		return err
	}
	list, err := ec.client.Tracker().List(podsGVR, podsGVK, ns)
	if err != nil {
		return err
	}
	ready := true
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: "web-abcde", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	for i, p := range list.(*corev1.PodList).Items {
		if !parsed.Matches(labels.Set(p.Labels)) {
			continue
		}
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{fmt.Sprintf("10.0.0.%d", i+1)},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: p.Name},
		})
	}
	if ec.synced == "" {
		err = ec.client.Tracker().Add(slice)
	} else {
		err = ec.client.Tracker().Update(slicesGVR, slice, ns)
	}
	ec.synced, ec.pending = sel, 0
	return err
}

func slicePods(t *testing.T, client *dynfake.FakeDynamicClient) []string {
	t.Helper()
	obj, err := client.Tracker().Get(slicesGVR, ns, "web-abcde")
	if err != nil {
		t.Fatal(err)
	}
	var pods []string
	for _, ep := range obj.(*discoveryv1.EndpointSlice).Endpoints {
		pods = append(pods, ep.TargetRef.Name)
	}
	return pods
}

func TestServiceWaitEndpoints(t *testing.T) {
	t.Parallel()
	client, ec := clusterWithPods(t, 2)
	target := serviceTarget("web")
	target.WaitEndpoints, target.PollInterval, target.WaitTimeout = true, time.Millisecond, 10*time.Second
	s := mustNew(t, client, target)
	if err := s.Switch(context.Background(), switcher.Green); err != nil {
		t.Fatal(err)
	}
	// Switch must have returned only after the lagging controller caught up.
	if got := strings.Join(slicePods(t, client), ","); got != "web-green-0,web-green-1" {
		t.Errorf("endpoints when Switch returned = %s, want the green pods", got)
	}
	ec.mu.Lock()
	lists := ec.lists
	ec.mu.Unlock()
	if lists < ec.lag {
		t.Errorf("Switch listed EndpointSlices %d times, want at least %d (it did not wait)", lists, ec.lag)
	}
}

func TestServiceWaitEndpointsTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(*dynfake.FakeDynamicClient, *endpointController)
		why   string
	}{
		{"controller never catches up", func(_ *dynfake.FakeDynamicClient, ec *endpointController) { ec.lag = 1 << 30 }, "ready endpoints outside the new selector"},
		{"no green pods", func(c *dynfake.FakeDynamicClient, _ *endpointController) {
			for i := range 2 {
				if err := c.Tracker().Delete(podsGVR, ns, fmt.Sprintf("web-green-%d", i)); err != nil {
					panic(err)
				}
			}
		}, "no ready endpoint among 0 matching pods"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client, ec := clusterWithPods(t, 2)
			tc.setup(client, ec)
			target := serviceTarget("web")
			target.WaitEndpoints, target.PollInterval, target.WaitTimeout = true, time.Millisecond, 50*time.Millisecond
			s := mustNew(t, client, target)
			err := s.Switch(context.Background(), switcher.Green)
			var pe *switcher.ProviderError
			if !errors.As(err, &pe) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("Switch = %v, want a ProviderError wrapping context.DeadlineExceeded saying %q", err, tc.why)
			}
			// The selector did change: the error says so and Active agrees.
			if !strings.Contains(err.Error(), "selector now names green") {
				t.Errorf("%q does not say the selector changed", err)
			}
			if c, err := s.Active(context.Background()); err != nil || c != switcher.Green {
				t.Errorf("Active after a failed wait = %q, %v; want green", c, err)
			}
		})
	}
}

func TestHTTPRouteWeightsPatchOnlyBlueAndGreen(t *testing.T) {
	t.Parallel()
	dyn := newDynamic(httpRoute("web",
		[]any{backendRef("app-blue", int64(100)), backendRef("canary", int64(7)), backendRef("app-green", int64(0))},
		[]any{backendRef("other", int64(3))},
	))
	s := mustNew(t, dyn, routeTarget("web")).(switcher.Weighted)
	ctx := context.Background()
	if err := s.SetWeights(ctx, switcher.Green, 30); err != nil {
		t.Fatal(err)
	}
	obj, err := dyn.Resource(k8sswitch.HTTPRouteResource).Namespace(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rules, _, _ := unstructured.NestedSlice(obj.Object, "spec", "rules")
	var got []string
	for _, r := range rules {
		refs, _, _ := unstructured.NestedSlice(r.(map[string]any), "backendRefs")
		for _, ref := range refs {
			m := ref.(map[string]any)
			got = append(got, fmt.Sprintf("%s=%v", m["name"], m["weight"]))
		}
	}
	if want := "app-blue=70 canary=7 app-green=30 other=3"; strings.Join(got, " ") != want {
		t.Errorf("backendRefs = %s, want %s", strings.Join(got, " "), want)
	}
	var patchTypes []string
	for _, a := range dyn.Actions() {
		if p, ok := a.(k8stesting.PatchAction); ok {
			patchTypes = append(patchTypes, string(p.GetPatchType()))
		}
	}
	if len(patchTypes) != 1 || patchTypes[0] != "application/json-patch+json" {
		t.Errorf("patches = %v, want one JSON patch", patchTypes)
	}
}

func TestHTTPRouteErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		objs     []runtime.Object
		notFound bool
		want     string
	}{
		{"missing route", nil, true, "httproute shop/web"},
		{"no rule with both", []runtime.Object{httpRoute("web", []any{backendRef("other", nil)})}, true, `to both "app-blue" and "app-green"`},
		{"rule with blue only", []runtime.Object{httpRoute("web", []any{backendRef("app-blue", nil)})}, true, `but not the green service "app-green"`},
		{"bad weight", []runtime.Object{httpRoute("web", []any{backendRef("app-blue", "heavy"), backendRef("app-green", nil)})}, false, "has type string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := mustNew(t, newDynamic(tc.objs...), routeTarget("web")).(switcher.Weighted)
			_, err := s.Weights(context.Background())
			var pe *switcher.ProviderError
			if !errors.As(err, &pe) || pe.Op != "weights" || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Weights = %v, want a ProviderError containing %q", err, tc.want)
			}
			if errors.Is(err, switcher.ErrNotFound) != tc.notFound {
				t.Errorf("errors.Is(%v, ErrNotFound) = %v, want %v", err, !tc.notFound, tc.notFound)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		want string // Target as kind ns/name label blue green wait, or "error: substring"
	}{
		{"kubernetes://shop/web", "service shop/web color blue green false"},
		{"k8s://shop/web?label=track&blue=v1&green=v2&wait=endpoints&timeout=30s", "service shop/web track v1 v2 true"},
		{"kubernetes://shop/service/web", "service shop/web color blue green false"},
		{"kubernetes://shop/httproute/web?blue=app-blue&green=app-green&kubeconfig=/tmp/kc&context=dev", "httproute shop/web color app-blue app-green false"},
		{"kubernetes:///web", "error: missing namespace"},
		{"kubernetes://Shop/web", "error: namespace"},
		{"kubernetes://shop/", "error: path"},
		{"kubernetes://shop/deployment/web", "error: path"},
		{"kubernetes://shop/httproute/web?blue=app-blue", "error: missing green="},
		{"kubernetes://shop/httproute/web?blue=a&green=b&wait=endpoints", "error: wait= applies to Services only"},
		{"kubernetes://shop/web?blue=x&green=x", `error: blue and green are both "x"`},
		{"kubernetes://shop/web?wait=pods", "error: wait="},
		{"kubernetes://shop/web?timeout=-1s", "error: timeout="},
		{"kubernetes://shop/web?colour=x", `error: unknown parameter "colour"`},
		{"kubernetes://shop/web?label=a/b/c", "error: label"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			target, err := k8sswitch.ParseTarget(u)
			var got string
			if err != nil {
				got = "error: " + err.Error()
				if want := strings.TrimPrefix(tc.want, "error: "); !strings.HasPrefix(tc.want, "error: ") || !strings.Contains(got, want) {
					t.Fatalf("ParseTarget = %s, want %s", got, tc.want)
				}
				return
			}
			got = fmt.Sprintf("%s %s/%s %s %s %s %v", target.Kind, target.Namespace, target.Name, target.Label,
				target.Values[switcher.Blue], target.Values[switcher.Green], target.WaitEndpoints)
			if got != tc.want {
				t.Errorf("ParseTarget = %s, want %s", got, tc.want)
			}
		})
	}
}
