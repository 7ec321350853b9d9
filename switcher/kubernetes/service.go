package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	clientset "k8s.io/client-go/kubernetes"

	"github.com/bgmigrate/bgmigrate/switcher"
)

// Service switches a Service by rewriting one key of its selector.
type Service struct {
	client clientset.Interface
	t      Target
}

var _ switcher.Switcher = (*Service)(nil)

// Active reads the color from the Service's selector.
func (s *Service) Active(ctx context.Context) (switcher.Color, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	svc, err := s.client.CoreV1().Services(s.t.Namespace).Get(ctx, s.t.Name, metav1.GetOptions{})
	if err != nil {
		return "", s.t.providerError("active", s.t.apiError(err))
	}
	return s.colorOf(svc)
}

func (s *Service) colorOf(svc *corev1.Service) (switcher.Color, error) {
	value, ok := svc.Spec.Selector[s.t.Label]
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
	svc, err := s.client.CoreV1().Services(s.t.Namespace).Patch(ctx, s.t.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{FieldManager: "bgmigrate"})
	if err != nil {
		return s.t.providerError("switch", s.t.apiError(err))
	}
	if got := svc.Spec.Selector[s.t.Label]; got != s.t.Values[to] {
		return s.t.providerError("switch", fmt.Errorf("patched selector %s=%q but the API server returned %q", s.t.Label, s.t.Values[to], got))
	}
	if !s.t.WaitEndpoints {
		return nil
	}
	return s.waitEndpoints(ctx, to, svc.Spec.Selector)
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
	pods, err := s.client.CoreV1().Pods(s.t.Namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(selector).String()})
	if err != nil {
		return "", err
	}
	want := make(map[string]bool, len(pods.Items))
	for _, p := range pods.Items {
		want[p.Name] = true
	}
	slices, err := s.client.DiscoveryV1().EndpointSlices(s.t.Namespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + s.t.Name})
	if err != nil {
		return "", err
	}
	ready, stale := 0, 0
	for _, sl := range slices.Items {
		for _, ep := range sl.Endpoints {
			// A nil Ready is unknown, which consumers treat as ready.
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			if ep.TargetRef != nil && ep.TargetRef.Kind == "Pod" && want[ep.TargetRef.Name] {
				ready++
			} else {
				stale++
			}
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

// Close does nothing: the clientset holds no connection of its own.
func (s *Service) Close() error { return nil }

// apiError marks a missing object with switcher.ErrNotFound.
func (t Target) apiError(err error) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%w: %s %s/%s (%w)", switcher.ErrNotFound, t.Kind, t.Namespace, t.Name, err)
	}
	return err
}
