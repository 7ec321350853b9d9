package kubernetes

import (
	"context"
	"errors"
	"maps"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bgmigrate/bgmigrate/switcher"
)

var _ switcher.InFlightReader = (*Service)(nil)

// InFlight counts the Pods of color that may still be serving requests:
// those the Service's EndpointSlices list as serving (ready, or
// terminating while they still pass their readiness), and those that are
// terminating, whether or not the slices still list them: a Pod told to
// stop finishes the requests it holds, often failing its readiness to
// take no more, until its containers exit and the kubelet deletes it.
// Kubernetes counts no requests, so this is a count of Pods: a Pod that has
// left the slices (the selector names the other color) and is not
// terminating counts 0, as the data plane sends it nothing new.
//
// The Pods of color are those the Service's selector matches with its
// label set to color's value, whichever color the selector names now.
// InFlight reports ok=false, and no error, when the slices cannot tell:
// the Service has no EndpointSlice (no controller maintains them), or one
// of its endpoints names no Pod (an address managed by hand).
//
// RBAC: get on services, list on pods and endpointslices.discovery.k8s.io.
// An HTTPRoute is no InFlightReader: the weights say nothing of requests.
func (s *Service) InFlight(ctx context.Context, color switcher.Color) (n int, ok bool, err error) {
	if err := switcher.InFlightArgs(ctx, color); err != nil {
		return 0, false, err
	}
	fail := func(err error) (int, bool, error) { return 0, false, s.t.providerError("in-flight", err) }
	svc, err := s.dyn.Resource(serviceResource).Namespace(s.t.Namespace).Get(ctx, s.t.Name, metav1.GetOptions{})
	if err != nil {
		return fail(s.t.apiError(err))
	}
	if _, err := s.colorOf(svc); err != nil {
		var pe *switcher.ProviderError
		if errors.As(err, &pe) {
			pe.Op = "in-flight"
		}
		return 0, false, err
	}
	selector, err := s.selector(svc)
	if err != nil {
		return fail(err)
	}
	selector = maps.Clone(selector)
	selector[s.t.Label] = s.t.Values[color]
	pods, err := s.pods(ctx, selector)
	if err != nil {
		return fail(s.t.apiError(err))
	}
	eps, slices, err := s.endpoints(ctx)
	if err != nil {
		return fail(s.t.apiError(err))
	}
	if slices == 0 {
		return 0, false, nil
	}
	serving := map[string]bool{}
	for _, ep := range eps {
		switch {
		case ep.pod == "":
			return 0, false, nil
		case ep.serving:
			serving[ep.pod] = true
		}
	}
	for pod, terminating := range pods {
		if terminating || serving[pod] {
			n++
		}
	}
	return n, true, nil
}
