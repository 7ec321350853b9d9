package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/bgmigrate/bgmigrate/switcher"
)

// The resources the Service switcher reads and patches, as unstructured
// objects through the dynamic client (see the package doc for why).
var (
	serviceResource       = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	podResource           = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	endpointSliceResource = schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}
)

// labelServiceName is the label an EndpointSlice carries naming its
// Service (discovery.k8s.io/v1 LabelServiceName).
const labelServiceName = "kubernetes.io/service-name"

// Service switches a Service by rewriting one key of its selector.
type Service struct {
	dyn dynamic.Interface
	t   Target
}

var _ switcher.Switcher = (*Service)(nil)

// Active reads the color from the Service's selector.
func (s *Service) Active(ctx context.Context) (switcher.Color, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	svc, err := s.dyn.Resource(serviceResource).Namespace(s.t.Namespace).Get(ctx, s.t.Name, metav1.GetOptions{})
	if err != nil {
		return "", s.t.providerError("active", s.t.apiError(err))
	}
	return s.colorOf(svc)
}

func (s *Service) colorOf(svc *unstructured.Unstructured) (switcher.Color, error) {
	selector, err := s.selector(svc)
	if err != nil {
		return "", s.t.providerError("active", err)
	}
	value, ok := selector[s.t.Label]
	if !ok {
		return "", s.t.providerError("active", fmt.Errorf("%w: selector of service %s/%s has no %q key", switcher.ErrNotFound, s.t.Namespace, s.t.Name, s.t.Label))
	}
	c, ok := s.t.colorOf(value)
	if !ok {
		return "", s.t.providerError("active", fmt.Errorf("selector %s=%q of service %s/%s names neither blue (%q) nor green (%q)",
			s.t.Label, value, s.t.Namespace, s.t.Name, s.t.Values[switcher.Blue], s.t.Values[switcher.Green]))
	}
	return c, nil
}

// selector returns spec.selector of svc; an absent or null selector is
// empty, as it decodes into a typed Service.
func (s *Service) selector(svc *unstructured.Unstructured) (map[string]string, error) {
	if v, _, _ := unstructured.NestedFieldNoCopy(svc.Object, "spec", "selector"); v == nil {
		return nil, nil
	}
	selector, _, err := unstructured.NestedStringMap(svc.Object, "spec", "selector")
	if err != nil {
		return nil, fmt.Errorf("service %s/%s: spec.selector: %w", s.t.Namespace, s.t.Name, err)
	}
	return selector, nil
}

// Switch points the selector at to and, with wait=endpoints, waits until
// the EndpointSlices follow.
func (s *Service) Switch(ctx context.Context, to switcher.Color) error {
	if _, err := switcher.ParseColor(string(to)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	current, err := s.Active(ctx)
	if err != nil {
		var pe *switcher.ProviderError
		if errors.As(err, &pe) {
			pe.Op = "switch"
		}
		return err
	}
	if current == to {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"selector": map[string]string{s.t.Label: s.t.Values[to]}}})
	if err != nil {
		return s.t.providerError("switch", err)
	}
	svc, err := s.dyn.Resource(serviceResource).Namespace(s.t.Namespace).Patch(ctx, s.t.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{FieldManager: "bgmigrate"})
	if err != nil {
		return s.t.providerError("switch", s.t.apiError(err))
	}
	selector, err := s.selector(svc)
	if err != nil {
		return s.t.providerError("switch", err)
	}
	if got := selector[s.t.Label]; got != s.t.Values[to] {
		return s.t.providerError("switch", fmt.Errorf("patched selector %s=%q but the API server returned %q", s.t.Label, s.t.Values[to], got))
	}
	if !s.t.WaitEndpoints {
		return nil
	}
	return s.waitEndpoints(ctx, to, selector)
}

// waitEndpoints polls until the Service's EndpointSlices list ready
// endpoints and only ones whose Pods match selector.
func (s *Service) waitEndpoints(ctx context.Context, to switcher.Color, selector map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, s.t.WaitTimeout)
	defer cancel()
	tick := time.NewTicker(s.t.PollInterval)
	defer tick.Stop()
	for {
		why, err := s.endpointsPending(ctx, selector)
		if err != nil {
			if ctx.Err() == nil {
				return s.t.providerError("switch", fmt.Errorf("selector now names %s; reading endpoints: %w", to, s.t.apiError(err)))
			}
			why = err.Error()
		}
		if why == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return s.t.providerError("switch", fmt.Errorf("selector now names %s but its endpoints are not ready after %s (%s): %w", to, s.t.WaitTimeout, why, ctx.Err()))
		case <-tick.C:
		}
	}
}

// endpointsPending returns why the endpoints do not yet follow selector,
// or "" once they do.
func (s *Service) endpointsPending(ctx context.Context, selector map[string]string) (string, error) {
	want, err := s.pods(ctx, selector)
	if err != nil {
		return "", err
	}
	eps, _, err := s.endpoints(ctx)
	if err != nil {
		return "", err
	}
	ready, stale := 0, 0
	for _, ep := range eps {
		if !ep.ready {
			continue
		}
		if _, matches := want[ep.pod]; matches && ep.pod != "" {
			ready++
		} else {
			stale++
		}
	}
	switch {
	case stale > 0:
		return fmt.Sprintf("%d ready endpoints outside the new selector", stale), nil
	case ready == 0:
		return fmt.Sprintf("no ready endpoint among %d matching pods", len(want)), nil
	}
	return "", nil
}

// pods lists the Pods selector matches, by name, each with whether it is
// terminating: deleted (deletionTimestamp set) and not yet gone, its
// containers not all exited (phase neither Succeeded nor Failed).
func (s *Service) pods(ctx context.Context, selector map[string]string) (map[string]bool, error) {
	pods, err := s.dyn.Resource(podResource).Namespace(s.t.Namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(selector).String()})
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(pods.Items))
	for _, p := range pods.Items {
		phase, _, _ := unstructured.NestedString(p.Object, "status", "phase")
		out[p.GetName()] = p.GetDeletionTimestamp() != nil && phase != "Succeeded" && phase != "Failed"
	}
	return out, nil
}

// endpoint is one endpoint of the Service's EndpointSlices.
type endpoint struct {
	pod string // the Pod its targetRef names; "" when it names no Pod
	// The conditions, an absent one read as the discovery.k8s.io/v1 API
	// says: ready unknown is ready, serving unknown is as ready.
	ready, serving bool
}

// endpoints reads the endpoints of the Service's EndpointSlices and how
// many slices hold them.
func (s *Service) endpoints(ctx context.Context) ([]endpoint, int, error) {
	slices, err := s.dyn.Resource(endpointSliceResource).Namespace(s.t.Namespace).List(ctx, metav1.ListOptions{LabelSelector: labelServiceName + "=" + s.t.Name})
	if err != nil {
		return nil, 0, err
	}
	var out []endpoint
	for _, sl := range slices.Items {
		// endpoints has no omitempty: a slice without endpoints holds null.
		eps, ok := sl.Object["endpoints"].([]any)
		if !ok && sl.Object["endpoints"] != nil {
			return nil, 0, fmt.Errorf("endpointslice %s/%s: endpoints is of the type %T, expected a list", sl.GetNamespace(), sl.GetName(), sl.Object["endpoints"])
		}
		for _, e := range eps {
			m, _ := e.(map[string]any)
			ep := endpoint{ready: true}
			if r, found, _ := unstructured.NestedBool(m, "conditions", "ready"); found {
				ep.ready = r
			}
			ep.serving = ep.ready
			if r, found, _ := unstructured.NestedBool(m, "conditions", "serving"); found {
				ep.serving = r
			}
			if kind, _, _ := unstructured.NestedString(m, "targetRef", "kind"); kind == "Pod" {
				ep.pod, _, _ = unstructured.NestedString(m, "targetRef", "name")
			}
			out = append(out, ep)
		}
	}
	return out, len(slices.Items), nil
}

// Close does nothing: the dynamic client holds no connection of its own.
func (s *Service) Close() error { return nil }

// apiError marks a missing object with switcher.ErrNotFound and a request
// RBAC refused with fs.ErrPermission ("permission denied"), naming the
// rules the package doc lists.
func (t Target) apiError(err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%w: %s %s/%s (%w)", switcher.ErrNotFound, t.Kind, t.Namespace, t.Name, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w (%w); the %s switcher needs %s", fs.ErrPermission, err, t.Kind, t.rbac())
	}
	return err
}

// rbac names the RBAC rules the switcher of t needs (see the package doc).
func (t Target) rbac() string {
	if t.Kind == KindHTTPRoute {
		return "get, patch on httproutes.gateway.networking.k8s.io"
	}
	return "get, patch on services (and list on pods and endpointslices.discovery.k8s.io for wait=endpoints and in-flight counts)"
}
