package kubernetes_test

import (
	"context"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bgmigrate/bgmigrate/switcher"
)

// TestInFlightWithDynamicFake: InFlight counts the endpoints of a color's
// Pods and says it cannot tell (ok=false) when no EndpointSlice exists or
// one of its endpoints names no Pod. cluster_test.go checks readiness and
// termination against a real endpointslice controller.
func TestInFlightWithDynamicFake(t *testing.T) {
	t.Parallel()
	withPods, _ := clusterWithPods(t, 2)
	ready := true
	byHand := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: "web-by-hand", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.1"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
	}
	tests := []struct {
		name   string
		client func() switcher.Switcher
		color  switcher.Color
		n      int
		ok     bool
	}{
		{"the selected color", func() switcher.Switcher { return mustNew(t, withPods, serviceTarget("web")) }, switcher.Blue, 2, true},
		{"the other color", func() switcher.Switcher { return mustNew(t, withPods, serviceTarget("web")) }, switcher.Green, 0, true},
		{"no EndpointSlice", func() switcher.Switcher {
			return mustNew(t, newDynamic(service("web", map[string]string{"color": "blue"})), serviceTarget("web"))
		}, switcher.Blue, 0, false},
		{"an endpoint without Pod", func() switcher.Switcher {
			return mustNew(t, newDynamic(service("web", map[string]string{"color": "blue"}), byHand), serviceTarget("web"))
		}, switcher.Blue, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, isReader := tc.client().(switcher.InFlightReader)
			if !isReader {
				t.Fatal("a Service switcher is not a switcher.InFlightReader")
			}
			n, ok, err := r.InFlight(context.Background(), tc.color)
			if err != nil || n != tc.n || ok != tc.ok {
				t.Errorf("InFlight(%s) = %d, %t, %v; want %d, %t, nil", tc.color, n, ok, err, tc.n, tc.ok)
			}
		})
	}
	// A missing Service is an error, not a zero.
	r := mustNew(t, newDynamic(), serviceTarget("web")).(switcher.InFlightReader)
	if _, _, err := r.InFlight(context.Background(), switcher.Blue); err == nil {
		t.Error("InFlight on a missing Service succeeded")
	}
}
